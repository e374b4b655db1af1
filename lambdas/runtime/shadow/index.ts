/**
 * Shadow traffic, runtime side: the tap that logs a deterministic, sanitised sample of a live handler's reads
 * for the mirror dispatcher, and the pieces the dispatcher shares with it (record format, JSON paths).
 * Named exports only (see ../probe/index.ts for why).
 */
export { shadowTap } from './tap';
export type { ShadowTapOptions, ShadowTapStats, TappedHandler } from './tap';
export { shouldSample, sampleHash } from './sampling';
export { ShadowError, ShadowConfigError } from './errors';
export { parseJsonPath, redactInPlace, REDACTED } from './json-path';
export type { JsonPathSegment } from './json-path';
export { parseShadowLine, isShadowDrop, SHADOW_LINE_PREFIX } from './record';
export type { ShadowRecord, ShadowDrop, ShadowLine, ShadowRequest, ShadowResponse, ShadowEventKind, ShadowDropReason } from './record';
export {
  SHADOW_LINE_MARKER, SHADOW_HEADER, SHADOW_TAP_ENV, DEFAULT_MIRRORED_METHODS, DEFAULT_HEADER_ALLOW_LIST,
  DEFAULT_MAX_RECORD_BYTES, isSecretHeader,
} from './config';
