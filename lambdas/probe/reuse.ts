// Reusing the current version's answers within a deployment (DeltaSProbe `reuseCurrentAnswers`): which of a
// run's current-version samples are still invoked (the latency sample, and whatever was not recorded), the
// check that the recorded answers are what the current version answers now, and the fallback to invoking it.
// The store is injected (answer-store.ts is the DynamoDB edge), so this runs the same against a map in tests.
import { createHash } from 'crypto';
import { GoldItem } from 'cdk-rollout-guardrails-runtime/contract';
import { Collected, CollectOptions, invokeSamples, planSamples, Sample } from './samples';

/** Which deployment's, alias's and current version's answers a run reads and records. */
export interface ReuseScope {
  readonly deploymentId: string;
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
}

/** One gold question's recorded answers: `answers` by `answerKey(wording, seed)`. */
export interface RecordedQuestion {
  readonly id: string;
  /** `questionFingerprint` of the question when recorded: a changed template, pointer or wording is not reused. */
  readonly fingerprint: string;
  readonly answers: Readonly<Record<string, string>>;
}

/** Where recorded answers are kept (answer-store.ts: DynamoDB). Both calls may throw; the run then falls back. */
export interface AnswerStore {
  /** The questions of `ids` recorded for `scope` and not expired at `nowMs`; a question not found is left out. */
  read(scope: ReuseScope, ids: readonly string[], nowMs: number): Promise<RecordedQuestion[]>;
  /** Records `questions` for `scope`, each replacing what was there; returns how many were not stored, and why. */
  write(scope: ReuseScope, questions: readonly RecordedQuestion[], nowMs: number): Promise<{ readonly notStored: number; readonly reason?: string }>;
}

/** What the run is given to reuse with: no store (no table) or no scope (no deployment id) turns reuse off for the run. */
export interface ReuseOptions {
  readonly store?: AnswerStore;
  readonly scope?: ReuseScope;
}

/**
 * What reuse did in one run, in the report:
 * - `reused`: some current-version answers were read from the record, the latency sample matched them;
 * - `none-recorded`: nothing was recorded for these questions (the deployment's first run): all invoked;
 * - `nondeterministic`: a fresh answer of the latency sample differed from the recorded one: the record was
 *   set aside and every current-version sample invoked;
 * - `unreadable`: the record could not be read: every current-version sample invoked;
 * - `no-deployment`: a direct run without `deploymentId`, `no-table`: the function has no answer table.
 */
export interface ReuseReport {
  readonly status: 'reused' | 'none-recorded' | 'nondeterministic' | 'unreadable' | 'no-deployment' | 'no-table';
  /** Current-version samples answered from the record (not invoked). */
  readonly reused: number;
  /** Current-version samples invoked (the latency sample, what was not recorded, and any fallback). */
  readonly invoked: number;
  /** Of the latency sample, those with a recorded answer to compare; and how many differed. */
  readonly checked: number;
  readonly mismatches: number;
  /** Current-version answers this run recorded for the next runs. */
  readonly recorded: number;
  /** One sentence: what happened, and why when the current version was invoked for everything. */
  readonly note: string;
}

/** The key of one recorded answer within its question: the wording (0 the question, 1.. the paraphrases) and the seed. */
export const answerKey = (text: number, seed: number) => `${text}/${seed}`;

/** What a recorded answer depends on besides the version and the seed: the request template, the pointer, the wordings. */
export function questionFingerprint(item: GoldItem, requestTemplate: unknown, answerPointer: string): string {
  return createHash('sha256').update(JSON.stringify([requestTemplate, answerPointer, item.question, item.paraphrases])).digest('hex').slice(0, 32);
}

/**
 * How many of a run's `n` current-version samples are invoked even when all are recorded: at least the latency
 * judge's `minSamples`, at least one in four, at most all. They give the Mann-Whitney judge current-version
 * latencies taken beside the new version's, and check the record against what the version answers now.
 */
export function latencySampleSize(n: number, minSamples: number): number {
  return Math.min(n, Math.max(minSamples, Math.ceil(n / 4)));
}

/** `m` of `n` positions, evenly spread (position floor(j × n / m) for j = 0..m−1), so the sample spans the whole run. */
export function spreadPositions(n: number, m: number): Set<number> {
  const chosen = new Set<number>();
  for (let j = 0; j < m; j++) chosen.add(Math.floor((j * n) / m));
  return chosen;
}

/** Up to how many mismatches the note names. */
const NAMED = 3;

/**
 * Collects a run's samples reusing the current version's recorded answers where it can, and records the fresh
 * ones for the next runs. Never throws for the store: an unreadable record or a failed write is reported, and
 * the current version invoked. With the record read and complete, the current version is invoked only for the
 * latency sample (`latencySampleSize`), interleaved with the new version as before; a fresh answer there that
 * differs from the record sets the record aside, and the rest of the current version's samples are invoked.
 */
export async function collectReusing(options: CollectOptions, reuse: ReuseOptions): Promise<Collected & { readonly reuse: ReuseReport }> {
  const { gold, config } = options;
  const now = options.now ?? Date.now;
  const plan = planSamples(gold, config.seeds);
  const current = plan.filter((s) => s.side === 'current');
  const fingerprints = gold.map((item) => questionFingerprint(item, config.requestTemplate, config.answerPointer));
  const off = (status: 'no-deployment' | 'no-table', note: string) => ({ status, note });
  const skip = !reuse.store ? off('no-table', 'the probe has no answer table: the current version was invoked for every sample')
    : !reuse.scope ? off('no-deployment', 'a direct run without deploymentId: nothing to reuse or record, the current version was invoked for every sample')
      : undefined;
  if (skip) {
    const samples = await invokeSamples(options, plan);
    return { samples, complete: samples.length === plan.length, reuse: { ...skip, reused: 0, invoked: current.length, checked: 0, mismatches: 0, recorded: 0 } };
  }
  const store = reuse.store!;
  const scope = reuse.scope!;

  let recorded = new Map<string, RecordedQuestion>();
  let readError: string | undefined;
  try {
    const found = await store.read(scope, gold.map((item) => item.id), now());
    const index = new Map(gold.map((item, i) => [item.id, i]));
    recorded = new Map(found.filter((q) => index.has(q.id) && fingerprints[index.get(q.id)!] === q.fingerprint).map((q) => [q.id, q]));
  } catch (error) {
    readError = (error as Error)?.message ?? String(error);
  }
  const recordedAnswer = (s: Sample) => recorded.get(gold[s.item].id)?.answers[answerKey(s.text, s.seed)];
  const sample = spreadPositions(current.length, latencySampleSize(current.length, config.gates.latencyMinSamples));
  const inSample = new Set(current.filter((_, i) => sample.has(i)));
  const reusable = new Set(current.filter((s) => !inSample.has(s) && recordedAnswer(s) !== undefined));

  // First pass: the new version, the latency sample and whatever has no record, interleaved in plan order.
  const first = await invokeSamples(options, plan.filter((s) => !reusable.has(s)));
  const checked = first.filter((s) => inSample.has(s) && s.answer !== undefined && recordedAnswer(s) !== undefined);
  const mismatched = checked.filter((s) => s.answer !== recordedAnswer(s));
  let samples: Sample[];
  let invoked = current.length - reusable.size;
  if (mismatched.length > 0) {
    // The record is not what the version answers now: set it aside and invoke the rest as well.
    const rest = await invokeSamples(options, [...reusable]);
    invoked += rest.length;
    const ran = new Set([...first, ...rest]);
    samples = plan.filter((s) => ran.has(s));
  } else {
    for (const s of reusable) {
      s.answer = recordedAnswer(s);
      s.reused = true;
    }
    const ran = new Set(first);
    samples = plan.filter((s) => ran.has(s) || s.reused === true);
  }

  // Record the fresh answers not yet recorded (not after a mismatch: that record is not to be trusted either).
  let recordedCount = 0;
  let writeNote = '';
  if (mismatched.length === 0) {
    const fresh = new Map<number, Record<string, string>>();
    for (const s of samples) {
      if (s.side !== 'current' || s.reused || s.answer === undefined || recordedAnswer(s) !== undefined) continue;
      (fresh.get(s.item) ?? fresh.set(s.item, {}).get(s.item)!)[answerKey(s.text, s.seed)] = s.answer;
    }
    const questions = [...fresh].map(([item, answers]) => ({
      id: gold[item].id,
      fingerprint: fingerprints[item],
      answers: { ...recorded.get(gold[item].id)?.answers, ...answers },
    }));
    if (questions.length > 0) {
      const added = (q: RecordedQuestion) => Object.keys(q.answers).length - Object.keys(recorded.get(q.id)?.answers ?? {}).length;
      try {
        const result = await store.write(scope, questions, now());
        recordedCount = questions.reduce((n, q) => n + added(q), 0);
        if (result.notStored > 0) writeNote = `; ${result.notStored} of ${questions.length} questions not recorded (${result.reason ?? 'unknown'})`;
      } catch (error) {
        writeNote = `; recording failed (${(error as Error)?.message ?? String(error)}), so later runs invoke the current version`;
      }
    }
  }
  const reusedCount = samples.filter((s) => s.reused === true).length;
  const named = mismatched.slice(0, NAMED).map((s) => `${gold[s.item].id} wording ${s.text} seed ${s.seed}`).join(', ');
  const base = { reused: reusedCount, invoked, checked: checked.length, mismatches: mismatched.length, recorded: recordedCount };
  const report: ReuseReport = readError !== undefined
    ? { ...base, status: 'unreadable', note: `the recorded answers could not be read (${readError}): the current version was invoked for every sample${writeNote}` }
    : mismatched.length > 0
      ? { ...base, status: 'nondeterministic', note: `${mismatched.length} of ${checked.length} re-asked samples answered differently from the record (${named}${mismatched.length > NAMED ? ', ...' : ''}): `
        + 'the function is not deterministic for a seed, so the record was set aside and the current version invoked for every sample' }
      : reusedCount > 0
        ? { ...base, status: 'reused', note: `${reusedCount} current-version answers read from this deployment's record; ${invoked} invoked (${checked.length} of them re-asked, all as recorded)${writeNote}` }
        : { ...base, status: 'none-recorded', note: `nothing recorded for these questions yet: the current version was invoked for every sample${writeNote}` };
  return { samples, complete: samples.length === plan.length, reuse: report };
}
