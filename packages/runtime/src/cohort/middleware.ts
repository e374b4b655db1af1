import { EarlyResponse, LambdaMiddleware, settlingMiddleware } from '../middleware.js';
import { cohortForwarder, StickyCohortsOptions } from './forward.js';

/**
 * `stickyCohorts` as a middy middleware: `before` decides where the request goes; a request of the canary cohort
 * is answered at once with the canary alias's response (the handler and every middleware after this one skipped),
 * any other goes on. A failed forward throws `CohortForwardError` from `before`. Use it first (outermost), so that
 * a forwarded request is tapped and recorded by the new version's own middlewares, not also by these.
 *
 * @throws CohortArgumentError now, for an invalid option or a malformed GUARDRAILS_COHORT, as stickyCohorts does
 */
export function stickyCohortsMiddleware<E = any, R = any, C = any>(options: StickyCohortsOptions): LambdaMiddleware<E, R, C> {
  const forwarder = cohortForwarder(options);
  return settlingMiddleware<E, R, C>(async (request) => {
    const decision = await forwarder.decide(request.event, request.context);
    if (decision.served !== 'canary') return undefined;
    return new EarlyResponse(await forwarder.forward(request.event, request.context) as R);
  });
}
