// The ΔS probe's configuration with the DeltaSProbe construct's defaults, for the offline rehearsals
// (bench/rehearse.ts, bench/rehearse-blue-green.ts), which run the real probe engine in-process.
import {
  DEFAULT_ANSWER_POINTER, DEFAULT_METRIC_NAMESPACE, DEFAULT_PROBE_GATES, DEFAULT_REQUEST_TEMPLATE, ProbeConfig,
} from '../packages/runtime/src/contract/probe';

/** The DeltaSProbe's defaults: 2 seeds, 8 in flight, 10 s per invocation, a 5-minute budget, the seed's gates. */
export const DEFAULT_PROBE_CONFIG: ProbeConfig = {
  requestTemplate: DEFAULT_REQUEST_TEMPLATE,
  answerPointer: DEFAULT_ANSWER_POINTER,
  seeds: 2,
  concurrency: 8,
  invokeTimeoutMs: 10_000,
  budgetMs: 300_000,
  metricNamespace: DEFAULT_METRIC_NAMESPACE,
  gates: DEFAULT_PROBE_GATES,
};
