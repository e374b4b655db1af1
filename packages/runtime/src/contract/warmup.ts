// Shared by the ProvisionedWarmup construct (which validates it at synth), the DeltaSProbe construct (which
// writes it into the probe function's environment) and the probe handler (lambdas/probe, which reads it and
// runs the warm gate of lambdas/warmup). It lives under lib/ because only dist/lib and dist/lambdas/runtime
// are published: the constructs must be able to require it. It imports nothing.

/**
 * What the warm gate does for one alias before traffic moves to a new version: wait at most
 * `readyTimeoutSeconds` for the new version's own provisioned concurrency (at least `concurrency`) to be
 * READY, then send `pings` concurrent warm pings (`{"x-warm": true}`). It writes no configuration.
 * Plain data only.
 */
export interface WarmGateConfig {
  /** Provisioned concurrency the new version must have (an integer ≥ 1): ProvisionedWarmup's count or floor. */
  readonly concurrency: number;
  /** Concurrent warm pings sent to the new version once it is READY (0 to 100; 0 sends none). */
  readonly pings: number;
  /** Longest wait for the new version's provisioned concurrency to be READY, in whole seconds. */
  readonly readyTimeoutSeconds: number;
}
