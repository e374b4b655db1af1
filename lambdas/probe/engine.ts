// The probe's engine: plain functions over plain inputs. The one side effect, invoking a version, comes in
// as a function, so the engine runs the same against Lambda, the demo handler in-process, or a stub.
// Collecting lives in samples.ts, scoring and judging in scoring.ts; this module runs them in order, builds
// the report and its metrics, and exports all of it.
import { Embedder } from 'cdk-rollout-guardrails-runtime';
import { LatencyVerdict } from 'cdk-rollout-guardrails-runtime';
import { Check, ProbeStopRules } from 'cdk-rollout-guardrails-runtime/contract';
import { ReuseOptions, ReuseReport, collectReusing } from './reuse';
import { CollectOptions, collectSamples, planSamples, Side } from './samples';
import { answerDistances, judge, LambdaFlip, ParaphraseFlip, scoreVersion, VersionStats } from './scoring';

export * from './samples';
export * from './reuse';
export * from './scoring';

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
  readonly gates: Check[];
  readonly new: ReportedStats;
  readonly current: ReportedStats;
  readonly deltaSDrift: number;
  readonly lambdaFlips: LambdaFlip[];
  /** Median coverage of the new version per topic of the gold set (`(no topic)` for items without one). */
  readonly topicCoverage: Record<string, number>;
  /**
   * The gold questions with at least one wording whose λ state (over its seeds) differs between the versions,
   * in gold-set order; `flipped` names the wordings `question`, `paraphrase 1`, ... (empty with 1 seed: a
   * wording then has no λ state of its own).
   */
  readonly paraphraseFlips: ParaphraseFlip[];
  readonly latency: Omit<LatencyVerdict, 'thresholds'>;
  /** The warm latency samples the judge compared, in milliseconds (0.1 ms), in plan order. */
  readonly latencySamples: { readonly new: number[]; readonly current: number[] };
  /** The gold questions whose new answers drift most from their target, worst first (at most 5). */
  readonly worstQuestions: Array<{ readonly id: string; readonly newDeltaS: number; readonly currentDeltaS: number }>;
  /** The first few schema violations and invoke errors of each version, for a person to read. */
  readonly examples: Array<{ readonly side: Side; readonly id: string; readonly problem: string }>;
  readonly elapsedMs: number;
  /**
   * What reusing the current version's answers did (`reuseCurrentAnswers`); absent when it is off. Reused
   * answers are scored like fresh ones; only invoked samples give latencies.
   */
  readonly reuse?: ReuseReport;
}

/** Options of {@link runProbe}. */
export interface RunProbeOptions extends CollectOptions {
  readonly functionName: string;
  readonly alias: string;
  readonly versions: { readonly new: string; readonly current: string };
  /** @default - the shared HashedNgramEmbedder */
  readonly embedder?: Embedder;
  /** The run's stop rules, judged beside the gates. @default - none */
  readonly stopRules?: ProbeStopRules;
  /** Reuse the current version's recorded answers (see reuse.ts). @default - off: both versions invoked for every sample */
  readonly reuse?: ReuseOptions;
}

/** A version's measurements as the report gives them: without the per-sample and per-question detail. */
export type ReportedStats = Omit<VersionStats, 'warmLatencies' | 'lambdaStates' | 'questionDeltaS' | 'topicCoverage' | 'wordingLambdaStates'>;

/** Collects, scores and judges: the whole probe, returning its report. Throws only on a bug or a bad config. */
export async function runProbe(options: RunProbeOptions): Promise<ProbeReport> {
  const now = options.now ?? Date.now;
  const started = now();
  const { gold, config } = options;
  const { samples, complete, reuse } = options.reuse ? await collectReusing(options, options.reuse) : { ...await collectSamples(options), reuse: undefined };
  const distances = await answerDistances(gold, samples, options.embedder);
  const fresh = await scoreVersion(gold, samples, 'new', options.versions.new, options.embedder, distances);
  const current = await scoreVersion(gold, samples, 'current', options.versions.current, options.embedder, distances);
  const planned = planSamples(gold, config.seeds).length;
  const judged = judge(gold, fresh, current, config.gates, complete, planned, samples.length, options.stopRules);
  const failed = judged.gates.filter((g) => g.passed === false);
  const strip = ({ warmLatencies: _w, lambdaStates: _l, questionDeltaS: _q, topicCoverage: _t, wordingLambdaStates: _s, ...rest }: VersionStats): ReportedStats => rest;
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
    reasons: failed.map((g) => `${g.name}: ${g.reason}`),
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
    topicCoverage: fresh.topicCoverage,
    paraphraseFlips: judged.paraphraseFlips,
    latency,
    latencySamples: { new: fresh.warmLatencies.map(tenth), current: current.warmLatencies.map(tenth) },
    worstQuestions,
    examples,
    elapsedMs: now() - started,
    ...(reuse ? { reuse } : {}),
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
 * (drift, flips, latency ratio), the new version's lowest topic coverage (`MinTopicCoverage`), every gate
 * and stop rule threshold (`<gate>Threshold`) and `ProbePassed` (1 or 0) under the new version's.
 * Non-finite values (a median of no samples) are left out: CloudWatch rejects them.
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
  add('MinTopicCoverage', Math.min(...Object.values(report.topicCoverage)), target);
  add('LambdaFlips', report.lambdaFlips.length, target, 'Count');
  add('LatencyP95Ratio', report.latency.p95Ratio, target);
  add('LatencyMannWhitneyP', report.latency.test?.p, target);
  for (const gate of report.gates) {
    if (gate.name === 'complete') continue;
    add(`${gate.name[0].toUpperCase()}${gate.name.slice(1)}Threshold`, typeof gate.threshold === 'number' ? gate.threshold : null, target);
  }
  add('ProbePassed', report.verdict === 'pass' ? 1 : 0, target);
  return metrics;
}
