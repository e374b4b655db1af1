// Collecting the probe's samples: the plan of invocations (every gold question and paraphrase, every seed, both
// versions interleaved) and running it against an injected invoker, bounded in concurrency, time and deadline.
import { GoldItem } from 'cdk-rollout-guardrails-runtime/contract';
import { ProbeConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { extractAnswer, parsePointer, renderRequest } from 'cdk-rollout-guardrails-runtime/contract';
import { mapBounded, withTimeout } from './pool';

/** Which side of the comparison: the version under test or the one users are on. */
export type Side = 'new' | 'current';

/** What one invocation returned, as the edge reports it. */
export interface InvokeOutcome {
  /** The response payload as text; undefined when there was none. */
  readonly payload?: string;
  /** Lambda's FunctionError (`Unhandled`, ...) when the function failed. */
  readonly functionError?: string;
  /** How long the function ran, in milliseconds (Lambda's reported Duration when available). */
  readonly latencyMs: number;
  /** Whether the invocation started a new execution environment (Lambda reported an Init Duration). */
  readonly cold: boolean;
}

/** Invokes `side` with `request`; rejects on a failed call (throttle, network, permission). */
export type Invoker = (side: Side, request: unknown, signal: AbortSignal) => Promise<InvokeOutcome>;

/** One planned invocation and, once it ran, what came of it. */
export interface Sample {
  readonly item: number;
  /** 0 for the question, 1.. for the paraphrases. */
  readonly text: number;
  readonly seed: number;
  readonly side: Side;
  /** The answer read at the pointer. */
  answer?: string;
  /** Why the response broke the schema. */
  violation?: string;
  /** Why the invocation failed. */
  error?: string;
  latencyMs?: number;
  cold?: boolean;
  /** The answer was read from the answers the current version gave earlier in the deployment, not invoked (reuse.ts). */
  reused?: boolean;
}

/** Every invocation the probe makes, interleaving the versions so that neither gets the quieter minute. */
export function planSamples(gold: readonly GoldItem[], seeds: number): Sample[] {
  const plan: Sample[] = [];
  gold.forEach((item, i) => {
    for (let text = 0; text <= item.paraphrases.length; text++) {
      for (let seed = 0; seed < seeds; seed++) {
        for (const side of ['new', 'current'] as const) plan.push({ item: i, text, seed, side });
      }
    }
  });
  return plan;
}

/** Options of {@link collectSamples}. */
export interface CollectOptions {
  readonly gold: readonly GoldItem[];
  readonly config: ProbeConfig;
  readonly invoke: Invoker;
  /** Epoch milliseconds after which no new invocation starts. */
  readonly deadline: number;
  /** The clock. @default Date.now */
  readonly now?: () => number;
  /** Stops new invocations when aborted (the hook's watchdog does, once it has reported). */
  readonly signal?: AbortSignal;
}

/** What {@link collectSamples} gathered; `complete` is false when the deadline cut it short. */
export interface Collected {
  readonly samples: Sample[];
  readonly complete: boolean;
}

/**
 * Invokes both versions for every gold question × text × seed, at most `concurrency` at a time, each call
 * cut off at `invokeTimeoutMs`, none started after `deadline`. Never throws for a failed call: the failure
 * is recorded on its sample.
 */
export async function collectSamples(options: CollectOptions): Promise<Collected> {
  const plan = planSamples(options.gold, options.config.seeds);
  const samples = await invokeSamples(options, plan);
  return { samples, complete: samples.length === plan.length };
}

/**
 * Invokes the samples of `plan` in order, at most `concurrency` at a time, each call cut off at
 * `invokeTimeoutMs`, none started after `deadline`; returns those that ran, each with its outcome. Never throws
 * for a failed call: the failure is recorded on its sample.
 */
export async function invokeSamples(options: CollectOptions, plan: readonly Sample[]): Promise<Sample[]> {
  const { gold, config, invoke, deadline } = options;
  const now = options.now ?? Date.now;
  const pointer = parsePointer(config.answerPointer);
  const texts = gold.map((item) => [item.question, ...item.paraphrases]);
  const done = await mapBounded(plan, config.concurrency, async (sample) => {
    const request = renderRequest(config.requestTemplate, texts[sample.item][sample.text], sample.seed);
    try {
      const outcome = await withTimeout(config.invokeTimeoutMs, (signal) => invoke(sample.side, request, signal));
      sample.latencyMs = outcome.latencyMs;
      sample.cold = outcome.cold;
      if (outcome.functionError) {
        sample.error = `function error ${outcome.functionError}${outcome.payload ? `: ${outcome.payload.slice(0, 120)}` : ''}`;
      } else {
        const extracted = extractAnswer(outcome.payload ?? '', pointer, config.answerPointer);
        if ('answer' in extracted) sample.answer = extracted.answer;
        else sample.violation = extracted.violation;
      }
    } catch (error) {
      sample.error = (error as Error).message ?? String(error);
    }
    return sample;
  }, () => now() >= deadline || options.signal?.aborted === true);
  return done.filter((s): s is Sample => s !== undefined);
}
