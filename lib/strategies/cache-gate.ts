import type { StagedCacheHitRateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { PropProblems } from '../private/validation';

/**
 * The cache hit-rate gate (canary_release_serverless.md: "Cache hit does not regress more than five points after
 * namespace split"). At each check once the new version serves traffic, the gate compares the new version's cache
 * hit rate over the window with the current version's, each from the runtime's `reportCacheLookup` telemetry under
 * the version's own release (its `RELEASE_ID`). A version that made too few lookups is missing data, and follows
 * `noData`.
 */
export interface CacheHitRateGate {
  /**
   * Most percentage points the new version's hit rate may fall below the current version's. From 0 to 100.
   * @default 5
   */
  readonly maxRegression?: number;
  /**
   * Fewest cache lookups of each version in the window for the gate to judge.
   * @default 100
   */
  readonly minLookups?: number;
}

/** Validates `cacheHitRate`, each problem naming the prop and the value. */
export function validateCacheHitRate(problems: PropProblems, prefix: string, gate: unknown): void {
  if (gate === undefined) return;
  if (typeof gate !== 'object' || gate === null || Array.isArray(gate)) {
    problems.add(`${prefix} cacheHitRate`, 'an object { maxRegression?, minLookups? }', gate);
    return;
  }
  const g = gate as CacheHitRateGate;
  for (const key of Object.keys(g)) {
    if (key !== 'maxRegression' && key !== 'minLookups') problems.add(`${prefix} cacheHitRate.${key}`, 'maxRegression or minLookups (unknown key)', key);
  }
  problems.number(`${prefix} cacheHitRate.maxRegression`, g.maxRegression, { min: 0, max: 100 });
  problems.integer(`${prefix} cacheHitRate.minLookups`, g.minLookups, 1, 1_000_000);
}

/** The gate as the state machine receives it; undefined when it is off. */
export function cacheHitRateConfig(gate: CacheHitRateGate | undefined): StagedCacheHitRateConfig | undefined {
  if (gate === undefined) return undefined;
  return { maxRegressionPoints: gate.maxRegression ?? 5, minLookups: gate.minLookups ?? 100 };
}
