/**
 * One routing decision per request: a pin from an allowed caller goes to the new version whatever the weight;
 * otherwise the user's cohort decides; a request without a stable id goes to the old version.
 */
import { bucketOf, checkId, checkSalt, cohortThreshold } from './cohort.js';
import { type CanaryPinOptions, type CohortRequest, canaryPin } from './pin.js';

/** Which version serves a request: `canary` is the version being rolled out, `control` the current one. */
export type CohortRoute = 'canary' | 'control';

/**
 * Why: `pinned` (an allowed caller's `X-Release: canary`), `cohort` (the user's bucket is under the step's
 * threshold), `control` (it is not), `no-stable-id` (the request names no user, so it stays on the old version).
 */
export type CohortRouteReason = 'pinned' | 'cohort' | 'control' | 'no-stable-id';

/** The decision `routeFor` returns. */
export interface RouteDecision {
  readonly route: CohortRoute;
  readonly reason: CohortRouteReason;
  /** The user's bucket (0–9999), when the request named a user and was not pinned. */
  readonly bucket?: number;
  /** The request carried `X-Release: canary` from a caller not allowed; the pin was ignored. Count these. */
  readonly pinRejected: boolean;
}

/** Options of `routeFor`. */
export interface RouteOptions {
  /** The step's share of users on the new version, in percent (0–100). */
  readonly weight: number;
  /** The rollout's salt (`cohortSalt`), the same for every step. @default '' */
  readonly salt?: string;
  /**
   * The user's stable id (a tenant id, a stable user id), or how to read it from the request. A function that
   * returns nothing (undefined, null, '') sends the request to the old version (`no-stable-id`); a finite
   * number is read as its decimal string.
   */
  readonly stableId: string | ((request: CohortRequest) => string | number | null | undefined);
  /** Who may pin a request with `X-Release: canary`. Without it every pin is refused (and reported). */
  readonly pin?: CanaryPinOptions;
}

function readId(request: CohortRequest, source: RouteOptions['stableId']): string | undefined {
  if (typeof source !== 'function') return source;
  const value = source(request);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/**
 * Which version should serve this request. Deterministic: the same request, weight and salt always give the
 * same answer (nothing random, no clock), so a user keeps their version for the whole rollout and the cohort
 * only grows with the weight. Pure apart from the `stableId` function and the pin's `verify` and `onRejected`.
 * @throws CohortArgumentError for a weight outside 0–100 or NaN, a bad salt, an empty `stableId` string or bad
 *   pin options (each naming the argument and the value)
 */
export function routeFor(request: CohortRequest, options: RouteOptions): RouteDecision {
  const threshold = cohortThreshold('routeFor', 'options.weight', options?.weight);
  const salt = checkSalt('routeFor', 'options.salt', options.salt);
  // A fixed id is checked before the pin, so that a bad configuration fails on every request alike.
  if (typeof options.stableId !== 'function') checkId('routeFor', 'options.stableId', options.stableId);
  const pin = canaryPin(request, options.pin);
  if (pin.status === 'pinned') return { route: 'canary', reason: 'pinned', pinRejected: false };
  const pinRejected = pin.status === 'rejected';
  const id = readId(request, options.stableId);
  if (id === undefined) return { route: 'control', reason: 'no-stable-id', pinRejected };
  const bucket = bucketOf(id, salt);
  return bucket < threshold
    ? { route: 'canary', reason: 'cohort', bucket, pinRejected }
    : { route: 'control', reason: 'control', bucket, pinRejected };
}
