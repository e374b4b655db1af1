// Scoring and judging the samples: each version's measurements against the gold set (ΔS, coverage, λ states,
// warm latencies), and the gates that decide the verdict.
import { coverage } from 'cdk-rollout-guardrails-runtime';
import { deltaSPairs } from 'cdk-rollout-guardrails-runtime';
import { Embedder } from 'cdk-rollout-guardrails-runtime';
import { Check, GoldItem } from 'cdk-rollout-guardrails-runtime/contract';
import { LambdaState, lambdaState } from 'cdk-rollout-guardrails-runtime';
import { latencyVerdict, LatencyVerdict, percentile } from 'cdk-rollout-guardrails-runtime';
import { ProbeGateConfig, ProbeStopRules } from 'cdk-rollout-guardrails-runtime/contract';
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
  /** Median coverage per topic of the gold set (`NO_TOPIC` for items without one), over this version's samples. */
  readonly topicCoverage: Record<string, number>;
  /**
   * Per gold question id, the λ state of each wording (index 0 the question, 1.. the paraphrases) over that
   * wording's seeds in seed order; null for a wording with fewer than 2 samples (one seed, or cut short), which
   * has no λ state of its own: lambdaState of a single value is always convergent.
   */
  readonly wordingLambdaStates: Record<string, Array<LambdaState | null>>;
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

/** A gold question some of whose wordings change λ state between the versions. */
export interface ParaphraseFlip {
  readonly id: string;
  /** The wordings that flipped, as `wordingLabel` names them (`question`, `paraphrase 1`, ...), in gold-set order. */
  readonly flipped: string[];
}

/** The topic of the gold items that have none, in `topicCoverage` and the `minTopicCoverage` check. */
export const NO_TOPIC = '(no topic)';

/** How a wording of a gold question is named in reports: `question` for index 0, `paraphrase <n>` for the n-th paraphrase. */
export const wordingLabel = (text: number) => (text === 0 ? 'question' : `paraphrase ${text}`);

const median = (values: readonly number[]) => (values.length > 0 ? percentile(values, 0.5) : NaN);

/** Appends `value` to the list under `key`. */
function push<K, V>(groups: Map<K, V[]>, key: K, value: V): void {
  const list = groups.get(key);
  if (list) list.push(value);
  else groups.set(key, [value]);
}

/**
 * Scores one version's samples against the gold set. An answer is scored by ΔS(answer, target) and
 * coverage(answer, target); an invocation that failed or broke the schema scores ΔS 1 and coverage 0 (it
 * answered nothing) as well as being counted. A question's λ state is taken over its samples in plan order
 * (question, then each paraphrase; seeds within each); each wording's over its own samples in seed order, when
 * it has at least 2. Coverage is also taken per topic (the median of the topic's samples).
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
  const perWording: Array<Map<number, Array<{ seed: number; deltaS: number }>>> = [];
  const perTopic = new Map<string, number[]>();
  mine.forEach((s, i) => {
    push(perQuestion, s.item, deltaS[i]);
    perWording[s.item] ??= new Map();
    push(perWording[s.item], s.text, { seed: s.seed, deltaS: deltaS[i] });
    push(perTopic, gold[s.item].topic ?? NO_TOPIC, cover[i]);
  });
  const lambdaStates: Record<string, LambdaState> = {};
  const questionDeltaS: Record<string, number> = {};
  const wordingLambdaStates: Record<string, Array<LambdaState | null>> = {};
  for (const [item, values] of perQuestion) {
    lambdaStates[gold[item].id] = lambdaState(values);
    questionDeltaS[gold[item].id] = median(values);
    wordingLambdaStates[gold[item].id] = [gold[item].question, ...gold[item].paraphrases].map((_, text) => {
      const seeds = [...(perWording[item].get(text) ?? [])].sort((a, b) => a.seed - b.seed);
      return seeds.length >= 2 ? lambdaState(seeds.map((x) => x.deltaS)) : null;
    });
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
    topicCoverage: Object.fromEntries([...perTopic].map(([topic, values]) => [topic, median(values)])),
    wordingLambdaStates,
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
 *
 * and then the run's stop rules (`stopRules`), one check for each rule given (see {@link judgeStopRules}).
 */
export function judge(
  gold: readonly GoldItem[],
  fresh: VersionStats,
  current: VersionStats,
  gates: ProbeGateConfig,
  complete: boolean,
  planned: number,
  completed: number,
  stopRules: ProbeStopRules = {},
): { gates: Check[]; latency: LatencyVerdict; flips: LambdaFlip[]; drift: number; paraphraseFlips: ParaphraseFlip[] } {
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
  const stop = judgeStopRules(gold, fresh, current, stopRules);
  return { gates: [...results, ...stop.checks], latency, flips, drift, paraphraseFlips: stop.paraphraseFlips };
}

/** How many questions (or topics) a stop rule's reason lists. */
const LISTED = 5;

/**
 * Judges a run's stop rules; `paraphraseFlips` is found whether or not its rule is given (the report lists it).
 * - `minTopicCoverage`: the lowest median coverage of the new version within one topic (`topicCoverage`; items
 *   without a topic are the topic `NO_TOPIC`) ≥ threshold; the reason names the lowest topic(s), and on a
 *   failure every topic below the threshold (at most 5). Not judged (passed null) when the new version has no
 *   samples.
 * - `maxParaphraseFlips`: the most wordings of one gold question whose λ state differs between the versions
 *   ≤ threshold. A wording's λ state is taken over its seeds (`wordingLambdaStates`), so it needs at least 2
 *   seeds: a wording asked once has no state and cannot flip (lambdaState of one value is always convergent,
 *   so comparing those would always say "no flip"). When no wording has a state in both versions (a probe of
 *   1 seed), the check is not judged: measured null, passed null, and the reason says so. The reason names the
 *   questions with the most flipped wordings (at most 5) and each flipped wording's states.
 */
export function judgeStopRules(
  gold: readonly GoldItem[],
  fresh: VersionStats,
  current: VersionStats,
  rules: ProbeStopRules,
): { checks: Check[]; paraphraseFlips: ParaphraseFlip[] } {
  const checks: Check[] = [];
  const flips = gold.flatMap((item) => {
    const mine = fresh.wordingLambdaStates[item.id] ?? [];
    const theirs = current.wordingLambdaStates[item.id] ?? [];
    const wordings = mine.flatMap((state, text) => (state !== null && theirs[text] != null && state !== theirs[text]
      ? [{ label: wordingLabel(text), current: theirs[text]!, new: state }]
      : []));
    return wordings.length > 0 ? [{ id: item.id, wordings }] : [];
  });
  if (rules.minTopicCoverage !== undefined) {
    const threshold = rules.minTopicCoverage;
    const topics = Object.entries(fresh.topicCoverage).sort((a, b) => a[1] - b[1]);
    const of = `of ${topics.length} topic${topics.length === 1 ? '' : 's'}`;
    const named = (list: Array<[string, number]>) => list.slice(0, LISTED).map(([topic, value]) => `"${topic}" ${fmt(value)}`).join(', ')
      + (list.length > LISTED ? ', ...' : '');
    if (topics.length === 0) {
      checks.push({ name: 'minTopicCoverage', measured: null, threshold, passed: null, reason: 'not judged: no samples of the new version' });
    } else {
      const lowest = topics[0][1];
      const passed = lowest >= threshold - 1e-12;
      const worst = topics.filter(([, value]) => value === lowest);
      const below = topics.filter(([, value]) => value < threshold - 1e-12);
      const more = below.length > worst.length ? `; ${below.length} ${of} below: ${named(below)}` : '';
      checks.push({
        name: 'minTopicCoverage',
        measured: lowest,
        threshold,
        passed,
        reason: `coverage of topic${worst.length === 1 ? '' : 's'} ${worst.slice(0, LISTED).map(([topic]) => `"${topic}"`).join(', ')}${worst.length > LISTED ? ', ...' : ''} `
          + `${fmt(lowest)} ${passed ? '≥' : '<'} ${fmt(threshold)} (lowest ${of}${more})`,
      });
    }
  }
  if (rules.maxParaphraseFlips !== undefined) {
    const threshold = rules.maxParaphraseFlips;
    const judged = gold.some((item) => (fresh.wordingLambdaStates[item.id] ?? [])
      .some((state, text) => state !== null && current.wordingLambdaStates[item.id]?.[text] != null));
    if (!judged) {
      checks.push({
        name: 'maxParaphraseFlips',
        measured: null,
        threshold,
        passed: null,
        reason: 'not judged: no wording has a λ state in both versions; per-wording λ needs ≥ 2 seeds (λ of a single value is always convergent)',
      });
    } else {
      const worst = [...flips].sort((a, b) => b.wordings.length - a.wordings.length);
      const measured = worst[0]?.wordings.length ?? 0;
      const listed = worst.slice(0, LISTED).map((f) => `${f.id}: ${f.wordings.map((w) => `${w.label} ${w.current} → ${w.new}`).join(', ')}`);
      const counted = atMost('maxParaphraseFlips', 'most wordings of one gold question whose λ flips', measured, threshold);
      checks.push({
        ...counted,
        reason: counted.reason + (listed.length > 0 ? ` (${listed.join('; ')}${worst.length > LISTED ? `; ... ${worst.length} questions in all` : ''})` : ''),
      });
    }
  }
  return { checks, paraphraseFlips: flips.map((f) => ({ id: f.id, flipped: f.wordings.map((w) => w.label) })) };
}
