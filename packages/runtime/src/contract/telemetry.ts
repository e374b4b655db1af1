/** Names of the release telemetry that `withRelease` emits and the constructs' dashboard and gates read. */

/** The CloudWatch namespace of the telemetry metrics. */
export const TELEMETRY_NAMESPACE = 'RolloutGuardrails';

/**
 * The dimension sets of every record: by release, and by release and revision (the Lambda version), so that
 * a canary's metrics split from the control's and a redeploy of the same release stays comparable.
 */
export const TELEMETRY_DIMENSIONS = [['FunctionName', 'ReleaseId'], ['FunctionName', 'ReleaseId', 'Revision']] as const;

/**
 * The dimension set of `ErrorsByClass`, the one metric of a failed invocation's second EMF directive: by function,
 * revision (the Lambda version) and error class, so that a staged gate can compare the classes the canary shows
 * with the control's in the same window without knowing either release.
 */
export const ERROR_CLASS_DIMENSIONS = [['FunctionName', 'Revision', 'ErrorClass']] as const;

/**
 * The error classes `withRelease` records: each 5xx status code of a response from 500 to 511 as itself, any
 * other 5xx as `5xx-other`, and a thrown error as `thrown` (its name goes in the record's `error_type`, not in a
 * dimension: names are unbounded, and a gate reads a fixed list of classes).
 */
export const ERROR_CLASSES: readonly string[] = [...Array.from({ length: 12 }, (_, i) => String(500 + i)), '5xx-other', 'thrown'];

/** The error class of a failed invocation: its 5xx status code, or `thrown`. */
export function errorClassOf(status: number | undefined): string {
  if (status === undefined) return 'thrown';
  return status >= 500 && status <= 511 ? String(status) : '5xx-other';
}

/**
 * The idempotency helpers' counts (`makeIdempotent`, `idempotencyMiddleware`, `makeFence`, `fenceMiddleware`), added
 * to the `withRelease` (or `releaseTelemetryMiddleware`) record of the invocation, under its dimension sets
 * (TELEMETRY_DIMENSIONS: by function and release, and by function, release and revision):
 * - `DedupeHits`: calls whose handler did not run because the key was taken: answered from a completed record,
 *   refused as completed without a stored result, or refused because the same key is in progress;
 * - `Retries`: deliveries known to be repeats: SQS records whose `ApproximateReceiveCount` is above 1, and keys that
 *   came back after their record completed, or after a claim that lapsed (its holder crashed or timed out).
 * A record names both (zeros included) once an idempotency helper ran in the invocation, and neither otherwise.
 */
export const IDEMPOTENCY_METRICS = { dedupeHits: 'DedupeHits', retries: 'Retries' } as const;
