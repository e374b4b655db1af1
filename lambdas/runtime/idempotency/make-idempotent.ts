import { randomUUID } from 'crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEFAULT_EXPIRES_AFTER_SECONDS, IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY_TTL_ENV, RELEASE_ID_ENV, SHADOW_MODE_ENV } from './env';
import {
  IdempotencyConfigurationError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyKeyMissingError,
  IdempotencyKeyReuseError,
  IdempotencyStorageError,
  IdempotencyShadowModeError,
} from './errors';
import { DEFAULT_KEY_HEADER, type EventSelector, headerValue, isHttpEvent, keyText, select, sha256, stableStringify } from './keys';
import { DynamoDBIdempotencyStore } from './persistence/dynamodb';
import type { IdempotencyRecord, IdempotencyStore } from './persistence/store';

/** The part of the Lambda context the wrapper reads. */
export interface IdempotencyContext {
  getRemainingTimeInMillis?(): number;
}

/** Where the idempotency key comes from. A plain string is a JSON path, like `{ path }`. */
export type IdempotencyKeySource<E> =
  | string
  /** An HTTP header, matched in any case, of an API Gateway v1/v2 (or function URL / ALB) event. */
  | { readonly header: string }
  /** A JSON path into the event (`$.detail.id`; a JSON string on the way, like an API body, is parsed). */
  | { readonly path: string }
  /** A function of the event. */
  | ((event: E) => unknown);

/**
 * A fence for queue consumers during a rollout: the key is scoped to the queue partition and not to the
 * release, so two releases reading the same partition contend for the same record and only one processes it;
 * the record names the release that claimed it.
 */
export interface IdempotencyFence<E> {
  /**
   * The queue partition (shard id, message group id): a JSON path into the event (`{ path }`, or a string
   * starting with `$`), a function of the event, or any other string as the literal partition.
   */
  readonly partition: string | { readonly path: string } | ((event: E) => unknown);
  /** The release processing the event. @default - the RELEASE_ID environment variable */
  readonly releaseId?: string;
}

/** Options of `makeIdempotent`. */
export interface IdempotencyOptions<E> {
  /**
   * The table name.
   * @default - the GUARDRAILS_IDEMPOTENCY_TABLE environment variable (set by `IdempotencyTable.grant`), else IDEMPOTENCY_TABLE_NAME (the name Powertools' examples use)
   */
  readonly table?: string;
  /** The DynamoDB client (for tests and custom endpoints). @default - a new DynamoDBClient with the SDK's defaults */
  readonly client?: DynamoDBClient;
  /** Another store instead of the DynamoDB one; `table` and `client` are then ignored. @default - DynamoDB */
  readonly store?: IdempotencyStore;
  /** Where the key comes from. @default { header: 'Idempotency-Key' } */
  readonly key?: IdempotencyKeySource<E>;
  /**
   * Whether a reused key must come with the same payload, and which part of the event is the payload:
   * `true` means the body for HTTP events and the whole event otherwise; a selector picks the part.
   * @default - true for HTTP (API Gateway) events, false for others
   */
  readonly payloadValidation?: boolean | EventSelector<E>;
  /**
   * How long a completed record counts, in seconds.
   * @default - the GUARDRAILS_IDEMPOTENCY_TTL_SECONDS environment variable (set by `IdempotencyTable.grant`), else 172800 (48 h)
   */
  readonly expiresAfter?: number;
  /**
   * How long an in-progress claim holds, in seconds, when the call has no Lambda context; with a context the
   * claim lapses when the invocation's remaining time runs out.
   * @default 900 (the Lambda maximum timeout)
   */
  readonly inProgressTimeout?: number;
  /** What a record id is prefixed with, so that functions sharing a table do not collide. @default - AWS_LAMBDA_FUNCTION_NAME, else 'default' */
  readonly scope?: string;
  /** When the event has no key: throw `IdempotencyKeyMissingError` (true) or run the function without idempotency (false). @default true */
  readonly requireKey?: boolean;
  /** Fences queue partitions between releases. @default - no fence */
  readonly fence?: IdempotencyFence<E>;
}

/** The wrapped function: same event and context as the function it wraps (the context may be left out). */
export type IdempotentFunction<E, R, C = IdempotencyContext> = (event: E, context?: C) => Promise<R>;

const CLAIM_ATTEMPTS = 3;

/**
 * Wraps `fn` so that it runs once per idempotency key: the first call claims the key with one conditional
 * write, runs `fn` and stores its result; later calls with the key get the stored result (as JSON) without
 * running `fn`. If `fn` throws, only this call's claim is released and the error rethrown, so the call can be
 * retried. If the claim cannot be written, `fn` does not run.
 */
export function makeIdempotent<E, R, C extends IdempotencyContext = IdempotencyContext>(
  fn: (event: E, context: C) => Promise<R>,
  options: IdempotencyOptions<E> = {},
): IdempotentFunction<E, R, C> {
  if (typeof fn !== 'function') throw new IdempotencyConfigurationError(`makeIdempotent needs a function, got: ${typeof fn}`);
  const store = options.store ?? new DynamoDBIdempotencyStore({ tableName: tableName(options.table), client: options.client });
  const expiresAfter = positiveSeconds('expiresAfter', options.expiresAfter ?? envSeconds(IDEMPOTENCY_TTL_ENV) ?? DEFAULT_EXPIRES_AFTER_SECONDS);
  const inProgressTimeoutMs = positiveSeconds('inProgressTimeout', options.inProgressTimeout ?? 900) * 1000;
  const scope = options.scope ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'default';
  if (scope.length === 0 || scope.length > 512) throw new IdempotencyConfigurationError(`scope must be 1 to 512 characters, got: ${JSON.stringify(scope)}`);
  const requireKey = options.requireKey ?? true;
  const readKey = keyReader(options.key ?? { header: DEFAULT_KEY_HEADER });
  const validation = options.payloadValidation;
  const fence = options.fence;
  const releaseId = fence ? fence.releaseId ?? process.env[RELEASE_ID_ENV] : undefined;
  if (fence) {
    const p = fence.partition as unknown;
    const valid = (typeof p === 'string' && p !== '') || typeof p === 'function' || (typeof p === 'object' && p !== null && typeof (p as { path?: unknown }).path === 'string');
    if (!valid) throw new IdempotencyConfigurationError(`fence.partition must be a value, { path } or a function, got: ${JSON.stringify(p)}`);
    if (typeof p === 'object') select({}, (p as { path: string }).path);
    if (typeof p === 'string' && p.startsWith('$')) select({}, p);
  }

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
    let claimed = false;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS && !claimed; attempt++) {
      const now = Date.now();
      const remaining = context?.getRemainingTimeInMillis?.();
      // A call already out of time gets a lease that has already ended, not the no-context default.
      const lease = typeof remaining === 'number' && Number.isFinite(remaining) ? Math.max(0, remaining) : inProgressTimeoutMs;
      let existing: IdempotencyRecord | undefined;
      try {
        const outcome = await store.claim({
          id,
          token,
          now,
          expiresAt: Math.floor(now / 1000) + expiresAfter,
          inProgressUntil: now + lease,
          payloadHash,
          releaseId,
        });
        if (outcome.claimed) {
          claimed = true;
          break;
        }
        existing = outcome.existing;
      } catch (error) {
        throw error instanceof IdempotencyError ? error : new IdempotencyStorageError('claim', id, error);
      }
      // Gone (released or expired between our write and the read): claim again.
      if (!existing || !isLive(existing, Date.now())) continue;
      if (payloadHash !== undefined && existing.payloadHash !== undefined && existing.payloadHash !== payloadHash) {
        throw new IdempotencyKeyReuseError(id, existing.payloadHash, payloadHash);
      }
      if (existing.status === 'COMPLETED') {
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
        await store.release(id, token);
      } catch (releaseError) {
        logWarning('release', id, releaseError);
      }
      throw error;
    }

    // The side effect has happened: from here on the caller gets the result even if storing it fails, since
    // an error would only invite a retry that runs fn again once the claim lapses.
    try {
      const stored = await store.complete({
        id,
        token,
        expiresAt: Math.floor(Date.now() / 1000) + expiresAfter,
        data: result === undefined ? undefined : JSON.stringify(result),
        payloadHash,
        releaseId,
      });
      if (!stored) logWarning('complete', id, new Error('the claim lapsed and another call took the key before the result was stored'));
    } catch (error) {
      logWarning('complete', id, error);
    }
    return result;
  };
}

/**
 * Maps an idempotency error to an API Gateway proxy response: 409 with Retry-After for a key in progress,
 * 422 for a key reused with another payload, 400 for a missing key; undefined for anything else.
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
  if (error instanceof IdempotencyKeyMissingError) return json(400, error.message);
  return undefined;
}

function isLive(record: IdempotencyRecord, now: number): boolean {
  if (record.expiresAt < Math.floor(now / 1000)) return false;
  return !(record.status === 'INPROGRESS' && record.inProgressUntil !== undefined && record.inProgressUntil < now);
}

function decode<R>(data: string | undefined): R {
  return (data === undefined ? undefined : JSON.parse(data)) as R;
}

function keyReader<E>(source: IdempotencyKeySource<E>): { read(event: E): string | undefined; source: string } {
  if (typeof source === 'function') return { read: (event) => keyText(source(event)), source: 'a key from the key function' };
  if (typeof source === 'string') {
    if (source.length > 0) return keyReader<E>({ path: source });
  } else if (typeof source === 'object' && source !== null && 'header' in source && typeof source.header === 'string' && source.header.length > 0) {
    const name = source.header;
    return { read: (event) => keyText(headerValue(event, name)), source: `header ${name}` };
  }
  if (typeof source === 'object' && source !== null && 'path' in source && typeof source.path === 'string' && source.path.length > 0) {
    const path = source.path;
    select({}, path); // parse now, so that a malformed path fails when the handler is built
    return { read: (event) => keyText(select(event, path)), source: `a value at ${path}` };
  }
  throw new IdempotencyConfigurationError(`key must be a JSON path, { header }, { path } or a function, got: ${JSON.stringify(source)}`);
}

function payloadHashOf<E>(event: E, validation: boolean | EventSelector<E> | undefined): string | undefined {
  if (validation === false) return undefined;
  if (validation === undefined || validation === true) {
    if (isHttpEvent(event)) return sha256(event.body ?? '');
    return validation === true ? sha256(stableStringify(event)) : undefined;
  }
  const payload = select(event, validation);
  return sha256(typeof payload === 'string' ? payload : stableStringify(payload));
}

function tableName(option: string | undefined): string {
  const name = option ?? process.env[IDEMPOTENCY_TABLE_ENV] ?? process.env.IDEMPOTENCY_TABLE_NAME;
  if (!name) {
    throw new IdempotencyConfigurationError(`no idempotency table: pass options.table or set ${IDEMPOTENCY_TABLE_ENV} (IdempotencyTable.grant(fn) sets it), got: ${JSON.stringify(name)}`);
  }
  return name;
}

function envSeconds(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new IdempotencyConfigurationError(`${name} must be a positive whole number of seconds, got: ${JSON.stringify(raw)}`);
  return value;
}

function positiveSeconds(option: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new IdempotencyConfigurationError(`${option} must be a positive whole number of seconds, got: ${JSON.stringify(value)}`);
  }
  return value;
}

function logWarning(operation: string, id: string, error: unknown): void {
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.warn(JSON.stringify({ level: 'WARN', source: 'cdk-rollout-guardrails/idempotency', operation, recordId: id, error: detail }));
}
