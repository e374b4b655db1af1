/** Release identity, pins and telemetry: `pinGuard`, `withRelease`, `reportQuality`, `isWarmPing`. */
export { PINS, releaseFromEnv, pinMismatches, type PinName, type Pins, type ReleaseIdentity, type PinMismatch } from './pins.js';
export { pinGuard, type PinGuardOptions, type PinMismatchResponse } from './pin-guard.js';
export { isWarmPing } from './warm.js';
export { ReleaseConfigError } from './errors.js';
export {
  withRelease, reportQuality, reportCacheLookup, resetColdStartForTesting, TELEMETRY_NAMESPACE, TELEMETRY_DIMENSIONS,
  type WithReleaseOptions, type QualityReport,
} from './telemetry.js';
export { pinGuardMiddleware, releaseTelemetryMiddleware } from './middleware.js';
export { cacheNamespace, cacheKey, type CacheNamespaceOptions } from './cache.js';
