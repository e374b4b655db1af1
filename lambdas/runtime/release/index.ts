/** Release identity, pins and telemetry: `pinGuard`, `withRelease`, `reportQuality`, `isWarmPing`. */
export { PINS, releaseFromEnv, pinMismatches, type PinName, type Pins, type ReleaseIdentity, type PinMismatch } from './pins';
export { pinGuard, type PinGuardOptions, type PinMismatchResponse } from './pin-guard';
export { isWarmPing } from './warm';
export { ReleaseConfigError } from './errors';
export {
  withRelease, reportQuality, resetColdStartForTesting, TELEMETRY_NAMESPACE, TELEMETRY_DIMENSIONS,
  type WithReleaseOptions, type QualityReport,
} from './telemetry';
