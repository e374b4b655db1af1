import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedAlias, GuardedAliasProps, GuardrailsErrors, GuardrailsValidationError, ReleaseGates, RolloutStrategy, CanaryMetrics } from '../lib';
import { testApp, testFunction, testStack } from './util';

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
