// The queue-age gate (deploy_traffic_shaping.md: "queue age slope ≤ 0", "queue age flat"): each SQS queue's
// ApproximateAgeOfOldestMessage over a window (a staged step's bake, the last minutes of a blue-green hold), one
// Maximum a minute, and the slope of a least-squares line through those minutes. Pure: the staged gate function and
// the blue-green worker read the series (queueAgeQueries), their engines judge them (queueAgeChecks).
import type { MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { Check, QueueAgeConfig } from 'cdk-rollout-guardrails-runtime/contract';

/** One queue's oldest-message age over the window: one value a minute, in seconds, oldest minute first. */
export interface QueueAgeSeries {
  readonly queueName: string;
  readonly ages: readonly number[];
}

/** Fewest one-minute datapoints a slope is drawn through. */
export const MIN_QUEUE_AGE_POINTS = 2;

/** Slope of the least-squares line through `ys` at x = 0, 1, 2, … (units of y per step). */
export function leastSquaresSlope(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return num / den;
}

const fmt = (x: number) => String(Number(x.toFixed(2)));

/**
 * Judges each queue: `passed: null` (no data) with fewer than two minutes of datapoints (SQS reports the age only
 * while a message is in the queue, and an inactive queue's metrics may come late); otherwise it passes while the
 * oldest message is younger than `minAgeSeconds` at the end of the window (no backlog to speak of), or the age
 * rises by at most `maxSlopeSecondsPerMinute`.
 */
export function queueAgeChecks(series: readonly QueueAgeSeries[], rule: QueueAgeConfig): Check[] {
  return series.map(({ queueName, ages }) => {
    const name = `queueAge:${queueName}`;
    if (ages.length < MIN_QUEUE_AGE_POINTS) {
      return {
        name, measured: null, threshold: rule.maxSlopeSecondsPerMinute, passed: null,
        reason: `queue age of ${queueName}: no data (${ages.length} one-minute datapoint${ages.length === 1 ? '' : 's'} of ApproximateAgeOfOldestMessage in the window; SQS reports it only while a message is in the queue)`,
      };
    }
    const slope = leastSquaresSlope(ages);
    const last = ages[ages.length - 1];
    const young = last < rule.minAgeSeconds;
    const passed = young || slope <= rule.maxSlopeSecondsPerMinute + 1e-9;
    const over = `over ${ages.length} min, oldest message ${fmt(last)} s`;
    return {
      name,
      measured: slope,
      threshold: rule.maxSlopeSecondsPerMinute,
      passed,
      reason: young
        ? `queue age of ${queueName}: oldest message ${fmt(last)} s < ${rule.minAgeSeconds} s, no backlog (slope ${fmt(slope)} s/min not judged)`
        : `queue age of ${queueName}: slope ${slope > 0 ? '+' : ''}${fmt(slope)} s/min ${passed ? '≤' : '>'} ${fmt(rule.maxSlopeSecondsPerMinute)} s/min ${over}`,
    };
  });
}

/** The GetMetricData queries of the queues' ages: `q0`, `q1`, … in the order of `queueNames`, one Maximum a minute. */
export function queueAgeQueries(queueNames: readonly string[]): MetricDataQuery[] {
  return queueNames.map((queueName, i) => ({
    Id: `q${i}`,
    MetricStat: {
      Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: queueName }] },
      Period: 60,
      Stat: 'Maximum',
      Unit: 'Seconds',
    },
    ReturnData: true,
  }));
}

/** The series of each queue from a GetMetricData answer (its values in any order of timestamps). */
export function queueAgeSeries(queueNames: readonly string[], results: ReadonlyArray<{ Id?: string; Timestamps?: Date[]; Values?: number[] }> | undefined): QueueAgeSeries[] {
  return queueNames.map((queueName, i) => {
    const result = results?.find((r) => r.Id === `q${i}`);
    const points = (result?.Values ?? []).map((value, j) => ({ value, at: result?.Timestamps?.[j]?.getTime() ?? j }));
    points.sort((a, b) => a.at - b.at);
    return { queueName, ages: points.map((p) => p.value) };
  });
}
