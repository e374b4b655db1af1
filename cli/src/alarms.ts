// CloudWatch alarms evaluated from the simulated traffic (register CW-5, CW-8): an alarm of the alias's deployment
// group whose every metric is an AWS/Lambda Invocations, Errors or Duration of the alias's function (the library's
// gate alarm, or one of yours on the same metrics) is evaluated minute by minute, its metric math by metric-math.ts,
// on the traffic each version served in that minute. Any other alarm (the probe's ΔS, telemetry, SQS) is not
// modelled: it reads OK, and the output says so. Not modelled either: the metrics' delay (LAM-6).
import type { GuardedAliasInfo } from './discover';
import { evaluate, Value } from './metric-math';
import type { WindowTraffic } from './simulate';
import { resolveString } from './tokens';

/** One minute of traffic on the alias: the new version's and the current version's. */
export interface MinuteTraffic {
  readonly canary: WindowTraffic;
  readonly control: WindowTraffic;
}

interface MetricQuery {
  readonly Id?: string;
  readonly Expression?: string;
  readonly ReturnData?: boolean;
  readonly MetricStat?: { Metric: { Namespace?: string; MetricName?: string; Dimensions?: Array<{ Name: string; Value: unknown }> }; Stat?: string };
}

/** An alarm the rehearsal can evaluate. */
export interface ModelledAlarm {
  readonly name: string;
  /** The alarm's state after the minutes given (newest last). */
  state(minutes: readonly MinuteTraffic[]): 'OK' | 'ALARM';
  readonly evaluationPeriods: number;
}

const COMPARE: Record<string, (v: number, t: number) => boolean> = {
  GreaterThanThreshold: (v, t) => v > t, GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  LessThanThreshold: (v, t) => v < t, LessThanOrEqualToThreshold: (v, t) => v <= t,
};

/** A Lambda metric of the alias, as a function of one minute's traffic; undefined when it is not one. */
function lambdaMetric(alias: GuardedAliasInfo, newVersion: string, query: MetricQuery['MetricStat']): ((m: MinuteTraffic) => Value) | undefined {
  const metric = query?.Metric;
  if (metric?.Namespace !== 'AWS/Lambda') return undefined;
  const dims = Object.fromEntries((metric.Dimensions ?? []).map((d) => [d.Name, resolveString(d.Value)]));
  if (dims.FunctionName !== alias.functionLogicalId) return undefined;
  const side = dims.ExecutedVersion === undefined ? 'all' : dims.ExecutedVersion === newVersion ? 'canary' : 'control';
  const pick = (m: MinuteTraffic, f: (t: WindowTraffic) => number) => (side === 'all' ? f(m.canary) + f(m.control) : f(m[side]));
  const present = (m: MinuteTraffic) => (side === 'all' ? m.canary.invocations + m.control.invocations : m[side].invocations) > 0;
  switch (metric.MetricName) {
    case 'Invocations': return (m) => (present(m) ? pick(m, (t) => t.invocations) : undefined);
    case 'Errors': return (m) => (present(m) ? pick(m, (t) => t.errors) : undefined);
    case 'Duration': return side === 'all' || !/^p9?5(\.0)?$/.test(query?.Stat ?? '') ? undefined : (m) => m[side].p95Ms;
    default: return undefined;
  }
}

/** The deployment group's alarms, split into those the rehearsal evaluates and those it does not. */
export function modelAlarms(alias: GuardedAliasInfo): { modelled: ModelledAlarm[]; notModelled: string[] } {
  const newVersion = resolveString(alias.stack.resources[alias.logicalId]?.Properties?.FunctionVersion);
  const modelled: ModelledAlarm[] = [];
  const notModelled: string[] = [];
  for (const name of alias.alarmNames) {
    const props = alias.stack.resources[name]?.Type === 'AWS::CloudWatch::Alarm' ? alias.stack.resources[name].Properties ?? {} : undefined;
    const queries: MetricQuery[] = (props?.Metrics as MetricQuery[] | undefined)
      ?? (props?.MetricName ? [{ Id: 'm', ReturnData: true, MetricStat: { Metric: { Namespace: props.Namespace as string, MetricName: props.MetricName as string, Dimensions: props.Dimensions as never }, Stat: (props.ExtendedStatistic ?? props.Statistic) as string } }] : []);
    const stats = queries.filter((q) => q.MetricStat).map((q) => [q.Id ?? 'm', lambdaMetric(alias, newVersion, q.MetricStat)] as const);
    const output = queries.find((q) => q.ReturnData !== false) ?? queries[0];
    const compare = COMPARE[String(props?.ComparisonOperator)];
    if (!props || !output || !compare || stats.length === 0 || stats.some(([, f]) => f === undefined)) {
      notModelled.push(name);
      continue;
    }
    if (output.Expression) {
      // An expression with a function the evaluator does not know is not modelled, rather than guessed.
      try {
        evaluate(output.Expression, Object.fromEntries(stats.map(([id]) => [id, 1])));
      } catch {
        notModelled.push(name);
        continue;
      }
    }
    const threshold = Number(props.Threshold);
    const periods = Number(props.EvaluationPeriods ?? 1);
    const toAlarm = Number(props.DatapointsToAlarm ?? periods);
    const missingBreaches = props.TreatMissingData === 'breaching';
    const datapoint = (m: MinuteTraffic): boolean => {
      const values = Object.fromEntries(stats.map(([id, f]) => [id, f!(m)]));
      const v = output.Expression ? evaluate(output.Expression, values) : values[output.Id ?? 'm'];
      return v === undefined ? missingBreaches : compare(v, threshold);
    };
    modelled.push({
      name, evaluationPeriods: periods,
      state: (minutes) => (minutes.slice(-periods).filter(datapoint).length >= toAlarm ? 'ALARM' : 'OK'),
    });
  }
  return { modelled, notModelled };
}

/** The alarms' states at `now` (simulated seconds), from the traffic of each minute before it; those not modelled read OK. */
export function alarmStates(
  alarms: ReturnType<typeof modelAlarms>, now: number, minuteAt: (start: number) => MinuteTraffic,
): Array<{ name: string; state: 'OK' | 'ALARM' }> {
  const periods = Math.max(1, ...alarms.modelled.map((a) => a.evaluationPeriods));
  const last = Math.floor(now / 60) * 60;
  const minutes = Array.from({ length: periods }, (_, i) => last - (periods - i) * 60).filter((start) => start >= 0).map(minuteAt);
  return [...alarms.modelled.map((a) => ({ name: a.name, state: minutes.length === 0 ? 'OK' as const : a.state(minutes) })), ...alarms.notModelled.map((name) => ({ name, state: 'OK' as const }))];
}
