import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CanaryMetrics, DEFAULT_GATE_THRESHOLDS, MetricGate, ReleaseGates, worstCaseDetectionTime } from '../lib';
import { Duration } from 'aws-cdk-lib';
import { testStack } from './util';

/** One minute of Lambda metrics: undefined is a missing datapoint, as CloudWatch has none without traffic. */
interface Minute { ae?: number; ai?: number; ce?: number; ci?: number }

/**
 * Evaluates one of the gates' metric-math expressions for a single minute, with CloudWatch's semantics for
 * the functions they use: FILL(x, v) replaces a missing x, IF(c, a, b) picks per datapoint, and an
 * arithmetic on a missing value is missing.
 */
function evaluate(expression: string, minute: Minute): number | undefined {
  const IF = (c: number | undefined, a: number | undefined, b: number | undefined) => (c === undefined ? undefined : c ? a : b);
  const FILL = (x: number | undefined, v: number) => (x === undefined ? v : x);
  const js = expression.replace(/\b(ae|ai|ce|ci)\b/g, (_, id) => `m.${id}`);
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const result = new Function('IF', 'FILL', 'm', `return (${js});`)(IF, FILL, minute);
  return typeof result === 'number' && !Number.isNaN(result) ? result : undefined;
}

const metrics = new CanaryMetrics({ functionName: 'answer', aliasName: 'live', canaryVersion: '7' });
const deltaExpr = metrics.errorRateDelta().expression;
const controlExpr = metrics.controlErrorRate().expression;

describe('the gates\' metric math', () => {
  test('error rate delta is canary minus control, with the control taken as alias totals minus the canary', () => {
    // 1000 requests, 100 on the canary with 2 errors; the other 900 with 1 error.
    const delta = evaluate(deltaExpr, { ai: 1000, ae: 3, ci: 100, ce: 2 })!;
    expect(delta).toBeCloseTo(2 / 100 - 1 / 900, 10);
    expect(evaluate(controlExpr, { ai: 1000, ae: 3, ci: 100, ce: 2 })).toBeCloseTo(1 / 900, 10);
  });

  test('error rate delta breaches the default gate by 0.05 percentage points, not before', () => {
    const control = { ai: 20000, ae: 20, ci: 10000 }; // control: 10 errors in 10000 = 0.1 %
    expect(evaluate(deltaExpr, { ...control, ce: 15, ae: 25 })!).toBeCloseTo(0.0005, 10); // 0.15 % vs 0.10 %: at the gate
    expect(evaluate(deltaExpr, { ...control, ce: 15, ae: 25 })! > DEFAULT_GATE_THRESHOLDS.maxErrorRateDelta).toBe(false);
    expect(evaluate(deltaExpr, { ...control, ce: 16, ae: 26 })! > DEFAULT_GATE_THRESHOLDS.maxErrorRateDelta).toBe(true);
  });

  test('a minute without canary data is a delta of at most 0, never a division by zero', () => {
    expect(evaluate(deltaExpr, { ai: 500, ae: 5 })).toBeCloseTo(-0.01, 10);
    expect(evaluate(deltaExpr, { ai: 500, ae: 0, ci: 0, ce: 0 })).toBe(0);
  });

  test('all traffic on the canary leaves the control at 0 rather than dividing by zero', () => {
    expect(evaluate(controlExpr, { ai: 100, ae: 4, ci: 100, ce: 4 })).toBe(0);
    expect(evaluate(deltaExpr, { ai: 100, ae: 4, ci: 100, ce: 4 })).toBeCloseTo(0.04, 10);
  });

  test('a minute with no traffic at all is 0, not missing and not breaching', () => {
    expect(evaluate(deltaExpr, {})).toBe(0);
  });

  test('the p95 ratio guards a control without data', () => {
    const ratio = metrics.p95Ratio().expression;
    const evalRatio = (canary?: number, control?: number) => {
      const IF = (c: boolean, a: number, b: number) => (c ? a : b);
      return new Function('IF', 'canary', 'control', `return (${ratio});`)(IF, canary, control);
    };
    expect(evalRatio(220, 200)).toBeCloseTo(1.1, 10);
    expect(evalRatio(220, 0)).toBe(0);
  });
});

describe('ReleaseGates', () => {
  test('renders one alarm for the three gates, its value the gate code: each gate\'s guarded metric above its threshold', () => {
    const stack = testStack();
    const gates = new ReleaseGates(stack, 'Gates', { metrics });
    const t = Template.fromStack(stack);
    const props = t.toJSON().Resources[stack.getLogicalId(gates.alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
    // Each gate judges only minutes with enough canary invocations (DEFAULT_MIN_INVOCATIONS_PER_MINUTE), as its own alarm did.
    const delta = `IF(FILL(ci, 0) >= 100 AND (FILL(ai, 0) - FILL(ci, 0)) >= 100, FILL(ce, 0) / FILL(ci, 0) - (${controlExpr}), 0)`;
    const p95 = 'IF(FILL(ci, 0) >= 100 AND FILL(control, 0) > 0, FILL(canary, 0) / FILL(control, 0), 0)';
    const rate = 'IF(FILL(ci, 0) >= 100, FILL(ce, 0) / FILL(ci, 0), 0)';
    expect(props.Metrics.find((m: any) => m.ReturnData !== false).Expression).toBe(`IF(${delta} > 0.0005, 1, 0) + IF(${p95} > 1.1, 2, 0) + IF(${rate} > 0.01, 4, 0)`);
    expect(props).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    expect(gates.alarms).toEqual([gates.alarm]);
    expect(ReleaseGates.ALARM_COUNT).toBe(gates.alarms.length);
  });

  test('spells the gate codes out in the alarm\'s description (CloudWatch\'s notification carries it and the code), within 1,024 characters', () => {
    const stack = testStack();
    const gates = new ReleaseGates(stack, 'Gates', { metrics, thresholds: { maxErrorRate: 0.02, minInvocationsPerMinute: 50 } });
    const description: string = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(gates.alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties.AlarmDescription;
    expect(description).toContain('1 maxErrorRateDelta (error rate of the new version minus the control\'s > 0.0005), 2 maxP95Ratio (p95 duration of the new version > 1.1x the control\'s), 4 maxErrorRate (error rate of the new version > 0.02)');
    expect(description).toContain('at least 50 invocations');
    expect(description.length).toBeLessThanOrEqual(1024);
  });

  test('decodes gate codes: 1, 2 and 4, summed over the gates that breached', () => {
    expect([MetricGate.MAX_ERROR_RATE_DELTA, MetricGate.MAX_P95_RATIO, MetricGate.MAX_ERROR_RATE].map((g) => ReleaseGates.codeOf(g))).toEqual([1, 2, 4]);
    expect(ReleaseGates.gatesOf(0)).toEqual([]);
    expect(ReleaseGates.gatesOf(5)).toEqual([MetricGate.MAX_ERROR_RATE_DELTA, MetricGate.MAX_ERROR_RATE]);
    expect(ReleaseGates.gatesOf(7)).toHaveLength(3);
    expect(() => ReleaseGates.gatesOf(8)).toThrow(/an integer from 0 to 7, got: 8/);
  });

  test('writes thresholds in plain decimals, never in exponent form', () => {
    const stack = testStack();
    const gates = new ReleaseGates(stack, 'Gates', { metrics, thresholds: { maxErrorRateDelta: 0.0000001 } });
    expect(gates.metricGateCode().expression).toContain('> 0.0000001, 1, 0)');
    expect(gates.metricGateCode().expression).not.toMatch(/e-/);
  });

  test('graphs each gate on its own: 1 in a minute it breaches, else 0', () => {
    const stack = testStack();
    const gates = new ReleaseGates(stack, 'Gates', { metrics });
    const breach = gates.metricGateBreach(MetricGate.MAX_ERROR_RATE);
    expect(breach.expression).toBe('IF(IF(FILL(ci, 0) >= 100, FILL(ce, 0) / FILL(ci, 0), 0) > 0.01, 1, 0)');
    expect(Object.keys(breach.usingMetrics).sort()).toEqual(['ce', 'ci']);
  });

  test('keeps each alarm within CloudWatch\'s 10 metrics per alarm', () => {
    const stack = testStack();
    new ReleaseGates(stack, 'Gates', { metrics });
    for (const alarm of Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.Metrics.length).toBeLessThanOrEqual(10);
    }
  });

  test('reads the p95 of the canary by ExecutedVersion and of the control through the alias', () => {
    const stack = testStack();
    const gates = new ReleaseGates(stack, 'Gates', { metrics });
    const props = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(gates.alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
    const byId = Object.fromEntries(props.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, m.MetricStat]));
    expect(byId.canary.Stat).toBe('p95');
    expect(byId.canary.Metric.Dimensions).toEqual(expect.arrayContaining([{ Name: 'ExecutedVersion', Value: '7' }, { Name: 'Resource', Value: 'answer:live' }]));
    expect(byId.control.Metric.Dimensions).toEqual([{ Name: 'FunctionName', Value: 'answer' }, { Name: 'Resource', Value: 'answer:live' }]);
  });

  test('computes the worst-case detection time from the period and the datapoints to alarm', () => {
    expect(worstCaseDetectionTime().toSeconds()).toBe(120);
    expect(worstCaseDetectionTime(Duration.minutes(1), 2).toSeconds()).toBe(180);
    expect(worstCaseDetectionTime(Duration.minutes(5), 1).toSeconds()).toBe(360);
  });
});
