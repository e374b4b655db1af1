// The job fence of the field guide ("fence by (partition, release_id)"; "queues drain twice: lock by
// queue_partition + release_id"): one key per (scope, partition, release), claimed in the idempotency store, so
// that the work on one partition runs once per release however often its queue is drained (by the old and the
// new version during a rollout, or by a redelivery). The lock is makeIdempotent's own claim, lease and record:
// the same conditional writes, the same rules for a body that throws or a result that cannot be stored.
import { RELEASE_ID_ENV } from '../contract/release.js';
import { shown as describe } from '../release/errors.js';
import { releaseFromEnv } from '../release/pins.js';
import { IdempotencyConfigurationError, IdempotencyError, IdempotencyInProgressError } from './errors.js';
import type { IdempotencyContext, IdempotencyOptions } from './options.js';
import { idempotentSteps, runIdempotent, type IdempotentStep } from './steps.js';

/** What a fence key is made of. */
export interface FenceKeyInput {
  /** The partition the work is on (an SQS message group id, a Kinesis shard id, a tenant): a non-blank string. */
  readonly partition: string;
  /** The release doing the work. @default - the RELEASE_ID environment variable (GuardedAlias's `release` prop sets it) */
  readonly releaseId?: string;
  /** What is fenced: the job or consumer. @default - AWS_LAMBDA_FUNCTION_NAME, else 'default' */
  readonly scope?: string;
}

/** A part of a fence key is missing or unusable; `input` names it (`partition`, `releaseId`, `scope`, `RELEASE_ID`). */
export class FenceKeyError extends IdempotencyError {
  /** The input at fault. */
  public readonly input: string;

  constructor(input: string, message: string) {
    super(`fence key: ${input} ${message}`);
    this.name = 'FenceKeyError';
    this.input = input;
  }
}

/**
 * Another call holds the fence and has not finished: the work is running there (or its holder crashed, and the
 * fence is free once its lease ends). An `IdempotencyInProgressError`, so `idempotencyErrorResponse` and
 * existing handlers of that error treat it alike; a queue consumer should let the message be redelivered.
 */
export class FenceHeldError extends IdempotencyInProgressError {
  /** The fence key (`fenceKey`'s output). */
  public readonly key: string;
  /** When the holder's lease ends at the latest (rounded up to the second): a retry from then on can take the fence over. */
  public readonly heldUntil: Date;

  constructor(key: string, held: IdempotencyInProgressError) {
    super(held.recordId, held.retryAfterSeconds, held.heldByRelease);
    this.name = 'FenceHeldError';
    this.key = key;
    this.heldUntil = new Date(Date.now() + held.retryAfterSeconds * 1000);
    this.message = `fence ${key.length > 300 ? `${key.slice(0, 300)}…` : key} (record ${held.recordId}) is held by another call until ${this.heldUntil.toISOString()} at the latest; `
      + `retry after ${held.retryAfterSeconds} s: it will have completed (and its result is returned) or its lease will have ended`;
  }
}

/**
 * The fence key of (scope, partition, release): `fence:<scope>:<partition>:<release>`, each part percent-encoded
 * (`encodeURIComponent`: `:` and `%` among others), so the key is ASCII and two different inputs never give the
 * same key, whatever separators they contain. No Unicode normalisation: `é` composed and decomposed are two
 * partitions, as they are two message group ids.
 *
 * @throws FenceKeyError naming the input: a partition, scope or release that is not a string, is blank, or is not
 * well-formed Unicode (a lone surrogate); no release given and no RELEASE_ID in the environment
 */
export function fenceKey(input: FenceKeyInput): string {
  if (input === null || typeof input !== 'object') throw new FenceKeyError('input', `must be { partition, releaseId?, scope? }, got: ${describe(input)}`);
  const partition = keyPart('partition', input.partition);
  const scope = keyPart('scope', input.scope ?? defaultScope());
  const release = input.releaseId === undefined
    ? keyPart(RELEASE_ID_ENV, releaseFromEnv()[RELEASE_ID_ENV] ?? missingRelease())
    : keyPart('releaseId', input.releaseId);
  return `fence:${scope}:${partition}:${release}`;
}

/** Options of `makeFence` and `fenceMiddleware`: the store's (as for `makeIdempotent`), the scope and the release. */
export interface FenceOptions extends Pick<IdempotencyOptions<unknown>, 'table' | 'client' | 'store' | 'expiresAfter' | 'inProgressTimeout' | 'storageTimeoutMs'> {
  /** What is fenced: the job or consumer; part of every key. @default - AWS_LAMBDA_FUNCTION_NAME, else 'default' */
  readonly scope?: string;
  /** The release of every call that names none. @default - the RELEASE_ID environment variable, read per call */
  readonly releaseId?: string;
}

/** What one fenced call works on. */
export interface FenceTarget {
  /** The partition: a non-blank string. */
  readonly partition: string;
  /** @default - the fence's `releaseId`, else RELEASE_ID */
  readonly releaseId?: string;
  /**
   * The queue record the work is for (an SQS record of the event), for telemetry only: under `withRelease`, a record
   * whose `attributes.ApproximateReceiveCount` is above 1 counts as a retry of the invocation's release.
   * @default - none: only a fence key seen again counts as a retry
   */
  readonly record?: unknown;
}

/** How a fenced call ended. */
export interface FenceOutcome<R> {
  /** The fence key. */
  readonly key: string;
  /** true: this call ran the work; false: the work had completed for this key, and `result` is its recorded result. */
  readonly ran: boolean;
  /** The work's result: as returned when `ran`, else as recorded (JSON: what `JSON.parse(JSON.stringify(result))` gives). */
  readonly result: R;
}

/** Runs `work` under the fence of `target`: see {@link makeFence}. */
export type FenceRunner = <R>(target: FenceTarget, work: () => Promise<R>, context?: IdempotencyContext) => Promise<FenceOutcome<R>>;

/**
 * A runner that does `work` once per (partition, release) key, with the idempotency store as the lock:
 * - the first call claims the key (one conditional write), runs `work` and records its result: `{ ran: true }`;
 * - a call while the work runs elsewhere gets `FenceHeldError` (the key, and `heldUntil`), without running it;
 * - a call after it completed gets `{ ran: false, result }`, the recorded result, without running it;
 * - when `work` throws, the claim is released (only this call's) and the error rethrown, as `makeIdempotent`
 *   does: nothing is recorded, and the next call runs the work again;
 * - when the caller crashes or times out mid-work, the claim stays until its lease ends (the invocation's
 *   remaining time, from `context`; else `inProgressTimeout`), then the next call takes it over and runs the work.
 * Another release for the same partition is another key: each release does the work once.
 *
 * Build it once, outside the handler (it makes the store's client). Each call reads RELEASE_ID unless a release
 * is given. The guarantee lasts as long as the record: after `expiresAfter` the key can be claimed again.
 *
 * @throws IdempotencyConfigurationError now, for an invalid store option; FenceKeyError now, for a blank scope or releaseId
 */
export function makeFence(options: FenceOptions = {}): FenceRunner {
  const keyOf = fenceKeys(options);
  const steps = fenceSteps<unknown>(options);
  return async <R>(target: FenceTarget, work: () => Promise<R>, context?: IdempotencyContext): Promise<FenceOutcome<R>> => {
    if (typeof work !== 'function') throw new IdempotencyConfigurationError(`the fenced work must be a function, got: ${describe(work)}`);
    const key = keyOf(target);
    let ran = false;
    const result = await runIdempotent(steps, async () => {
      ran = true;
      return work();
    })({ key, delivery: target.record }, context);
    return { key, ran, result: result as R };
  };
}

/** The key of a target under `options`; checks the scope and the release of the options now. */
export function fenceKeys(options: FenceOptions): (target: FenceTarget) => string {
  if (options === null || typeof options !== 'object') throw new IdempotencyConfigurationError(`fence options must be an object, got: ${describe(options)}`);
  const scope = options.scope ?? defaultScope();
  keyPart('scope', scope);
  if (options.releaseId !== undefined) keyPart('releaseId', options.releaseId);
  return (target) => {
    if (target === null || typeof target !== 'object') throw new FenceKeyError('target', `must be { partition, releaseId? }, got: ${describe(target)}`);
    return fenceKey({ partition: target.partition, releaseId: target.releaseId ?? options.releaseId, scope });
  };
}

/** One fenced call: its fence key, and the delivery whose SQS records telemetry counts as retries when received before. */
export interface FenceCall {
  readonly key: string;
  readonly delivery?: unknown;
}

/**
 * makeIdempotent's steps keyed by a fence key: a record of its own (scope `<scope>#fence`, which no Idempotency-Key
 * sent to makeIdempotent can reach), no payload check, and "in progress" reported as FenceHeldError.
 */
export function fenceSteps<R>(options: FenceOptions): (call: FenceCall, context?: IdempotencyContext) => Promise<IdempotentStep<R>> {
  const { table, client, store, expiresAfter, inProgressTimeout, storageTimeoutMs } = options;
  const scope = options.scope ?? defaultScope();
  const steps = idempotentSteps<FenceCall, R>({
    table, client, store, expiresAfter, inProgressTimeout, storageTimeoutMs,
    scope: `${scope}#fence`,
    key: (call) => call.key,
    requireKey: true,
    payloadValidation: false,
  }, undefined, (call) => call.delivery);
  return async (call, context) => {
    try {
      return await steps(call, context);
    } catch (error) {
      throw error instanceof IdempotencyInProgressError ? new FenceHeldError(call.key, error) : error;
    }
  };
}

function defaultScope(): string {
  return process.env.AWS_LAMBDA_FUNCTION_NAME || 'default';
}

function missingRelease(): never {
  throw new FenceKeyError(RELEASE_ID_ENV, 'is not set and no releaseId was given: give the GuardedAlias a `release` (it sets RELEASE_ID on every '
    + 'published version) or pass releaseId, so that each release fences its own drain');
}

/** One part of a key, percent-encoded. */
function keyPart(input: string, value: unknown): string {
  if (typeof value !== 'string') throw new FenceKeyError(input, `must be a string, got: ${describe(value)}`);
  if (!/\S/.test(value)) throw new FenceKeyError(input, `must not be blank, got: ${JSON.stringify(value)}`);
  try {
    return encodeURIComponent(value);
  } catch {
    throw new FenceKeyError(input, `must be well-formed Unicode (it holds a lone surrogate), got: ${JSON.stringify(value)}`);
  }
}
