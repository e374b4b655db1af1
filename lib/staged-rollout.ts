import { Annotations, Duration, Lazy, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import { DeltaSProbe } from './delta-s-probe';
import { ProvisionedWarmup } from './provisioned-warmup';
import { DEFAULT_GATE_THRESHOLDS, GateThresholds, validateGateThresholds } from './release-gates';
import { RolloutStrategy } from './rollout-strategy';
import type { ShadowPromotion } from './shadow-promotion';
import { CODEDEPLOY_HOOK_LIMIT, STAGED_SCHEDULE_MARGIN, StagedRolloutStrategy } from './strategies/staged';
import { MachineryOptions } from './private/machinery';
import { aliasArns, RolloutMachinery } from './private/rollout-machinery';
import { shadowPromotionProblems } from './private/shadow-promotion';
import { buildDefinition } from './private/staged-machine';
import { joinedText } from './private/asl';
import { bindStickyCohorts, tellSafetyNetCohorts } from './private/sticky-cohorts';
import { allowVersionConfigReads } from './private/nag';
import { OPERATOR_TABLE_ID, operatorConfig } from './private/small-table';
import { grantOperate } from './private/operator-grant';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { STAGED_FENCES_ENV, STAGED_METRIC_NAMESPACE, StagedAliasConfig, StagedFenceConfig, aliasConfigKey } from 'cdk-rollout-guardrails-runtime/contract';
import { PropProblems } from './private/validation';

const ID = 'StagedRollout';
/** The warm gate's time beside its wait for READY: its own reads and the warm pings (their 10-second timeout), with room. */
const WARM_GATE_CALLS_SECONDS = 20;

/** The metrics the staged state machine publishes for each alias (namespace `CdkRolloutGuardrails/Staged`). */
export enum StagedRolloutMetric {
  /** Percent of traffic on the new version, as the machine set it. */
  TRAFFIC_WEIGHT = 'TrafficWeight',
  /** 1 advance, 0 hold, −1 roll back. */
  STEP_DECISION = 'StepDecision',
  /** Gates failed at a check. */
  GATES_FAILED = 'GatesFailed',
  /** Whether a gate passed, with a `Gate` dimension. */
  GATE_PASSED = 'GatePassed',
  /** Stage 0 (GuardedAlias `requireShadow`): 1 the release passed shadow, 0 it was refused before any traffic. */
  SHADOW_PROMOTION = 'ShadowPromotion',
}

/** Which alias's staged-rollout metrics to read. */
export interface StagedMetricTarget {
  /** The released function's name. */
  readonly functionName: string;
  /** The alias's name. */
  readonly aliasName: string;
}

/** What `StagedRollout.attach()` wires. */
export interface StagedAttachOptions {
  /** The alias whose traffic the schedule moves. */
  readonly alias: lambda.Alias;
  /** The new version (the deployment's target); the AppSpec names it at run time, this is for validation. */
  readonly version: lambda.IVersion;
  /**
   * The alias's deployment group. It must use `LambdaDeploymentConfig.ALL_AT_ONCE` (the schedule runs inside
   * its BeforeAllowTraffic hook) and have no pre-traffic hook yet: `attach()` sets the starter as its hook.
   */
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** The schedule. @default RolloutStrategy.staged() */
  readonly strategy?: StagedRolloutStrategy;
  /**
   * The ΔS probe run before each check. It must already be allowed to invoke the alias's versions (GuardedAlias
   * binds it); `attach()` only lets the state machine run it.
   * @default - no probe: the gates are the live metrics and the alarms
   */
  readonly probe?: DeltaSProbe;
  /** The gate alarms the gate function reads before each shift and every minute of each bake. @default - none */
  readonly alarms?: cloudwatch.IAlarm[];
  /** Thresholds of the live canary-vs-control comparison. @default DEFAULT_GATE_THRESHOLDS (5xx delta ≤ 0.05 pp, p95 ≤ 1.10×, error rate ≤ 1 %) */
  readonly thresholds?: GateThresholds;
  /**
   * Whether `attach()` sets the starter as the deployment group's pre-traffic hook (`addPreHook`, which also
   * lets the group's role invoke it). Set false when the caller puts the starter in the alias's update
   * policy itself (as GuardedAlias does with its hooks) and grants CodeDeploy's role `lambda:InvokeFunction`
   * on the returned function.
   * @default true
   */
  readonly wirePreHook?: boolean;
  /**
   * A topic the machine publishes each gate decision to (a shift, a hold, success, a rollback), as JSON with
   * every gate's measured value and threshold (`StagedDecisionNotification`).
   * @default - no notifications
   */
  readonly notifications?: sns.ITopic;
  /**
   * The alias's provisioned concurrency and warm gate: the machine runs the warm gate before the first probe
   * and shift (the stack's warm function, created on first use), which waits for the new version's own
   * provisioned concurrency to be READY and pings it.
   * @default - no warm gate
   */
  readonly warmup?: ProvisionedWarmup;
  /**
   * Shadow as stage 0: the machine's first decision, before the warm gate, the first probe and any shift, is
   * whether the release (`releaseId`, which this requires) has passed shadow; a refusal reports Failed.
   * @default - no shadow requirement
   */
  readonly requireShadow?: ShadowPromotion;
  /**
   * The release the alias rolls out (the RELEASE_ID of its versions), whose shadow record `requireShadow` reads.
   * @default - none (required with `requireShadow`)
   */
  readonly releaseId?: string;
}

/**
 * The stack's staged-rollout machinery, shared by every staged alias in it: one Step Functions state
 * machine, one gate function, one starter (the BeforeAllowTraffic hook of every staged deployment group),
 * and one safety net (an EventBridge rule on the deployment groups' FAILURE and STOP events and its
 * function). An attached alias adds no resource: its configuration goes into the state machine's definition,
 * and its grants into the shared roles.
 *
 * The starter reads the deployment's AppSpec, starts an execution named after the deployment, and returns;
 * the machine's first state selects the alias's configuration by application and deployment group. For each step below 100 the machine probes, asks the gate function, sets the
 * alias's `AdditionalVersionWeights` (never its `FunctionVersion`), publishes the weight and the decision,
 * and bakes; then it reports Succeeded to CodeDeploy, which moves the rest. A step whose gates fail
 * `maxFailuresPerStep` times resets the routing and reports Failed; so does any error in any task.
 */
export class StagedRollout extends RolloutMachinery<StagedAliasConfig> {
  /**
   * The stack's StagedRollout, created on first use with `options`; a later call that passes a different
   * `logsKey` is refused (one machinery, one key).
   */
  public static of(scope: IConstruct, options: MachineryOptions = {}): StagedRollout {
    return RolloutMachinery._ofStack(scope, options, ID, StagedRollout, (stack) => new StagedRollout(stack, ID, options));
  }

  /** Decides each step (lambdas/staged/gate.ts). */
  public readonly gateFunction: lambda.Function;
  /** The BeforeAllowTraffic hook of every staged deployment group: starts an execution and returns. */
  public readonly starterFunction: lambda.Function;
  /** Stops the execution and clears leftover weights when a deployment fails or is stopped. */
  public readonly safetyNetFunction: lambda.Function;
  private warm?: lambda.Function;
  private warmTimeoutSeconds = 0;
  /** Each fenced alias's event source mapping UUIDs, by configuration key (the starter's GUARDRAILS_STAGED_FENCES). */
  private readonly fences: Record<string, string[] | StagedFenceConfig> = {};

  private constructor(scope: Construct, id: string, options: MachineryOptions) {
    super(scope, id, options, {
      bundle: 'staged',
      label: 'staged rollout',
      what: 'staged rollout',
      decider: {
        id: 'Gate', handler: 'gate', description: 'decides each step from the probe, live metrics and gate alarms', timeout: Duration.seconds(30),
        acknowledged: 'X-Ray\'s trace writes support none either.',
      },
      machine: {
        comment: 'cdk-rollout-guardrails staged rollout: probe, gate, set weight, publish, bake; report to CodeDeploy',
      },
      starter: { id: 'Starter', handler: 'start', description: 'the BeforeAllowTraffic hook that starts the state machine' },
      safetyNet: { id: 'SafetyNet', handler: 'safetyNet', description: 'clears leftover weights and reports when a deployment fails or stops, or an execution ends without reporting' },
      executions: {
        actions: ['states:StopExecution', 'states:DescribeExecution'],
        reason: 'The executions of the stack\'s own state machine, named after deployments that do not exist at synth; StopExecution and DescribeExecution only.',
      },
      rules: {
        safetyNet: 'cdk-rollout-guardrails: a staged deployment failed or stopped; clear leftover alias weights',
        executionEnd: 'cdk-rollout-guardrails: a staged rollout execution failed, timed out or was aborted; reset its routing and report Failed',
      },
    });
    this.gateFunction = this._decider;
    this.starterFunction = this._starter;
    this.safetyNetFunction = this._safetyNet;
  }

  /** @internal */
  protected _definition(scope: Construct, gate: lambda.Function): sfn.IChainable {
    return buildDefinition(scope, gate, joinedText(() => JSON.stringify(this._configs)));
  }

  /** @internal */
  protected _grantMachine(machine: sfn.StateMachine, gate: lambda.Function): void {
    // PutMetricData has no resource-level permissions; the condition keeps the machine to its namespace.
    machine.addToRolePolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': STAGED_METRIC_NAMESPACE } },
    }));
    Validations.of(machine).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:PutMetricData (conditioned on the staged namespace), the CloudWatch Logs delivery actions and X-Ray\'s PutTraceSegments support no resource-level permissions.',
    });
    this._acknowledgeInvoke(gate, 'Step Functions\' LambdaInvoke grants the gate function and its versions; the machine invokes the unqualified function only.');
  }

  /**
   * A metric the state machine publishes for one alias (namespace `CdkRolloutGuardrails/Staged`, dimensions
   * `FunctionName` and `Alias`): `TrafficWeight` (percent on the new version), `StepDecision` (1 advance,
   * 0 hold, −1 roll back), `GatesFailed`, or `GatePassed` with a `Gate` dimension in `options.dimensionsMap`.
   */
  public metric(metricName: `${StagedRolloutMetric}`, target: StagedMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: STAGED_METRIC_NAMESPACE,
      metricName,
      period: Duration.minutes(1),
      statistic: metricName === 'GatesFailed' ? 'Sum' : 'Maximum',
      ...options,
      dimensionsMap: { FunctionName: target.functionName, Alias: target.aliasName, ...options.dimensionsMap },
    });
  }

  /** The percent of traffic on the new version, as the state machine set it: the weight timeline of a release. */
  public metricTrafficWeight(target: StagedMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('TrafficWeight', target, options);
  }

  /**
   * Lets `grantee` run the command line's `status`, `pause`, `resume`, `promote` and `abort` on the rollouts of the
   * alias attached with `deploymentGroup`, and nothing else: the calls docs/guides/operate.md lists, each scoped to
   * this alias's deployment group, operator item, executions and alarms.
   * @throws Error when no alias is attached with that deployment group
   */
  public grantOperate(grantee: iam.IGrantable, deploymentGroup: codedeploy.ILambdaDeploymentGroup): iam.Grant {
    const key = aliasConfigKey(deploymentGroup.application.applicationName, deploymentGroup.deploymentGroupName);
    const config = this._configs[key];
    if (!config?.operator) throw new Error(`StagedRollout.grantOperate(): no alias is attached with the deployment group '${deploymentGroup.node.path}'`);
    return grantOperate(grantee, {
      scope: this, deploymentGroup, key, stateMachine: this.stateMachine, alarmNames: config.alarmNames,
      table: this.node.findChild(OPERATOR_TABLE_ID) as dynamodb.Table,
    });
  }

  /**
   * The stack's warm function (lambdas/staged/warm.ts), created when the first alias with a warm-up is
   * attached; its timeout covers the longest warm gate attached (the wait, the pings and a margin).
   */
  private warmFunction(warmup: ProvisionedWarmup): lambda.Function {
    // The wait, 10 s for the gate's own calls, 10 s for the pings (their timeout) and 30 s to spare.
    this.warmTimeoutSeconds = Math.max(this.warmTimeoutSeconds, warmup.warmGate.readyTimeoutSeconds + 50);
    if (!this.warm) {
      this.warm = this._handlerFunction({ id: 'Warm', handler: 'warm', description: 'the warm gate before the first shift' }, Duration.seconds(60));
      (this.warm.node.defaultChild as lambda.CfnFunction).timeout = Lazy.uncachedNumber({ produce: () => this.warmTimeoutSeconds });
      this.warm.grantInvoke(this.stateMachine);
      this._acknowledgeInvoke(this.warm, 'grantInvoke grants the warm function and its versions; the machine invokes the unqualified function only.');
    }
    return this.warm;
  }

  /**
   * Wires one alias to the stack's staged rollout and returns the starter, now the deployment group's
   * pre-traffic hook (unless `wirePreHook` is false). Grants, each scoped to this alias: the state machine may update the alias's routing,
   * run the probe and report on the deployment group; the starter may read the deployment; the gate may read the gate alarms; the safety net may read the deployment and clear the
   * alias's weights. Throws, listing every problem, on an invalid strategy or wiring.
   */
  public attach(options: StagedAttachOptions): lambda.IFunction {
    const problems = new PropProblems();
    const strategy = options?.strategy ?? RolloutStrategy.staged();
    if (!(strategy instanceof StagedRolloutStrategy)) problems.add('strategy', 'a staged strategy (RolloutStrategy.staged())', String(strategy));
    else problems.addAll(strategy.validate());
    if (options?.requireShadow !== undefined) shadowPromotionProblems(problems, options.requireShadow, options.releaseId !== undefined);
    this._checkWiring(problems, options, 'the staged schedule runs inside its BeforeAllowTraffic hook', {
      afterDeploymentGroup: () => problems.addAll(validateGateThresholds(options?.thresholds, 'thresholds')),
      afterProbe: () => checkWarmup(problems, options),
    });
    // The warm gate runs inside the same hook hour, before the first step: it counts in the schedule's budget.
    if (problems.messages.length === 0 && options.warmup && strategy instanceof StagedRolloutStrategy) checkWarmBudget(problems, strategy, options.warmup);
    this._throwIfAny(problems);
    this._claim(options);

    const { alias, deploymentGroup } = options;
    const staged = strategy as StagedRolloutStrategy;
    const key = aliasConfigKey(deploymentGroup.application.applicationName, deploymentGroup.deploymentGroupName);
    const config: StagedAliasConfig = {
      schedule: staged._schedule(),
      thresholds: { ...DEFAULT_GATE_THRESHOLDS, ...stripUndefined(options.thresholds ?? {}) },
      alarmNames: (options.alarms ?? []).map((a) => a.alarmName),
      probeFunctionArn: options.probe?.function.functionArn,
      topicArn: options.notifications?.topicArn,
      warmup: options.warmup ? { functionArn: this.warmFunction(options.warmup).functionArn, ...options.warmup.warmGate } : undefined,
      queueAge: staged._queueAge(),
      cacheHitRate: staged._cacheHitRate(),
      cohort: staged.stickyCohorts
        ? bindStickyCohorts({ scope: this, machine: this.stateMachine, safetyNet: this.safetyNetFunction, gate: this.gateFunction }, alias, staged.stickyCohorts)
        : undefined,
      operator: operatorConfig(this, this.gateFunction, key),
    };
    for (const [name, value] of Object.entries(config.thresholds)) {
      // The configuration is written into the definition as JSON text; a numeric token cannot be.
      if (Token.isUnresolved(value)) throw new Error(`StagedRollout.attach(): thresholds.${name} must be a number known at synth, got a token`);
    }
    this._configs[key] = config;
    if (config.cohort && Object.values(this._configs).filter((c) => c.cohort).length === 1) tellSafetyNetCohorts(this.safetyNetFunction, this._configs);

    // The state machine: routing of this alias, the hook status of this group, the probe, the topic.
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:UpdateAlias'], resources: aliasArns(alias) }));
    this._grantDeploymentGroup(options, (probe) => {
      probe.grantRun(this.stateMachine);
      this._acknowledgeInvoke(probe.function, 'DeltaSProbe.grantRun grants the probe function and its versions; the machine invokes the unqualified function only.');
      warnOnLongProbe(alias, staged, probe);
    });
    if (options.requireShadow) this._requireShadow(deploymentGroup, options.requireShadow, options.releaseId!);
    // The cache gate reads each version's RELEASE_ID (GetFunctionConfiguration on the function's versions).
    if (config.cacheHitRate) {
      allowVersionConfigReads(this.gateFunction, alias.version.lambda, 'The versions a deployment compares are known only from its AppSpec at run time: reading the RELEASE_ID of this function\'s versions for the cache gate, nothing else.');
    }
    // Stop rules the probe judges, given for an alias without a probe: nothing would judge them.
    if (!options.probe && (staged._givenStopRules ?? []).some((r) => r.minTopicCoverage !== undefined || r.maxParaphraseFlips !== undefined)) {
      Annotations.of(alias).addWarningV2('cdk-rollout-guardrails:stopRulesWithoutProbe',
        'the staged strategy\'s stopRules set minTopicCoverage or maxParaphraseFlips, which the ΔS probe judges, but this alias has no probe: '
        + 'they are not judged. Give the GuardedAlias a probe (DeltaSProbe), or leave those rules out');
    }
    if (options.warmup) options.warmup.grantWarmGate(this.warmFunction(options.warmup));
    // The gate reads this alias's alarms with the stack-wide DescribeAlarms grant (CW-1); the safety net clears its weights.
    this.safetyNetFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetAlias', 'lambda:UpdateAlias'], resources: aliasArns(alias) }));
    this.fence(key, staged);

    if (options.wirePreHook !== false) deploymentGroup.addPreHook(this.starterFunction);
    return this.starterFunction;
  }

  /**
   * The consumer fence of one alias: the starter learns the mappings' UUIDs (deploy-time tokens) from its
   * environment and pauses them; the gate resumes them; the safety net resumes them after an execution's end.
   * Each may read and update exactly these mappings.
   */
  private fence(key: string, strategy: StagedRolloutStrategy): void {
    const consumers = strategy.fenceConsumers;
    if (consumers.length === 0) return;
    if (Object.keys(this.fences).length === 0) {
      this.starterFunction.addEnvironment(STAGED_FENCES_ENV, Lazy.uncachedString({ produce: () => JSON.stringify(this.fences) }));
    }
    const uuids = consumers.map((c) => c.eventSourceMappingId);
    const max = strategy.fenceMaxConcurrency;
    this.fences[key] = max === undefined ? uuids : { consumers: uuids, maxConcurrency: max };
    const statement = () => new iam.PolicyStatement({
      actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'],
      resources: consumers.map((c) => c.eventSourceMappingArn),
    });
    for (const fn of new Set([this.starterFunction, this.gateFunction, this.safetyNetFunction])) fn.addToRolePolicy(statement());
  }
}

function checkWarmup(problems: PropProblems, options: StagedAttachOptions): void {
  if (options?.warmup === undefined) return;
  if (!(options.warmup instanceof ProvisionedWarmup)) problems.add('warmup', 'a ProvisionedWarmup', String(options.warmup));
  else if (options.warmup.alias !== options.alias || options.warmup.version !== options.version) {
    problems.add('warmup', 'the ProvisionedWarmup of this alias and version', `the ProvisionedWarmup at '${options.warmup.node.path}'`);
  }
}

function checkWarmBudget(problems: PropProblems, strategy: StagedRolloutStrategy, warmup: ProvisionedWarmup): void {
  const schedule = strategy.scheduleDuration;
  const warmSeconds = warmup.warmGate.readyTimeoutSeconds + WARM_GATE_CALLS_SECONDS;
  const limit = CODEDEPLOY_HOOK_LIMIT.minus(STAGED_SCHEDULE_MARGIN);
  if (schedule !== undefined && schedule.toSeconds() + warmSeconds > limit.toSeconds()) {
    problems.addMessage(`strategy (staged) schedule with the warm gate must fit CodeDeploy's ${CODEDEPLOY_HOOK_LIMIT.toMinutes()}-minute lifecycle hook limit `
      + `with a ${STAGED_SCHEDULE_MARGIN.toMinutes()}-minute margin (at most ${limit.toMinutes()} minutes), got: ${Duration.seconds(schedule.toSeconds() + warmSeconds).toHumanString()} `
      + `(the warm gate: readyTimeout ${Duration.seconds(warmup.warmGate.readyTimeoutSeconds).toHumanString()} + ${WARM_GATE_CALLS_SECONDS} seconds for its calls and pings; `
      + `then ${strategy._describeSchedule()}); lower the warm-up's readyTimeout, shorten bake or probeBudget, or use fewer steps`);
  }
}

/** The schedule was validated with the strategy's probeBudget; a probe that may run longer makes it a lie. */
function warnOnLongProbe(alias: lambda.Alias, staged: StagedRolloutStrategy, probe: DeltaSProbe): void {
  const probeSeconds = probe.function.timeout?.toSeconds() ?? Math.ceil((probe.config.budgetMs + probe.config.invokeTimeoutMs) / 1000 + 20);
  if (staged.probeBudget.toSeconds() < probeSeconds) {
    Annotations.of(alias).addWarningV2('cdk-rollout-guardrails:stagedProbeBudget',
      `the staged strategy counts ${staged.probeBudget.toHumanString()} per probe run, but the probe function may run ${probeSeconds} seconds (its timeout); `
      + 'set RolloutStrategy.staged({ probeBudget }) to at least that, so that the schedule validated at synth is the one that runs');
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
