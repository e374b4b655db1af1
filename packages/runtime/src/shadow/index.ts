/**
 * Shadow traffic, runtime side: the tap that logs a deterministic, sanitised sample of a live handler's reads
 * for the mirror dispatcher, and the pieces the dispatcher shares with it (record format, JSON paths).
 * Named exports only (see ../probe/index.ts for why).
 */
export { shadowTap } from './tap.js';
export type { ShadowTapOptions, ShadowTapStats, TappedHandler } from './tap.js';
export { shouldSample, sampleHash } from './sampling.js';
export { ShadowError, ShadowConfigError } from './errors.js';
export { parseJsonPath, redactInPlace, REDACTED } from '../contract/json-path.js';
export type { JsonPathSegment } from '../contract/json-path.js';
export { parseShadowLine, isShadowDrop, SHADOW_LINE_PREFIX } from './record.js';
export type { ShadowRecord, ShadowDrop, ShadowLine, ShadowRequest, ShadowResponse, ShadowEventKind, ShadowDropReason } from './record.js';
export {
  SHADOW_LINE_MARKER, SHADOW_HEADER, SHADOW_TAP_ENV, DEFAULT_MIRRORED_METHODS, DEFAULT_HEADER_ALLOW_LIST,
  DEFAULT_MAX_RECORD_BYTES, isSecretHeader,
} from '../contract/shadow.js';
export { shadowTapMiddleware, type ShadowTapMiddleware } from './middleware.js';
