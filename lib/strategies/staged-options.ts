import type { Duration } from 'aws-cdk-lib';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { StagedSchedule } from 'cdk-rollout-guardrails-runtime/contract';
import type { CacheHitRateGate } from './cache-gate';
import type { ConsumerFence } from './fence';
import type { QueueAgeGate } from './queue-age';
import type { StickyCohorts } from './sticky-cohorts';
import type { StepStopRules } from './stop-rules';

/** What a staged step does, after its wait for data, when the canary still served too little traffic to compare. */
export enum NoDataAction {
  /** Roll the deployment back. */
  FAIL = 'fail',
  /** Judge the step on the probe and the alarms alone (and say so in its decision, notification and dashboard). */
  PASS = 'pass',
}

/** What a staged step does when the canary served too little traffic to compare with the control. */
export interface StagedNoDataPolicy {
  /**
   * How long a step waits for data beyond its bake, re-checking every minute; whole minutes, 0 for no wait.
   * The wait counts in the schedule's one-hour budget at synth (every step may wait it).
   * @default Duration.minutes(0) - the bake is the window: an alias too quiet to fill it is not helped by waiting
   */
  readonly maxWait?: Duration;
  /**
   * After the wait: `NoDataAction.FAIL` rolls the deployment back; `NoDataAction.PASS` judges the step on the
   * probe and alarms alone. Missing data is never a silent pass: the step's decision, its notification and the
   * dashboard say so. The default suits low-traffic aliases: with `FAIL`, an alias serving about 1 request a
   * second (0.6 calls a minute at the 1 % step) is always rolled back, whatever the release.
   * @default NoDataAction.PASS
   */
  readonly then?: NoDataAction;
  /**
   * Fewest invocations of the new version in the window for the metric gates to judge.
   * @default 10
   */
  readonly minInvocations?: number;
}

/** A staged strategy's no-data policy, defaults filled in. */
export interface StagedNoDataSettings {
  /** How long a step waits for data beyond its bake. */
  readonly maxWait: Duration;
  /** What the step does after the wait. */
  readonly then: NoDataAction;
  /** Fewest invocations of the new version in the window for the metric gates to judge. */
  readonly minInvocations: number;
}

/** Options of `RolloutStrategy.staged()`. */
export interface StagedRolloutOptions {
  /**
   * Percent of traffic on the new version at each step: integers from 1 to 100, rising strictly, ending at 100.
   * @default [1, 5, 25, 50, 100]
   */
  readonly steps?: number[];
  /**
   * How long each step below 100 % bakes before the next check; whole minutes. Gate alarms are watched
   * every minute of the bake.
   * @default Duration.minutes(5)
   */
  readonly bake?: Duration;
  /**
   * Gate failures at one step that roll the deployment back; below it the step holds and is re-checked.
   * @default 2
   */
  readonly maxFailuresPerStep?: number;
  /**
   * What a step does without enough traffic to compare.
   * @default - no wait beyond the bake; with fewer than 10 new-version invocations in it, the step is judged on the probe and the alarms alone (and says so)
   */
  readonly noData?: StagedNoDataPolicy;
  /**
   * The longest one probe run may take, counted once per check in the schedule: the DeltaSProbe function's
   * timeout (its `budget` + `invokeTimeout` + 20 s to report).
   * @default Duration.seconds(330) - the default DeltaSProbe's timeout (5-minute budget + 10 s + 20 s)
   */
  readonly probeBudget?: Duration;
  /**
   * Gold questions each probe run asks after the first shift, each in every wording and seed, spread across
   * the gold set's sections. The whole gold set runs once, before the first shift (and again at 100 % in the
   * AfterAllowTraffic hook); this many before each later step, after the seeds' "ΔS drift ≤ 0.03 on canary
   * questions (k=10)". Capped by the gold set's size.
   * @default 10
   */
  readonly canaryQuestions?: number;
  /**
   * Stop rules the probe judges from a step on, besides its gates: the field guide's hard stops per stage. A
   * broken rule fails the step's check like a broken gate (held, then rolled back after `maxFailuresPerStep`).
   * Giving a list replaces the defaults; `[]` turns them off. Needs a `DeltaSProbe` on the alias.
   * @default - `StagedRolloutStrategy.DEFAULT_STOP_RULES`: coverage of at least 0.70 in every gold-set topic from 5 %, at most one paraphrase's λ flip per gold question from 50 % (those a step below 100 of the schedule reaches)
   */
  readonly stopRules?: StepStopRules[];
  /**
   * SQS queues the alias's consumers drain, each judged by the queue-age gate at every check once the new
   * version serves traffic: its oldest message's age must not rise over the step's window (`queueAge`). A queue
   * that reports no age in the window (SQS reports it only while a message is in the queue) is missing data,
   * and follows `noData`.
   * @default - no queue-age gate
   */
  readonly queues?: sqs.IQueue[];
  /**
   * The queue-age gate's rule.
   * @default - a rise of at most 6 s a minute, judged when the oldest message is at least a minute old
   */
  readonly queueAge?: QueueAgeGate;
  /**
   * Early-step consumer fence: event source mappings paused while the new version serves less than
   * `fence.untilStep` percent (default 25), resumed when the rollout reaches that step, succeeds or rolls back
   * (the safety net resumes them when an execution fails, times out or is stopped). Only running mappings are
   * paused; with `fence.maxConcurrency` each SQS mapping's maximum concurrency is capped instead.
   * @default - no fence
   */
  readonly fence?: ConsumerFence;
  /**
   * The cache hit-rate gate: the new version's cache hit rate may not fall more than `maxRegression` points below
   * the current version's (from the runtime's `reportCacheLookup` telemetry). Opt in with `{}` for the seed's 5.
   * @default - no cache hit-rate gate
   */
  readonly cacheHitRate?: CacheHitRateGate;
  /**
   * Sticky cohorts: each user (by a stable id the function's `stickyCohorts` wrapper reads) is served by one
   * version for the whole rollout, and the cohort on the new version grows with each step's weight, instead of
   * the alias drawing per request. Opt in with `{}`. See `StickyCohorts` for what the function must run.
   * @default - alias weights (each request drawn on its own)
   */
  readonly stickyCohorts?: StickyCohorts;
  /**
   * Approval steps: weights at which the rollout, once the check after the bake passes, waits for an operator's
   * `resume` or `promote` (the command line's, docs/guides/operate.md) before it shifts on. Each is a step of the
   * schedule below 100, or 0 for before the first shift. The wait is bounded by CodeDeploy's one-hour hook: when
   * the rest of the schedule would no longer fit, the rollout rolls back. A `resume` given at that weight before
   * the rollout waits there approves it ahead.
   * @default - none: the schedule runs without waiting for anyone
   */
  readonly approvalSteps?: number[];
}

// The schedule's shape lives with the configuration the handlers read (which must not import aws-cdk-lib).
export type { StagedSchedule };

/** How long a breach can go on before the routing is back on the old version. */
export interface StagedRollbackTime {
  /** A gate alarm fires while a step bakes: detection, at most one watch interval, the reset. */
  readonly onAlarm: Duration;
  /**
   * A breach only the probe or the metric comparison sees: it starts just after a check, is seen at the next
   * one (a bake and a probe later), fails `maxFailuresPerStep` times (a re-check and a probe between each),
   * and the routing is reset.
   */
  readonly onGateCheck: Duration;
}
