import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CanaryMetrics, DEFAULT_MIN_INVOCATIONS_PER_MINUTE, GuardedAlias, MetricGate, ReleaseGates, RolloutStrategy } from '../lib';
import { testFunction, testStack } from './util';

/**
 * One minute of an alias's Lambda metrics, by meaning: what the alias served in all, and what the new
 * version (the canary) served. Undefined is a missing datapoint, as CloudWatch has none without traffic.
 */
interface Minute {
  readonly aliasInvocations?: number;
  readonly aliasErrors?: number;
  readonly canaryInvocations?: number;
  readonly canaryErrors?: number;
  /** p95 Duration of the canary's and the control's invocations in that minute, ms. */
  readonly canaryP95?: number;
  readonly controlP95?: number;
}

const CANARY_VERSION = '7';

/**
 * Which field of a Minute a synthesized metric query reads: by its metric name, statistic and whether its
 * ExecutedVersion is the canary's, so that the test does not depend on the queries' ids.
 */
function fieldOf(stat: any): keyof Minute {
  const executed = (stat.Metric.Dimensions as Array<{ Name: string; Value: unknown }>).find((d) => d.Name === 'ExecutedVersion');
  const canary = executed !== undefined && executed.Value === CANARY_VERSION;
  const name = stat.Metric.MetricName;
  if (name === 'Invocations' && stat.Stat === 'Sum') return canary ? 'canaryInvocations' : 'aliasInvocations';
  if (name === 'Errors' && stat.Stat === 'Sum') return canary ? 'canaryErrors' : 'aliasErrors';
  if (name === 'Duration' && stat.Stat === 'p95') return canary ? 'canaryP95' : 'controlP95';
  throw new Error(`unexpected metric in a gate alarm: ${JSON.stringify(stat)}`);
}

/**
 * Evaluates a gate alarm's metric math for one minute with CloudWatch's documented semantics for what the gates
 * use (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html): FILL(x, v)
 * replaces a missing x; IF(c, a, b) picks per datapoint, and is 0 where c holds and a has no value; the
 * comparison operators give 1 or 0; AND is the logical and; a division by zero drops the datapoint.
 * Anything else in an expression fails the test rather than being guessed at.
 */
function evaluate(expression: string, values: Record<string, number | undefined>): number | undefined {
  const tokens = expression.match(/[A-Za-z_][A-Za-z0-9_]*|\d+(\.\d+)?|>=|<=|==|!=|[-+*/(),<>]|\s+/g)?.join('') ?? '';
  if (tokens !== expression) throw new Error(`the evaluator does not know every token of: ${expression}`);
  for (const word of expression.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    if (!['IF', 'FILL', 'AND'].includes(word) && !(word in values)) throw new Error(`unknown name ${word} in: ${expression}`);
  }
  const IF = (c: unknown, a: number | undefined, b: number | undefined) => {
    if (c === undefined) return undefined;
    if (!c) return b;
    return a === undefined || Number.isNaN(a) ? 0 : a;
  };
  const FILL = (x: number | undefined, v: number) => (x === undefined ? v : x);
  const js = expression.replace(/\bAND\b/g, '&&').replace(/\b([a-z][A-Za-z0-9_]*)\b/g, (_, id) => `v.${id}`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const result = new Function('IF', 'FILL', 'v', `return (${js});`)(IF, FILL, values);
  return typeof result === 'number' && Number.isFinite(result) ? result : undefined;
}

/** A synthesized gate alarm, judged one minute at a time the way CloudWatch judges its one datapoint. */
class SynthesizedAlarm {
  public readonly expression: string;
  public readonly threshold: number;
  private readonly fields: Record<string, keyof Minute>;

  constructor(public readonly props: any) {
    expect(['GreaterThanThreshold', 'GreaterThanOrEqualToThreshold']).toContain(props.ComparisonOperator);
    expect(props.EvaluationPeriods).toBe(1);
    expect(props.DatapointsToAlarm).toBe(1);
    const returned = props.Metrics.filter((m: any) => m.ReturnData !== false);
    expect(returned).toHaveLength(1);
    this.expression = returned[0].Expression;
    this.threshold = props.Threshold;
    this.fields = Object.fromEntries(props.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, fieldOf(m.MetricStat)]));
  }

  /** The expression's value in that minute; undefined when it has no datapoint. */
  public value(minute: Minute): number | undefined {
    return this.evaluate(this.expression, minute);
  }

  /** Another expression over this alarm's metrics, in that minute. */
  public evaluate(expression: string, minute: Minute): number | undefined {
    return evaluate(expression, Object.fromEntries(Object.entries(this.fields).map(([id, field]) => [id, minute[field]])));
  }

  /** Whether that minute's datapoint breaches: a missing one is judged by the alarm's treatMissingData. */
  public breaches(minute: Minute): boolean {
    const value = this.value(minute);
    if (value === undefined) return this.props.TreatMissingData === 'breaching';
    return this.props.ComparisonOperator === 'GreaterThanOrEqualToThreshold' ? value >= this.threshold : value > this.threshold;
  }
}

/**
 * One gate as the synthesized gate alarm judges it: the gate breaches in a minute where the alarm's value (the
 * gate code) has the gate's bit. `expression` and `value` are the gate's own guarded metric (what its alarm
 * watched before the three were merged), and every judgement checks that the bit is set exactly when that
 * metric is above the gate's threshold (a missing value: not breaching, as its alarm treated missing data).
 */
class GateView {
  constructor(public readonly alarm: SynthesizedAlarm, private readonly gate: MetricGate, public readonly expression: string, private readonly threshold: number) {}

  public get props(): any {
    return this.alarm.props;
  }

  public value(minute: Minute): number | undefined {
    return this.alarm.evaluate(this.expression, minute);
  }

  public breaches(minute: Minute): boolean {
    const code = this.alarm.value(minute);
    const own = this.value(minute);
    expect(code).toBeDefined();
    const breached = (code! & ReleaseGates.codeOf(this.gate)) !== 0;
    expect(breached).toBe(own !== undefined && own > this.threshold);
    // The alarm is in ALARM exactly when some gate breaches.
    expect(this.alarm.breaches(minute)).toBe(code! >= 1);
    return breached;
  }
}

function alarmsOf(stack: Stack, gates: ReleaseGates, metrics: CanaryMetrics) {
  const resources = Template.fromStack(stack).toJSON().Resources;
  const alarm = new SynthesizedAlarm(resources[stack.getLogicalId(gates.alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties);
  const min = gates.minInvocationsPerMinute;
  const t = gates.thresholds;
  return {
    errorRateDelta: new GateView(alarm, MetricGate.MAX_ERROR_RATE_DELTA, metrics.gateErrorRateDelta(min).expression, t.maxErrorRateDelta),
    errorRate: new GateView(alarm, MetricGate.MAX_ERROR_RATE, metrics.gateCanaryErrorRate(min).expression, t.maxErrorRate),
    p95Ratio: new GateView(alarm, MetricGate.MAX_P95_RATIO, metrics.gateP95Ratio(min).expression, t.maxP95Ratio),
  };
}

/** ReleaseGates on an alias whose control version is known, as GuardedAlias builds them. */
function gatesStack(thresholds?: ConstructorParameters<typeof ReleaseGates>[2]['thresholds']) {
  const stack = testStack();
  const metrics = new CanaryMetrics({ functionName: 'answer', aliasName: 'live', canaryVersion: CANARY_VERSION, controlVersion: '6' });
  const gates = new ReleaseGates(stack, 'Gates', { metrics, thresholds });
  return { stack, metrics, gates, alarms: alarmsOf(stack, gates, metrics) };
}

/** The same metric math as the alarms, without the guard: what the gates judged before it. */
function unguarded(metrics: CanaryMetrics) {
  const stack = testStack();
  const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number) => new cloudwatch.Alarm(stack, id, {
    metric, threshold, evaluationPeriods: 1, datapointsToAlarm: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const delta = alarm('Delta', metrics.errorRateDelta(), 0.0005);
  const rate = alarm('Rate', metrics.canaryErrorRate(), 0.01);
  const p95 = alarm('P95', metrics.p95Ratio(), 1.1);
  const resources = Template.fromStack(stack).toJSON().Resources;
  const of = (a: cloudwatch.Alarm) => new SynthesizedAlarm(resources[stack.getLogicalId(a.node.defaultChild as cloudwatch.CfnAlarm)].Properties);
  return { errorRateDelta: of(delta), errorRate: of(rate), p95Ratio: of(p95) };
}

/**
 * Ten minutes of an alias at 1 request a second with the new version at 1 %: 60 requests a minute, 0.6 of them
 * on the canary on average. The canary's one request in minute 2 fails; its one request in minute 3 is slow.
 */
const ONE_RPS_AT_ONE_PERCENT: Minute[] = [1, 0, 1, 1, 0, 1, 0, 1, 1, 0].map((canary, i) => ({
  aliasInvocations: 60,
  aliasErrors: i === 2 ? 1 : 0,
  canaryInvocations: canary === 0 ? undefined : canary,
  canaryErrors: canary === 0 ? undefined : i === 2 ? 1 : 0,
  canaryP95: canary === 0 ? undefined : i === 3 ? 900 : 180,
  controlP95: 200,
}));

describe('the gate alarms at low traffic', () => {
  test('carry the minimum-sample guard in every expression, with the default of 100 canary invocations a minute', () => {
    const { alarms } = gatesStack();
    expect(DEFAULT_MIN_INVOCATIONS_PER_MINUTE).toBe(100);
    expect(alarms.errorRate.expression).toBe('IF(FILL(ci, 0) >= 100, FILL(ce, 0) / FILL(ci, 0), 0)');
    // The delta and the p95 ratio compare with the control: they need as many of its invocations (alias minus canary) too.
    expect(alarms.errorRateDelta.expression).toMatch(/^IF\(FILL\(ci, 0\) >= 100 AND \(FILL\(ai, 0\) - FILL\(ci, 0\)\) >= 100, /);
    expect(alarms.p95Ratio.expression).toBe('IF(FILL(ci, 0) >= 100 AND (FILL(ai, 0) - FILL(ci, 0)) >= 100 AND control > 0, canary / control, 0)');
    for (const alarm of Object.values(alarms)) {
      expect(alarm.props.TreatMissingData).toBe('notBreaching');
      expect(alarm.props.AlarmDescription).toContain('fewer cannot be judged and do not breach');
    }
  });

  test('1 request a second at a 1 % step: one failed canary request and one slow one breach no gate (they did without the guard)', () => {
    const { metrics, alarms } = gatesStack();
    for (const minute of ONE_RPS_AT_ONE_PERCENT) {
      expect([alarms.errorRateDelta.breaches(minute), alarms.errorRate.breaches(minute), alarms.p95Ratio.breaches(minute)]).toEqual([false, false, false]);
    }
    // The same minutes through the unguarded expressions: one error in one request is a 100 % error rate,
    // and one slow request is the p95.
    const old = unguarded(metrics);
    expect(old.errorRate.value(ONE_RPS_AT_ONE_PERCENT[2])).toBe(1);
    expect(old.errorRate.breaches(ONE_RPS_AT_ONE_PERCENT[2])).toBe(true);
    expect(old.errorRateDelta.breaches(ONE_RPS_AT_ONE_PERCENT[2])).toBe(true);
    expect(old.p95Ratio.breaches(ONE_RPS_AT_ONE_PERCENT[3])).toBe(true);
  });

  test('a minute the gates cannot judge reads as 0, below every threshold', () => {
    const { alarms } = gatesStack();
    const minute = ONE_RPS_AT_ONE_PERCENT[2];
    expect(alarms.errorRate.value(minute)).toBe(0);
    expect(alarms.errorRateDelta.value(minute)).toBe(0);
    expect(alarms.p95Ratio.value(ONE_RPS_AT_ONE_PERCENT[3])).toBe(0);
    // No traffic at all: nothing to judge, nothing breaches.
    for (const alarm of Object.values(alarms)) expect(alarm.breaches({})).toBe(false);
  });

  test('a real breach with enough samples still breaches: 50 requests a second at a 5 % step, 10 % canary errors, p95 twice the control\'s', () => {
    const { alarms } = gatesStack();
    const minute: Minute = { aliasInvocations: 3000, aliasErrors: 15, canaryInvocations: 150, canaryErrors: 15, canaryP95: 400, controlP95: 200 };
    expect(alarms.errorRate.value(minute)).toBeCloseTo(0.1, 10);
    expect(alarms.errorRateDelta.value(minute)).toBeCloseTo(0.1, 10);
    expect(alarms.p95Ratio.value(minute)).toBeCloseTo(2, 10);
    expect([alarms.errorRateDelta.breaches(minute), alarms.errorRate.breaches(minute), alarms.p95Ratio.breaches(minute)]).toEqual([true, true, true]);
    // A healthy canary in the same minute breaches nothing.
    const healthy: Minute = { aliasInvocations: 3000, aliasErrors: 0, canaryInvocations: 150, canaryErrors: 0, canaryP95: 205, controlP95: 200 };
    expect([alarms.errorRateDelta.breaches(healthy), alarms.errorRate.breaches(healthy), alarms.p95Ratio.breaches(healthy)]).toEqual([false, false, false]);
  });

  test('judges from exactly the minimum: 99 failing canary calls are not judged; in 100, one error is not above 1 %, two are', () => {
    const { alarms } = gatesStack();
    const allFailing: Minute = { aliasInvocations: 9900, aliasErrors: 99, canaryInvocations: 99, canaryErrors: 99 };
    expect(alarms.errorRate.breaches(allFailing)).toBe(false);
    expect(alarms.errorRateDelta.breaches(allFailing)).toBe(false);
    const oneIn100: Minute = { aliasInvocations: 10_000, aliasErrors: 1, canaryInvocations: 100, canaryErrors: 1 };
    expect(alarms.errorRate.value(oneIn100)).toBeCloseTo(0.01, 10);
    expect(alarms.errorRate.breaches(oneIn100)).toBe(false);
    expect(alarms.errorRate.breaches({ ...oneIn100, canaryErrors: 2, aliasErrors: 2 })).toBe(true);
    // The 0.05 pp delta still sees one error in 100 (1 pp): a per-minute delta that small needs 2,000 calls.
    expect(alarms.errorRateDelta.breaches(oneIn100)).toBe(true);
    expect(alarms.errorRateDelta.breaches({ aliasInvocations: 100_000, aliasErrors: 1, canaryInvocations: 2000, canaryErrors: 1 })).toBe(false);
  });

  test('the delta is not judged without a control to compare with: at 100 % the absolute gate judges alone', () => {
    const { alarms } = gatesStack();
    const allOnCanary: Minute = { aliasInvocations: 300, aliasErrors: 1, canaryInvocations: 300, canaryErrors: 1 };
    expect(alarms.errorRateDelta.breaches(allOnCanary)).toBe(false);
    expect(alarms.errorRate.breaches(allOnCanary)).toBe(false);
    expect(alarms.errorRate.breaches({ ...allOnCanary, aliasErrors: 30, canaryErrors: 30 })).toBe(true);
  });

  test('the p95 ratio is not judged on a control of too few invocations either', () => {
    const { alarms } = gatesStack();
    // 90 % on the new version at 110 requests a minute: the control served 10, all fast.
    const lateLinearStep: Minute = { aliasInvocations: 110, canaryInvocations: 100, canaryP95: 300, controlP95: 100 };
    expect(alarms.p95Ratio.breaches(lateLinearStep)).toBe(false);
    expect(alarms.p95Ratio.breaches({ ...lateLinearStep, aliasInvocations: 200 })).toBe(true);
  });

  test('a lower minInvocationsPerMinute judges quieter minutes, where one error is decisive again', () => {
    const { alarms, gates } = gatesStack({ minInvocationsPerMinute: 20 });
    expect(gates.minInvocationsPerMinute).toBe(20);
    for (const alarm of Object.values(alarms)) expect(alarm.expression).toContain('FILL(ci, 0) >= 20');
    const oneIn20: Minute = { aliasInvocations: 2000, aliasErrors: 1, canaryInvocations: 20, canaryErrors: 1, canaryP95: 900, controlP95: 200 };
    expect([alarms.errorRate.breaches(oneIn20), alarms.errorRateDelta.breaches(oneIn20), alarms.p95Ratio.breaches(oneIn20)]).toEqual([true, true, true]);
    expect(alarms.errorRate.breaches({ ...oneIn20, canaryInvocations: 19 })).toBe(false);
  });

  test('keeps every alarm within CloudWatch\'s 10 metrics per metric-math alarm', () => {
    const { alarms } = gatesStack();
    for (const alarm of Object.values(alarms)) expect(alarm.props.Metrics.length).toBeLessThanOrEqual(10);
    // One alarm for the three gates: six metrics (alias and canary errors and invocations, canary and control p95) and the expression.
    expect(alarms.p95Ratio.props.Metrics).toHaveLength(7);
    expect(alarms.p95Ratio.props.Metrics.filter((m: any) => m.MetricStat)).toHaveLength(6);
  });
});

describe('minInvocationsPerMinute', () => {
  test('flows from GuardedAlias gates into its alarms', () => {
    const stack = testStack();
    const ga = new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), strategy: RolloutStrategy.canary(10, Duration.minutes(5)), gates: { minInvocationsPerMinute: 50 } });
    expect(ga.gates.minInvocationsPerMinute).toBe(50);
    const resources = Template.fromStack(stack).toJSON().Resources;
    for (const alarm of ga.gates.alarms) {
      const props = resources[stack.getLogicalId(alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
      expect(props.Metrics.find((m: any) => m.ReturnData !== false).Expression).toContain('FILL(ci, 0) >= 50');
    }
  });

  test.each([
    [0, '0'], [2.5, '2.5'], [-1, '-1'], [1_000_001, '1000001'], ['20', '"20"'],
  ])('rejects %p at synth, naming the prop and the value', (value, shown) => {
    const stack = testStack();
    const metrics = new CanaryMetrics({ functionName: 'answer', aliasName: 'live', canaryVersion: CANARY_VERSION });
    expect(() => new ReleaseGates(stack, 'Gates', { metrics, thresholds: { minInvocationsPerMinute: value as any } })).toThrow(
      `ReleaseGates 'TestStack/Gates' has 1 invalid prop:\n  - gates.minInvocationsPerMinute must be an integer from 1 to 1000000, got: ${shown}`);
    expect(() => new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), gates: { minInvocationsPerMinute: value as any } })).toThrow(
      `gates.minInvocationsPerMinute must be an integer from 1 to 1000000, got: ${shown}`);
  });

  test('rejects a token: it is written into the metric math', () => {
    const stack = testStack();
    const metrics = new CanaryMetrics({ functionName: 'answer', aliasName: 'live', canaryVersion: CANARY_VERSION });
    expect(() => new ReleaseGates(stack, 'Gates', { metrics, thresholds: { minInvocationsPerMinute: Token.asNumber({ Ref: 'Min' }) } })).toThrow(
      'gates.minInvocationsPerMinute must be a number known at synth (it is written into the alarms\' metric math), got: <token>');
  });

  test('CanaryMetrics\' gate metrics refuse a guard that is not a positive integer known at synth', () => {
    const metrics = new CanaryMetrics({ functionName: 'answer', aliasName: 'live', canaryVersion: CANARY_VERSION });
    for (const bad of [0, 1.5, Token.asNumber({ Ref: 'Min' })]) {
      for (const gate of [() => metrics.gateCanaryErrorRate(bad), () => metrics.gateErrorRateDelta(bad), () => metrics.gateP95Ratio(bad)]) {
        expect(gate).toThrow(/^CanaryMetrics: minInvocationsPerMinute must be an integer of at least 1 known at synth, got: (0|1\.5|<token>)$/);
      }
    }
  });

  test('1 judges every minute with canary traffic, as the gates did before the guard', () => {
    const { alarms } = gatesStack({ minInvocationsPerMinute: 1 });
    expect(alarms.errorRate.breaches(ONE_RPS_AT_ONE_PERCENT[2])).toBe(true);
    expect(alarms.errorRate.breaches(ONE_RPS_AT_ONE_PERCENT[1])).toBe(false);
  });
});
