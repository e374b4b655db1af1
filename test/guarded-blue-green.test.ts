import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BlueGreenSwitch, DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy } from '../lib';
import { testApp, testFunction, testStack } from './util';
import { expectSynthWarnings } from './helpers/console';

const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));
const ref = (stack: Stack, c: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(c.node.defaultChild as any) });

function definitionText(template: Template): string {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
  expect(machines).toHaveLength(1);
  const body = machines[0].Properties.DefinitionString;
  return typeof body === 'string' ? body : (body['Fn::Join'][1] as any[]).map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

describe('GuardedAlias with a blue-green strategy', () => {
  const stack = testStack();
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
  const ga = new GuardedAlias(stack, 'Answer', {
    function: testFunction(stack), probe,
    release: { schemaRev: 'v3', modelTag: 'm-7' },
    strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(20), invariants: { PROMPT_VER: '12' } }),
    warmup: { provisionedConcurrency: 2 },
  });
  // The probe's default concurrency cannot finish a hold run in its budget at one answer every 2 s: the library warns.
  const template = expectSynthWarnings(['cdk-rollout-guardrails:blueGreenProbeBudget'], () => Template.fromStack(stack));

  test('switches all at once, with the stack\'s blue-green hook before and after traffic moves', () => {
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    const hook = ref(stack, BlueGreenSwitch.of(stack).hookFunction);
    template.hasResource('AWS::Lambda::Alias', { UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: hook, AfterAllowTrafficHook: hook } } });
    // CodeDeploy's role may invoke the hook, and not the probe (the machine runs it).
    const role = stack.getLogicalId((ga.deploymentGroup.role!.node.defaultChild as any));
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } })).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [hook.Ref, 'Arn'] } })]);
    // No staged machinery: one state machine, the blue-green one.
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
  });

  test('checks the release pins and the declared invariants, and runs the warm gate, in the machine', () => {
    const text = definitionText(template);
    for (const pin of ['SCHEMA_REV', 'v3', 'MODEL_TAG', 'm-7', 'PROMPT_VER', '12']) expect(text).toContain(pin);
    expect(text).toMatch(/concurrency[\\"]*:2/);
  });

  test('watches the cold-start gate and the probe\'s ΔS alarm beside the gates', () => {
    const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as any;
    expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(3);
    expect(ga.strategy.toString()).toContain('hold and watch 20 minutes');
  });
});

describe('GuardedAlias blue-green validation', () => {
  test('rejects a hold-and-watch that cannot fit the hook hour, with the computed total', () => {
    const stack = testStack();
    expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(55) }) }))
      .toThrow(/holdAndWatch must fit CodeDeploy's 60-minute lifecycle hook limit with a 10-minute margin \(at most 50 minutes\), got: 55 minutes 59 seconds \(hold 55 minutes \+ a last check interval of 5 seconds \+ a last probe run of 45 seconds \+ the report's 9 seconds\)/);
  });

  test('rejects a configuration whose worst-case rollback is over 2 minutes, with the computed figure', () => {
    const stack = testStack();
    expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen({ probeBudget: Duration.minutes(1) }) }))
      // check interval 5 s + 2 × probe budget 60 s + the Failed report's 9 s + CodeDeploy's assumed rollbackShift 15 s = 149 s.
      .toThrow(/worst case 2 minutes 29 seconds \(ΔS, coverage or λ seen by the probe: check interval 5 seconds \+ 2 × probe budget 1 minute \+ the report's 9 seconds \+ rollbackShift 15 seconds = 2 minutes 29 seconds\)/);
  });

  test('rejects hooks of the user\'s beside it', () => {
    const stack = testStack();
    const pre = testFunction(stack, 'Pre');
    expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen(), preTrafficHook: pre }))
      .toThrow("preTrafficHook must be left out with a blue-green strategy (the stack's blue-green hook is both the BeforeAllowTraffic and the AfterAllowTraffic hook; CodeDeploy runs one hook per phase), got: the construct at 'TestStack/Pre'");
  });

  test('takes a warmup without a probe (the machine runs the warm gate) and notifies the topic of the deployment', () => {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Releases');
    new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen(), warmup: { provisionedConcurrency: 1 }, notifications: topic });
    const template = Template.fromStack(stack);
    // Provisioned concurrency lives on the published version, never on the alias.
    template.hasResourceProperties('AWS::Lambda::Version', { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 1 } });
    template.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: Match.absent() });
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { state: ['START', 'SUCCESS', 'FAILURE', 'STOP'] } } });
  });

  test('adds no cdk-nag AwsSolutions finding of its own', () => {
    const app = testApp();
    const stack = testStack(app);
    const fn = testFunction(stack);
    Validations.of(fn).acknowledge({ id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'test function: logs only' });
    new GuardedAlias(stack, 'Answer', { function: fn, probe: new DeltaSProbe(stack, 'Probe', { goldSet: GOLD }), strategy: RolloutStrategy.blueGreen(), warmup: { provisionedConcurrency: 1 } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = expectSynthWarnings(['cdk-rollout-guardrails:blueGreenProbeBudget'], () => app.synth());
    const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
  });
});

void lambda;
