import { Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import { NoDataAction, RolloutKind, RolloutStrategy } from '../lib';

describe('RolloutStrategy.staged', () => {
  test('defaults to 1 → 5 → 25 → 50 → 100 % with a 5-minute bake, 2 failures per step and noData judged on the probe and alarms after the bake (low traffic)', () => {
    const strategy = RolloutStrategy.staged();
    expect(strategy.kind).toBe(RolloutKind.STAGED);
    expect(strategy.validate()).toEqual([]);
    expect(strategy._schedule()).toEqual({
      steps: [1, 5, 25, 50, 100],
      bakeSeconds: 300,
      maxFailuresPerStep: 2,
      noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
      probeBudgetSeconds: 330,
      recheckSeconds: 60,
      canaryQuestions: 10,
      stopRules: [{ fromStep: 1, newErrorClass: true }, { fromStep: 5, minTopicCoverage: 0.7 }, { fromStep: 50, maxParaphraseFlips: 1 }],
    });
    expect(strategy.toString()).toBe('staged 1 → 5 → 25 → 50 → 100 %, 5 minutes bake per step, rolled back after 2 failed gates at one step');
  });

  test('computes the default schedule at 47.5 minutes: 4 × (5.5-minute probe + 5-minute bake) + a last probe', () => {
    expect(RolloutStrategy.staged().scheduleDuration?.toSeconds()).toBe(2850);
  });

  test('exposes the worst-case time to roll back after a breach', () => {
    const strategy = RolloutStrategy.staged();
    // Alarm during a bake: 2 min to ALARM + 1 min watch interval + 30 s reset.
    expect(strategy.rollbackTime?.onAlarm.toSeconds()).toBe(210);
    // Seen at the next check (5 min bake + 5.5 min probe), failed again after 1 min + 5.5 min probe, then reset.
    expect(strategy.rollbackTime?.onGateCheck.toSeconds()).toBe(17 * 60 + 30);
    expect(strategy.worstCaseRollbackTime?.toSeconds()).toBe(1050);
    expect(RolloutStrategy.staged({ maxFailuresPerStep: 1, bake: Duration.minutes(1), probeBudget: Duration.seconds(30) }).worstCaseRollbackTime?.toSeconds()).toBe(210);
  });

  test('binds to CodeDeploy\'s all-at-once configuration: the schedule runs inside the hook', () => {
    expect(RolloutStrategy.staged()._bindDeploymentConfig()).toBe(codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE);
    expect(RolloutStrategy.staged().shiftDuration?.toSeconds()).toBe(0);
  });

  test.each([
    ['fails when steps fall', [1, 5, 3, 100], 'strategy (staged) steps must be strictly rising, got: [1,5,3,100]'],
    ['fails when a step repeats', [1, 5, 5, 100], 'strategy (staged) steps must be strictly rising, got: [1,5,5,100]'],
    ['fails when steps do not end at 100', [1, 5, 25, 50], 'strategy (staged) steps must be a schedule ending at 100, got: [1,5,25,50]'],
    ['fails on a fractional step', [1, 2.5, 100], 'strategy (staged) steps must be integers from 1 to 100, got: [1,2.5,100]'],
    ['fails on a step of 0', [0, 50, 100], 'strategy (staged) steps must be integers from 1 to 100, got: [0,50,100]'],
    ['fails on a step over 100', [50, 150], 'strategy (staged) steps must be integers from 1 to 100, got: [50,150]'],
    ['fails on a lone 100 (that is allAtOnce)', [100], 'strategy (staged) steps must be at least two steps, the last 100, got: [100]'],
  ])('%s', (_name, steps, message) => {
    expect(RolloutStrategy.staged({ steps }).validate()).toEqual([message]);
  });

  test.each([
    ['fails on a bake of seconds', { bake: Duration.seconds(90) }, 'strategy (staged) bake must be whole minutes, at least 1, got: 1 minute 30 seconds'],
    ['fails on maxFailuresPerStep of 0', { maxFailuresPerStep: 0 }, 'strategy (staged) maxFailuresPerStep must be an integer from 1 to 10, got: 0'],
    ['fails on an unknown noData action', { noData: { then: 'ignore' as NoDataAction } }, 'strategy (staged) noData.then must be "fail" or "pass", got: "ignore"'],
    ['fails on a noData wait of seconds', { noData: { maxWait: Duration.seconds(30) } }, 'strategy (staged) noData.maxWait must be whole minutes, at least 0, got: 30 seconds'],
    ['fails on noData.minInvocations of 0', { noData: { minInvocations: 0 } }, 'strategy (staged) noData.minInvocations must be an integer from 1 to 1000000, got: 0'],
    ['fails on canaryQuestions of 0', { canaryQuestions: 0 }, 'strategy (staged) canaryQuestions must be an integer from 1 to 10000, got: 0'],
    ['fails on fractional canaryQuestions', { canaryQuestions: 2.5 }, 'strategy (staged) canaryQuestions must be an integer from 1 to 10000, got: 2.5'],
    // Two steps, so that the schedule still fits the hour at this budget (the hour is judged beside the budget's range).
    ['fails on a probe budget over Lambda\'s 15 minutes', { steps: [50, 100], probeBudget: Duration.minutes(16) }, 'strategy (staged) probeBudget must be from 1 second to 15 minutes (Lambda\'s longest timeout), got: 16 minutes'],
  ])('%s', (_name, options, message) => {
    expect(RolloutStrategy.staged(options).validate()).toEqual([message]);
  });

  test('fails when the schedule outlasts the hook limit less the margin, giving the computed duration', () => {
    const strategy = RolloutStrategy.staged({ bake: Duration.minutes(10) });
    expect(strategy.validate()).toEqual([
      'strategy (staged) schedule must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), '
      + 'got: 67 minutes 30 seconds (4 steps below 100 × (probe budget 5 minutes 30 seconds + bake 10 minutes) + a last probe of 5 minutes 30 seconds); shorten bake or probeBudget, or use fewer steps',
    ]);
  });

  test('accepts a schedule of exactly 50 minutes and gives its duration in seconds when it is not whole minutes', () => {
    expect(RolloutStrategy.staged({ steps: [10, 100], bake: Duration.minutes(40), probeBudget: Duration.minutes(5) }).validate()).toEqual([]);
    expect(RolloutStrategy.staged({ steps: [10, 100], bake: Duration.minutes(50), probeBudget: Duration.seconds(90) }).validate()[0])
      .toContain('got: 53 minutes (1 step below 100 × (probe budget 1 minute 30 seconds + bake 50 minutes) + a last probe of 1 minute 30 seconds)');
  });

  test('reports every bad prop together', () => {
    // Falling and not ending at 100 are two problems of the steps, each reported.
    expect(RolloutStrategy.staged({ steps: [5, 1], bake: Duration.seconds(10), maxFailuresPerStep: 11 }).validate()).toHaveLength(4);
  });

  test('counts every step\'s longest wait for data in the hour: the default schedule with a 1-minute noData wait no longer fits', () => {
    expect(RolloutStrategy.staged().scheduleDuration?.toSeconds()).toBe(4 * (330 + 300) + 330);
    const waiting = RolloutStrategy.staged({ noData: { maxWait: Duration.minutes(1), then: NoDataAction.FAIL } });
    expect(waiting.scheduleDuration?.toSeconds()).toBe(4 * (330 + 300 + 60) + 330);
    expect(waiting.validate()).toEqual([
      'strategy (staged) schedule must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), '
      + 'got: 51 minutes 30 seconds (4 steps below 100 × (probe budget 5 minutes 30 seconds + bake 5 minutes + noData.maxWait 1 minute) + a last probe of 5 minutes 30 seconds); shorten bake or probeBudget, or use fewer steps',
    ]);
  });
});
