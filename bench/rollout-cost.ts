// What a default staged rollout's probing costs in invocations of the user's function, walked through the real
// gate function (planStep) with every gate passing: which probe runs the machine makes, and how many questions
// each asks (the probe's plan: every question in every wording and seed, against both versions). Printed by
// `npm run bench:probe` beside the figure of every probe asking the whole gold set, as before the canary questions.
import { INITIAL_PROGRESS } from '../packages/runtime/src/contract/staged';
import { GoldItem } from '../packages/runtime/src/contract/gold-set';
import { planSamples } from '../lambdas/probe/engine';
import { spreadQuestions } from '../lambdas/probe/hook';
import { GateEvent, planStep } from '../lambdas/staged/gate';
import { RolloutStrategy, StagedRolloutStrategy } from '../lib';

/** The questions of each probe run of one rollout that passes every gate (null: the whole gold set). */
export function probeRuns(strategy: StagedRolloutStrategy): Array<number | null> {
  const schedule = strategy._schedule();
  const healthy = { canary: { invocations: 1000, errors: 0, p95Ms: 100 }, control: { invocations: 9000, errors: 1, p95Ms: 100 } };
  let event: GateEvent = {
    deployment: { deploymentId: 'd-cost', lifecycleEventHookExecutionId: 'hook' },
    target: { functionName: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2' },
    config: { schedule, thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 }, alarmNames: [], probeFunctionArn: 'probe' },
    deadline: Number.MAX_SAFE_INTEGER,
    progress: INITIAL_PROGRESS,
    probe: { status: 'Succeeded', reasons: [] },
  };
  // The machine's Init sets the first probe's questions: the whole gold set.
  const runs: Array<number | null> = [null];
  for (let i = 0; i < 1000; i++) {
    const out = planStep(event, { alarms: [], ...healthy, now: 0 });
    if (out.next === 'succeed' || out.next === 'rollback') break;
    if (out.next === 'probe' || out.next === 'recheck') runs.push(out.probeQuestions);
    event = { ...event, progress: out.progress };
  }
  return runs;
}

/** Invocations of the user's function by one probe run asking `limit` questions of `gold` (null: all). */
export const runInvocations = (gold: readonly GoldItem[], seeds: number, limit: number | null) =>
  planSamples(limit === null ? gold : spreadQuestions(gold, limit), seeds).length;

/** The rollout's invocations: the machine's probe runs, and the AfterAllowTraffic hook's run of the whole set at 100 %. */
export function rolloutCost(gold: readonly GoldItem[], seeds: number, strategy: StagedRolloutStrategy = RolloutStrategy.staged()) {
  const runs = probeRuns(strategy);
  const now = runs.reduce<number>((n, limit) => n + runInvocations(gold, seeds, limit), 0) + runInvocations(gold, seeds, null);
  const before = (runs.length + 1) * runInvocations(gold, seeds, null);
  return { runs, now, before };
}
