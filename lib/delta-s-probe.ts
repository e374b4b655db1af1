import { Annotations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { GoldItem, ProbeConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { GATE_PERIOD } from './canary-metrics';
import { ProbeBindings } from './probe/bind';
import { probeFunction } from './probe/function';
import { DeltaSProbeProps, ProbeBindTarget } from './probe/props';
import { probeRunMs, validateProbeProps } from './probe/validate-props';

export * from './probe/props';

/**
 * The ΔS probe: a function that runs as a GuardedAlias's BeforeAllowTraffic and AfterAllowTraffic hook, asks
 * the new and the current version every gold question in every wording and seed, scores the answers (ΔS,
 * coverage, λ, latency) and reports Succeeded or Failed to CodeDeploy, with one JSON report in its log and
 * every measurement as a CloudWatch metric.
 *
 * One DeltaSProbe serves any number of GuardedAliases in its stack (give each the same `probe`), so a stack
 * needs one probe function however many functions it releases. The gold set and configuration travel in
 * the function's code asset; the function learns which function, alias and versions to probe from the
 * deployment itself.
 */
export class DeltaSProbe extends Construct {
  /** The probe function, the hook CodeDeploy runs. */
  public readonly function: lambda.Function;
  /** The gold set, parsed at synth. */
  public readonly goldItems: readonly GoldItem[];
  /** The configuration written beside the handler, defaults filled in. */
  public readonly config: ProbeConfig;
  /** The aliases the probe is bound to. */
  private readonly bindings: ProbeBindings;

  constructor(scope: Construct, id: string, props: DeltaSProbeProps) {
    super(scope, id);
    const settings = validateProbeProps(this, props);
    this.goldItems = settings.gold.items;
    this.config = settings.config;
    if (this.goldItems.length < 50) {
      Annotations.of(this).addWarningV2('cdk-rollout-guardrails:smallGoldSet',
        `the gold set has ${this.goldItems.length} questions; the canary field guide asks for 50 to 200`);
    }
    const timeoutSeconds = Math.ceil(probeRunMs(this.config) / 1000);
    this.function = probeFunction(this, settings, { memorySize: props.memorySize, timeoutSeconds });
    this.bindings = new ProbeBindings(this, timeoutSeconds);
  }

  /**
   * Lets `grantee` run the probe directly, outside a deployment (a state machine before a staged step, or a
   * person checking a gold set): `{ functionName, alias, currentVersion, targetVersion }` returns the verdict
   * and the report. The probe still invokes only the versions it has been granted.
   */
  public grantRun(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }

  /** The metric the ΔS alarm of one alias watches: median ΔS of its new version. */
  public metricDeltaS(target: { readonly functionName: string; readonly aliasName: string; readonly version: string }, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('DeltaSMedian', target, options);
  }

  /** Any metric the probe publishes (see docs: DeltaSMedian, CoverageMedian, DeltaSDrift, LambdaFlips, ProbePassed, ...). */
  public metric(metricName: string, target: { readonly functionName: string; readonly aliasName: string; readonly version: string }, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.config.metricNamespace,
      metricName,
      period: GATE_PERIOD,
      statistic: 'Maximum',
      ...options,
      dimensionsMap: { FunctionName: target.functionName, Alias: target.aliasName, Version: target.version, ...options.dimensionsMap },
    });
  }

  /**
   * Wires the probe to one alias (GuardedAlias calls this for its `probe` prop): the probe may invoke
   * exactly the new version and the control version, read and report on exactly this deployment group, and
   * read the revisions of its application; and
   * a ΔS alarm on the new version is returned for the deployment group to watch.
   * @internal
   */
  public _bind(target: ProbeBindTarget): cloudwatch.Alarm {
    return this.bindings.bind(target);
  }
}
