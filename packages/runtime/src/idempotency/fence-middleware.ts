import { IdempotencyConfigurationError } from './errors.js';
import { fenceKeys, fenceSteps, type FenceOptions } from './fence.js';
import type { LambdaMiddleware } from '../middleware.js';
import { stepsMiddleware } from './middleware.js';
import type { IdempotencyContext } from './options.js';

/** Options of `fenceMiddleware`: the fence's, and the partition of an invocation. */
export interface FenceMiddlewareOptions<E> extends FenceOptions {
  /**
   * The one partition the invocation works on, from its event (a Kinesis batch's shard, an SQS FIFO batch's
   * message group when the batch holds one, a scheduled job's partition). Throw for an event spanning several.
   */
  readonly partition: (event: E) => string;
}

/**
 * `makeFence` as a middy middleware, fencing the whole invocation on the partition `options.partition` finds in
 * its event: `before` claims the (partition, release) key, or answers at once with the recorded result (the
 * handler does not run), or throws `FenceHeldError` while another call holds it; `after` records the response;
 * `onError` releases the claim and lets the error go on. The same steps as `makeFence`, through the same
 * middleware as `idempotencyMiddleware`. To fence each record of a batch on its own partition, call a
 * `makeFence` runner per record in the handler: a middleware sees the invocation, not its records.
 *
 * @throws IdempotencyConfigurationError now, without a partition function or for an invalid store option
 */
export function fenceMiddleware<E = any, R = any, C extends IdempotencyContext = IdempotencyContext>(options: FenceMiddlewareOptions<E>): LambdaMiddleware<E, R, C> {
  const partition = (options as Partial<FenceMiddlewareOptions<E>> | null)?.partition;
  if (typeof partition !== 'function') throw new IdempotencyConfigurationError('fenceMiddleware needs options.partition, a function of the event giving its partition');
  const keyOf = fenceKeys(options);
  const steps = fenceSteps<R>(options);
  // The invocation's event is the delivery: its SQS records received before count as retries under withRelease.
  return stepsMiddleware<E, R, C>((event, context) => steps({ key: keyOf({ partition: partition(event) }), delivery: event }, context));
}
