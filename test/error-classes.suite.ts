import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from './helpers/sdk-mock';
import { createGateHandler, GateEvent } from '../lambdas/staged/gate';
import { errorClassesOf, errorClassQueries, newErrorClassCheck } from '../lambdas/staged/error-classes';
import { withRelease } from '../packages/runtime/src';
import { ERROR_CLASSES } from '../packages/runtime/src/contract/telemetry';
import { INITIAL_PROGRESS, newErrorClassAt, StagedAliasConfig } from '../packages/runtime/src/contract/staged';

// The seed's stop at 1 %: "a new 5xx class appears". The runtime counts each failed invocation under its error
// class; the staged gate compares the classes of the new version in the window with the current version's.

describe('withRelease: error classes by revision', () => {
  const record = async (handler: (event: unknown) => Promise<unknown>) => {
    const lines: string[] = [];
    const wrapped = withRelease(handler, { release: { RELEASE_ID: 'r-2' }, revision: '8', functionName: 'answer', sink: (l) => lines.push(l) });
    await wrapped({}).catch(() => undefined);
    return JSON.parse(lines[0]);
  };

  test('a 5xx response and a thrown error each count once under their class, in a directive of their own', async () => {
    const unavailable = await record(async () => ({ statusCode: 503, body: '' }));
    expect(unavailable._aws.CloudWatchMetrics).toHaveLength(2);
    expect(unavailable._aws.CloudWatchMetrics[1]).toEqual({
      Namespace: 'RolloutGuardrails', Dimensions: [['FunctionName', 'Revision', 'ErrorClass']], Metrics: [{ Name: 'ErrorsByClass', Unit: 'Count' }],
    });
    // Every dimension of both directives is a field of the record, as EMF requires.
    expect(unavailable).toMatchObject({ FunctionName: 'answer', Revision: '8', ReleaseId: 'r-2', ErrorClass: '503', ErrorsByClass: 1, Errors: 1 });
    const thrown = await record(async () => { throw new TypeError('boom'); });
    expect(thrown).toMatchObject({ ErrorClass: 'thrown', ErrorsByClass: 1, error_type: 'TypeError' });
    expect((await record(async () => ({ statusCode: 599 }))).ErrorClass).toBe('5xx-other');
  });

  test('a success or a 4xx carries no class', async () => {
    for (const result of [{ statusCode: 200 }, { statusCode: 404 }, 'plain']) {
      const line = await record(async () => result);
      expect(line._aws.CloudWatchMetrics).toHaveLength(1);
      expect(line.ErrorClass).toBeUndefined();
    }
  });
});

describe('the newErrorClass check', () => {
  test('fails on a class the new version shows and the current one does not', () => {
    expect(newErrorClassCheck({ canary: ['500', '503'], control: ['500'] })).toMatchObject({ name: 'newErrorClass', measured: 1, passed: false, reason: expect.stringMatching(/^new error class 503: /) });
    expect(newErrorClassCheck({ canary: ['500'], control: ['500', '502'] })).toMatchObject({ measured: 0, passed: true });
    expect(newErrorClassCheck({ canary: [], control: [] })).toMatchObject({ passed: true, reason: 'no new error class: the new version showed none, the current version none' });
  });

  test('reads one sum per class and version, and takes a class as shown from one failed invocation', () => {
    const queries = errorClassQueries('answer', 'c', '8', 300);
    expect(queries).toHaveLength(ERROR_CLASSES.length);
    expect(queries[3]).toEqual({
      Id: 'xc3',
      MetricStat: {
        Metric: { Namespace: 'RolloutGuardrails', MetricName: 'ErrorsByClass', Dimensions: [{ Name: 'FunctionName', Value: 'answer' }, { Name: 'Revision', Value: '8' }, { Name: 'ErrorClass', Value: '503' }] },
        Period: 300, Stat: 'Sum',
      },
      ReturnData: true,
    });
    expect(errorClassesOf('c', [{ Id: 'xc3', Values: [1] }, { Id: 'xc0', Values: [0] }, { Id: 'xk1', Values: [4] }])).toEqual(['503']);
  });

  test('is in force from its step on, never before the first shift', () => {
    const rules = [{ fromStep: 5, newErrorClass: true }];
    expect([0, 1, 5, 50].map((w) => newErrorClassAt(rules, w))).toEqual([false, false, true, true]);
    expect(newErrorClassAt([{ fromStep: 1, newErrorClass: true }], 0)).toBe(false);
  });
});

describe('the staged gate function with the default stop rules', () => {
  const NOW = Date.UTC(2026, 0, 1, 12);
  const config: StagedAliasConfig = {
    schedule: {
      steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
      probeBudgetSeconds: 60, recheckSeconds: 60, canaryQuestions: 10, stopRules: [{ fromStep: 1, newErrorClass: true }],
    },
    thresholds: { maxErrorRateDelta: 0.05, maxP95Ratio: 1.25, maxErrorRate: 0.1 },
    alarmNames: [],
  };
  const event = (stepIndex: number): GateEvent => ({
    deployment: { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1' },
    target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
    config, deadline: NOW + 3_000_000, progress: { ...INITIAL_PROGRESS, stepIndex }, probe: { status: 'Succeeded', reasons: [] },
  });
  const cloudwatch = mockClient(CloudWatchClient);
  afterAll(() => cloudwatch.restore());

  test('at 1 %: the new version\'s classes over the window against the current one\'s over the window and the hour before', async () => {
    cloudwatch.reset();
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    cloudwatch.on(GetMetricDataCommand).callsFake((input) => (input.MetricDataQueries.some((q: { Id: string }) => q.Id === 'xk0')
      ? { MetricDataResults: [{ Id: 'xk0', Values: [3] }] }
      : { MetricDataResults: [{ Id: 'ci', Values: [400] }, { Id: 'ce', Values: [2] }, { Id: 'ki', Values: [40000] }, { Id: 'ke', Values: [3] }, { Id: 'xc0', Values: [1] }, { Id: 'xc3', Values: [1] }] }));
    const handler = createGateHandler({ cloudwatch: cloudwatch as unknown as CloudWatchClient, now: () => NOW, log: () => undefined });
    const out = await handler(event(1));
    expect(out.decision).toBe('hold');
    expect(out.gates.find((g) => g.name === 'newErrorClass')).toMatchObject({ passed: false, measured: 1, reason: expect.stringMatching(/^new error class 503: /) });
    const [window, baseline] = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
    expect(window.StartTime).toEqual(new Date(NOW - 300_000));
    expect(window.MetricDataQueries?.filter((q) => q.Id!.startsWith('xc'))).toHaveLength(ERROR_CLASSES.length);
    expect(baseline).toMatchObject({ StartTime: new Date(NOW - 3_900_000), EndTime: new Date(NOW) });
    expect(baseline.MetricDataQueries?.[0].MetricStat).toMatchObject({ Period: 3900, Metric: { Dimensions: expect.arrayContaining([{ Name: 'Revision', Value: '7' }]) } });
  });

  test('before the first shift, nothing of the classes is read', async () => {
    cloudwatch.reset();
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    const handler = createGateHandler({ cloudwatch: cloudwatch as unknown as CloudWatchClient, now: () => NOW, log: () => undefined });
    const out = await handler(event(0));
    expect(out.gates.map((g) => g.name)).not.toContain('newErrorClass');
    expect(cloudwatch.commandCalls(GetMetricDataCommand)).toHaveLength(0);
  });
});
