import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { BlueGreenSwitch, GuardedAlias, RolloutStrategy, StagedRollout } from '../lib';
import { GateEvent, planStep } from '../lambdas/staged/gate';
import { INITIAL_PROGRESS, StagedAliasConfig } from '../packages/runtime/src/contract/staged';
import { testFunction, testStack } from './util';

function withTopic(strategy?: RolloutStrategy) {
  const stack = testStack();
  const topic = new sns.Topic(stack, 'Releases');
  const ga = new GuardedAlias(stack, 'Answer', { function: testFunction(stack), notifications: topic, strategy, gates: { maxP95Ratio: 1.2 } });
  return { stack, topic, ga, template: Template.fromStack(stack) };
}

const ref = (stack: any, construct: any) => ({ Ref: stack.getLogicalId(construct.node.defaultChild) });

describe('GuardedAlias notifications', () => {
  test('forward this deployment group\'s start, success, failure and stop to the topic as JSON with the thresholds in force', () => {
    const { stack, topic, ga, template } = withTopic();
    const rules = template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { detail: { state: ['START', 'SUCCESS', 'FAILURE', 'STOP'] } } },
    });
    expect(Object.keys(rules)).toHaveLength(1);
    const rule = Object.values(rules)[0] as any;
    expect(rule.Properties.EventPattern).toEqual({
      'source': ['aws.codedeploy'],
      'detail-type': ['CodeDeploy Deployment State-change Notification'],
      'detail': {
        application: [{ Ref: expect.any(String) }],
        deploymentGroup: [ref(stack, ga.deploymentGroup)],
        state: ['START', 'SUCCESS', 'FAILURE', 'STOP'],
      },
    });
    const target = rule.Properties.Targets[0];
    expect(target.Arn).toEqual(ref(stack, topic));
    expect(target.InputTransformer.InputPathsMap).toEqual({
      'detail-state': '$.detail.state', 'detail-deploymentId': '$.detail.deploymentId',
      'detail-application': '$.detail.application', 'detail-deploymentGroup': '$.detail.deploymentGroup', 'time': '$.time',
    });
    // The template, with the stack's tokens filled in and each placeholder replaced by its JSON value (as
    // EventBridge does in a JSON template), is the message subscribers get.
    const values: Record<string, string> = { 'detail-state': 'FAILURE', 'detail-deploymentId': 'd-ABC', 'detail-application': 'app', 'detail-deploymentGroup': 'group', 'time': '2026-11-22T05:00:00Z' };
    const text = (target.InputTransformer.InputTemplate['Fn::Join'][1] as any[]).map((p) => (typeof p === 'string' ? p : 'fn-name')).join('')
      .replace(/<([a-zA-Z-]+)>/g, (_m, name: string) => JSON.stringify(values[name]));
    expect(JSON.parse(text)).toEqual({
      source: 'cdk-rollout-guardrails', event: 'deployment', state: 'FAILURE',
      strategy: 'staged 1 → 5 → 25 → 50 → 100 %, 5 minutes bake per step, rolled back after 2 failed gates at one step',
      deploymentId: 'd-ABC', application: 'app', deploymentGroup: 'group', functionName: 'fn-name', alias: 'live',
      releaseId: expect.stringMatching(/^rel-[0-9a-f]{12}$/), time: '2026-11-22T05:00:00Z',
      thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.2, maxErrorRate: 0.01 },
    });
    // EventBridge may publish to the topic.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })]) },
    });
  });

  test('publish every gate alarm\'s ALARM and OK (CloudWatch\'s message carries the datapoints and the threshold)', () => {
    const { stack, topic, ga, template } = withTopic();
    expect(ga.gates.alarms).toHaveLength(1);
    for (const alarm of ga.gates.alarms) {
      const props = template.toJSON().Resources[stack.getLogicalId(alarm.node.defaultChild as any)].Properties;
      expect(props.AlarmActions).toEqual([ref(stack, topic)]);
      expect(props.OKActions).toEqual([ref(stack, topic)]);
    }
  });

  test('with the staged default, put the topic in the alias\'s machine configuration and let the machine publish to it', () => {
    const { stack, topic, template } = withTopic();
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    const parts = machine.Properties.DefinitionString['Fn::Join'][1] as any[];
    const topicAt = parts.findIndex((p) => p?.Ref === stack.getLogicalId(topic.node.defaultChild as any));
    expect(topicAt).toBeGreaterThan(0);
    expect(parts[topicAt - 1]).toMatch(/topicArn\\*":\\*"$/);
    const role = stack.getLogicalId(StagedRollout.of(stack).stateMachine.role.node.defaultChild as any);
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: ref(stack, topic) }));
  });

  test('with a canary strategy, forward the deployment events and the alarms without any state machine', () => {
    const { template } = withTopic(RolloutStrategy.canary(10, Duration.minutes(5)));
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    template.resourceCountIs('AWS::Events::Rule', 1);
  });

  test('reject a value that is not a topic, naming the prop', () => {
    const stack = testStack();
    expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), notifications: 'arn:aws:sns:eu-west-1:123456789012:releases' as any }))
      .toThrow("notifications must be an SNS topic (sns.ITopic), got: \"arn:aws:sns:eu-west-1:123456789012:releases\"");
  });

  test('cost no resource without a topic', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'Answer', { function: testFunction(stack) });
    const template = Template.fromStack(stack);
    // The staged machinery's two rules only: its safety net's (deployments that fail or stop) and its
    // executions that end FAILED/TIMED_OUT/ABORTED; no rule forwards deployment events to a topic.
    const staged = StagedRollout.of(stack);
    expect(Object.keys(template.findResources('AWS::Events::Rule')).sort()).toEqual(
      [staged.safetyNetRule, staged.executionEndRule].map((r) => stack.getLogicalId(r.node.defaultChild as events.CfnRule)).sort());
    template.resourceCountIs('AWS::SNS::Topic', 0);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });
});

describe('staged gate decisions as notifications', () => {
  const CONFIG: StagedAliasConfig = {
    schedule: { steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 300, then: 'fail', minInvocations: 10 }, probeBudgetSeconds: 300, recheckSeconds: 60, canaryQuestions: 10, stopRules: [] },
    thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 },
    alarmNames: ['Errors'],
    topicArn: 'arn:aws:sns:eu-west-1:123456789012:releases',
  };
  const NOW = Date.UTC(2026, 0, 1, 12);
  const event = (overrides: Partial<GateEvent> = {}): GateEvent => ({
    deployment: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1' },
    target: { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
    config: CONFIG,
    deadline: NOW + 58 * 60_000,
    progress: INITIAL_PROGRESS,
    probe: null,
    ...overrides,
  });
  const OK = [{ name: 'Errors', state: 'OK' as const }];

  test('a shift carries the step, the weight and every gate\'s measured value and threshold', () => {
    const out = planStep(event(), { alarms: OK, now: NOW });
    expect(out.next).toBe('shift');
    expect(out.notification).toEqual({
      source: 'cdk-rollout-guardrails', event: 'gate-decision', strategy: 'staged', deploymentId: 'd-ABC123',
      functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8',
      step: 1, weight: 1, decision: 'advance', next: 'shift', reasons: out.reasons,
      gates: out.gates.map(({ name, measured, threshold, passed }) => ({ name, measured, threshold, passed })),
    });
    expect(out.notification!.gates.length).toBeGreaterThan(0);
  });

  test('a rollback on a second breach at one step names the failing gate with its value and threshold', () => {
    const check = { phase: 'check' as const, stepIndex: 2, failures: 1, noDataWaitedSeconds: 0, bakeLeftSeconds: 0 };
    const out = planStep(event({ progress: check }), {
      alarms: OK, now: NOW,
      canary: { invocations: 1000, errors: 80, p95Ms: 100 }, control: { invocations: 3000, errors: 3, p95Ms: 100 },
    });
    expect(out.notification).toMatchObject({ decision: 'rollback', next: 'rollback', step: 25, weight: 0 });
    const failed = out.notification!.gates.filter((g) => g.passed === false);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((g) => typeof g.measured === 'number' && typeof g.threshold === 'number')).toBe(true);
  });

  test('a bake slice that changes nothing is not news, and an alias without a topic gets no notification', () => {
    const bake = { phase: 'bake' as const, stepIndex: 1, failures: 0, noDataWaitedSeconds: 0, bakeLeftSeconds: 120 };
    const calm = { canary: { invocations: 1000, errors: 0, p95Ms: 100 }, control: { invocations: 3000, errors: 1, p95Ms: 100 } };
    expect(planStep(event({ progress: bake }), { alarms: OK, now: NOW, ...calm })).toMatchObject({ next: 'bake' });
    expect(planStep(event({ progress: bake }), { alarms: OK, now: NOW, ...calm }).notification).toBeUndefined();
    const { topicArn: _t, ...noTopic } = CONFIG;
    expect(planStep(event({ config: noTopic }), { alarms: OK, now: NOW }).notification).toBeUndefined();
  });
});

describe('GuardedAlias blue-green notifications', () => {
  test('put the topic in the alias\'s blue-green configuration and let the blue-green worker publish to it', () => {
    const { stack, topic, ga, template } = withTopic(RolloutStrategy.blueGreen());
    // One machine, the blue-green one; its definition holds the topic in the alias's configuration.
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    expect(Object.keys(machines)).toEqual([stack.getLogicalId(BlueGreenSwitch.of(stack).stateMachine.node.defaultChild as any)]);
    const parts = (Object.values(machines)[0] as any).Properties.DefinitionString['Fn::Join'][1] as any[];
    const topicAt = parts.findIndex((p) => p?.Ref === stack.getLogicalId(topic.node.defaultChild as any));
    expect(topicAt).toBeGreaterThan(0);
    expect(parts[topicAt - 1]).toMatch(/topicArn\\*":\\*"$/);
    expect(stack.resolve(BlueGreenSwitch.of(stack)._configOf(ga.deploymentGroup)?.topicArn)).toEqual(ref(stack, topic));
    // The blue-green worker (which writes and publishes the machine's notifications) may publish to the topic.
    const role = stack.getLogicalId(BlueGreenSwitch.of(stack).workerFunction.role!.node.defaultChild as any);
    const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: ref(stack, topic) }));
    // The deployment events go to the topic as with every strategy.
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { state: ['START', 'SUCCESS', 'FAILURE', 'STOP'] } } });
  });

  test('without a topic, the blue-green machine may publish nowhere', () => {
    const stack = testStack();
    const ga = new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen() });
    const template = Template.fromStack(stack);
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((s: any) => [s.Action].flat().includes('sns:Publish'))).toEqual([]);
    const config = BlueGreenSwitch.of(stack)._configOf(ga.deploymentGroup);
    expect(config).toBeDefined();
    expect(config!.topicArn).toBeUndefined();
  });
});
