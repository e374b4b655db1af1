// Shared by the StagedRollout construct (which writes every attached alias's configuration into the state
// machine's definition at synth) and the staged handlers (lambdas/staged, which esbuild bundles with it).
// Plain data only.
import type { Check } from './check.js';
import type { StagedCohortConfig } from './cohort.js';
import type { OperatorAudit, StagedOperatorConfig } from './operator.js';
import type { ProbeStopRules } from './probe.js';
import type { ShadowPromotionConfig } from './shadow-promotion.js';

/** CloudWatch namespace of the weight and decision metrics the state machine publishes. */
export const STAGED_METRIC_NAMESPACE = 'CdkRolloutGuardrails/Staged';

/** Time kept from CodeDeploy's one-hour hook limit to reset the routing and report Failed. */
export const STAGED_REPORT_RESERVE_SECONDS = 120;

/** The staged schedule with every default filled in, as the state machine receives it. */
export interface StagedSchedule {
  readonly steps: number[];
  readonly bakeSeconds: number;
  readonly maxFailuresPerStep: number;
  readonly noData: { readonly maxWaitSeconds: number; readonly then: 'fail' | 'pass'; readonly minInvocations: number };
  readonly probeBudgetSeconds: number;
  readonly recheckSeconds: number;
  /**
   * Gold questions in each probe run after the first shift (every wording and seed of each): the full gold set
   * runs once, before the first shift (and again at 100 % in the AfterAllowTraffic hook).
   */
  readonly canaryQuestions: number;
  /** The schedule's stop rules, each in force from its step on (the probe runs judge them). */
  readonly stopRules: StagedStopRule[];
  /**
   * The consumer fence's step: the consumers the starter paused are resumed once the weight reaches it (or the
   * rollout succeeds or rolls back). Absent without a fence.
   */
  readonly fenceUntilStep?: number;
  /**
   * Approval steps (the strategy's `approvalSteps`): weights at which the rollout, once the check after the bake passes,
   * waits for an operator's `resume` or `promote` before it shifts on. Absent or empty for none.
   */
  readonly approvalSteps?: number[];
}

/**
 * The starter's environment variable naming each fenced alias's event source mappings: a JSON object keyed by
 * `aliasConfigKey(application, deployment group)`, each value an array of mapping UUIDs.
 */
export const STAGED_FENCES_ENV = 'GUARDRAILS_STAGED_FENCES';

/** One alias's fence in STAGED_FENCES_ENV when it caps rather than pauses (a bare UUID array pauses). */
export interface StagedFenceConfig {
  /** The mappings' UUIDs. */
  readonly consumers: string[];
  /** Cap each SQS mapping's `ScalingConfig.MaximumConcurrency` to this (2 to 1000) instead of pausing it. */
  readonly maxConcurrency?: number;
}

/**
 * How a fenced mapping travels in `fenced` (the execution's input, the safety net's) so that it is restored as it
 * was: a paused mapping is its UUID; a capped one is `<UUID>@cap:<previous MaximumConcurrency, or none>`.
 */
export interface FencedConsumer {
  readonly uuid: string;
  /** For a capped mapping, the MaximumConcurrency to restore (null: it had none, so the setting is removed). */
  readonly capPrevious?: number | null;
}

/** The `fenced` entry of a mapping (see FencedConsumer). */
export function encodeFenced(consumer: FencedConsumer): string {
  if (consumer.capPrevious === undefined) return consumer.uuid;
  return `${consumer.uuid}@cap:${consumer.capPrevious === null ? 'none' : consumer.capPrevious}`;
}

/** A `fenced` entry read back: a bare UUID was paused; `@cap:` says it was capped, and what to restore. */
export function decodeFenced(entry: string): FencedConsumer {
  const at = entry.indexOf('@cap:');
  if (at < 0) return { uuid: entry };
  const previous = entry.slice(at + 5);
  const n = Number(previous);
  return { uuid: entry.slice(0, at), capPrevious: previous === 'none' || !Number.isInteger(n) ? null : n };
}

/** One stop rule of a staged schedule, as the state machine receives it (`StepStopRules` of the construct). */
export interface StagedStopRule extends ProbeStopRules {
  /** In force at every check (and probe run) while the new version serves at least this percent of the traffic. */
  readonly fromStep: number;
  /**
   * The gate function's rule (not the probe's): an error class (a 5xx status code, or a thrown error) that the new
   * version shows in the window and the current version does not fails the check.
   */
  readonly newErrorClass?: boolean;
}

/** Whether a rule in force at `weight` judges new error classes. */
export function newErrorClassAt(rules: readonly StagedStopRule[], weight: number): boolean {
  return weight > 0 && rules.some((r) => r.newErrorClass === true && weight >= r.fromStep);
}

/**
 * The stop rules a probe run judges while the new version serves `weight` percent: every rule in force at that
 * weight, each at its strictest (the highest coverage floor, the fewest flips); null when none is.
 */
export function stopRulesAt(rules: readonly StagedStopRule[], weight: number): ProbeStopRules | null {
  const inForce = rules.filter((r) => weight >= r.fromStep);
  const floors = inForce.flatMap((r) => (r.minTopicCoverage === undefined ? [] : [r.minTopicCoverage]));
  const flips = inForce.flatMap((r) => (r.maxParaphraseFlips === undefined ? [] : [r.maxParaphraseFlips]));
  if (floors.length === 0 && flips.length === 0) return null;
  return {
    ...(floors.length > 0 ? { minTopicCoverage: Math.max(...floors) } : {}),
    ...(flips.length > 0 ? { maxParaphraseFlips: Math.min(...flips) } : {}),
  };
}

/** The seeds' per-step probe: "ΔS drift ≤ 0.03 on canary questions (k=10)" (deploy_traffic_shaping.md, recipe A). */
export const DEFAULT_CANARY_QUESTIONS = 10;

/** One alias's staged configuration, as the construct writes it into the definition and the machine's Init state selects it. */
export interface StagedAliasConfig {
  readonly schedule: StagedSchedule;
  readonly thresholds: { readonly maxErrorRateDelta: number; readonly maxP95Ratio: number; readonly maxErrorRate: number };
  /** Names of the gate alarms the gate function reads. */
  readonly alarmNames: string[];
  /** The ΔS probe function run before each check; absent when no probe is configured. */
  readonly probeFunctionArn?: string;
  /**
   * The warm gate run before the first probe and shift (a ProvisionedWarmup's), with the function that runs
   * it; absent without warm-up.
   */
  readonly warmup?: { readonly functionArn: string; readonly concurrency: number; readonly pings: number; readonly readyTimeoutSeconds: number };
  /** The SNS topic each gate decision is published to (GuardedAlias `notifications`); absent for none. */
  readonly topicArn?: string;
  /** The queue-age gate: the SQS queues whose oldest message's age must stay flat; absent for none. */
  readonly queueAge?: QueueAgeConfig;
  /** The cache hit-rate gate (the strategy's `cacheHitRate`); absent when it is off. */
  readonly cacheHitRate?: StagedCacheHitRateConfig;
  /**
   * Shadow as stage 0 (GuardedAlias `requireShadow`): the release must have passed shadow, judged from its
   * record in the shadow's results table before anything else runs; absent when not required.
   */
  readonly shadowPromotion?: ShadowPromotionConfig;
  /**
   * Sticky cohorts (the strategy's `stickyCohorts`): each step's weight goes into the alias's cohort item instead of
   * its routing, and the gates read the canary alias's traffic; absent for alias weights.
   */
  readonly cohort?: StagedCohortConfig;
  /** Where the CLI's operator commands for this alias are (see operator.ts); absent in a configuration from before them. */
  readonly operator?: StagedOperatorConfig;
}

/** The cache hit-rate gate of a staged alias, as the construct writes it. */
export interface StagedCacheHitRateConfig {
  /** Most percentage points the new version's hit rate may fall below the current version's. */
  readonly maxRegressionPoints: number;
  /** Fewest cache lookups of each version in the window for the gate to judge. */
  readonly minLookups: number;
}

/** The queue-age gate of an alias, as the construct writes it (a staged or blue-green strategy's `queues` and `queueAge`). */
export interface QueueAgeConfig {
  /** The queues' names (the `QueueName` dimension of AWS/SQS). */
  readonly queueNames: string[];
  /** Largest rise of the oldest message's age over a step's window, in seconds per minute (least-squares slope). */
  readonly maxSlopeSecondsPerMinute: number;
  /** Age of the oldest message, at the end of the window, below which a queue has no backlog and is not judged. */
  readonly minAgeSeconds: number;
}

/** The source every rollout notification carries, so that subscribers can filter on it. */
export const NOTIFICATION_SOURCE = 'cdk-rollout-guardrails';

/** A staged gate decision as published to the alias's notifications topic (JSON). */
export interface StagedDecisionNotification {
  readonly source: typeof NOTIFICATION_SOURCE;
  readonly event: 'gate-decision';
  readonly strategy: 'staged';
  readonly deploymentId: string;
  readonly functionName: string;
  readonly alias: string;
  readonly currentVersion: string;
  readonly targetVersion: string;
  /** The step being judged (percent of traffic it moves to), and the weight on the new version after the decision. */
  readonly step: number;
  readonly weight: number;
  readonly decision: 'advance' | 'hold' | 'rollback';
  /** What the machine does next: shift, recheck, succeed (report to CodeDeploy) or rollback. */
  readonly next: string;
  readonly reasons: string[];
  /** Every gate judged, with its measured value and threshold (a `Check` without its reason). */
  readonly gates: ReadonlyArray<Omit<Check, 'reason'>>;
  /** An operator's command the decision carries out (pause, resume, promote, abort) or an approval step's wait. */
  readonly operator?: OperatorAudit;
}

/** The input of one execution, as the starter builds it. */
export interface StagedStartInput {
  readonly deployment: { readonly deploymentId: string; readonly lifecycleEventHookExecutionId: string };
  readonly target: { readonly functionName: string; readonly alias: string; readonly currentVersion: string; readonly targetVersion: string };
  /** `aliasConfigKey(application, deployment group)`: which configuration of the definition applies. */
  readonly configKey: string;
  /** Epoch milliseconds after which nothing may hold or advance: the hook's hour less the reserve to report. */
  readonly deadline: number;
  /** The event source mappings the starter paused (the consumer fence): resumed by the gate, else the safety net. */
  readonly fenced?: string[];
}

/** The execution's data after the Init state has selected the alias's configuration. */
export interface StagedExecutionInput {
  readonly deployment: StagedStartInput['deployment'];
  readonly target: StagedStartInput['target'];
  readonly config: StagedAliasConfig;
  readonly deadline: number;
  /** The event source mappings the starter paused (Init makes it an array, empty without a fence). */
  readonly fenced?: string[];
}

/** Where the machine is in the schedule, carried from one gate invocation to the next. */
export interface StagedProgress {
  /** `check`: the next gate invocation guards a shift; `bake`: it watches alarms while a weight bakes. */
  readonly phase: 'check' | 'bake';
  readonly stepIndex: number;
  readonly failures: number;
  readonly noDataWaitedSeconds: number;
  readonly bakeLeftSeconds: number;
  /** Whether the gate has resumed the fenced consumers (set once; absent until then). */
  readonly fenceLifted?: boolean;
  /** The last operator command the gate acted on (its id), so that each is announced once. */
  readonly operatorCommandId?: string;
  /** The approval step (its weight) the rollout waits at, once the wait has been announced. */
  readonly approvalAt?: number;
}

/** The initial progress, set by the machine's first state. */
export const INITIAL_PROGRESS: StagedProgress = { phase: 'check', stepIndex: 0, failures: 0, noDataWaitedSeconds: 0, bakeLeftSeconds: 0 };

/** What the state machine's Route state branches on (`start`: the release passed shadow, go on to the warm-up and the first probe). */
export type StagedNext = 'start' | 'shift' | 'bake' | 'recheck' | 'probe' | 'succeed' | 'rollback';
