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

  constructor(operation: string, recordId: string, cause: unknown) {
    const detail = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`idempotency store failed to ${operation} record ${recordId}: ${detail}`, { cause });
    this.name = 'IdempotencyStorageError';
    this.operation = operation;
    this.recordId = recordId;
  }
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
