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

/** The result of a claim: either this call holds the key, or here is the record that stopped it (if still there). */
export type ClaimOutcome =
  | { readonly claimed: true }
  | { readonly claimed: false; readonly existing: IdempotencyRecord | undefined };

/** What a successful call stores. */
export interface CompleteRequest {
  readonly id: string;
  readonly token: string;
  readonly expiresAt: number;
  readonly data?: string;
  readonly payloadHash?: string;
  readonly releaseId?: string;
}

/** Storage for idempotency records. Every write is conditional on what the caller holds. */
export interface IdempotencyStore {
  /**
   * Claims `id` unless a live record holds it. A record counts as absent when it has expired or when it is an
   * in-progress claim whose `inProgressUntil` has passed.
   */
  claim(request: ClaimRequest): Promise<ClaimOutcome>;
  /** Stores the result, only while the claim `token` still holds the record. Returns false if it no longer does. */
  complete(request: CompleteRequest): Promise<boolean>;
  /** Deletes the record only while it is the in-progress claim `token`. Returns false if it was not. */
  release(id: string, token: string): Promise<boolean>;
}
