// Scoring and judging the samples: each version's measurements against the gold set (ΔS, coverage, λ states,
// warm latencies), and the gates that decide the verdict.
import { coverage } from 'cdk-rollout-guardrails-runtime';
import { deltaSPairs } from 'cdk-rollout-guardrails-runtime';
import { Embedder } from 'cdk-rollout-guardrails-runtime';
import { Check, GoldItem } from 'cdk-rollout-guardrails-runtime/contract';
import { LambdaState, lambdaState } from 'cdk-rollout-guardrails-runtime';
import { latencyVerdict, LatencyVerdict, percentile } from 'cdk-rollout-guardrails-runtime';
import { ProbeGateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { Sample, Side } from './samples';

/** The measurements of one version. */
export interface VersionStats {
  readonly version: string;
  readonly answers: number;
  readonly deltaSMedian: number;
  readonly deltaSP95: number;
  readonly coverageMedian: number;
  readonly schemaViolations: number;
  readonly invokeErrors: number;
  /** λ state (convergent, recursive, divergent, chaotic) per gold question id. */
  readonly lambdaStates: Record<string, LambdaState>;
  /** Per gold question id, the median ΔS over its texts and seeds. */
  readonly questionDeltaS: Record<string, number>;
  /** Latencies of warm invocations (ms). */
  readonly warmLatencies: number[];
  /** Invocations that started a new execution environment (left out of the latency judge). */
  readonly coldStarts: number;
}

/**
 * ΔS(answer, target) of every answered sample, in one `deltaSPairs` call, so that a target shared by both
 * versions (and an answer both give) is embedded once.
 */
export async function answerDistances(gold: readonly GoldItem[], samples: readonly Sample[], embedder?: Embedder): Promise<Map<Sample, number>> {
  const answered = samples.filter((s) => s.answer !== undefined);
  const distances = await deltaSPairs(answered.map((s) => [s.answer!, gold[s.item].target] as const), { embedder });
  return new Map(answered.map((s, i) => [s, distances[i]]));
}

/** A gold question whose λ state differs between the versions. */
export interface LambdaFlip {
  readonly id: string;
  readonly current: LambdaState;
  readonly new: LambdaState;
}

const median = (values: readonly number[]) => (values.length > 0 ? percentile(values, 0.5) : NaN);

/**
 * Scores one version's samples against the gold set. An answer is scored by ΔS(answer, target) and
 * coverage(answer, target); an invocation that failed or broke the schema scores ΔS 1 and coverage 0 (it
 * answered nothing) as well as being counted. A question's λ state is taken over its samples in plan order
 * (question, then each paraphrase; seeds within each).
 */
export async function scoreVersion(
  gold: readonly GoldItem[],
  samples: readonly Sample[],
  side: Side,
  version: string,
  embedder?: Embedder,
  distances?: ReadonlyMap<Sample, number>,
): Promise<VersionStats> {
  const mine = samples.filter((s) => s.side === side);
  const byAnswer = distances ?? await answerDistances(gold, mine, embedder);
  const deltaS = mine.map((s) => byAnswer.get(s) ?? 1);
  const cover = mine.map((s) => (s.answer !== undefined ? coverage(s.answer, gold[s.item].target) : 0));
  const perQuestion = new Map<number, number[]>();
  mine.forEach((s, i) => {
    const list = perQuestion.get(s.item) ?? [];
    list.push(deltaS[i]);
    perQuestion.set(s.item, list);
  });
  const lambdaStates: Record<string, LambdaState> = {};
  const questionDeltaS: Record<string, number> = {};
  for (const [item, values] of perQuestion) {
    lambdaStates[gold[item].id] = lambdaState(values);
    questionDeltaS[gold[item].id] = median(values);
  }
  return {
    version,
    answers: mine.filter((s) => s.answer !== undefined).length,
    deltaSMedian: median(deltaS),
    deltaSP95: deltaS.length > 0 ? percentile(deltaS, 0.95) : NaN,
    coverageMedian: median(cover),
    schemaViolations: mine.filter((s) => s.violation !== undefined).length,
    invokeErrors: mine.filter((s) => s.error !== undefined).length,
    lambdaStates,
    questionDeltaS,
    warmLatencies: mine.filter((s) => s.error === undefined && s.cold === false && s.latencyMs !== undefined).map((s) => s.latencyMs!),
    coldStarts: mine.filter((s) => s.cold === true).length,
  };
}

const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? String(x) : String(Number(x.toFixed(3))));

function atMost(name: string, what: string, measured: number, threshold: number): Check {
  const passed = measured <= threshold + 1e-12;
  return { name, measured, threshold, passed, reason: `${what} ${fmt(measured)} ${passed ? '≤' : '>'} ${fmt(threshold)}` };
}

/**
 * Judges the gates. The probe passes only when every gate passes and every planned invocation ran:
 * - `maxDeltaS`: median ΔS of the new version ≤ threshold;
 * - `maxDeltaSDrift`: new median ΔS − current median ΔS ≤ threshold;
 * - `minCoverage`: median coverage of the new version ≥ threshold;
 * - `maxLambdaFlips`: questions whose λ state differs between the versions ≤ threshold;
 * - `maxSchemaViolations`, `maxInvokeErrors`: counts of the new version (the current version's are reported
 *   but do not block, so that a fix for a failing version can still ship);
 * - `latency`: the latency judge on warm samples; `insufficient-data` passes unless `requireLatencyVerdict`.
 */
export function judge(
  gold: readonly GoldItem[],
  fresh: VersionStats,
  current: VersionStats,
  gates: ProbeGateConfig,
  complete: boolean,
  planned: number,
  completed: number,
): { gates: Check[]; latency: LatencyVerdict; flips: LambdaFlip[]; drift: number } {
  const drift = fresh.deltaSMedian - current.deltaSMedian;
  const flips = gold
    .filter((item) => fresh.lambdaStates[item.id] !== undefined && current.lambdaStates[item.id] !== undefined && fresh.lambdaStates[item.id] !== current.lambdaStates[item.id])
    .map((item) => ({ id: item.id, current: current.lambdaStates[item.id], new: fresh.lambdaStates[item.id] }));
  const latency = latencyVerdict(fresh.warmLatencies, current.warmLatencies, {
    alpha: gates.latencyAlpha,
    maxP95Ratio: gates.maxLatencyP95Ratio,
    minSamples: gates.latencyMinSamples,
  });
  const coveragePassed = fresh.coverageMedian >= gates.minCoverage - 1e-12;
  const latencyPassed = latency.verdict === 'pass' || (latency.verdict === 'insufficient-data' && !gates.requireLatencyVerdict);
  const results: Check[] = [
    {
      name: 'complete',
      measured: completed,
      threshold: planned,
      passed: complete,
      reason: complete
        ? `all ${planned} invocations ran`
        : `only ${completed} of ${planned} invocations ran before the time budget ran out`,
    },
    atMost('maxDeltaS', 'median ΔS of the new version', fresh.deltaSMedian, gates.maxDeltaS),
    atMost('maxDeltaSDrift', 'ΔS drift (new median − current median)', drift, gates.maxDeltaSDrift),
    {
      name: 'minCoverage',
      measured: fresh.coverageMedian,
      threshold: gates.minCoverage,
      passed: coveragePassed,
      reason: `median coverage of the new version ${fmt(fresh.coverageMedian)} ${coveragePassed ? '≥' : '<'} ${fmt(gates.minCoverage)}`,
    },
    {
      ...atMost('maxLambdaFlips', 'λ flips', flips.length, gates.maxLambdaFlips),
      reason: `λ flips ${flips.length} ${flips.length <= gates.maxLambdaFlips ? '≤' : '>'} ${gates.maxLambdaFlips}${flips.length > 0
        ? ` (${flips.slice(0, 5).map((f) => `${f.id}: ${f.current} → ${f.new}`).join(', ')}${flips.length > 5 ? ', ...' : ''})`
        : ''}`,
    },
    atMost('maxSchemaViolations', 'schema violations of the new version', fresh.schemaViolations, gates.maxSchemaViolations),
    atMost('maxInvokeErrors', 'invoke errors of the new version', fresh.invokeErrors, gates.maxInvokeErrors),
    {
      name: 'latency',
      measured: latency.p95Ratio ?? null,
      threshold: gates.maxLatencyP95Ratio,
      passed: latencyPassed,
      reason: `latency judge ${latency.verdict}: ${latency.reason}${latency.verdict === 'insufficient-data' && !gates.requireLatencyVerdict ? ' (not blocking)' : ''}`,
    },
  ];
  return { gates: results, latency, flips, drift };
}
