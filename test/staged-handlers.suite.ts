import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from './helpers/sdk-mock';
import { createGateHandler, GateEvent, planStep } from '../lambdas/staged/gate';
import { createSafetyNetHandler, executionArnOf } from '../lambdas/staged/safety-net';
import { createStarterHandler, HOOK_LIMIT_MS } from '../lambdas/staged/starter';
import { INITIAL_PROGRESS, StagedAliasConfig } from '../packages/runtime/src/contract/staged';

const CONFIG: StagedAliasConfig = {
  schedule: { steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 300, then: 'fail', minInvocations: 10 }, probeBudgetSeconds: 300, recheckSeconds: 60, canaryQuestions: 10, stopRules: [] },
  thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 },
  alarmNames: ['Errors'],
  probeFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:probe',
};
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const TARGET = { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' };

function event(overrides: Partial<GateEvent> = {}): GateEvent {
  return {
    deployment: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1' },
    target: TARGET,
    config: CONFIG,
    deadline: NOW + 58 * 60_000,
    progress: INITIAL_PROGRESS,
    probe: { status: 'Succeeded', reasons: [] },
    ...overrides,
  };
}

const OK = [{ name: 'Errors', state: 'OK' as const }];
const TRAFFIC = { canary: { invocations: 500, errors: 0, p95Ms: 100 }, control: { invocations: 5000, errors: 1, p95Ms: 100 } };

describe('gate function: planStep', () => {
  test('walks the default schedule to Succeeded: shift, bake slices, probe, in the machine\'s order', () => {
    let e = event();
    let now = NOW;
    const path: string[] = [];
    for (let i = 0; i < 100; i++) {
      const out = planStep(e, { alarms: OK, ...TRAFFIC, now });
      path.push(out.next === 'shift' ? `shift ${out.weight}` : out.next);
      if (out.next === 'succeed' || out.next === 'rollback') break;
      now += out.waitSeconds * 1000 + (out.next === 'probe' ? 60_000 : 0);
      e = { ...e, progress: out.progress };
    }
    const shifts = path.filter((p) => p.startsWith('shift'));
    expect(shifts).toEqual(['shift 1', 'shift 5', 'shift 25', 'shift 50']);
    // Each 5-minute bake is watched in five 1-minute slices: four more bake waits after the shift's own.
    expect(path.slice(0, 7)).toEqual(['shift 1', 'bake', 'bake', 'bake', 'bake', 'probe', 'shift 5']);
    expect(path[path.length - 1]).toBe('succeed');
  });

  test('sets the weight as AdditionalVersionWeights on the target version', () => {
    const out = planStep(event({ progress: { ...INITIAL_PROGRESS, stepIndex: 2 } }), { alarms: OK, ...TRAFFIC, now: NOW });
    expect(out).toMatchObject({ next: 'shift', weight: 25, routing: { AdditionalVersionWeights: { 8: 0.25 } }, waitSeconds: 60 });
    expect(out.progress).toEqual({ phase: 'bake', stepIndex: 3, failures: 0, noDataWaitedSeconds: 0, bakeLeftSeconds: 240 });
    expect(out.metricData.map((m) => [m.MetricName, m.Value, m.Dimensions[2]?.Value])).toEqual([
      ['TrafficWeight', 25, undefined], ['StepDecision', 1, undefined], ['GatesFailed', 0, undefined],
      ['GatePassed', 1, 'probe'], ['GatePassed', 1, 'alarm:Errors'], ['GatePassed', 1, 'maxErrorRate'], ['GatePassed', 1, 'maxErrorRateDelta'], ['GatePassed', 1, 'maxP95Ratio'],
    ]);
    expect(out.metricData[0].Dimensions).toEqual([{ Name: 'FunctionName', Value: 'demo-answer' }, { Name: 'Alias', Value: 'live' }]);
  });

  test('holds on a first probe failure and rolls back on the second, clearing the weight', () => {
    const failing = { status: 'Failed', reasons: ['maxDeltaS: median ΔS 0.61 > 0.45'] };
    const first = planStep(event({ probe: failing, progress: { ...INITIAL_PROGRESS, stepIndex: 2 } }), { alarms: OK, ...TRAFFIC, now: NOW });
    expect(first).toMatchObject({ next: 'recheck', decision: 'hold', weight: 5, waitSeconds: 60, routing: { AdditionalVersionWeights: { 8: 0.05 } } });
    const second = planStep(event({ probe: failing, progress: first.progress }), { alarms: OK, ...TRAFFIC, now: NOW });
    expect(second).toMatchObject({ next: 'rollback', weight: 0, routing: { AdditionalVersionWeights: {} } });
    expect(second.reasons[0]).toContain('gates failed 2 of 2 times before 25 %');
  });

  test('asks the whole gold set again when it re-checks before the first shift, and the canary questions once traffic has moved', () => {
    const failing = { status: 'Failed', reasons: ['maxDeltaS: median ΔS 0.61 > 0.45'] };
    // A failed full probe before 1 %: the re-check must pass the whole gold set too, not 10 questions of it.
    const before = planStep(event({ probe: failing }), { alarms: OK, now: NOW });
    expect(before).toMatchObject({ next: 'recheck', probeQuestions: null });
    // At 5 % (a hold there too) and after the shift to 25 %: the canary questions.
    expect(planStep(event({ probe: failing, progress: { ...INITIAL_PROGRESS, stepIndex: 2 } }), { alarms: OK, ...TRAFFIC, now: NOW }).probeQuestions).toBe(10);
    expect(planStep(event({ progress: { ...INITIAL_PROGRESS, stepIndex: 2 } }), { alarms: OK, ...TRAFFIC, now: NOW })).toMatchObject({ next: 'shift', probeQuestions: 10 });
    const k3 = { ...CONFIG, schedule: { ...CONFIG.schedule, canaryQuestions: 3 } };
    expect(planStep(event({ config: k3, progress: { ...INITIAL_PROGRESS, stepIndex: 1 } }), { alarms: OK, ...TRAFFIC, now: NOW }).probeQuestions).toBe(3);
  });

  test('fails a check whose probe did not report when a probe is configured', () => {
    const out = planStep(event({ probe: { status: 'NotConfigured' } }), { alarms: OK, now: NOW });
    expect(out.gates[0]).toMatchObject({ name: 'probe', passed: false, reason: 'ΔS probe failed: the probe did not report' });
  });

  test('rolls back during a bake as soon as a gate alarm fires', () => {
    const out = planStep(event({ progress: { phase: 'bake', stepIndex: 3, failures: 0, noDataWaitedSeconds: 0, bakeLeftSeconds: 120 } }),
      { alarms: [{ name: 'Errors', state: 'ALARM' }], now: NOW });
    expect(out).toMatchObject({ next: 'rollback', weight: 0 });
  });

  test('reports the weight still in place when it reports Succeeded (CodeDeploy moves the rest)', () => {
    const out = planStep(event({ progress: { ...INITIAL_PROGRESS, stepIndex: 4 } }), { alarms: OK, ...TRAFFIC, now: NOW });
    expect(out).toMatchObject({ next: 'succeed', weight: 50 });
  });
});

describe('gate function: handler', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  beforeEach(() => cloudwatch.reset());

  test('reads the alarms and the canary and control by ExecutedVersion over the last bake', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'Errors', StateValue: 'OK' }] });
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'ci', Values: [400] }, { Id: 'ce', Values: [0] }, { Id: 'cp', Values: [150] },
        { Id: 'ki', Values: [8000] }, { Id: 'ke', Values: [2] }, { Id: 'kp', Values: [100] },
      ],
    });
    const handler = createGateHandler({ cloudwatch: cloudwatch as unknown as CloudWatchClient, now: () => NOW, log: () => undefined });
    const out = await handler(event({ progress: { ...INITIAL_PROGRESS, stepIndex: 2 } }));
    expect(out.decision).toBe('hold');
    expect(out.reasons[0]).toContain('p95 of the new version over the control\'s 1.5 > 1.1');
    const input = cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(input.StartTime).toEqual(new Date(NOW - 300_000));
    expect(input.MetricDataQueries?.[0]).toEqual({
      Id: 'ci',
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda', MetricName: 'Invocations',
          Dimensions: [{ Name: 'FunctionName', Value: 'demo-answer' }, { Name: 'Resource', Value: 'demo-answer:live' }, { Name: 'ExecutedVersion', Value: '8' }],
        },
        Period: 300,
        Stat: 'Sum',
      },
      ReturnData: true,
    });
    expect(input.MetricDataQueries?.[5].MetricStat?.Metric?.Dimensions?.[2]).toEqual({ Name: 'ExecutedVersion', Value: '7' });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0].args[0].input.AlarmNames).toEqual(['Errors']);
  });

  test('reads no metrics before the first shift, when the new version serves nothing', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const handler = createGateHandler({ cloudwatch: cloudwatch as unknown as CloudWatchClient, now: () => NOW, log: () => undefined });
    const out = await handler(event());
    expect(out).toMatchObject({ next: 'shift', weight: 1 });
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});

/** CodeDeploy serving a deployment whose AppSpec moves demo-answer:live from 7 to 8. */
function serveDeployment(codedeploy: ReturnType<typeof mockClient>) {
  const revision = { revisionType: 'AppSpecContent' as const, appSpecContent: { sha256: 'f00d' } };
  codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', deploymentGroupName: 'Group', revision } });
  codedeploy.on(GetApplicationRevisionCommand).resolves({
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify({ version: 0.0, Resources: [{ Fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'demo-answer', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }] }) } },
  });
}

describe('starter hook', () => {
  const codedeploy = mockClient(CodeDeployClient);
  const sfn = mockClient(SFNClient);
  const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Staged';
  const starter = () => createStarterHandler({
    codedeploy: codedeploy as unknown as CodeDeployClient, sfn: sfn as unknown as SFNClient,
    stateMachineArn: SM, now: () => NOW, log: () => undefined,
  });
  beforeEach(() => {
    codedeploy.reset(); sfn.reset();
    serveDeployment(codedeploy as any);
  });

  test('starts one execution named after the deployment, with the AppSpec\'s versions and the key of the alias\'s configuration, and returns', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${SM}:d-ABC123` });
    const result = await starter()({ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' });
    expect(result).toEqual({ started: true, executionArn: `${SM}:d-ABC123` });
    const input = sfn.commandCalls(StartExecutionCommand)[0].args[0].input;
    expect(input.name).toBe('d-ABC123');
    expect(JSON.parse(input.input!)).toEqual({
      deployment: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1' },
      target: TARGET,
      configKey: 'App/Group',
      deadline: NOW + HOOK_LIMIT_MS - 120_000,
    });
    // The machine reports the hook's status, not the starter.
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)).toHaveLength(0);
  });

  test('reports Failed to CodeDeploy when it cannot start the rollout', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));
    const result = await starter()({ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' });
    expect(result).toEqual({ started: false, reason: 'State Machine Does Not Exist' });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0].args[0].input)
      .toEqual({ deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1', status: 'Failed' });
  });

  test('reports Failed when the deployment names no deployment group, without starting anything', async () => {
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'f00d' } } } });
    const result = await starter()({ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' });
    expect(result).toEqual({ started: false, reason: 'deployment d-ABC123 names no application or deployment group' });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0].args[0].input.status).toBe('Failed');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('leaves a deployment\'s running execution alone when invoked again, without reporting', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));
    const result = await starter()({ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' });
    expect(result).toEqual({ started: true, reason: 'already started' });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)).toHaveLength(0);
  });

  test('refuses an event that is not a lifecycle hook event', async () => {
    await expect(starter()({} as never)).rejects.toThrow('expected a CodeDeploy lifecycle hook event');
  });
});

describe('safety net', () => {
  const codedeploy = mockClient(CodeDeployClient);
  const lambda = mockClient(LambdaClient);
  const sfn = mockClient(SFNClient);
  const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Staged';
  const net = () => createSafetyNetHandler({
    codedeploy: codedeploy as unknown as CodeDeployClient, lambda: lambda as unknown as LambdaClient, sfn: sfn as unknown as SFNClient,
    stateMachineArn: SM, log: () => undefined,
  });
  const failure = { detail: { deploymentId: 'd-ABC123', state: 'FAILURE', application: 'App', deploymentGroup: 'Group' } };
  beforeEach(() => {
    codedeploy.reset(); lambda.reset(); sfn.reset();
    serveDeployment(codedeploy as any);
  });

  test('stops the deployment\'s execution and clears the weight left on the alias, leaving FunctionVersion alone', async () => {
    sfn.on(StopExecutionCommand).resolves({});
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: { 8: 0.25 } } });
    lambda.on(UpdateAliasCommand).resolves({});
    const result = await net()(failure);
    expect(result).toEqual({ stopped: true, cleared: { 8: 0.25 } });
    expect(sfn.commandCalls(StopExecutionCommand)[0].args[0].input.executionArn).toBe('arn:aws:states:eu-west-1:123456789012:execution:Staged:d-ABC123');
    expect(lambda.commandCalls(UpdateAliasCommand)[0].args[0].input).toEqual({ FunctionName: 'demo-answer', Name: 'live', RoutingConfig: { AdditionalVersionWeights: {} } });
  });

  test('leaves an alias without weights untouched, and a deployment without an execution is not an error', async () => {
    sfn.on(StopExecutionCommand).rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
    const result = await net()({ detail: { ...failure.detail, state: 'STOP' } });
    expect(result).toEqual({ stopped: false, cleared: {} });
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  test('clears the weights even when the stop fails, then throws so that EventBridge retries', async () => {
    sfn.on(StopExecutionCommand).rejects(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: { 8: 0.05 } } });
    await expect(net()(failure)).rejects.toThrow('throttled');
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(1);
  });

  test('names executions the way the starter does', () => {
    expect(executionArnOf(SM, 'd-1')).toBe('arn:aws:states:eu-west-1:123456789012:execution:Staged:d-1');
  });
});

describe('the bundle', () => {
  test('exports the three handlers the construct names (index.gate, index.start, index.safetyNet)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundle = require('../assets/staged/index.js');
    expect([typeof bundle.gate, typeof bundle.start, typeof bundle.safetyNet]).toEqual(['function', 'function', 'function']);
  });
});
