import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { GuardedAlias, RolloutStrategy, StagedRolloutStrategy, StepStopRules } from '../lib';
import { testFunction, testStack } from './util';
import { planStep } from '../lambdas/staged/gate';
import { INITIAL_PROGRESS, StagedAliasConfig, stopRulesAt } from '../packages/runtime/src/contract/staged';

// The seed's per-stage hard stops (canary_release_serverless.md, "Rollout stages and hard stops") as the staged
// schedule's stop rules: each in force from its step on, judged by the probe run at that weight.

describe('RolloutStrategy.staged stopRules', () => {
  test('default to the seed\'s: a new error class from 1 %, topic coverage ≥ 0.70 from 5 %, at most one paraphrase flip per question from 50 %', () => {
    const seed = [{ fromStep: 1, newErrorClass: true }, { fromStep: 5, minTopicCoverage: 0.7 }, { fromStep: 50, maxParaphraseFlips: 1 }];
    expect(StagedRolloutStrategy.DEFAULT_STOP_RULES).toEqual(seed);
    expect(RolloutStrategy.staged().stopRules).toEqual(StagedRolloutStrategy.DEFAULT_STOP_RULES);
    expect(RolloutStrategy.staged()._schedule().stopRules).toEqual(seed);
  });

  test('keep only the default rules some step below 100 reaches', () => {
    expect(RolloutStrategy.staged({ steps: [10, 100] }).stopRules).toEqual([{ fromStep: 1, newErrorClass: true }, { fromStep: 5, minTopicCoverage: 0.7 }]);
    expect(RolloutStrategy.staged({ steps: [1, 100] }).stopRules).toEqual([{ fromStep: 1, newErrorClass: true }]);
    expect(RolloutStrategy.staged({ steps: [10, 60, 100] }).stopRules).toHaveLength(3);
  });

  test('a list given replaces the defaults; [] turns them off', () => {
    const rules: StepStopRules[] = [{ fromStep: 1, minTopicCoverage: 0.8, maxParaphraseFlips: 0 }];
    expect(RolloutStrategy.staged({ stopRules: rules })._schedule().stopRules).toEqual(rules);
    expect(RolloutStrategy.staged({ stopRules: [] })._schedule().stopRules).toEqual([]);
    expect(RolloutStrategy.staged({ stopRules: rules }).validate()).toEqual([]);
  });

  test('every bad rule is reported together, naming the entry, the field and the value', () => {
    const problems = RolloutStrategy.staged({
      steps: [1, 5, 25, 100],
      stopRules: [
        { fromStep: 0, minTopicCoverage: 1.5 },
        { fromStep: 5, maxParaphraseFlips: -1 },
        { fromStep: 5, maxParaphraseFlips: 0.5 },
        { fromStep: 5 },
        { fromStep: 50, minTopicCoverage: 0.7 },
        { fromStep: 5, minTopicCoverage: 0.7, maxFlips: 1 } as unknown as StepStopRules,
        { minTopicCoverage: 0.7 } as unknown as StepStopRules,
        'often' as unknown as StepStopRules,
      ],
    }).validate();
    expect(problems).toEqual([
      'strategy (staged) stopRules[0].fromStep must be an integer from 1 to 99, got: 0',
      'strategy (staged) stopRules[0].minTopicCoverage must be a number at least 0 and at most 1, got: 1.5',
      'strategy (staged) stopRules[1].maxParaphraseFlips must be an integer from 0 to 1000, got: -1',
      'strategy (staged) stopRules[2].maxParaphraseFlips must be an integer from 0 to 1000, got: 0.5',
      'strategy (staged) stopRules[3] must be a rule with minTopicCoverage, maxParaphraseFlips or newErrorClass: true (it judges nothing), got: {"fromStep":5}',
      'strategy (staged) stopRules[4].fromStep must be at most the highest step below 100 (25 in [1,5,25,100]), or the rule is never judged, got: 50',
      'strategy (staged) stopRules[5].maxFlips must be one of fromStep, minTopicCoverage, maxParaphraseFlips, newErrorClass (unknown key), got: "maxFlips"',
      'strategy (staged) stopRules[6].fromStep must be an integer from 1 to 99 (required), got: undefined',
      'strategy (staged) stopRules[7] must be an object { fromStep, minTopicCoverage?, maxParaphraseFlips?, newErrorClass? }, got: "often"',
    ]);
    expect(RolloutStrategy.staged({ stopRules: 'strict' as unknown as StepStopRules[] }).validate())
      .toEqual(['strategy (staged) stopRules must be a list of { fromStep, minTopicCoverage?, maxParaphraseFlips?, newErrorClass? }, got: "strict"']);
  });
});

test('probe rules given for an alias without a probe draw a warning naming them; the defaults and the gate\'s own rule do not', () => {
  const stack = testStack();
  new GuardedAlias(stack, 'Given', { function: testFunction(stack, 'GivenFn'), strategy: RolloutStrategy.staged({ stopRules: [{ fromStep: 5, minTopicCoverage: 0.8 }] }) });
  new GuardedAlias(stack, 'Defaults', { function: testFunction(stack, 'DefaultsFn') });
  new GuardedAlias(stack, 'GateOnly', { function: testFunction(stack, 'GateOnlyFn'), strategy: RolloutStrategy.staged({ stopRules: [{ fromStep: 1, newErrorClass: true }] }) });
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('stopRulesWithoutProbe'));
  expect(warnings.map((w) => w.id)).toEqual(['/TestStack/Given/Alias']);
  expect(JSON.stringify(warnings[0].entry.data)).toContain('minTopicCoverage or maxParaphraseFlips');
});

describe('the rules a probe run judges at a weight', () => {
  const rules = [{ fromStep: 5, minTopicCoverage: 0.7 }, { fromStep: 25, minTopicCoverage: 0.8 }, { fromStep: 50, maxParaphraseFlips: 1 }, { fromStep: 50, maxParaphraseFlips: 2 }];

  test('are those in force there, each at its strictest; none before the first rule\'s step', () => {
    expect(stopRulesAt(rules, 0)).toBeNull();
    expect(stopRulesAt(rules, 1)).toBeNull();
    expect(stopRulesAt(rules, 5)).toEqual({ minTopicCoverage: 0.7 });
    expect(stopRulesAt(rules, 25)).toEqual({ minTopicCoverage: 0.8 });
    expect(stopRulesAt(rules, 50)).toEqual({ minTopicCoverage: 0.8, maxParaphraseFlips: 1 });
    expect(stopRulesAt([], 50)).toBeNull();
  });

  test('the gate function hands the next probe the rules of the weight its decision leaves', () => {
    const config: StagedAliasConfig = {
      schedule: {
        steps: [1, 5, 25, 50, 100], bakeSeconds: 60, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
        probeBudgetSeconds: 60, recheckSeconds: 60, canaryQuestions: 10, stopRules: RolloutStrategy.staged()._schedule().stopRules,
      },
      thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.25, maxErrorRate: 0.01 },
      alarmNames: [],
    };
    // The machine's walk through a healthy rollout: each 'probe' decision (the end of a bake) is followed by a
    // probe run at the weight it leaves, with the rules it names.
    let now = Date.UTC(2026, 0, 1, 12);
    let progress = INITIAL_PROGRESS;
    const probed: Array<[number, unknown]> = [];
    for (let i = 0; i < 100; i++) {
      const out = planStep({
        deployment: { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1' },
        target: { functionName: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2' },
        config,
        deadline: now + 3_600_000,
        progress,
        probe: { status: 'Succeeded', reasons: [] },
      }, { alarms: [], canary: { invocations: 500, errors: 0, p95Ms: 100 }, control: { invocations: 5000, errors: 1, p95Ms: 100 }, now });
      if (out.next === 'probe') probed.push([out.weight, out.probeStopRules]);
      if (out.next === 'succeed' || out.next === 'rollback') break;
      now += out.waitSeconds * 1000 + (out.next === 'probe' ? 60_000 : 0);
      progress = out.progress;
    }
    expect(probed).toEqual([
      [1, null],
      [5, { minTopicCoverage: 0.7 }],
      [25, { minTopicCoverage: 0.7 }],
      [50, { minTopicCoverage: 0.7, maxParaphraseFlips: 1 }],
    ]);
  });
});
