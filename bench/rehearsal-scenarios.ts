// The staged scenarios of `npm run rehearse` (bench/rehearse.ts): simulated versions of the demo service, each with
// what is wrong with it, and how each ends as its seed says.
import { ShadowReleaseSummary } from '../packages/runtime/src/contract/shadow-promotion';

/** A simulated version of the demo service. */
export interface Scenario {
  readonly name: string;
  /** What is wrong with it, in one line. */
  readonly story: string;
  /** Answer as the drifted build (title-only retrieval, first sentence). */
  readonly drift: boolean;
  /** Latency factor over the current version, for probe invocations and user traffic alike. */
  readonly latencyFactor: number;
  /** Share of user requests that fail (the current version fails 0.02 %). */
  readonly userErrorRate: number;
  /** A topic of the gold set the new version no longer answers (its index lost those sections). */
  readonly forgetsTopic?: string;
  /**
   * A gold question two of whose paraphrases the new version answers unstably (right with seed 0, off-topic with
   * seed 1) once it serves at least `fromWeight` percent of the traffic (a cache that thrashes under load).
   */
  readonly unstableParaphrases?: { readonly id: string; readonly fromWeight: number };
  /**
   * The alias's consumer drains a queue (`jobs`, judged by the queue-age gate); from this weight on the new
   * version's consumer falls behind and the oldest message ages 40 s a minute.
   */
  readonly queueBacklogFrom?: number;
  /**
   * The consumer fence (`fence: { consumers: [jobs], untilStep, maxConcurrency }`): the `jobs` consumer, an SQS
   * mapping, capped from the start (still draining, at most `maxConcurrency` at a time) until `untilStep`.
   */
  readonly fence?: { readonly untilStep: number; readonly maxConcurrency: number };
  /** A share of the new version's requests that answer with a 5xx status the current version never returns. */
  readonly newErrorClass?: { readonly status: string; readonly rate: number };
  /**
   * The alias requires shadow first (GuardedAlias `requireShadow`, the seeds' defaults): the release's record in
   * the shadow's results table as the dispatcher left it; stage 0 judges it before anything else runs.
   */
  readonly shadowRecord?: ShadowReleaseSummary;
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'good', story: 'the same answers, as fast, as reliable', drift: false, latencyFactor: 1, userErrorRate: 0.0002 },
  { name: 'ΔS drift', story: 'the drifted build: cheaper retrieval, answers drift in meaning', drift: true, latencyFactor: 1, userErrorRate: 0.0002 },
  { name: 'latency regression', story: '18 % slower: under the probe\'s 1.25× gate, over the live p95 gate of 1.10×', drift: false, latencyFactor: 1.18, userErrorRate: 0.0002 },
  { name: 'error spike', story: '3 % of user requests fail on a path the gold set does not exercise', drift: false, latencyFactor: 1, userErrorRate: 0.03 },
  {
    name: 'topic-coverage', story: 'the index lost the "routing" topic: 3 of 54 questions unanswered, the median untouched; the stop rule from 5 %',
    drift: false, latencyFactor: 1, userErrorRate: 0.0002, forgetsTopic: 'routing',
  },
  {
    name: 'paraphrase-flips', story: 'from 50 % (under load) two paraphrases of one question answered unstably: the stop rule from 50 % (and the per-question λ gate)',
    drift: false, latencyFactor: 1, userErrorRate: 0.0002, unstableParaphrases: { id: 'latency-judge', fromWeight: 50 },
  },
  {
    name: 'new-error-class', story: '5 % of the new version\'s requests answer 503, a status the current version never returns (its errors are 500s)',
    drift: false, latencyFactor: 1, userErrorRate: 0.0002, newErrorClass: { status: '503', rate: 0.05 },
  },
  {
    name: 'queue-backlog', story: 'from 5 % the new version\'s consumer falls behind: the queue\'s oldest message ages 40 s a minute (its consumers capped at 2 below 25 %)',
    drift: false, latencyFactor: 1, userErrorRate: 0.0002, queueBacklogFrom: 5, fence: { untilStep: 25, maxConcurrency: 2 },
  },
  {
    name: 'shadow-unpromoted', story: 'promoted the morning after: shadowed for 9 hours of the 24 the seed asks, and 2 answers broke the schema',
    drift: false, latencyFactor: 1, userErrorRate: 0.0002,
    shadowRecord: {
      releaseId: 'rel-candidate', firstSeen: 0, lastSeen: 9 * 3600_000, replays: 3240, scored: 3240, shadowErrors: 0, shadowTimeouts: 0, liveErrors: 1,
      schemaViolations: 2, bins: Array.from({ length: 100 }, (_, i) => (i === 17 ? 2000 : i === 31 ? 1240 : 0)), expiresAt: 0,
    },
  },
];
