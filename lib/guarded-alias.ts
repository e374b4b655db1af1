import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { CanaryMetrics } from './canary-metrics';
import { DeltaSProbe } from './delta-s-probe';
import { GuardedAliasProps, IGuardedAlias } from './guarded-alias-props';
import { ProvisionedWarmup } from './provisioned-warmup';
import { DEFAULT_GATE_THRESHOLDS, DEFAULT_MAX_COLD_START_SHARE, MAX_DETECTION_TIME, PROBE_GATE_NAMES, ReleaseGates } from './release-gates';
import { RolloutStrategy } from './rollout-strategy';
import { GuardedStackChecks, API_BYPASSES_ALIAS_WARNING, ENVIRONMENT_SIZE_WARNING } from './private/stack-checks';
import { aliasSynthProblems, checkGuardedAliasProps, MAX_ALARMS_PER_DEPLOYMENT_GROUP, RELEASE_ENV } from './private/alias-validation';
import { ControlVersions } from './private/control-version';
import { coldStartGate } from './private/gate-alarm';
import { allowCodeDeployToInvoke, deploymentGroupFor, TARGET_VERSION_ENV, wireUserHook } from './private/hooks';
import { wireRolloutEvents } from './private/rollout-events';
import { defaultReleaseId, publishRelease } from './private/release-id';
import { rememberShadowContext, requireShadowOn } from './private/shadow-promotion';
import type { ShadowPromotion } from './shadow-promotion';
import { StackRolloutResources } from './private/stack-resources';

export * from './guarded-alias-props';
/** The GuardedAlias that owns each alias name of a function. */
const ALIASES_BY_FUNCTION = new WeakMap<lambda.Function, Map<string, GuardedAlias>>();

/**
 * The one construct for the common case: publishes the function's version, owns the alias and a CodeDeploy deployment
 * group, and turns the release gates into an alarm that rolls a bad release back. `cdk deploy` of a changed function
 * becomes a CodeDeploy-managed rollout by the strategy (which binds itself: configuration, machinery, hooks) that stops
 * on failure, on a stop and on any watched alarm, and CloudFormation rolls the stack back.
 */
export class GuardedAlias extends Construct implements IGuardedAlias {
  /** Id of the warning on an API, URL or mapping that calls a guarded function unqualified (bypassing the rollout). */
  public static readonly API_BYPASSES_ALIAS_WARNING: string = API_BYPASSES_ALIAS_WARNING;
  /** Id of the warning on a function whose environment variables may exceed Lambda's 4 KB once deployed. */
  public static readonly ENVIRONMENT_SIZE_WARNING: string = ENVIRONMENT_SIZE_WARNING;
  /** Most alarms CodeDeploy lets one deployment group watch. */
  public static readonly MAX_ALARMS_PER_DEPLOYMENT_GROUP: number = MAX_ALARMS_PER_DEPLOYMENT_GROUP;
  /** The environment variable through which a hook learns the ARN of the version it is there to test. */
  public static readonly TARGET_VERSION_ENV: string = TARGET_VERSION_ENV;
  public readonly alias: lambda.Alias;
  public readonly version: lambda.Version;
  public readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The alarms of the release gates. */
  public readonly gates: ReleaseGates;
  /** The version the alias served before this deployment (the rollout's control), resolved at deploy time. */
  public readonly controlVersion: string;
  /** The release ID every version published through this alias carries as RELEASE_ID. */
  public readonly releaseId: string;
  /** The strategy in force. */
  public readonly strategy: RolloutStrategy;
  /** The ΔS probe run before and after traffic moves, if any. */
  public readonly probe?: DeltaSProbe;
  /** The probe's ΔS alarm on the new version, watched by the deployment group; undefined without a probe. */
  public readonly probeAlarm?: cloudwatch.Alarm;
  /** Canary-versus-control metrics of this alias. */
  public readonly metrics: CanaryMetrics;
  /** The alias's provisioned concurrency and warm gate, if `warmup` is set. */
  public readonly warmup?: ProvisionedWarmup;
  /** The cold-start gate's alarm, watched by the deployment group; with `warmup` only. */
  public readonly coldStartAlarm?: cloudwatch.Alarm;
  /** Worst-case time from a breach of a gate to its alarm firing; CodeDeploy stops at its next poll of the alarms. */
  public readonly worstCaseDetectionTime: Duration;

  private readonly serviceRole: iam.IRole;
  private readonly extraAlarms: cloudwatch.IAlarm[] = [];
  private readonly hooks: { pre?: lambda.IFunction; post?: lambda.IFunction } = {};

  constructor(scope: Construct, id: string, props: GuardedAliasProps) {
    super(scope, id);
    const { fn, aliasName, strategy } = checkGuardedAliasProps(this.node.path, props, (f, name) => ALIASES_BY_FUNCTION.get(f)?.get(name));
    this.strategy = strategy;
    if (!Token.isUnresolved(aliasName)) ALIASES_BY_FUNCTION.set(fn, (ALIASES_BY_FUNCTION.get(fn) ?? new Map()).set(aliasName, this));
    GuardedStackChecks.of(Stack.of(fn)).guard(fn, this, aliasName);
    this.releaseId = props.release?.releaseId ?? defaultReleaseId(fn);
    const { version, pins } = publishRelease(fn, this.releaseId, RELEASE_ENV.filter(([name]) => name !== 'releaseId').map(([name, variable]) => [variable, props.release?.[name]]));
    this.version = version;
    this.alias = new lambda.Alias(this, 'Alias', { aliasName, version: this.version, description: props.description });
    if (props.warmup) this.warmup = new ProvisionedWarmup(this, 'Warmup', { ...props.warmup, alias: this.alias, version: this.version });

    // The control is the version users are on before this deployment, read from the alias before CloudFormation updates it.
    this.controlVersion = ControlVersions.of(this).controlVersionOf(this.alias, fn, this.version);
    this.metrics = new CanaryMetrics({ functionName: fn.functionName, aliasName, canaryVersion: this.version.version, controlVersion: this.controlVersion, canaryAlias: strategy._canaryAliasOf(aliasName) });
    this.gates = new ReleaseGates(this, 'Gates', { metrics: this.metrics, thresholds: props.gates });
    this.worstCaseDetectionTime = this.gates.worstCaseDetectionTime;
    if (this.worstCaseDetectionTime.toSeconds() > MAX_DETECTION_TIME.toSeconds()) throw new Error(`GuardedAlias '${this.node.path}': worst-case detection time ${this.worstCaseDetectionTime.toHumanString()} exceeds ${MAX_DETECTION_TIME.toHumanString()}`);
    this.serviceRole = StackRolloutResources.of(Stack.of(this)).serviceRole;
    this.deploymentGroup = deploymentGroupFor(this, this.alias, strategy._bindDeploymentConfig(this), this.gates.alarms, () => this.hooks);
    if (props.probe) {
      this.probe = props.probe;
      this.probeAlarm = props.probe._bind({
        scope: this, function: fn, aliasName, version: this.version, controlVersion: this.controlVersion, deploymentGroup: this.deploymentGroup,
        gates: Object.fromEntries(PROBE_GATE_NAMES.filter((n) => props.gates?.[n] !== undefined).map((n) => [n, props.gates![n]])),
        warmup: strategy._runsWarmGate ? undefined : this.warmup,
      });
      this.addAlarm(this.probeAlarm);
      // One probe can serve many aliases. As a hook the update policy orders the alias after it; run by a machine, the alias depends on it.
      if (strategy._probeIsHook) this.setHooks({ preTrafficHook: props.probe.function, postTrafficHook: props.probe.function });
      else this.alias.node.addDependency(props.probe.function);
    }
    if (this.warmup) this.addAlarm(this.coldStartAlarm = coldStartGate(this, this.warmup, this.releaseId, props.gates?.maxColdStartShare ?? DEFAULT_MAX_COLD_START_SHARE));
    for (const alarm of props.alarms ?? []) this.addAlarm(alarm);
    this.setHooks(strategy._bind({
      scope: this, alias: this.alias, version: this.version, deploymentGroup: this.deploymentGroup, probe: props.probe, warmup: this.warmup,
      alarms: this.alarms, thresholds: props.gates, pins, notifications: props.notifications, logsKey: props.logsKey,
    }));
    wireRolloutEvents(this, {
      deploymentGroup: this.deploymentGroup, fn, aliasName, releaseId: this.releaseId, notifications: props.notifications, rollbackHooks: props.rollbackHooks, strategy: strategy.toString(),
      thresholds: { ...DEFAULT_GATE_THRESHOLDS, ...Object.fromEntries(Object.entries(props.gates ?? {}).filter(([, v]) => typeof v === 'number')) },
      alarms: [...this.gates.alarms, ...[this.probeAlarm, this.coldStartAlarm].filter((a): a is cloudwatch.Alarm => a !== undefined)],
    });
    if (props.preTrafficHook) this.addPreTrafficHook(props.preTrafficHook);
    if (props.postTrafficHook) this.addPostTrafficHook(props.postTrafficHook);
    rememberShadowContext(this, { notifications: props.notifications, releaseIdGiven: props.release?.releaseId !== undefined }, props.requireShadow);
    // Alarms may be added after construction: their count is checked at synth (aliases of the same name, by the stack's check).
    this.node.addValidation({ validate: () => aliasSynthProblems(this) });
  }

  /** Shadow as stage 0 (the `requireShadow` prop) for a ShadowIntegration made after this alias, as its `live`. Once per alias. */
  public requireShadow(promotion: ShadowPromotion): void {
    requireShadowOn(this, promotion);
  }

  /** Every alarm the deployment group watches: the gates' and the ones added. */
  public get alarms(): cloudwatch.IAlarm[] {
    return [...this.gates.alarms, ...this.extraAlarms];
  }

  /** The alias's name. */
  public get aliasName(): string {
    return this.alias.aliasName;
  }

  /** Adds an alarm the deployment group watches; while it is in ALARM the deployment rolls back. */
  public addAlarm(alarm: cloudwatch.IAlarm): void {
    if (this.alarms.includes(alarm)) throw new Error(`GuardedAlias '${this.node.path}': alarm '${alarm.node.path}' is already watched`);
    this.extraAlarms.push(alarm);
    this.deploymentGroup.addAlarm(alarm);
  }

  /**
   * Sets the function CodeDeploy runs before any traffic moves (BeforeAllowTraffic). The hook may report its status
   * for this deployment group, may read the deployment, and may invoke the new version, whose ARN it finds in its
   * `GUARDRAILS_TARGET_VERSION_ARN` environment variable (for a `lambda.Function` hook).
   */
  public addPreTrafficHook(hook: lambda.IFunction): void {
    this.addUserHook('preTrafficHook', 'BeforeAllowTraffic', hook);
  }

  /** Sets the function CodeDeploy runs after all traffic has moved (AfterAllowTraffic); granted as for `addPreTrafficHook`. */
  public addPostTrafficHook(hook: lambda.IFunction): void {
    this.addUserHook('postTrafficHook', 'AfterAllowTraffic', hook);
  }

  /** Lets `grantee` invoke the alias (users' traffic path). */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.alias.grantInvoke(grantee);
  }

  /** Lets `grantee` run the command line's live commands on this alias's rollouts and nothing else: `status` and `abort`, and with a staged strategy `pause`, `resume` and `promote`. */
  public grantOperate(grantee: iam.IGrantable): iam.Grant { return this.strategy._grantOperate({ scope: this, deploymentGroup: this.deploymentGroup, alarms: () => this.alarms }, grantee); }
  /** Invocations through the alias. */
  public metricInvocations(options?: cloudwatch.MetricOptions): cloudwatch.Metric { return this.metrics.aliasMetric('Invocations', { statistic: 'Sum', ...options }); }
  /** Errors through the alias. */
  public metricErrors(options?: cloudwatch.MetricOptions): cloudwatch.Metric { return this.metrics.aliasMetric('Errors', { statistic: 'Sum', ...options }); }
  /** Duration through the alias (p95 unless the options say otherwise). */
  public metricDuration(options?: cloudwatch.MetricOptions): cloudwatch.Metric { return this.metrics.aliasMetric('Duration', { statistic: 'p95', ...options }); }
  /** Error rate of the whole alias, 0..1. */
  public metricErrorRate(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression { return this.metrics.errorRate(options); }
  /** Error rate of the new version, 0..1. */
  public metricCanaryErrorRate(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression { return this.metrics.canaryErrorRate(options); }
  /** Error rate of the control (alias totals minus the new version), 0..1. */
  public metricControlErrorRate(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression { return this.metrics.controlErrorRate(options); }
  /** Canary minus control error rate, the `maxErrorRateDelta` gate's metric. */
  public metricErrorRateDelta(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression { return this.metrics.errorRateDelta(options); }
  /** p95 duration of the new version. */
  public metricCanaryP95(options?: cloudwatch.MetricOptions): cloudwatch.Metric { return this.metrics.canaryP95(options); }
  /** p95 duration of the control: the version the alias served before this deployment. */
  public metricControlP95(options?: cloudwatch.MetricOptions): cloudwatch.Metric { return this.metrics.controlP95(options); }
  /** Canary over control p95 duration, the `maxP95Ratio` gate's metric. */
  public metricP95Ratio(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression { return this.metrics.p95Ratio(options); }

  /** Takes the hooks a strategy or the probe runs, and lets CodeDeploy invoke each (once). */
  private setHooks(hooks: { readonly preTrafficHook?: lambda.IFunction; readonly postTrafficHook?: lambda.IFunction }): void {
    const { preTrafficHook: pre, postTrafficHook: post } = hooks;
    Object.assign(this.hooks, pre ? { pre } : {}, post ? { post } : {});
    for (const hook of new Set([pre, post])) if (hook) allowCodeDeployToInvoke(this.serviceRole, hook);
  }

  private addUserHook(prop: 'preTrafficHook' | 'postTrafficHook', phase: string, hook: lambda.IFunction): void {
    const current = prop === 'preTrafficHook' ? this.hooks.pre : this.hooks.post;
    if (current) throw new Error(`GuardedAlias '${this.node.path}': ${prop} is already set to '${current.node.path}'; CodeDeploy runs one ${phase} hook per deployment group`);
    if (hook === this.version.lambda) throw new Error(`GuardedAlias '${this.node.path}': a traffic hook must be a function other than the one being released, got: '${hook.node.path}'`);
    this.hooks[prop === 'preTrafficHook' ? 'pre' : 'post'] = hook;
    wireUserHook({ owner: this, version: this.version, deploymentGroup: this.deploymentGroup, serviceRole: this.serviceRole }, hook);
  }
}
