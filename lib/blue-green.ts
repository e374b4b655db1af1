import { Annotations, Duration, Lazy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, IConstruct } from 'constructs';
import { DeltaSProbe } from './delta-s-probe';
import { RolloutStrategy } from './rollout-strategy';
import type { ShadowPromotion } from './shadow-promotion';
import { BlueGreenRolloutStrategy } from './strategies/blue-green';
import { aliasConfigKey, BlueGreenAliasConfig } from 'cdk-rollout-guardrails-runtime/contract';
import type { WarmGateConfig } from './provisioned-warmup';
import { buildBlueGreenDefinition } from './private/blue-green-machine';
import { MachineryOptions } from './private/machinery';
import { aliasArns, RolloutMachinery } from './private/rollout-machinery';
import { shadowPromotionProblems } from './private/shadow-promotion';
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
  readonly warmGate?: WarmGateConfig;
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
   * Shadow as stage 0: checked with the invariants before anything else; a release that has not passed shadow
   * (`releaseId`, which this requires) fails the BeforeAllowTraffic hook before the switch.
   * @default - no shadow requirement
   */
  readonly requireShadow?: ShadowPromotion;
  /**
   * The release the alias rolls out (the RELEASE_ID of its versions), whose shadow record `requireShadow` reads.
   * @default - none (required with `requireShadow`)
   */
  readonly releaseId?: string;
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
export class BlueGreenSwitch extends RolloutMachinery<BlueGreenAliasConfig> {
  /**
   * The stack's BlueGreenSwitch, created on first use with `options`; a later call that passes a different
   * `logsKey` is refused (one machinery, one key).
   */
  public static of(scope: IConstruct, options: MachineryOptions = {}): BlueGreenSwitch {
    return RolloutMachinery._ofStack(scope, options, ID, BlueGreenSwitch, (stack) => new BlueGreenSwitch(stack, ID, options));
  }

  /** The hook of both phases of every attached deployment group, and the safety net. */
  public readonly hookFunction: lambda.Function;
  /** The machine's worker: invariants, freeze and resume, metric checks, probe judgements, notifications. */
  public readonly workerFunction: lambda.Function;

  private constructor(scope: Construct, id: string, options: MachineryOptions) {
    super(scope, id, options, {
      bundle: 'blue-green',
      label: 'blue-green',
      what: 'blue-green switch',
      // Up to 15 minutes for the warm gate's wait for READY (RolloutStrategy.blueGreen({ warmup }) keeps it to 14);
      // every other operation is cut off much sooner by its Task state's TimeoutSeconds.
      decider: {
        id: 'Worker', handler: 'worker', description: 'invariants, warm gate, freeze and resume, metric checks, probe judgements and notifications of the state machine', timeout: Duration.minutes(15),
        acknowledged: 'X-Ray\'s trace writes (active tracing) support none either. The worker\'s other calls are scoped to the attached versions and event source mappings.',
      },
      machine: {
        queryLanguage: sfn.QueryLanguage.JSONATA,
        comment: 'cdk-rollout-guardrails blue-green: invariants, smoke, freeze before the switch; hold and watch after it, report Failed on a breach (CodeDeploy rolls back)',
      },
      starter: { id: 'Hook', handler: 'hook', description: 'the BeforeAllowTraffic and AfterAllowTraffic hook that starts the state machine, and the safety net' },
      // The AfterAllowTraffic hook reads the BeforeAllowTraffic execution's output; the safety net stops what still runs.
      executions: {
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        reason: 'The executions of the stack\'s own blue-green state machine, named after deployments that do not exist at synth; DescribeExecution and StopExecution only.',
      },
      rules: {
        safetyNet: 'cdk-rollout-guardrails: a blue-green deployment failed or stopped; stop its executions and resume its paused consumers',
        executionEnd: 'cdk-rollout-guardrails: a blue-green execution failed, timed out or was aborted; report Failed and resume its consumers',
      },
    });
    this.hookFunction = this._starter;
    this.workerFunction = this._decider;
  }

  /** @internal */
  protected _definition(scope: Construct, worker: lambda.Function): sfn.IChainable {
    return buildBlueGreenDefinition(scope, {
      workerArn: worker.functionArn,
      configs: Lazy.string({ produce: () => Stack.of(this).toJsonString(this._configs) }),
    });
  }

  /** @internal */
  protected _grantMachine(machine: sfn.StateMachine, worker: lambda.Function): void {
    iam.Grant.addToPrincipal({ grantee: machine, actions: ['lambda:InvokeFunction'], resourceArns: [worker.functionArn] });
    Validations.of(machine).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'The CloudWatch Logs delivery actions and X-Ray\'s PutTraceSegments support no resource-level permissions.',
    });
  }

  /**
   * Wires one alias to the stack's blue-green switch and returns the hook, now the deployment group's pre- and
   * post-traffic hook (unless `wireHooks` is false). Grants, each scoped to this alias: the state machine may
   * run the probe and report on the deployment group; the hook may read the deployment and the alias; the worker
   * may read the new version's configuration and the alarms, pause and resume the consumers and publish to the
   * alias's topic. Throws, listing every problem, on an invalid strategy or wiring.
   */
  public attach(options: BlueGreenAttachOptions): lambda.IFunction {
    const problems = new PropProblems();
    const strategy = options?.strategy ?? RolloutStrategy.blueGreen();
    if (!(strategy instanceof BlueGreenRolloutStrategy)) problems.add('strategy', 'a blue-green strategy (RolloutStrategy.blueGreen())', String(strategy));
    else problems.addAll(strategy.validate());
    this._checkWiring(problems, options, 'CodeDeploy switches the alias between the two hooks', {
      afterAlias: () => {
        if (options?.version === undefined || typeof (options.version as lambda.IVersion).functionArn !== 'string') problems.add('version', 'a lambda.IVersion', String(options?.version));
      },
      afterProbe: () => {
        if (options?.alarms !== undefined && !Array.isArray(options.alarms)) problems.add('alarms', 'an array of alarms', options.alarms);
      },
    });
    const pins = options?.pins ?? {};
    if (typeof pins !== 'object' || pins === null || Array.isArray(pins)) problems.add('pins', 'an object of environment variable names to values', pins);
    else if (strategy instanceof BlueGreenRolloutStrategy) checkPins(problems, strategy, pins);
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
    if (options?.requireShadow !== undefined) shadowPromotionProblems(problems, options.requireShadow, options.releaseId !== undefined);
    this._throwIfAny(problems);
    const key = aliasConfigKey(options.deploymentGroup.application.applicationName, options.deploymentGroup.deploymentGroupName);
    this._claim(options, key);

    const { alias, deploymentGroup, version } = options;
    const blueGreen = strategy as BlueGreenRolloutStrategy;
    const consumers = blueGreen.freezeConsumers;
    const own = blueGreen._config();
    const warmup = own.warmup ?? (gate ? { concurrency: gate.concurrency, pings: gate.pings, readyTimeoutSeconds: gate.readyTimeoutSeconds } : undefined);
    this._configs[key] = {
      ...own,
      ...(warmup ? { warmup } : {}),
      invariants: { ...pins, ...blueGreen.invariants },
      freeze: consumers.map((c) => c.eventSourceMappingId),
      alarmNames: (options.alarms ?? []).map((a) => a.alarmName),
      ...(options.probe ? { probeFunctionArn: options.probe.function.functionArn } : {}),
      ...(options.notifications ? { topicArn: options.notifications.topicArn } : {}),
    };
    if (options.requireShadow) this._requireShadow(deploymentGroup, options.requireShadow, options.releaseId!);

    // The state machine: report on this group, run the probe. It never writes the alias (CodeDeploy does). The
    // worker publishes the decisions to this alias's topic (sns:Publish on it; its key's, if encrypted).
    this._grantDeploymentGroup(options, (probe) => {
      // The unqualified probe function only (DeltaSProbe.grantRun would add `:*`, which the machine never calls).
      iam.Grant.addToPrincipal({ grantee: this.stateMachine, actions: ['lambda:InvokeFunction'], resourceArns: [probe.function.functionArn] });
      this.warnOnTightProbe(alias, blueGreen, probe);
    }, this.workerFunction);
    // The hook: beside this group's deployments and AppSpec, this alias's version (the phase).
    this.hookFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetAlias'], resources: aliasArns(alias) }));

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

  /** The configuration written for one attached deployment group, for tests and tools. @internal */
  public _configOf(deploymentGroup: codedeploy.ILambdaDeploymentGroup): BlueGreenAliasConfig | undefined {
    return this._configs[aliasConfigKey(deploymentGroup.application.applicationName, deploymentGroup.deploymentGroupName)];
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

function checkPins(problems: PropProblems, strategy: BlueGreenRolloutStrategy, pins: Record<string, string>): void {
  for (const [name, value] of Object.entries(pins)) {
    if (!ENV_NAME.test(name)) problems.add('pins', 'keyed by environment variable names (a letter, then letters, digits or "_")', name);
    if (!Token.isUnresolved(value) && (typeof value !== 'string' || value === '')) problems.add(`pins.${name}`, 'a non-empty string', value);
    const declared = strategy.invariants[name];
    if (declared !== undefined && !Token.isUnresolved(declared) && !Token.isUnresolved(value) && declared !== value) {
      problems.add(`strategy (blueGreen) invariants.${name}`, `the release pin the new version carries (${JSON.stringify(value)}): the switch could never pass`, declared);
    }
  }
}
