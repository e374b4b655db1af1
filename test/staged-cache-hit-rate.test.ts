import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { CacheHitRateGate, GuardedAlias, RolloutStrategy } from '../lib';
import { cacheHitRateCheck } from '../lambdas/staged/cache-hit-rate';
import { createGateHandler, GateEvent } from '../lambdas/staged/gate';
import { INITIAL_PROGRESS, StagedAliasConfig } from '../packages/runtime/src/contract/staged';
import { testFunction, testStack } from './util';

// The seed's "cache hit does not regress more than five points after namespace split", as an opt-in staged gate:
// the new version's hit rate against the current version's, each from reportCacheLookup telemetry under its release.

const RULE = { maxRegressionPoints: 5, minLookups: 100 };

test('fails past the regression allowed, passes within it, and judges nothing below the fewest lookups', () => {
  expect(cacheHitRateCheck({ lookups: 1000, hits: 700 }, { lookups: 5000, hits: 4000 }, RULE)).toMatchObject({
    name: 'cacheHitRate', passed: false, threshold: 5, reason: 'cache hit rate of the new version 70 % against the current 80 %: 10 points > 5',
  });
  expect(cacheHitRateCheck({ lookups: 1000, hits: 770 }, { lookups: 5000, hits: 4000 }, RULE)).toMatchObject({ passed: true });
  expect(cacheHitRateCheck({ lookups: 1000, hits: 900 }, { lookups: 5000, hits: 4000 }, RULE).measured).toBeCloseTo(-10);
  expect(cacheHitRateCheck({ lookups: 99, hits: 0 }, { lookups: 5000, hits: 4000 }, RULE)).toMatchObject({ passed: null, measured: null });
  expect(cacheHitRateCheck(undefined, { lookups: 5000, hits: 4000 }, RULE).reason).toMatch(/no data \(lookups in the window: new unknown, current 5000/);
});

describe('the staged gate function with the cache gate', () => {
  const NOW = Date.UTC(2026, 0, 1, 12);
  const config: StagedAliasConfig = {
    schedule: {
      steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
      probeBudgetSeconds: 60, recheckSeconds: 60, canaryQuestions: 10, stopRules: [],
    },
    thresholds: { maxErrorRateDelta: 0.05, maxP95Ratio: 1.25, maxErrorRate: 0.1 },
    alarmNames: [],
    cacheHitRate: RULE,
  };
  const event: GateEvent = {
    deployment: { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1' },
    target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
    config, deadline: NOW + 3_000_000, progress: { ...INITIAL_PROGRESS, stepIndex: 2 }, probe: { status: 'Succeeded', reasons: [] },
  };
  const cloudwatch = mockClient(CloudWatchClient);
  const lambda = mockClient(LambdaClient);
  afterAll(() => { cloudwatch.restore(); lambda.restore(); });

  test('reads each version\'s lookups and hits under its own RELEASE_ID, and holds on a regression', async () => {
    lambda.on(GetFunctionConfigurationCommand, { Qualifier: '8' }).resolves({ Environment: { Variables: { RELEASE_ID: 'rel-new' } } });
    lambda.on(GetFunctionConfigurationCommand, { Qualifier: '7' }).resolves({ Environment: { Variables: { RELEASE_ID: 'rel-old' } } });
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    cloudwatch.on(GetMetricDataCommand).resolves({
      MetricDataResults: [
        { Id: 'ci', Values: [400] }, { Id: 'ce', Values: [0] }, { Id: 'cp', Values: [100] },
        { Id: 'ki', Values: [8000] }, { Id: 'ke', Values: [2] }, { Id: 'kp', Values: [100] },
        { Id: 'hcl', Values: [400] }, { Id: 'hch', Values: [200] }, { Id: 'hkl', Values: [8000] }, { Id: 'hkh', Values: [6400] },
      ],
    });
    const handler = createGateHandler({ cloudwatch: new CloudWatchClient({}), lambda: new LambdaClient({}), now: () => NOW, log: () => undefined });
    const out = await handler(event);
    expect(out.decision).toBe('hold');
    const cache = out.gates.find((g) => g.name === 'cacheHitRate')!;
    expect(cache.passed).toBe(false);
    expect(cache.measured).toBeCloseTo(30);
    const queries = cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries!;
    expect(queries.find((q) => q.Id === 'hcl')!.MetricStat!.Metric!.Dimensions).toEqual([
      { Name: 'FunctionName', Value: 'answer' }, { Name: 'ReleaseId', Value: 'rel-new' }, { Name: 'Revision', Value: '8' },
    ]);
    expect(queries.find((q) => q.Id === 'hkh')!.MetricStat!.Metric).toMatchObject({ Namespace: 'RolloutGuardrails', MetricName: 'CacheHits' });
  });

  test('a version without a RELEASE_ID has no telemetry to compare: no data, which follows noData', async () => {
    lambda.reset();
    lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: {} } });
    const handler = createGateHandler({ cloudwatch: new CloudWatchClient({}), lambda: new LambdaClient({}), now: () => NOW, log: () => undefined });
    const out = await handler(event);
    expect(out.gates.find((g) => g.name === 'cacheHitRate')).toMatchObject({ passed: null });
    expect(out.reasons[0]).toContain('the noData policy is pass');
  });
});

describe('RolloutStrategy.staged cacheHitRate', () => {
  test('is off by default; {} opts in with the seed\'s 5 points over at least 100 lookups', () => {
    expect(RolloutStrategy.staged()._cacheHitRate()).toBeUndefined();
    expect(RolloutStrategy.staged({ cacheHitRate: {} })._cacheHitRate()).toEqual({ maxRegressionPoints: 5, minLookups: 100 });
  });

  test('every bad option is reported together, naming the prop and the value', () => {
    expect(RolloutStrategy.staged({ cacheHitRate: { maxRegression: 120, minLookups: 0.5, window: 3 } as unknown as CacheHitRateGate }).validate()).toEqual([
      'strategy (staged) cacheHitRate.window must be maxRegression or minLookups (unknown key), got: "window"',
      'strategy (staged) cacheHitRate.maxRegression must be a number at least 0 and at most 100, got: 120',
      'strategy (staged) cacheHitRate.minLookups must be an integer from 1 to 1000000, got: 0.5',
    ]);
  });

  test('grants the gate function the reads of the function\'s versions\' configuration, and writes the rule into the definition', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.staged({ cacheHitRate: { maxRegression: 3 } }) });
    const template = Template.fromStack(stack);
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toMatch(/"lambda:GetFunctionConfiguration","Effect":"Allow","Resource":\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["Fn[0-9A-F]+","Arn"\]\},":\*"\]\]\}/);
    const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
    expect(JSON.stringify(machine.Properties.DefinitionString).replace(/\\/g, '')).toContain('"cacheHitRate":{"maxRegressionPoints":3,"minLookups":100}');
  });
});
