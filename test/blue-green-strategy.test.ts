import { Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { BlueGreenRolloutStrategy, RolloutKind, RolloutStrategy } from '../lib';
import { testStack } from './util';

describe('RolloutStrategy.blueGreen', () => {
  test('defaults to a 15-minute hold checked every 5 s, a 20-question smoke and the seed\'s stop rules', () => {
    const strategy = RolloutStrategy.blueGreen();
    expect(strategy).toBeInstanceOf(BlueGreenRolloutStrategy);
    expect(strategy.kind).toBe(RolloutKind.BLUE_GREEN);
    expect(strategy.validate()).toEqual([]);
    expect(strategy._config()).toEqual({
      holdSeconds: 900,
      checkIntervalSeconds: 5,
      metricDelaySeconds: 20,
      probeBudgetSeconds: 45,
      smokeQuestions: 20,
      stopRules: { maxDeltaSP95Drift: 0.15, minCoverage: 0.6, maxLambdaFlipRate: 0.2, max5xxRate: 0.01, minInvocations: 100 },
      invariants: {},
    });
    expect(strategy.toString()).toBe('blue-green: invariants, a 20-question smoke probe, then all at once; hold and watch 15 minutes (checks every 5 seconds), rolled back by CodeDeploy within 1 minute 59 seconds of a breach');
  });

  test('binds to CodeDeploy\'s all-at-once configuration: the checks run in the hooks around the switch', () => {
    expect(RolloutStrategy.blueGreen()._bindDeploymentConfig()).toBe(codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE);
    expect(RolloutStrategy.blueGreen().shiftDuration?.toSeconds()).toBe(0);
  });

  test('computes the default worst-case rollback at 119 s, under the seeds\' 2 minutes, CodeDeploy\'s rollback shift included', () => {
    const strategy = RolloutStrategy.blueGreen();
    // 5xx: 5 s interval + 60 s period + 20 s metric delay + 2 × 5 s reads + 9 s Failed report (2 attempts × 4 s + 1 s wait)
    // + 15 s assumed rollback shift by CodeDeploy.
    expect(strategy.rollbackTime?.onMetrics.toSeconds()).toBe(119);
    // Probe: 5 s interval + 2 × 45 s probe runs + 9 s report + 15 s shift.
    expect(strategy.rollbackTime?.onProbe.toSeconds()).toBe(119);
    // A gate alarm, for information only: 2 min to ALARM + 5 s + 2 × 5 s + 9 s + 15 s.
    expect(strategy.rollbackTime?.onAlarm.toSeconds()).toBe(159);
    expect(strategy.worstCaseRollback?.toSeconds()).toBe(119);
    // The assumption is the user's to set once measured; a longer one must still fit the 2 minutes.
    expect(RolloutStrategy.blueGreen({ rollbackShift: Duration.seconds(17) }).validate()).toHaveLength(1);
  });

  test.each([
    ['a shorter probe', { probeBudget: Duration.seconds(20) }, 119, 69],
    ['no metric delay', { metricDelay: Duration.seconds(0), probeBudget: Duration.seconds(30) }, 99, 89],
    ['exactly 2 minutes on both paths', { checkInterval: Duration.seconds(6) }, 120, 120],
    ['a measured rollback shift of 5 s', { rollbackShift: Duration.seconds(5), checkInterval: Duration.seconds(10) }, 114, 114],
  ])('computes both paths with %s', (_name, options, metrics, probe) => {
    const strategy = RolloutStrategy.blueGreen(options);
    expect([strategy.rollbackTime?.onMetrics.toSeconds(), strategy.rollbackTime?.onProbe.toSeconds()]).toEqual([metrics, probe]);
    expect(strategy.worstCaseRollback?.toSeconds()).toBe(Math.max(metrics, probe));
    expect(strategy.validate()).toEqual([]);
  });

  test('rejects a configuration that cannot roll back within 2 minutes, with the computed numbers', () => {
    expect(RolloutStrategy.blueGreen({ probeBudget: Duration.seconds(60) }).validate()).toEqual([
      'strategy (blueGreen) rollback must be within 2 minutes of a breach, got: worst case 2 minutes 29 seconds '
      + '(ΔS, coverage or λ seen by the probe: check interval 5 seconds + 2 × probe budget 1 minute + the report\'s 9 seconds + rollbackShift 15 seconds = 2 minutes 29 seconds); '
      + 'shorten checkInterval, probeBudget or metricDelay',
    ]);
    expect(RolloutStrategy.blueGreen({ checkInterval: Duration.seconds(30), metricDelay: Duration.seconds(30) }).validate()).toEqual([
      'strategy (blueGreen) rollback must be within 2 minutes of a breach, got: worst case 2 minutes 34 seconds '
      + '(5xx seen by the metrics: check interval 30 seconds + 60-second metric period + metric delay 30 seconds + 2 × 5-second reads + the report\'s 9 seconds + rollbackShift 15 seconds = 2 minutes 34 seconds; '
      + 'ΔS, coverage or λ seen by the probe: check interval 30 seconds + 2 × probe budget 45 seconds + the report\'s 9 seconds + rollbackShift 15 seconds = 2 minutes 24 seconds); '
      + 'shorten checkInterval, probeBudget or metricDelay',
    ]);
  });

  test('rejects a hold that cannot fit CodeDeploy\'s hook hour, with the computed total', () => {
    expect(RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(50) }).validate()).toEqual([
      'strategy (blueGreen) holdAndWatch must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), '
      + 'got: 50 minutes 59 seconds (hold 50 minutes + a last check interval of 5 seconds + a last probe run of 45 seconds + the report\'s 9 seconds); shorten holdAndWatch',
    ]);
    // The longest default hold: 50 min − (5 s + 45 s + 9 s).
    expect(RolloutStrategy.blueGreen({ holdAndWatch: Duration.seconds(49 * 60 + 1) }).validate()).toEqual([]);
    expect(RolloutStrategy.blueGreen({ holdAndWatch: Duration.seconds(49 * 60 + 2) }).validate()).toHaveLength(1);
    expect(RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(30) }).afterHookDuration?.toSeconds()).toBe(1859);
  });

  test.each([
    ['a hold under a minute', { holdAndWatch: Duration.seconds(30) }, 'strategy (blueGreen) holdAndWatch must be whole seconds from 1 minute to 1 hour, got: 30 seconds'],
    ['a fractional interval', { checkInterval: Duration.millis(1500) }, 'strategy (blueGreen) checkInterval must be whole seconds from 1 second to 5 minutes, got: 1 second 500 millis'],
    ['a probe budget over Lambda\'s 15 minutes', { probeBudget: Duration.minutes(16) }, 'strategy (blueGreen) probeBudget must be whole seconds from 1 second to 15 minutes (Lambda\'s longest timeout), got: 16 minutes'],
    ['a metric delay over 10 minutes', { metricDelay: Duration.minutes(11) }, 'strategy (blueGreen) metricDelay must be whole seconds from 0 to 10 minutes, got: 11 minutes'],
    ['fewer than 20 smoke questions', { smokeQuestions: 10 }, 'strategy (blueGreen) smokeQuestions must be an integer from 20 to 40, got: 10'],
    ['more than 40 smoke questions', { smokeQuestions: 41 }, 'strategy (blueGreen) smokeQuestions must be an integer from 20 to 40, got: 41'],
    ['a coverage rule over 1', { stopRules: { minCoverage: 1.5 } }, 'strategy (blueGreen) stopRules.minCoverage must be a number at least 0 and at most 1, got: 1.5'],
    ['a 5xx rule of 100 %', { stopRules: { max5xxRate: 1 } }, 'strategy (blueGreen) stopRules.max5xxRate must be a number at least 0 and less than 1, got: 1'],
    ['a NaN drift rule', { stopRules: { maxDeltaSP95Drift: NaN } }, 'strategy (blueGreen) stopRules.maxDeltaSP95Drift must be a number at least 0 and at most 1, got: NaN'],
    ['an unknown stop rule', { stopRules: { maxP95: 2 } as object }, 'strategy (blueGreen) stopRules.maxP95 must be one of maxDeltaSP95Drift, minCoverage, maxLambdaFlipRate, max5xxRate, minInvocations (unknown stop rule), got: "maxP95"'],
    ['minInvocations of 0', { stopRules: { minInvocations: 0 } }, 'strategy (blueGreen) stopRules.minInvocations must be an integer from 1 to 1000000, got: 0'],
    ['an invariant that is not a variable name', { invariants: { 'schema-rev': 'v3' } }, 'strategy (blueGreen) invariants must be keyed by environment variable names (a letter, then letters, digits or "_"), got: "schema-rev"'],
    ['an empty invariant value', { invariants: { SCHEMA_REV: '' } }, 'strategy (blueGreen) invariants.SCHEMA_REV must be a non-empty string, got: ""'],
    ['a consumer that is not a mapping', { freezeConsumers: ['uuid-1' as unknown as lambda.IEventSourceMapping] }, 'strategy (blueGreen) freezeConsumers[0] must be a lambda.IEventSourceMapping, got: "uuid-1"'],
    ['a warm-up of 0 concurrency', { warmup: { concurrency: 0 } }, 'strategy (blueGreen) warmup.concurrency must be an integer from 1 to 10000, got: 0'],
  ])('fails on %s', (_name, options, message) => {
    expect(RolloutStrategy.blueGreen(options as never).validate()).toEqual([message]);
  });

  test('rejects a consumer listed twice', () => {
    const stack = testStack();
    const mapping = lambda.EventSourceMapping.fromEventSourceMappingId(stack, 'M', 'uuid-1');
    expect(RolloutStrategy.blueGreen({ freezeConsumers: [mapping, mapping] }).validate()).toEqual([
      'strategy (blueGreen) freezeConsumers[1] must be listed once, got: "TestStack/M"',
    ]);
  });

  test('reports every bad prop together, and leaves the computed checks until the props are valid', () => {
    const problems = RolloutStrategy.blueGreen({ holdAndWatch: Duration.hours(2), smokeQuestions: 5, stopRules: { minCoverage: -1 }, probeBudget: Duration.minutes(5) }).validate();
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).not.toContain('rollback must be');
  });

  test('carries the warm-up for the warm gate, defaults filled in', () => {
    expect(RolloutStrategy.blueGreen({ warmup: { concurrency: 5 } })._config().warmup).toEqual({ concurrency: 5, pings: 3, readyTimeoutSeconds: 300 });
  });

  test('says what it does in words, with paused consumers', () => {
    const stack = testStack();
    const mapping = lambda.EventSourceMapping.fromEventSourceMappingId(stack, 'M', 'uuid-1');
    expect(RolloutStrategy.blueGreen({ freezeConsumers: [mapping], holdAndWatch: Duration.minutes(30), smokeQuestions: 40 }).toString())
      .toBe('blue-green: invariants, a 40-question smoke probe and 1 paused consumer, then all at once; hold and watch 30 minutes (checks every 5 seconds), rolled back by CodeDeploy within 1 minute 59 seconds of a breach');
  });
});
