/** Names of the release telemetry that `withRelease` emits and the constructs' dashboard and gates read. */

/** The CloudWatch namespace of the telemetry metrics. */
export const TELEMETRY_NAMESPACE = 'RolloutGuardrails';

/**
 * The dimension sets of every record: by release, and by release and revision (the Lambda version), so that
 * a canary's metrics split from the control's and a redeploy of the same release stays comparable.
 */
export const TELEMETRY_DIMENSIONS = [['FunctionName', 'ReleaseId'], ['FunctionName', 'ReleaseId', 'Revision']] as const;
