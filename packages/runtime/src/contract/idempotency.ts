/**
 * Names of the environment variables shared by the IdempotencyTable construct (which sets them) and the
 * runtime (which reads them). Kept free of imports so that lib/ can use them without pulling in the runtime.
 */

/** The idempotency table's name; set by `IdempotencyTable.grant(fn)`. */
export const IDEMPOTENCY_TABLE_ENV = 'GUARDRAILS_IDEMPOTENCY_TABLE';

/** How long a completed record is kept, in seconds; set by `IdempotencyTable.grant(fn)` from the table's `ttl`. */
export const IDEMPOTENCY_TTL_ENV = 'GUARDRAILS_IDEMPOTENCY_TTL_SECONDS';

/** Marks a shadow function: `makeIdempotent` refuses to write while it is `true` or `1`. */
export const SHADOW_MODE_ENV = 'GUARDRAILS_SHADOW_MODE';

/** Default record lifetime when neither `expiresAfter` nor the environment says: a 24 h release window + 24 h. */
export const DEFAULT_EXPIRES_AFTER_SECONDS = 48 * 3600;

/**
 * The DynamoDB attribute names of an idempotency record. `id` and `expiration` are fixed by the table.
 * `held_until` (epoch ms) is when the record stops holding its key: the lease end of an in-progress claim, the
 * expiry of a completed record; it lets one comparison decide a claim.
 */
export const ATTR = {
  key: 'id',
  expiration: 'expiration',
  status: 'status',
  heldUntil: 'held_until',
  token: 'claim_token',
  payloadHash: 'payload_hash',
  data: 'data',
  releaseId: 'release_id',
  /** Why a completed record holds no result (it could not be stored); absent when the result is stored. */
  notStored: 'result_not_stored',
} as const;
