/**
 * Sticky canary cohorts: `routeFor` decides, per request, whether the new version or the current one serves
 * it, from a hash of the user's stable id (sticky for the whole rollout, growing with each step's weight) and
 * from an allowed caller's `X-Release: canary` pin. Named exports only (see ../probe/index.ts for why).
 */
export {
  cohortBucket, inCanaryCohort, cohortSalt, CohortArgumentError, COHORT_BUCKETS, COHORT_SPEC,
  type CohortOptions, type CohortSaltInput,
} from './cohort.js';
export {
  canaryPin, asksForCanary, callerPrincipal, PIN_HEADER, PIN_VALUE, PIN_TOKEN_HEADER, MIN_PIN_SECRET_LENGTH,
  type CohortRequest, type CanaryPinOptions, type PinVerdict, type PinRejection, type PinRejectionReason,
} from './pin.js';
export { routeFor, type RouteOptions, type RouteDecision, type CohortRoute, type CohortRouteReason } from './route.js';
export {
  stickyCohorts, cohortForwarder, CohortForwardError, COHORT_STALE_GRACE_MS, COHORT_READ_RETRY_MS, COHORT_READ_TIMEOUT_MS,
  FORWARD_MARGIN_MS, type StickyCohortsOptions, type CohortDecision, type CohortDecisionReason, type CohortForwarder,
} from './forward.js';
export { stickyCohortsMiddleware } from './middleware.js';
