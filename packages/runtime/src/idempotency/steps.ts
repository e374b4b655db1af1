// The core of makeIdempotent, shared by the wrapper and the middy middleware: what a call is to do before the
// function runs (run it without a key, answer with the stored result, or run it under a claim), and how the claim
// ends (the result stored, or the claim released). Both entry points make the same decisions, throw the same
// errors and store the same results because both are this code.
import { randomUUID } from 'crypto';
import { SHADOW_MODE_ENV } from '../contract/idempotency.js';
import {
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
import { countIdempotentCall, recordedCounts, type SeenAgain } from './telemetry.js';

/** The longest `reason` kept on a record whose result could not be stored. */
const MAX_REASON_CHARS = 500;

const CLAIM_ATTEMPTS = 3;

/** What one call is to do, decided before the function runs. */
export type IdempotentStep<R> =
  /** No key, and none required: run the function, store nothing. */
  | { readonly kind: 'run' }
  /** The key was processed: answer with its stored result, without running the function. */
  | { readonly kind: 'replay'; readonly result: R }
  /** This call holds the key: run the function, then `complete` with its result or `release` on its error. Neither throws. */
  | { readonly kind: 'claimed'; complete(result: R): Promise<void>; release(): Promise<void> };

const RUN: IdempotentStep<never> = { kind: 'run' };

type Deadline = <T>(operation: string, call: (signal: AbortSignal) => Promise<T>) => Promise<T>;

/**
 * Checks the options (throwing IdempotencyConfigurationError now, at cold start) and returns what decides each
 * call. `passKeyless` lets an event without a key run the function even when a key is required (guardrails'
 * warm pings). Each call is counted in the invocation's telemetry record, when one is being recorded (dedupe hits,
 * and retries: the SQS records of `deliveryOf(event)`, by default the event, received before, or the key seen again).
 */
export function idempotentSteps<E, R, C extends IdempotencyContext = IdempotencyContext>(
  options: IdempotencyOptions<E>,
  passKeyless?: (event: E) => boolean,
  deliveryOf?: (event: E) => unknown,
): (event: E, context?: C) => Promise<IdempotentStep<R>> {
  const { store, expiresAfter, inProgressTimeoutMs, storageTimeoutMs, scope, requireKey, readKey, validation, fence, releaseId } = resolveOptions(options);

  // The side effect has happened: from here on the caller gets the result even if storing it fails, since
  // an error would only invite a retry that runs fn again once the claim lapses.
  async function complete(result: R, claim: { id: string; token: string; payloadHash: string | undefined; releaseId: string | undefined }, deadline: Deadline): Promise<void> {
    const { id } = claim;
    const completion = { ...claim, expiresAt: Math.floor(Date.now() / 1000) + expiresAfter };
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
        return;
      } catch (error) {
        if (!isItemTooLarge(error)) {
          // A failure of the store itself (unreachable, throttled, timed out): the claim stays until its lease
          // ends, after which a retry runs fn again. Nothing better is safe: releasing would invite it at once.
          logWarning('complete', id, error);
          return;
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
  }

  return async (event: E, context?: C): Promise<IdempotentStep<R>> => {
    const shadow = process.env[SHADOW_MODE_ENV];
    if (shadow === 'true' || shadow === '1') throw new IdempotencyShadowModeError(SHADOW_MODE_ENV, shadow);
    const call: { seen?: SeenAgain } = {};
    const counts = recordedCounts();
    // Outside a withRelease invocation nothing is counted: the call goes straight on.
    if (!counts) return decide(event, context, call);
    try {
      return await decide(event, context, call);
    } finally {
      countIdempotentCall(counts, deliveryOf ? deliveryOf(event) : event, call.seen);
    }
  };

  /** What one call is to do; `call.seen` says how it met its key, if it met it before. */
  async function decide(event: E, context: C | undefined, call: { seen?: SeenAgain }): Promise<IdempotentStep<R>> {
    // Key and payload hash are computed here, once, from the event as received: whatever fn does to its
    // input afterwards cannot change what is stored or compared.
    const key = readKey.read(event);
    if (key === undefined) {
      if (requireKey && !passKeyless?.(event)) throw new IdempotencyKeyMissingError(readKey.source);
      return RUN;
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
    const deadline: Deadline = (operation, call) => withDeadline(operation, id, storageTimeoutMs, call);
    // Releases only this call's claim (conditional on the token): never a lock someone else holds. Never throws.
    const release = async (): Promise<void> => {
      try {
        await deadline('release', (signal) => store.release(id, token, { signal }));
      } catch (releaseError) {
        logWarning('release', id, releaseError);
      }
    };
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
          // Over a claim that lapsed: the call that held it crashed, timed out or could not record its result.
          if (outcome.replaced?.status === 'INPROGRESS') call.seen = 'taken_over';
          break;
        }
        existing = outcome.existing;
      } catch (error) {
        if (error instanceof IdempotencyStorageTimeoutError) {
          // The claim may still land after we stopped waiting: take back whatever this call's token wrote, so
          // that no claim without a running body is left behind to block retries until its lease ends.
          await release();
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
          call.seen = 'not_stored';
          throw new IdempotencyResultNotStoredError(id, key, existing.resultNotStored, existing.expiresAt);
        }
        let result: R;
        try {
          result = decode<R>(existing.data);
        } catch (error) {
          throw new IdempotencyStorageError('read', id, error);
        }
        call.seen = 'replayed';
        return { kind: 'replay', result };
      }
      const retryAfter = Math.max(1, Math.ceil(((existing.inProgressUntil ?? Date.now()) - Date.now()) / 1000));
      call.seen = 'in_progress';
      throw new IdempotencyInProgressError(id, retryAfter, existing.releaseId);
    }
    if (!claimed) {
      throw new IdempotencyStorageError('claim', id, new Error(`the record changed under ${CLAIM_ATTEMPTS} claim attempts in a row`));
    }
    return {
      kind: 'claimed',
      release,
      complete: (result) => complete(result, { id, token, payloadHash, releaseId }, deadline),
    };
  }
}

/** Runs `fn` as the step says: the one sequence makeIdempotent and guardrails share. */
export function runIdempotent<E, R, C extends IdempotencyContext>(
  steps: (event: E, context?: C) => Promise<IdempotentStep<R>>,
  fn: (event: E, context: C) => Promise<R>,
): (event: E, context?: C) => Promise<R> {
  return async function idempotent(event: E, context?: C): Promise<R> {
    const step = await steps(event, context);
    if (step.kind === 'replay') return step.result;
    if (step.kind === 'run') return fn(event, context as C);
    let result: R;
    try {
      result = await fn(event, context as C);
    } catch (error) {
      await step.release();
      throw error;
    }
    await step.complete(result);
    return result;
  };
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
