// Shared by the DeltaSProbe construct (which validates and writes it at synth) and the probe handler
// (lambdas/probe, which esbuild bundles with it). It lives under lib/ because only dist/lib and
// dist/lambdas/runtime are published: the construct must be able to require it. It imports nothing but
// a type (erased when compiled).
import type { WarmGateConfig } from './warmup.js';

/**
 * The probe's configuration, written by the DeltaSProbe construct at synth into `probe-config.json` beside
 * the bundled handler (with the gold set as `gold-set.jsonl`), and read by the handler at cold start.
 * Plain data only: this file is shared by lib/ (which writes it) and the handler (which reads it).
 */
export interface ProbeGateConfig {
  /** Largest allowed median ΔS(answer, target) of the new version. */
  readonly maxDeltaS: number;
  /** Largest allowed new median ΔS minus current median ΔS. */
  readonly maxDeltaSDrift: number;
  /** Smallest allowed median coverage of the new version. */
  readonly minCoverage: number;
  /** Most gold questions allowed to change λ state between the versions. */
  readonly maxLambdaFlips: number;
  /** Most answers of the new version allowed to break the response schema (no string at the pointer). */
  readonly maxSchemaViolations: number;
  /** Most failed invocations of the new version allowed (function errors, throttles, timeouts). */
  readonly maxInvokeErrors: number;
  /** Largest tolerated p95(new) / p95(current) of warm latency (the latency judge's effect size). */
  readonly maxLatencyP95Ratio: number;
  /** Significance level of the latency judge's one-sided Mann-Whitney test. */
  readonly latencyAlpha: number;
  /** Fewest warm samples per version the latency judge needs to decide. */
  readonly latencyMinSamples: number;
  /** Whether too few warm samples fails the probe (true) or only notes it in the report (false). */
  readonly requireLatencyVerdict: boolean;
}

/**
 * Stop rules one probe run judges besides its gates: the staged schedule's rules for the step being judged.
 * A direct run of the probe takes them (`stopRules` in its event); each rule given adds one check of that name
 * to the report's gates, and a rule left out adds none.
 */
export interface ProbeStopRules {
  /** Smallest allowed median coverage of the new version within any one topic of the gold set. */
  readonly minTopicCoverage?: number;
  /** Most wordings (the question and each paraphrase) of any one gold question whose λ state may differ between the versions. */
  readonly maxParaphraseFlips?: number;
}

/** Which embedder scores the answers: the offline hashed one, or an Amazon Bedrock model. */
export type ProbeEmbedderConfig =
  | { readonly kind: 'hashed' }
  | { readonly kind: 'bedrock'; readonly modelId: string; readonly dimensions?: number };

/** Everything the probe needs besides the gold set. */
export interface ProbeConfig {
  /** The embedder for ΔS; absent means the hashed one (configurations written before it existed). */
  readonly embedder?: ProbeEmbedderConfig;
  /** The request sent to the function: any JSON value; `{{question}}` and `{{seed}}` are filled in. */
  readonly requestTemplate: unknown;
  /** RFC 6901 JSON pointer to the answer string in the function's response. */
  readonly answerPointer: string;
  /** Seeds per question text (0, 1, ...). */
  readonly seeds: number;
  /** Invocations in flight at once, both versions together. */
  readonly concurrency: number;
  /** Longest one invocation may take before it counts as an invoke error, in milliseconds. */
  readonly invokeTimeoutMs: number;
  /** Longest the whole probe may take, in milliseconds (the handler also keeps a reserve of its own time). */
  readonly budgetMs: number;
  /** CloudWatch namespace of the probe's metrics. */
  readonly metricNamespace: string;
  /** The gates the verdict is judged by. */
  readonly gates: ProbeGateConfig;
  /**
   * Whether the current version's answers are recorded in the probe's answer table and read back by later runs
   * of the same deployment instead of invoking it again (DeltaSProbe `reuseCurrentAnswers`). Absent: off.
   */
  readonly reuseCurrentAnswers?: boolean;
}

/** The defaults: the field guides' acceptance targets. */
export const DEFAULT_PROBE_GATES: ProbeGateConfig = {
  maxDeltaS: 0.45,
  maxDeltaSDrift: 0.03,
  minCoverage: 0.7,
  maxLambdaFlips: 0,
  maxSchemaViolations: 0,
  maxInvokeErrors: 0,
  maxLatencyP95Ratio: 1.25,
  latencyAlpha: 0.05,
  latencyMinSamples: 20,
  requireLatencyVerdict: false,
};

/**
 * The probe function's environment variable holding per-alias gate overrides: a JSON object keyed
 * `<function name>:<alias>` (deploy-time names, hence the environment rather than the asset), each value a
 * partial ProbeGateConfig.
 */
export const PROBE_GATE_OVERRIDES_ENV = 'GUARDRAILS_PROBE_GATE_OVERRIDES';

/**
 * The gates for one alias: the probe's, with the alias's overrides from `overridesJson` (the value of
 * PROBE_GATE_OVERRIDES_ENV) on top. Only known gate names with finite numbers are taken.
 */
export function gatesForAlias(gates: ProbeGateConfig, functionName: string, alias: string, overridesJson: string | undefined): ProbeGateConfig {
  if (!overridesJson) return gates;
  const all = JSON.parse(overridesJson) as Record<string, Record<string, unknown>>;
  const mine = all[`${functionName}:${alias}`];
  if (!mine) return gates;
  const merged: Record<string, unknown> = { ...gates };
  for (const [name, value] of Object.entries(mine)) {
    if (name in gates && typeof value === 'number' && Number.isFinite(value)) merged[name] = value;
  }
  return merged as unknown as ProbeGateConfig;
}

/**
 * The probe function's environment variable holding the warm gate of each alias that has a ProvisionedWarmup:
 * a JSON object keyed `<function name>:<alias>` (deploy-time names), each value a WarmGateConfig. An alias
 * without an entry has no warm gate.
 */
export const PROBE_WARMUP_ENV = 'GUARDRAILS_PROBE_WARMUP';

/**
 * The warm gate of one alias from `warmupJson` (the value of PROBE_WARMUP_ENV), or undefined when the alias has
 * none. An entry that is not a valid WarmGateConfig throws (the hook then reports Failed rather than letting a
 * version take traffic cold).
 */
export function warmupForAlias(functionName: string, alias: string, warmupJson: string | undefined): WarmGateConfig | undefined {
  if (!warmupJson) return undefined;
  const all = JSON.parse(warmupJson) as Record<string, Record<string, unknown> | undefined>;
  const key = `${functionName}:${alias}`;
  const mine = all[key];
  if (mine === undefined || mine === null) return undefined;
  const { concurrency, pings, readyTimeoutSeconds } = mine;
  const count = (x: unknown, min: number, max: number) => typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
  if (!count(concurrency, 1, 1_000_000) || !count(pings, 0, 100) || !count(readyTimeoutSeconds, 1, 900)) {
    throw new Error(`the warm gate of ${key} in ${PROBE_WARMUP_ENV} is not valid (concurrency ≥ 1, pings 0 to 100, readyTimeoutSeconds 1 to 900), got: ${JSON.stringify(mine)}`);
  }
  return { concurrency: concurrency as number, pings: pings as number, readyTimeoutSeconds: readyTimeoutSeconds as number };
}

/** The default request: the demo's direct-invocation shape. */
export const DEFAULT_REQUEST_TEMPLATE = { question: '{{question}}', seed: '{{seed}}' };
/** The default pointer: the demo's `answer` field. */
export const DEFAULT_ANSWER_POINTER = '/answer';
/** The default namespace of the probe's metrics. */
export const DEFAULT_METRIC_NAMESPACE = 'CdkRolloutGuardrails/Probe';

/**
 * The probe function's environment variable naming its answer table (DynamoDB), set when `reuseCurrentAnswers`
 * is on: the current version's answers of one deployment, one item per gold question.
 */
export const PROBE_ANSWERS_TABLE_ENV = 'GUARDRAILS_PROBE_ANSWERS_TABLE';

/** The answer table's attributes: the key (partition key, string) and the TTL attribute (epoch seconds). */
export const PROBE_ANSWERS_ATTR = { key: 'id', expiresAt: 'expiresAt' } as const;

/**
 * How long recorded answers count, in seconds: a deployment's two hooks each end within CodeDeploy's hour, so
 * 3 hours covers a whole rollout; readers ignore older items whatever DynamoDB's TTL has not yet deleted.
 */
export const PROBE_ANSWERS_TTL_SECONDS = 3 * 3600;
