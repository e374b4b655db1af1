/**
 * One gate, stop rule or check as judged: the one record every decision is made of and reported with. The ΔS
 * probe's gates, the staged gate's gates, the blue-green hold's stop rules and the blue-green checks before the
 * switch are all `Check`s, in the decision records of the state machines' histories, in the probe's report and
 * in every notification.
 */
export interface Check {
  /**
   * What was judged: a probe gate (`maxDeltaSDrift`, `minCoverage`, ...), a staged gate (`errorRate`,
   * `p95Ratio`, `alarms`, `probe`, ...), a hold stop rule (`max5xxRate`, `alarm:<name>`, ...) or a check before a
   * blue-green switch (`invariant:<NAME>`, `warmup:status`, `smoke:<probe gate>`).
   */
  readonly name: string;
  /** The value measured; null when there was nothing to measure. */
  readonly measured: number | string | null;
  /** The value it was held to; null when it has none (not configured). */
  readonly threshold: number | string | null;
  /** null: not judged (no data, too little traffic, not configured, or a step that did not get that far), which is said, not passed. */
  readonly passed: boolean | null;
  /** The sentence a person reads. */
  readonly reason: string;
}
