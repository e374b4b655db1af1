import { Annotations, Aspects, CfnResource, Duration, IAspect, Lazy, Stack, Tags, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { CanaryMetrics } from './canary-metrics';
import { DeltaSProbe } from './delta-s-probe';
import { ProvisionedWarmup, ProvisionedWarmupOptions } from './provisioned-warmup';
import { DEFAULT_GATE_THRESHOLDS, DEFAULT_MAX_COLD_START_SHARE, GateThresholds, MAX_DETECTION_TIME, PROBE_GATE_NAMES, ReleaseGates, validateGateThresholds } from './release-gates';
import { BlueGreenRolloutStrategy, RolloutStrategy, StagedRolloutStrategy } from './rollout-strategy';
import { BlueGreenSwitch } from './blue-green';
import { StagedRollout } from './staged-rollout';
import { ControlVersions } from './private/control-version';
import { acknowledgeGuard, GATE_ALARM_REASON } from './private/guard';
import { alarmTo } from './private/machinery';
import { RolloutNotifications } from './private/notifications';
import { defaultReleaseId } from './private/release-id';
import { StackRolloutResources } from './private/stack-resources';
import { Described, PropProblems, show } from './private/validation';

/**
 * CodeDeploy watches at most 10 alarms per deployment group.
 * @see https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_AlarmConfiguration.html
 */
export const MAX_ALARMS_PER_DEPLOYMENT_GROUP = 10;

/** The environment variable through which a hook learns the ARN of the version it is there to test. */
export const TARGET_VERSION_ENV = 'GUARDRAILS_TARGET_VERSION_ARN';

/** Lambda alias names: 1 to 128 letters, digits, `-` or `_`, and not only digits. */
const ALIAS_NAME = /^(?!\d+$)[A-Za-z0-9_-]{1,128}$/;

/** A guarded alias, as other constructs of this library consume it. */
export interface IGuardedAlias extends IConstruct {
  /** The alias that users' traffic goes through. */
  readonly alias: lambda.Alias;
  /** The version this synth publishes: the new version during a rollout. */
  readonly version: lambda.IVersion;
  /** The CodeDeploy deployment group that moves traffic between versions. */
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
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

/** Release pin values travel in HTTP headers: printable, no spaces, at most 128 characters. */
const PIN_VALUE = /^[A-Za-z0-9._:\/+=@-]{1,128}$/;
const RELEASE_ENV: ReadonlyArray<[keyof ReleaseIdentityProps, string]> = [
  ['releaseId', 'RELEASE_ID'], ['schemaRev', 'SCHEMA_REV'], ['indexHash', 'INDEX_HASH'], ['modelTag', 'MODEL_TAG'],
];

/**
 * The one construct for the common case: publishes the function's version, owns the alias and a CodeDeploy
 * deployment group, and turns the release gates into alarms that roll a bad release back by themselves.
 *
 * `cdk deploy` of a changed function becomes a CodeDeploy-managed rollout: the alias carries
 * CloudFormation's `CodeDeployLambdaAliasUpdate` policy, CodeDeploy moves traffic by the strategy and
 * stops on failure, on a stop and on any watched alarm, and CloudFormation rolls the stack back.
 */
export class GuardedAlias extends Construct implements IGuardedAlias {
  public readonly alias: lambda.Alias;
  public readonly version: lambda.Version;
  public readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The alarms of the release gates. */
  public readonly gates: ReleaseGates;
  /**
   * The version the alias served before this deployment (the control of the rollout), resolved at deploy
   * time by the stack's `Custom::GuardrailsControlVersions` resource.
   */
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
  /** The cold-start gate's alarm (the new version's cold-start share), watched by the deployment group; with `warmup` only. */
  public readonly coldStartAlarm?: cloudwatch.Alarm;
  /**
   * Worst-case time from a breach of a gate to its alarm firing (see `worstCaseDetectionTime()` in
   * release-gates.ts); CodeDeploy stops the deployment at its next poll of the alarms.
   */
  public readonly worstCaseDetectionTime: Duration;

  private readonly fn: lambda.Function;
  private readonly serviceRole: iam.IRole;
  private readonly extraAlarms: cloudwatch.IAlarm[] = [];
  private preHook?: lambda.IFunction;
  private postHook?: lambda.IFunction;

  constructor(scope: Construct, id: string, props: GuardedAliasProps) {
    super(scope, id);
    const problems = new PropProblems();
    const fn = props?.function;
    if (!(fn instanceof lambda.Function)) {
      problems.add('function', 'a lambda.Function defined in this app (GuardedAlias publishes its versions)', describeConstruct(fn));
    }
    const aliasName = props?.aliasName ?? 'live';
    if (!Token.isUnresolved(aliasName) && (typeof aliasName !== 'string' || !ALIAS_NAME.test(aliasName))) {
      problems.add('aliasName', '1 to 128 letters, digits, "-" or "_", and not only digits', aliasName);
    }
    const strategy = props?.strategy ?? RolloutStrategy.staged();
    if (!(strategy instanceof RolloutStrategy)) {
      problems.add('strategy', 'a RolloutStrategy (staged, canary, linear or allAtOnce)', strategy);
    } else {
      problems.addAll(strategy.validate());
    }
    problems.addAll(validateGateThresholds(props?.gates));
    if (props?.probe === undefined && props?.gates && typeof props.gates === 'object') {
      for (const name of PROBE_GATE_NAMES) {
        if (props.gates[name] !== undefined) problems.add(`gates.${name}`, 'left out without a probe (it is a gate of the ΔS probe: set `probe` too)', props.gates[name]);
      }
    }
    for (const [prop, hook] of [['preTrafficHook', props?.preTrafficHook], ['postTrafficHook', props?.postTrafficHook]] as const) {
      if (hook !== undefined && !isFunction(hook)) problems.add(prop, 'a lambda.IFunction', describeConstruct(hook));
      if (hook !== undefined && hook === fn) problems.add(prop, 'a function other than the one being released', describeConstruct(hook));
    }
    if (props?.probe !== undefined && !(props.probe instanceof DeltaSProbe)) problems.add('probe', 'a DeltaSProbe', describeConstruct(props.probe));
    if (props?.probe instanceof DeltaSProbe) {
      for (const [prop, hook] of [['preTrafficHook', props.preTrafficHook], ['postTrafficHook', props.postTrafficHook]] as const) {
        if (hook !== undefined) {
          problems.add(prop, `left out when probe is set (the probe is both the BeforeAllowTraffic and the AfterAllowTraffic hook, and CodeDeploy runs one hook per phase; run your checks in their own deployment group or drop the probe)`, describeConstruct(hook));
        }
      }
    }
    if (props?.alarms !== undefined && !Array.isArray(props.alarms)) problems.add('alarms', 'an array of alarms', props.alarms);
    if (strategy instanceof BlueGreenRolloutStrategy) {
      for (const [prop, hook] of [['preTrafficHook', props?.preTrafficHook], ['postTrafficHook', props?.postTrafficHook]] as const) {
        if (hook !== undefined) problems.add(prop, 'left out with a blue-green strategy (the stack\'s blue-green hook is both the BeforeAllowTraffic and the AfterAllowTraffic hook; CodeDeploy runs one hook per phase)', describeConstruct(hook));
      }
    }
    if (strategy instanceof StagedRolloutStrategy && props?.preTrafficHook !== undefined) {
      problems.add('preTrafficHook', 'left out with a staged strategy (its BeforeAllowTraffic hook starts the staged rollout; CodeDeploy runs one hook per phase: use postTrafficHook, or canary/linear)', describeConstruct(props.preTrafficHook));
    }
    if (props?.warmup !== undefined && (typeof props.warmup !== 'object' || props.warmup === null)) {
      problems.add('warmup', 'an object of ProvisionedWarmupOptions ({ provisionedConcurrency } or { autoScaling })', props.warmup);
    } else if (props?.warmup !== undefined && props.probe === undefined && strategy instanceof RolloutStrategy
      && !(strategy instanceof StagedRolloutStrategy) && !(strategy instanceof BlueGreenRolloutStrategy)) {
      problems.add('warmup', `left out with ${STRATEGY_NAMES[strategy.kind] ?? strategy.kind} unless a probe is set (the ΔS probe runs the warm gate in its BeforeAllowTraffic hook; the staged strategy runs it itself): set \`probe\`, or use RolloutStrategy.staged()`,
        new Described(JSON.stringify(props.warmup)));
    }
    if (props?.warmup === undefined && props?.gates && typeof props.gates === 'object' && props.gates.maxColdStartShare !== undefined) {
      problems.add('gates.maxColdStartShare', 'left out without a warmup (it judges cold starts after the warm gate: set `warmup` too)', props.gates.maxColdStartShare);
    }
    const ownAlarms = 3 + (props?.probe !== undefined ? 1 : 0) + (props?.warmup !== undefined ? 1 : 0);
    if (problems.messages.length === 0 && (props.alarms?.length ?? 0) + ownAlarms > MAX_ALARMS_PER_DEPLOYMENT_GROUP) {
      const takers = ['gates', ...(props.probe ? ['the probe'] : []), ...(props.warmup ? ['the cold-start gate'] : [])];
      const own = `${takers.length === 1 ? 'gates' : `${takers.slice(0, -1).join(', ')} and ${takers[takers.length - 1]}`} take ${ownAlarms}`;
      problems.add('alarms', `at most ${MAX_ALARMS_PER_DEPLOYMENT_GROUP - ownAlarms} alarms (CodeDeploy watches ${MAX_ALARMS_PER_DEPLOYMENT_GROUP} per deployment group and the ${own})`, new Described(`${props.alarms!.length} alarms`));
    }
    if (props?.notifications !== undefined && !(typeof props.notifications === 'object' && props.notifications !== null && 'topicArn' in props.notifications && 'grantPublish' in props.notifications)) {
      problems.add('notifications', 'an SNS topic (sns.ITopic)', describeConstruct(props.notifications));
    }
    const release = props?.release;
    if (release !== undefined && (typeof release !== 'object' || release === null)) {
      problems.add('release', 'an object of release pins', release);
    } else if (release) {
      for (const key of Object.keys(release)) {
        if (!RELEASE_ENV.some(([name]) => name === key)) problems.add(`release.${key}`, `one of ${RELEASE_ENV.map(([n]) => n).join(', ')} (unknown pin)`, key);
      }
      for (const [name] of RELEASE_ENV) {
        const value = release[name];
        if (value !== undefined && !Token.isUnresolved(value) && (typeof value !== 'string' || !PIN_VALUE.test(value))) {
          problems.add(`release.${name}`, '1 to 128 letters, digits or . _ : / + = @ - (it travels in a header)', value);
        }
      }
    }
    // Two aliases of one name on one function pass synth, and CloudFormation fails the second at deploy.
    const sameName = fn instanceof lambda.Function && typeof aliasName === 'string' && !Token.isUnresolved(aliasName)
      ? ALIASES_BY_FUNCTION.get(fn)?.get(aliasName) : undefined;
    if (sameName) {
      problems.add('aliasName', `a name not already used on function '${fn.node.path}' (GuardedAlias '${sameName.node.path}' already owns its alias "${aliasName}"; `
        + 'Lambda allows one alias of a name per function, so CloudFormation would fail at deploy): give each GuardedAlias its own aliasName', aliasName);
    }
    problems.throwIfAny(`GuardedAlias '${this.node.path}'`);

    this.fn = fn;
    if (!Token.isUnresolved(aliasName)) {
      const names = ALIASES_BY_FUNCTION.get(fn) ?? new Map<string, GuardedAlias>();
      names.set(aliasName, this);
      ALIASES_BY_FUNCTION.set(fn, names);
    }
    AliasBypassCheck.of(Stack.of(fn)).guard(fn, this);
    this.strategy = strategy;
    // The release identity goes into the function's environment before its version is taken, so that every
    // published version carries it; a changed pin is a changed configuration, hence a new version.
    this.releaseId = props.release?.releaseId ?? defaultReleaseId(fn);
    for (const [name, variable] of RELEASE_ENV) {
      const value = name === 'releaseId' ? this.releaseId : props.release?.[name];
      if (value !== undefined) fn.addEnvironment(variable, value);
    }
    this.version = fn.currentVersion;
    // Lambda tags functions only (not versions or aliases): the function carries the release it last
    // published, and each version's description names its own.
    Tags.of(fn).add('cdk-rollout-guardrails:release-id', this.releaseId, { includeResourceTypes: ['AWS::Lambda::Function'] });
    const pins = RELEASE_ENV.filter(([name]) => name !== 'releaseId' && props.release?.[name] !== undefined)
      .map(([name, variable]) => `${variable}=${props.release![name]}`);
    const cfnVersion = this.version.node.defaultChild as lambda.CfnVersion;
    const ownDescription = cfnVersion.description;
    cfnVersion.description = Lazy.string({
      produce: () => [ownDescription, `release ${Stack.of(this).resolve(this.releaseId)}`, ...pins].filter(Boolean).join('; '),
    });
    this.alias = new lambda.Alias(this, 'Alias', {
      aliasName,
      version: this.version,
      description: props.description,
    });

    if (props.warmup) {
      this.warmup = new ProvisionedWarmup(this, 'Warmup', { ...props.warmup, alias: this.alias, version: this.version });
    }

    // The control's p95 needs the version users are on before this deployment; the stack's control-version
    // resource reads it from the alias before CloudFormation updates the alias.
    this.controlVersion = ControlVersions.of(this).controlVersionOf(this.alias, fn, this.version);
    this.metrics = new CanaryMetrics({
      functionName: fn.functionName,
      aliasName,
      canaryVersion: this.version.version,
      controlVersion: this.controlVersion,
    });
    this.gates = new ReleaseGates(this, 'Gates', { metrics: this.metrics, thresholds: props.gates });
    this.worstCaseDetectionTime = this.gates.worstCaseDetectionTime;
    if (this.worstCaseDetectionTime.toSeconds() > MAX_DETECTION_TIME.toSeconds()) {
      throw new Error(`GuardedAlias '${this.node.path}': worst-case detection time ${this.worstCaseDetectionTime.toHumanString()} exceeds ${MAX_DETECTION_TIME.toHumanString()}`);
    }

    const shared = StackRolloutResources.of(Stack.of(this));
    this.deploymentGroup = new codedeploy.LambdaDeploymentGroup(this, 'DeploymentGroup', {
      application: shared.application,
      role: shared.serviceRole,
      alias: this.alias,
      deploymentConfig: strategy._bindDeploymentConfig(this),
      alarms: [...this.gates.alarms],
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });

    // The hooks go into the alias's update policy here rather than through the deployment group's
    // addPreHook(), which would also let the shared CodeDeploy role invoke every version of each hook
    // (`<hook>:*`); CodeDeploy invokes a hook by the name in the update policy, so its ARN is enough.
    const cfnAlias = this.alias.node.defaultChild as lambda.CfnAlias;
    cfnAlias.cfnOptions.updatePolicy = {
      ...cfnAlias.cfnOptions.updatePolicy,
      codeDeployLambdaAliasUpdate: {
        applicationName: shared.application.applicationName,
        deploymentGroupName: this.deploymentGroup.deploymentGroupName,
        beforeAllowTrafficHook: Lazy.string({ produce: () => this.preHook?.functionName }),
        afterAllowTrafficHook: Lazy.string({ produce: () => this.postHook?.functionName }),
      },
    };
    this.serviceRole = shared.serviceRole;

    if (props.probe) {
      this.probe = props.probe;
      this.probeAlarm = props.probe._bind({
        scope: this,
        function: fn,
        aliasName,
        version: this.version,
        controlVersion: this.controlVersion,
        deploymentGroup: this.deploymentGroup,
        gates: Object.fromEntries(PROBE_GATE_NAMES.filter((n) => props.gates?.[n] !== undefined).map((n) => [n, props.gates![n]])),
        // The staged and blue-green machines run the warm gate themselves; otherwise the probe's BeforeAllowTraffic hook does.
        warmup: strategy instanceof StagedRolloutStrategy || strategy instanceof BlueGreenRolloutStrategy ? undefined : this.warmup,
      });
      this.addAlarm(this.probeAlarm);
      // The probe is the hook of both phases. It is not wired like a user's hook (wireHook): it reads the
      // versions from the deployment rather than its environment, so one probe can serve many aliases.
      // With blue-green the probe is not a hook at all: the blue-green machine runs it (smoke and hold).
      if (!(strategy instanceof BlueGreenRolloutStrategy)) {
        this.preHook = props.probe.function;
        this.postHook = props.probe.function;
        iam.Grant.addToPrincipal({ grantee: this.serviceRole, actions: ['lambda:InvokeFunction'], resourceArns: [props.probe.function.functionArn] });
      }
      // The probe's grants (on this deployment's versions) must be in place before CodeDeploy runs it. As a hook
      // it is in the alias's update policy, which orders the alias after it (and the function after its
      // policy); run by the blue-green machine it is not, so the alias depends on it outright.
      if (strategy instanceof BlueGreenRolloutStrategy) this.alias.node.addDependency(props.probe.function);
    }
    if (this.warmup) {
      const threshold = props.gates?.maxColdStartShare ?? DEFAULT_MAX_COLD_START_SHARE;
      this.coldStartAlarm = new cloudwatch.Alarm(this, 'ColdStartShare', {
        metric: this.warmup.metricColdStartShare(this.releaseId, { period: Duration.minutes(1) }),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `cdk-rollout-guardrails cold-start gate of ${this.node.path}: the new release's cold-start share (withRelease telemetry, warm pings excluded) > ${threshold}`,
      });
      acknowledgeGuard(this.coldStartAlarm, 'cloudwatch_alarm_action_check', GATE_ALARM_REASON);
      this.addAlarm(this.coldStartAlarm);
    }
    for (const alarm of props.alarms ?? []) this.addAlarm(alarm);
    if (strategy instanceof BlueGreenRolloutStrategy) {
      // Blue-green: both hooks are the stack's blue-green hook, which hands each phase to the stack's machine
      // (invariants, warm gate, smoke probe, freeze before; hold and watch after). It runs the probe itself.
      const pins = Object.fromEntries(RELEASE_ENV
        .filter(([name]) => name !== 'releaseId' && props.release?.[name] !== undefined)
        .map(([name, variable]) => [variable, props.release![name]!]));
      const machinery = BlueGreenSwitch.of(this, { logsKey: props.logsKey });
      if (props.notifications) alarmTo(machinery.failedEventsAlarm, props.notifications);
      const hook = machinery.attach({
        alias: this.alias, version: this.version, deploymentGroup: this.deploymentGroup, strategy,
        probe: props.probe, alarms: this.alarms, pins, warmGate: this.warmup?.warmGate, wireHooks: false,
        notifications: props.notifications,
      });
      this.preHook = hook;
      this.postHook = hook;
      iam.Grant.addToPrincipal({ grantee: this.serviceRole, actions: ['lambda:InvokeFunction'], resourceArns: [hook.functionArn] });
    }
    if (strategy instanceof StagedRolloutStrategy) {
      // Staged: the deployment group is all-at-once and its BeforeAllowTraffic hook is the stack's starter,
      // which hands the schedule (probe, gates, weights, bakes) to the stack's state machine and returns. The
      // probe, if any, stays the AfterAllowTraffic hook and is run by the machine before each step.
      const machinery = StagedRollout.of(this, { logsKey: props.logsKey });
      if (props.notifications) alarmTo(machinery.failedEventsAlarm, props.notifications);
      const starter = machinery.attach({
        alias: this.alias,
        version: this.version,
        deploymentGroup: this.deploymentGroup,
        strategy,
        probe: props.probe,
        alarms: this.alarms,
        thresholds: props.gates,
        wirePreHook: false,
        notifications: props.notifications,
        warmup: this.warmup,
      });
      this.preHook = starter;
      iam.Grant.addToPrincipal({ grantee: this.serviceRole, actions: ['lambda:InvokeFunction'], resourceArns: [starter.functionArn] });
    }
    if (props.notifications) {
      const thresholds: Record<string, number> = { ...DEFAULT_GATE_THRESHOLDS };
      for (const [name, value] of Object.entries(props.gates ?? {})) if (typeof value === 'number') thresholds[name] = value;
      new RolloutNotifications(this, 'Notifications', {
        topic: props.notifications,
        deploymentGroup: this.deploymentGroup,
        functionName: fn.functionName,
        aliasName,
        releaseId: this.releaseId,
        strategy: strategy.toString(),
        thresholds,
        alarms: [...this.gates.alarms, ...(this.probeAlarm ? [this.probeAlarm] : []), ...(this.coldStartAlarm ? [this.coldStartAlarm] : [])],
      });
    }
    if (props.preTrafficHook) this.addPreTrafficHook(props.preTrafficHook);
    if (props.postTrafficHook) this.addPostTrafficHook(props.postTrafficHook);

    // Alarms may be added after construction, so their count is checked when the app is synthesised; so are
    // aliases of the same name on the function made without a GuardedAlias (fn.addAlias, new lambda.Alias).
    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        const count = this.alarms.length;
        if (count > MAX_ALARMS_PER_DEPLOYMENT_GROUP) {
          errors.push(`GuardedAlias '${this.node.path}': alarms must number at most ${MAX_ALARMS_PER_DEPLOYMENT_GROUP} in all (CodeDeploy's limit per deployment group), got: ${count} (3 gates + ${count - 3} added${this.probeAlarm ? ', the probe\'s among them' : ''}${this.coldStartAlarm ? ', the cold-start gate\'s among them' : ''})`);
        }
        if (!Token.isUnresolved(aliasName)) {
          for (const other of Stack.of(fn).node.findAll()) {
            if (other instanceof lambda.Alias && other !== this.alias && other.version.lambda === fn && other.aliasName === aliasName) {
              errors.push(`GuardedAlias '${this.node.path}': aliasName must be a name not already used on function '${fn.node.path}' (the alias '${other.node.path}' is also named "${aliasName}"; `
                + `Lambda allows one alias of a name per function, so CloudFormation would fail at deploy), got: "${aliasName}"`);
            }
          }
        }
        return errors;
      },
    });
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
    if (this.alarms.includes(alarm)) {
      throw new Error(`GuardedAlias '${this.node.path}': alarm '${alarm.node.path}' is already watched`);
    }
    this.extraAlarms.push(alarm);
    this.deploymentGroup.addAlarm(alarm);
  }

  /**
   * Sets the function CodeDeploy runs before any traffic moves (BeforeAllowTraffic). The hook may report
   * its status for this deployment group, may read the deployment, and may invoke the new version, whose ARN
   * it finds in its `GUARDRAILS_TARGET_VERSION_ARN` environment variable (for a `lambda.Function` hook).
   */
  public addPreTrafficHook(hook: lambda.IFunction): void {
    if (this.preHook) {
      throw new Error(`GuardedAlias '${this.node.path}': preTrafficHook is already set to '${this.preHook.node.path}'; CodeDeploy runs one BeforeAllowTraffic hook per deployment group`);
    }
    this.preHook = hook;
    this.wireHook(hook);
  }

  /** Sets the function CodeDeploy runs after all traffic has moved (AfterAllowTraffic); granted as for `addPreTrafficHook`. */
  public addPostTrafficHook(hook: lambda.IFunction): void {
    if (this.postHook) {
      throw new Error(`GuardedAlias '${this.node.path}': postTrafficHook is already set to '${this.postHook.node.path}'; CodeDeploy runs one AfterAllowTraffic hook per deployment group`);
    }
    this.postHook = hook;
    this.wireHook(hook);
  }

  /** Lets `grantee` invoke the alias (users' traffic path). */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.alias.grantInvoke(grantee);
  }

  /** Invocations through the alias. */
  public metricInvocations(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.aliasMetric('Invocations', { statistic: 'Sum', ...options });
  }

  /** Errors through the alias. */
  public metricErrors(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.aliasMetric('Errors', { statistic: 'Sum', ...options });
  }

  /** Duration through the alias (p95 unless the options say otherwise). */
  public metricDuration(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.aliasMetric('Duration', { statistic: 'p95', ...options });
  }

  /** Error rate of the whole alias, 0..1. */
  public metricErrorRate(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return this.metrics.errorRate(options);
  }

  /** Error rate of the new version, 0..1. */
  public metricCanaryErrorRate(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return this.metrics.canaryErrorRate(options);
  }

  /** Error rate of the control (alias totals minus the new version), 0..1. */
  public metricControlErrorRate(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return this.metrics.controlErrorRate(options);
  }

  /** Canary minus control error rate, the `maxErrorRateDelta` gate's metric. */
  public metricErrorRateDelta(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return this.metrics.errorRateDelta(options);
  }

  /** p95 duration of the new version. */
  public metricCanaryP95(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.canaryP95(options);
  }

  /** p95 duration of the control: the version the alias served before this deployment. */
  public metricControlP95(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metrics.controlP95(options);
  }

  /** Canary over control p95 duration, the `maxP95Ratio` gate's metric. */
  public metricP95Ratio(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return this.metrics.p95Ratio(options);
  }

  private wireHook(hook: lambda.IFunction): void {
    if (hook === this.fn) {
      throw new Error(`GuardedAlias '${this.node.path}': a traffic hook must be a function other than the one being released, got: '${hook.node.path}'`);
    }
    // The hook tests the new version, so it may invoke exactly that version, and may read and report on
    // its deployment; CodeDeploy's role may invoke exactly the hook.
    this.version.grantInvoke(hook);
    iam.Grant.addToPrincipal({
      grantee: hook,
      actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
      resourceArns: [this.deploymentGroup.deploymentGroupArn],
    });
    iam.Grant.addToPrincipal({
      grantee: this.serviceRole,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [hook.functionArn],
    });
    if (hook instanceof lambda.Function) {
      const owner = HOOK_TARGETS.get(hook);
      if (owner && owner !== this) {
        Annotations.of(this).addWarningV2('cdk-rollout-guardrails:sharedHook',
          `hook '${hook.node.path}' also serves '${owner.node.path}', so its ${TARGET_VERSION_ENV} points there; read the target version from the deployment (codedeploy:GetDeployment) instead`);
      } else {
        HOOK_TARGETS.set(hook, this);
        hook.addEnvironment(TARGET_VERSION_ENV, this.version.functionArn);
      }
    }
  }
}

/** How a user writes each strategy kind, for messages. */
const STRATEGY_NAMES: Record<string, string> = { CANARY: 'canary', LINEAR: 'linear', ALL_AT_ONCE: 'allAtOnce', STAGED: 'staged', BLUE_GREEN: 'blueGreen' };

const HOOK_TARGETS = new WeakMap<lambda.Function, GuardedAlias>();

/** The GuardedAlias that owns each alias name of a function. */
const ALIASES_BY_FUNCTION = new WeakMap<lambda.Function, Map<string, GuardedAlias>>();

/** Id of the warning on an API, function URL or event source mapping that calls a guarded function unqualified. */
export const API_BYPASSES_ALIAS_WARNING = 'cdk-rollout-guardrails:apiBypassesAlias';

/**
 * Warns, once a stack is synthesised, about each REST method integration (`AWS::ApiGateway::Method`), HTTP API
 * integration (`AWS::ApiGatewayV2::Integration`), function URL (`AWS::Lambda::Url`) and event source mapping
 * (`AWS::Lambda::EventSourceMapping`) of the stack that calls a guarded function by its unqualified ARN or
 * name: that traffic runs $LATEST, so no rollout gates it and no rollback protects it. One per stack, added by
 * the first GuardedAlias of a function in it; it reads the L1 properties (overrides are not seen) and only
 * references that resolve in this stack (an API in another stack reaches the function through an import).
 */
class AliasBypassCheck implements IAspect {
  public static of(stack: Stack): AliasBypassCheck {
    let check = BYPASS_CHECKS.get(stack);
    if (!check) {
      check = new AliasBypassCheck();
      BYPASS_CHECKS.set(stack, check);
      Aspects.of(stack).add(check);
    }
    return check;
  }

  private readonly guarded = new Map<lambda.Function, GuardedAlias>();

  public guard(fn: lambda.Function, owner: GuardedAlias): void {
    if (!this.guarded.has(fn)) this.guarded.set(fn, owner);
  }

  public visit(node: IConstruct): void {
    if (!(node instanceof CfnResource)) return;
    let target: unknown;
    let what: string;
    if (node instanceof apigw.CfnMethod) {
      const integration = Stack.of(node).resolve(node.integration);
      target = integration?.uri ?? integration?.Uri;
      what = 'REST API method integration';
    } else if (node instanceof apigwv2.CfnIntegration) {
      target = Stack.of(node).resolve(node.integrationUri);
      what = 'HTTP API integration';
    } else if (node instanceof lambda.CfnUrl) {
      if (node.qualifier !== undefined) return;
      target = Stack.of(node).resolve(node.targetFunctionArn);
      what = 'function URL';
    } else if (node instanceof lambda.CfnEventSourceMapping) {
      target = Stack.of(node).resolve(node.functionName);
      what = 'event source mapping';
    } else {
      return;
    }
    if (target === undefined) return;
    for (const [fn, owner] of this.guarded) {
      if (Stack.of(fn) !== Stack.of(node)) continue;
      const logicalId = Stack.of(fn).resolve((fn.node.defaultChild as lambda.CfnFunction).logicalId);
      if (!callsUnqualified(target, logicalId)) continue;
      const ownerAlias = `the alias '${Stack.of(owner).resolve(owner.alias.aliasName)}' of GuardedAlias '${owner.node.path}'`;
      const fix = what === 'REST API method integration' ? 'new apigateway.LambdaIntegration(guarded.alias)'
        : what === 'HTTP API integration' ? 'new HttpLambdaIntegration(id, guarded.alias)'
          : what === 'function URL' ? 'guarded.alias.addFunctionUrl()' : 'guarded.alias.addEventSource()';
      Annotations.of(node).addWarningV2(API_BYPASSES_ALIAS_WARNING,
        `this ${what} calls the function '${fn.node.path}' itself (its unqualified ARN, i.e. $LATEST), not ${ownerAlias}: `
        + `its traffic bypasses the rollout (no gate, no rollback; a new version reaches it the moment it is deployed). Target the alias instead: ${fix}.`);
    }
  }
}

const BYPASS_CHECKS = new WeakMap<Stack, AliasBypassCheck>();

/**
 * Whether a resolved CloudFormation value is the function's ARN or name (`Fn::GetAtt [id, Arn]`, `Ref id`)
 * without a qualifier: alone, or inside an `Fn::Join` whose next part does not start with ":" (a
 * `:alias` or `:version` suffix).
 */
function callsUnqualified(value: unknown, logicalId: string): boolean {
  const isFunctionRef = (v: unknown): boolean => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const o = v as Record<string, unknown>;
    const getAtt = o['Fn::GetAtt'];
    return o.Ref === logicalId || (Array.isArray(getAtt) && getAtt[0] === logicalId && getAtt[1] === 'Arn');
  };
  if (isFunctionRef(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const join = (value as Record<string, unknown>)['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    const parts = join[1] as unknown[];
    const delimiter = typeof join[0] === 'string' ? join[0] : '';
    return parts.some((part, i) => {
      if (!isFunctionRef(part)) return callsUnqualified(part, logicalId);
      const next = i + 1 < parts.length ? `${delimiter}${typeof parts[i + 1] === 'string' ? parts[i + 1] : ''}` : '';
      return !next.startsWith(':');
    });
  }
  return Object.values(value as Record<string, unknown>).some((v) => callsUnqualified(v, logicalId));
}

function isFunction(value: unknown): value is lambda.IFunction {
  return typeof value === 'object' && value !== null && 'functionArn' in value && 'grantInvoke' in value;
}

function describeConstruct(value: unknown): Described {
  if (typeof value === 'object' && value !== null && 'node' in value) {
    const c = value as IConstruct;
    // Class names are mangled in aws-cdk-lib's build (Function2), so the construct path is what identifies it.
    return new Described(`the construct at '${c.node.path}'`);
  }
  return new Described(show(value));
}
