import type { NOTIFICATION_SOURCE } from './staged.js';

/**
 * What the GuardedAlias's rollback rule hands the library's rollback-hooks function (its EventBridge target
 * input): the deployment that failed or was stopped, from the event, and the alias's user hooks, from synth.
 */
export interface RollbackHooksInput {
  readonly deploymentId: string;
  /** CodeDeploy's state: FAILURE or STOP. */
  readonly state: string;
  readonly functionName: string;
  readonly alias: string;
  /** ARNs of the user's functions to invoke (asynchronously). */
  readonly hooks: string[];
}

/**
 * What each rollback hook receives (an asynchronous invocation): the rollout that failed or was stopped and the
 * release it was shipping, read from the new version's own environment at run time, with the cache namespace of
 * that release (`cacheNamespace` of the runtime, its default prefix) for the hook to purge.
 */
export interface RollbackHookEvent {
  readonly source: typeof NOTIFICATION_SOURCE;
  readonly event: 'rollback';
  readonly state: string;
  readonly deploymentId: string;
  readonly functionName: string;
  readonly alias: string;
  /** The version that was rolled out and is rolled back. */
  readonly targetVersion: string;
  /** The version users are on again. */
  readonly currentVersion: string;
  /** The rolled-back version's RELEASE_ID; null when it has none. */
  readonly releaseId: string | null;
  /** `rel-<releaseId>:`, the prefix `cacheKey` gave that release's entries; null without a release ID. */
  readonly cacheNamespace: string | null;
}
