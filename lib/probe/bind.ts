// How a DeltaSProbe is bound to one GuardedAlias: the grants to probe exactly its versions and report on
// exactly its deployment group, its own gate thresholds and warm gate, and the ΔS alarm its deployment watches.
import { Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { PROBE_GATE_OVERRIDES_ENV, PROBE_WARMUP_ENV, ProbeConfig, ProbeGateConfig, WarmGateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { ProvisionedWarmup } from '../provisioned-warmup';
import { acknowledgeGuard, GATE_ALARM_REASON } from '../private/guard';
import { Described, PropProblems } from '../private/validation';
import { ProbeBindTarget } from './props';
import { MAX_LAMBDA_TIMEOUT, probeRunMs, REPORT_RESERVE } from './validate-props';

/** Time the warm gate's own Lambda calls may take besides its wait and its pings (GetAlias, Get/Put/Delete of the configuration). */
const WARM_GATE_CALLS = Duration.seconds(10);

/** What the bindings use of their probe. */
export interface BindableProbe extends IConstruct {
  readonly function: lambda.Function;
  readonly _runtimeConfig: ProbeConfig;
  metricDeltaS(target: { readonly functionName: string; readonly aliasName: string; readonly version: string }): cloudwatch.Metric;
}

/** The aliases one probe is bound to, with their gate overrides and warm gates, and its function's timeout. */
export class ProbeBindings {
  private readonly bound = new Set<string>();
  /** Per-alias gate overrides, keyed `<function name>:<alias>` as the hook finds them in the AppSpec. */
  private readonly gateOverrides: Record<string, Partial<ProbeGateConfig>> = {};
  /** Per-alias warm gates, keyed like the overrides. */
  private readonly warmGates: Record<string, WarmGateConfig> = {};

  /** `timeoutSeconds`: the function's timeout, its own run, raised for the longest warm gate it hosts. */
  constructor(private readonly probe: BindableProbe, private timeoutSeconds: number) {}

  /** Binds the probe to `target` (see `DeltaSProbe._bind`) and returns the ΔS alarm on its new version. */
  public bind(target: ProbeBindTarget): cloudwatch.Alarm {
    if (Stack.of(target.scope) !== Stack.of(this.probe)) {
      throw new Error(`DeltaSProbe '${this.probe.node.path}' can only probe functions of its own stack (${Stack.of(this.probe).stackName}), got one in ${Stack.of(target.scope).stackName}`);
    }
    const key = target.scope.node.path;
    if (this.bound.has(key)) throw new Error(`DeltaSProbe '${this.probe.node.path}' is already bound to '${key}'`);
    const warmupTimeout = this.checkWarmup(target);
    this.bound.add(key);
    target.version.grantInvoke(this.probe.function);
    iam.Grant.addToPrincipal({
      grantee: this.probe.function,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [`${target.function.functionArn}:${target.controlVersion}`],
    });
    iam.Grant.addToPrincipal({
      grantee: this.probe.function,
      actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
      resourceArns: [target.deploymentGroup.deploymentGroupArn],
    });
    // GetDeployment returns the revision without its content; GetApplicationRevision (authorised on the
    // application) returns the AppSpec with the versions.
    iam.Grant.addToPrincipal({
      grantee: this.probe.function,
      actions: ['codedeploy:GetApplicationRevision'],
      resourceArns: [target.deploymentGroup.application.applicationArn],
    });
    const overrides = Object.fromEntries(Object.entries(target.gates ?? {}).filter(([, v]) => v !== undefined)) as Partial<ProbeGateConfig>;
    if (Object.keys(overrides).length > 0) {
      if (Object.keys(this.gateOverrides).length === 0) {
        // Function names are deploy-time values, so per-alias overrides travel in the environment, not the asset.
        this.probe.function.addEnvironment(PROBE_GATE_OVERRIDES_ENV, Lazy.string({ produce: () => Stack.of(this.probe).toJsonString(this.gateOverrides) }));
      }
      this.gateOverrides[`${target.function.functionName}:${target.aliasName}`] = overrides;
    }
    if (target.warmup !== undefined) {
      if (Object.keys(this.warmGates).length === 0) {
        this.probe.function.addEnvironment(PROBE_WARMUP_ENV, Lazy.string({ produce: () => Stack.of(this.probe).toJsonString(this.warmGates) }));
      }
      this.warmGates[`${target.function.functionName}:${target.aliasName}`] = target.warmup.warmGate;
      target.warmup.grantWarmGate(this.probe.function);
      // The hook runs the warm gate before the probe: its function's timeout makes room for both.
      if (warmupTimeout > this.timeoutSeconds) {
        this.timeoutSeconds = warmupTimeout;
        (this.probe.function.node.defaultChild as lambda.CfnFunction).timeout = warmupTimeout;
      }
    }
    const maxDeltaS: number = overrides.maxDeltaS ?? this.probe._runtimeConfig.gates.maxDeltaS;
    const alarm = new cloudwatch.Alarm(target.scope, 'ProbeDeltaS', {
      metric: this.probe.metricDeltaS({ functionName: target.function.functionName, aliasName: target.aliasName, version: target.version.version }),
      threshold: maxDeltaS,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Release gate maxDeltaS: median ΔS of the new version on the gold set exceeds ${maxDeltaS} (published by the ΔS probe). CodeDeploy rolls the deployment back while this alarm is in ALARM.`,
    });
    acknowledgeGuard(alarm, 'cloudwatch_alarm_action_check', GATE_ALARM_REASON);
    return alarm;
  }

  /**
   * Checks the warm-up bound with `target` and returns the timeout, in seconds, the probe function needs to
   * host its warm gate before the probe (0 without a warm-up): the gate's wait, its own calls and its pings
   * (one invokeTimeout, since they run at once), then the probe's budget, its last call and the time kept
   * to report. More than Lambda's 15 minutes is a synth-time error naming both parts.
   */
  private checkWarmup(target: ProbeBindTarget): number {
    const warmup = target.warmup;
    if (warmup === undefined) return 0;
    const problems = new PropProblems();
    let seconds = 0;
    if (!(warmup instanceof ProvisionedWarmup)) {
      problems.add('warmup', 'a ProvisionedWarmup', (warmup as unknown) instanceof Construct ? new Described(`the construct at '${(warmup as Construct).node.path}'`) : warmup);
    } else {
      if (warmup.alias.aliasName !== target.aliasName || warmup.version !== target.version) {
        problems.add('warmup', `the ProvisionedWarmup of the alias '${target.aliasName}' and version '${target.version.node.path}' the probe is bound to`, new Described(`the ProvisionedWarmup at '${warmup.node.path}' (alias '${warmup.alias.aliasName}', version '${warmup.version.node.path}')`));
      }
      const probeRun = probeRunMs(this.probe._runtimeConfig);
      const gateExtra = WARM_GATE_CALLS.toMilliseconds() + this.probe._runtimeConfig.invokeTimeoutMs;
      const readyMs = warmup.warmGate.readyTimeoutSeconds * 1000;
      const totalMs = readyMs + gateExtra + probeRun;
      seconds = Math.ceil(totalMs / 1000);
      if (totalMs > MAX_LAMBDA_TIMEOUT.toMilliseconds()) {
        const room = MAX_LAMBDA_TIMEOUT.toMilliseconds() - gateExtra - probeRun;
        const budget = Duration.millis(this.probe._runtimeConfig.budgetMs).toHumanString();
        const invoke = Duration.millis(this.probe._runtimeConfig.invokeTimeoutMs).toHumanString();
        problems.add('warmup.readyTimeout',
          `at most ${room >= 1000 ? Duration.seconds(Math.floor(room / 1000)).toHumanString() : 'nothing'} with the probe '${this.probe.node.path}': the hook runs the warm gate (readyTimeout, `
          + `${WARM_GATE_CALLS.toHumanString()} for its calls and the probe's invokeTimeout ${invoke} for the warm pings), then the probe (budget ${budget}, `
          + `invokeTimeout ${invoke} for the last call, ${REPORT_RESERVE.toHumanString()} to report), ${Duration.seconds(seconds).toHumanString()} in all, `
          + 'and Lambda stops a function after 15 minutes; lower readyTimeout or the probe\'s budget',
          Duration.seconds(warmup.warmGate.readyTimeoutSeconds));
      }
    }
    problems.throwIfAny(`DeltaSProbe '${this.probe.node.path}' bound to '${target.scope.node.path}'`);
    return seconds;
  }
}
