import { Annotations, Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledgeGuard } from './private/guard';
import { SHADOW_DENIED_ACTIONS } from './private/shadow-deny';
import { SHADOW_METRICS_DIMENSION, SHADOW_METRICS_NAMESPACE, SHADOW_MODE_ENV } from 'cdk-rollout-guardrails-runtime/contract';
import { dispatcherConcurrency, mirrorDispatcher, resultsTable, tapSubscription } from './shadow/mirror';
import { DEFAULT_SHADOW_GATES, MAX_MIRROR_RPS_LIMIT, SHADOW_ALARM_PERIOD, ShadowGateSettings, ShadowIntegrationProps, ShadowRatioMetricOptions } from './shadow/props';
import { addLiveRoute } from './shadow/route';
import { configureTap, tapEvidence } from './shadow/tap';
import { validateShadowProps } from './shadow/validate-props';

export { SHADOW_DENIED_ACTIONS } from './private/shadow-deny';
export * from './shadow/props';

/**
 * Id of the note ShadowIntegration adds when it cannot see a `shadowTap()` call in the live function's code:
 * inline code and the handler's file of an asset directory are read at synth (a minified bundle, a zip, a
 * bucket or an image cannot be read for it). Once the handler is wrapped, acknowledge it with
 * `Annotations.of(scope).acknowledgeInfo(SHADOW_TAP_NOT_SEEN_INFO, reason)` on the integration, its stack or the app.
 */
export const SHADOW_TAP_NOT_SEEN_INFO = 'cdk-rollout-guardrails:shadowTapNotSeen';

/**
 * An API Gateway route integrated with the live alias, with a sampled copy of its reads replayed to a
 * read-only shadow function, off the user path.
 *
 * The live function's `shadowTap` (configured here through its environment) logs a deterministic, sanitised
 * sample of requests with their answers; a CloudWatch Logs subscription feeds the mirror dispatcher, whose
 * reserved concurrency and token bucket cap the replays at `maxMirrorRps`; it replays each to the shadow
 * with `x-shadow: true`, scores ΔS between the two answers, stores both in the results table and publishes
 * `ShadowDeltaS`, `ShadowLatencyDelta`, `ShadowErrors`, `MirrorDropped` and the observed sample rate.
 *
 * "Zero side effects" covers what IAM can stop: the shadow's role is denied DynamoDB writes, S3 puts and
 * deletes, SQS/SNS/EventBridge sends, invoking other functions, starting workflows, stream puts, mail and
 * parameter writes ({@link SHADOW_DENIED_ACTIONS}), and `makeIdempotent` refuses to run in shadow mode. It
 * cannot cover calls outside AWS authorisation: HTTP to third parties, databases reached with their own
 * credentials, or side effects inside a service the shadow may only read (a read that costs money or bumps
 * a counter). A shadow must not be given such credentials.
 */
export class ShadowIntegration extends Construct {
  /** The write actions a shadow function's role is explicitly denied (a copy of the list the construct uses). */
  public static readonly DENIED_ACTIONS: string[] = [...SHADOW_DENIED_ACTIONS];
  /**
   * Id of the note added when no `shadowTap()` call is seen in the live function's code; acknowledge it with
   * `Annotations.of(scope).acknowledgeInfo(ShadowIntegration.TAP_NOT_SEEN_INFO, reason)`.
   */
  public static readonly TAP_NOT_SEEN_INFO: string = SHADOW_TAP_NOT_SEEN_INFO;
  /** The defaults of the shadow's gates; `maxP95DeltaS` has none (no alarm unless set). */
  public static readonly DEFAULT_GATES: ShadowGateSettings = { ...DEFAULT_SHADOW_GATES };
  /** Period of the shadow metrics' alarms: shadow traffic is a sample, so a minute holds too few answers. */
  public static readonly ALARM_PERIOD: Duration = SHADOW_ALARM_PERIOD;
  /** Highest `maxMirrorRps`: beyond it the dispatcher's reserved concurrency would eat into the account's pool. */
  public static readonly MAX_MIRROR_RPS_LIMIT: number = MAX_MIRROR_RPS_LIMIT;

  /** The alias users are served by. */
  public readonly liveAlias: lambda.Alias;
  /** The live function, whose tap this configures. */
  public readonly liveFunction: lambda.Function;
  /** The shadow function (the function behind `shadow`). */
  public readonly shadowFunction: lambda.Function;
  /** The mirror dispatcher. */
  public readonly dispatcher: lambda.Function;
  /**
   * The results table: one row per replay, and one summary item per shadowed release (key `release#<RELEASE_ID>`,
   * see `shadowSummaryKey` in `cdk-rollout-guardrails-runtime/contract`), which a rollout reads to tell whether the
   * release has passed shadow.
   */
  public readonly resultsTable: dynamodb.ITable;
  /** How long results and summaries are kept after their last write (the table's TTL, `expires_at`). */
  public readonly resultsTtl: Duration;
  /** The subscription filter that feeds the tap's lines to the dispatcher. */
  public readonly subscription: logs.SubscriptionFilter;
  /** The log group the tap writes to. */
  public readonly liveLogGroup: logs.ILogGroup;
  /** Mean ΔS above `gates.maxMeanDeltaS`. */
  public readonly deltaSAlarm: cloudwatch.Alarm;
  /** Shadow p95 duration above live p95 by more than `gates.maxP95LatencyIncrease`. */
  public readonly latencyAlarm: cloudwatch.Alarm;
  /** p95 of ΔS above `gates.maxP95DeltaS`; undefined unless that gate is set. */
  public readonly p95DeltaSAlarm?: cloudwatch.Alarm;
  /** The thresholds in force. */
  public readonly gates: ShadowGateSettings;
  /** The dispatcher's reserved concurrency. */
  public readonly dispatcherConcurrency: number;
  /** `METHOD /path` of the mirrored route. */
  public readonly routeKey: string;
  /** The REST method created, for a REST API. */
  public readonly restMethod?: apigw.Method;
  /** The HTTP API route created, for an HTTP API. */
  public readonly httpRoute?: apigwv2.HttpRoute;

  constructor(scope: Construct, id: string, props: ShadowIntegrationProps) {
    super(scope, id);
    const settings = validateShadowProps(this, props);
    const p = settings.props;
    this.liveAlias = settings.liveAlias;
    this.liveFunction = settings.liveFunction;
    this.shadowFunction = settings.shadowFunction;
    this.gates = settings.gates;
    this.resultsTtl = settings.resultsTtl;
    this.routeKey = `${settings.method} ${p.path}`;
    this.dispatcherConcurrency = dispatcherConcurrency(p.maxMirrorRps);

    // 1. The route, integrated with the live alias.
    const route = addLiveRoute(this, { ...settings, api: p.api, path: p.path, methodOptions: p.methodOptions });
    this.restMethod = route.restMethod;
    this.httpRoute = route.httpRoute;

    // 2. The live function's tap, configured through its environment.
    configureTap(settings, this.routeKey);

    // 3. The shadow: shadow mode and an explicit Deny on writes.
    this.shadowFunction.addEnvironment(SHADOW_MODE_ENV, 'true');
    this.shadowFunction.role!.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ShadowDenyWrites',
      effect: iam.Effect.DENY,
      actions: [...SHADOW_DENIED_ACTIONS],
      resources: ['*'],
    }));

    // 4. The results table.
    this.resultsTable = resultsTable(this, p.resultsTable);

    // 5. The dispatcher.
    this.dispatcher = mirrorDispatcher(this, { settings, routeKey: this.routeKey, resultsTable: this.resultsTable, reservedConcurrency: this.dispatcherConcurrency });

    // 6. The subscription: the tap's lines in the live function's log group go to the dispatcher.
    const tap = tapSubscription(this, this.liveFunction, this.dispatcher);
    this.liveLogGroup = tap.logGroup;
    this.subscription = tap.subscription;

    // 7. Alarms: drift and latency, the two signals that a shadow is (not yet) ready to be a canary.
    this.deltaSAlarm = this.gateAlarm('MaxMeanDeltaS', this.metricDeltaS({ statistic: 'Average' }), this.gates.maxMeanDeltaS,
      `mean ΔS between the live and the shadow answers exceeds ${this.gates.maxMeanDeltaS}`);
    this.latencyAlarm = this.gateAlarm('MaxP95LatencyIncrease', this.metricP95LatencyRatio(), 1 + this.gates.maxP95LatencyIncrease,
      `the shadow's p95 duration exceeds the live p95 by more than ${Math.round(this.gates.maxP95LatencyIncrease * 1000) / 10} %`);
    if (this.gates.maxP95DeltaS !== undefined) {
      this.p95DeltaSAlarm = this.gateAlarm('MaxP95DeltaS', this.metricDeltaS({ statistic: 'p95' }), this.gates.maxP95DeltaS,
        `p95 ΔS between the live and the shadow answers exceeds ${this.gates.maxP95DeltaS}`);
    }
    // The construct cannot run the handler, so it only says nothing when it can read a shadowTap() call in the
    // code Lambda will load (inline code, or the handler's file in an asset directory, unminified). Otherwise it
    // cannot tell, and says so in a note that can be acknowledged once the handler is wrapped.
    const evidence = tapEvidence(this.liveFunction);
    if (!evidence.seen) {
      Annotations.of(this).addInfoV2(SHADOW_TAP_NOT_SEEN_INFO, `ShadowIntegration: no shadowTap() call seen in the code of '${this.liveFunction.node.path}' (${evidence.looked}): `
        + 'wrap its handler with shadowTap() from cdk-rollout-guardrails-runtime, or nothing is mirrored. If it is wrapped, acknowledge this note: '
        + `Annotations.of(scope).acknowledgeInfo('${SHADOW_TAP_NOT_SEEN_INFO}', 'the handler is wrapped with shadowTap').`);
    }
  }

  /** Every alarm: mean ΔS, p95 latency, and p95 ΔS when that gate is set. */
  public get alarms(): cloudwatch.Alarm[] {
    return [this.deltaSAlarm, this.latencyAlarm, ...(this.p95DeltaSAlarm ? [this.p95DeltaSAlarm] : [])];
  }

  /** ΔS between the live and the shadow answer, one datapoint per scored pair. @default average over 5 minutes */
  public metricDeltaS(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ShadowDeltaS', { statistic: 'Average', ...props });
  }

  /** Shadow duration minus live duration per pair, in ms. @default average over 5 minutes */
  public metricLatencyDelta(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ShadowLatencyDelta', { statistic: 'Average', ...props });
  }

  /** The shadow's duration per replay, in ms. @default p95 over 5 minutes */
  public metricShadowLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ShadowLatency', { statistic: 'p95', ...props });
  }

  /** The live handler's duration for the replayed samples, in ms. @default p95 over 5 minutes */
  public metricLiveLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('LiveLatency', { statistic: 'p95', ...props });
  }

  /** Replays that failed: function errors, 5xx answers, timeouts and invoke failures. @default sum over 5 minutes */
  public metricShadowErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ShadowErrors', { statistic: 'Sum', ...props });
  }

  /** Samples dropped (over the budget, oversize, unredactable, malformed). @default sum over 5 minutes */
  public metricMirrorDropped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MirrorDropped', { statistic: 'Sum', ...props });
  }

  /** Samples replayed to the shadow. @default sum over 5 minutes */
  public metricMirrorReplayed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MirrorReplayed', { statistic: 'Sum', ...props });
  }

  /** Scored shadow answers that broke `answerSchema` (always 0 without one). @default sum over 5 minutes */
  public metricSchemaViolations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('SchemaViolations', { statistic: 'Sum', ...props });
  }

  /**
   * Replays left out of the per-release summaries: the shadow version that answered has no `RELEASE_ID`, or its
   * configuration could not be read. A rollout that requires shadow sees none of them. @default sum over 5 minutes
   */
  public metricUnreleasedReplays(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('UnreleasedReplays', { statistic: 'Sum', ...props });
  }

  /**
   * Observed sample rate: requests the tap sampled over eligible requests it saw, to compare with
   * `sampleRate` (the seed allows ±2 %).
   */
  public metricObservedSampleRate(props?: ShadowRatioMetricOptions): cloudwatch.MathExpression {
    const period = props?.period ?? SHADOW_ALARM_PERIOD;
    return new cloudwatch.MathExpression({
      expression: 'IF(seen > 0, sampled / seen, 0)',
      usingMetrics: { sampled: this.metric('MirrorSampled', { statistic: 'Sum', period }), seen: this.metric('MirrorSeen', { statistic: 'Sum', period }) },
      label: 'ObservedSampleRate',
      period,
    });
  }

  /** Shadow p95 over live p95 of the replayed samples (1.03 = the shadow is 3 % slower). */
  public metricP95LatencyRatio(props?: ShadowRatioMetricOptions): cloudwatch.MathExpression {
    const period = props?.period ?? SHADOW_ALARM_PERIOD;
    return new cloudwatch.MathExpression({
      expression: 'IF(live > 0, shadow / live, 0)',
      usingMetrics: { shadow: this.metricShadowLatency({ period }), live: this.metricLiveLatency({ period }) },
      label: 'ShadowP95LatencyRatio',
      period,
    });
  }

  private metric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: SHADOW_METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [SHADOW_METRICS_DIMENSION]: this.node.path },
      period: SHADOW_ALARM_PERIOD,
      ...props,
    });
  }

  private gateAlarm(gate: string, metric: cloudwatch.IMetric, threshold: number, what: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, gate, {
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // No replays is not drift: the alarm stays OK while the mirror is idle.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Shadow gate ${gate}: ${what}. While in ALARM the shadow is not ready to become a canary.`,
    });
    acknowledgeGuard(alarm, 'cloudwatch_alarm_action_check', 'A shadow gate: it tells whether the shadow is ready to become a canary, read where it is shown '
      + '(ReleaseDashboard) before a release; nothing is rolled back by it. Give it an action with addAlarmAction() to be told.');
    return alarm;
  }
}
