// What one rehearsal of one scenario on one alias gives: the timeline the terminal prints and the summary row.
import type { Check } from '../../packages/runtime/src/contract/check';
import type { GuardedAliasInfo } from './discover';
import type { Expectation, Scenario } from './scenarios';

/** One line of the timeline. */
export interface TimelineEntry {
  /** Simulated seconds since the BeforeAllowTraffic hook started. */
  readonly at: number;
  /** Percent of user traffic on the new version after this entry. */
  readonly weight: number;
  /** What happened, and the decision. */
  readonly text: string;
  /** Each gate's measured value against its threshold, when a decision was judged. */
  readonly gates?: readonly Check[];
  /** Gates whose value the rehearsal assumed (alarms it does not model). */
  readonly assumed?: readonly string[];
}

/** How a scenario ended, and the figures of its summary row. */
export interface ScenarioResult {
  readonly alias: GuardedAliasInfo;
  readonly scenario: Scenario;
  /** `promote`: the new version kept all the traffic; `rollback`: traffic went back (or never left) the old version. */
  readonly outcome: Expectation;
  /** The outcome in words: `reached 100 %`, `rolled back at 5 %`, `held 15 min, kept`, `stopped before any traffic`. */
  readonly ending: string;
  readonly expected: Expectation;
  /** Highest share of user traffic the new version had. */
  readonly maxWeight: number;
  /** Simulated seconds (since the hook started) the breach began, was decided on, and traffic was back on the old version. */
  readonly breachAt?: number;
  readonly detectedAt?: number;
  readonly trafficOffAt?: number;
  /** Whether the traffic-off time rests on an assumed figure (blue-green: CodeDeploy's rollback shift). */
  readonly trafficOffAssumed?: boolean;
  /** The notifications that would have been published, in order (`gate-decision advance at 1 %`, ...). */
  readonly notifications: string[];
  readonly seconds: number;
  readonly timeline: TimelineEntry[];
  /** The figures this run assumed, in words. */
  readonly assumptions: string[];
}
