// DeltaSProbe's props checked at synth (every problem at once, each naming its prop and quoting its value),
// and the probe configuration they make.
import { Duration, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import {
  DEFAULT_ANSWER_POINTER, DEFAULT_METRIC_NAMESPACE, DEFAULT_PROBE_GATES, DEFAULT_REQUEST_TEMPLATE, GoldItem, JsonPathSegment, parseJsonPath, parsePointer, ProbeConfig, ProbeEmbedderConfig, ProbeGateConfig, templateAsksQuestion,
} from 'cdk-rollout-guardrails-runtime/contract';
import { Described, PropProblems, show } from '../private/validation';
import { DeltaSProbeGates, DeltaSProbeProps, GoldSet, ProbeEmbedder, ProbeEmbedderKind } from './props';

/** Time the probe function keeps back from its timeout to publish, log and report its status. */
export const REPORT_RESERVE = Duration.seconds(20);
/** Lambda's longest timeout. @see https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html */
export const MAX_LAMBDA_TIMEOUT = Duration.minutes(15);
/** CloudWatch namespaces: 1 to 255 characters, not starting with "AWS/". @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html */
const NAMESPACE = /^(?!AWS\/)[^:]{1,255}$/;

/** The probe's configuration (defaults filled in) and its gold set, as text and parsed. */
export interface ProbeSettings {
  readonly config: ProbeConfig;
  readonly gold: { readonly jsonl: string; readonly items: GoldItem[] };
}

/** Checks the props of the DeltaSProbe `probe` and throws one GuardrailsValidationError listing every problem. */
export function validateProbeProps(probe: Construct, props: DeltaSProbeProps): ProbeSettings {
  const problems = new PropProblems();
  let gold: { jsonl: string; items: GoldItem[] } | undefined;
  if (!(props?.goldSet instanceof GoldSet)) {
    problems.add('goldSet', 'a GoldSet (GoldSet.fromFile(path) or GoldSet.fromJsonl(text))', props?.goldSet);
  } else {
    try {
      gold = props.goldSet._load();
    } catch (error) {
      // A gold set's error lists every bad line on lines of its own: indented under this prop's entry.
      problems.add('goldSet', 'a valid gold set', new Described(`${props.goldSet.source}: ${(error as Error).message.replace(/\n/g, '\n    ')}`));
    }
  }
  const template = props?.requestTemplate ?? DEFAULT_REQUEST_TEMPLATE;
  if (!isJson(template)) problems.add('requestTemplate', 'a JSON value (objects, arrays, strings, numbers, booleans, null)', new Described(String(template)));
  else if (!templateAsksQuestion(template)) problems.add('requestTemplate', 'a template with {{question}} somewhere in it', template);
  let pointer = props?.answerPointer ?? DEFAULT_ANSWER_POINTER;
  if (props?.answerPath !== undefined && props?.answerPointer !== undefined) {
    problems.add('answerPointer', 'left out when answerPath is set (they say the same thing; answerPointer is deprecated)', props.answerPointer);
  } else if (props?.answerPath !== undefined) {
    const converted = pointerOfPath(props.answerPath);
    if (converted === undefined) problems.add('answerPath', 'a JSON path to one value: $, then .name, [\'name\'] or [0] steps, no * or ..', props.answerPath);
    else pointer = converted;
  }
  try {
    parsePointer(pointer);
  } catch {
    problems.add('answerPointer', 'an RFC 6901 JSON pointer ("" or starting with "/", "~" only as ~0 or ~1)', pointer);
  }
  problems.integer('seeds', props?.seeds, 1, 10);
  problems.integer('concurrency', props?.concurrency, 1, 64);
  problems.integer('memorySize', props?.memorySize, 128, 10240);
  const invokeTimeout = props?.invokeTimeout ?? Duration.seconds(10);
  const budget = props?.budget ?? Duration.minutes(5);
  const maxBudget = MAX_LAMBDA_TIMEOUT.minus(REPORT_RESERVE);
  for (const [prop, value] of [['invokeTimeout', invokeTimeout], ['budget', budget]] as const) {
    if (!(value instanceof Duration)) problems.add(prop, 'a Duration', value);
  }
  if (invokeTimeout instanceof Duration && budget instanceof Duration && !Token.isUnresolved(invokeTimeout) && !Token.isUnresolved(budget)) {
    if (budget.toMilliseconds() < 1000 || budget.toMilliseconds() > maxBudget.toMilliseconds()) {
      problems.add('budget', `from 1 second to ${maxBudget.toHumanString()} (Lambda's 15-minute timeout less ${REPORT_RESERVE.toHumanString()} kept to report)`, budget);
    }
    if (invokeTimeout.toMilliseconds() < 100 || invokeTimeout.toMilliseconds() > budget.toMilliseconds()) {
      problems.add('invokeTimeout', `from 100 milliseconds to the budget (${show(budget)})`, invokeTimeout);
    } else if (budget.toMilliseconds() <= maxBudget.toMilliseconds() && budget.toMilliseconds() + invokeTimeout.toMilliseconds() > maxBudget.toMilliseconds()) {
      problems.add('invokeTimeout', `at most ${Duration.millis(maxBudget.toMilliseconds() - budget.toMilliseconds()).toHumanString()} with a budget of ${show(budget)} (budget, the last call's invokeTimeout and ${REPORT_RESERVE.toHumanString()} to report must fit Lambda's 15-minute timeout)`, invokeTimeout);
    }
  }
  const namespace = props?.metricNamespace ?? DEFAULT_METRIC_NAMESPACE;
  if (typeof namespace !== 'string' || !NAMESPACE.test(namespace)) problems.add('metricNamespace', '1 to 255 characters without ":", not starting with "AWS/"', namespace);
  const gates = validateProbeGates(props?.gates, problems);
  const embedder = props?.embedder ?? ProbeEmbedder.hashed();
  if (!(embedder instanceof ProbeEmbedder)) {
    problems.add('embedder', 'a ProbeEmbedder (ProbeEmbedder.hashed() or ProbeEmbedder.bedrock())', embedder);
  } else if (embedder.config.kind === ProbeEmbedderKind.BEDROCK) {
    const { modelId, dimensions } = embedder.config;
    if (typeof modelId !== 'string' || !/^[\w.:/-]{1,2048}$/.test(modelId)) problems.add('embedder.modelId', 'a Bedrock model id such as "amazon.titan-embed-text-v2:0"', modelId);
    if (dimensions !== undefined && ![256, 512, 1024].includes(dimensions)) problems.add('embedder.dimensions', 'one of 256, 512, 1024 (Titan Text Embeddings V2)', dimensions);
  }
  if (props?.reuseCurrentAnswers !== undefined && typeof props.reuseCurrentAnswers !== 'boolean') {
    problems.add('reuseCurrentAnswers', 'a boolean (true only for a function that answers the same request and seed the same way)', props.reuseCurrentAnswers);
  }
  problems.throwIfAny(`DeltaSProbe '${probe.node.path}'`);

  return {
    gold: gold!,
    config: {
      requestTemplate: template,
      answerPointer: pointer,
      seeds: props.seeds ?? 2,
      concurrency: props.concurrency ?? 8,
      invokeTimeoutMs: invokeTimeout.toMilliseconds(),
      budgetMs: budget.toMilliseconds(),
      metricNamespace: namespace,
      gates,
      // The same values as the runtime's embedder union ('hashed' | 'bedrock'), typed for other languages.
      embedder: embedder.config as ProbeEmbedderConfig,
      // Written only when on, so a probe without it keeps its code asset (and its function's version) as it was.
      ...(props.reuseCurrentAnswers === true ? { reuseCurrentAnswers: true } : {}),
    },
  };
}

/** The probe's own run: its budget, the last call's invokeTimeout and the time kept to report. */
export function probeRunMs(config: ProbeConfig): number {
  return config.budgetMs + config.invokeTimeoutMs + REPORT_RESERVE.toMilliseconds();
}

function validateProbeGates(gates: DeltaSProbeGates | undefined, problems: PropProblems): ProbeGateConfig {
  if (gates === undefined) return DEFAULT_PROBE_GATES;
  if (typeof gates !== 'object' || gates === null) {
    problems.add('gates', 'an object of thresholds', gates);
    return DEFAULT_PROBE_GATES;
  }
  const known = new Set(Object.keys(DEFAULT_PROBE_GATES));
  for (const key of Object.keys(gates)) {
    if (!known.has(key)) problems.add(`gates.${key}`, `one of ${[...known].join(', ')} (unknown gate)`, key);
  }
  problems.number('gates.maxDeltaS', gates.maxDeltaS, { min: 0, max: 2 });
  problems.number('gates.maxDeltaSDrift', gates.maxDeltaSDrift, { min: -2, max: 2 });
  problems.number('gates.minCoverage', gates.minCoverage, { min: 0, max: 1 });
  problems.integer('gates.maxLambdaFlips', gates.maxLambdaFlips, 0, 100_000);
  problems.integer('gates.maxSchemaViolations', gates.maxSchemaViolations, 0, 1_000_000);
  problems.integer('gates.maxInvokeErrors', gates.maxInvokeErrors, 0, 1_000_000);
  problems.number('gates.maxLatencyP95Ratio', gates.maxLatencyP95Ratio, { min: 0, minInclusive: false, max: 100 });
  problems.number('gates.latencyAlpha', gates.latencyAlpha, { min: 0, max: 1, minInclusive: false, maxInclusive: false });
  problems.integer('gates.latencyMinSamples', gates.latencyMinSamples, 1, 100_000);
  if (gates.requireLatencyVerdict !== undefined && typeof gates.requireLatencyVerdict !== 'boolean') {
    problems.add('gates.requireLatencyVerdict', 'a boolean', gates.requireLatencyVerdict);
  }
  const given = Object.fromEntries(Object.entries(gates).filter(([k, v]) => v !== undefined && known.has(k)));
  return { ...DEFAULT_PROBE_GATES, ...given };
}

function isJson(value: unknown): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    return (proto === Object.prototype || proto === null) && Object.values(value as object).every(isJson);
  }
  return false;
}

/**
 * The RFC 6901 pointer (what the probe's handler reads, see the contract's `parsePointer`) of a JSON path that names
 * one value; undefined if the path does not parse or has a wildcard.
 */
export function pointerOfPath(path: string): string | undefined {
  let segments: JsonPathSegment[];
  try {
    segments = parseJsonPath(path);
  } catch {
    return undefined;
  }
  if (segments.some((segment) => 'wildcard' in segment)) return undefined;
  return segments.map((segment) => `/${'index' in segment ? segment.index : (segment as { key: string }).key.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
