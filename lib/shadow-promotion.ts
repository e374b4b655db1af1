import type { Duration } from 'aws-cdk-lib';
import type { ShadowIntegration } from './shadow-integration';

/**
 * Shadow as a rollout's stage 0 (GuardedAlias `requireShadow`): the release a deployment is about to roll out must
 * have passed shadow before any user traffic moves. Its record is the summary the ShadowIntegration's dispatcher
 * keeps per release (the RELEASE_ID of the shadow version that answered) in its results table; the rollout reads
 * it, under the GuardedAlias's own `release.releaseId`, and refuses the release (Failed, before the first shift)
 * unless every check passes. The defaults are the seeds': shadowed for 24 hours, median ΔS below 0.60, no schema
 * violation, and the shadow's failures within the release gates' error budget of the live error rate.
 *
 * Shadowing and promoting are two deployments: first the shadow function runs the candidate (with the candidate's
 * RELEASE_ID), then, a day later, `cdk deploy` of the live function with that code and release ID rolls it out.
 */
export interface ShadowPromotion {
  /** The ShadowIntegration whose results hold the release's shadow record. */
  readonly shadow: ShadowIntegration;
  /**
   * Least time between the release's first and latest counted replay.
   * @default Duration.hours(24)
   */
  readonly window?: Duration;
  /**
   * The median ΔS of the scored replays must be below this (at the summary's 0.01 resolution, rounded up).
   * @default 0.6
   */
  readonly maxMedianDeltaS?: number;
  /**
   * Most shadow answers that broke the ShadowIntegration's `answerSchema`.
   * @default 0
   */
  readonly maxSchemaViolations?: number;
  /**
   * Most the shadow's failure rate (errors and timeouts over replays) may exceed the live error rate (5xx) over
   * the same replays.
   * @default 0.0005 (the release gates' maxErrorRateDelta)
   */
  readonly maxErrorRateDelta?: number;
  /**
   * Fewest scored replays for the median to be judged; fewer refuses the release.
   * @default 100
   */
  readonly minScored?: number;
}
