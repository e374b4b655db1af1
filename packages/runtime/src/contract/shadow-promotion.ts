/**
 * Shadow as a rollout's stage 0: what the mirror dispatcher keeps per shadowed release, and how a rollout judges
 * from it whether the release it is about to roll out has passed shadow (canary_release_serverless.md, "Shadow:
 * stop if ΔS median ≥ 0.60 or JSON schema violations appear"; shadow_traffic_mirroring.md, "graduate to canary
 * if drift stays within target for 24 hours and error budget is untouched").
 *
 * The dispatcher adds every replay to one summary item per release in the shadow's results table (the release
 * read from the RELEASE_ID of the shadow version that answered); a GuardedAlias with `requireShadow` reads that
 * item, with a consistent read, before any user traffic moves. Pure: no SDK, no aws-cdk-lib.
 */
import type { Check } from './check.js';

/** The results table's partition key value of a release's summary item: `release#<RELEASE_ID>`. */
export function shadowSummaryKey(releaseId: string): string {
  return `release#${releaseId}`;
}

/** How many ΔS bins the summary keeps: bin i counts ΔS in [i/100, (i+1)/100); bin 99 also takes 1. */
export const DELTA_S_BINS = 100;

/** The bin of one ΔS (clamped to [0, 1]). */
export function deltaSBin(deltaS: number): number {
  if (!Number.isFinite(deltaS) || deltaS <= 0) return 0;
  return Math.min(DELTA_S_BINS - 1, Math.floor(deltaS * DELTA_S_BINS));
}

/** The attribute name of a ΔS bin in the summary item: `ds_00` … `ds_99`. */
export function deltaSBinAttribute(bin: number): string {
  return `ds_${String(bin).padStart(2, '0')}`;
}

/** The summary item's attributes besides the key, the bins and `expires_at` (the table's TTL attribute). */
export const SHADOW_SUMMARY_ATTRIBUTES = {
  /** The release, as read from the shadow version's RELEASE_ID. */
  releaseId: 'release_id',
  /** When the first replay of the release was counted, epoch ms (set once, `if_not_exists`). */
  firstSeen: 'first_seen',
  /** When the latest replay was counted, epoch ms. */
  lastSeen: 'last_seen',
  /** Replays counted: scored, shadow errors and shadow timeouts. */
  replays: 'replays',
  /** Replays scored by ΔS (each in one bin). */
  scored: 'scored',
  /** Replays where the shadow failed: a function error or a 5xx. */
  shadowErrors: 'shadow_errors',
  /** Replays where the shadow took longer than the shadow timeout. */
  shadowTimeouts: 'shadow_timeouts',
  /** Replays whose live answer was itself a 5xx: the live error rate the shadow's is held against. */
  liveErrors: 'live_errors',
  /** Scored shadow answers that broke the answer schema (also counted in `scored`). */
  schemaViolations: 'schema_violations',
} as const;

/** A release's shadow record, as read back from its summary item. */
export interface ShadowReleaseSummary {
  readonly releaseId: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly replays: number;
  readonly scored: number;
  readonly shadowErrors: number;
  readonly shadowTimeouts: number;
  readonly liveErrors: number;
  readonly schemaViolations: number;
  /** DELTA_S_BINS counts. */
  readonly bins: readonly number[];
  /** The table's TTL attribute (`expires_at`), epoch seconds; 0 when absent. */
  readonly expiresAt: number;
}

/** A DynamoDB attribute value as the low-level API returns it (only the kinds the summary uses). */
export interface SummaryAttributeValue {
  readonly S?: string;
  readonly N?: string;
}

/** The summary in a DynamoDB item; undefined when there is no item. Missing counters read as 0. */
export function summaryFromItem(item: Record<string, SummaryAttributeValue> | undefined): ShadowReleaseSummary | undefined {
  if (!item) return undefined;
  const n = (name: string): number => {
    const value = Number(item[name]?.N ?? 0);
    return Number.isFinite(value) ? value : 0;
  };
  const a = SHADOW_SUMMARY_ATTRIBUTES;
  return {
    releaseId: item[a.releaseId]?.S ?? '',
    firstSeen: n(a.firstSeen),
    lastSeen: n(a.lastSeen),
    replays: n(a.replays),
    scored: n(a.scored),
    shadowErrors: n(a.shadowErrors),
    shadowTimeouts: n(a.shadowTimeouts),
    liveErrors: n(a.liveErrors),
    schemaViolations: n(a.schemaViolations),
    bins: Array.from({ length: DELTA_S_BINS }, (_, i) => n(deltaSBinAttribute(i))),
    expiresAt: n('expires_at'),
  };
}

/**
 * The median ΔS of the scored replays, as the upper edge of the bin that holds it (so never below the true
 * median, at most 0.01 above it); undefined with nothing scored.
 */
export function medianDeltaS(bins: readonly number[]): number | undefined {
  const total = bins.reduce((sum, count) => sum + count, 0);
  if (total <= 0) return undefined;
  const half = total / 2;
  let seen = 0;
  for (let i = 0; i < bins.length; i++) {
    seen += bins[i];
    if (seen >= half) return (i + 1) / DELTA_S_BINS;
  }
  return 1;
}

/** What a release must have shown in shadow, defaults filled in. */
export interface ShadowPromotionSettings {
  /** Fewest seconds between the release's first and latest counted replay (the seed: 24 hours). */
  readonly windowSeconds: number;
  /** The median ΔS must be below this (the seed stops at ≥ 0.60). */
  readonly maxMedianDeltaS: number;
  /** Most schema violations allowed (the seed: none appear). */
  readonly maxSchemaViolations: number;
  /** Largest amount by which the shadow's failure rate may exceed the live error rate over the same replays. */
  readonly maxErrorRateDelta: number;
  /** Fewest scored replays for the median to be judged. */
  readonly minScored: number;
}

/** The defaults: the seeds' 24 hours, ΔS median < 0.60 and no schema violation; the release gates' error budget. */
export const DEFAULT_SHADOW_PROMOTION: ShadowPromotionSettings = {
  windowSeconds: 24 * 3600,
  maxMedianDeltaS: 0.6,
  maxSchemaViolations: 0,
  maxErrorRateDelta: 0.0005,
  minScored: 100,
};

/**
 * The environment variable through which the ΔS probe's BeforeAllowTraffic hook (canary, linear and all-at-once
 * rollouts) learns each alias's requirement: a JSON object keyed by `<function name>:<alias>`. The staged machine
 * carries it in the alias's configuration (`StagedAliasConfig.shadowPromotion`) instead.
 */
export const SHADOW_PROMOTION_ENV = 'GUARDRAILS_SHADOW_PROMOTION';

/** What a rollout requires of its release's shadow record, and where to read it. */
export interface ShadowPromotionConfig extends ShadowPromotionSettings {
  /** The shadow's results table. */
  readonly table: string;
  /** The release the rollout is about to roll out (the GuardedAlias's RELEASE_ID). */
  readonly releaseId: string;
  /** The SNS topic the decision is published to (GuardedAlias `notifications`); absent for none. */
  readonly topicArn?: string;
}

/** The problems of a configuration read from SHADOW_PROMOTION_ENV or a definition; empty when it is whole. */
export function shadowPromotionConfigProblems(config: unknown): string[] {
  if (typeof config !== 'object' || config === null) return [`expected an object, got ${JSON.stringify(config)}`];
  const c = config as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of ['table', 'releaseId'] as const) if (typeof c[key] !== 'string' || c[key] === '') problems.push(`${key} must be a non-empty string`);
  for (const key of ['windowSeconds', 'maxMedianDeltaS', 'maxSchemaViolations', 'maxErrorRateDelta', 'minScored'] as const) {
    if (typeof c[key] !== 'number' || !Number.isFinite(c[key] as number) || (c[key] as number) < 0) problems.push(`${key} must be a number ≥ 0`);
  }
  return problems;
}

/**
 * The requirement of one alias in SHADOW_PROMOTION_ENV's JSON (keyed by `<function name>:<alias>`); undefined when
 * the variable is unset or does not name the alias. Throws, naming the problem, on a malformed value.
 */
export function shadowPromotionFor(functionName: string, alias: string, envText: string | undefined): ShadowPromotionConfig | undefined {
  if (!envText) return undefined;
  const all = JSON.parse(envText) as Record<string, unknown>;
  const config = all?.[`${functionName}:${alias}`];
  if (config === undefined) return undefined;
  const problems = shadowPromotionConfigProblems(config);
  if (problems.length > 0) throw new Error(`${SHADOW_PROMOTION_ENV} for ${functionName}:${alias}: ${problems.join('; ')}`);
  return config as ShadowPromotionConfig;
}

/** A release's shadow decision as the alias's notifications topic receives it (JSON). */
export interface ShadowPromotionNotification {
  readonly source: 'cdk-rollout-guardrails';
  readonly event: 'shadow-promotion';
  /** The strategy whose rollout asked (`staged`, `canary`, ...). */
  readonly strategy: string;
  readonly deploymentId: string;
  readonly functionName: string;
  readonly alias: string;
  readonly releaseId: string;
  /** `promote`: the rollout goes on; `refuse`: Failed is reported before any traffic moves. */
  readonly decision: 'promote' | 'refuse';
  readonly reasons: string[];
  readonly gates: ReadonlyArray<Omit<Check, 'reason'>>;
}

/** A judged promotion: passed only when every check passed. */
export interface ShadowPromotionVerdict {
  readonly passed: boolean;
  readonly checks: Check[];
  /** One sentence for the hook's report and the notification. */
  readonly summary: string;
}

const hours = (seconds: number): string => `${+(seconds / 3600).toFixed(2)} h`;

/**
 * Judges a release's shadow record against the settings. No record fails every check (nothing was shadowed); nor
 * does a record past its TTL (`now`, epoch ms), which DynamoDB deletes later but may still return (DDB-5).
 */
export function judgeShadowPromotion(summary: ShadowReleaseSummary | undefined, settings: ShadowPromotionSettings, releaseId: string, now: number = Date.now()): ShadowPromotionVerdict {
  if (summary && summary.expiresAt > 0 && summary.expiresAt * 1000 <= now) {
    const reason = `the shadow record of release ${releaseId} expired at ${new Date(summary.expiresAt * 1000).toISOString()} (resultsTtl after its last replay): shadow it again, then deploy again`;
    return { passed: false, checks: [{ name: 'shadow:window', measured: null, threshold: hours(settings.windowSeconds), passed: false, reason }], summary: reason };
  }
  if (!summary || summary.replays === 0) {
    const reason = `no shadow replay of release ${releaseId} was recorded: shadow it first (a ShadowIntegration whose shadow runs this release), then deploy again`;
    return { passed: false, checks: [{ name: 'shadow:window', measured: null, threshold: hours(settings.windowSeconds), passed: false, reason }], summary: reason };
  }
  const checks: Check[] = [];
  const span = Math.max(0, (summary.lastSeen - summary.firstSeen) / 1000);
  checks.push({
    name: 'shadow:window', measured: hours(span), threshold: hours(settings.windowSeconds), passed: span >= settings.windowSeconds,
    reason: span >= settings.windowSeconds
      ? `shadowed for ${hours(span)}, at least ${hours(settings.windowSeconds)}`
      : `shadowed for ${hours(span)} only; it must be shadowed for ${hours(settings.windowSeconds)}`,
  });
  const median = medianDeltaS(summary.bins);
  const enough = summary.scored >= settings.minScored;
  checks.push({
    name: 'shadow:medianDeltaS', measured: median ?? null, threshold: settings.maxMedianDeltaS,
    passed: enough && median !== undefined && median < settings.maxMedianDeltaS,
    reason: !enough
      ? `only ${summary.scored} replays scored, fewer than ${settings.minScored}: too few to judge the median ΔS`
      : median! < settings.maxMedianDeltaS
        ? `median ΔS ≤ ${median} over ${summary.scored} replays, below ${settings.maxMedianDeltaS}`
        : `median ΔS ${median} over ${summary.scored} replays reaches ${settings.maxMedianDeltaS}`,
  });
  checks.push({
    name: 'shadow:schemaViolations', measured: summary.schemaViolations, threshold: settings.maxSchemaViolations,
    passed: summary.schemaViolations <= settings.maxSchemaViolations,
    reason: `${summary.schemaViolations} shadow answers broke the answer schema (at most ${settings.maxSchemaViolations})`,
  });
  const failureRate = (summary.shadowErrors + summary.shadowTimeouts) / summary.replays;
  const liveRate = summary.liveErrors / summary.replays;
  const delta = failureRate - liveRate;
  checks.push({
    name: 'shadow:errorRateDelta', measured: +delta.toFixed(6), threshold: settings.maxErrorRateDelta,
    passed: delta <= settings.maxErrorRateDelta,
    reason: `shadow failed ${summary.shadowErrors + summary.shadowTimeouts} of ${summary.replays} replays (${summary.shadowTimeouts} timeouts), live ${summary.liveErrors}: `
      + `${+(delta * 100).toFixed(3)} points over live (at most ${+(settings.maxErrorRateDelta * 100).toFixed(3)})`,
  });
  const failed = checks.filter((c) => c.passed !== true);
  return {
    passed: failed.length === 0,
    checks,
    summary: failed.length === 0
      ? `release ${releaseId} passed shadow: ${checks.map((c) => c.reason).join('; ')}`
      : `release ${releaseId} has not passed shadow: ${failed.map((c) => c.reason).join('; ')}`,
  };
}
