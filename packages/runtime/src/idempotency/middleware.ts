import { EarlyResponse, LambdaMiddleware, settlingMiddleware } from '../middleware.js';
import type { IdempotencyContext, IdempotencyOptions } from './options.js';
import { idempotentSteps, type IdempotentStep } from './steps.js';

/**
 * `makeIdempotent` as a middy middleware (the shape of Powertools' `makeHandlerIdempotent`): `before` claims the
 * key, or answers at once with the stored result (the handler does not run; `undefined` too, under middy 6);
 * `after` stores the response; `onError` releases the claim and lets the error go on. The decisions, errors and
 * stored results are makeIdempotent's own: both run the same code.
 *
 * Used with other middlewares, it stores the response as it stands when its `after` runs: use it last (innermost)
 * to store the handler's own result, as `makeIdempotent(handler)` does.
 *
 * @throws IdempotencyConfigurationError now, for an invalid option, as makeIdempotent does
 */
export function idempotencyMiddleware<E = any, R = any, C extends IdempotencyContext = IdempotencyContext>(options: IdempotencyOptions<E> = {}): LambdaMiddleware<E, R, C> {
  return stepsMiddleware(idempotentSteps<E, R, C>(options));
}

/** The middleware of a step function (guardrails' passes warm pings without a key). */
export function stepsMiddleware<E, R, C>(steps: (event: E, context?: C) => Promise<IdempotentStep<R>>): LambdaMiddleware<E, R, C> {
  return settlingMiddleware<E, R, C>(async (request) => {
    const step = await steps(request.event, request.context);
    if (step.kind === 'replay') return new EarlyResponse(step.result);
    if (step.kind === 'run') return undefined;
    return (outcome) => (outcome.ok ? step.complete(outcome.result) : step.release());
  });
}
