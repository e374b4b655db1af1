import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { IConstruct } from 'constructs';
import type { DeltaSProbe } from './delta-s-probe';
import type { ProvisionedWarmupOptions } from './provisioned-warmup';
import type { GateThresholds } from './release-gates';
import type { ShadowPromotion } from './shadow-promotion';
import type { RolloutStrategy } from './rollout-strategy';

/** A guarded alias, as other constructs of this library consume it. */
export interface IGuardedAlias extends IConstruct {
  /** The alias that users' traffic goes through. */
  readonly alias: lambda.Alias;
  /** The version this synth publishes: the new version during a rollout. */
  readonly version: lambda.Version;
  /** The CodeDeploy deployment group that moves traffic between versions. */
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
}

/** Properties of `GuardedAlias`. */
export interface GuardedAliasProps {
  /** The function to release. Its current version is published on every change of code or configuration. */
  readonly function: lambda.Function;
  /**
   * The alias that users' traffic goes through.
   * @default 'live'
   */
  readonly aliasName?: string;
  /**
   * How traffic moves to a new version.
   * @default RolloutStrategy.staged(): 1 → 5 → 25 → 50 → 100 % with the probe (if any) and the gates before each shift
   */
  readonly strategy?: RolloutStrategy;
  /**
   * Thresholds of the release gates. The metric gates each become an alarm that rolls the deployment back;
   * the probe gates (`maxDeltaS`, `maxDeltaSDrift`, `minCoverage`, `maxLambdaFlips`) override the `probe`'s
   * own for this alias, and need a `probe`.
   * @default DEFAULT_GATE_THRESHOLDS (error rate delta ≤ 0.0005, p95 ratio ≤ 1.10, error rate ≤ 0.01); the probe's gates
   */
  readonly gates?: GateThresholds;
  /**
   * More alarms the deployment group watches, beside the gates' (at most 10 alarms in all).
   * @default - only the gate alarms
   */
  readonly alarms?: cloudwatch.IAlarm[];
  /**
   * A function CodeDeploy runs before any traffic moves (BeforeAllowTraffic).
   * @default - none
   */
  readonly preTrafficHook?: lambda.IFunction;
  /**
   * A function CodeDeploy runs after all traffic has moved (AfterAllowTraffic).
   * @default - none
   */
  readonly postTrafficHook?: lambda.IFunction;
  /**
   * The ΔS probe run as this alias's BeforeAllowTraffic and AfterAllowTraffic hook: the deployment fails
   * unless the new version passes the probe's gates, and the deployment group watches the probe's ΔS alarm.
   * CodeDeploy runs one hook per phase, so `probe` excludes `preTrafficHook` and `postTrafficHook`.
   * @default - no probe
   */
  readonly probe?: DeltaSProbe;
  /**
   * A description of the alias.
   * @default - none
   */
  readonly description?: string;
  /**
   * The release identity every published version carries in its environment (RELEASE_ID, SCHEMA_REV,
   * INDEX_HASH, MODEL_TAG), which the runtime's `pinGuard` and `withRelease` read.
   * @default - RELEASE_ID only, a hash of the function's code and configuration
   */
  readonly release?: ReleaseIdentityProps;
  /**
   * An SNS topic told about every rollout of this alias, as JSON: the deployment's start, success, failure
   * (rollback) and stop (with the thresholds in force); each gate alarm's ALARM and OK (CloudWatch's message,
   * with the measured datapoints and the threshold); and, with the staged strategy, each gate decision of the
   * state machine (every gate's measured value and threshold, the step and the weight).
   * @default - no notifications
   */
  readonly notifications?: sns.ITopic;
  /**
   * Functions invoked (asynchronously) when a deployment of this alias fails or is stopped: the rollback. Each gets
   * `{ source, event: 'rollback', state, deploymentId, functionName, alias, targetVersion, currentVersion, releaseId,
   * cacheNamespace }`, the release rolled back read from that version's own environment, and the cache namespace
   * the runtime's `cacheKey` gave it, to purge (the canary seed: "rollback is a one line weight change with caches
   * purged for canary prefix"). A rollback deployment's own failure runs none. Delivery is EventBridge's, so a
   * hook may run twice or, rarely, not at all: make it idempotent, and let the canary's entries expire too.
   * @default - none
   */
  readonly rollbackHooks?: lambda.IFunction[];
  /**
   * Provisioned concurrency on each published version (fixed or auto-scaled; never on the alias) and the warm
   * gate: before any traffic moves, the new version's own provisioned concurrency must be READY within
   * `readyTimeout`, then it gets warm pings (see ProvisionedWarmup). With the staged strategy the state machine runs the warm gate before the first
   * shift; with canary, linear or allAtOnce the `probe` runs it in its BeforeAllowTraffic hook, so it needs
   * one. Adds the cold-start gate (`gates.maxColdStartShare`, default 0.05) as an alarm the deployment group
   * watches.
   * @default - no provisioned concurrency, no warm gate
   */
  readonly warmup?: ProvisionedWarmupOptions;
  /**
   * A KMS key for the log groups of the stack's rollout machinery (its functions', and its state machine's,
   * which hold every state's input and output). Every GuardedAlias of a stack with the same strategy family
   * shares one machinery, so they must give the same key (a different one is refused at synth). The key's
   * policy must let CloudWatch Logs use it: added for a key defined in the app, yours to add for an imported one.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logsKey?: kms.IKey;
  /**
   * Shadow as stage 0: the release (`release.releaseId`, which this requires) must have passed shadow, read from
   * the given ShadowIntegration's record of it, before any user traffic moves; otherwise the deployment reports
   * Failed at once. The staged and blue-green machines check it first; with canary, linear or allAtOnce the
   * `probe`'s BeforeAllowTraffic hook does, so it needs one. The decision goes to `notifications` too.
   * @default - no shadow requirement
   */
  readonly requireShadow?: ShadowPromotion;
}

/** The release identity of a GuardedAlias's function (see the runtime's `pinGuard` and `withRelease`). */
export interface ReleaseIdentityProps {
  /**
   * `RELEASE_ID`.
   * @default - `rel-` and 12 hex digits of a hash of the function's code and configuration: stable while they are
   */
  readonly releaseId?: string;
  /**
   * `SCHEMA_REV`: the schema revision requests must match (`X-Schema-Rev`).
   * @default - not pinned
   */
  readonly schemaRev?: string;
  /**
   * `INDEX_HASH`: the index the version reads (`X-Index-Hash`).
   * @default - not pinned
   */
  readonly indexHash?: string;
  /**
   * `MODEL_TAG`: the model the version calls (`X-Model-Tag`).
   * @default - not pinned
   */
  readonly modelTag?: string;
}
