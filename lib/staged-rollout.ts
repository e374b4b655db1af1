import { Annotations, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import { DeltaSProbe } from './delta-s-probe';
import { ProvisionedWarmup } from './provisioned-warmup';
import { DEFAULT_GATE_THRESHOLDS, GateThresholds, validateGateThresholds } from './release-gates';
import { CODEDEPLOY_HOOK_LIMIT, RolloutStrategy, STAGED_SCHEDULE_MARGIN, StagedRolloutStrategy } from './rollout-strategy';
import { handlerCode } from './private/assets';
import { allowLogsToUseKey, failedEvents, grantOnExecutions, machineryFunction, MachineryOptions, stateMachineLogGroup } from './private/machinery';
import { buildDefinition } from './private/staged-machine';
import { STAGED_METRIC_NAMESPACE, StagedAliasConfig, stagedConfigKey } from 'cdk-rollout-guardrails-runtime/contract';
import { PropProblems } from './private/validation';

const ID = 'StagedRollout';
/** The warm gate's time beside its wait for READY: its own reads and the warm pings (their 10-second timeout), with room. */
const WARM_GATE_CALLS_SECONDS = 20;

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
export class StagedRollout extends Construct {
  /**
   * The stack's StagedRollout, created on first use with `options`; a later call that passes a different
   * `logsKey` is refused (one machinery, one key).
   */
  public static of(scope: IConstruct, options: MachineryOptions = {}): StagedRollout {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(ID);
    if (existing instanceof StagedRollout) {
      if (options.logsKey !== undefined && options.logsKey !== existing.logsKey) {
        throw new Error(`StagedRollout of stack '${stack.stackName}' was created with ${existing.logsKey ? `the logsKey '${existing.logsKey.node.path}'` : 'no logsKey'}; '${scope.node.path}' asks for '${options.logsKey.node.path}': every alias of a stack shares one machinery, so give all of them the same logsKey`);
      }
      return existing;
    }
    return new StagedRollout(stack, ID, options);
  }

  public readonly stateMachine: sfn.StateMachine;
  /** Decides each step (lambdas/staged/gate.ts). */
  public readonly gateFunction: lambda.Function;
  /** The BeforeAllowTraffic hook of every staged deployment group: starts an execution and returns. */
  public readonly starterFunction: lambda.Function;
  /** Stops the execution and clears leftover weights when a deployment fails or is stopped. */
  public readonly safetyNetFunction: lambda.Function;
  public readonly safetyNetRule: events.Rule;
  /** The machine's executions that end FAILED, TIMED_OUT or ABORTED, to the safety net. */
  public readonly executionEndRule: events.Rule;
  private readonly attached = new Set<string>();
  /** Each attached alias's configuration by `stagedConfigKey()`: keys and values may hold string tokens. */
  private readonly configs: Record<string, StagedAliasConfig> = {};
  private readonly putMetricsStatement: iam.PolicyStatement;
  private readonly code: lambda.Code;
  /** The key of the machinery's log groups, if any. */
  public readonly logsKey?: kms.IKey;
  /** The events the safety net and the starter could not process after their retries (a DLQ). */
  public readonly failedEvents: sqs.Queue;
  /** In ALARM as soon as an event is in `failedEvents`: a clean-up may not have run. */
  public readonly failedEventsAlarm: cloudwatch.Alarm;
  private warm?: lambda.Function;
  private warmTimeoutSeconds = 0;

  private constructor(scope: Construct, id: string, options: MachineryOptions) {
    super(scope, id);
    const code = handlerCode('staged');
    this.code = code;
    this.logsKey = options.logsKey;
    if (this.logsKey) allowLogsToUseKey(this.logsKey, this);
    const lost = failedEvents(this, 'staged rollout');
    this.failedEvents = lost.queue;
    this.failedEventsAlarm = lost.alarm;
    const fn = (fid: string, handler: string, description: string, asynchronous = false) => machineryFunction(this, fid, {
      code, handler, description: `cdk-rollout-guardrails staged rollout: ${description}`, logsKey: this.logsKey,
      // The hooks' and the safety net's reads and reports are bounded far below two minutes
      // (lambdas/shared/hook-clients.ts), and their watchdog reports before the timeout whatever AWS does.
      timeout: asynchronous ? Duration.minutes(2) : Duration.seconds(30),
      // CodeDeploy and EventBridge invoke these asynchronously: a crashed invocation is retried (each is
      // idempotent), and one that still fails lands in the queue, whose alarm someone sees.
      ...(asynchronous ? { async: { retryAttempts: 2, deadLetterQueue: this.failedEvents } } : {}),
    });
    this.gateFunction = fn('Gate', 'gate', 'decides each step from the probe, live metrics and gate alarms');
    // GetMetricData has no resource-level permissions; DescribeAlarms shows composite alarms only to a caller
    // allowed on every alarm (docs/aws-behaviour.md CW-1), so that no gate read fails on its own permissions.
    this.gateFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms'], resources: ['*'] }));

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(buildDefinition(new Construct(this, 'Definition'), this.gateFunction, () => JSON.stringify(this.configs))),
      // CodeDeploy gives the hook an hour; past it the deployment has failed and the safety net has run.
      timeout: Duration.hours(1),
      // Every state's input and output, so that a rollout can be explained after the fact (cdk-nag SF1, SF2).
      logs: {
        destination: stateMachineLogGroup(this, 'Logs', this.logsKey),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
      tracingEnabled: true,
      comment: 'cdk-rollout-guardrails staged rollout: probe, gate, set weight, publish, bake; report to CodeDeploy',
    });
    // PutMetricData has no resource-level permissions; the condition keeps the machine to its namespace.
    this.putMetricsStatement = new iam.PolicyStatement({
      actions: ['cloudwatch:PutMetricData'],
      resources: ['*'],
      conditions: { StringEquals: { 'cloudwatch:namespace': STAGED_METRIC_NAMESPACE } },
    });
    this.stateMachine.addToRolePolicy(this.putMetricsStatement);
    Validations.of(this.stateMachine).acknowledge(
      { id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]', reason: 'cloudwatch:PutMetricData (conditioned on the staged namespace), the CloudWatch Logs delivery actions and X-Ray\'s PutTraceSegments support no resource-level permissions.' },
      { id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.gateFunction.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`, reason: 'Step Functions\' LambdaInvoke grants the gate function and its versions; the machine invokes the unqualified function only.' },
    );
    Validations.of(this.gateFunction).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData supports no resource-level permissions, and DescribeAlarms returns composite alarms only to a caller allowed on *; both are reads. X-Ray\'s trace writes support none either.',
    });

    this.starterFunction = fn('Starter', 'start', 'the BeforeAllowTraffic hook that starts the state machine', true);
    // CodeDeploy invokes hooks asynchronously; the execution name makes a retry harmless.
    this.starterFunction.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(this.starterFunction);

    this.safetyNetFunction = fn('SafetyNet', 'safetyNet', 'clears leftover weights and reports when a deployment fails or stops, or an execution ends without reporting', true);
    this.safetyNetFunction.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    grantOnExecutions(this.safetyNetFunction, this.stateMachine, ['states:StopExecution', 'states:DescribeExecution'],
      'The executions of the stack\'s own state machine, named after deployments that do not exist at synth; StopExecution and DescribeExecution only.');
    this.safetyNetRule = new events.Rule(this, 'SafetyNetRule', {
      description: 'cdk-rollout-guardrails: a staged deployment failed or stopped; clear leftover alias weights',
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { state: ['FAILURE', 'STOP'] },
      },
    });
    this.safetyNetRule.addTarget(new targets.LambdaFunction(this.safetyNetFunction, { retryAttempts: 4, deadLetterQueue: this.failedEvents }));
    // An execution that ends without reporting (States.Runtime and States.DataLimitExceeded escape States.ALL,
    // and an execution can time out or be stopped: SFN-2, SFN-6) still gets its routing reset and Failed reported.
    this.executionEndRule = new events.Rule(this, 'ExecutionEndRule', {
      description: 'cdk-rollout-guardrails: a staged rollout execution failed, timed out or was aborted; reset its routing and report Failed',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
    });
    this.executionEndRule.addTarget(new targets.LambdaFunction(this.safetyNetFunction, { retryAttempts: 4, deadLetterQueue: this.failedEvents }));
  }

  /**
   * A metric the state machine publishes for one alias (namespace `CdkRolloutGuardrails/Staged`, dimensions
   * `FunctionName` and `Alias`): `TrafficWeight` (percent on the new version), `StepDecision` (1 advance,
   * 0 hold, −1 roll back), `GatesFailed`, or `GatePassed` with a `Gate` dimension in `options.dimensionsMap`.
   */
  public metric(metricName: 'TrafficWeight' | 'StepDecision' | 'GatesFailed' | 'GatePassed', target: { readonly functionName: string; readonly aliasName: string }, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
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
  public metricTrafficWeight(target: { readonly functionName: string; readonly aliasName: string }, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('TrafficWeight', target, options);
  }

  /**
   * The stack's warm function (lambdas/staged/warm.ts), created when the first alias with a warm-up is
   * attached; its timeout covers the longest warm gate attached (the wait, the pings and a margin).
   */
  private warmFunction(warmup: ProvisionedWarmup): lambda.Function {
    // The wait, 10 s for the gate's own calls, 10 s for the pings (their timeout) and 30 s to spare.
    this.warmTimeoutSeconds = Math.max(this.warmTimeoutSeconds, warmup.warmGate.readyTimeoutSeconds + 50);
    if (!this.warm) {
      this.warm = machineryFunction(this, 'Warm', {
        code: this.code, handler: 'warm', description: 'cdk-rollout-guardrails staged rollout: the warm gate before the first shift', timeout: Duration.seconds(60),
        logsKey: this.logsKey,
      });
      (this.warm.node.defaultChild as lambda.CfnFunction).timeout = Lazy.number({ produce: () => this.warmTimeoutSeconds });
      this.warm.grantInvoke(this.stateMachine);
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.warm.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: 'grantInvoke grants the warm function and its versions; the machine invokes the unqualified function only.',
      });
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
    if (!(options?.alias instanceof lambda.Alias)) problems.add('alias', 'a lambda.Alias', String(options?.alias));
    if (!(options?.deploymentGroup instanceof codedeploy.LambdaDeploymentGroup)) {
      problems.add('deploymentGroup', 'a codedeploy.LambdaDeploymentGroup', String(options?.deploymentGroup));
    } else if (options.deploymentGroup.deploymentConfig.deploymentConfigName !== codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE.deploymentConfigName) {
      problems.add('deploymentGroup', 'all-at-once (LambdaDeploymentConfig.ALL_AT_ONCE): the staged schedule runs inside its BeforeAllowTraffic hook',
        options.deploymentGroup.deploymentConfig.deploymentConfigName);
    }
    problems.addAll(validateGateThresholds(options?.thresholds, 'thresholds'));
    if (options?.probe !== undefined && !(options.probe instanceof DeltaSProbe)) problems.add('probe', 'a DeltaSProbe', String(options.probe));
    if (options?.warmup !== undefined) {
      if (!(options.warmup instanceof ProvisionedWarmup)) problems.add('warmup', 'a ProvisionedWarmup', String(options.warmup));
      else if (options.warmup.alias !== options.alias || options.warmup.version !== options.version) {
        problems.add('warmup', 'the ProvisionedWarmup of this alias and version', `the ProvisionedWarmup at '${options.warmup.node.path}'`);
      }
    }
    if (options?.notifications !== undefined && !isTopic(options.notifications)) problems.add('notifications', 'an SNS topic (sns.ITopic)', String(options.notifications));
    // The warm gate runs inside the same hook hour, before the first step: it counts in the schedule's budget.
    if (problems.messages.length === 0 && options.warmup && strategy instanceof StagedRolloutStrategy) {
      const schedule = strategy.scheduleDuration;
      const warmSeconds = options.warmup.warmGate.readyTimeoutSeconds + WARM_GATE_CALLS_SECONDS;
      const limit = CODEDEPLOY_HOOK_LIMIT.minus(STAGED_SCHEDULE_MARGIN);
      if (schedule !== undefined && schedule.toSeconds() + warmSeconds > limit.toSeconds()) {
        problems.addMessage(`strategy (staged) schedule with the warm gate must fit CodeDeploy's ${CODEDEPLOY_HOOK_LIMIT.toMinutes()}-minute lifecycle hook limit `
          + `with a ${STAGED_SCHEDULE_MARGIN.toMinutes()}-minute margin (at most ${limit.toMinutes()} minutes), got: ${Duration.seconds(schedule.toSeconds() + warmSeconds).toHumanString()} `
          + `(the warm gate: readyTimeout ${Duration.seconds(options.warmup.warmGate.readyTimeoutSeconds).toHumanString()} + ${WARM_GATE_CALLS_SECONDS} seconds for its calls and pings; `
          + `then ${strategy._describeSchedule()}); lower the warm-up's readyTimeout, shorten bake or probeBudget, or use fewer steps`);
      }
    }
    problems.throwIfAny(`StagedRollout.attach() in '${Stack.of(this).node.path}'`);

    const { alias, deploymentGroup } = options;
    for (const scope of [alias, deploymentGroup, options.probe] as Array<IConstruct | undefined>) {
      if (scope === undefined) continue;
      if (Stack.of(scope) !== Stack.of(this)) throw new Error(`StagedRollout of stack '${Stack.of(this).stackName}' can only attach its own stack's resources, got '${scope.node.path}'`);
    }
    if (this.attached.has(alias.node.path)) throw new Error(`StagedRollout: the alias '${alias.node.path}' is already attached`);
    this.attached.add(alias.node.path);

    const staged = strategy as StagedRolloutStrategy;
    const fn = alias.version.lambda;
    const aliasArns = [fn.functionArn, `${fn.functionArn}:${alias.aliasName}`];
    const application = deploymentGroup.application;
    const config: StagedAliasConfig = {
      schedule: staged._schedule(),
      thresholds: { ...DEFAULT_GATE_THRESHOLDS, ...stripUndefined(options.thresholds ?? {}) },
      alarmNames: (options.alarms ?? []).map((a) => a.alarmName),
      probeFunctionArn: options.probe?.function.functionArn,
      topicArn: options.notifications?.topicArn,
      warmup: options.warmup ? { functionArn: this.warmFunction(options.warmup).functionArn, ...options.warmup.warmGate } : undefined,
    };
    for (const [name, value] of Object.entries(config.thresholds)) {
      // The configuration is written into the definition as JSON text; a numeric token cannot be.
      if (Token.isUnresolved(value)) throw new Error(`StagedRollout.attach(): thresholds.${name} must be a number known at synth, got a token`);
    }
    this.configs[stagedConfigKey(application.applicationName, deploymentGroup.deploymentGroupName)] = config;

    // The state machine: routing of this alias, the probe, the hook status of this group.
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:UpdateAlias'], resources: aliasArns }));
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:PutLifecycleEventHookExecutionStatus'], resources: [deploymentGroup.deploymentGroupArn] }));
    if (options.probe) {
      options.probe.grantRun(this.stateMachine);
      Validations.of(this.stateMachine).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(options.probe.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
        reason: 'DeltaSProbe.grantRun grants the probe function and its versions; the machine invokes the unqualified function only.',
      });
      // The schedule was validated with the strategy's probeBudget; a probe that may run longer makes it a lie.
      const probeSeconds = options.probe.function.timeout?.toSeconds() ?? Math.ceil((options.probe.config.budgetMs + options.probe.config.invokeTimeoutMs) / 1000 + 20);
      if (staged.probeBudget.toSeconds() < probeSeconds) {
        Annotations.of(alias).addWarningV2('cdk-rollout-guardrails:stagedProbeBudget',
          `the staged strategy counts ${staged.probeBudget.toHumanString()} per probe run, but the probe function may run ${probeSeconds} seconds (its timeout); `
          + 'set RolloutStrategy.staged({ probeBudget }) to at least that, so that the schedule validated at synth is the one that runs');
      }
    }

    options.notifications?.grantPublish(this.stateMachine);
    if (options.warmup) options.warmup.grantWarmGate(this.warmFunction(options.warmup));

    // The starter: the deployment, its AppSpec, and Failed when it cannot start.
    this.starterFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
      resources: [deploymentGroup.deploymentGroupArn],
    }));
    this.starterFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetApplicationRevision'], resources: [application.applicationArn] }));

    // The gate reads this alias's alarms with the stack-wide DescribeAlarms grant (CW-1).

    // The safety net: this group's events, its deployments, this alias's routing.
    this.safetyNetRule.addEventPattern({ detail: { application: [application.applicationName], deploymentGroup: [deploymentGroup.deploymentGroupName] } });
    // It reports Failed for an execution that ended without reporting (a report that already landed is refused, and fine).
    this.safetyNetFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'], resources: [deploymentGroup.deploymentGroupArn],
    }));
    this.safetyNetFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetApplicationRevision'], resources: [application.applicationArn] }));
    this.safetyNetFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetAlias', 'lambda:UpdateAlias'], resources: aliasArns }));

    if (options.wirePreHook !== false) deploymentGroup.addPreHook(this.starterFunction);
    return this.starterFunction;
  }
}

function isTopic(value: unknown): value is sns.ITopic {
  return typeof value === 'object' && value !== null && 'topicArn' in value && 'grantPublish' in value;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
