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

  /** A metric of the new version's share of the alias's traffic. */
  public canaryMetric(metricName: string, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.aliasMetric(metricName, {
      ...options,
      dimensionsMap: { ExecutedVersion: this.props.canaryVersion, ...options.dimensionsMap },
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
