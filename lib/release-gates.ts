import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { CanaryMetrics, GATE_PERIOD, MetricGate } from './canary-metrics';
import { gateAlarm } from './private/gate-alarm';
import { Described, PropProblems } from './private/validation';

/**
 * Thresholds of the ΔS probe's gates for one alias. They apply when the alias has a `probe`, and override
 * that probe's own `gates` for this alias only.
 */
export interface ProbeGateThresholds {
  /**
   * Largest allowed median ΔS(answer, target) of the new version on the gold set.
   * @default - the probe's (0.45)
   */
  readonly maxDeltaS?: number;
  /**
   * Largest allowed new median ΔS minus current median ΔS.
   * @default - the probe's (0.03)
   */
  readonly maxDeltaSDrift?: number;
  /**
   * Smallest allowed median coverage of the target section.
   * @default - the probe's (0.70)
   */
  readonly minCoverage?: number;
  /**
   * Most gold questions allowed to change λ state between the versions.
   * @default - the probe's (0)
   */
  readonly maxLambdaFlips?: number;
}

/** The names of the probe's gates that a GuardedAlias's `gates` may set. */
export const PROBE_GATE_NAMES: ReadonlyArray<keyof ProbeGateThresholds> = ['maxDeltaS', 'maxDeltaSDrift', 'minCoverage', 'maxLambdaFlips'];

/**
 * Typed thresholds of the release gates. The metric gates together become one CloudWatch alarm that CodeDeploy
 * watches (its value a gate code naming the gates that breached); the probe gates (`maxDeltaS`, `maxDeltaSDrift`, `minCoverage`, `maxLambdaFlips`) tune the
 * alias's ΔS probe.
 */
export interface GateThresholds extends ProbeGateThresholds {
  /**
   * Largest allowed error rate of the new version minus that of the control, as a fraction
   * (0.0005 = 0.05 percentage points, the seeds' "5xx delta ≤ 0.05 pp").
   * @default 0.0005
   */
  readonly maxErrorRateDelta?: number;
  /**
   * Largest allowed p95 duration of the new version over that of the control (1.10 = 10 % slower).
   * @default 1.10
   */
  readonly maxP95Ratio?: number;
  /**
   * Largest allowed absolute error rate of the new version, as a fraction.
   * @default 0.01
   */
  readonly maxErrorRate?: number;
  /**
   * Fewest invocations of the new version in a minute for the metric gate alarms (`maxErrorRateDelta`,
   * `maxErrorRate`, `maxP95Ratio`) to judge that minute; the delta and the p95 ratio, which compare the new
   * version with the control, also need as many of the control. A
   * minute with fewer reads as 0 in the alarms' metric math: not breaching, because it cannot be judged. See
   * `DEFAULT_MIN_INVOCATIONS_PER_MINUTE` for the arithmetic behind the default. `1` judges every minute with
   * any canary traffic (the behaviour before this guard).
   * @default 100
   */
  readonly minInvocationsPerMinute?: number;
  /**
   * Largest allowed share of the new version's invocations that start cold, 0..1, from the runtime's
   * `withRelease` telemetry (warm pings excluded). A gate of GuardedAlias's `warmup`: it needs one.
   * @default 0.05 with a warm-up
   */
  readonly maxColdStartShare?: number;
}

/** The cold-start gate's default (the seeds' "cold-start share ≤ 5 % after warm-up"). */
export const DEFAULT_MAX_COLD_START_SHARE = 0.05;

/** The metric gates: the thresholds that become CloudWatch alarms. */
export type MetricGateThresholds = Pick<GateThresholds, 'maxErrorRateDelta' | 'maxP95Ratio' | 'maxErrorRate'>;

/** The metric gates' thresholds in force, defaults filled in. */
export interface MetricGateThresholdValues {
  /** Largest allowed canary-minus-control error rate in a judged minute. */
  readonly maxErrorRateDelta: number;
  /** Largest allowed canary over control p95 duration in a judged minute. */
  readonly maxP95Ratio: number;
  /** Largest allowed canary error rate in a judged minute. */
  readonly maxErrorRate: number;
}

/** The defaults: the field guides' acceptance targets. */
export const DEFAULT_GATE_THRESHOLDS: MetricGateThresholdValues = {
  maxErrorRateDelta: 0.0005,
  maxP95Ratio: 1.10,
  maxErrorRate: 0.01,
};

/**
 * The default of `minInvocationsPerMinute`: the gate alarms judge a minute only when the new version served at
 * least 100 invocations in it (and, for the delta and the p95 ratio, the control too).
 *
 * Why 100. With N canary invocations in a minute, one error is an error rate of 1/N:
 * - `maxErrorRate` (1 %, alarm on > 0.01): one error breaches in every minute of fewer than 100 invocations,
 *   and not from 100 on (1/100 = 0.01 is not above 0.01); two errors in 100 do. That is the blue-green hold's
 *   rule too (`BlueGreenStopRules.minInvocations`, 100: below it one error is noise, not a rate). The hold also
 *   reads these alarms, so a lower guard here would overrule that rule; with the defaults the two agree.
 * - `maxP95Ratio`: the p95 of 100 samples is the 95th: it takes 6 slow calls to move it, not one cold start.
 *   (Below 20 samples the p95 is the single slowest call: nearest rank ceil(0.95 × N) = N for N < 20.) AWS
 *   calls a p95 alarm's sample low below 10 / (1 − 0.95) = 200 ("Percentile-based alarms and low data
 *   samples", https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html).
 * - `maxErrorRateDelta` (0.05 pp, alarm on > 0.0005): one canary error stays decisive below
 *   1 / (control rate + 0.0005) canary invocations a minute, 2,000 with a clean control. A 0.05 pp difference
 *   in one minute is a statistic of thousands of calls; a guard of 2,000 would blind every gate below 33
 *   canary requests a second (3,333 a second on the alias at a 1 % step). So this guard does not make the
 *   delta quiet at modest traffic; what it does is judge the delta only with a control to compare with (so not
 *   at 100 %, where the absolute gate judges alone). The staged strategy's own gate judges each step over its
 *   whole bake window, which suits a 0.05 pp threshold better than any single minute.
 * The cost: the alarms judge nothing below 100 canary calls a minute (1.7 a second on the new version): a 1 %
 * step needs 167 requests a second on the alias, 5 % 33, 25 % 6.7, 50 % 3.3, 100 % 1.7. Lower it to judge
 * quieter minutes (20 still keeps the p95 off a single slow call), accepting that one error in a judged minute
 * then breaches both error gates.
 *
 * An unjudged minute is 0 in the alarm's metric math, below every threshold, so the alarm goes (or stays) OK.
 * Missing data (no datapoint of any input in the evaluation range: no traffic at all) is treated as not
 * breaching for the same reason: nothing to judge is no reason to roll back. `breaching` would roll back idle
 * services; `ignore` would keep an ALARM from an earlier release across idle minutes into the next deployment
 * (PutMetricAlarm leaves an updated alarm's state unchanged); `missing` leaves INSUFFICIENT_DATA, which
 * CodeDeploy does not act on either and which says less on the dashboard.
 */
export const DEFAULT_MIN_INVOCATIONS_PER_MINUTE = 100;

/** How many one-minute datapoints must breach before a gate alarm fires. */
export const GATE_DATAPOINTS_TO_ALARM = 1;

/**
 * CloudWatch evaluates an alarm whose period is a minute or longer once a minute, on datapoints that are
 * complete; this is the longest a complete breaching datapoint can wait for that evaluation.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html
 */
export const ALARM_EVALUATION_INTERVAL = Duration.minutes(1);

/** The bound the gates are built to: from a breach to the alarm CodeDeploy watches. */
export const MAX_DETECTION_TIME = Duration.minutes(2);

/**
 * The worst-case time from the start of a breach to the gate alarm being in ALARM:
 * `datapointsToAlarm × period` (the breaching datapoints must be complete) plus one alarm evaluation
 * interval. With one-minute datapoints and one datapoint to alarm this is 2 minutes. CodeDeploy then stops
 * the deployment at its next poll of the alarm, which AWS does not document.
 */
export function worstCaseDetectionTime(period: Duration = GATE_PERIOD, datapointsToAlarm = GATE_DATAPOINTS_TO_ALARM): Duration {
  return Duration.seconds(period.toSeconds() * datapointsToAlarm + ALARM_EVALUATION_INTERVAL.toSeconds());
}

/** The largest `minInvocationsPerMinute` accepted: a guard no alias reaches would switch the gates off. */
const MAX_MIN_INVOCATIONS_PER_MINUTE = 1_000_000;

/** Problems with gate thresholds, each naming the prop (`<prefix>.<name>`) and quoting the value. */
export function validateGateThresholds(gates: GateThresholds | undefined, prefix = 'gates'): string[] {
  if (gates === undefined) return [];
  const problems = new PropProblems();
  if (typeof gates !== 'object' || gates === null) {
    problems.add(prefix, 'an object of thresholds', gates);
    return [...problems.messages];
  }
  const known = new Set<string>([...Object.keys(DEFAULT_GATE_THRESHOLDS), 'minInvocationsPerMinute', 'maxColdStartShare', ...PROBE_GATE_NAMES]);
  for (const key of Object.keys(gates)) {
    if (!known.has(key)) problems.add(`${prefix}.${key}`, `one of ${[...known].join(', ')} (unknown gate)`, key);
  }
  problems.number(`${prefix}.maxErrorRateDelta`, gates.maxErrorRateDelta, { min: 0, max: 1, maxInclusive: false });
  problems.number(`${prefix}.maxP95Ratio`, gates.maxP95Ratio, { min: 1, max: 100 });
  problems.number(`${prefix}.maxErrorRate`, gates.maxErrorRate, { min: 0, max: 1, minInclusive: false, maxInclusive: false });
  if (Token.isUnresolved(gates.minInvocationsPerMinute)) {
    problems.add(`${prefix}.minInvocationsPerMinute`, 'a number known at synth (it is written into the alarms\' metric math)', new Described('<token>'));
  } else {
    problems.integer(`${prefix}.minInvocationsPerMinute`, gates.minInvocationsPerMinute, 1, MAX_MIN_INVOCATIONS_PER_MINUTE);
  }
  problems.number(`${prefix}.maxColdStartShare`, gates.maxColdStartShare, { min: 0, max: 1, maxInclusive: false });
  problems.number(`${prefix}.maxDeltaS`, gates.maxDeltaS, { min: 0, max: 2 });
  problems.number(`${prefix}.maxDeltaSDrift`, gates.maxDeltaSDrift, { min: -2, max: 2 });
  problems.number(`${prefix}.minCoverage`, gates.minCoverage, { min: 0, max: 1 });
  problems.integer(`${prefix}.maxLambdaFlips`, gates.maxLambdaFlips, 0, 100_000);
  return [...problems.messages];
}

/** Properties of `ReleaseGates`. */
export interface ReleaseGatesProps {
  /** The canary and control metrics the gates read. */
  readonly metrics: CanaryMetrics;
  /**
   * The thresholds; a threshold left out takes its default.
   * @default DEFAULT_GATE_THRESHOLDS
   */
  readonly thresholds?: GateThresholds;
}

/** AlarmDescription holds at most 1,024 characters (PutMetricAlarm; docs/aws-behaviour.md CW-10). */
const MAX_ALARM_DESCRIPTION = 1024;

/**
 * Typed gate thresholds rendered into ONE CloudWatch alarm that compares the new version with the control on
 * all three metric gates (`maxErrorRateDelta`, `maxP95Ratio`, `maxErrorRate`).
 *
 * The alarm's metric math yields a gate code in each minute: the sum of 1 (error rate delta), 2 (p95 ratio)
 * and 4 (error rate) over the gates that breach, so that 0 is "no gate breached" and, say, 5 is "the delta
 * and the error rate". It alarms at a code of 1 or more, so it is in ALARM exactly when one of the three
 * gates' own alarms would have been: each gate's term is the comparison its alarm made (guarded metric above
 * threshold) on the same metric. The rest is as it was for each gate: one-minute period, one datapoint to
 * alarm, missing data not breaching, and the minimum-sample guard (a minute with fewer than
 * `minInvocationsPerMinute` canary invocations, for the delta and the p95 ratio canary or control, cannot be
 * judged and reads as 0 for that gate; see `DEFAULT_MIN_INVOCATIONS_PER_MINUTE`). Which gate fired stays
 * visible: CloudWatch's notification carries the breaching value (the code) in its `NewStateReason` and the
 * alarm's description spells the codes out; `metricGateBreach()` graphs each gate on its own.
 *
 * One alarm rather than three keeps a GuardedAlias at 4 resources of its own (version, alias, deployment group,
 * gate alarm), so that a stack holds 60 and more guarded functions under CloudFormation's 500 resources.
 */
export class ReleaseGates extends Construct {
  /** How many alarms the gates add to a deployment group: one, whatever the thresholds. */
  public static readonly ALARM_COUNT = 1;

  /** A gate's code in the gate alarm's value: 1 `maxErrorRateDelta`, 2 `maxP95Ratio`, 4 `maxErrorRate`. */
  public static codeOf(gate: MetricGate): number {
    const i = Object.values(MetricGate).indexOf(gate);
    if (i < 0) throw new Error(`ReleaseGates.codeOf: expected one of ${Object.values(MetricGate).join(', ')}, got: ${JSON.stringify(gate)}`);
    return 2 ** i;
  }

  /** The gates that a gate code (the alarm's value in a minute, 0 to 7) says breached, in code order. */
  public static gatesOf(code: number): MetricGate[] {
    if (!Number.isInteger(code) || code < 0 || code > 7) throw new Error(`ReleaseGates.gatesOf: expected a gate code, an integer from 0 to 7, got: ${String(code)}`);
    return Object.values(MetricGate).filter((gate) => (code & ReleaseGates.codeOf(gate)) !== 0);
  }

  /** The metric thresholds in force, defaults filled in. */
  public readonly thresholds: MetricGateThresholdValues;
  /**
   * The one gate alarm: in ALARM while any metric gate breaches; its value is the gate code (see `codeOf`).
   * It replaces the three alarms of earlier versions (`errorRateDeltaAlarm`, `p95RatioAlarm`, `errorRateAlarm`).
   */
  public readonly alarm: cloudwatch.Alarm;
  /** Fewest canary invocations in a minute for the alarms to judge it (see `GateThresholds.minInvocationsPerMinute`). */
  public readonly minInvocationsPerMinute: number;
  /** Worst-case time from a breach to an alarm (see `worstCaseDetectionTime()`). */
  public readonly worstCaseDetectionTime: Duration;

  private readonly metrics: CanaryMetrics;

  constructor(scope: Construct, id: string, props: ReleaseGatesProps) {
    super(scope, id);
    const problems = new PropProblems();
    problems.addAll(validateGateThresholds(props.thresholds));
    problems.throwIfAny(`ReleaseGates '${this.node.path}'`);

    const given = stripUndefined(props.thresholds ?? {});
    this.thresholds = {
      maxErrorRateDelta: given.maxErrorRateDelta ?? DEFAULT_GATE_THRESHOLDS.maxErrorRateDelta,
      maxP95Ratio: given.maxP95Ratio ?? DEFAULT_GATE_THRESHOLDS.maxP95Ratio,
      maxErrorRate: given.maxErrorRate ?? DEFAULT_GATE_THRESHOLDS.maxErrorRate,
    };
    this.minInvocationsPerMinute = given.minInvocationsPerMinute ?? DEFAULT_MIN_INVOCATIONS_PER_MINUTE;
    this.metrics = props.metrics;
    const t = this.thresholds;
    const min = this.minInvocationsPerMinute;
    const what: Record<MetricGate, string> = {
      [MetricGate.MAX_ERROR_RATE_DELTA]: `error rate of the new version minus the control's > ${t.maxErrorRateDelta}`,
      [MetricGate.MAX_P95_RATIO]: `p95 duration of the new version > ${t.maxP95Ratio}x the control's`,
      [MetricGate.MAX_ERROR_RATE]: `error rate of the new version > ${t.maxErrorRate}`,
    };
    const description = 'Release gates. The value is a gate code, the sum of the gates that breached in a minute: '
      + ReleaseGates.gatesOf(7).map((gate) => `${ReleaseGates.codeOf(gate)} ${gate} (${what[gate]})`).join(', ')
      + `; e.g. 5 = ${MetricGate.MAX_ERROR_RATE_DELTA} and ${MetricGate.MAX_ERROR_RATE}. A gate judges a minute only with at least ${min} invocations of the new version`
      + ` (for ${MetricGate.MAX_ERROR_RATE_DELTA} and ${MetricGate.MAX_P95_RATIO}, of the control too); fewer cannot be judged and do not breach.`
      + ' CodeDeploy rolls the deployment back while this alarm is in ALARM.';
    if (description.length > MAX_ALARM_DESCRIPTION) throw new Error(`ReleaseGates '${this.node.path}': the alarm description is ${description.length} characters, over CloudWatch's ${MAX_ALARM_DESCRIPTION}`);
    this.alarm = gateAlarm(this, 'Alarm', {
      metric: this.metricGateCode(),
      // A code of 1 or more: at least one gate breached.
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      datapoints: GATE_DATAPOINTS_TO_ALARM,
      description,
    });
    this.worstCaseDetectionTime = worstCaseDetectionTime();
  }

  /** Every gate alarm, in a fixed order: the one alarm of the three metric gates. */
  public get alarms(): cloudwatch.Alarm[] {
    return [this.alarm];
  }

  /** The gate alarm's metric: the gate code in each minute (0 when no gate breached; see `codeOf`). */
  public metricGateCode(options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return this.metrics.gateCode(this.limits(), options);
  }

  /** 1 in a minute where `gate` breached (its guarded metric above its threshold), else 0. */
  public metricGateBreach(gate: MetricGate, options?: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return this.metrics.gateBreach(gate, this.limits(), options);
  }

  private limits() {
    return { ...this.thresholds, minInvocationsPerMinute: this.minInvocationsPerMinute };
  }
}

function stripUndefined<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
