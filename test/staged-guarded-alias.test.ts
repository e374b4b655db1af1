import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutKind, RolloutStrategy, StagedRollout } from '../lib';
import { testFunction, testStack } from './util';
import { expectSynthWarnings } from './helpers/console';

const item = (id: string) => JSON.stringify({ id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.` });
const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));

describe('GuardedAlias with a staged strategy', () => {
  test('deploys all at once through CodeDeploy, with the stack\'s starter as the BeforeAllowTraffic hook', () => {
    const stack = testStack();
    const ga = new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), strategy: RolloutStrategy.staged() });
    expect(ga.strategy.kind).toBe(RolloutKind.STAGED);
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    const starter = StagedRollout.of(stack).starterFunction;
    t.hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: { Ref: stack.getLogicalId(starter.node.defaultChild as any) } } },
    });
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    // CodeDeploy's shared role may invoke the starter by its ARN, and nothing broader.
    const policy = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('RolloutGuardrailsDeploymentRole') } }))[0] as any;
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [stack.getLogicalId(starter.node.defaultChild as any), 'Arn'] } },
    ]);
  });

  test('shares one state machine, starter and safety net between the staged aliases of a stack', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), strategy: RolloutStrategy.staged() });
    new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), strategy: RolloutStrategy.staged({ steps: [5, 50, 100] }) });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    // One machinery, whatever the number of aliases: its two rules (deployments that fail or stop; its own
    // executions that end FAILED/TIMED_OUT/ABORTED), both to the one safety net, and one dead-letter queue.
    t.resourceCountIs('AWS::Events::Rule', 2);
    const staged = StagedRollout.of(stack);
    const safetyNet = stack.getLogicalId(staged.safetyNetFunction.node.defaultChild as any);
    const rules = [staged.safetyNetRule, staged.executionEndRule].map((r) => t.toJSON().Resources[stack.getLogicalId(r.node.defaultChild as any)].Properties);
    for (const rule of rules) expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [safetyNet, 'Arn'] } })]);
    // The safety-net rule matches both aliases' deployment groups; the other, the machine's own executions.
    expect(rules[0].EventPattern.detail.deploymentGroup).toHaveLength(2);
    expect(rules[1].EventPattern).toMatchObject({ source: ['aws.states'], detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] } });
    // The two released functions, the one gate, starter and safety net, and the control-version provider.
    t.resourceCountIs('AWS::Lambda::Function', 2 + 3 + 1);
    t.resourceCountIs('AWS::SQS::Queue', 1);
    t.resourceCountIs('AWS::SSM::Parameter', 0);
  });

  test('keeps the probe as the AfterAllowTraffic hook and hands it to the machine for each step', () => {
    const stack = testStack();
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
    new GuardedAlias(stack, 'Guarded', {
      function: testFunction(stack),
      probe,
      strategy: RolloutStrategy.staged({ probeBudget: Duration.seconds(probe.function.timeout!.toSeconds()) }),
    });
    const starter = StagedRollout.of(stack).starterFunction;
    // A two-question gold set: the probe warns.
    expectSynthWarnings(['cdk-rollout-guardrails:smallGoldSet'], () => Template.fromStack(stack)).hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: {
          BeforeAllowTrafficHook: { Ref: stack.getLogicalId(starter.node.defaultChild as any) },
          AfterAllowTrafficHook: { Ref: stack.getLogicalId(probe.function.node.defaultChild as any) },
        },
      },
    });
  });

  test('rejects a preTrafficHook, whose phase the staged starter takes', () => {
    const stack = testStack();
    expect(() => new GuardedAlias(stack, 'Guarded', {
      function: testFunction(stack),
      strategy: RolloutStrategy.staged(),
      preTrafficHook: testFunction(stack, 'Pre'),
    })).toThrow("preTrafficHook must be left out with a staged strategy (its BeforeAllowTraffic hook starts the staged rollout; CodeDeploy runs one hook per phase: use postTrafficHook, or canary/linear), got: the construct at 'TestStack/Pre'");
  });

  test('reports a bad schedule with the other props\' problems', () => {
    const stack = testStack();
    expect(() => new GuardedAlias(stack, 'Guarded', {
      function: testFunction(stack),
      aliasName: '',
      strategy: RolloutStrategy.staged({ steps: [1, 5, 3] }),
    })).toThrow(/has 3 invalid props:[\s\S]*aliasName must be[\s\S]*steps must be strictly rising[\s\S]*steps must be a schedule ending at 100/);
  });
});
