import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import {
  GetAliasCommand, GetEventSourceMappingCommand, GetFunctionConfigurationCommand, LambdaClient, UpdateEventSourceMappingCommand,
} from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from './helpers/sdk-mock';
import { createHookHandler, executionArnOf, phaseOf } from '../lambdas/blue-green/hook';
import { createWorkerHandler, metricWindow, watchQueries } from '../lambdas/blue-green/worker';
import { BlueGreenAliasConfig, DEFAULT_STOP_RULES } from '../packages/runtime/src/contract/blue-green';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:BlueGreen';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 30);
const TARGET = { functionName: 'answer-fn', alias: 'live', currentVersion: '7', targetVersion: '8' };
const APPSPEC = JSON.stringify({
  version: 0.0,
  Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'answer-fn', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }],
});
const CONFIG: BlueGreenAliasConfig = {
  holdSeconds: 900, checkIntervalSeconds: 10, metricDelaySeconds: 20, probeBudgetSeconds: 45, smokeQuestions: 20,
  stopRules: DEFAULT_STOP_RULES, invariants: { SCHEMA_REV: 'v3', MODEL_TAG: 'm-7' }, freeze: ['uuid-a', 'uuid-b', 'uuid-c'], alarmNames: ['Gates'],
};

const codedeploy = mockClient(CodeDeployClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const cloudwatch = mockClient(CloudWatchClient);
const notFound = (name: string) => Object.assign(new Error(name), { name });

beforeEach(() => {
  codedeploy.reset();
  lambda.reset();
  sfn.reset();
  cloudwatch.reset();
  codedeploy.on(GetDeploymentCommand).resolves({
    deploymentInfo: { applicationName: 'App', deploymentGroupName: 'Group', revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'abc' } } },
  });
  codedeploy.on(GetApplicationRevisionCommand).resolves({ revision: { appSpecContent: { content: APPSPEC } } });
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution' });
});

function hook(lines: string[] = []) {
  return createHookHandler({
    codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), sfn: new SFNClient({}), stateMachineArn: MACHINE,
    now: () => NOW, log: (l) => lines.push(l), sleep: async () => undefined, beforeWaitMs: 3000,
  });
}
const EVENT = { DeploymentId: 'd-ABC', LifecycleEventHookExecutionId: 'hook-1' };
const started = () => JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!);

describe('hook: phase detection and the start of each phase', () => {
  test('finds the phase from the alias: on the old version it is BeforeAllowTraffic, on the target AfterAllowTraffic', () => {
    expect(phaseOf('7', '8')).toBe('BeforeAllowTraffic');
    expect(phaseOf('8', '8')).toBe('AfterAllowTraffic');
    expect(phaseOf(undefined, '8')).toBe('BeforeAllowTraffic');
  });

  test('before the switch: starts an execution named after the deployment and the phase, with the AppSpec\'s target', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
    const result = await hook()(EVENT);
    expect(result).toEqual({ phase: 'BeforeAllowTraffic', started: true, executionArn: 'arn:execution' });
    expect(lambda.commandCalls(GetAliasCommand)[0].args[0].input).toEqual({ FunctionName: 'answer-fn', Name: 'live' });
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input).toMatchObject({ stateMachineArn: MACHINE, name: 'd-ABC-BeforeAllowTraffic' });
    expect(started()).toEqual({
      deploymentId: 'd-ABC', lifecycleEventHookExecutionId: 'hook-1', applicationName: 'App', deploymentGroupName: 'Group', configKey: 'App/Group',
      phase: 'BeforeAllowTraffic', target: TARGET, startedAt: NOW,
    });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)).toHaveLength(0);
  });

  test('after the switch: passes on the consumers the BeforeAllowTraffic execution paused, waiting for it to end', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '8' });
    sfn.on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify({ frozen: ['uuid-a'] }) });
    const result = await hook()(EVENT);
    expect(result).toMatchObject({ phase: 'AfterAllowTraffic', started: true });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0].args[0].input).toEqual({ executionArn: `${executionArnOf(MACHINE, 'd-ABC-BeforeAllowTraffic')}` });
    expect(executionArnOf(MACHINE, 'd-ABC-BeforeAllowTraffic')).toBe('arn:aws:states:eu-west-1:123456789012:execution:BlueGreen:d-ABC-BeforeAllowTraffic');
    expect(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.name).toBe('d-ABC-AfterAllowTraffic');
    expect(started()).toMatchObject({ phase: 'AfterAllowTraffic', frozen: ['uuid-a'], startedAt: NOW });
  });

  test('after the switch without a BeforeAllowTraffic execution: nothing was paused', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '8' });
    sfn.on(DescribeExecutionCommand).rejects(notFound('ExecutionDoesNotExist'));
    await hook()(EVENT);
    expect(started().frozen).toEqual([]);
  });

  test('reports Failed when the BeforeAllowTraffic execution is still running after the wait: its paused consumers are unknown', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '8' });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING' });
    const result = await hook()(EVENT);
    expect(result).toEqual({
      phase: 'AfterAllowTraffic', started: false,
      reason: 'the BeforeAllowTraffic execution of d-ABC is still running after 3000 ms: its paused consumers are not known yet',
    });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0].args[0].input).toEqual({ deploymentId: 'd-ABC', lifecycleEventHookExecutionId: 'hook-1', status: 'Failed' });
  });

  test('a second invocation for the same phase leaves the running execution alone and reports nothing', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
    sfn.on(StartExecutionCommand).rejects(notFound('ExecutionAlreadyExists'));
    expect(await hook()(EVENT)).toEqual({ phase: 'BeforeAllowTraffic', started: true, reason: 'already started' });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)).toHaveLength(0);
  });

  test('reports Failed when it cannot read the alias', async () => {
    lambda.on(GetAliasCommand).rejects(new Error('AccessDeniedException: not authorized to perform lambda:GetAlias'));
    const lines: string[] = [];
    const result = await hook(lines)(EVENT);
    expect(result).toMatchObject({ started: false, reason: 'AccessDeniedException: not authorized to perform lambda:GetAlias' });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0].args[0].input.status).toBe('Failed');
    expect(JSON.parse(lines[0]).message).toBe('cdk-rollout-guardrails blue-green: could not start, reporting Failed');
  });

  test('refuses an event that is neither a hook nor a deployment state change', async () => {
    await expect(hook()({ hello: 'world' } as never)).rejects.toThrow('expected a CodeDeploy lifecycle hook event');
  });
});

describe('hook: the safety net on FAILURE and STOP', () => {
  const STOPPED = { source: 'aws.codedeploy', detail: { deploymentId: 'd-ABC', state: 'STOP', application: 'App', deploymentGroup: 'Group' } };

  test('stops what still runs of the deployment and resumes the consumers the BeforeAllowTraffic execution paused', async () => {
    sfn.on(DescribeExecutionCommand, { executionArn: executionArnOf(MACHINE, 'd-ABC-BeforeAllowTraffic') })
      .resolves({ status: 'SUCCEEDED', output: JSON.stringify({ frozen: ['uuid-a', 'uuid-c'] }) });
    sfn.on(DescribeExecutionCommand, { executionArn: executionArnOf(MACHINE, 'd-ABC-AfterAllowTraffic') }).resolves({ status: 'RUNNING' });
    sfn.on(StopExecutionCommand).resolves({});
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    const result = await hook()(STOPPED);
    expect(result).toEqual({ stopped: [executionArnOf(MACHINE, 'd-ABC-AfterAllowTraffic')], resumed: ['uuid-a', 'uuid-c'] });
    expect(sfn.commandCalls(StopExecutionCommand)[0].args[0].input.cause).toBe('CodeDeploy deployment d-ABC is STOP');
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-a', Enabled: true }, { UUID: 'uuid-c', Enabled: true }]);
  });

  test('does nothing for a deployment it never ran', async () => {
    sfn.on(DescribeExecutionCommand).rejects(notFound('ExecutionDoesNotExist'));
    expect(await hook()(STOPPED)).toEqual({ stopped: [], resumed: [] });
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand)).toHaveLength(0);
  });

  test('throws on a failed resume, so that EventBridge retries', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ status: 'SUCCEEDED', output: JSON.stringify({ frozen: ['uuid-a'] }) });
    lambda.on(UpdateEventSourceMappingCommand).rejects(new Error('TooManyRequestsException'));
    await expect(hook()(STOPPED)).rejects.toThrow('TooManyRequestsException');
  });
});

function worker(now = NOW) {
  return createWorkerHandler({ lambda: new LambdaClient({}), cloudwatch: new CloudWatchClient({}), sns: new SNSClient({}), now: () => now, log: () => undefined });
}

describe('worker: invariants', () => {
  test('reads the new version\'s environment and names every mismatched or missing pin with both values', async () => {
    lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: { SCHEMA_REV: 'v2', RELEASE_ID: 'rel-1' } } });
    const decision = await worker()({ op: 'invariants', target: TARGET, config: CONFIG });
    expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0].args[0].input).toEqual({ FunctionName: 'answer-fn', Qualifier: '8' });
    expect(decision).toMatchObject({
      kind: 'cdk-rollout-guardrails/blue-green/invariants',
      passed: false,
      reasons: ['MODEL_TAG: expected "m-7", version 8 has no MODEL_TAG', 'SCHEMA_REV: expected "v3", version 8 has "v2"'],
    });
  });
});

describe('worker: freeze and resume', () => {
  test('pauses the running mappings only, and remembers exactly those', async () => {
    lambda.on(GetEventSourceMappingCommand, { UUID: 'uuid-a' }).resolves({ State: 'Enabled' });
    lambda.on(GetEventSourceMappingCommand, { UUID: 'uuid-b' }).resolves({ State: 'Disabled' });
    lambda.on(GetEventSourceMappingCommand, { UUID: 'uuid-c' }).resolves({ State: 'Updating' });
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    const decision = await worker()({ op: 'freeze', mappings: CONFIG.freeze });
    expect(decision).toEqual({ kind: 'cdk-rollout-guardrails/blue-green/freeze', frozen: ['uuid-a', 'uuid-c'], skipped: [{ uuid: 'uuid-b', state: 'Disabled' }] });
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-a', Enabled: false }, { UUID: 'uuid-c', Enabled: false }]);
  });

  test('a freeze that fails half-way resumes what it had paused before it throws', async () => {
    lambda.on(GetEventSourceMappingCommand, { UUID: 'uuid-a' }).resolves({ State: 'Enabled' });
    lambda.on(GetEventSourceMappingCommand, { UUID: 'uuid-b' }).rejects(new Error('ResourceNotFoundException: uuid-b'));
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    await expect(worker()({ op: 'freeze', mappings: CONFIG.freeze })).rejects.toThrow('ResourceNotFoundException: uuid-b');
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-a', Enabled: false }, { UUID: 'uuid-a', Enabled: true }]);
  });

  test('resume enables every remembered mapping, tries them all, and throws the first failure for the machine to retry', async () => {
    lambda.on(UpdateEventSourceMappingCommand, { UUID: 'uuid-a' }).rejects(new Error('TooManyRequestsException'));
    lambda.on(UpdateEventSourceMappingCommand, { UUID: 'uuid-c' }).resolves({});
    await expect(worker()({ op: 'unfreeze', mappings: ['uuid-a', 'uuid-c'] })).rejects.toThrow('TooManyRequestsException');
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-a', Enabled: true }, { UUID: 'uuid-c', Enabled: true }]);
    lambda.reset();
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    expect(await worker()({ op: 'unfreeze', mappings: ['uuid-a', 'uuid-c'] })).toEqual({ kind: 'cdk-rollout-guardrails/blue-green/unfreeze', resumed: ['uuid-a', 'uuid-c'] });
  });
});

describe('worker: hold and watch', () => {
  const WATCH = { op: 'watch' as const, target: TARGET, config: CONFIG, holdStartedAt: NOW - 60_000, holdEndsAt: NOW + 840_000, check: 7 };

  test('reads the newest complete minute at least metricDelay old, by ExecutedVersion under the alias', async () => {
    expect(metricWindow(Date.UTC(2026, 0, 1, 12, 0, 30), 20)).toEqual({ start: Date.UTC(2026, 0, 1, 11, 59, 0), end: Date.UTC(2026, 0, 1, 12, 0, 0) });
    expect(metricWindow(Date.UTC(2026, 0, 1, 12, 0, 19), 20)).toEqual({ start: Date.UTC(2026, 0, 1, 11, 58, 0), end: Date.UTC(2026, 0, 1, 11, 59, 0) });
    expect(watchQueries(TARGET).map((q) => [q.Id, q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat, q.MetricStat?.Period, q.MetricStat?.Metric?.Dimensions])).toEqual([
      ['i', 'Invocations', 'Sum', 60, [{ Name: 'FunctionName', Value: 'answer-fn' }, { Name: 'Resource', Value: 'answer-fn:live' }, { Name: 'ExecutedVersion', Value: '8' }]],
      ['e', 'Errors', 'Sum', 60, [{ Name: 'FunctionName', Value: 'answer-fn' }, { Name: 'Resource', Value: 'answer-fn:live' }, { Name: 'ExecutedVersion', Value: '8' }]],
    ]);
  });

  test('a 5xx breach says rollback, with the measured rate against the threshold', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'i', Values: [800] }, { Id: 'e', Values: [24] }] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'Gates', StateValue: 'OK' }] });
    const decision = await worker()(WATCH);
    expect(cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input).toMatchObject({ StartTime: new Date(Date.UTC(2026, 0, 1, 11, 59)), EndTime: new Date(Date.UTC(2026, 0, 1, 12, 0)) });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0].args[0].input).toEqual({ AlarmNames: ['Gates'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] });
    expect(decision).toMatchObject({ source: 'metrics', check: 7, next: 'rollback', elapsedSeconds: 60 });
    expect((decision as { rules: unknown[] }).rules[0]).toEqual({ name: 'max5xxRate', measured: 0.03, threshold: 0.01, passed: false, reason: '5xx rate of the new version 3 % (24 of 800) > 1 %' });
  });

  test('a gate alarm in ALARM says rollback; a healthy minute says continue', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'i', Values: [800] }, { Id: 'e', Values: [0] }] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'Gates', StateValue: 'ALARM' }] });
    expect(await worker()(WATCH)).toMatchObject({ next: 'rollback', reasons: ['stop rule broken 60 s into the hold, rolling back: alarm Gates is ALARM'] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'Gates', StateValue: 'OK' }] });
    expect(await worker()(WATCH)).toMatchObject({ next: 'continue' });
  });

  test('a minute without a datapoint is no traffic, not a pass of the 5xx rule', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'i', Values: [] }, { Id: 'e', Values: [] }] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({});
    const decision = await worker()(WATCH) as { rules: Array<{ passed: boolean | null; reason: string }> };
    expect(decision.rules[0]).toMatchObject({ passed: null, reason: '5xx rate not judged: 0 invocations of the new version in the minute read (fewer than 100)' });
  });

  test('judges a probe run whose answers drifted: rollback, with ΔS p95 drift, coverage and λ flip rate against the seed\'s rules', async () => {
    const probe = {
      status: 'Failed',
      reasons: ['maxDeltaSDrift: ΔS drift 0.288 > 0.03'],
      report: {
        new: { deltaSP95: 0.82, coverageMedian: 0.45 },
        current: { deltaSP95: 0.41 },
        lambdaFlips: Array.from({ length: 6 }, (_, i) => ({ id: `q${i}`, current: 'convergent', new: 'recursive' })),
        plan: { questions: 20 },
      },
    };
    const decision = await worker()({ ...WATCH, op: 'judgeProbe', probe }) as { next: string; rules: Array<{ name: string; passed: boolean }> };
    expect(decision.next).toBe('rollback');
    expect(decision.rules.map((r) => [r.name, r.passed])).toEqual([['maxDeltaSP95Drift', false], ['minCoverage', false], ['maxLambdaFlipRate', false]]);
  });

  test('says succeed once the hold is over', async () => {
    cloudwatch.on(GetMetricDataCommand).resolves({ MetricDataResults: [{ Id: 'i', Values: [800] }, { Id: 'e', Values: [1] }] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({});
    expect(await worker(NOW + 840_000)(WATCH)).toMatchObject({ next: 'succeed', reasons: ['held and watched 900 s of 900 s, no stop rule broken'] });
  });

  test('refuses an unknown operation', async () => {
    await expect(worker()({ op: 'dance' } as never)).rejects.toThrow('expected an event with op invariants, warmup, freeze, unfreeze, watch, judgeProbe or notify');
  });
});
