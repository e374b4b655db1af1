import { createHash } from 'crypto';
import { deltaS } from 'cdk-rollout-guardrails-runtime';
import type { Embedder } from 'cdk-rollout-guardrails-runtime';
import { JsonPathSegment } from 'cdk-rollout-guardrails-runtime/contract';
import { ShadowRecord, isShadowDrop, parseShadowLine } from 'cdk-rollout-guardrails-runtime';
import { TokenBucket, answerFromResult, answerText, decodeSubscription, replayEvent, reportedDuration } from './logic';
import { BatchMetrics, emfDocuments, emptyMetrics } from './metrics';
import { ReleaseLookup } from './release';
import type { AnswerCheck } from './schema';
import { ResultsStore, ShadowResult } from './store';
import { ReleaseTally, SummaryStore, tallyResult } from './summary';

/** What the shadow's Lambda Invoke returned (the fields of InvokeCommandOutput the dispatcher reads). */
export interface InvokeOutput {
  readonly Payload?: Uint8Array;
  readonly FunctionError?: string;
  readonly LogResult?: string;
  readonly ExecutedVersion?: string;
}

/** Invokes the shadow synchronously with a JSON payload; must honour `signal`. */
export type InvokeShadow = (payload: string, signal: AbortSignal) => Promise<InvokeOutput>;

/** The dispatcher's settings (from its environment in production). */
export interface DispatcherConfig {
  /** The ShadowIntegration's name: the metrics' `Shadow` dimension. */
  readonly shadowName: string;
  /** A log event larger than this (bytes) is dropped as oversize without being parsed. */
  readonly maxEventBytes: number;
  /** The JSON paths the tap redacted; applied to the shadow's answer too. */
  readonly redact: readonly (readonly JsonPathSegment[])[];
  /** Where in a JSON body the answer is; the whole body when undefined. */
  readonly answerPath?: readonly JsonPathSegment[];
  /** How long the shadow may take before the replay counts as a timeout, in ms. */
  readonly shadowTimeoutMs: number;
  /** How long results are kept, in seconds. */
  readonly resultsTtlSeconds: number;
  /** Replays in flight at once in one environment. */
  readonly maxInFlight: number;
}

/** The dispatcher's edges, injected so the logic is tested without AWS. */
export interface DispatchDeps {
  readonly invoke: InvokeShadow;
  readonly store: ResultsStore;
  /** This environment's replay budget. */
  readonly budget: TokenBucket;
  readonly now?: () => number;
  /** Where EMF documents and warnings go. @default console.log */
  readonly log?: (line: string) => void;
  readonly embedder?: Embedder;
  /**
   * When this invocation must be done (epoch ms, from the Lambda context). A replay that could not finish
   * before it (start + shadow timeout + 1 s to store and publish) is dropped as `deadline` instead of started.
   * @default - no deadline
   */
  readonly deadline?: number;
  /** Checks each scored shadow answer against the answer schema. @default - no schema: nothing checked */
  readonly answerCheck?: AnswerCheck;
  /**
   * The release of the shadow version behind each replay, and where the per-release summaries go; without both,
   * nothing is summarised.
   * @default - no summaries
   */
  readonly releases?: ReleaseLookup;
  readonly summary?: SummaryStore;
}

/** What the batch's replays add up to, by release, and why some could not be given one. */
interface BatchSummary {
  readonly tallies: Map<string, ReleaseTally>;
  readonly lookupErrors: Set<string>;
}

/**
 * Handles one CloudWatch Logs subscription delivery: parses each tap line, counts drops (the tap's notices,
 * oversize and malformed events, samples over the budget), replays the rest to the shadow, scores ΔS between
 * the live and the shadow answer, writes a result per replay and publishes the batch's metrics.
 * Nothing is queued: a sample the budget cannot pay for now is dropped and counted.
 */
export async function dispatch(event: unknown, config: DispatcherConfig, deps: DispatchDeps): Promise<BatchMetrics> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((line: string) => console.log(line));
  const m = emptyMetrics();
  const drop = (reason: string): void => { m.dropped[reason] = (m.dropped[reason] ?? 0) + 1; };
  let message;
  try {
    message = decodeSubscription(event);
  } catch (error) {
    log(JSON.stringify({ level: 'WARN', msg: `mirror dispatcher: dropped a delivery: ${(error as Error).message}` }));
    drop('malformed');
    for (const doc of emfDocuments(config.shadowName, m, now())) log(doc);
    return m;
  }
  if (message.messageType === 'CONTROL_MESSAGE') return m;

  const running = new Set<Promise<void>>();
  const summary: BatchSummary = { tallies: new Map(), lookupErrors: new Set() };
  for (const logEvent of message.logEvents) {
    const text = typeof logEvent?.message === 'string' ? logEvent.message : '';
    if (Buffer.byteLength(text, 'utf8') > config.maxEventBytes) {
      drop('oversize');
      continue;
    }
    let line;
    try {
      line = parseShadowLine(text);
    } catch (error) {
      // The content may be anything the live function logged; only the event id is repeated.
      log(JSON.stringify({ level: 'WARN', msg: `mirror dispatcher: dropped log event ${logEvent?.id}: ${(error as Error).message}` }));
      drop('malformed');
      continue;
    }
    m.seen += line.seen;
    m.sampled++;
    if (isShadowDrop(line)) {
      drop(line.drop);
      continue;
    }
    if (!deps.budget.take(now())) {
      drop('budget');
      continue;
    }
    while (running.size >= config.maxInFlight) await Promise.race(running);
    if (deps.deadline !== undefined && now() + config.shadowTimeoutMs + 1000 > deps.deadline) {
      drop('deadline');
      continue;
    }
    const replay = replayOne(line, config, deps, m, now, summary).finally(() => running.delete(replay));
    running.add(replay);
  }
  await Promise.all(running);
  await writeSummaries(summary, deps, m, log);
  for (const doc of emfDocuments(config.shadowName, m, now())) log(doc);
  return m;
}

class ShadowTimeout extends Error {}

async function replayOne(record: ShadowRecord, config: DispatcherConfig, deps: DispatchDeps, m: BatchMetrics, now: () => number, summary: BatchSummary): Promise<void> {
  m.replayed++;
  const route = `${record.request.method} ${record.request.resource}`;
  const liveText = answerText(record.response.body, record.response.isBase64Encoded, [], config.answerPath);
  const base = {
    shadow_id: record.id,
    req_hash: requestHash(record),
    model_rev: record.modelRev ?? null,
    index_hash: record.indexHash ?? null,
    route,
    live_status: record.response.status,
    live_ms: record.response.ms,
    live_output: record.response.body ?? '',
    sampled_at: record.at,
    expires_at: Math.floor(now() / 1000) + config.resultsTtlSeconds,
  };
  let result: ShadowResult;
  let executedVersion: string | undefined;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const started = now();
  try {
    const output = await Promise.race([
      deps.invoke(JSON.stringify(replayEvent(record)), controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new ShadowTimeout(`the shadow did not answer within ${config.shadowTimeoutMs} ms`));
        }, config.shadowTimeoutMs);
      }),
    ]);
    const roundTrip = now() - started;
    executedVersion = output.ExecutedVersion;
    const reported = reportedDuration(output.LogResult);
    const shadowMs = reported ?? roundTrip;
    const timing = { shadow_ms: shadowMs, shadow_ms_source: reported !== undefined ? 'report' as const : 'roundtrip' as const, shadow_model_rev: output.ExecutedVersion ?? null };
    const payloadText = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    if (output.FunctionError) {
      m.shadowErrors++;
      result = { ...base, ...timing, outcome: 'shadow_error', error: `function error (${output.FunctionError}): ${errorMessage(payloadText)}`, shadow_output: payloadText };
    } else {
      let parsed: unknown;
      try {
        parsed = payloadText === '' ? undefined : JSON.parse(payloadText);
      } catch {
        parsed = payloadText;
      }
      const answer = answerFromResult(record.kind, parsed);
      m.shadowLatency.push(shadowMs);
      m.liveLatency.push(record.response.ms);
      m.latencyDelta.push(shadowMs - record.response.ms);
      if (answer.status >= 500) {
        m.shadowErrors++;
        result = { ...base, ...timing, outcome: 'shadow_error', shadow_status: answer.status, error: `the shadow answered ${answer.status}`, shadow_output: answer.body ?? '' };
      } else {
        const shadowText = answerText(answer.body, false, config.redact, config.answerPath);
        const score = await deltaS(liveText, shadowText, deps.embedder ? { embedder: deps.embedder } : {});
        m.deltaS.push(score);
        // The schema judges the answer as the shadow gave it, before redaction (which may change a value's type).
        const violation = deps.answerCheck?.(answer.body);
        if (violation !== undefined) m.schemaViolations++;
        result = {
          ...base, ...timing, outcome: 'scored', delta_s: score, shadow_status: answer.status, shadow_output: answerText(answer.body, false, config.redact),
          ...(violation !== undefined ? { schema_violation: violation } : {}),
        };
      }
    }
  } catch (error) {
    m.shadowErrors++;
    result = error instanceof ShadowTimeout
      ? { ...base, outcome: 'shadow_timeout', error: error.message, shadow_ms: now() - started, shadow_ms_source: 'roundtrip' }
      : { ...base, outcome: 'shadow_error', error: `invoke failed: ${(error as Error)?.name ?? 'Error'}: ${(error as Error)?.message ?? String(error)}` };
  } finally {
    clearTimeout(timer);
  }
  if (deps.releases && deps.summary) {
    // Never throws: a configuration that cannot be read leaves the replay out of the summaries, not out of the table.
    const release = await deps.releases.releaseOf(executedVersion);
    if (release.releaseId !== undefined) {
      result = { ...result, shadow_release_id: release.releaseId };
      tallyResult(summary.tallies, release.releaseId, result);
    } else {
      m.unreleasedReplays++;
      if (release.reason === 'lookup-failed') summary.lookupErrors.add(release.error ?? 'unknown error');
    }
  }
  try {
    await deps.store.put(result);
  } catch (error) {
    m.resultsWriteErrors++;
    (deps.log ?? console.log)(JSON.stringify({ level: 'WARN', msg: `mirror dispatcher: could not store result ${record.id}: ${(error as Error).message}` }));
  }
}

/**
 * Adds the batch's tallies to their releases' summary items, after the result rows. A summary that cannot be
 * updated is counted and logged; the rows are already stored.
 */
async function writeSummaries(summary: BatchSummary, deps: DispatchDeps, m: BatchMetrics, log: (line: string) => void): Promise<void> {
  for (const error of summary.lookupErrors) {
    log(JSON.stringify({ level: 'WARN', msg: `mirror dispatcher: could not read the shadow version's RELEASE_ID; its replays are in no summary: ${error}` }));
  }
  if (!deps.summary) return;
  const store = deps.summary;
  await Promise.all([...summary.tallies].map(async ([releaseId, tally]) => {
    try {
      await store.add(releaseId, tally);
    } catch (error) {
      m.summaryWriteErrors++;
      log(JSON.stringify({ level: 'WARN', msg: `mirror dispatcher: could not add ${tally.replays} replays to the summary of release ${releaseId}: ${(error as Error).message}` }));
    }
  }));
}

/** SHA-256 of the request as the shadow sees it: method, path, query and body; headers left out. */
function requestHash(record: ShadowRecord): string {
  const r = record.request;
  const query = r.query ? Object.keys(r.query).sort().map((k) => [k, r.query![k]]) : null;
  return createHash('sha256').update(JSON.stringify([r.method, r.path, query, r.body])).digest('hex');
}

function errorMessage(payload: string): string {
  try {
    const parsed = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') return `${parsed.errorType ?? 'Error'}: ${parsed.errorMessage}`;
  } catch {
    // not JSON; fall through
  }
  return payload.slice(0, 500);
}
