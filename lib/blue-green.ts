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
import { BlueGreenRolloutStrategy, RolloutStrategy } from './rollout-strategy';
import { handlerCode } from './private/assets';
import { BlueGreenAliasConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { buildBlueGreenDefinition } from './private/blue-green-machine';
import { allowLogsToUseKey, failedEvents, grantOnExecutions, machineryFunction, MachineryOptions, stateMachineLogGroup } from './private/machinery';
import { PropProblems } from './private/validation';

const ID = 'BlueGreenSwitch';
const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Below this average time per answer, a hold probe run is likely to hit its budget (and count as a breach). */
const TIGHT_SECONDS_PER_ANSWER = 2;

/** What `BlueGreenSwitch.attach()` wires. */
export interface BlueGreenAttachOptions {
  /** The alias CodeDeploy switches. */
  readonly alias: lambda.Alias;
  /** The new version (this synth's): the invariant check may read exactly its configuration. */
  readonly version: lambda.IVersion;
  /**
   * The alias's deployment group. It must use `LambdaDeploymentConfig.ALL_AT_ONCE`: the switch is CodeDeploy's,
   * the checks run in its two hooks.
   */
  readonly deploymentGroup: codedeploy.LambdaDeploymentGroup;
  /** @default RolloutStrategy.blueGreen() */
  readonly strategy?: BlueGreenRolloutStrategy;
  /**
   * The ΔS probe for the smoke test before the switch and the probe loop while holding. It must already be allowed
   * to invoke the alias's versions (GuardedAlias binds it); `attach()` only lets the state machine run it.
   * @default - no probe: no smoke test, and the hold watches the 5xx rate and the alarms only
   */
  readonly probe?: DeltaSProbe;
  /** Gate alarms read at every metric check while holding; one in ALARM is a breach. @default - none */
  readonly alarms?: cloudwatch.IAlarm[];
  /**
   * The release pins the new version carries (`{ SCHEMA_REV: 'v3' }`), merged with the strategy's `invariants`
   * into the invariants checked before the switch. A strategy invariant that contradicts a pin is rejected.
   * @default - the strategy's invariants only
   */
  readonly pins?: Record<string, string>;
  /**
   * The warm gate to run before the smoke probe when the strategy has no `warmup` of its own: a
   * `ProvisionedWarmup`'s `warmGate` (GuardedAlias passes its `warmup` prop's).
   * @default - the strategy's `warmup`, if any
   */
  readonly warmGate?: { readonly concurrency: number; readonly pings: number; readonly readyTimeoutSeconds: number };
  /**
   * A topic the machine publishes this alias's decisions to, one JSON message each (`BlueGreenDecisionNotification`):
   * the BeforeAllowTraffic outcome (passed, with every check's figures, or failed, with the failed check's
   * reasons), a rollback (the broken stop rules with measured values and thresholds; published beside the
   * Failed report that makes CodeDeploy roll the alias back), a held switch (the number of checks and probe runs), and
   * an error (what failed). Never a routine check. A publish that fails changes nothing.
   * @default - no notifications
   */
  readonly notifications?: sns.ITopic;
  /**
   * Whether `attach()` sets the returned hook as the deployment group's pre- and post-traffic hook
   * (`addPreHook`, `addPostHook`, which also let the group's role invoke it). Set false when the caller puts the
   * hook in the alias's update policy itself and grants CodeDeploy's role `lambda:InvokeFunction` on it.
   * @default true
   */
  readonly wireHooks?: boolean;
}

/**
 * The stack's blue-green machinery, shared by every blue-green alias in it: one Step Functions state machine
 * (JSONata), one hook function (CodeDeploy's BeforeAllowTraffic and AfterAllowTraffic hook of every attached
 * deployment group, and the safety net on their FAILURE and STOP events), one worker function, one EventBridge
 * rule. An attached alias adds no resource: its configuration is an entry of the object literal in the
 * machine's LoadConfig state, keyed by deployment group name, and its permissions are statements in the
 * existing policies.
 *
 * BeforeAllowTraffic: invariants (the new version's environment pins), the smoke probe, pausing the listed
 * event source mappings; Succeeded lets CodeDeploy switch the alias all at once. AfterAllowTraffic: hold and
 * watch (the 5xx rate and gate alarms every check interval, the probe run after run); a broken stop rule reports
 * Failed at once, and CodeDeploy's automatic rollback moves the alias back to the old version (the machine never
 * writes the alias: CodeDeploy is the one owner of the flip, so its rollback finds the alias as it left it); the
 * consumers are resumed beside the report. A held switch resumes them and reports Succeeded. An alias with a
 * notifications topic gets each decision that is news as one JSON message (passed or failed before the switch,
 * rolled back, held, error); after a breach it is published beside the Failed report, never before it.
 */
export class BlueGreenSwitch extends Construct {
  /**
   * The stack's BlueGreenSwitch, created on first use with `options`; a later call that passes a different
   * `logsKey` is refused (one machinery, one key).
   */
  public static of(scope: IConstruct, options: MachineryOptions = {}): BlueGreenSwitch {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(ID);
    if (existing instanceof BlueGreenSwitch) {
      if (options.logsKey !== undefined && options.logsKey !== existing.logsKey) {
        throw new Error(`BlueGreenSwitch of stack '${stack.stackName}' was created with ${existing.logsKey ? `the logsKey '${existing.logsKey.node.path}'` : 'no logsKey'}; '${scope.node.path}' asks for '${options.logsKey.node.path}': every alias of a stack shares one machinery, so give all of them the same logsKey`);
      }
      return existing;
    }
    return new BlueGreenSwitch(stack, ID, options);
  }

  public readonly stateMachine: sfn.StateMachine;
  /** The hook of both phases of every attached deployment group, and the safety net. */
  public readonly hookFunction: lambda.Function;
  /** The machine's worker: invariants, freeze and resume, metric checks, probe judgements. */
  public readonly workerFunction: lambda.Function;
  /** The attached deployment groups' FAILURE and STOP events, to the hook (safety net). */
  public readonly safetyNetRule: events.Rule;
  /** The machine's executions that end FAILED, TIMED_OUT or ABORTED, to the hook (safety net). */
  public readonly executionEndRule: events.Rule;
  /** The key of the machinery's log groups, if any. */
  public readonly logsKey?: kms.IKey;
  /** The events the hook could not process after its retries (a DLQ). */
  public readonly failedEvents: sqs.Queue;
  /** In ALARM as soon as an event is in `failedEvents`: a clean-up may not have run. */
  public readonly failedEventsAlarm: cloudwatch.Alarm;
  private readonly configs: Record<string, BlueGreenAliasConfig> = {};
  private readonly attached = new Set<string>();

  private constructor(scope: Construct, id: string, options: MachineryOptions) {
    super(scope, id);
    const code = handlerCode('blue-green');
    this.logsKey = options.logsKey;
    if (this.logsKey) allowLogsToUseKey(this.logsKey, this);
    const lost = failedEvents(this, 'blue-green switch');
    this.failedEvents = lost.queue;
    this.failedEventsAlarm = lost.alarm;
    const fn = (fid: string, handler: string, description: string, timeout: Duration, asynchronous = false) => machineryFunction(this, fid, {
      code, handler, description: `cdk-rollout-guardrails blue-green: ${description}`, timeout, logsKey: this.logsKey,
      // CodeDeploy and EventBridge invoke the hook asynchronously: a crashed invocation is retried (it is
      // idempotent), and one that still fails lands in the queue, whose alarm someone sees.
      ...(asynchronous ? { async: { retryAttempts: 2, deadLetterQueue: this.failedEvents } } : {}),
    });
    // Up to 15 minutes for the warm gate's wait for READY (RolloutStrategy.blueGreen({ warmup }) keeps it to 14);
    // every other operation is cut off much sooner by its Task state's TimeoutSeconds.
    this.workerFunction = fn('Worker', 'worker', 'invariants, warm gate, freeze and resume, metric checks and probe judgements of the state machine', Duration.minutes(15));
    // GetMetricData has no resource-level permissions; DescribeAlarms shows composite alarms only to a caller
    // allowed on every alarm (docs/aws-behaviour.md CW-1), so that no watch read fails on its own permissions.
    this.workerFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData', 'cloudwatch:DescribeAlarms'], resources: ['*'] }));
    Validations.of(this.workerFunction).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData supports no resource-level permissions, and DescribeAlarms returns composite alarms only to a caller allowed on *; both are reads. X-Ray\'s trace writes (active tracing) support none either. The worker\'s other calls are scoped to the attached versions and event source mappings.',
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      queryLanguage: sfn.QueryLanguage.JSONATA,
      definitionBody: sfn.DefinitionBody.fromChainable(buildBlueGreenDefinition(new Construct(this, 'Definition'), {
        workerArn: this.workerFunction.functionArn,
        configs: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.configs) }),
      })),
      // CodeDeploy gives each hook an hour; past it the deployment has failed and the safety net has run.
      timeout: Duration.hours(1),
      // Every state's input and output (the decision records), so that a switch can be explained (cdk-nag SF1, SF2).
      logs: {
        destination: stateMachineLogGroup(this, 'Logs', this.logsKey),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
      tracingEnabled: true,
      comment: 'cdk-rollout-guardrails blue-green: invariants, smoke, freeze before the switch; hold and watch after it, report Failed on a breach (CodeDeploy rolls back)',
    });
    iam.Grant.addToPrincipal({ grantee: this.stateMachine, actions: ['lambda:InvokeFunction'], resourceArns: [this.workerFunction.functionArn] });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'The CloudWatch Logs delivery actions and X-Ray\'s PutTraceSegments support no resource-level permissions.',
    });

    // Two minutes: its reads and report are bounded far below that (lambdas/shared/hook-clients.ts), and its
    // watchdog reports before the timeout whatever AWS does.
    this.hookFunction = fn('Hook', 'hook', 'the BeforeAllowTraffic and AfterAllowTraffic hook that starts the state machine, and the safety net', Duration.minutes(2), true);
    this.hookFunction.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(this.hookFunction);
    // The AfterAllowTraffic hook reads the BeforeAllowTraffic execution's output; the safety net stops what still runs.
    grantOnExecutions(this.hookFunction, this.stateMachine, ['states:DescribeExecution', 'states:StopExecution'],
      'The executions of the stack\'s own blue-green state machine, named after deployments that do not exist at synth; DescribeExecution and StopExecution only.');

    this.safetyNetRule = new events.Rule(this, 'SafetyNetRule', {
      description: 'cdk-rollout-guardrails: a blue-green deployment failed or stopped; stop its executions and resume its paused consumers',
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { state: ['FAILURE', 'STOP'] },
      },
    });
    this.safetyNetRule.addTarget(new targets.LambdaFunction(this.hookFunction, { retryAttempts: 4, deadLetterQueue: this.failedEvents }));
    // An execution that ends without reporting (States.Runtime and States.DataLimitExceeded escape States.ALL,
    // and an execution can time out or be stopped: SFN-2, SFN-6) still gets Failed reported and its consumers resumed.
    this.executionEndRule = new events.Rule(this, 'ExecutionEndRule', {
      description: 'cdk-rollout-guardrails: a blue-green execution failed, timed out or was aborted; report Failed and resume its consumers',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: [this.stateMachine.stateMachineArn], status: ['FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
    });
    this.executionEndRule.addTarget(new targets.LambdaFunction(this.hookFunction, { retryAttempts: 4, deadLetterQueue: this.failedEvents }));
  }

  /**
   * Wires one alias to the stack's blue-green switch and returns the hook, now the deployment group's pre- and
   * post-traffic hook (unless `wireHooks` is false). Grants, each scoped to this alias: the state machine may
   * run the probe, report on the deployment group and publish to the alias's topic; the hook may read the deployment and the
   * alias; the worker may read the new version's configuration and the alarms, and pause and resume the
   * consumers. Throws, listing every problem, on an invalid strategy or wiring.
   */
  public attach(options: BlueGreenAttachOptions): lambda.IFunction {
    const problems = new PropProblems();
    const strategy = options?.strategy ?? RolloutStrategy.blueGreen();
    if (!(strategy instanceof BlueGreenRolloutStrategy)) problems.add('strategy', 'a blue-green strategy (RolloutStrategy.blueGreen())', String(strategy));
    else problems.addAll(strategy.validate());
    if (!(options?.alias instanceof lambda.Alias)) problems.add('alias', 'a lambda.Alias', String(options?.alias));
    if (options?.version === undefined || typeof (options.version as lambda.IVersion).functionArn !== 'string') problems.add('version', 'a lambda.IVersion', String(options?.version));
    if (!(options?.deploymentGroup instanceof codedeploy.LambdaDeploymentGroup)) {
      problems.add('deploymentGroup', 'a codedeploy.LambdaDeploymentGroup', String(options?.deploymentGroup));
    } else if (options.deploymentGroup.deploymentConfig.deploymentConfigName !== codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE.deploymentConfigName) {
      problems.add('deploymentGroup', 'all-at-once (LambdaDeploymentConfig.ALL_AT_ONCE): CodeDeploy switches the alias between the two hooks',
        options.deploymentGroup.deploymentConfig.deploymentConfigName);
    }
    if (options?.probe !== undefined && !(options.probe instanceof DeltaSProbe)) problems.add('probe', 'a DeltaSProbe', String(options.probe));
    if (options?.alarms !== undefined && !Array.isArray(options.alarms)) problems.add('alarms', 'an array of alarms', options.alarms);
    if (options?.notifications !== undefined && !isTopic(options.notifications)) problems.add('notifications', 'an SNS topic (sns.ITopic)', String(options.notifications));
    const pins = options?.pins ?? {};
    if (typeof pins !== 'object' || pins === null || Array.isArray(pins)) problems.add('pins', 'an object of environment variable names to values', pins);
    else if (strategy instanceof BlueGreenRolloutStrategy) {
      for (const [name, value] of Object.entries(pins)) {
        if (!ENV_NAME.test(name)) problems.add('pins', 'keyed by environment variable names (a letter, then letters, digits or "_")', name);
        if (!Token.isUnresolved(value) && (typeof value !== 'string' || value === '')) problems.add(`pins.${name}`, 'a non-empty string', value);
        const declared = strategy.invariants[name];
        if (declared !== undefined && !Token.isUnresolved(declared) && !Token.isUnresolved(value) && declared !== value) {
          problems.add(`strategy (blueGreen) invariants.${name}`, `the release pin the new version carries (${JSON.stringify(value)}): the switch could never pass`, declared);
        }
      }
    }
    const gate = options?.warmGate;
    if (gate !== undefined) {
      problems.integer('warmGate.concurrency', gate.concurrency, 1, 10_000);
      problems.integer('warmGate.pings', gate.pings, 0, 100);
      problems.integer('warmGate.readyTimeoutSeconds', gate.readyTimeoutSeconds, 1, 840);
    }
    if (gate === undefined && strategy instanceof BlueGreenRolloutStrategy && strategy._config().warmup !== undefined) {
      const cfnVersion = (options?.version as lambda.Version | undefined)?.node?.defaultChild as lambda.CfnVersion | undefined;
      if (cfnVersion?.provisionedConcurrencyConfig === undefined) {
        problems.add('strategy (blueGreen) warmup', 'set only on a version with provisioned concurrency of its own (GuardedAlias `warmup`, a ProvisionedWarmup, puts it on each published version): the warm gate waits for it and pings it, it never creates one', 'a version without provisioned concurrency');
      }
    }
    problems.throwIfAny(`BlueGreenSwitch.attach() in '${Stack.of(this).node.path}'`);

    const { alias, deploymentGroup, version } = options;
    const blueGreen = strategy as BlueGreenRolloutStrategy;
    for (const scope of [alias, deploymentGroup, options.probe] as Array<IConstruct | undefined>) {
      if (scope === undefined) continue;
      if (Stack.of(scope) !== Stack.of(this)) throw new Error(`BlueGreenSwitch of stack '${Stack.of(this).stackName}' can only attach its own stack's resources, got '${scope.node.path}'`);
    }
    if (this.attached.has(alias.node.path)) throw new Error(`BlueGreenSwitch: the alias '${alias.node.path}' is already attached`);
    if (this.configs[deploymentGroup.deploymentGroupName] !== undefined) throw new Error(`BlueGreenSwitch: the deployment group '${deploymentGroup.node.path}' is already attached`);
    this.attached.add(alias.node.path);

    const fn = alias.version.lambda;
    const aliasArns = [fn.functionArn, `${fn.functionArn}:${alias.aliasName}`];
    const application = deploymentGroup.application;
    const consumers = blueGreen.freezeConsumers;
    const own = blueGreen._config();
    const warmup = own.warmup ?? (gate ? { concurrency: gate.concurrency, pings: gate.pings, readyTimeoutSeconds: gate.readyTimeoutSeconds } : undefined);
    this.configs[deploymentGroup.deploymentGroupName] = {
      ...own,
      ...(warmup ? { warmup } : {}),
      invariants: { ...pins, ...blueGreen.invariants },
      freeze: consumers.map((c) => c.eventSourceMappingId),
      alarmNames: (options.alarms ?? []).map((a) => a.alarmName),
      ...(options.probe ? { probeFunctionArn: options.probe.function.functionArn } : {}),
      ...(options.notifications ? { topicArn: options.notifications.topicArn } : {}),
    };

    // The state machine: report on this group, run the probe. It never writes the alias (CodeDeploy does).
    this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:PutLifecycleEventHookExecutionStatus'], resources: [deploymentGroup.deploymentGroupArn] }));
    if (options.probe) {
      // The unqualified probe function only (DeltaSProbe.grantRun would add `:*`, which the machine never calls).
      iam.Grant.addToPrincipal({ grantee: this.stateMachine, actions: ['lambda:InvokeFunction'], resourceArns: [options.probe.function.functionArn] });
      this.warnOnTightProbe(alias, blueGreen, options.probe);
    }
    // The decisions, to this alias's topic (sns:Publish on it; its key's, if encrypted).
    options.notifications?.grantPublish(this.stateMachine);

    // The hook: this group's deployments and AppSpec, this alias's version (the phase), Failed when it cannot start.
    this.hookFunction.addToRolePolicy(new iam.PolicyStatement({
      actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
      resources: [deploymentGroup.deploymentGroupArn],
    }));
    this.hookFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetApplicationRevision'], resources: [application.applicationArn] }));
    this.hookFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetAlias'], resources: aliasArns }));
    this.safetyNetRule.addEventPattern({ detail: { application: [application.applicationName], deploymentGroup: [deploymentGroup.deploymentGroupName] } });

    // The worker: the new version's configuration, this alias's alarms.
    this.workerFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetFunctionConfiguration'], resources: [version.functionArn] }));
    // The warm gate: reads the new version's own provisioned concurrency and pings it; it writes none.
    if (warmup) {
      this.workerFunction.addToRolePolicy(new iam.PolicyStatement({
        actions: ['lambda:GetProvisionedConcurrencyConfig', 'lambda:InvokeFunction'],
        resources: [version.functionArn],
      }));
    }
    // The consumers: the worker pauses and resumes them, the safety net resumes them.
    if (consumers.length > 0) {
      const mappings = consumers.map((c) => c.eventSourceMappingArn);
      this.workerFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping'], resources: mappings }));
      this.hookFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:UpdateEventSourceMapping'], resources: mappings }));
    }

    if (options.wireHooks !== false) {
      deploymentGroup.addPreHook(this.hookFunction);
      deploymentGroup.addPostHook(this.hookFunction);
    }
    return this.hookFunction;
  }

  /** The configuration written for one deployment group (its name as given to `attach()`), for tests and tools. @internal */
  public _configOf(deploymentGroupName: string): BlueGreenAliasConfig | undefined {
    return this.configs[deploymentGroupName];
  }

  private warnOnTightProbe(alias: lambda.Alias, strategy: BlueGreenRolloutStrategy, probe: DeltaSProbe): void {
    const questions = probe.goldItems.slice(0, strategy.smokeQuestions);
    const invocations = 2 * probe.config.seeds * questions.reduce((n, item) => n + 1 + item.paraphrases.length, 0);
    const rounds = Math.ceil(invocations / probe.config.concurrency);
    const perAnswer = strategy.probeBudget.toSeconds() / Math.max(1, rounds);
    if (perAnswer < TIGHT_SECONDS_PER_ANSWER) {
      Annotations.of(alias).addWarningV2('cdk-rollout-guardrails:blueGreenProbeBudget',
        `a hold-and-watch probe run makes ${invocations} invocations, ${probe.config.concurrency} at a time (${rounds} rounds), and is cut off at `
        + `${strategy.probeBudget.toHumanString()}: each answer must come within ${perAnswer.toFixed(2)} s on average, or the run counts as a breach and the deployment rolls back; `
        + 'raise the probe\'s concurrency, or make sure your function answers that fast');
    }
  }
}

function isTopic(value: unknown): value is sns.ITopic {
  return typeof value === 'object' && value !== null && 'topicArn' in value && 'grantPublish' in value;
}
