import { SHADOW_METRICS_DIMENSION as SHADOW_DIMENSION, SHADOW_METRICS_NAMESPACE as SHADOW_NAMESPACE } from 'cdk-rollout-guardrails-runtime/contract';

/** What one batch measured. */
export interface BatchMetrics {
  /** ΔS of each scored pair. */
  readonly deltaS: number[];
  /** Shadow duration minus live duration of each answered pair, in ms. */
  readonly latencyDelta: number[];
  /** Shadow duration of each answered pair, in ms. */
  readonly shadowLatency: number[];
  /** Live duration of each answered pair, in ms. */
  readonly liveLatency: number[];
  shadowErrors: number;
  replayed: number;
  /** Requests the tap sampled (records and drop notices). */
  sampled: number;
  /** Eligible requests the tap saw. */
  seen: number;
  resultsWriteErrors: number;
  /** Scored shadow answers that broke the answer schema. */
  schemaViolations: number;
  /** Replays whose release is unknown (no RELEASE_ID, or its configuration could not be read): in no summary. */
  unreleasedReplays: number;
  /** Per-release summaries that could not be updated. */
  summaryWriteErrors: number;
  /** Samples dropped, by reason (budget, oversize, unredactable, malformed...). */
  readonly dropped: Record<string, number>;
}

export function emptyMetrics(): BatchMetrics {
  return { deltaS: [], latencyDelta: [], shadowLatency: [], liveLatency: [], shadowErrors: 0, replayed: 0, sampled: 0, seen: 0, resultsWriteErrors: 0,
    schemaViolations: 0, unreleasedReplays: 0, summaryWriteErrors: 0, dropped: {} };
}

/** CloudWatch takes at most 100 values of one metric in one EMF document. */
const MAX_VALUES = 100;

/**
 * The batch as CloudWatch embedded metric format documents (one JSON line each): written to the dispatcher's
 * log, CloudWatch extracts the metrics, so publishing them costs no API call and no permission.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function emfDocuments(shadow: string, m: BatchMetrics, timestamp: number): string[] {
  const docs: string[] = [];
  const totalDropped = Object.values(m.dropped).reduce((a, b) => a + b, 0);
  const series: Array<[string, string, number[]]> = [
    ['ShadowDeltaS', 'None', m.deltaS],
    ['ShadowLatencyDelta', 'Milliseconds', m.latencyDelta],
    ['ShadowLatency', 'Milliseconds', m.shadowLatency],
    ['LiveLatency', 'Milliseconds', m.liveLatency],
  ];
  const chunks = Math.max(1, ...series.map(([, , values]) => Math.ceil(values.length / MAX_VALUES)));
  for (let c = 0; c < chunks; c++) {
    const doc: Record<string, unknown> = { [SHADOW_DIMENSION]: shadow };
    const metrics: Array<{ Name: string; Unit: string }> = [];
    for (const [name, unit, values] of series) {
      const part = values.slice(c * MAX_VALUES, (c + 1) * MAX_VALUES);
      if (part.length === 0) continue;
      metrics.push({ Name: name, Unit: unit });
      doc[name] = part;
    }
    if (c === 0) {
      // Counts go out every batch, zeros included, so alarms and rates see that the mirror is running.
      for (const [name, value] of [['ShadowErrors', m.shadowErrors], ['MirrorDropped', totalDropped], ['MirrorReplayed', m.replayed],
        ['MirrorSampled', m.sampled], ['MirrorSeen', m.seen], ['ResultsWriteErrors', m.resultsWriteErrors],
        ['SchemaViolations', m.schemaViolations], ['UnreleasedReplays', m.unreleasedReplays], ['SummaryWriteErrors', m.summaryWriteErrors]] as const) {
        metrics.push({ Name: name, Unit: 'Count' });
        doc[name] = value;
      }
    }
    if (metrics.length === 0) continue;
    doc._aws = { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: SHADOW_NAMESPACE, Dimensions: [[SHADOW_DIMENSION]], Metrics: metrics }] };
    docs.push(JSON.stringify(doc));
  }
  for (const [reason, count] of Object.entries(m.dropped)) {
    if (count === 0) continue;
    docs.push(JSON.stringify({
      _aws: { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: SHADOW_NAMESPACE, Dimensions: [[SHADOW_DIMENSION, 'Reason']], Metrics: [{ Name: 'MirrorDropped', Unit: 'Count' }] }] },
      [SHADOW_DIMENSION]: shadow,
      Reason: reason,
      MirrorDropped: count,
    }));
  }
  return docs;
}
