// What the stack-wide machineries (StagedRollout, BlueGreenSwitch) have in common: one per stack and per logsKey,
// a state machine with its log group and tracing, the failed-events queue and its alarm, the function that
// decides (the staged gate, the blue-green worker), the starter (CodeDeploy's hook) and the safety net with
// their two EventBridge rules, and what attach() checks and grants for every alias whatever the strategy.
import { Duration, Stack, Validations } from 'aws-cdk-lib';
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
import { DeltaSProbe } from '../delta-s-probe';
import { handlerCode } from './assets';
import { allowLogsToUseKey, failedEvents, grantOnExecutions, machineryFunction, MachineryOptions, stateMachineLogGroup } from './machinery';
import { aliasConfigKey } from 'cdk-rollout-guardrails-runtime/contract';
import type { ShadowPromotion } from '../shadow-promotion';
import { grantShadowRead, shadowPromotionConfig } from './shadow-promotion';
import { PropProblems } from './validation';
import { dropRedundantRoleDependency } from './lint';

/** One of a machinery's functions: its construct id, its export in the bundle, what it does. */
export interface HandlerSpec {
  readonly id: string;
  /** The bundle's export, e.g. `gate` for `index.gate`. */
  readonly handler: string;
  /** After `cdk-rollout-guardrails <label>: ` in the function's description. */
  readonly description: string;
}

/** What makes one machinery what it is, beside its definition and its per-alias wiring. */
export interface MachinerySpec {
  /** The bundle of its handlers (assets/<bundle>). */
  readonly bundle: string;
  /** How its functions' descriptions name it: `cdk-rollout-guardrails <label>: ...`. */
  readonly label: string;
  /** How its failed-events alarm names it. */
  readonly what: string;
  /**
   * The function the state machine calls to decide: it reads the live metrics and the gate alarms. `acknowledged`
   * completes the reason of its IAM5 acknowledgement (after the CloudWatch reads).
   */
  readonly decider: HandlerSpec & { readonly timeout: Duration; readonly acknowledged: string };
  readonly machine: {
    readonly queryLanguage?: sfn.QueryLanguage;
    readonly comment: string;
  };
  /** CodeDeploy's hook: it starts an execution and returns. */
  readonly starter: HandlerSpec;
  /** The safety net's own function. @default - the starter is the safety net too */
  readonly safetyNet?: HandlerSpec;
  /** What the safety net may do to the machine's executions, and why the wildcard on them is fine. */
  readonly executions: { readonly actions: string[]; readonly reason: string };
  /** The descriptions of the safety-net rule (deployments that failed or stopped) and the execution-end rule. */
  readonly rules: { readonly safetyNet: string; readonly executionEnd: string };
}

/** The options of `attach()` that every machinery takes. */
export interface MachineryAttachOptions {
  readonly alias: lambda.Alias;
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  readonly probe?: DeltaSProbe;
  readonly notifications?: sns.ITopic;
}

/** A machinery's own checks of attach()'s options, each run where its prop stands among the shared ones. */
export interface OwnChecks {
  readonly afterAlias?: () => void;
  readonly afterDeploymentGroup?: () => void;
  readonly afterProbe?: () => void;
}

/**
 * The base of a stack's rollout machinery (one per stack, a child of the stack named after its class). A subclass
 * gives its spec, its definition (`definition()`) and what its state machine is granted (`grantMachine()`); both
 * are called from this constructor, before the subclass's own fields are initialised, so they must not assign any.
 * The subclass keeps its per-alias configuration in `configs` and exposes the functions under its own names.
 * A hidden base class (not exported from the package): its public members are the subclasses' own.
 * @internal
 */
export abstract class RolloutMachinery<Config> extends Construct {
  /**
   * The stack's machinery of `type`, the stack's child `id`, created by `create` on first use; a later call that
   * passes a different `logsKey` is refused (one machinery, one key).
   * @internal
   */
  protected static _ofStack<T extends RolloutMachinery<unknown>>(scope: IConstruct, options: MachineryOptions, id: string,
    type: Function & { prototype: T }, create: (stack: Stack) => T): T {
    const stack = Stack.of(scope);
    const child = stack.node.tryFindChild(id);
    const existing = child instanceof type ? child as T : undefined;
    if (existing) {
      if (options.logsKey !== undefined && options.logsKey !== existing.logsKey) {
        throw new Error(`${id} of stack '${stack.stackName}' was created with ${existing.logsKey ? `the logsKey '${existing.logsKey.node.path}'` : 'no logsKey'}; '${scope.node.path}' asks for '${options.logsKey.node.path}': every alias of a stack shares one machinery, so give all of them the same logsKey`);
      }
      return existing;
    }
    return create(stack);
  }

  public readonly stateMachine: sfn.StateMachine;
  /** The attached deployment groups' FAILURE and STOP events, to the safety net. */
  public readonly safetyNetRule: events.Rule;
  /** The machine's executions that end FAILED, TIMED_OUT or ABORTED, to the safety net. */
  public readonly executionEndRule: events.Rule;
  /** The key of the machinery's log groups, if any. */
  public readonly logsKey?: kms.IKey;
  /** The events the safety net and the starter could not process after their retries (a DLQ). */
  public readonly failedEvents: sqs.Queue;
  /** In ALARM as soon as an event is in `failedEvents`: a clean-up may not have run. */
  public readonly failedEventsAlarm: cloudwatch.Alarm;
  /** Each attached alias's configuration, written into the definition; keys and values may hold string tokens. @internal */
  protected readonly _configs: Record<string, Config> = {};
  /** Decides for the state machine (the staged gate, the blue-green worker). @internal */
  protected readonly _decider: lambda.Function;
  /** CodeDeploy's hook of every attached deployment group. @internal */
  protected readonly _starter: lambda.Function;
  /** The target of both rules: its own function, or the starter. @internal */
  protected readonly _safetyNet: lambda.Function;
  private readonly code: lambda.Code;
  private readonly label: string;
  private readonly attached = new Set<string>();

  protected constructor(scope: Construct, id: string, options: MachineryOptions, spec: MachinerySpec) {
    super(scope, id);
    this.label = spec.label;
    this.code = handlerCode(spec.bundle);
    this.logsKey = options.logsKey;
    if (this.logsKey) allowLogsToUseKey(this.logsKey, this);
    const lost = failedEvents(this, spec.what);
    this.failedEvents = lost.queue;
    this.failedEventsAlarm = lost.alarm;

    const decider = this._handlerFunction(spec.decider, spec.decider.timeout);
    this._decider = decider;
    // GetMetricData has no resource-level permissions; DescribeAlarms shows composite alarms only to a caller
    // allowed on every alarm (docs/aws-behaviour.md CW-1), so that no gate read fails on its own permissions.
    decider.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms'], resources: ['*'] }));
    Validations.of(decider).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: `cloudwatch:GetMetricData supports no resource-level permissions, and DescribeAlarms returns composite alarms only to a caller allowed on *; both are reads. ${spec.decider.acknowledged}`,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      ...(spec.machine.queryLanguage ? { queryLanguage: spec.machine.queryLanguage } : {}),
      definitionBody: sfn.DefinitionBody.fromChainable(this._definition(new Construct(this, 'Definition'), decider)),
      // CodeDeploy gives each hook an hour; past it the deployment has failed and the safety net has run.
      timeout: Duration.hours(1),
      // Every state's input and output, so that a rollout can be explained after the fact (cdk-nag SF1, SF2).
      logs: {
        destination: stateMachineLogGroup(this, 'Logs', this.logsKey),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
      tracingEnabled: true,
      comment: spec.machine.comment,
    });
    dropRedundantRoleDependency(this.stateMachine);
    this._grantMachine(this.stateMachine, decider);

    // CodeDeploy invokes hooks asynchronously; the execution name makes a retry harmless.
    this._starter = this._handlerFunction(spec.starter, Duration.minutes(2), true);
    this._starter.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(this._starter);
    if (spec.safetyNet) {
      this._safetyNet = this._handlerFunction(spec.safetyNet, Duration.minutes(2), true);
      this._safetyNet.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    } else {
      this._safetyNet = this._starter;
    }
    grantOnExecutions(this._safetyNet, this.stateMachine, spec.executions.actions, spec.executions.reason);

    this.safetyNetRule = new events.Rule(this, 'SafetyNetRule', {
      description: spec.rules.safetyNet,
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { state: ['FAILURE', 'STOP'] },
      },
    });
    this.safetyNetRule.addTarget(new targets.LambdaFunction(this._safetyNet, { retryAttempts: 4, deadLetterQueue: this.failedEvents }));
    // An execution that ends without reporting (States.Runtime and States.DataLimitExceeded escape States.ALL,
    // and an execution can time out or be stopped: SFN-2, SFN-6) still gets its clean-up and Failed reported.
    this.executionEndRule = new events.Rule(this, 'ExecutionEndRule', {
      description: spec.rules.executionEnd,
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
    });
    this.executionEndRule.addTarget(new targets.LambdaFunction(this._safetyNet, { retryAttempts: 4, deadLetterQueue: this.failedEvents }));
  }

  /** The state machine's definition, built in `scope`; the configurations are read lazily from `configs`. @internal */
  protected abstract _definition(scope: Construct, decider: lambda.Function): sfn.IChainable;

  /**
   * What the state machine is granted beside its logs, traces and definition, and the acknowledgement of its role's
   * `*` resources (cdk-nag IAM5: the CloudWatch Logs delivery actions and X-Ray's trace writes have no resource).
   * @internal
   */
  protected abstract _grantMachine(machine: sfn.StateMachine, decider: lambda.Function): void;

  /**
   * One of the machinery's functions. Asynchronous ones (CodeDeploy's hooks, EventBridge's targets) are retried
   * when they crash (each is idempotent), and an event that still fails lands in `failedEvents`, whose alarm
   * someone sees. The hooks' and the safety net's reads and reports are bounded far below their two minutes
   * (lambdas/shared/hook-clients.ts), and their watchdog reports before the timeout whatever AWS does.
   * @internal
   */
  protected _handlerFunction(spec: HandlerSpec, timeout: Duration, asynchronous = false): lambda.Function {
    return machineryFunction(this, spec.id, {
      code: this.code, handler: spec.handler, description: `cdk-rollout-guardrails ${this.label}: ${spec.description}`, timeout, logsKey: this.logsKey,
      ...(asynchronous ? { async: { retryAttempts: 2, deadLetterQueue: this.failedEvents } } : {}),
    });
  }

  /** Acknowledges cdk-nag's finding on the versions of `fn` (`<fn>.Arn:*`), which an invoke grant adds and the machine never invokes. @internal */
  protected _acknowledgeInvoke(fn: lambda.IFunction, reason: string): void {
    Validations.of(this.stateMachine).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason,
    });
  }

  /**
   * The checks of attach()'s options every machinery makes, in order: the alias, the deployment group (all at
   * once, for `allAtOnce`), the probe, the notifications topic; `own` adds the machinery's where they belong.
   * @internal
   */
  protected _checkWiring(problems: PropProblems, options: MachineryAttachOptions, allAtOnce: string, own: OwnChecks = {}): void {
    if (!(options?.alias instanceof lambda.Alias)) problems.add('alias', 'a lambda.Alias', String(options?.alias));
    own.afterAlias?.();
    if (!(options?.deploymentGroup instanceof codedeploy.LambdaDeploymentGroup)) {
      problems.add('deploymentGroup', 'a codedeploy.LambdaDeploymentGroup', String(options?.deploymentGroup));
    } else if (options.deploymentGroup.deploymentConfig.deploymentConfigName !== codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE.deploymentConfigName) {
      problems.add('deploymentGroup', `all-at-once (LambdaDeploymentConfig.ALL_AT_ONCE): ${allAtOnce}`, options.deploymentGroup.deploymentConfig.deploymentConfigName);
    }
    own.afterDeploymentGroup?.();
    if (options?.probe !== undefined && !(options.probe instanceof DeltaSProbe)) problems.add('probe', 'a DeltaSProbe', String(options.probe));
    own.afterProbe?.();
    if (options?.notifications !== undefined && !isTopic(options.notifications)) problems.add('notifications', 'an SNS topic (sns.ITopic)', String(options.notifications));
  }

  /**
   * Makes the release's shadow record stage 0 of an attached alias's rollout: its configuration carries the
   * requirement, and the decider (the staged gate, the blue-green worker) may read that release's record, and only it.
   * @internal
   */
  public _requireShadow(deploymentGroup: codedeploy.ILambdaDeploymentGroup, promotion: ShadowPromotion, releaseId: string): void {
    const key = aliasConfigKey(deploymentGroup.application.applicationName, deploymentGroup.deploymentGroupName);
    const config = this._configs[key];
    if (!config) throw new Error(`${this.node.id}: the deployment group '${deploymentGroup.node.path}' is not attached`);
    this._configs[key] = { ...config, shadowPromotion: shadowPromotionConfig(promotion, releaseId) };
    grantShadowRead(this._decider, promotion, releaseId);
  }

  /** Throws, listing every problem, if there are any. @internal */
  protected _throwIfAny(problems: PropProblems): void {
    problems.throwIfAny(`${this.node.id}.attach() in '${Stack.of(this).node.path}'`);
  }

  /**
   * Takes `options.alias` for this machinery: its resources must be the stack's own, and it (and, when `groupKey` is
   * given, its deployment group's configuration key) must not be attached yet.
   * @internal
   */
  protected _claim(options: MachineryAttachOptions, groupKey?: string): void {
    const { alias, deploymentGroup } = options;
    for (const scope of [alias, deploymentGroup, options.probe] as Array<IConstruct | undefined>) {
      if (scope === undefined) continue;
      if (Stack.of(scope) !== Stack.of(this)) throw new Error(`${this.node.id} of stack '${Stack.of(this).stackName}' can only attach its own stack's resources, got '${scope.node.path}'`);
    }
    if (this.attached.has(alias.node.path)) throw new Error(`${this.node.id}: the alias '${alias.node.path}' is already attached`);
    if (groupKey !== undefined && this._configs[groupKey] !== undefined) throw new Error(`${this.node.id}: the deployment group '${deploymentGroup.node.path}' is already attached`);
    this.attached.add(alias.node.path);
  }

  /**
   * The grants every attached alias gets, each scoped to its deployment group: the state machine reports on it
   * (then `grantProbe`, if there is a probe), `publisher` (the state machine unless said) publishes to the alias's
   * topic; the starter and the safety net
   * read its deployments and AppSpec and report on them (Failed when a deployment cannot start, or its execution
   * ended without reporting: a report that already landed is refused, and fine); the safety-net rule takes its
   * events.
   * @internal
   */
  protected _grantDeploymentGroup(options: MachineryAttachOptions, grantProbe: (probe: DeltaSProbe) => void, publisher: iam.IGrantable = this.stateMachine): void {
    const { deploymentGroup } = options;
    const application = deploymentGroup.application;
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:PutLifecycleEventHookExecutionStatus'], resources: [deploymentGroup.deploymentGroupArn] }));
    if (options.probe) grantProbe(options.probe);
    options.notifications?.grantPublish(publisher);
    for (const fn of new Set([this._starter, this._safetyNet])) {
      fn.addToRolePolicy(new iam.PolicyStatement({
        actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
        resources: [deploymentGroup.deploymentGroupArn],
      }));
      fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetApplicationRevision'], resources: [application.applicationArn] }));
    }
    this.safetyNetRule.addEventPattern({ detail: { application: [application.applicationName], deploymentGroup: [deploymentGroup.deploymentGroupName] } });
  }
}

/** The unqualified function of `alias` and the alias itself: what reads or writes its routing acts on. */
export function aliasArns(alias: lambda.Alias): string[] {
  const fn = alias.version.lambda;
  return [fn.functionArn, `${fn.functionArn}:${alias.aliasName}`];
}

function isTopic(value: unknown): value is sns.ITopic {
  return typeof value === 'object' && value !== null && 'topicArn' in value && 'grantPublish' in value;
}
