import { Duration } from 'aws-cdk-lib';
import { DEFAULT_COHORT_CACHE_SECONDS } from 'cdk-rollout-guardrails-runtime/contract';
import { PropProblems } from '../private/validation';

/**
 * Sticky cohorts (canary_release_serverless.md: "hash by tenant_id or stable_user_id then route to canary
 * fraction; keep stickiness for at least 24 hours"). A weighted alias draws per invocation (LAM-2), so one user's
 * requests would land on both versions. With sticky cohorts the alias users call stays on the current version,
 * unweighted, for the whole rollout; a second alias, `<alias>-canary`, points to the new version; at each step the
 * state machine writes the step's weight into the stack's cohort table instead of setting alias weights, and the
 * runtime's `stickyCohorts` wrapper in the function forwards each request of a user in the cohort to the canary
 * alias (a synchronous Invoke). A user in the cohort is served by the new version on every request until the
 * rollout ends; each step's cohort contains the last.
 *
 * The gates compare the canary alias's traffic (the new version's, `Resource = <function>:<alias>-canary`) with
 * the live alias's less the forwarded requests; the p95 of both from the runtime's release telemetry
 * (`withRelease`, `Latency` by release and version), since the live alias's own duration includes the forwarded
 * requests' wait. The function must run the wrapper (`guardrails({ cohorts })`) and the release telemetry.
 */
export interface StickyCohorts {
  /**
   * How long a function reuses its read of the cohort item before reading it again: a step's new weight reaches
   * every execution environment within this time. Whole seconds from 0 to 60.
   * @default Duration.seconds(5)
   */
  readonly cacheTtl?: Duration;
}

/** Validates `stickyCohorts`, each problem naming the prop and the value. */
export function validateStickyCohorts(problems: PropProblems, prefix: string, cohorts: unknown): void {
  if (cohorts === undefined) return;
  if (typeof cohorts !== 'object' || cohorts === null || Array.isArray(cohorts)) {
    problems.add(`${prefix} stickyCohorts`, 'an object { cacheTtl? }', cohorts);
    return;
  }
  for (const key of Object.keys(cohorts)) {
    if (key !== 'cacheTtl') problems.add(`${prefix} stickyCohorts.${key}`, 'cacheTtl (unknown key)', key);
  }
  const ttl = (cohorts as StickyCohorts).cacheTtl;
  if (ttl === undefined) return;
  if (!(ttl instanceof Duration)) problems.add(`${prefix} stickyCohorts.cacheTtl`, 'a Duration', ttl);
  else if (!ttl.isUnresolved() && (ttl.toMilliseconds() % 1000 !== 0 || ttl.toSeconds() > 60)) {
    problems.add(`${prefix} stickyCohorts.cacheTtl`, 'whole seconds from 0 to 60', ttl);
  }
}

/** The read's cache time in seconds, default filled in. */
export function cohortCacheSeconds(cohorts: StickyCohorts): number {
  return cohorts.cacheTtl?.toSeconds() ?? DEFAULT_COHORT_CACHE_SECONDS;
}

/** The name of the alias that serves the new version under sticky cohorts: `<alias>-canary`. */
export function canaryAliasName(aliasName: string): string {
  return `${aliasName}-canary`;
}
