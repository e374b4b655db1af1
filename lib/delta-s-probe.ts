import { Annotations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ProbeConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { GATE_PERIOD } from './canary-metrics';
import { answerTable } from './probe/answer-table';
import { ProbeBindings } from './probe/bind';
import { probeFunction } from './probe/function';
import { DeltaSProbeEmbedderConfig, DeltaSProbeProps, GoldItem, ProbeBindTarget } from './probe/props';
import { probeRunMs, validateProbeProps } from './probe/validate-props';

export * from './probe/props';

/** The thresholds the probe's verdict is judged by, defaults filled in. */
export interface DeltaSProbeGateConfig {
  /** Largest allowed median ΔS(answer, target) of the new version. */
  readonly maxDeltaS: number;
  /** Largest allowed new median ΔS minus current median ΔS. */
  readonly maxDeltaSDrift: number;
  /** Smallest allowed median coverage of the new version. */
  readonly minCoverage: number;
  /** Most gold questions allowed to change λ state between the versions. */
  readonly maxLambdaFlips: number;
  /** Most answers of the new version allowed to break the response schema (no string at the pointer). */
  readonly maxSchemaViolations: number;
  /** Most failed invocations of the new version allowed (function errors, throttles, timeouts). */
  readonly maxInvokeErrors: number;
  /** Largest tolerated p95(new) / p95(current) of warm latency (the latency judge's effect size). */
  readonly maxLatencyP95Ratio: number;
  /** Significance level of the latency judge's one-sided Mann-Whitney test. */
  readonly latencyAlpha: number;
  /** Fewest warm samples per version the latency judge needs to decide. */
  readonly latencyMinSamples: number;
  /** Whether too few warm samples fails the probe (true) or only notes it in the report (false). */
  readonly requireLatencyVerdict: boolean;
}

/** The configuration written beside the probe's handler (the runtime's `ProbeConfig`), defaults filled in. */
export interface DeltaSProbeConfig {
  /**
   * The embedder for ΔS.
   * @default - the hashed embedder
   */
  readonly embedder?: DeltaSProbeEmbedderConfig;
  /** The request sent to the function: any JSON value; `{{question}}` and `{{seed}}` are filled in. */
  readonly requestTemplate: any;
  /** RFC 6901 JSON pointer to the answer string in the function's response. */
  readonly answerPointer: string;
  /** Seeds per question text (0, 1, ...). */
  readonly seeds: number;
  /** Invocations in flight at once, both versions together. */
  readonly concurrency: number;
  /** Longest one invocation may take before it counts as an invoke error, in milliseconds. */
  readonly invokeTimeoutMs: number;
  /** Longest the whole probe may take, in milliseconds (the handler also keeps a reserve of its own time). */
  readonly budgetMs: number;
  /** CloudWatch namespace of the probe's metrics. */
  readonly metricNamespace: string;
  /** The gates the verdict is judged by. */
  readonly gates: DeltaSProbeGateConfig;
  /**
   * Whether the current version's answers are recorded and reused within a deployment.
   * @default - off
   */
  readonly reuseCurrentAnswers?: boolean;
}

/** Which alias's and version's probe metrics to read. */
export interface ProbeMetricTarget {
  /** The released function's name. */
  readonly functionName: string;
  /** The alias's name. */
  readonly aliasName: string;
  /** The version probed. */
  readonly version: string;
}

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
  /**
   * The table of the current version's recorded answers, with `reuseCurrentAnswers` (the probe may only read and
   * put its items).
   */
  public readonly answerTable?: dynamodb.ITable;
  /** The gold set, parsed at synth. */
  public readonly goldItems: GoldItem[];
  /** The configuration written beside the handler, defaults filled in. */
  public readonly config: DeltaSProbeConfig;
  /** The same configuration, typed as the runtime reads it. @internal */
  public readonly _runtimeConfig: ProbeConfig;
  /** The aliases the probe is bound to. */
  private readonly bindings: ProbeBindings;

  constructor(scope: Construct, id: string, props: DeltaSProbeProps) {
    super(scope, id);
    const settings = validateProbeProps(this, props);
    // The runtime's shapes, typed for other languages: the same objects (readonly arrays, the embedder's kind as an enum of the same strings).
    this.goldItems = settings.gold.items as GoldItem[];
    this._runtimeConfig = settings.config;
    this.config = settings.config as DeltaSProbeConfig;
    if (this.goldItems.length < 50) {
      Annotations.of(this).addWarningV2('cdk-rollout-guardrails:smallGoldSet',
        `the gold set has ${this.goldItems.length} questions; the canary field guide asks for 50 to 200`);
    }
    const timeoutSeconds = Math.ceil(probeRunMs(this._runtimeConfig) / 1000);
    this.function = probeFunction(this, settings, { memorySize: props.memorySize, timeoutSeconds });
    if (this._runtimeConfig.reuseCurrentAnswers === true) this.answerTable = answerTable(this, this.function);
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
  public metricDeltaS(target: ProbeMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.metric('DeltaSMedian', target, options);
  }

  /** Any metric the probe publishes (see docs: DeltaSMedian, CoverageMedian, DeltaSDrift, LambdaFlips, ProbePassed, ...). */
  public metric(metricName: string, target: ProbeMetricTarget, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
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
