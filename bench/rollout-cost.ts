// What a default staged rollout's probing costs in invocations of the user's function, walked through the real
// gate function (planStep) with every gate passing: which probe runs the machine makes, and how many questions
// each asks (the probe's plan: every question in every wording and seed, against both versions). Printed by
// `npm run bench:probe` beside the figure of every probe asking the whole gold set, as before the canary questions,
// and the figure with the probe's reuseCurrentAnswers, counted by running the real reuse code (collectReusing)
// over the same runs against a counting stand-in of the function and an in-memory answer table.
import { INITIAL_PROGRESS } from '../packages/runtime/src/contract/staged';
import { GoldItem } from '../packages/runtime/src/contract/gold-set';
import { AnswerStore, collectReusing, latencySampleSize, planSamples, RecordedQuestion } from '../lambdas/probe/engine';
import { spreadQuestions } from '../lambdas/probe/hook';
import { GateEvent, planStep } from '../lambdas/staged/gate';
import { RolloutStrategy, StagedRolloutStrategy } from '../lib';
import { DEFAULT_PROBE_CONFIG } from './probe-defaults';

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

/**
 * The rollout's invocations with `reuseCurrentAnswers`: the same runs, each collected by the real reuse code under
 * one deployment id (the AfterAllowTraffic hook's run at 100 % last), the function a stand-in that answers the same
 * for a seed, the answer table in memory. Returns the count and the formula's figure, which must agree:
 * 2n(Q) for the first run, then n(q) + m(n(q)) for each later run, with n(q) = S × W × q samples a version and
 * m(n) = min(n, max(L, ceil(n / 4))) the current version's latency sample.
 */
export async function reuseCost(gold: readonly GoldItem[], seeds: number, strategy: StagedRolloutStrategy = RolloutStrategy.staged()) {
  const config = { ...DEFAULT_PROBE_CONFIG, seeds, concurrency: 64, reuseCurrentAnswers: true };
  const items = new Map<string, RecordedQuestion>();
  const store: AnswerStore = {
    read: async (_scope, ids) => ids.flatMap((id) => (items.has(id) ? [items.get(id)!] : [])),
    write: async (_scope, questions) => { for (const q of questions) items.set(q.id, q); return { notStored: 0 }; },
  };
  const scope = { deploymentId: 'd-COST00000', functionName: 'fn', alias: 'live', currentVersion: '1' };
  let invocations = 0;
  const invoke = async (_side: string, request: any) => {
    invocations++;
    return { payload: JSON.stringify({ answer: `answer to ${request.question} with seed ${request.seed}` }), latencyMs: 20, cold: false };
  };
  const runs = [...probeRuns(strategy), null];
  for (const limit of runs) {
    const asked = limit === null ? gold : spreadQuestions(gold, limit);
    await collectReusing({ gold: asked, config, invoke, deadline: Number.MAX_SAFE_INTEGER }, { store, scope });
  }
  const n = (limit: number | null) => runInvocations(gold, seeds, limit) / 2;
  const formula = runs.reduce<number>((sum, limit, i) => sum + (i === 0 ? 2 * n(limit) : n(limit) + latencySampleSize(n(limit), config.gates.latencyMinSamples)), 0);
  return { invocations, formula };
}
