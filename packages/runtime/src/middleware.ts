/**
 * The shape of a middy middleware, declared here so that the runtime needs no middy dependency: an object with
 * `before`, `after` and `onError`, each called with the request middy passes along. `middy(handler).use(m)`
 * accepts any of the middlewares this package makes (middy 5 and later; the early response of `undefined` needs 6).
 *
 * How they behave in middy's stack, as Powertools' middlewares do:
 * - `before` runs outermost first; a middleware that answers at once (a pin refusal, an idempotent replay) sets
 *   `request.earlyResponse` and returns the response, which skips the rest of the `before` stack, the handler and
 *   the whole `after` stack;
 * - middy then runs no `after`, so the answering middleware first settles the guardrails middlewares that already
 *   ran (`cleanupGuardrails`, registered in `request.internal`) with that response, innermost first, as their
 *   wrappers would have seen it come back: telemetry records it, the tap logs it, idempotency stores it;
 * - `after` runs innermost first with `request.response`; `onError` runs innermost first with `request.error`,
 *   and a response an inner `onError` put in `request.response` counts as the handler's answer.
 */

/** The request a middleware gets: what middy's `Request` holds (its `response` and `error` may be null). */
export interface MiddlewareRequest<E = any, R = any, C = any> {
  event: E;
  context: C;
  response: R | null | undefined;
  error: unknown;
  internal: object;
  earlyResponse?: R | null | undefined;
}

/** A middleware function: middy short-circuits when one returns anything but undefined. */
export type MiddlewareFn<E = any, R = any, C = any> = (request: MiddlewareRequest<E, R, C>) => unknown;

/** A middy middleware object. */
export interface LambdaMiddleware<E = any, R = any, C = any> {
  readonly before?: MiddlewareFn<E, R, C>;
  readonly after?: MiddlewareFn<E, R, C>;
  readonly onError?: MiddlewareFn<E, R, C>;
}

/** How one invocation ended, as a wrapper sees it come back from the handler it wraps. */
export type Outcome<R> = { readonly ok: true; readonly result: R } | { readonly ok: false; readonly error: unknown };

/** Ends what a middleware started in `before` with the invocation's outcome. */
export type Settle<R> = (outcome: Outcome<R>) => unknown;

/** What `before` may start: a settle function, nothing, or an answer to give at once. */
export type Started<R> = Settle<R> | EarlyResponse<R> | undefined;

/** An answer a middleware gives in `before`, instead of the handler's. */
export class EarlyResponse<R> {
  constructor(public readonly response: R) {}
}

const CLEANUP = 'cdk-rollout-guardrails.cleanup';

interface Cleanups {
  readonly request: object;
  readonly list: Array<(response: unknown) => unknown>;
}

function cleanupsOf(request: MiddlewareRequest): Cleanups | undefined {
  const entry = (request.internal as Record<string, unknown> | undefined)?.[CLEANUP] as Cleanups | undefined;
  // A plugin may share one `internal` between requests: an entry left by another request is not this one's.
  return entry?.request === request ? entry : undefined;
}

/**
 * Settles, innermost first, every guardrails middleware whose `before` ran in this request, with
 * `request.response`, as its `after` would. A middleware of your own that answers in `before` should call it
 * first (as with Powertools' `cleanupMiddlewares`), or an idempotency claim stays in progress until its lease ends
 * and telemetry loses the record.
 */
export async function cleanupGuardrails(request: MiddlewareRequest): Promise<void> {
  const entry = cleanupsOf(request);
  if (!entry) return;
  delete (request.internal as Record<string, unknown>)[CLEANUP];
  for (const settle of entry.list.reverse()) await settle(request.response);
}

/** Answers from `before`: settles the middlewares that already ran, then ends the `before` stack with `response`. */
export async function respondEarly<R>(request: MiddlewareRequest<any, R>, response: R): Promise<R> {
  request.response = response;
  await cleanupGuardrails(request);
  // Set, not only returned: middy 6 short-circuits on the property, so that a stored `undefined` is answered too.
  request.earlyResponse = response;
  return response;
}

/**
 * A middleware that starts something in `before` and settles it exactly once: in `after` with the response, in
 * `onError` with the error (or with the response an inner `onError` made of it), or with the early response of
 * a middleware after it. `start` may also answer at once (an `EarlyResponse`).
 */
export function settlingMiddleware<E, R, C>(start: (request: MiddlewareRequest<E, R, C>) => Started<R> | Promise<Started<R>>): LambdaMiddleware<E, R, C> {
  const pending = new WeakMap<object, Settle<R>>();
  const settle = async (request: object, outcome: Outcome<R>): Promise<void> => {
    const end = pending.get(request);
    if (!end) return;
    pending.delete(request);
    await end(outcome);
  };
  return {
    before: async (request) => {
      const started = await start(request);
      if (started instanceof EarlyResponse) return respondEarly(request, started.response);
      if (started === undefined) return undefined;
      pending.set(request, started);
      if (!request.internal) request.internal = {};
      const entry = cleanupsOf(request) ?? { request, list: [] };
      (request.internal as Record<string, unknown>)[CLEANUP] = entry;
      entry.list.push((response) => settle(request, { ok: true, result: response as R }));
      return undefined;
    },
    after: async (request) => {
      await settle(request, { ok: true, result: request.response as R });
    },
    onError: async (request) => {
      const handled = request.response !== undefined && request.response !== null;
      await settle(request, handled ? { ok: true, result: request.response as R } : { ok: false, error: request.error });
    },
  };
}
