/** Idempotency for Lambda handlers: `makeIdempotent`, its errors, the record store and the seeds' dedupe key. */
export * from './errors';
export { IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY_TTL_ENV, SHADOW_MODE_ENV, DEFAULT_EXPIRES_AFTER_SECONDS } from './env';
export { dedupeKey, stableStringify, DEFAULT_KEY_HEADER, type EventSelector } from './keys';
export * from './make-idempotent';
export * from './persistence/store';
export * from './persistence/dynamodb';
export * from './persistence/memory';
