import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { CanaryMetrics, DEFAULT_GATE_THRESHOLDS, ReleaseGates, worstCaseDetectionTime } from '../lib';
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
  test('renders one alarm per gate, each on the expression that enforces it', () => {
    const stack = testStack();
    const gates = new ReleaseGates(stack, 'Gates', { metrics });
    const t = Template.fromStack(stack);
    const expressionOf = (alarm: cloudwatch.Alarm) => {
      const props = t.toJSON().Resources[stack.getLogicalId(alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
      return props.Metrics.find((m: any) => m.ReturnData !== false).Expression;
    };
    // Each gate judges only minutes with enough canary invocations (DEFAULT_MIN_INVOCATIONS_PER_MINUTE).
    expect(expressionOf(gates.errorRateDeltaAlarm)).toBe(`IF(FILL(ci, 0) >= 100 AND (FILL(ai, 0) - FILL(ci, 0)) >= 100, FILL(ce, 0) / FILL(ci, 0) - (${controlExpr}), 0)`);
    expect(expressionOf(gates.p95RatioAlarm)).toBe('IF(FILL(ci, 0) >= 100 AND control > 0, canary / control, 0)');
    expect(expressionOf(gates.errorRateAlarm)).toBe('IF(FILL(ci, 0) >= 100, FILL(ce, 0) / FILL(ci, 0), 0)');
    t.resourceCountIs('AWS::CloudWatch::Alarm', 3);
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
    const props = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(gates.p95RatioAlarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
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
