/**
 * Sticky cohorts in a staged rollout (canary_release_serverless.md: "hash by tenant_id or stable_user_id then
 * route to canary fraction; keep stickiness for at least 24 hours"): what the constructs, the staged state machine
 * and the runtime's forwarder share.
 *
 * The alias the users call (`live`) stays unweighted on the current version for the whole rollout: a weighted
 * alias draws per invocation (register LAM-2), which is not sticky. A second alias (`<live>-canary`) points to the
 * version being rolled out. At each step the state machine writes the step's weight into one item of the stack's
 * cohort table; the forwarder in the user's function reads it (cached for a few seconds), decides each request with
 * `routeFor` (cohort specification v1) and forwards the cohort's requests to the canary alias with a synchronous
 * Invoke. Pure: no SDK, no aws-cdk-lib.
 */

/** The function's environment variable holding its `CohortEnvironment` (JSON), set by the construct. */
export const COHORT_ENV = 'GUARDRAILS_COHORT';

/** Where a function finds its rollout's cohort state, and where it forwards the cohort's requests. */
export interface CohortEnvironment {
  /** The cohort table's name. */
  readonly table: string;
  /** The partition key value of this alias's item. */
  readonly key: string;
  /** The name of the alias that points to the version being rolled out (same function). */
  readonly canaryAlias: string;
  /** How long a read of the item is reused, in seconds. */
  readonly cacheSeconds: number;
}

/** The cohort table's partition key attribute (a string). */
export const COHORT_TABLE_KEY = 'pk';

/** The item's attributes besides the key. */
export const COHORT_ATTRIBUTES = {
  /** The step's share of users on the new version, percent (a number from 0 to 100). */
  weight: 'weight',
  /** The rollout's salt: the CodeDeploy deployment ID, one per rollout (no two rollouts of any alias share one). */
  salt: 'salt',
  /** The version the canary alias serves in this rollout; a function running that version serves locally. */
  canaryVersion: 'canary_version',
  /** The CodeDeploy deployment the item belongs to. */
  deploymentId: 'deployment_id',
} as const;

/** The cohort part of a staged alias's configuration (`StagedAliasConfig.cohort`), as the construct writes it. */
export interface StagedCohortConfig {
  /** The cohort table's name. */
  readonly tableName: string;
  /** This alias's item key. */
  readonly key: string;
  /** The canary alias's name, whose traffic the gates read as the new version's. */
  readonly canaryAlias: string;
}

/**
 * The staged safety net's environment variable: each sticky alias's cohort item by configuration key
 * (`aliasConfigKey`), JSON `{ [key]: { tableName, key } }`, so that a rollout that ends without clearing its item
 * (an execution that failed, timed out or was stopped) has it cleared.
 */
export const STAGED_COHORTS_ENV = 'GUARDRAILS_STAGED_COHORTS';

/** The state of one rollout's cohort, as the forwarder reads it from the item. */
export interface CohortState {
  readonly weight: number;
  readonly salt: string;
  readonly canaryVersion: string;
  readonly deploymentId: string;
}

/** The cohort item in DynamoDB's attribute-value JSON (`{ S }`, `{ N }`), as GetItem returns it. */
export type CohortItem = Record<string, { readonly S?: string; readonly N?: string } | undefined>;

/**
 * The state an item holds, or a reason it holds none: a weight outside 0–100, a salt with a line break or a
 * missing attribute makes it unusable (the forwarder then serves every request locally and says why).
 */
export function cohortStateOf(item: CohortItem | undefined): CohortState | string {
  if (!item) return 'no cohort item (no staged rollout has written one)';
  const weight = Number(item[COHORT_ATTRIBUTES.weight]?.N);
  const salt = item[COHORT_ATTRIBUTES.salt]?.S;
  const canaryVersion = item[COHORT_ATTRIBUTES.canaryVersion]?.S;
  const deploymentId = item[COHORT_ATTRIBUTES.deploymentId]?.S ?? '';
  if (!(weight >= 0 && weight <= 100)) return `the cohort item's weight is not a number from 0 to 100: ${JSON.stringify(item[COHORT_ATTRIBUTES.weight])}`;
  if (typeof salt !== 'string' || salt.includes('\n')) return 'the cohort item has no usable salt';
  if (typeof canaryVersion !== 'string' || canaryVersion === '') return 'the cohort item names no canary version';
  return { weight, salt, canaryVersion, deploymentId };
}

/**
 * The function's `GUARDRAILS_COHORT`, checked.
 * @throws Error naming the variable and what is wrong with it
 */
export function parseCohortEnvironment(text: string): CohortEnvironment {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${COHORT_ENV} is not JSON: ${text.slice(0, 120)}`);
  }
  const v = value as Partial<CohortEnvironment> | null;
  for (const key of ['table', 'key', 'canaryAlias'] as const) {
    if (typeof v?.[key] !== 'string' || v[key] === '') throw new Error(`${COHORT_ENV}.${key} must be a non-empty string, got: ${JSON.stringify(v?.[key])}`);
  }
  if (typeof v!.cacheSeconds !== 'number' || !(v!.cacheSeconds >= 0)) {
    throw new Error(`${COHORT_ENV}.cacheSeconds must be a number of seconds (0 or more), got: ${JSON.stringify(v!.cacheSeconds)}`);
  }
  return v as CohortEnvironment;
}

/** The default of `StickyCohorts.cacheTtl`: how long a forwarder reuses its read of the cohort item. */
export const DEFAULT_COHORT_CACHE_SECONDS = 5;
