/**
 * The release identity a GuardedAlias's `release` prop puts into every published version's environment, and that
 * `pinGuard`, `withRelease` and the idempotency fence read back.
 */

/** The environment variable of the release ID. */
export const RELEASE_ID_ENV = 'RELEASE_ID';

/** The release pins: the construct prop, the environment variable, and the request header each is checked against. */
export const RELEASE_PINS = [
  { prop: 'schemaRev', pin: 'SCHEMA_REV', header: 'X-Schema-Rev' },
  { prop: 'indexHash', pin: 'INDEX_HASH', header: 'X-Index-Hash' },
  { prop: 'modelTag', pin: 'MODEL_TAG', header: 'X-Model-Tag' },
] as const;
