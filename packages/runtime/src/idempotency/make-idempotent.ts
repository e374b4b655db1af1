import { randomUUID } from 'crypto';
import { SHADOW_MODE_ENV } from '../contract/idempotency.js';
import {
  IdempotencyConfigurationError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyItemTooLargeError,
  IdempotencyKeyMissingError,
  IdempotencyKeyReuseError,
  IdempotencyResultNotStoredError,
  IdempotencyStorageError,
  IdempotencyStorageTimeoutError,
  IdempotencyShadowModeError,
} from './errors.js';
import { keyText, select, sha256 } from './keys.js';
import { IdempotencyContext, IdempotencyOptions, payloadHashOf, resolveOptions } from './options.js';
import type { IdempotencyRecord } from './persistence/store.js';

export { DEFAULT_STORAGE_TIMEOUT_MS } from './options.js';
export type { IdempotencyContext, IdempotencyFence, IdempotencyKeySource, IdempotencyOptions } from './options.js';

/** The longest `reason` kept on a record whose result could not be stored. */
const MAX_REASON_CHARS = 500;

/** The wrapped function: same event and context as the function it wraps (the context may be left out). */
export type IdempotentFunction<E, R, C = IdempotencyContext> = (event: E, context?: C) => Promise<R>;

const CLAIM_ATTEMPTS = 3;

/**
 * Wraps `fn` so that it runs once per idempotency key: the first call claims the key with one conditional
 * write, runs `fn` and stores its result; later calls with the key get the stored result (as JSON) without
 * running `fn`. If `fn` throws, only this call's claim is released and the error rethrown, so the call can be
 * retried. If the claim cannot be written, `fn` does not run.
 *
 * A result that cannot be stored (JSON cannot represent it: a BigInt, a cycle, a function; or the record would
 * exceed the store's item size, 400 KB in DynamoDB) is still returned to the first caller, with a warning, and
 * the record is marked completed without it (`result_not_stored`, a small item): later calls with the key get
 * `IdempotencyResultNotStoredError` until the record expires, and `fn` does not run again. Leaving the claim in
 * progress instead would let a retry run `fn` a second time once the lease lapsed.
 *
 * Every store call has a deadline (`storageTimeoutMs`), so a store that hangs cannot hold the caller for ever.
 */
export function makeIdempotent<E, R, C extends IdempotencyContext = IdempotencyContext>(
  fn: (event: E, context: C) => Promise<R>,
  options: IdempotencyOptions<E> = {},
): IdempotentFunction<E, R, C> {
  if (typeof fn !== 'function') throw new IdempotencyConfigurationError(`makeIdempotent needs a function, got: ${typeof fn}`);
  const { store, expiresAfter, inProgressTimeoutMs, storageTimeoutMs, scope, requireKey, readKey, validation, fence, releaseId } = resolveOptions(options);

  return async function idempotent(event: E, context?: C): Promise<R> {
    const shadow = process.env[SHADOW_MODE_ENV];
    if (shadow === 'true' || shadow === '1') throw new IdempotencyShadowModeError(SHADOW_MODE_ENV, shadow);

    // Key and payload hash are computed here, once, from the event as received: whatever fn does to its
    // input afterwards cannot change what is stored or compared.
    const key = readKey.read(event);
    if (key === undefined) {
      if (requireKey) throw new IdempotencyKeyMissingError(readKey.source);
      return fn(event, context as C);
    }
    let scoped = key;
    if (fence) {
      const source = fence.partition;
      const partition = keyText(typeof source === 'string'
        ? (source.startsWith('$') ? select(event, source) : source)
        : select(event, typeof source === 'function' ? source : source.path));
      if (partition === undefined) throw new IdempotencyKeyMissingError('a fence partition');
      scoped = `${partition.length}:${partition}|${key}`;
    }
    const id = `${scope}#${sha256(scoped)}`;
    const payloadHash = payloadHashOf(event, validation);

    const token = randomUUID();
    const deadline = <T>(operation: string, call: (signal: AbortSignal) => Promise<T>) => withDeadline(operation, id, storageTimeoutMs, call);
    let claimed = false;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS && !claimed; attempt++) {
      const now = Date.now();
      const remaining = context?.getRemainingTimeInMillis?.();
      // A call already out of time gets a lease that has already ended, not the no-context default.
      const lease = typeof remaining === 'number' && Number.isFinite(remaining) ? Math.max(0, remaining) : inProgressTimeoutMs;
      let existing: IdempotencyRecord | undefined;
      try {
        const outcome = await deadline('claim', (signal) => store.claim({
          id,
          token,
          now,
          // A claim never expires before its lease ends, whatever expiresAfter says: an in-progress record that
          // expired under a running call would let a second call run the body (or, read by another version, fail
          // the claim as a storage error). expiresAfter counts from completion.
          expiresAt: Math.max(Math.floor(now / 1000) + expiresAfter, Math.ceil((now + lease) / 1000)),
          inProgressUntil: now + lease,
          payloadHash,
          releaseId,
        }, { signal }));
        if (outcome.claimed) {
          claimed = true;
          break;
        }
        existing = outcome.existing;
      } catch (error) {
        if (error instanceof IdempotencyStorageTimeoutError) {
          // The claim may still land after we stopped waiting: take back whatever this call's token wrote, so
          // that no claim without a running body is left behind to block retries until its lease ends.
          try {
            await deadline('release', (signal) => store.release(id, token, { signal }));
          } catch (releaseError) {
            logWarning('release', id, releaseError);
          }
        }
        throw error instanceof IdempotencyError ? error : new IdempotencyStorageError('claim', id, error);
      }
      // Gone (released or expired between our write and the read): claim again.
      if (!existing || !isLive(existing, Date.now())) continue;
      if (payloadHash !== undefined && existing.payloadHash !== undefined && existing.payloadHash !== payloadHash) {
        throw new IdempotencyKeyReuseError(id, existing.payloadHash, payloadHash);
      }
      if (existing.status === 'COMPLETED') {
        if (existing.resultNotStored !== undefined) {
          throw new IdempotencyResultNotStoredError(id, key, existing.resultNotStored, existing.expiresAt);
        }
        try {
          return decode<R>(existing.data);
        } catch (error) {
          throw new IdempotencyStorageError('read', id, error);
        }
      }
      const retryAfter = Math.max(1, Math.ceil(((existing.inProgressUntil ?? Date.now()) - Date.now()) / 1000));
      throw new IdempotencyInProgressError(id, retryAfter, existing.releaseId);
    }
    if (!claimed) {
      throw new IdempotencyStorageError('claim', id, new Error(`the record changed under ${CLAIM_ATTEMPTS} claim attempts in a row`));
    }

    let result: R;
    try {
      result = await fn(event, context as C);
    } catch (error) {
      // Release only our own claim (conditional on the token): never a lock someone else holds.
      try {
        await deadline('release', (signal) => store.release(id, token, { signal }));
      } catch (releaseError) {
        logWarning('release', id, releaseError);
      }
      throw error;
    }

    // The side effect has happened: from here on the caller gets the result even if storing it fails, since
    // an error would only invite a retry that runs fn again once the claim lapses.
    const completion = { id, token, expiresAt: Math.floor(Date.now() / 1000) + expiresAfter, payloadHash, releaseId };
    let notStored: string | undefined;
    let data: string | undefined;
    try {
      data = encode(result);
    } catch (error) {
      notStored = `it cannot be serialised as JSON: ${errorText(error)}`;
    }
    if (notStored === undefined) {
      try {
        const stored = await deadline('complete', (signal) => store.complete({ ...completion, data }, { signal }));
        if (!stored) logWarning('complete', id, new Error('the claim lapsed and another call took the key before the result was stored'));
        return result;
      } catch (error) {
        if (!isItemTooLarge(error)) {
          // A failure of the store itself (unreachable, throttled, timed out): the claim stays until its lease
          // ends, after which a retry runs fn again. Nothing better is safe: releasing would invite it at once.
          logWarning('complete', id, error);
          return result;
        }
        notStored = errorText(error, false);
      }
    }
    // The result itself cannot be stored: record that the call completed, without the result, so that a duplicate
    // is told so (IdempotencyResultNotStoredError) instead of running fn again once the claim would have lapsed.
    const reason = notStored.length > MAX_REASON_CHARS ? `${notStored.slice(0, MAX_REASON_CHARS - 1)}…` : notStored;
    try {
      const stored = await deadline('complete', (signal) => store.complete({ ...completion, resultNotStored: reason }, { signal }));
      logWarning('complete', id, new Error(stored
        ? `the result was not stored (${reason}); the record is marked completed without it, so duplicates get IdempotencyResultNotStoredError`
        : `the result was not stored (${reason}), and the claim lapsed and another call took the key`));
    } catch (error) {
      logWarning('complete', id, new Error(`the result was not stored (${reason}), nor the record marking it: ${errorText(error)}`));
    }
    return result;
  };
}

/**
 * Maps an idempotency error to an API Gateway proxy response: 409 with Retry-After for a key in progress,
 * 409 without it for a key already processed whose result could not be stored, 422 for a key reused with
 * another payload, 400 for a missing key; undefined for anything else.
 */
export function idempotencyErrorResponse(error: unknown): { statusCode: number; headers: Record<string, string>; body: string } | undefined {
  const json = (statusCode: number, message: string, headers: Record<string, string> = {}) => ({
    statusCode,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ error: (error as Error).name, message }),
  });
  if (error instanceof IdempotencyInProgressError) {
    return json(409, 'a request with this Idempotency-Key is still being processed', { 'retry-after': String(error.retryAfterSeconds) });
  }
  if (error instanceof IdempotencyKeyReuseError) return json(422, 'this Idempotency-Key was already used with a different request body');
  if (error instanceof IdempotencyResultNotStoredError) {
    return json(409, 'a request with this Idempotency-Key was already processed, but its response could not be stored, so it cannot be returned again; send a new Idempotency-Key to make a new request');
  }
  if (error instanceof IdempotencyKeyMissingError) return json(400, error.message);
  return undefined;
}

/**
 * Whether a record still holds its key, by the stores' own rule: an in-progress claim until its lease ends, a
 * completed record until it expires. (Judging a claim by its expiry as well would disagree with the store about a
 * claim written with an expiry shorter than its lease, by an older version, and spin on it.)
 */
function isLive(record: IdempotencyRecord, now: number): boolean {
  if (record.status === 'INPROGRESS' && record.inProgressUntil !== undefined) return record.inProgressUntil >= now;
  return record.expiresAt >= Math.floor(now / 1000);
}

function decode<R>(data: string | undefined): R {
  return (data === undefined ? undefined : JSON.parse(data)) as R;
}

/** The result as JSON; undefined for undefined. Throws when JSON cannot represent it (a BigInt, a cycle, a function). */
function encode(result: unknown): string | undefined {
  if (result === undefined) return undefined;
  const json = JSON.stringify(result);
  // JSON.stringify answers undefined, instead of throwing, for a function, a symbol or a toJSON giving undefined:
  // stored as "no result", a duplicate would get undefined where the first call got a value.
  if (json === undefined) throw new TypeError(`a ${typeof result} has no JSON form`);
  return json;
}

function isItemTooLarge(error: unknown): boolean {
  // By name as well: a custom store bundled with another copy of this library throws its own class.
  return error instanceof IdempotencyItemTooLargeError || (error as { name?: unknown } | null)?.name === 'IdempotencyItemTooLargeError';
}

/**
 * Runs one store call with a deadline: past `timeoutMs` the call's signal is aborted and the returned promise
 * rejects with `IdempotencyStorageTimeoutError`, whether or not the store honours the signal.
 */
async function withDeadline<T>(operation: string, id: string, timeoutMs: number, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new IdempotencyStorageTimeoutError(operation, id, timeoutMs);
      reject(error);
      controller.abort(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => call(controller.signal)), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function errorText(error: unknown, withName = true): string {
  if (!(error instanceof Error)) return String(error);
  return withName ? `${error.name}: ${error.message}` : error.message;
}

function logWarning(operation: string, id: string, error: unknown): void {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.warn(JSON.stringify({ level: 'WARN', source: 'cdk-rollout-guardrails/idempotency', operation, recordId: id, error: detail }));
}
