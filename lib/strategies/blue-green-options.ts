import type { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { QueueAgeGate } from './queue-age';

/**
 * The seed's stop rules, judged at every check while holding; one breach rolls the alias back (through CodeDeploy).
 * (the blue-green switchover field guide, "Stop & rollback rules")
 */
export interface BlueGreenStopRules {
  /**
   * Largest p95 ΔS of the new version minus the old version's, on the same probe run ("ΔS p95 drift").
   * @default 0.15
   */
  readonly maxDeltaSP95Drift?: number;
  /**
   * Smallest median coverage of the new version's answers.
   * @default 0.60
   */
  readonly minCoverage?: number;
  /**
   * Largest share of probed gold questions whose λ state differs between the old and the new version.
   * @default 0.20
   */
  readonly maxLambdaFlipRate?: number;
  /**
   * Largest share of the alias's invocations on the new version ending in a function error, over the newest
   * complete one-minute datapoint (AWS/Lambda `Errors` / `Invocations`, by `ExecutedVersion`).
   * @default 0.01
   */
  readonly max5xxRate?: number;
  /**
   * Fewest invocations in that minute for the 5xx rate to be judged: below it one error is noise, not a rate.
   * At 100 a single error is exactly 1 % and passes.
   * @default 100
   */
  readonly minInvocations?: number;
}

/** The warm gate before the switch (provisioned concurrency READY on the new version, then warm pings). */
export interface BlueGreenWarmupOptions {
  /** Provisioned concurrency to have READY on the new version. */
  readonly concurrency: number;
  /**
   * Warm pings (tagged `x-warm`) sent once it is READY.
   * @default 3
   */
  readonly pings?: number;
  /**
   * How long to wait for READY; at most 14 minutes.
   * @default Duration.minutes(5)
   */
  readonly readyTimeout?: Duration;
}

/** Options of `RolloutStrategy.blueGreen()`. */
export interface BlueGreenRolloutOptions {
  /**
   * How long to hold and watch after the switch before reporting Succeeded. It must fit CodeDeploy's one-hour
   * hook limit with a 10-minute margin, with the last check, probe run and flip (validated at synth).
   * @default Duration.minutes(15)
   */
  readonly holdAndWatch?: Duration;
  /**
   * Wait between two metric checks, and between two probe runs, while holding; whole seconds.
   * @default Duration.seconds(5)
   */
  readonly checkInterval?: Duration;
  /**
   * Time from the hook's Failed report to CodeDeploy's rollback having moved the alias back to the old version.
   * AWS documents that CodeDeploy rolls a failed deployment back by a new deployment, not how long that takes:
   * this is an assumption (counted in the worst-case rollback) to measure in your account with the integ suite.
   * @default Duration.seconds(15)
   */
  readonly rollbackShift?: Duration;
  /**
   * Gold questions asked per probe run: the smoke test before the switch and every probe run while holding.
   * @default 20
   */
  readonly smokeQuestions?: number;
  /**
   * Event source mappings paused (`Enabled: false`) before the switch, so that no side-effecting job runs
   * across it, and resumed after it (on success and on failure). Only those that were enabled are resumed.
   * @default - none
   */
  readonly freezeConsumers?: lambda.IEventSourceMapping[];
  /**
   * SQS queues the alias's consumers drain, judged at every metric check while holding: each queue's oldest
   * message's age over the hold's last 5 minutes must not rise (`queueAge`). A breach rolls back like any stop
   * rule; a queue with fewer than two minutes of datapoints (early in the hold, or no message in the queue) is
   * not judged, and says so.
   * @default - no queue-age rule
   */
  readonly queues?: sqs.IQueue[];
  /**
   * The queue-age rule.
   * @default - a rise of at most 6 s a minute, judged when the oldest message is at least a minute old
   */
  readonly queueAge?: QueueAgeGate;
  /**
   * Environment variables the new version must carry with exactly these values (SCHEMA_REV, INDEX_HASH,
   * MODEL_TAG, EMBED_SCHEMA, PROMPT_VER, ...), checked before the switch with GetFunctionConfiguration on the
   * new version. A GuardedAlias adds its release pins to these.
   * @default - the release pins only
   */
  readonly invariants?: Record<string, string>;
  /** @default - the seed's: ΔS p95 drift > 0.15, coverage < 0.60, λ flip rate > 0.20, 5xx > 1 % stop */
  readonly stopRules?: BlueGreenStopRules;
  /**
   * Longest one probe run may take while holding; a run that has not answered by then counts as a breach
   * (what cannot be watched is not passed). Counted twice in the worst-case rollback.
   * @default Duration.seconds(45)
   */
  readonly probeBudget?: Duration;
  /**
   * Time from the end of a one-minute Lambda datapoint to GetMetricData returning it. AWS documents that Lambda
   * sends metrics in one-minute intervals, not how long they take to be readable: this is an assumption to
   * measure in your account. The metric check reads the newest minute older than this.
   * @default Duration.seconds(20)
   */
  readonly metricDelay?: Duration;
  /**
   * The warm gate before the smoke probe (lambdas/warmup/warm-gate.ts `prewarm`): the new version's own
   * provisioned concurrency (at least `concurrency`) READY in time, then warm pings; a failure reports Failed.
   * The gate writes no configuration: the version must have provisioned concurrency of its own (GuardedAlias
   * `warmup`, whose settings apply when this is left out).
   * @default - no warm gate
   */
  readonly warmup?: BlueGreenWarmupOptions;
}

/** The stop rules in force, defaults filled in. */
export interface BlueGreenStopRuleSettings {
  /** Largest p95 ΔS of the new version minus the old version's, on the same probe run. */
  readonly maxDeltaSP95Drift: number;
  /** Smallest median coverage of the new version's answers. */
  readonly minCoverage: number;
  /** Largest share of probed gold questions whose λ state differs between the old and the new version. */
  readonly maxLambdaFlipRate: number;
  /** Largest share of the alias's invocations on the new version ending in a function error, over one minute. */
  readonly max5xxRate: number;
  /** Fewest invocations in that minute for the 5xx rate to be judged. */
  readonly minInvocations: number;
}

/** How long a breach can last before the alias is back on the old version, by what sees it. */
export interface BlueGreenRollbackTime {
  /**
   * The 5xx rate: check interval + the metric's lag (one-minute period + metricDelay) + two watch reads (the one
   * that just missed it, the one that sees it) + the Failed report + CodeDeploy's rollback shift (`rollbackShift`).
   */
  readonly onMetrics: Duration;
  /** The probe: check interval + two probe runs (the one that just missed it, the one that sees it) + the report + the rollback shift. */
  readonly onProbe: Duration;
  /**
   * A gate alarm, for information: its own detection (2 minutes) + check interval + two watch reads + the report + the rollback shift.
   * Not in `worstCaseRollback`: the alarms are a second line beside the stop rules, with their own detection time.
   */
  readonly onAlarm: Duration;
}
