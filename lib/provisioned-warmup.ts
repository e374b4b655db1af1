import { Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { TELEMETRY_NAMESPACE } from 'cdk-rollout-guardrails-runtime/contract';
import { Described, PropProblems } from './private/validation';

/**
 * What the warm gate does (the runtime's `WarmGateConfig`, which the gate's handlers read): wait for the new
 * version's provisioned concurrency to be READY, then send warm pings.
 */
export interface WarmGateConfig {
  /** Provisioned concurrency the new version must have (an integer ≥ 1): ProvisionedWarmup's count or floor. */
  readonly concurrency: number;
  /** Concurrent warm pings sent to the new version once it is READY (0 to 100; 0 sends none). */
  readonly pings: number;
  /** Longest wait for the new version's provisioned concurrency to be READY, in whole seconds. */
  readonly readyTimeoutSeconds: number;
}

/** Shortest wait for READY the warm gate accepts. */
const MIN_READY_TIMEOUT = Duration.seconds(30);
/**
 * Longest: the warm gate runs inside a CodeDeploy hook function, which Lambda stops after 15 minutes, and the
 * probe that follows it needs some of them.
 */
const MAX_READY_TIMEOUT = Duration.minutes(12);
/** Most concurrent warm pings. */
const MAX_WARM_PINGS = 100;
/** Default warm pings, when fewer than the warm-up's concurrency. */
const DEFAULT_WARM_PINGS = 10;
/** Default target of provisioned-concurrency utilization for auto scaling. */
const DEFAULT_UTILIZATION_TARGET = 0.7;

/** A scheduled change of each version's provisioned-concurrency range (Application Auto Scaling scheduled action). */
export interface ProvisionedWarmupSchedule {
  /**
   * The scheduled action's name, unique among this warm-up's schedules.
   * @default `Schedule<index>`
   */
  readonly id?: string;
  /** When: `appscaling.Schedule.cron({ hour: '7', minute: '0' })`, `Schedule.rate(...)`, `Schedule.at(...)`. */
  readonly schedule: appscaling.Schedule;
  /**
   * The range's new floor, at least 1. A scheduled scale-down to 0 is refused: it removes the version's
   * provisioned-concurrency configuration, and a deployment while it is gone fails
   * (ProvisionedConcurrencyConfigNotFoundException, aws-cdk issue 29992).
   */
  readonly minCapacity: number;
  /** The range's new ceiling. @default - unchanged */
  readonly maxCapacity?: number;
}

/** Auto scaling of each published version's provisioned concurrency. */
export interface ProvisionedWarmupAutoScaling {
  /** Floor of the version's provisioned concurrency, at least 1; a new version starts with it. */
  readonly minCapacity: number;
  /** Ceiling of the version's provisioned concurrency. */
  readonly maxCapacity: number;
  /**
   * Target tracking on `LambdaProvisionedConcurrencyUtilization`: the share of provisioned concurrency in use
   * that Application Auto Scaling keeps the alias at, from 0.1 to 0.9.
   * @default 0.7
   */
  readonly utilizationTarget?: number;
  /** Scheduled changes of the range (business hours, say). @default - none */
  readonly schedules?: ProvisionedWarmupSchedule[];
}

/**
 * Provisioned concurrency for a released function and its warm gate: what `GuardedAlias`'s `warmup` takes.
 * Exactly one of `provisionedConcurrency` and `autoScaling`.
 */
export interface ProvisionedWarmupOptions {
  /** A fixed provisioned concurrency on every published version (an integer ≥ 1). Excludes `autoScaling`. */
  readonly provisionedConcurrency?: number;
  /** Auto-scaled provisioned concurrency on every published version. Excludes `provisionedConcurrency`. */
  readonly autoScaling?: ProvisionedWarmupAutoScaling;
  /**
   * Concurrent warm pings (`{"x-warm": true}`) sent to the new version once its provisioned concurrency is
   * READY, 0 to 100 and at most the version's provisioned concurrency (`provisionedConcurrency` or
   * `autoScaling.minCapacity`): more would spill over to on-demand environments.
   * @default - the smaller of the version's provisioned concurrency and 10
   */
  readonly warmPings?: number;
  /**
   * Longest the warm gate waits for the new version's provisioned concurrency to be READY: whole seconds from
   * 30 seconds to 12 minutes (the gate runs inside a Lambda hook, which has at most 15 minutes). Allocation
   * starts when CloudFormation creates the version, before the alias update starts the deployment, so the
   * gate's own wait is what is left of it. The default fits the default staged schedule's hour (47.5 minutes +
   * the gate) and leaves room for the default probe in a canary's hook; a longer wait needs a shorter schedule.
   * @default Duration.minutes(2)
   */
  readonly readyTimeout?: Duration;
}

/** Properties of `ProvisionedWarmup`. */
export interface ProvisionedWarmupProps extends ProvisionedWarmupOptions {
  /** The alias users call; it carries no provisioned concurrency of its own (each version does). */
  readonly alias: lambda.Alias;
  /** The version the alias is published with (the new version of a deployment). */
  readonly version: lambda.Version;
}

/**
 * Provisioned concurrency for a released function, and the warm gate that makes a new version warm before
 * its first user request.
 *
 * **Where provisioned concurrency lives: on each published version.** A fixed count goes into the
 * `AWS::Lambda::Version` resource's `ProvisionedConcurrencyConfig`; with `autoScaling`, the version starts at
 * `minCapacity` and an Application Auto Scaling scalable target `function:<name>:<version>` (dimension
 * `lambda:function:ProvisionedConcurrency`) tracks `LambdaProvisionedConcurrencyUtilization`, with optional
 * scheduled actions. The alias carries none. This is what Lambda's documented rules leave (see
 * docs/aws-behaviour.md, PC-1 to PC-5):
 * - a version holds at most one configuration, on itself or on an alias pointing to it, so a configuration
 *   on the alias would collide with any configuration put on the new version to warm it;
 * - an alias's configuration cannot be managed while the alias is weighted, which it is during every shift;
 * - Application Auto Scaling cannot act on a weighted alias.
 * With every configuration on a version, nothing during a rollout puts, changes or deletes one: the new
 * version is created with its own provisioned concurrency *before* CloudFormation updates the alias (the
 * alias depends on the version), and the old version keeps its own until CloudFormation's cleanup deletes it
 * after a successful update. Both versions are fully provisioned while the alias is weighted, so neither
 * spills over to on-demand environments whatever the weight, and a flip back (blue-green) lands on a warm
 * version.
 *
 * **What the warm gate does.** Before any traffic moves (the staged machine's first task, the blue-green
 * machine before the switch, or the `DeltaSProbe` hook before its probe with CodeDeploy's own shapes), it
 * waits at most `readyTimeout` until `GetProvisionedConcurrencyConfig` on the new version says READY with at
 * least the expected count, then sends `warmPings` concurrent invocations of `{"x-warm": true}` so that the
 * handler's lazy initialisation has run everywhere; the runtime's telemetry writes no metric for a warm ping.
 * It fails the deployment, before any user request, when Lambda reports FAILED (the StatusReason, e.g.
 * FUNCTION_ERROR_INIT_FAILURE, is in the report), when the wait runs out (the waited time is named), or when
 * a ping errors. Its calls are reads and invocations only.
 *
 * **Pitfalls handled.**
 * - An alias with provisioned concurrency or a routing configuration of its own is refused at synth.
 * - A scheduled scale-down to 0 removes the version's configuration: schedules with a `minCapacity` of 0
 *   are refused at synth; keep a floor of 1.
 * - Nothing keeps paying for a version nobody calls: the published version's removal policy is DESTROY, so
 *   when a deployment fails CloudFormation's rollback deletes the new version (and its configuration), and
 *   once a deployment succeeds the superseded version is deleted in the stack update's cleanup phase.
 *   Versions are not kept for manual rollback: roll back by deploying the previous code.
 *
 * **Cost.** Provisioned concurrency is billed per GB-second while configured, whether used or not. During a
 * rollout both versions carry their full count, from the new version's creation until CloudFormation's
 * cleanup deletes the old one: about the deployment's length of one extra version's provisioned concurrency
 * per deployment (for the default staged schedule, under an hour).
 *
 * `grantWarmGate()` gives the function that runs the gate exactly what it needs; `warmGate` is the plain
 * configuration it runs with.
 */
export class ProvisionedWarmup extends Construct {
  /** The alias users call (it carries no provisioned concurrency of its own). */
  public readonly alias: lambda.Alias;
  /** The published version the warm gate warms. */
  public readonly version: lambda.Version;
  /** The fixed provisioned concurrency of every published version; undefined when auto-scaled. */
  public readonly provisionedConcurrency?: number;
  /** The auto scaling of each version's provisioned concurrency, with defaults filled in; undefined when fixed. */
  public readonly autoScaling?: ProvisionedWarmupAutoScaling;
  /** The version's scalable target (`function:<name>:<version>`), to add more scaling; undefined when fixed. */
  public readonly scaling?: appscaling.ScalableTarget;
  /** What the warm gate does: `{ concurrency, pings, readyTimeoutSeconds }`. */
  public readonly warmGate: WarmGateConfig;

  constructor(scope: Construct, id: string, props: ProvisionedWarmupProps) {
    super(scope, id);
    const problems = new PropProblems();
    const alias = props?.alias;
    const version = props?.version;
    if (!(alias instanceof lambda.Alias)) problems.add('alias', 'a lambda.Alias', described(alias));
    if (!(version instanceof lambda.Version)) problems.add('version', 'a lambda.Version (a published version, e.g. fn.currentVersion)', described(version));
    if (alias instanceof lambda.Alias && version instanceof lambda.Version) {
      if (alias.version !== version) problems.add('version', `the version the alias '${alias.node.path}' points at (${alias.version.node.path})`, described(version));
      const cfnAlias = alias.node.defaultChild as lambda.CfnAlias;
      if (cfnAlias.provisionedConcurrencyConfig !== undefined || alias.node.tryFindChild('AliasScaling') !== undefined) {
        problems.add('alias', 'an alias without provisioned concurrency of its own (ProvisionedWarmup puts it on each version: a version holds one configuration, on itself or on an alias pointing to it)', described(alias));
      }
      if (cfnAlias.routingConfig !== undefined) {
        problems.add('alias', 'an alias without additional version weights (Lambda refuses provisioned concurrency on a weighted alias: "Alias with weights can not be used with Provisioned Concurrency")', described(alias));
      }
    }

    const fixed = props?.provisionedConcurrency;
    const scaling = props?.autoScaling;
    if (fixed !== undefined && scaling !== undefined) {
      problems.add('provisionedConcurrency', 'left out when autoScaling is set (exactly one of a fixed count and auto scaling)', fixed);
    } else if (fixed === undefined && scaling === undefined) {
      problems.add('provisionedConcurrency', 'a count, or autoScaling set instead (exactly one of a fixed count and auto scaling)', undefined);
    }
    atLeastOne(problems, 'provisionedConcurrency', fixed);
    let utilizationTarget = DEFAULT_UTILIZATION_TARGET;
    if (scaling !== undefined) {
      if (typeof scaling !== 'object' || scaling === null) {
        problems.add('autoScaling', 'an object with minCapacity and maxCapacity', scaling);
      } else {
        atLeastOne(problems, 'autoScaling.minCapacity', scaling.minCapacity, true);
        atLeastOne(problems, 'autoScaling.maxCapacity', scaling.maxCapacity, true);
        if (isCount(scaling.minCapacity) && isCount(scaling.maxCapacity) && scaling.minCapacity > scaling.maxCapacity) {
          problems.add('autoScaling.maxCapacity', `at least autoScaling.minCapacity (${scaling.minCapacity})`, scaling.maxCapacity);
        }
        // Application Auto Scaling's range for Lambda, as aws-cdk-lib enforces it for scaleOnUtilization.
        problems.number('autoScaling.utilizationTarget', scaling.utilizationTarget, { min: 0.1, max: 0.9 });
        utilizationTarget = scaling.utilizationTarget ?? DEFAULT_UTILIZATION_TARGET;
        validateSchedules(problems, scaling.schedules);
      }
    }

    if ((props as { warmConcurrency?: unknown })?.warmConcurrency !== undefined) {
      problems.add('warmConcurrency', 'left out: the new version is warmed by its own provisioned concurrency (provisionedConcurrency or autoScaling.minCapacity), which it gets when it is published', (props as { warmConcurrency?: unknown }).warmConcurrency);
    }
    const warmConcurrency = fixed ?? (scaling && typeof scaling === 'object' ? scaling.minCapacity : undefined);
    problems.integer('warmPings', props?.warmPings, 0, MAX_WARM_PINGS);
    if (props?.warmPings !== undefined && isCount(warmConcurrency) && Number.isInteger(props.warmPings) && props.warmPings > warmConcurrency) {
      problems.add('warmPings', `at most the version's provisioned concurrency (${warmConcurrency}): more concurrent pings than provisioned environments spill over to on-demand ones`, props.warmPings);
    }
    const readyTimeout = props?.readyTimeout ?? Duration.minutes(2);
    if (!(readyTimeout instanceof Duration)) {
      problems.add('readyTimeout', 'a Duration', readyTimeout);
    } else if (!Token.isUnresolved(readyTimeout)) {
      const ms = readyTimeout.toMilliseconds();
      if (ms % 1000 !== 0 || ms < MIN_READY_TIMEOUT.toMilliseconds() || ms > MAX_READY_TIMEOUT.toMilliseconds()) {
        problems.add('readyTimeout', `whole seconds from ${MIN_READY_TIMEOUT.toHumanString()} to ${MAX_READY_TIMEOUT.toHumanString()} (the warm gate runs inside a CodeDeploy hook, a Lambda function with at most 15 minutes, and the probe after it needs some of them)`, readyTimeout);
      }
    } else {
      problems.add('readyTimeout', 'a Duration known at synth (the warm gate\'s configuration is written at synth)', readyTimeout);
    }
    problems.throwIfAny(`ProvisionedWarmup '${this.node.path}'`);

    this.alias = alias;
    this.version = version;
    const concurrency = warmConcurrency as number;
    this.warmGate = {
      concurrency,
      pings: props.warmPings ?? Math.min(concurrency, DEFAULT_WARM_PINGS),
      readyTimeoutSeconds: readyTimeout.toSeconds(),
    };

    const cfnVersion = version.node.defaultChild as lambda.CfnVersion;
    if (fixed !== undefined) {
      this.provisionedConcurrency = fixed;
      cfnVersion.provisionedConcurrencyConfig = { provisionedConcurrentExecutions: fixed };
    } else {
      const s = scaling!;
      this.autoScaling = { minCapacity: s.minCapacity, maxCapacity: s.maxCapacity, utilizationTarget, schedules: s.schedules ?? [] };
      // The version starts at the floor; the scalable target is the version (function:<name>:<version>), never
      // the alias, which Application Auto Scaling cannot act on while it is weighted. A new version gets a new
      // target (replaced with the version), and the old one goes with the old version in the cleanup phase.
      cfnVersion.provisionedConcurrencyConfig = { provisionedConcurrentExecutions: s.minCapacity };
      const stack = Stack.of(this);
      this.scaling = new appscaling.ScalableTarget(this, 'Scaling', {
        serviceNamespace: appscaling.ServiceNamespace.LAMBDA,
        scalableDimension: 'lambda:function:ProvisionedConcurrency',
        resourceId: `function:${version.lambda.functionName}:${version.version}`,
        minCapacity: s.minCapacity,
        maxCapacity: s.maxCapacity,
        // Application Auto Scaling's service-linked role for Lambda, as aws-cdk-lib's alias scaling names it.
        role: iam.Role.fromRoleArn(this, 'ScalingRole', stack.formatArn({
          service: 'iam', region: '', resource: 'role/aws-service-role/lambda.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency',
        })),
      });
      this.scaling.scaleToTrackMetric('Tracking', {
        // The target is replaced with every version; a name of its own keeps the replacement from colliding with
        // the policy it replaces (CloudFormation creates the new one before it deletes the old).
        policyName: `${Names.uniqueId(this)}-v${version.version}`,
        targetValue: utilizationTarget,
        predefinedMetric: appscaling.PredefinedMetric.LAMBDA_PROVISIONED_CONCURRENCY_UTILIZATION,
      });
      (s.schedules ?? []).forEach((entry, i) => {
        this.scaling!.scaleOnSchedule(entry.id ?? `Schedule${i}`, { schedule: entry.schedule, minCapacity: entry.minCapacity, maxCapacity: entry.maxCapacity });
      });
    }
    // A failed deployment's rollback deletes the new version (with any temporary provisioned concurrency left on
    // it); a superseded version is deleted in the cleanup phase. No version nobody calls keeps paying.
    (version.node.defaultChild as lambda.CfnVersion).applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  /** A version's provisioned concurrency at its lowest: the fixed count, or `autoScaling.minCapacity`. */
  public get minCapacity(): number {
    return this.provisionedConcurrency ?? this.autoScaling!.minCapacity;
  }

  /** A version's provisioned concurrency at its highest: the fixed count, or `autoScaling.maxCapacity`. */
  public get maxCapacity(): number {
    return this.provisionedConcurrency ?? this.autoScaling!.maxCapacity;
  }

  /**
   * Lets `grantee` (the function that runs the warm gate) do exactly what the gate does:
   * `lambda:GetProvisionedConcurrencyConfig` and `lambda:InvokeFunction` (the warm pings) on this synth's
   * version ARN only (it never writes a configuration), and `lambda:GetAlias` (to tell the hook's phase) on the function and this alias: AWS authorises
   * alias actions against the function's unqualified ARN, so the alias ARN alone would not do (the stack's
   * other GetAlias grants name both as well). The ARNs are built from names, not from the alias resource,
   * so a hook the alias depends on can hold them without a dependency cycle.
   */
  public grantWarmGate(grantee: iam.IGrantable): iam.Grant {
    const functionArn = this.version.lambda.functionArn;
    const onVersion = iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:GetProvisionedConcurrencyConfig', 'lambda:InvokeFunction'],
      resourceArns: [this.version.functionArn],
    });
    const onAlias = iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:GetAlias'],
      resourceArns: [functionArn, `${functionArn}:${this.alias.aliasName}`],
    });
    return onVersion.combine(onAlias);
  }

  /**
   * The share (0 to 1) of a release's invocations that were cold starts, from the runtime's `withRelease`
   * telemetry (namespace `RolloutGuardrails`, dimensions `FunctionName` and `ReleaseId`): `cold / inv` per
   * period, with both series filled with 0 and 0 when there were no invocations, so a period without traffic
   * is never a breach. Warm pings write no record, so they count neither way. The seeds' target after warm-up:
   * at most 0.05.
   */
  public metricColdStartShare(releaseId: string, options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    const dimensionsMap = { FunctionName: this.version.lambda.functionName, ReleaseId: releaseId };
    return new cloudwatch.MathExpression({
      expression: 'IF(FILL(inv, 0) > 0, FILL(cold, 0) / FILL(inv, 0), 0)',
      usingMetrics: {
        inv: new cloudwatch.Metric({ namespace: TELEMETRY_NAMESPACE, metricName: 'Invocations', statistic: 'Sum', dimensionsMap }),
        cold: new cloudwatch.Metric({ namespace: TELEMETRY_NAMESPACE, metricName: 'ColdStart', statistic: 'Sum', dimensionsMap }),
      },
      label: 'Cold-start share of the release (0..1, from withRelease telemetry)',
      period: Duration.minutes(1),
      ...options,
    });
  }
}

function validateSchedules(problems: PropProblems, schedules: readonly ProvisionedWarmupSchedule[] | undefined): void {
  if (schedules === undefined) return;
  if (!Array.isArray(schedules)) {
    problems.add('autoScaling.schedules', 'an array of { schedule, minCapacity, maxCapacity? }', schedules);
    return;
  }
  const ids = new Map<string, number>();
  schedules.forEach((entry, i) => {
    const at = `autoScaling.schedules[${i}]`;
    if (typeof entry !== 'object' || entry === null) {
      problems.add(at, 'an object { schedule, minCapacity, maxCapacity? }', entry);
      return;
    }
    if (!(entry.schedule instanceof appscaling.Schedule)) problems.add(`${at}.schedule`, 'an appscaling.Schedule (Schedule.cron(...), Schedule.rate(...), Schedule.at(...))', entry.schedule);
    if (entry.minCapacity === 0) {
      problems.add(`${at}.minCapacity`, 'at least 1: a scheduled scale-down to 0 removes the version\'s provisioned concurrency configuration, and a deployment while it is gone fails (ProvisionedConcurrencyConfigNotFoundException, aws-cdk issue 29992); keep a floor of 1', 0);
    } else {
      atLeastOne(problems, `${at}.minCapacity`, entry.minCapacity, true);
    }
    atLeastOne(problems, `${at}.maxCapacity`, entry.maxCapacity);
    if (isCount(entry.minCapacity) && isCount(entry.maxCapacity) && entry.minCapacity > entry.maxCapacity) {
      problems.add(`${at}.maxCapacity`, `at least its minCapacity (${entry.minCapacity})`, entry.maxCapacity);
    }
    const id = entry.id ?? `Schedule${i}`;
    if (typeof id !== 'string' || !/^[^|:/]{1,256}$/.test(id)) {
      problems.add(`${at}.id`, '1 to 256 characters without "|", ":" or "/" (an Application Auto Scaling scheduled action name)', entry.id);
    } else if (ids.has(id)) {
      problems.add(`${at}.id`, `unique among the schedules (schedules[${ids.get(id)}] has it too)`, id);
    } else {
      ids.set(id, i);
    }
  });
}

/** Records a problem unless `value` is an integer ≥ 1 (undefined passes unless `required`; tokens are left to deploy time). */
function atLeastOne(problems: PropProblems, prop: string, value: number | undefined, required = false): void {
  if (value === undefined) {
    if (required) problems.add(prop, 'an integer of at least 1', value);
    return;
  }
  if (Token.isUnresolved(value)) return;
  if (!isCount(value)) problems.add(prop, 'an integer of at least 1', value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

function described(value: unknown): unknown {
  return value instanceof Construct ? new Described(`the construct at '${value.node.path}'`) : value;
}
