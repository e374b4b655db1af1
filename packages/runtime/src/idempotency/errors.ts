/**
 * The idempotency errors, one hierarchy: catch `IdempotencyError` for all of them, or a subclass to act on
 * one case (`IdempotencyInProgressError` → 409 with Retry-After, `IdempotencyKeyReuseError` → 422).
 */

/** The base of every error raised by the idempotency runtime. */
export class IdempotencyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdempotencyError';
  }
}

/** Another call holds the key and has not finished; retry after `retryAfterSeconds`. */
export class IdempotencyInProgressError extends IdempotencyError {
  /** The record id (scope and hashed key) that is held. */
  public readonly recordId: string;
  /** Seconds until the holder's claim expires and the key can be claimed again (at least 1). */
  public readonly retryAfterSeconds: number;
  /** The release that holds the claim, when the call was fenced. */
  public readonly heldByRelease?: string;

  constructor(recordId: string, retryAfterSeconds: number, heldByRelease?: string) {
    super(`idempotency key ${recordId} is being processed by another call${heldByRelease ? ` (release ${heldByRelease})` : ''}; retry after ${retryAfterSeconds} s`);
    this.name = 'IdempotencyInProgressError';
    this.recordId = recordId;
    this.retryAfterSeconds = retryAfterSeconds;
    this.heldByRelease = heldByRelease;
  }
}

/** The key was used before with a different payload. */
export class IdempotencyKeyReuseError extends IdempotencyError {
  /** The record id (scope and hashed key) that was reused. */
  public readonly recordId: string;
  /** The payload hash stored with the key. */
  public readonly storedPayloadHash: string;
  /** The payload hash of this call. */
  public readonly payloadHash: string;

  constructor(recordId: string, storedPayloadHash: string, payloadHash: string) {
    super(`idempotency key ${recordId} was already used with a different payload (stored hash ${storedPayloadHash}, this call ${payloadHash})`);
    this.name = 'IdempotencyKeyReuseError';
    this.recordId = recordId;
    this.storedPayloadHash = storedPayloadHash;
    this.payloadHash = payloadHash;
  }
}

/** The event carries no idempotency key where the options say to find it. */
export class IdempotencyKeyMissingError extends IdempotencyError {
  /** Where the key was looked for, e.g. `header Idempotency-Key` or `path $.detail.id`. */
  public readonly source: string;

  constructor(source: string) {
    super(`no idempotency key in the event: expected ${source}`);
    this.name = 'IdempotencyKeyMissingError';
    this.source = source;
  }
}

/** The idempotency store could not be read or written; `cause` holds the underlying error. */
export class IdempotencyStorageError extends IdempotencyError {
  /** The store operation that failed: `claim`, `read`, `complete` or `release`. */
  public readonly operation: string;
  /** The record id involved. */
  public readonly recordId: string;

  constructor(operation: string, recordId: string, cause: unknown, message?: string) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(message ?? `idempotency store failed to ${operation} record ${recordId}: ${detail}`, { cause });
    this.name = 'IdempotencyStorageError';
    this.operation = operation;
    this.recordId = recordId;
  }
}

/**
 * A store call did not answer within the wrapper's `storageTimeoutMs`: a storage error (catch it as
 * `IdempotencyStorageError`) that also says which call and how long it was given.
 */
export class IdempotencyStorageTimeoutError extends IdempotencyStorageError {
  /** The deadline the call had, in milliseconds. */
  public readonly timeoutMs: number;

  constructor(operation: string, recordId: string, timeoutMs: number) {
    super(operation, recordId, new Error(`no answer within ${timeoutMs} ms`),
      `idempotency store did not answer the ${operation} of record ${recordId} within ${timeoutMs} ms (storageTimeoutMs)`);
    this.name = 'IdempotencyStorageTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Thrown by a store's `complete` when the record with the result would exceed what the store can hold
 * (DynamoDB: 400 KB per item). `makeIdempotent` catches it and marks the record completed without its result
 * (see `IdempotencyResultNotStoredError`); a custom store signals the same case by throwing it.
 */
export class IdempotencyItemTooLargeError extends IdempotencyError {
  /** The size the record would have had, in bytes. */
  public readonly bytes: number;
  /** The store's limit, in bytes. */
  public readonly limitBytes: number;

  constructor(bytes: number, limitBytes: number) {
    super(`the record with the result would be ${bytes} bytes, over the store's item limit of ${limitBytes} bytes`);
    this.name = 'IdempotencyItemTooLargeError';
    this.bytes = bytes;
    this.limitBytes = limitBytes;
  }
}

/**
 * A call with this key already ran the body and completed, but its result could not be stored (it was not
 * serialisable as JSON, or too large for the store), so there is nothing to return; the body is not run again
 * for this key until the record expires. Repeat the operation with a new key; to make results replayable, return
 * a JSON-serialisable result that fits the store (under 400 KB in DynamoDB), e.g. an id to look the result up by.
 */
export class IdempotencyResultNotStoredError extends IdempotencyError {
  /** The record id (scope and hashed key). */
  public readonly recordId: string;
  /** The idempotency key as read from the event. */
  public readonly key: string;
  /** Why the first call's result could not be stored. */
  public readonly reason: string;
  /** When the record stops counting (epoch seconds); a call with this key after that runs the body again. */
  public readonly expiresAt: number;

  constructor(recordId: string, key: string, reason: string, expiresAt: number) {
    const shown = key.length > 200 ? `${JSON.stringify(key.slice(0, 200))}…` : JSON.stringify(key);
    super(`idempotency key ${shown} (record ${recordId}) was already used: the first call completed, but its result could not be stored (${reason}), `
      + `so it cannot be returned again and the body does not run again for this key until ${isoOrRaw(expiresAt)}. `
      + 'Send a new key to repeat the operation; return a JSON-serialisable result that fits the store to make duplicates replayable');
    this.name = 'IdempotencyResultNotStoredError';
    this.recordId = recordId;
    this.key = key;
    this.reason = reason;
    this.expiresAt = expiresAt;
  }
}

function isoOrRaw(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  return Number.isNaN(date.getTime()) ? String(epochSeconds) : date.toISOString();
}

/** The same class as `IdempotencyStorageError`, under the name Powertools users look for. */
export const IdempotencyPersistenceError = IdempotencyStorageError;

/** The options given to `makeIdempotent` are invalid (the message names the option and its value). */
export class IdempotencyConfigurationError extends IdempotencyError {
  constructor(message: string) {
    super(message);
    this.name = 'IdempotencyConfigurationError';
  }
}

/** The function runs in shadow mode, where writes are refused: an idempotent (write) path must not run. */
export class IdempotencyShadowModeError extends IdempotencyError {
  constructor(envName: string, value: string) {
    super(`idempotent writes are refused in shadow mode (${envName}=${value}): a shadow function must not claim or store idempotency records`);
    this.name = 'IdempotencyShadowModeError';
  }
}
