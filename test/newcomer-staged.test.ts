import { Duration } from 'aws-cdk-lib';
import { GuardedAlias, GuardrailsValidationError, RolloutStrategy } from '../lib';
import { testFunction, testStack } from './util';

const HOUR = 'strategy (staged) schedule must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), got: ';

describe('RolloutStrategy.staged(...).validate() reports every schedule problem together', () => {
  // Falling (50 after 70), not ending at 100, a step out of range (0), a bake of seconds, and 15 steps below
  // the last × (10-minute probe + 30-second bake) + a last probe: 167 minutes 30 seconds, far over the hour.
  const steps = [0, 10, 20, 30, 40, 50, 60, 70, 50, 75, 80, 85, 90, 95, 97, 99];
  const options = { steps, bake: Duration.seconds(30), probeBudget: Duration.minutes(10) };

  test('falling steps, no 100 at the end, a step out of range, a bake too short and the hour exceeded', () => {
    expect(RolloutStrategy.staged(options).validate()).toEqual([
      `strategy (staged) steps must be integers from 1 to 100, got: ${JSON.stringify(steps)}`,
      `strategy (staged) steps must be strictly rising, got: ${JSON.stringify(steps)}`,
      `strategy (staged) steps must be a schedule ending at 100, got: ${JSON.stringify(steps)}`,
      'strategy (staged) bake must be whole minutes, at least 1, got: 30 seconds',
      `${HOUR}167 minutes 30 seconds (15 steps below 100 × (probe budget 10 minutes + bake 30 seconds) + a last probe of 10 minutes); shorten bake or probeBudget, or use fewer steps`,
    ]);
  });

  test('the GuardedAlias error lists them all, with its other props\' problems, in one GuardrailsValidationError', () => {
    const stack = testStack();
    let error: unknown;
    try {
      new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), aliasName: '7', strategy: RolloutStrategy.staged({ ...options, maxFailuresPerStep: 0 }) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuardrailsValidationError);
    const problems = (error as GuardrailsValidationError).problems;
    expect(problems).toHaveLength(7);
    expect((error as Error).message).toMatch(/^GuardedAlias 'TestStack\/Guarded' has 7 invalid props:\n {2}- aliasName must be/);
    for (const what of ['integers from 1 to 100', 'strictly rising', 'ending at 100', 'bake must be whole minutes', 'maxFailuresPerStep must be an integer from 1 to 10, got: 0', HOUR]) {
      expect(problems.filter((p) => p.includes(what))).toHaveLength(1);
    }
  });

  test('the hour is judged beside an out-of-range probe budget, at the budget given', () => {
    expect(RolloutStrategy.staged({ probeBudget: Duration.minutes(16) }).validate()).toEqual([
      'strategy (staged) probeBudget must be from 1 second to 15 minutes (Lambda\'s longest timeout), got: 16 minutes',
      `${HOUR}100 minutes (4 steps below 100 × (probe budget 16 minutes + bake 5 minutes) + a last probe of 16 minutes); shorten bake or probeBudget, or use fewer steps`,
    ]);
  });

  test('the hour is left out when it cannot be computed (a bake that is not a Duration, or of a fraction of a second), and nothing throws', () => {
    expect(RolloutStrategy.staged({ bake: 300 as unknown as Duration, probeBudget: Duration.minutes(15) }).validate())
      .toEqual(['strategy (staged) bake must be a Duration, got: 300']);
    expect(RolloutStrategy.staged({ bake: Duration.millis(1500), probeBudget: Duration.minutes(15) }).validate())
      .toEqual(['strategy (staged) bake must be whole minutes, at least 1, got: 1 second 500 millis']);
  });

  test('a last step out of range is one problem, not also "ending at 100"; a good schedule has none', () => {
    expect(RolloutStrategy.staged({ steps: [50, 150] }).validate()).toEqual(['strategy (staged) steps must be integers from 1 to 100, got: [50,150]']);
    expect(RolloutStrategy.staged({ steps: [1, 10, 100] }).validate()).toEqual([]);
  });
});
