// The probe's engine: plain functions over plain inputs. The one side effect, invoking a version, comes in
// as a function, so the engine runs the same against Lambda, the demo handler in-process, or a stub.
// The probe runtime is imported module by module (not through its index) so the bundle leaves out the
// Bedrock client that only BedrockEmbedder needs.
import { coverage } from 'cdk-rollout-guardrails-runtime';
import { deltaSPairs } from 'cdk-rollout-guardrails-runtime';
import { Embedder } from 'cdk-rollout-guardrails-runtime';
import { GoldItem } from 'cdk-rollout-guardrails-runtime/contract';
import { LambdaState, lambdaState } from 'cdk-rollout-guardrails-runtime';
import { latencyVerdict, LatencyVerdict, percentile } from 'cdk-rollout-guardrails-runtime';
import { ProbeConfig, ProbeGateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { mapBounded, withTimeout } from './pool';
import { extractAnswer, parsePointer, renderRequest } from 'cdk-rollout-guardrails-runtime/contract';

/** Which side of the comparison: the version under test or the one users are on. */
export type Side = 'new' | 'current';

/** What one invocation returned, as the edge reports it. */
export interface InvokeOutcome {
  /** The response payload as text; undefined when there was none. */
  readonly payload?: string;
  /** Lambda's FunctionError (`Unhandled`, ...) when the function failed. */
  readonly functionError?: string;
  /** How long the function ran, in milliseconds (Lambda's reported Duration when available). */
  readonly latencyMs: number;
  /** Whether the invocation started a new execution environment (Lambda reported an Init Duration). */
  readonly cold: boolean;
}

/** Invokes `side` with `request`; rejects on a failed call (throttle, network, permission). */
export type Invoker = (side: Side, request: unknown, signal: AbortSignal) => Promise<InvokeOutcome>;

/** One planned invocation and, once it ran, what came of it. */
export interface Sample {
  readonly item: number;
  /** 0 for the question, 1.. for the paraphrases. */
  readonly text: number;
  readonly seed: number;
  readonly side: Side;
  /** The answer read at the pointer. */
  answer?: string;
  /** Why the response broke the schema. */
  violation?: string;
  /** Why the invocation failed. */
  error?: string;
  latencyMs?: number;
  cold?: boolean;
}

/** Every invocation the probe makes, interleaving the versions so that neither gets the quieter minute. */
export function planSamples(gold: readonly GoldItem[], seeds: number): Sample[] {
  const plan: Sample[] = [];
  gold.forEach((item, i) => {
    for (let text = 0; text <= item.paraphrases.length; text++) {
      for (let seed = 0; seed < seeds; seed++) {
        for (const side of ['new', 'current'] as const) plan.push({ item: i, text, seed, side });
      }
    }
  });
  return plan;
}

/** Options of {@link collectSamples}. */
export interface CollectOptions {
  readonly gold: readonly GoldItem[];
  readonly config: ProbeConfig;
  readonly invoke: Invoker;
  /** Epoch milliseconds after which no new invocation starts. */
  readonly deadline: number;
  /** The clock. @default Date.now */
  readonly now?: () => number;
  /** Stops new invocations when aborted (the hook's watchdog does, once it has reported). */
  readonly signal?: AbortSignal;
}

/** What {@link collectSamples} gathered; `complete` is false when the deadline cut it short. */
export interface Collected {
  readonly samples: Sample[];
  readonly complete: boolean;
}

/**
 * Invokes both versions for every gold question × text × seed, at most `concurrency` at a time, each call
 * cut off at `invokeTimeoutMs`, none started after `deadline`. Never throws for a failed call: the failure
 * is recorded on its sample.
 */
export async function collectSamples(options: CollectOptions): Promise<Collected> {
  const { gold, config, invoke, deadline } = options;
  const now = options.now ?? Date.now;
  const pointer = parsePointer(config.answerPointer);
  const plan = planSamples(gold, config.seeds);
  const texts = gold.map((item) => [item.question, ...item.paraphrases]);
  const done = await mapBounded(plan, config.concurrency, async (sample) => {
    const request = renderRequest(config.requestTemplate, texts[sample.item][sample.text], sample.seed);
    try {
      const outcome = await withTimeout(config.invokeTimeoutMs, (signal) => invoke(sample.side, request, signal));
      sample.latencyMs = outcome.latencyMs;
      sample.cold = outcome.cold;
      if (outcome.functionError) {
        sample.error = `function error ${outcome.functionError}${outcome.payload ? `: ${outcome.payload.slice(0, 120)}` : ''}`;
      } else {
        const extracted = extractAnswer(outcome.payload ?? '', pointer, config.answerPointer);
        if ('answer' in extracted) sample.answer = extracted.answer;
        else sample.violation = extracted.violation;
      }
    } catch (error) {
      sample.error = (error as Error).message ?? String(error);
    }
    return sample;
  }, () => now() >= deadline || options.signal?.aborted === true);
  const samples = done.filter((s): s is Sample => s !== undefined);
  return { samples, complete: samples.length === plan.length };
}

/** The measurements of one version. */
export interface VersionStats {
  readonly version: string;
  readonly answers: number;
  readonly deltaSMedian: number;
  readonly deltaSP95: number;
  readonly coverageMedian: number;
  readonly schemaViolations: number;
  readonly invokeErrors: number;
  /** λ state per gold question id. */
  readonly lambda: Record<string, LambdaState>;
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

/** One gate as judged: what was measured, what it was held to, and the sentence a person reads. */
export interface GateResult {
  readonly gate: string;
  readonly measured: number | null;
  readonly threshold: number;
  readonly passed: boolean;
  readonly reason: string;
}

/** The one JSON report of a probe run. */
export interface ProbeReport {
  readonly report: 'cdk-rollout-guardrails/delta-s-probe';
  readonly verdict: 'pass' | 'fail';
  /** The reasons of every failed gate (empty on a pass). */
  readonly reasons: string[];
  readonly functionName: string;
  readonly alias: string;
  readonly versions: { readonly new: string; readonly current: string };
  readonly plan: { readonly questions: number; readonly texts: number; readonly seeds: number; readonly invocations: number; readonly completed: number };
  readonly gates: GateResult[];
  readonly new: Omit<VersionStats, 'warmLatencies' | 'lambda' | 'questionDeltaS'>;
  readonly current: Omit<VersionStats, 'warmLatencies' | 'lambda' | 'questionDeltaS'>;
  readonly deltaSDrift: number;
  readonly lambdaFlips: Array<{ readonly id: string; readonly current: LambdaState; readonly new: LambdaState }>;
  readonly latency: Omit<LatencyVerdict, 'thresholds'>;
  /** The warm latency samples the judge compared, in milliseconds (0.1 ms), in plan order. */
  readonly latencySamples: { readonly new: number[]; readonly current: number[] };
  /** The gold questions whose new answers drift most from their target, worst first (at most 5). */
  readonly worstQuestions: Array<{ readonly id: string; readonly newDeltaS: number; readonly currentDeltaS: number }>;
  /** The first few schema violations and invoke errors of each version, for a person to read. */
  readonly examples: Array<{ readonly side: Side; readonly id: string; readonly problem: string }>;
  readonly elapsedMs: number;
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
  const lambda: Record<string, LambdaState> = {};
  const questionDeltaS: Record<string, number> = {};
  for (const [item, values] of perQuestion) {
    lambda[gold[item].id] = lambdaState(values);
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
    lambda,
    questionDeltaS,
    warmLatencies: mine.filter((s) => s.error === undefined && s.cold === false && s.latencyMs !== undefined).map((s) => s.latencyMs!),
    coldStarts: mine.filter((s) => s.cold === true).length,
  };
}

const fmt = (x: number | null) => (x === null || !Number.isFinite(x) ? String(x) : String(Number(x.toFixed(3))));

function atMost(gate: string, what: string, measured: number, threshold: number): GateResult {
  const passed = measured <= threshold + 1e-12;
  return { gate, measured, threshold, passed, reason: `${what} ${fmt(measured)} ${passed ? '≤' : '>'} ${fmt(threshold)}` };
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
): { gates: GateResult[]; latency: LatencyVerdict; flips: ProbeReport['lambdaFlips']; drift: number } {
  const drift = fresh.deltaSMedian - current.deltaSMedian;
  const flips = gold
    .filter((item) => fresh.lambda[item.id] !== undefined && current.lambda[item.id] !== undefined && fresh.lambda[item.id] !== current.lambda[item.id])
    .map((item) => ({ id: item.id, current: current.lambda[item.id], new: fresh.lambda[item.id] }));
  const latency = latencyVerdict(fresh.warmLatencies, current.warmLatencies, {
    alpha: gates.latencyAlpha,
    maxP95Ratio: gates.maxLatencyP95Ratio,
    minSamples: gates.latencyMinSamples,
  });
  const coveragePassed = fresh.coverageMedian >= gates.minCoverage - 1e-12;
  const latencyPassed = latency.verdict === 'pass' || (latency.verdict === 'insufficient-data' && !gates.requireLatencyVerdict);
  const results: GateResult[] = [
    {
      gate: 'complete',
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
      gate: 'minCoverage',
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
      gate: 'latency',
      measured: latency.p95Ratio ?? null,
      threshold: gates.maxLatencyP95Ratio,
      passed: latencyPassed,
      reason: `latency judge ${latency.verdict}: ${latency.reason}${latency.verdict === 'insufficient-data' && !gates.requireLatencyVerdict ? ' (not blocking)' : ''}`,
    },
  ];
  return { gates: results, latency, flips, drift };
}

/** Options of {@link runProbe}. */
export interface RunProbeOptions extends CollectOptions {
  readonly functionName: string;
  readonly alias: string;
  readonly versions: { readonly new: string; readonly current: string };
  /** @default - the shared HashedNgramEmbedder */
  readonly embedder?: Embedder;
}

/** Collects, scores and judges: the whole probe, returning its report. Throws only on a bug or a bad config. */
export async function runProbe(options: RunProbeOptions): Promise<ProbeReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const { gold, config } = options;
  const { samples, complete } = await collectSamples(options);
  const distances = await answerDistances(gold, samples, options.embedder);
  const fresh = await scoreVersion(gold, samples, 'new', options.versions.new, options.embedder, distances);
  const current = await scoreVersion(gold, samples, 'current', options.versions.current, options.embedder, distances);
  const planned = planSamples(gold, config.seeds).length;
  const judged = judge(gold, fresh, current, config.gates, complete, planned, samples.length);
  const failed = judged.gates.filter((g) => !g.passed);
  const strip = ({ warmLatencies: _w, lambda: _l, questionDeltaS: _q, ...rest }: VersionStats) => rest;
  const worstQuestions = gold
    .filter((item) => fresh.questionDeltaS[item.id] !== undefined)
    .map((item) => ({ id: item.id, newDeltaS: round(fresh.questionDeltaS[item.id]), currentDeltaS: round(current.questionDeltaS[item.id] ?? NaN) }))
    .sort((a, b) => b.newDeltaS - a.newDeltaS)
    .slice(0, 5);
  const examples = samples
    .filter((s) => s.error !== undefined || s.violation !== undefined)
    .slice(0, 6)
    .map((s) => ({ side: s.side, id: gold[s.item].id, problem: (s.error ?? s.violation)! }));
  const { thresholds: _t, ...latency } = judged.latency;
  return {
    report: 'cdk-rollout-guardrails/delta-s-probe',
    verdict: failed.length === 0 ? 'pass' : 'fail',
    reasons: failed.map((g) => `${g.gate}: ${g.reason}`),
    functionName: options.functionName,
    alias: options.alias,
    versions: options.versions,
    plan: {
      questions: gold.length,
      texts: gold.reduce((n, item) => n + 1 + item.paraphrases.length, 0),
      seeds: config.seeds,
      invocations: planned,
      completed: samples.length,
    },
    gates: judged.gates,
    new: strip(fresh),
    current: strip(current),
    deltaSDrift: judged.drift,
    lambdaFlips: judged.flips,
    latency,
    latencySamples: { new: fresh.warmLatencies.map(tenth), current: current.warmLatencies.map(tenth) },
    worstQuestions,
    examples,
    elapsedMs: now() - started,
  };
}

function tenth(x: number): number {
  return Math.round(x * 10) / 10;
}

function round(x: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(4)) : x;
}

/** One CloudWatch datum of the report. */
export interface ProbeMetric {
  readonly name: string;
  readonly value: number;
  readonly unit: 'None' | 'Count' | 'Milliseconds';
  /** The version the datum is published under (the Version dimension). */
  readonly version: string;
}

/**
 * The report as metrics: each version's own measurements under its Version dimension; the comparisons
 * (drift, flips, latency ratio), every gate threshold (`<gate>Threshold`) and `ProbePassed` (1 or 0) under
 * the new version's. Non-finite values (a median of no samples) are left out: CloudWatch rejects them.
 */
export function reportMetrics(report: ProbeReport): ProbeMetric[] {
  const metrics: ProbeMetric[] = [];
  const add = (name: string, value: number | null | undefined, version: string, unit: ProbeMetric['unit'] = 'None') => {
    if (typeof value === 'number' && Number.isFinite(value)) metrics.push({ name, value, unit, version });
  };
  for (const side of ['new', 'current'] as const) {
    const v = report[side];
    add('DeltaSMedian', v.deltaSMedian, v.version);
    add('DeltaSP95', v.deltaSP95, v.version);
    add('CoverageMedian', v.coverageMedian, v.version);
    add('SchemaViolations', v.schemaViolations, v.version, 'Count');
    add('InvokeErrors', v.invokeErrors, v.version, 'Count');
    add('ColdStarts', v.coldStarts, v.version, 'Count');
  }
  const target = report.versions.new;
  add('LatencyP95', report.latency.p95New, target, 'Milliseconds');
  add('LatencyP95', report.latency.p95Current, report.versions.current, 'Milliseconds');
  add('DeltaSDrift', report.deltaSDrift, target);
  add('LambdaFlips', report.lambdaFlips.length, target, 'Count');
  add('LatencyP95Ratio', report.latency.p95Ratio, target);
  add('LatencyMannWhitneyP', report.latency.test?.p, target);
  for (const gate of report.gates) {
    if (gate.gate === 'complete') continue;
    add(`${gate.gate[0].toUpperCase()}${gate.gate.slice(1)}Threshold`, gate.threshold, target);
  }
  add('ProbePassed', report.verdict === 'pass' ? 1 : 0, target);
  return metrics;
}
