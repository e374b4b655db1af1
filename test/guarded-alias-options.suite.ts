// GuardedAlias props: the staged cache-hit-rate gate (first: its class mocks are restored in its afterAll) and the props' validation, one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from './helpers/sdk-mock';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CacheHitRateGate, GuardedAlias, RolloutStrategy, GuardedAliasProps, GuardrailsErrors, GuardrailsValidationError, ReleaseGates, CanaryMetrics } from '../lib';
import { cacheHitRateCheck } from '../lambdas/staged/cache-hit-rate';
import { createGateHandler, GateEvent } from '../lambdas/staged/gate';
import { INITIAL_PROGRESS, StagedAliasConfig } from '../packages/runtime/src/contract/staged';
import { testFunction, testStack, testApp } from './util';

describe('staged-cache-hit-rate', () => {
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
});

describe('validation', () => {
  /** Builds a GuardedAlias with `props` over a fresh function and returns the error message it throws. */
  function errorOf(props: Partial<GuardedAliasProps>): string {
    const stack = testStack();
    const fn = testFunction(stack);
    try {
      new GuardedAlias(stack, 'Guarded', { function: fn, ...props } as GuardedAliasProps);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error('expected the props to be rejected');
  }

  function alarm(scope: any, id: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(scope, id, { metric: new cloudwatch.Metric({ namespace: 'X', metricName: id }), threshold: 1, evaluationPeriods: 1 });
  }

  describe('GuardedAlias validation', () => {
    test.each([
      [RolloutStrategy.canary(0, Duration.minutes(5)), 'strategy (canary) percent must be an integer from 1 to 99, got: 0'],
      [RolloutStrategy.canary(100, Duration.minutes(5)), 'strategy (canary) percent must be an integer from 1 to 99, got: 100'],
      [RolloutStrategy.canary(2.5, Duration.minutes(5)), 'strategy (canary) percent must be an integer from 1 to 99, got: 2.5'],
      [RolloutStrategy.linear(-10, Duration.minutes(1)), 'strategy (linear) percent must be an integer from 1 to 99, got: -10'],
      [RolloutStrategy.canary(10, Duration.seconds(30)), 'strategy (canary) interval must be whole minutes, at least 1 minute, got: 30 seconds'],
      [RolloutStrategy.linear(10, Duration.seconds(90)), 'strategy (linear) interval must be whole minutes, at least 1 minute, got: 1 minute 30 seconds'],
      [RolloutStrategy.canary(NaN, Duration.minutes(5)), 'strategy (canary) percent must be an integer from 1 to 99, got: NaN'],
    ])('rejects the strategy %s', (strategy, message) => {
      expect(errorOf({ strategy })).toContain(message);
    });

    test('rejects a strategy that is not a RolloutStrategy', () => {
      expect(errorOf({ strategy: { kind: 'CANARY' } as any })).toContain('strategy must be a RolloutStrategy (staged, canary, linear or allAtOnce), got: {"kind":"CANARY"}');
    });

    test.each([
      [{ maxErrorRateDelta: -0.1 }, 'gates.maxErrorRateDelta must be a number at least 0 and less than 1, got: -0.1'],
      [{ maxErrorRateDelta: 5 }, 'gates.maxErrorRateDelta must be a number at least 0 and less than 1, got: 5'],
      [{ maxP95Ratio: 0.9 }, 'gates.maxP95Ratio must be a number at least 1 and at most 100, got: 0.9'],
      [{ maxP95Ratio: Infinity }, 'gates.maxP95Ratio must be a number at least 1 and at most 100, got: Infinity'],
      [{ maxErrorRate: 0 }, 'gates.maxErrorRate must be a number greater than 0 and less than 1, got: 0'],
      [{ maxErrorRate: 1 }, 'gates.maxErrorRate must be a number greater than 0 and less than 1, got: 1'],
      [{ maxErrorRate: '0.01' }, 'gates.maxErrorRate must be a number greater than 0 and less than 1, got: "0.01"'],
      [{ maxErrorRate: NaN }, 'gates.maxErrorRate must be a number greater than 0 and less than 1, got: NaN'],
      [{ maxErorRate: 0.01 }, 'gates.maxErorRate must be one of maxErrorRateDelta, maxP95Ratio, maxErrorRate, minInvocationsPerMinute, maxColdStartShare, maxDeltaS, maxDeltaSDrift, minCoverage, maxLambdaFlips (unknown gate), got: "maxErorRate"'],
    ])('rejects the gates %j', (gates, message) => {
      expect(errorOf({ gates: gates as any })).toContain(message);
    });

    test.each([
      [{ maxDeltaS: 3 }, 'gates.maxDeltaS must be a number at least 0 and at most 2, got: 3'],
      [{ minCoverage: 1.5 }, 'gates.minCoverage must be a number at least 0 and at most 1, got: 1.5'],
      [{ maxLambdaFlips: 0.5 }, 'gates.maxLambdaFlips must be an integer from 0 to 100000, got: 0.5'],
      [{ maxDeltaSDrift: 0.01 }, 'gates.maxDeltaSDrift must be left out without a probe (it is a gate of the ΔS probe: set `probe` too), got: 0.01'],
    ])('rejects the probe gates %j', (gates, message) => {
      expect(errorOf({ gates: gates as any })).toContain(message);
    });

    test.each([
      ['', 'aliasName must be 1 to 128 letters, digits, "-" or "_", and not only digits, got: ""'],
      ['42', 'aliasName must be 1 to 128 letters, digits, "-" or "_", and not only digits, got: "42"'],
      ['live alias', 'aliasName must be 1 to 128 letters, digits, "-" or "_", and not only digits, got: "live alias"'],
      ['$LATEST', 'aliasName must be 1 to 128 letters, digits, "-" or "_", and not only digits, got: "$LATEST"'],
      ['a'.repeat(129), `aliasName must be 1 to 128 letters, digits, "-" or "_", and not only digits, got: "${'a'.repeat(129)}"`],
    ])('rejects the alias name %j', (aliasName, message) => {
      expect(errorOf({ aliasName })).toContain(message);
    });

    test('rejects a function it cannot publish versions of', () => {
      const stack = testStack();
      const imported = lambda.Function.fromFunctionName(stack, 'Imported', 'someone-elses-function');
      expect(() => new GuardedAlias(stack, 'Guarded', { function: imported as any })).toThrow(
        /function must be a lambda.Function defined in this app \(GuardedAlias publishes its versions\), got: the construct at 'TestStack\/Imported'/);
      expect(() => new GuardedAlias(stack, 'Missing', {} as any)).toThrow('function must be a lambda.Function defined in this app (GuardedAlias publishes its versions), got: undefined');
    });

    test('rejects the released function as its own hook', () => {
      const stack = testStack();
      const fn = testFunction(stack);
      expect(() => new GuardedAlias(stack, 'Guarded', { function: fn, preTrafficHook: fn })).toThrow(
        "preTrafficHook must be a function other than the one being released, got: the construct at 'TestStack/Fn'");
    });

    test('rejects a hook that is not a function', () => {
      expect(errorOf({ postTrafficHook: 'arn:aws:lambda:eu-west-1:123456789012:function:hook' as any })).toContain(
        'postTrafficHook must be a lambda.IFunction, got: "arn:aws:lambda:eu-west-1:123456789012:function:hook"');
    });

    test('rejects more alarms than CodeDeploy watches per deployment group', () => {
      const stack = testStack();
      const fn = testFunction(stack);
      const alarms = Array.from({ length: 10 }, (_, i) => alarm(stack, `A${i}`));
      expect(() => new GuardedAlias(stack, 'Guarded', { function: fn, alarms })).toThrow(
        'alarms must be at most 9 alarms (CodeDeploy watches 10 per deployment group and the gate alarm takes 1), got: 10 alarms');
    });

    test('rejects, at synth, alarms added later beyond CodeDeploy\'s limit', () => {
      const app = testApp();
      const stack = testStack(app);
      const ga = new GuardedAlias(stack, 'Guarded', { function: testFunction(stack) });
      for (let i = 0; i < 10; i++) ga.addAlarm(alarm(stack, `A${i}`));
      expect(() => app.synth()).toThrow(
        "GuardedAlias 'TestStack/Guarded': alarms must number at most 10 in all (CodeDeploy's limit per deployment group), got: 11 (1 gate alarm + 10 added)");
    });

    test('reports every problem of one construct together', () => {
      const message = errorOf({
        aliasName: '',
        strategy: RolloutStrategy.canary(0, Duration.seconds(10)),
        gates: { maxP95Ratio: 0.5, maxErrorRate: 2 },
      });
      expect(message).toMatch(/^GuardedAlias 'TestStack\/Guarded' has 5 invalid props:\n/);
      for (const prop of ['aliasName', 'strategy (canary) percent', 'strategy (canary) interval', 'gates.maxP95Ratio', 'gates.maxErrorRate']) {
        expect(message).toContain(`  - ${prop} must be`);
      }
    });

    /** What a GuardedAlias with two invalid props throws. */
    function twoProblemsError(): unknown {
      const stack = testStack();
      const fn = testFunction(stack);
      try {
        new GuardedAlias(stack, 'Guarded', { function: fn, aliasName: '', gates: { maxErrorRate: -1 } });
      } catch (e) {
        return e;
      }
      return undefined;
    }

    test('throws a GuardrailsValidationError that lists each problem', () => {
      const caught = twoProblemsError();
      expect(caught).toBeInstanceOf(GuardrailsValidationError);
      expect((caught as GuardrailsValidationError).problems).toHaveLength(2);
      expect((caught as GuardrailsValidationError).name).toBe('GuardrailsValidationError');
    });

    test('GuardrailsErrors tells the error in every language (the class itself is TypeScript-only for jsii)', () => {
      const caught = twoProblemsError();
      expect(GuardrailsErrors.isValidationError(caught)).toBe(true);
      expect(GuardrailsErrors.validationProblems(caught)).toEqual([...(caught as GuardrailsValidationError).problems]);
      expect(GuardrailsErrors.validationProblems(caught)).toHaveLength(2);
      expect(GuardrailsErrors.isValidationError(new Error('other'))).toBe(false);
      expect(GuardrailsErrors.isValidationError(undefined)).toBe(false);
      expect(GuardrailsErrors.validationProblems(new Error('other'))).toEqual([]);
    });

    test('ReleaseGates on its own rejects bad thresholds with the same messages', () => {
      const stack = testStack();
      const metrics = new CanaryMetrics({ functionName: 'fn', aliasName: 'live', canaryVersion: '3' });
      expect(() => new ReleaseGates(stack, 'Gates', { metrics, thresholds: { maxP95Ratio: 0 } })).toThrow(
        "ReleaseGates 'TestStack/Gates' has 1 invalid prop:\n  - gates.maxP95Ratio must be a number at least 1 and at most 100, got: 0");
    });

    test('accepts the boundaries of every range', () => {
      const stack = testStack();
      const fn = testFunction(stack);
      expect(() => new GuardedAlias(stack, 'Guarded', {
        function: fn,
        aliasName: 'a'.repeat(128),
        strategy: RolloutStrategy.linear(99, Duration.minutes(1)),
        gates: { maxErrorRateDelta: 0, maxP95Ratio: 1, maxErrorRate: 0.999 },
      })).not.toThrow();
    });
  });
});
