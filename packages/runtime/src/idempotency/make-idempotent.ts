import {
  IdempotencyConfigurationError,
  IdempotencyInProgressError,
  IdempotencyKeyMissingError,
  IdempotencyKeyReuseError,
  IdempotencyResultNotStoredError,
} from './errors.js';
import type { IdempotencyContext, IdempotencyOptions } from './options.js';
import { idempotentSteps, runIdempotent } from './steps.js';

export { DEFAULT_STORAGE_TIMEOUT_MS } from './options.js';
export type { IdempotencyContext, IdempotencyFence, IdempotencyKeySource, IdempotencyOptions } from './options.js';

/** The wrapped function: same event and context as the function it wraps (the context may be left out). */
export type IdempotentFunction<E, R, C = IdempotencyContext> = (event: E, context?: C) => Promise<R>;

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
  return runIdempotent(idempotentSteps<E, R, C>(options), fn);
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
