/** Idempotency for Lambda handlers: `makeIdempotent`, its errors, the record store and the seeds' dedupe key. */
export * from './errors.js';
export { IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY_TTL_ENV, SHADOW_MODE_ENV, DEFAULT_EXPIRES_AFTER_SECONDS } from '../contract/idempotency.js';
export { dedupeKey, stableStringify, DEFAULT_KEY_HEADER, type EventSelector } from './keys.js';
export * from './make-idempotent.js';
export * from './persistence/store.js';
export * from './persistence/dynamodb.js';
export * from './persistence/memory.js';
export { idempotencyMiddleware } from './middleware.js';
