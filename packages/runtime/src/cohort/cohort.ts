/**
 * Sticky canary cohorts: which users the new version serves during a rollout, decided by a hash of each
 * user's stable id (a tenant id, a stable user id) instead of a draw per request.
 *
 * Why not the alias weight: Lambda routes each invocation of a weighted alias on its own, by probability
 * (register LAM-2), so one user's requests land on both versions, which a multi-turn dialog must not see.
 * Here a user whose bucket is below the step's threshold is served by the new version on every request, and
 * every other user by the old one.
 *
 * The cohort specification, version 1 (frozen: the control and the canary run different builds of this
 * library, and a front door or another language may compute it too, so every implementation must agree):
 *
 *   input  = UTF-8 of "cohort-v1\n" + salt + "\n" + stableId      (salt never contains "\n")
 *   u      = the first 4 bytes of SHA-256(input), read as a big-endian unsigned 32-bit integer
 *   bucket = floor(u × 10000 / 2^32)                               (an integer from 0 to 9999)
 *   in the cohort at weight w (percent) ⇔ bucket < round(w × 100)
 *
 * The threshold only grows with the weight, so each step's cohort contains the last one (a user moves from
 * the old version to the new one at most once per rollout, and never back unless the rollout is rolled back).
 * SHA-256 rather than a faster non-cryptographic hash: every runtime has it built in (Node's and Python's
 * standard libraries, CloudFront Functions' crypto module), so the same bucket can be computed anywhere
 * without porting code; it costs a few microseconds a decision (`npm run bench:cohort`).
 *
 * The salt decides who the guinea pigs are. Use one salt per rollout (see `cohortSalt`): it is constant for
 * the whole rollout, so assignments never change while it runs, however long it runs (≥ 24 h if the schedule
 * says so); the next rollout draws a new cohort, so the same users are not always the first to get a new
 * version. Between two rollouts everybody is on the same, promoted version, so a new draw moves nobody
 * mid-dialog. Without a salt (the empty string) every rollout draws the same users.
 */
import * as crypto from 'crypto';
import { shown } from '../release/errors.js';

/** How many buckets the ids fall into: a weight resolves to 0.01 percentage points. */
export const COHORT_BUCKETS = 10_000;

/** The version tag hashed in front of every input (bump it only with a new specification). */
export const COHORT_SPEC = 'cohort-v1';

const TWO_TO_32 = 4_294_967_296;

/** An argument of a cohort helper is invalid; `argument` names it and `value` holds what was passed. */
export class CohortArgumentError extends Error {
  /** The argument or option at fault, e.g. `weightPercent` or `options.salt`. */
  public readonly argument: string;
  /** The value that was passed. */
  public readonly value: unknown;

  constructor(fn: string, argument: string, value: unknown, expected: string) {
    super(`${fn}: ${argument} must be ${expected}, got: ${showValue(value)}`);
    this.name = 'CohortArgumentError';
    this.argument = argument;
    this.value = value;
  }
}

/** Numbers as written (NaN, Infinity, -0 included), strings quoted, the rest as JSON or its type. */
function showValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (value === undefined) return 'undefined';
  return shown(value);
}

/** @internal The id, checked (routeFor shares the check). */
export function checkId(fn: string, argument: string, stableId: unknown): string {
  if (typeof stableId !== 'string' || stableId.trim() === '') {
    throw new CohortArgumentError(fn, argument, stableId, 'a non-empty string (a tenant id or a stable user id)');
  }
  return stableId;
}

/** @internal The salt, checked; '' when undefined. */
export function checkSalt(fn: string, argument: string, salt: unknown): string {
  if (salt === undefined) return '';
  if (typeof salt !== 'string' || salt.includes('\n')) {
    throw new CohortArgumentError(fn, argument, salt, 'a string without a line break');
  }
  return salt;
}

/** @internal The bucket threshold of a weight in percent, after checking it. */
export function cohortThreshold(fn: string, argument: string, weightPercent: unknown): number {
  if (typeof weightPercent !== 'number' || !(weightPercent >= 0 && weightPercent <= 100)) {
    throw new CohortArgumentError(fn, argument, weightPercent, 'a number from 0 to 100 (percent)');
  }
  return Math.round(weightPercent * (COHORT_BUCKETS / 100));
}

function sha256(input: string): Buffer {
  // crypto.hash (Node 20.12 and later) is the one-shot form, about twice as fast as createHash for short input.
  const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;
  return typeof oneShot === 'function' ? oneShot('sha256', input, 'buffer') : crypto.createHash('sha256').update(input).digest();
}

/** @internal The bucket of an id and a salt already checked. */
export function bucketOf(stableId: string, salt: string): number {
  const u = sha256(`${COHORT_SPEC}\n${salt}\n${stableId}`).readUInt32BE(0);
  return Math.floor((u * COHORT_BUCKETS) / TWO_TO_32);
}

/**
 * The bucket of a stable id, an integer from 0 to 9999: the same id and salt give the same bucket in every
 * process, on every version of this library and in any language that follows the specification above.
 * @param stableId a tenant id or a stable user id (not a session or request id, or stickiness is lost)
 * @param salt the rollout's salt (`cohortSalt`); the empty string when omitted
 * @throws CohortArgumentError when the id is not a non-empty string, or the salt is not a string without "\n"
 */
export function cohortBucket(stableId: string, salt?: string): number {
  const id = checkId('cohortBucket', 'stableId', stableId);
  return bucketOf(id, checkSalt('cohortBucket', 'salt', salt));
}

/** Options of `inCanaryCohort`. */
export interface CohortOptions {
  /**
   * The rollout's salt: the same for every step of one rollout, another for the next rollout (`cohortSalt`).
   * @default '' (every rollout draws the same cohort)
   */
  readonly salt?: string;
}

/**
 * Whether the user is in the canary cohort at a weight: bucket < weight × 100. Raising the weight only adds
 * users, so every step's cohort contains the previous step's.
 * @param weightPercent the step's share of users, from 0 to 100
 * @throws CohortArgumentError naming the argument for an empty id, a weight outside 0–100 or NaN, or a bad salt
 */
export function inCanaryCohort(stableId: string, weightPercent: number, options?: CohortOptions): boolean {
  const threshold = cohortThreshold('inCanaryCohort', 'weightPercent', weightPercent);
  const id = checkId('inCanaryCohort', 'stableId', stableId);
  const salt = checkSalt('inCanaryCohort', 'options.salt', options?.salt);
  return bucketOf(id, salt) < threshold;
}

/** What a salt is made of: the alias the rollout moves and the rollout's own id. */
export interface CohortSaltInput {
  /** The alias (or any stable name of the traffic being split), e.g. `answer:live`. */
  readonly alias: string;
  /** The rollout: the target version or the release id being rolled out, e.g. `42` or `rel-2025-06-03`. */
  readonly rollout: string;
}

/**
 * The recommended salt, `<alias>#<rollout>`: constant for the whole rollout (stickiness for as long as the
 * rollout runs), new for each rollout (a new draw, so the same users are not always first). Both versions
 * must be given the same value at run time, e.g. by the rollout as a stage variable next to the weight: the
 * control version's own RELEASE_ID is the old release, so it cannot derive the new rollout's salt itself.
 * @throws CohortArgumentError when either part is empty or holds a line break, or the alias holds "#"
 */
export function cohortSalt(input: CohortSaltInput): string {
  for (const key of ['alias', 'rollout'] as const) {
    const value: unknown = input?.[key];
    // No '#' in the alias, so that no two (alias, rollout) pairs give the same salt.
    const bad = key === 'alias' ? /[\n#]/ : /\n/;
    if (typeof value !== 'string' || value.trim() === '' || bad.test(value)) {
      const expected = key === 'alias' ? 'a non-empty string without a line break or "#"' : 'a non-empty string without a line break';
      throw new CohortArgumentError('cohortSalt', key, value, expected);
    }
  }
  return `${input.alias}#${input.rollout}`;
}
