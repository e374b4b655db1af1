// Shared by the blue-green strategy and construct (which write each alias's configuration into the state
// machine's definition at synth) and the blue-green handlers (lambdas/blue-green, which esbuild bundles with
// it). Plain data and constants only: it imports nothing but the notification source's type.
import type { Check } from './check.js';
import type { ShadowPromotionConfig } from './shadow-promotion.js';
import type { NOTIFICATION_SOURCE, QueueAgeConfig } from './staged.js';

/** The seed's stop rules during hold-and-watch, every default filled in. */
export interface BlueGreenStopRuleConfig {
  /** Largest allowed p95 ΔS of the new version minus the old version's, on the same probe run. */
  readonly maxDeltaSP95Drift: number;
  /** Smallest allowed median coverage of the new version's answers. */
  readonly minCoverage: number;
  /** Largest allowed share of probed gold questions whose λ state differs between the versions. */
  readonly maxLambdaFlipRate: number;
  /** Largest allowed share of the alias's invocations on the new version that end in a function error. */
  readonly max5xxRate: number;
  /** Fewest invocations in the minute read for the 5xx rate to be judged. */
  readonly minInvocations: number;
}

/** The stop rules of the blue-green switchover field guide ("Stop & rollback rules"). */
export const DEFAULT_STOP_RULES: BlueGreenStopRuleConfig = {
  maxDeltaSP95Drift: 0.15,
  minCoverage: 0.6,
  maxLambdaFlipRate: 0.2,
  max5xxRate: 0.01,
  minInvocations: 100,
};

/** Optional warm gate before the switch (lambdas/warmup/warm-gate.ts's `prewarm`). */
export interface BlueGreenWarmupConfig {
  readonly concurrency: number;
  readonly pings: number;
  readonly readyTimeoutSeconds: number;
}

/** One alias's blue-green configuration, as the construct writes it into the state machine's definition. */
export interface BlueGreenAliasConfig {
  readonly holdSeconds: number;
  readonly checkIntervalSeconds: number;
  /** Seconds from the end of a one-minute Lambda datapoint to GetMetricData returning it (stated, not measured). */
  readonly metricDelaySeconds: number;
  /** Longest one hold-and-watch probe run may take (the probe task's TimeoutSeconds). */
  readonly probeBudgetSeconds: number;
  /** Gold questions per probe run, for the smoke before the switch and every probe while holding. */
  readonly smokeQuestions: number;
  readonly stopRules: BlueGreenStopRuleConfig;
  /** Environment variables the new version must carry with exactly these values. */
  readonly invariants: Record<string, string>;
  /** UUIDs of the event source mappings paused across the switch. */
  readonly freeze: string[];
  /** Names of the gate alarms read at every metric check. */
  readonly alarmNames: string[];
  /** The ΔS probe function; absent when no probe is attached (no smoke, no probe branch while holding). */
  readonly probeFunctionArn?: string;
  /**
   * The warm gate (lambdas/warmup/warm-gate.ts: the new version's own provisioned concurrency READY, warm pings)
   * before the smoke probe.
   */
  readonly warmup?: BlueGreenWarmupConfig;
  /** The SNS topic the machine publishes the alias's decisions to (`BlueGreenDecisionNotification`); absent for none. */
  readonly topicArn?: string;
  /** The queue-age gate of every metric check while holding; absent without queues. */
  readonly queueAge?: QueueAgeConfig;
  /** Shadow as stage 0 (GuardedAlias `requireShadow`): judged with the invariants, before anything else; absent when not required. */
  readonly shadowPromotion?: ShadowPromotionConfig;
}

/** CodeDeploy's two traffic hooks; the event does not say which one it is, so the hook finds out. */
export type BlueGreenPhase = 'BeforeAllowTraffic' | 'AfterAllowTraffic';

/** What the hook passes to each execution it starts. */
export interface BlueGreenExecutionInput {
  readonly deploymentId: string;
  readonly lifecycleEventHookExecutionId: string;
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  /** `aliasConfigKey(applicationName, deploymentGroupName)`: selects the alias's configuration in LoadConfig. */
  readonly configKey: string;
  readonly phase: BlueGreenPhase;
  readonly target: { readonly functionName: string; readonly alias: string; readonly currentVersion: string; readonly targetVersion: string };
  /** Epoch milliseconds at which the hook was invoked: the start of the hold for AfterAllowTraffic. */
  readonly startedAt: number;
  /** AfterAllowTraffic: the mappings the BeforeAllowTraffic execution paused (read from its output). */
  readonly frozen?: string[];
}

/** Lambda sends its metrics in one-minute datapoints. */
export const METRIC_PERIOD_SECONDS = 60;
/** The metric-watch task's TimeoutSeconds: one read of GetMetricData and DescribeAlarms, and the decision. */
export const WATCH_TIMEOUT_SECONDS = 5;
/**
 * One attempt of the Failed report after a breach (PutLifecycleEventHookExecutionStatus), its TimeoutSeconds.
 * The report is the rollback: CodeDeploy owns the alias and rolls it back to the old version when the hook
 * reports Failed (docs/aws-behaviour.md CD-9); the machine never writes the alias's FunctionVersion.
 */
export const REPORT_ATTEMPT_SECONDS = 4;
/** Retries of the Failed report, and the wait before the first one. */
export const REPORT_RETRIES = 1;
export const REPORT_RETRY_INTERVAL_SECONDS = 1;
/** The report's bounded time with its retries: attempts × attempt timeout + the waits between them (backoff 2). */
export const REPORT_BOUND_SECONDS = (REPORT_RETRIES + 1) * REPORT_ATTEMPT_SECONDS
  + Array.from({ length: REPORT_RETRIES }, (_, i) => REPORT_RETRY_INTERVAL_SECONDS * 2 ** i).reduce((a, b) => a + b, 0);
/** The seeds' target: traffic back on the old version within 2 minutes of a breach. */
export const ROLLBACK_TARGET_SECONDS = 120;
/** Worst case from a breach to a gate alarm in ALARM (one 60 s datapoint, one evaluation): see release-gates.ts. */
export const ALARM_DETECTION_SECONDS = 120;

/** Name of the execution the hook starts for one deployment and phase (idempotent: a retry finds it). */
export function executionName(deploymentId: string, phase: BlueGreenPhase): string {
  return `${deploymentId}-${phase}`;
}

/** Prefix of every decision record's `kind`, so that a later publisher can filter them. */
export const DECISION_KIND = 'cdk-rollout-guardrails/blue-green';

/**
 * The worker publishes each notification (one sns:Publish, its SDK retrying once): an attempt is cut off after
 * PUBLISH_TIMEOUT_SECONDS, the publish as a whole after PUBLISH_DEADLINE_SECONDS, and the machine's Notify task
 * (the invoke, a cold start, the message written) after PUBLISH_BOUND_SECONDS; a publish that fails is recorded,
 * never retried by the machine, and decides nothing. After a breach the publish runs beside the Failed report,
 * never before it; before the switch it delays the report by at most PUBLISH_BOUND_SECONDS.
 */
export const PUBLISH_TIMEOUT_SECONDS = 5;
export const PUBLISH_RETRIES = 1;
export const PUBLISH_DEADLINE_SECONDS = (PUBLISH_RETRIES + 1) * PUBLISH_TIMEOUT_SECONDS + PUBLISH_RETRIES;
export const PUBLISH_BOUND_SECONDS = PUBLISH_DEADLINE_SECONDS + 4;

/**
 * A blue-green decision as the machine publishes it to the alias's notifications topic (one JSON message per
 * decision that is news: the BeforeAllowTraffic outcome, a flip back, a held switch, an error; never a routine
 * check). Each is published before the machine reports to CodeDeploy (`report`), and never before a flip.
 */
export interface BlueGreenDecisionNotification {
  readonly source: typeof NOTIFICATION_SOURCE;
  readonly event: 'blue-green-decision';
  readonly strategy: 'blue-green';
  /** `before`: the BeforeAllowTraffic hook (before the switch); `after`: AfterAllowTraffic (hold and watch). */
  readonly phase: 'before' | 'after';
  readonly deploymentId: string;
  readonly deploymentGroup: string;
  /** The execution's ARN, whose history holds every decision record. */
  readonly execution: string;
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  /**
   * `passed`: every check before the switch passed (CodeDeploy switches); `failed`: one did (no switch);
   * `rolled-back`: a stop rule broke while holding, Failed was reported and CodeDeploy rolls the alias back to the
   * old version; `held`: the hold lasted holdAndWatch without a breach, the switch is kept; `error`: a step
   * failed (see `error`).
   */
  readonly decision: 'passed' | 'failed' | 'rolled-back' | 'held' | 'error';
  /** What the machine reports to CodeDeploy (after a breach, at the same time as it publishes). */
  readonly report: 'Succeeded' | 'Failed';
  /** Sentences a person reads; the first one is the headline. */
  readonly reasons: string[];
  /**
   * Every rule of the deciding check(s), with its measured value, threshold and reason: `invariant:<NAME>`
   * (measured: the new version's value, null if it has none; threshold: the pin), `warmup:status` |
   * `warmup:readySeconds` | `warmup:pingsFailed`, `smoke:<probe gate>` (or `smoke` when the probe gave no
   * report), or a hold stop rule: `max5xxRate`, `alarm:<name>`, `maxDeltaSP95Drift`, `minCoverage`,
   * `maxLambdaFlipRate`, `probe`.
   */
  readonly measurements: Check[];
  /** failed: `invariants`, `warmup` or `smoke`; rolled-back: `metrics` or `probe` (the hold's loop that broke). */
  readonly failedCheck?: 'invariants' | 'warmup' | 'smoke' | 'metrics' | 'probe';
  /** passed: the event source mappings paused across the switch (resumed after the hold). */
  readonly paused?: string[];
  /** rolled-back: the breaking check's number in its loop, and when it came. */
  readonly check?: number;
  readonly elapsedSeconds?: number;
  readonly holdSeconds?: number;
  /** held: the metric checks and probe runs judged, and how long the switch was held. */
  readonly checks?: number;
  readonly probeRuns?: number;
  readonly heldSeconds?: number;
  /**
   * rolled-back, error (after the switch): who moves the alias back, and to which version. Always CodeDeploy,
   * on the Failed report: the machine never writes the alias's FunctionVersion.
   */
  readonly rollback?: { readonly owner: 'CodeDeploy'; readonly from: string; readonly to: string } | null;
  /** error: what failed (the state, Step Functions' error name and cause). */
  readonly error?: { readonly State?: string; readonly Error: string; readonly Cause: string };
}
