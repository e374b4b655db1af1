// Shared by the ProvisionedWarmup construct (which validates it at synth), the DeltaSProbe construct (which
// writes it into the probe function's environment) and the probe handler (lambdas/probe, which reads it and
// runs the warm gate of lambdas/warmup). It lives under lib/ because only dist/lib and dist/lambdas/runtime
// are published: the constructs must be able to require it. It imports nothing.

/**
 * What the warm gate does for one alias before traffic moves to a new version: put a temporary
 * provisioned-concurrency configuration of `concurrency` on the new version, wait at most
 * `readyTimeoutSeconds` for it to be READY, then send `pings` concurrent warm pings (`{"x-warm": true}`).
 * Plain data only.
 */
export interface WarmGateConfig {
  /** Provisioned concurrency put on the new version for the warm-up (an integer ≥ 1). */
  readonly concurrency: number;
  /** Concurrent warm pings sent to the new version once it is READY (0 to 100; 0 sends none). */
  readonly pings: number;
  /** Longest wait for the new version's provisioned concurrency to be READY, in whole seconds. */
  readonly readyTimeoutSeconds: number;
}
