import { stickyCohorts, StickyCohortsOptions } from './cohort/forward.js';
import { stickyCohortsMiddleware } from './cohort/middleware.js';
import { idempotentSteps, runIdempotent } from './idempotency/steps.js';
import { stepsMiddleware } from './idempotency/middleware.js';
import type { IdempotencyOptions } from './idempotency/options.js';
import type { LambdaMiddleware } from './middleware.js';
import { pinGuard, PinGuardOptions, PinMismatchResponse } from './release/pin-guard.js';
import { pinGuardMiddleware, releaseTelemetryMiddleware } from './release/middleware.js';
import { withRelease, WithReleaseOptions } from './release/telemetry.js';
import { isWarmPing } from './release/warm.js';
import { shadowTap, ShadowTapOptions, ShadowTapStats } from './shadow/tap.js';
import { shadowTapMiddleware } from './shadow/middleware.js';

/** The parts of {@link guardrails}; a part left out (undefined) is not applied. Each takes its helper's options. */
export interface GuardrailsOptions<E = any> {
  /** `stickyCohorts`'s options (`stableId` at least): the canary cohort's requests go to the canary alias. */
  readonly cohorts?: StickyCohortsOptions;
  /** `makeIdempotent`'s options; a warm ping without a key passes even when a key is required. */
  readonly idempotency?: IdempotencyOptions<E>;
  /** `pinGuard`'s options (`{}`: the pins from the environment). */
  readonly pins?: PinGuardOptions;
  /** `withRelease`'s options (`{}`: everything from the environment). */
  readonly telemetry?: WithReleaseOptions;
  /** `shadowTap`'s options (`{}`: the configuration ShadowIntegration puts in the environment). */
  readonly shadow?: ShadowTapOptions;
}

/** A handler under guardrails: the handler's answers, pinGuard's 409s, and the tap's counters when it is on. */
export type GuardedHandler<E, R> = ((event: E, context?: any) => Promise<R | PinMismatchResponse>) & {
  readonly shadowStats?: () => ShadowTapStats;
};

/** `guardrails`'s own options are invalid (a part misspelt or not an object); `option` names it. Thrown at wrap time. */
export class GuardrailsConfigError extends Error {
  constructor(public readonly option: string, message: string) {
    super(`${option}: ${message}`);
    this.name = 'GuardrailsConfigError';
  }
}

const PARTS = ['idempotency', 'pins', 'telemetry', 'shadow', 'cohorts'] as const;

/**
 * The runtime helpers around one handler, in one call and in this order, outermost first:
 *
 * `stickyCohorts( shadowTap( withRelease( pinGuard( makeIdempotent( handler )))))`
 *
 * - **The sticky-cohort forwarder outermost**, outside the tap: a request of the canary cohort is forwarded to the
 *   canary alias, where the new version's own guardrails serve, tap and record it. Each request is thus recorded
 *   once, by the version that served it; inside the tap it would be logged as this version's answer, and inside
 *   telemetry counted twice. A failed forward (CohortForwardError) is not recorded here: the canary alias's metrics
 *   count it.
 * - **The shadow tap outermost of what serves here**: its record is meant to hold the live response, the one the
 *   caller got, so nothing that can change this version's answer (a pin refusal, a replayed result) may sit outside
 *   it; only the forwarder does, which hands the request to another version rather than changing an answer. It
 *   never changes a result or an error and never throws into the request, so telemetry inside it misses nothing.
 * - **Telemetry next**, around everything that answers: a pin refusal is recorded (409, not an error), an
 *   idempotency error (a key in progress, a key reused) is counted as an error, a replay is an invocation with its
 *   own latency, all as the caller saw them. Warm pings are left out of the record as withRelease always does.
 * - **Pins before idempotency**: a request this version refuses must not claim its idempotency key. Versions share
 *   the table (the scope is the function name), so a 409 stored under the key would be replayed to the retry the
 *   409 asks for, on the version that matches, and the request would never run.
 * - **Idempotency innermost**, right around the handler: it claims only for requests the handler will serve,
 *   stores the handler's own result, and a replay skips only the handler.
 *
 * One departure from `makeIdempotent`: a warm ping that carries no idempotency key runs the handler without a
 * claim even when a key is required, since the warm gate's pings carry none and would otherwise all fail
 * (`IdempotencyKeyMissingError`). A request with a key is deduplicated whatever else it says.
 *
 * @throws GuardrailsConfigError when the handler is not a function or a part is unknown or not an object; each
 * helper's own error (CohortArgumentError, IdempotencyConfigurationError, ReleaseConfigError, ShadowConfigError) for its
 * options
 */
export function guardrails<E, R>(handler: (event: E, context?: any) => Promise<R>, options: GuardrailsOptions<E> = {}): GuardedHandler<E, R> {
  if (typeof handler !== 'function') throw new GuardrailsConfigError('handler', `must be a function, got: ${typeof handler}`);
  const { cohorts, idempotency, pins, telemetry, shadow } = checkParts(options);
  let guarded: (event: E, context?: any) => Promise<any> = handler;
  if (idempotency) guarded = runIdempotent(idempotentSteps<E, R>(idempotency, isWarmPing), guarded);
  if (pins) guarded = pinGuard(guarded, pins);
  if (telemetry) guarded = withRelease(guarded, telemetry);
  if (shadow) guarded = shadowTap(guarded, shadow);
  if (cohorts) {
    const stats = (guarded as GuardedHandler<E, R>).shadowStats;
    guarded = stickyCohorts(guarded, cohorts);
    if (stats) Object.defineProperty(guarded, 'shadowStats', { value: stats });
  }
  return guarded;
}

/**
 * {@link guardrails} as middy middlewares, in the same order and with the same warm-ping rule:
 * `middy(handler).use(guardrailsMiddleware(options))`. Put middlewares of your own that change the response
 * after these (inside), so that the tap and telemetry see what they made of it.
 */
export function guardrailsMiddleware<E = any>(options: GuardrailsOptions<E> = {}): LambdaMiddleware<E>[] {
  const { cohorts, idempotency, pins, telemetry, shadow } = checkParts(options);
  const middlewares: LambdaMiddleware<E>[] = [];
  if (cohorts) middlewares.push(stickyCohortsMiddleware(cohorts));
  if (shadow) middlewares.push(shadowTapMiddleware(shadow));
  if (telemetry) middlewares.push(releaseTelemetryMiddleware(telemetry));
  if (pins) middlewares.push(pinGuardMiddleware(pins));
  if (idempotency) middlewares.push(stepsMiddleware(idempotentSteps(idempotency, isWarmPing)));
  return middlewares;
}

function checkParts<E>(options: GuardrailsOptions<E>): GuardrailsOptions<E> {
  if (options === null || typeof options !== 'object') throw new GuardrailsConfigError('options', `must be an object, got: ${typeof options}`);
  for (const [name, value] of Object.entries(options)) {
    // A misspelt part would silently leave its guard off.
    if (!(PARTS as readonly string[]).includes(name)) throw new GuardrailsConfigError(name, `is not a part of guardrails (${PARTS.join(', ')})`);
    if (value !== undefined && (value === null || typeof value !== 'object')) throw new GuardrailsConfigError(name, `must be an object of ${name} options, got: ${value === null ? 'null' : typeof value}`);
  }
  return options;
}
