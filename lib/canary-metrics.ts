import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/** Lambda metrics come at one-minute resolution; the gates read them a minute at a time. */
export const GATE_PERIOD = Duration.minutes(1);

/** Where the metrics of one alias, and of the new version behind it, are published. */
export interface CanaryMetricsProps {
  /** The function's name (a name, never an ARN: see aws-cdk issue 2231). */
  readonly functionName: string;
  /** The alias's name. */
  readonly aliasName: string;
  /** The version number of the new (canary) version, e.g. `version.version`. */
  readonly canaryVersion: string;
  /**
   * The version number of the control: the version the alias served before this deployment. GuardedAlias
   * reads it at deploy time with a custom resource.
   * @default - the control's p95 is read over the whole alias (see `controlP95()`)
   */
  readonly controlVersion?: string;
  /**
   * Sticky cohorts (`RolloutStrategy.staged({ stickyCohorts })`): the alias that serves the new version. The canary's
   * metrics are read under it, and the control's counts are the live alias's less the canary alias's (every request
   * of the cohort entered through the live alias and was forwarded). The control's p95 stays the live alias's, which
   * includes each forward's wait: the p95 gate of the alarm is lenient in this mode, and the staged gate function
   * judges the p95 at each check from the release telemetry of both versions instead.
   * @default - the live alias's weights carry the canary (its `ExecutedVersion` series)
   */
  readonly canaryAlias?: string;
}

/**
 * Canary-versus-control metrics of a Lambda alias.
 *
 * Lambda publishes an alias's metrics with the dimensions `FunctionName` and `Resource = <function>:<alias>`,
 * and, per version that served the request, the same plus `ExecutedVersion`. The canary is the new version's
 * `ExecutedVersion` series. The control's counts are the alias totals minus the canary's, which needs no
 * version number; its p95 cannot be derived that way, so it is read by the control's own `ExecutedVersion`
 * when `controlVersion` is known.
 *
 * @see https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
 */
export class CanaryMetrics {
  constructor(private readonly props: CanaryMetricsProps) {}

  /** The function whose alias these metrics describe. */
  public get functionName(): string {
    return this.props.functionName;
  }

  /** A metric of the alias as a whole (every version it routes to). */
  public aliasMetric(metricName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'AWS/Lambda',
      metricName,
      period: GATE_PERIOD,
      ...options,
      dimensionsMap: {
        FunctionName: this.props.functionName,
        Resource: `${this.props.functionName}:${this.props.aliasName}`,
        ...options.dimensionsMap,
      },
    });
  }

  /** A metric of the new version's share of the alias's traffic (under sticky cohorts, of the canary alias). */
  public canaryMetric(metricName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    const canaryAlias: Record<string, string> = this.props.canaryAlias === undefined ? {} : { Resource: `${this.props.functionName}:${this.props.canaryAlias}` };
    return this.aliasMetric(metricName, {
      ...options,
      dimensionsMap: { ...canaryAlias, ExecutedVersion: this.props.canaryVersion, ...options.dimensionsMap },
    });
  }

  /** Error rate (0..1) of the whole alias; 0 in a minute without invocations. */
  public errorRate(options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    return rate(this.aliasMetric('Errors', { statistic: 'Sum' }), this.aliasMetric('Invocations', { statistic: 'Sum' }), 'Error rate (alias)', options);
  }

  /** Error rate (0..1) of the new version; 0 in a minute without invocations. */
  public canaryErrorRate(options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    return rate(this.canaryMetric('Errors', { statistic: 'Sum' }), this.canaryMetric('Invocations', { statistic: 'Sum' }), 'Error rate (canary)', options);
  }

  /** Error rate (0..1) of every other version behind the alias: alias totals minus the canary. */
  public controlErrorRate(options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    return this.countExpression(CONTROL_RATE, 'Error rate (control)', options);
  }

  /** Canary error rate minus control error rate, in 0..1 (0.0005 is 0.05 percentage points). */
  public errorRateDelta(options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    // One expression over four metrics (rather than nested expressions) keeps the alarm at five entries.
    return this.countExpression(`(${CANARY_RATE}) - (${CONTROL_RATE})`, 'Error rate delta (canary - control)', options);
  }

  /** p95 duration of the new version, in milliseconds. */
  public canaryP95(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.canaryMetric('Duration', { statistic: 'p95', label: 'p95 duration (canary)', ...options });
  }

  /**
   * p95 duration of the control, in milliseconds: the `controlVersion`'s own series when it is known.
   *
   * Without it the p95 is read over the whole alias. Percentiles cannot be subtracted the way counts can;
   * while the canary holds a small share the alias's p95 is the control's to within that share, but as the
   * canary grows the ratio tends to 1 and the gate becomes lenient.
   */
  public controlP95(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    if (this.props.controlVersion !== undefined) {
      return this.aliasMetric('Duration', {
        statistic: 'p95',
        label: 'p95 duration (control)',
        ...options,
        dimensionsMap: { ExecutedVersion: this.props.controlVersion, ...options.dimensionsMap },
      });
    }
    return this.aliasMetric('Duration', { statistic: 'p95', label: 'p95 duration (alias)', ...options });
  }

  /** p95 duration of the new version over that of the control; 0 in a minute without control data. */
  public p95Ratio(options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'IF(control > 0, canary / control, 0)',
      usingMetrics: { canary: this.canaryP95(), control: this.controlP95() },
      label: 'p95 ratio (canary / control)',
      period: GATE_PERIOD,
      ...options,
    });
  }

  /** An expression over the alias's and the canary's error and invocation counts (ae, ai, ce, ci). */
  private countExpression(expression: string, label: string, options: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression,
      usingMetrics: {
        ae: this.aliasMetric('Errors', { statistic: 'Sum' }),
        ai: this.aliasMetric('Invocations', { statistic: 'Sum' }),
        ce: this.canaryMetric('Errors', { statistic: 'Sum' }),
        ci: this.canaryMetric('Invocations', { statistic: 'Sum' }),
      },
      label,
      period: GATE_PERIOD,
      ...options,
    });
  }

  /** Invocations served by the new version. */
  public canaryInvocations(options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.canaryMetric('Invocations', { statistic: 'Sum', ...options });
  }

  /** Invocations served by every other version behind the alias: alias totals minus the canary's. */
  public controlInvocations(options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'FILL(ai, 0) - FILL(ci, 0)',
      usingMetrics: { ai: this.aliasMetric('Invocations', { statistic: 'Sum' }), ci: this.canaryInvocations() },
      label: 'Invocations (control)',
      period: GATE_PERIOD,
      ...options,
    });
  }

  /**
   * The `maxErrorRate` gate's metric: the new version's error rate (0..1) in a minute with at least
   * `minInvocationsPerMinute` canary invocations, and 0 (cannot judge, so not breaching) in any other minute.
   * Without that guard one error among N invocations reads as a rate of 1/N: one error in the one request a
   * 1 % step gets in a minute at 1 request a second is an error rate of 100 %.
   */
  public gateCanaryErrorRate(minInvocationsPerMinute: number, options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: `IF(${enoughSamples(minInvocationsPerMinute, 'ci')}, FILL(ce, 0) / FILL(ci, 0), 0)`,
      usingMetrics: {
        ce: this.canaryMetric('Errors', { statistic: 'Sum' }),
        ci: this.canaryMetric('Invocations', { statistic: 'Sum' }),
      },
      label: `Error rate (canary), judged at >= ${minInvocationsPerMinute} canary invocations/min`,
      period: GATE_PERIOD,
      ...options,
    });
  }

  /**
   * The `maxErrorRateDelta` gate's metric: canary minus control error rate (0..1) in a minute where both the
   * canary and the control (alias minus canary) served at least `minInvocationsPerMinute` invocations, and 0
   * (cannot judge, so not breaching) in any other minute. A delta compares two samples: without a control (all
   * traffic on the new version) it would be the canary's own rate held to the delta's threshold, and the
   * `maxErrorRate` gate judges that minute alone.
   */
  public gateErrorRateDelta(minInvocationsPerMinute: number, options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    // Under the guard both sides have invocations; the rates keep their own division guards all the same.
    const enough = `${enoughSamples(minInvocationsPerMinute, 'ci')} AND (FILL(ai, 0) - FILL(ci, 0)) >= ${minInvocationsPerMinute}`;
    return this.countExpression(`IF(${enough}, FILL(ce, 0) / FILL(ci, 0) - (${CONTROL_RATE}), 0)`,
      `Error rate delta (canary - control), judged at >= ${minInvocationsPerMinute} invocations/min each`, options);
  }

  /**
   * The `maxP95Ratio` gate's metric: canary over control p95 in a minute where both the canary and the control
   * served at least `minInvocationsPerMinute` invocations (a p95 of fewer than 20 samples is the slowest of
   * them: one slow call sets it), and 0 (cannot judge, so not breaching) in any other minute or without control
   * data. Without `controlVersion` the control's p95 is the alias's, over all its invocations.
   */
  public gateP95Ratio(minInvocationsPerMinute: number, options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    const enough = this.props.controlVersion !== undefined
      ? `${enoughSamples(minInvocationsPerMinute, 'ci')} AND (FILL(ai, 0) - FILL(ci, 0)) >= ${minInvocationsPerMinute}`
      : enoughSamples(minInvocationsPerMinute, 'ci');
    return new cloudwatch.MathExpression({
      expression: `IF(${enough} AND control > 0, canary / control, 0)`,
      usingMetrics: {
        canary: this.canaryP95(),
        control: this.controlP95(),
        ci: this.canaryMetric('Invocations', { statistic: 'Sum' }),
        ...(this.props.controlVersion !== undefined ? { ai: this.aliasMetric('Invocations', { statistic: 'Sum' }) } : {}),
      },
      label: `p95 ratio (canary / control), judged at >= ${minInvocationsPerMinute} invocations/min each`,
      period: GATE_PERIOD,
      ...options,
    });
  }

  /**
   * 1 in a minute where `gate` breaches, else 0: the gate's metric (`gateErrorRateDelta`, `gateP95Ratio` or
   * `gateCanaryErrorRate`, guarded by `minInvocationsPerMinute`) above its threshold. A minute the gate cannot
   * judge is 0. The gate alarm's code is the sum of these times each gate's code (`ReleaseGates.codeOf`).
   */
  public gateBreach(gate: MetricGate, limits: MetricGateLimits, options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    const { expression, usingMetrics } = this.gateTerm(gate, limits);
    return new cloudwatch.MathExpression({
      expression: `IF(${expression}, 1, 0)`,
      usingMetrics,
      label: `${gate} breached (1) in a minute`,
      period: GATE_PERIOD,
      ...options,
    });
  }

  /**
   * The gate alarm's metric: in each minute, the sum of the codes of the gates that breach (1
   * `maxErrorRateDelta`, 2 `maxP95Ratio`, 4 `maxErrorRate`), 0 when none does or the minute cannot be judged.
   * One expression over at most six metrics (the alias's and the canary's error and invocation counts, the
   * canary's and the control's p95), within CloudWatch's 10 metrics per alarm. Each gate's term is the same
   * comparison its own alarm made (`gate metric > threshold`), on the same guarded metric, so that a gate
   * breaches in exactly the minutes it did; the p95 inputs are filled with 0 so that a minute without a
   * control p95 is a 0 for that gate (not breaching, as before) rather than a missing datapoint for all three.
   */
  public gateCode(limits: MetricGateLimits, options: cloudwatch.MathExpressionOptions = {}): cloudwatch.MathExpression {
    const usingMetrics: Record<string, cloudwatch.IMetric> = {};
    const terms = METRIC_GATES.map((gate) => {
      const term = this.gateTerm(gate, limits);
      Object.assign(usingMetrics, term.usingMetrics);
      return `IF(${term.expression}, ${gateCodeOf(gate)}, 0)`;
    });
    return new cloudwatch.MathExpression({
      expression: terms.join(' + '),
      usingMetrics,
      label: 'Gate code: 1 error rate delta + 2 p95 ratio + 4 error rate (the gates that breached)',
      period: GATE_PERIOD,
      ...options,
    });
  }

  /** A gate's breach condition (its guarded metric above its threshold) and the metrics it reads. */
  private gateTerm(gate: MetricGate, limits: MetricGateLimits): { expression: string; usingMetrics: Record<string, cloudwatch.IMetric> } {
    const min = limits.minInvocationsPerMinute;
    let metric: cloudwatch.MathExpression;
    let threshold: number;
    switch (gate) {
      case MetricGate.MAX_ERROR_RATE_DELTA:
        metric = this.gateErrorRateDelta(min);
        threshold = limits.maxErrorRateDelta;
        break;
      case MetricGate.MAX_P95_RATIO: {
        // The gate's own expression with the p95 inputs filled: a missing control p95 fails the guard (0, not
        // breaching, as the missing datapoint did), and a missing canary p95 is a ratio of 0 (as IF gives it).
        const own = this.gateP95Ratio(min);
        metric = new cloudwatch.MathExpression({
          expression: own.expression.replace(' AND control > 0, canary / control, 0)', ' AND FILL(control, 0) > 0, FILL(canary, 0) / FILL(control, 0), 0)'),
          usingMetrics: own.usingMetrics,
          period: GATE_PERIOD,
        });
        if (metric.expression === own.expression) throw new Error('CanaryMetrics: the p95 gate\'s expression changed shape; update gateTerm');
        threshold = limits.maxP95Ratio;
        break;
      }
      case MetricGate.MAX_ERROR_RATE:
        metric = this.gateCanaryErrorRate(min);
        threshold = limits.maxErrorRate;
        break;
      default:
        throw new Error(`CanaryMetrics: expected one of ${METRIC_GATES.join(', ')}, got: ${JSON.stringify(gate)}`);
    }
    return { expression: `${metric.expression} > ${decimal(threshold)}`, usingMetrics: metric.usingMetrics };
  }
}

/**
 * A threshold as metric math reads it: plain decimal notation, never JavaScript's exponent form (1e-7), which
 * the metric-math syntax does not list.
 */
function decimal(n: number): string {
  if (typeof n !== 'number' || !Number.isFinite(n) || Token.isUnresolved(n)) throw new Error(`CanaryMetrics: a gate threshold must be a finite number known at synth, got: ${String(n)}`);
  const plain = String(n);
  if (!/e/i.test(plain)) return plain;
  return n.toFixed(20).replace(/\.?0+$/, '');
}

/** The metric gates, each a bit of the gate alarm's code. */
export enum MetricGate {
  /** Canary minus control error rate above `maxErrorRateDelta`: code 1. */
  MAX_ERROR_RATE_DELTA = 'maxErrorRateDelta',
  /** Canary over control p95 duration above `maxP95Ratio`: code 2. */
  MAX_P95_RATIO = 'maxP95Ratio',
  /** Canary error rate above `maxErrorRate`: code 4. */
  MAX_ERROR_RATE = 'maxErrorRate',
}

/** Every metric gate, in the order of their codes (1, 2, 4): the enum's own order. */
const METRIC_GATES: ReadonlyArray<MetricGate> = Object.values(MetricGate);

/** A gate's bit in the gate code: 1, 2 or 4 (`ReleaseGates.codeOf`). */
function gateCodeOf(gate: MetricGate): number {
  const i = METRIC_GATES.indexOf(gate);
  if (i < 0) throw new Error(`expected one of ${METRIC_GATES.join(', ')}, got: ${JSON.stringify(gate)}`);
  return 2 ** i;
}

/** The thresholds and the minimum sample of the metric gates, as the gate alarm's metric math takes them. */
export interface MetricGateLimits {
  /** Largest allowed canary minus control error rate (0..1). */
  readonly maxErrorRateDelta: number;
  /** Largest allowed canary over control p95 duration. */
  readonly maxP95Ratio: number;
  /** Largest allowed canary error rate (0..1). */
  readonly maxErrorRate: number;
  /** Fewest invocations in a minute for the gates to judge it (see `GateThresholds.minInvocationsPerMinute`). */
  readonly minInvocationsPerMinute: number;
}

/**
 * The minimum-sample guard of the gates' metric math: the minute holds at least `min` invocations of series
 * `id`. FILL makes a minute without data a 0, so the guard is false there rather than missing. IF, FILL,
 * the comparison operators (`>=`) and the logical operators (`AND`) are documented in "Metric math syntax and
 * functions" and "Using IF expressions":
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 */
function enoughSamples(min: number, id: string): string {
  if (typeof min !== 'number' || !Number.isInteger(min) || min < 1 || Token.isUnresolved(min)) {
    throw new Error(`CanaryMetrics: minInvocationsPerMinute must be an integer of at least 1 known at synth, got: ${Token.isUnresolved(min) ? '<token>' : String(min)}`);
  }
  return `FILL(${id}, 0) >= ${min}`;
}

// FILL turns a missing minute into 0 so that a subtraction never meets a gap; IF guards each division.
const CANARY_RATE = 'IF(FILL(ci, 0) > 0, FILL(ce, 0) / FILL(ci, 0), 0)';
const CONTROL_RATE = 'IF(FILL(ai, 0) - FILL(ci, 0) > 0, (FILL(ae, 0) - FILL(ce, 0)) / (FILL(ai, 0) - FILL(ci, 0)), 0)';

function rate(errors: cloudwatch.IMetric, invocations: cloudwatch.IMetric, label: string, options: cloudwatch.MathExpressionOptions): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'IF(FILL(invocations, 0) > 0, FILL(errors, 0) / FILL(invocations, 0), 0)',
    usingMetrics: { errors, invocations },
    label,
    period: GATE_PERIOD,
    ...options,
  });
}
