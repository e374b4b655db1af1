// The options of makeIdempotent: their types, and how they are checked and resolved (options first, then the
// environment IdempotencyTable.grant sets, then the defaults) when the handler is built, so that a bad option
// fails at cold start and not on the first call.
import { DEFAULT_EXPIRES_AFTER_SECONDS, IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY_TTL_ENV } from '../contract/idempotency.js';
import { RELEASE_ID_ENV } from '../contract/release.js';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IdempotencyConfigurationError } from './errors.js';
import { DEFAULT_KEY_HEADER, type EventSelector, headerValue, isHttpEvent, keyText, select, sha256, stableStringify } from './keys.js';
import { DynamoDBIdempotencyStore } from './persistence/dynamodb.js';
import type { IdempotencyStore } from './persistence/store.js';

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
   * How long a completed record counts, in seconds. An in-progress claim is kept at least until its lease ends,
   * even when this is shorter than the lease (a claim that expired under a running call would let a second call run).
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
  /**
   * The deadline of each store call (claim, store the result, release), in milliseconds. A call that has not
   * answered by then fails with `IdempotencyStorageTimeoutError` (a claim: the body does not run, and the claim,
   * should it have been written after all, is released) or is given up with a warning (storing the result:
   * the caller still gets it). The store is told to stop through an `AbortSignal`.
   * @default 5000
   */
  readonly storageTimeoutMs?: number;
}

/** The default deadline of each store call, in milliseconds. */
export const DEFAULT_STORAGE_TIMEOUT_MS = 5_000;

/** The options as makeIdempotent works with them, checked and with their defaults. */
export interface ResolvedIdempotencyOptions<E> {
  readonly store: IdempotencyStore;
  readonly expiresAfter: number;
  readonly inProgressTimeoutMs: number;
  readonly storageTimeoutMs: number;
  readonly scope: string;
  readonly requireKey: boolean;
  readonly readKey: KeyReader<E>;
  readonly validation: boolean | EventSelector<E> | undefined;
  readonly fence: IdempotencyFence<E> | undefined;
  readonly releaseId: string | undefined;
}

/** Checks the options and fills in their defaults. @throws IdempotencyConfigurationError */
export function resolveOptions<E>(options: IdempotencyOptions<E>): ResolvedIdempotencyOptions<E> {
  if (options === null || typeof options !== 'object') throw new IdempotencyConfigurationError(`options must be an object, got: ${describe(options)}`);
  checkOptionTypes(options);
  const store = options.store ?? new DynamoDBIdempotencyStore({ tableName: tableName(options.table), client: options.client });
  const expiresAfter = positiveSeconds('expiresAfter', options.expiresAfter ?? envSeconds(IDEMPOTENCY_TTL_ENV) ?? DEFAULT_EXPIRES_AFTER_SECONDS);
  const inProgressTimeoutMs = positiveSeconds('inProgressTimeout', options.inProgressTimeout ?? 900) * 1000;
  const storageTimeoutMs = options.storageTimeoutMs ?? DEFAULT_STORAGE_TIMEOUT_MS;
  if (typeof storageTimeoutMs !== 'number' || !Number.isInteger(storageTimeoutMs) || storageTimeoutMs <= 0 || storageTimeoutMs > 900_000) {
    throw new IdempotencyConfigurationError(`storageTimeoutMs must be a whole number of milliseconds from 1 to 900000, got: ${describe(storageTimeoutMs)}`);
  }
  const scope = options.scope ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'default';
  if (typeof scope !== 'string' || scope.length === 0 || scope.length > 512) throw new IdempotencyConfigurationError(`scope must be 1 to 512 characters, got: ${describe(scope)}`);
  const requireKey = options.requireKey ?? true;
  const readKey = keyReader(options.key ?? { header: DEFAULT_KEY_HEADER });
  const validation = options.payloadValidation;
  // A malformed payload path would otherwise fail on the first call instead of when the handler is built.
  if (typeof validation === 'string') select({}, validation);
  const fence = options.fence;
  if (fence !== undefined && (fence === null || typeof fence !== 'object')) {
    throw new IdempotencyConfigurationError(`fence must be { partition, releaseId? }, got: ${describe(fence)}`);
  }
  if (fence?.releaseId !== undefined && (typeof fence.releaseId !== 'string' || fence.releaseId === '')) {
    throw new IdempotencyConfigurationError(`fence.releaseId must be a non-empty string, got: ${describe(fence.releaseId)}`);
  }
  const releaseId = fence ? fence.releaseId ?? process.env[RELEASE_ID_ENV] : undefined;
  if (fence) {
    const p = fence.partition as unknown;
    const valid = (typeof p === 'string' && p !== '') || typeof p === 'function' || (typeof p === 'object' && p !== null && typeof (p as { path?: unknown }).path === 'string');
    if (!valid) throw new IdempotencyConfigurationError(`fence.partition must be a value, { path } or a function, got: ${JSON.stringify(p)}`);
    if (typeof p === 'object') select({}, (p as { path: string }).path);
    if (typeof p === 'string' && p.startsWith('$')) select({}, p);
  }
  return { store, expiresAfter, inProgressTimeoutMs, storageTimeoutMs, scope, requireKey, readKey, validation, fence, releaseId };
}

/** Type checks of the options that are only read per call, so that a wrong type fails when the handler is built. */
function checkOptionTypes<E>(options: IdempotencyOptions<E>): void {
  const { table, client, store, requireKey, payloadValidation } = options;
  if (table !== undefined && (typeof table !== 'string' || table === '')) {
    throw new IdempotencyConfigurationError(`table must be a non-empty string, got: ${describe(table)}`);
  }
  if (client !== undefined && (client === null || typeof (client as { send?: unknown }).send !== 'function')) {
    throw new IdempotencyConfigurationError(`client must be a DynamoDBClient, got: ${describe(client)}`);
  }
  if (store !== undefined) {
    const missing = ['claim', 'complete', 'release'].filter((m) => typeof (store as unknown as Record<string, unknown> | null)?.[m] !== 'function');
    if (missing.length > 0) throw new IdempotencyConfigurationError(`store must implement claim, complete and release (missing ${missing.join(', ')}), got: ${describe(store)}`);
  }
  if (requireKey !== undefined && typeof requireKey !== 'boolean') {
    throw new IdempotencyConfigurationError(`requireKey must be true or false, got: ${describe(requireKey)}`);
  }
  if (payloadValidation !== undefined && !['boolean', 'string', 'function'].includes(typeof payloadValidation)) {
    throw new IdempotencyConfigurationError(`payloadValidation must be true, false, a JSON path or a function, got: ${describe(payloadValidation)}`);
  }
}

/** A value as an error message shows it: JSON where JSON can, else its type. */
function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return typeof value === 'bigint' ? `${value}n` : `a ${typeof value} that JSON cannot show`;
  }
}

/** Reads the idempotency key of an event; `source` names where it comes from, for the missing-key error. */
export interface KeyReader<E> {
  read(event: E): string | undefined;
  readonly source: string;
}

function keyReader<E>(source: IdempotencyKeySource<E>): KeyReader<E> {
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

export function payloadHashOf<E>(event: E, validation: boolean | EventSelector<E> | undefined): string | undefined {
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
