// The simulated new and current versions: user traffic as CloudWatch would sum it per ExecutedVersion, and the
// answers the ΔS probe gets. Deterministic: traffic at its expected values, a hash of the request for answers and
// probe latencies, so that a rehearsal gives the same figures run after run.
import { Invoker, ProbeReport, runProbe } from '../../lambdas/probe/engine';
import { spreadQuestions } from '../../lambdas/probe/direct-run';
import { Embedder, HashedNgramEmbedder } from '../../packages/runtime/src/probe/embedder';
import { GoldItem } from '../../packages/runtime/src/contract/gold-set';
import { ProbeConfig, ProbeStopRules } from '../../packages/runtime/src/contract/probe';
import { percentile } from '../../packages/runtime/src/probe/latency';
import { Behaviour, Latency } from './scenarios';

/** A number in [0, 1) from a string (FNV-1a), the same every run. */
export function unitHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h / 4294967296;
}

/** A latency drawn from the log-normal fitted to the distribution's median and 95th percentile; `u1`, `u2` uniform. */
export function drawLatency(latency: Latency, u1: number, u2: number): number {
  const sigma = Math.log(latency.p95Ms / latency.p50Ms) / 1.645;
  const z = Math.sqrt(-2 * Math.log(Math.max(u1, 1e-12))) * Math.cos(2 * Math.PI * u2);
  return latency.p50Ms * Math.exp(sigma * z);
}

/** The standard normal quantile (Acklam's rational approximation, relative error under 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** One version's traffic in a window, as the gate engine reads it. */
export interface WindowTraffic {
  readonly invocations: number;
  readonly errors: number;
  readonly p95Ms?: number;
}

/**
 * `n` requests of one version at their expected values: errors `round(n × errorRate)`, latencies the
 * distribution's quantiles at (i + ½) / n, every k-th one cold. No sampling noise, so an outcome follows from the
 * scenario's figures against the thresholds, never from a lucky draw (a real rollout also has the noise).
 */
function expected(n: number, errorRate: number, latency: Latency, coldShare = 0, coldMs = 0): WindowTraffic {
  if (n === 0) return { invocations: 0, errors: 0 };
  const sigma = Math.log(latency.p95Ms / latency.p50Ms) / 1.645;
  const cold = Math.round(n * coldShare);
  const every = cold > 0 ? n / cold : Number.POSITIVE_INFINITY;
  const latencies = Array.from({ length: n }, (_, i) => latency.p50Ms * Math.exp(sigma * normalQuantile((i + 0.5) / n)) + (Math.floor(i % every) === 0 && cold > 0 ? coldMs : 0));
  return { invocations: n, errors: Math.round(n * errorRate), p95Ms: percentile(latencies, 0.95) };
}

/** User traffic over `seconds` with `weight` % on the new version (behaving as `next`), the rest on the control. */
export function simulateWindow(next: Behaviour, control: { errorRate: number; latency: Latency }, weight: number, seconds: number): { canary: WindowTraffic; control: WindowTraffic } {
  const total = Math.round(next.requestsPerSecond * seconds);
  const canaryN = Math.round((total * weight) / 100);
  return {
    canary: expected(canaryN, next.errorRate, next.latency, next.coldStartShare, next.coldStartMs),
    control: expected(total - canaryN, control.errorRate, control.latency),
  };
}

/** Keeps each text's vector for the process: the embedder is deterministic, so the scores do not change. */
class MemoEmbedder implements Embedder {
  private readonly vectors = new Map<string, number[]>();
  private readonly inner = new HashedNgramEmbedder();

  public async embed(texts: string[]): Promise<number[][]> {
    const missing = [...new Set(texts.filter((t) => !this.vectors.has(t)))];
    if (missing.length > 0) (await this.inner.embed(missing)).forEach((v, i) => this.vectors.set(missing[i], v));
    return texts.map((t) => this.vectors.get(t)!);
  }
}

const EMBEDDER = new MemoEmbedder();

function stringsOf(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsOf);
  return value && typeof value === 'object' ? Object.values(value).flatMap(stringsOf) : [];
}

/** A response whose `pointer` (RFC 6901) holds `answer`. */
function responseAt(pointer: string, answer: string): unknown {
  const keys = pointer.split('/').slice(1).map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  return keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), answer);
}

/** What one probe run is asked: how many gold questions (null: all) and the stop rules in force. */
export interface ProbeAsk {
  readonly questionLimit: number | null;
  readonly stopRules: ProbeStopRules | null;
}

/**
 * One run of the real ΔS probe (lambdas/probe/engine.ts) against the simulated versions: the current version
 * answers each gold question with its target section; the new version answers a `drift` share of the questions
 * (chosen by hash, the same ones every run) with another question's section. Latencies come from each version's
 * distribution; invocations do not fail (user-path errors are on paths the gold set does not exercise).
 */
export async function simulateProbe(gold: readonly GoldItem[], config: ProbeConfig, next: Behaviour, control: Latency, ask: ProbeAsk): Promise<ProbeRun> {
  // The run is a pure function of what it is asked and of the two versions' answers and latencies: scenarios that ask
  // the same of the same versions share one run (the embedder's vectors are kept the same way).
  const key = JSON.stringify([config, next.drift, next.latency, control, ask]);
  let runs = PROBE_RUNS.get(gold);
  if (!runs) PROBE_RUNS.set(gold, runs = new Map());
  let run = runs.get(key);
  if (!run) runs.set(key, run = runSimulatedProbe(gold, config, next, control, ask));
  return run;
}

/** A probe run's status, reasons and report. */
export interface ProbeRun { status: 'Succeeded' | 'Failed'; reasons: string[]; report: ProbeReport }

const PROBE_RUNS = new WeakMap<readonly GoldItem[], Map<string, Promise<ProbeRun>>>();

async function runSimulatedProbe(gold: readonly GoldItem[], config: ProbeConfig, next: Behaviour, control: Latency, ask: ProbeAsk): Promise<ProbeRun> {
  const byText = new Map<string, number>();
  gold.forEach((g, i) => [g.question, ...g.paraphrases].forEach((t) => byText.set(t, i)));
  const invoke: Invoker = async (side, request) => {
    const texts = stringsOf(request);
    const index = texts.map((t) => byText.get(t)).find((i) => i !== undefined) ?? 0;
    const item = gold[index];
    const drifted = side === 'new' && unitHash(`drift:${item.id}`) < next.drift;
    const answer = drifted ? gold[(index + Math.max(1, Math.floor(gold.length / 2))) % gold.length].target : item.target;
    const key = `${side}:${texts.join('|')}`;
    const latencyMs = drawLatency(side === 'new' ? next.latency : control, unitHash(`a:${key}`), unitHash(`b:${key}`));
    return { payload: JSON.stringify(responseAt(config.answerPointer, answer)), latencyMs, cold: false };
  };
  const report = await runProbe({
    gold: ask.questionLimit === null ? gold : spreadQuestions(gold, ask.questionLimit),
    config, invoke, deadline: Number.POSITIVE_INFINITY,
    functionName: 'rehearsal', alias: 'live', versions: { new: 'new', current: 'current' },
    stopRules: ask.stopRules ?? undefined, embedder: EMBEDDER,
  });
  return { status: report.verdict === 'pass' ? 'Succeeded' : 'Failed', reasons: report.reasons, report };
}
