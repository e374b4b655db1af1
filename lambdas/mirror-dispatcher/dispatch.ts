import { createHash } from 'crypto';
import { deltaS } from 'cdk-rollout-guardrails-runtime';
import type { Embedder } from 'cdk-rollout-guardrails-runtime';
import { JsonPathSegment } from 'cdk-rollout-guardrails-runtime/contract';
import { ShadowRecord, isShadowDrop, parseShadowLine } from 'cdk-rollout-guardrails-runtime';
import { TokenBucket, answerFromResult, answerText, decodeSubscription, replayEvent, reportedDuration } from './logic';
import { BatchMetrics, emfDocuments, emptyMetrics } from './metrics';
import { ResultsStore, ShadowResult } from './store';

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
    const replay = replayOne(line, config, deps, m, now).finally(() => running.delete(replay));
    running.add(replay);
  }
  await Promise.all(running);
  for (const doc of emfDocuments(config.shadowName, m, now())) log(doc);
  return m;
}

class ShadowTimeout extends Error {}

async function replayOne(record: ShadowRecord, config: DispatcherConfig, deps: DispatchDeps, m: BatchMetrics, now: () => number): Promise<void> {
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
        result = { ...base, ...timing, outcome: 'scored', delta_s: score, shadow_status: answer.status, shadow_output: answerText(answer.body, false, config.redact) };
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
  try {
    await deps.store.put(result);
  } catch (error) {
    m.resultsWriteErrors++;
    (deps.log ?? console.log)(JSON.stringify({ level: 'WARN', msg: `mirror dispatcher: could not store result ${record.id}: ${(error as Error).message}` }));
  }
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
