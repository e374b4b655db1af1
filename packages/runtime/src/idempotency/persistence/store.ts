/** The small storage interface behind `makeIdempotent`; `DynamoDBIdempotencyStore` is the implementation. */

/** The two states of a record. */
export type IdempotencyStatus = 'INPROGRESS' | 'COMPLETED';

/** One idempotency record as the engine sees it. */
export interface IdempotencyRecord {
  /** The record id: scope and hashed key. */
  readonly id: string;
  readonly status: IdempotencyStatus;
  /** When the record stops counting (epoch seconds; also the table's TTL attribute). */
  readonly expiresAt: number;
  /** When an in-progress claim lapses (epoch milliseconds). */
  readonly inProgressUntil?: number;
  /** The random token of the call that made the claim. */
  readonly token?: string;
  readonly payloadHash?: string;
  /** The stored result as JSON; absent when the function returned undefined. */
  readonly data?: string;
  /** The release that claimed the record, for fenced calls. */
  readonly releaseId?: string;
  /**
   * Set on a completed record whose result could not be stored (not serialisable as JSON, or too large for the
   * store): why. Such a record holds no `data`; a duplicate gets `IdempotencyResultNotStoredError`.
   */
  readonly resultNotStored?: string;
}

/** What a call asks for when it claims a key. */
export interface ClaimRequest {
  readonly id: string;
  readonly token: string;
  /** The current time in epoch milliseconds (one clock reading for the whole claim). */
  readonly now: number;
  readonly expiresAt: number;
  readonly inProgressUntil: number;
  readonly payloadHash?: string;
  readonly releaseId?: string;
}

/**
 * The result of a claim: either this call holds the key, or here is the record that stopped it (if still there).
 * A store that can tell at no extra cost says which lapsed record the claim overwrote (`replaced`: DynamoDB's
 * store does, from the claim's own PutItem); it only feeds telemetry (a claim over a lapsed one is a retry).
 */
export type ClaimOutcome =
  | { readonly claimed: true; readonly replaced?: IdempotencyRecord }
  | { readonly claimed: false; readonly existing: IdempotencyRecord | undefined };

/** What a successful call stores. */
export interface CompleteRequest {
  readonly id: string;
  readonly token: string;
  readonly expiresAt: number;
  readonly data?: string;
  readonly payloadHash?: string;
  readonly releaseId?: string;
  /** Instead of `data`: why the result could not be stored (a short text), so that duplicates are told so. */
  readonly resultNotStored?: string;
}

/** Per-call options `makeIdempotent` passes to every store call. */
export interface StoreCallOptions {
  /** Aborted when the call's deadline (`storageTimeoutMs`) passes: a store should stop waiting then. */
  readonly signal?: AbortSignal;
}

/** Storage for idempotency records. Every write is conditional on what the caller holds. */
export interface IdempotencyStore {
  /**
   * Claims `id` unless a live record holds it. A record counts as absent when it has expired or when it is an
   * in-progress claim whose `inProgressUntil` has passed.
   */
  claim(request: ClaimRequest, options?: StoreCallOptions): Promise<ClaimOutcome>;
  /**
   * Stores the result, only while the claim `token` still holds the record. Returns false if it no longer does.
   * Throws `IdempotencyItemTooLargeError` when the record with the result would be larger than the store holds.
   */
  complete(request: CompleteRequest, options?: StoreCallOptions): Promise<boolean>;
  /** Deletes the record only while it is the in-progress claim `token`. Returns false if it was not. */
  release(id: string, token: string, options?: StoreCallOptions): Promise<boolean>;
}
