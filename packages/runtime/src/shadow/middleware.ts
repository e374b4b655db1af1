import { LambdaMiddleware, settlingMiddleware } from '../middleware.js';
import { createTap, ShadowTapOptions, ShadowTapStats } from './tap.js';

/** The shadow tap as a middleware, with its counters. */
export type ShadowTapMiddleware<E = any, R = any, C = any> = LambdaMiddleware<E, R, C> & {
  readonly shadowStats: () => ShadowTapStats;
};

/**
 * `shadowTap` as a middy middleware: `before` decides whether the request is sampled (one hash of its id), and a
 * sampled request is logged with the response in `after` (or counted as a handler error in `onError`), exactly as
 * shadowTap logs it. Use it first (outermost) so that the record holds the response as the caller got it.
 *
 * @throws ShadowConfigError now, for an invalid option, as shadowTap does
 */
export function shadowTapMiddleware<E = any, R = any, C = any>(options: ShadowTapOptions = {}): ShadowTapMiddleware<E, R, C> {
  const tap = createTap(options);
  const middleware = settlingMiddleware<E, R, C>((request) => {
    const sample = tap.begin(request.event, request.context);
    return sample && ((outcome) => (outcome.ok ? sample.settle(outcome.result) : sample.failed()));
  });
  return { ...middleware, shadowStats: tap.stats };
}
