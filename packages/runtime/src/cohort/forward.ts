/**
 * The sticky-cohort forwarder (issue #15 §4): during a staged rollout with sticky cohorts, the alias the users
 * call (`live`) stays unweighted on the current version, and this wrapper, running in that version, sends the
 * canary cohort's requests to the new version through a second alias (`<live>-canary`), so that a user is served
 * by one version on every request of the rollout.
 *
 * Per request: a warm ping is served here. Otherwise the cohort item the staged state machine writes at each step
 * (contract/cohort.ts) is read, at most once per `cacheSeconds` per execution environment, and `routeFor` decides:
 * `control` runs the handler here, `canary` forwards the event with a synchronous Lambda Invoke of this function's
 * canary alias and answers with what the canary answered. A function running the canary version (and the promoted
 * version once CodeDeploy has shifted the alias) serves everything itself, as does a request that arrived through
 * the canary alias, so a request is forwarded at most once.
 *
 * Costs of a forwarded request: one more Lambda request (the canary's), the forwarder billed while it waits, two
 * execution environments busy at once, and one more Invoke round trip of latency. Response streaming
 * (InvokeWithResponseStream) is out of scope: a streaming handler cannot be forwarded by this wrapper.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { COHORT_ENV, COHORT_TABLE_KEY, type CohortEnvironment, type CohortItem, type CohortState, cohortStateOf, parseCohortEnvironment } from '../contract/cohort.js';
import { DYNAMODB_CLIENT_TIMEOUTS } from '../idempotency/persistence/dynamodb.js';
import { isWarmPing } from '../release/warm.js';
import { loadSdk } from '../shared/optional-sdk.js';
import { CohortArgumentError } from './cohort.js';
import { type CanaryPinOptions, canaryPin, type CohortRequest } from './pin.js';
import { type CohortRouteReason, routeFor, type RouteOptions } from './route.js';

/** How long past its expiry the last good read of the cohort item stands in when a new read fails. */
export const COHORT_STALE_GRACE_MS = 60_000;
/** After a failed read, how long requests use what they have (the last good state, or none) before reading again. */
export const COHORT_READ_RETRY_MS = 1_000;
/** The deadline of one read of the cohort item. */
export const COHORT_READ_TIMEOUT_MS = 1_000;
/** How much of the invocation's remaining time the forwarder keeps for itself when it waits for the canary. */
export const FORWARD_MARGIN_MS = 250;

/** Options of {@link stickyCohorts}. */
export interface StickyCohortsOptions {
  /** The user's stable id, or how to read it from the request, as `routeFor`'s `stableId`. */
  readonly stableId: RouteOptions['stableId'];
  /** Who may pin a request to the new version with `X-Release: canary`. Without it every pin is refused. */
  readonly pin?: CanaryPinOptions;
  /**
   * Where the cohort item is and which alias serves the canary.
   * @default - `GUARDRAILS_COHORT` parsed; without it every request is served here
   */
  readonly environment?: CohortEnvironment;
  /** SDK v3 clients (for tests). @default - created on first use */
  readonly clients?: { readonly dynamodb?: DynamoDBClient; readonly lambda?: LambdaClient };
  /** The clock, in milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Where warnings and notices go, one JSON line each. @default console.warn */
  readonly log?: (line: string) => void;
  /** Called with every decision (never for a forward's outcome); a callback that throws is ignored. */
  readonly onDecision?: (decision: CohortDecision) => void;
}

/**
 * Why a request was served where it was: `warm-ping`, `not-configured` (no `GUARDRAILS_COHORT`), `via-canary-alias`
 * (it was forwarded already), `no-state` (no usable cohort item), `canary-version` (this is the version being rolled
 * out), `route-error` (the stableId function threw), or routeFor's reason (`pinned`, `cohort`, `control`, `no-stable-id`).
 */
export type CohortDecisionReason = 'warm-ping' | 'not-configured' | 'via-canary-alias' | 'no-state' | 'canary-version' | 'route-error' | CohortRouteReason;

/** One request's decision, as `onDecision` receives it. */
export interface CohortDecision {
  /** `local`: this version's handler serves it; `canary`: it is forwarded to the canary alias. */
  readonly served: 'local' | 'canary';
  readonly reason: CohortDecisionReason;
  /** The request carried `X-Release: canary` from a caller not allowed (the pin was ignored). */
  readonly pinRejected: boolean;
  /** The user's bucket (0–9999), when routeFor computed one. */
  readonly bucket?: number;
  /** The cohort state the decision used, when there was one. */
  readonly state?: CohortState;
  /** Why there was no state (`no-state`), or what the stableId function threw (`route-error`). */
  readonly detail?: string;
}

/**
 * A forwarded request failed: the canary answered with a function error, or the Invoke failed (throttled, timed
 * out, any SDK error: `cause`). The forwarder throws it so that the live alias counts the request as an error,
 * since the caller sees one either way. The gates count the canary alias's Errors and Throttles against the new
 * version and subtract them from the live alias's, so that a failure of the new version is not also charged to the
 * current one.
 */
export class CohortForwardError extends Error {
  /** The canary alias the request was forwarded to. */
  public readonly canaryAlias: string;
  /** Invoke's FunctionError (`Unhandled`, `Handled`) when the canary's handler failed. */
  public readonly functionError?: string;
  /** The canary's error type (its payload's `errorType`), when it failed. */
  public readonly errorType?: string;
  /** The canary's error message (its payload's `errorMessage`), when it failed. */
  public readonly errorMessage?: string;

  constructor(message: string, details: { canaryAlias: string; functionError?: string; errorType?: string; errorMessage?: string; cause?: unknown }) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CohortForwardError';
    this.canaryAlias = details.canaryAlias;
    if (details.functionError !== undefined) this.functionError = details.functionError;
    if (details.errorType !== undefined) this.errorType = details.errorType;
    if (details.errorMessage !== undefined) this.errorMessage = details.errorMessage;
  }
}

/** The forwarder of one wrapped handler: `decide` for a request, `forward` to the canary alias. */
export interface CohortForwarder {
  decide(event: unknown, context: any): Promise<CohortDecision>;
  forward(event: unknown, context: any): Promise<unknown>;
}

type DynamoDBModule = typeof import('@aws-sdk/client-dynamodb');
type LambdaModule = typeof import('@aws-sdk/client-lambda');
interface Snapshot { readonly state?: CohortState; readonly reason?: string; readonly until: number }

const FN = 'stickyCohorts';

/**
 * Wraps an HTTP handler (API Gateway REST or HTTP API, function URL, ALB) so that the canary cohort's requests are
 * served by the canary alias and every other request by `handler`. In `guardrails()` it is the outermost part: a
 * forwarded request is served, tapped and recorded by the new version's own guardrails.
 *
 * The cohort item is read with an eventually consistent GetItem: the read is reused for `cacheSeconds` anyway, so
 * a step's new weight takes effect within a few seconds either way, at half the read cost. Concurrent requests
 * share one read. When a read fails (logged, never the request's failure) the last good read stands in for up to
 * 60 s past its expiry, then requests are served here until a read succeeds.
 *
 * @throws CohortArgumentError now, naming the option or `GUARDRAILS_COHORT` and its value, for a handler that is not
 *   a function, a missing or empty `stableId`, bad `pin` options or a malformed environment
 */
export function stickyCohorts<E, R>(handler: (event: E, context?: any) => Promise<R>, options: StickyCohortsOptions): (event: E, context?: any) => Promise<R> {
  if (typeof handler !== 'function') throw new CohortArgumentError(FN, 'handler', handler, 'a function');
  const forwarder = cohortForwarder(options);
  return async (event, context) => {
    const decision = await forwarder.decide(event, context);
    return decision.served === 'canary' ? forwarder.forward(event, context) as Promise<R> : handler(event, context);
  };
}

/**
 * The forwarder behind {@link stickyCohorts} and its middleware, its options checked now.
 * @throws CohortArgumentError as stickyCohorts does
 */
export function cohortForwarder(options: StickyCohortsOptions): CohortForwarder {
  const { environment, pin, now, log, onDecision } = checkOptions(options);
  const clock = now ?? Date.now;
  const write = log ?? ((line: string) => console.warn(line));
  const say = (level: 'INFO' | 'WARN', message: string, extra: object = {}): void => {
    try {
      write(JSON.stringify({ level, source: 'cdk-rollout-guardrails/cohorts', message, ...extra }));
    } catch {
      // A failing log sink is not the request's problem.
    }
  };
  const tell = (decision: CohortDecision): CohortDecision => {
    try {
      onDecision?.(decision);
    } catch {
      // An observer that throws must not change where the request goes.
    }
    return decision;
  };

  let dynamodb = options.clients?.dynamodb;
  let lambda = options.clients?.lambda;
  let ddbModule: DynamoDBModule | undefined;
  let lambdaModule: LambdaModule | undefined;
  const ddb = () => (ddbModule ??= loadSdk<DynamoDBModule>('@aws-sdk/client-dynamodb', FN));
  const lam = () => (lambdaModule ??= loadSdk<LambdaModule>('@aws-sdk/client-lambda', FN));

  let good: Snapshot | undefined;
  let inFlight: Promise<Snapshot | undefined> | undefined;
  let retryAt = -Infinity;
  let toldUnconfigured = false;

  const read = async (env: CohortEnvironment): Promise<Snapshot> => {
    dynamodb ??= new (ddb().DynamoDBClient)({ requestHandler: { ...DYNAMODB_CLIENT_TIMEOUTS } });
    const output = await dynamodb.send(new (ddb().GetItemCommand)({ TableName: env.table, Key: { [COHORT_TABLE_KEY]: { S: env.key } } }),
      { abortSignal: AbortSignal.timeout(COHORT_READ_TIMEOUT_MS) });
    const found = cohortStateOf(output.Item as CohortItem | undefined);
    const until = clock() + env.cacheSeconds * 1000;
    return typeof found === 'string' ? { reason: found, until } : { state: found, until };
  };
  const fallback = (at: number, why: string): Snapshot =>
    good && at < good.until + COHORT_STALE_GRACE_MS ? good : { reason: `the cohort item could not be read (${why})`, until: at };
  const snapshot = async (env: CohortEnvironment): Promise<Snapshot> => {
    const at = clock();
    if (good && at < good.until) return good;
    if (at < retryAt) return fallback(at, 'the last read failed');
    inFlight ??= read(env).then((fresh) => (good = fresh), (error: unknown) => {
      retryAt = clock() + COHORT_READ_RETRY_MS;
      say('WARN', 'the cohort item could not be read; using the last good state for up to 60 s past its expiry, else serving here', {
        table: env.table, key: env.key, error: `${(error as Error)?.name}: ${(error as Error)?.message}`,
      });
      return undefined;
    }).finally(() => { inFlight = undefined; });
    return (await inFlight) ?? fallback(clock(), 'the last read failed');
  };

  const decide = async (event: unknown, context: any): Promise<CohortDecision> => {
    if (isWarmPing(event)) return tell({ served: 'local', reason: 'warm-ping', pinRejected: false });
    if (!environment) {
      if (!toldUnconfigured) {
        toldUnconfigured = true;
        say('INFO', `no sticky rollout is configured (${COHORT_ENV} is not set): every request is served by this version`);
      }
      return tell({ served: 'local', reason: 'not-configured', pinRejected: false });
    }
    const arn = context?.invokedFunctionArn;
    if (typeof arn === 'string' && arn.endsWith(`:${environment.canaryAlias}`)) return tell({ served: 'local', reason: 'via-canary-alias', pinRejected: false });
    const { state, reason } = await snapshot(environment);
    if (!state) return tell({ served: 'local', reason: 'no-state', pinRejected: false, detail: reason });
    if (state.canaryVersion === process.env.AWS_LAMBDA_FUNCTION_VERSION) return tell({ served: 'local', reason: 'canary-version', pinRejected: false, state });
    let route;
    try {
      route = routeFor(event as CohortRequest, { weight: state.weight, salt: state.salt, stableId: options.stableId, pin });
    } catch (error) {
      say('WARN', 'the cohort route could not be decided; serving here', { error: `${(error as Error)?.name}: ${(error as Error)?.message}` });
      return tell({ served: 'local', reason: 'route-error', pinRejected: false, state, detail: String((error as Error)?.message ?? error) });
    }
    return tell({
      served: route.route === 'canary' ? 'canary' : 'local', reason: route.reason, pinRejected: route.pinRejected, state,
      ...(route.bucket !== undefined ? { bucket: route.bucket } : {}),
    });
  };

  const forward = async (event: unknown, context: any): Promise<unknown> => {
    const alias = environment!.canaryAlias;
    const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? context?.functionName;
    if (typeof functionName !== 'string' || functionName === '') {
      throw new CohortForwardError('cannot forward to the canary alias: AWS_LAMBDA_FUNCTION_NAME is not set', { canaryAlias: alias });
    }
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? Number(context.getRemainingTimeInMillis()) : NaN;
    const timeoutMs = Number.isFinite(remaining) ? Math.max(1, remaining - FORWARD_MARGIN_MS) : undefined;
    let output;
    try {
      lambda ??= new (lam().LambdaClient)({});
      output = await lambda.send(new (lam().InvokeCommand)({
        FunctionName: functionName, Qualifier: alias, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)),
      }), timeoutMs === undefined ? {} : { abortSignal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      const timedOut = (error as Error)?.name === 'AbortError' || (error as Error)?.name === 'TimeoutError';
      const why = timedOut ? `no answer within ${timeoutMs} ms` : `${(error as Error)?.name}: ${(error as Error)?.message}`;
      throw new CohortForwardError(`the forward to ${functionName}:${alias} failed (${why})`, { canaryAlias: alias, cause: error });
    }
    const text = output.Payload ? Buffer.from(output.Payload).toString('utf8') : '';
    let payload: any;
    try {
      payload = text === '' ? undefined : JSON.parse(text);
    } catch (error) {
      throw new CohortForwardError(`the canary ${functionName}:${alias} answered with a payload that is not JSON`, { canaryAlias: alias, cause: error });
    }
    if (output.FunctionError) {
      const errorType = typeof payload?.errorType === 'string' ? payload.errorType : undefined;
      const errorMessage = typeof payload?.errorMessage === 'string' ? payload.errorMessage : undefined;
      throw new CohortForwardError(`the canary ${functionName}:${alias} failed (${output.FunctionError}): ${errorType ?? 'Error'}: ${errorMessage ?? ''}`,
        { canaryAlias: alias, functionError: output.FunctionError, errorType, errorMessage });
    }
    return payload;
  };

  return { decide, forward };
}

function checkOptions(options: StickyCohortsOptions): StickyCohortsOptions {
  if (options === null || typeof options !== 'object') throw new CohortArgumentError(FN, 'options', options, 'an object with stableId');
  const { stableId, pin, clients } = options;
  if (typeof stableId !== 'function' && (typeof stableId !== 'string' || stableId.trim() === '')) {
    throw new CohortArgumentError(FN, 'options.stableId', stableId, 'a non-empty string or a function of the request (a tenant id or a stable user id)');
  }
  for (const key of ['now', 'log', 'onDecision'] as const) {
    if (options[key] !== undefined && typeof options[key] !== 'function') throw new CohortArgumentError(FN, `options.${key}`, options[key], 'a function');
  }
  if (clients !== undefined && (clients === null || typeof clients !== 'object')) throw new CohortArgumentError(FN, 'options.clients', clients, 'an object of SDK clients');
  if (pin !== undefined) {
    if (pin === null || typeof pin !== 'object') throw new CohortArgumentError(FN, 'options.pin', pin, 'canaryPin options (an object)');
    try {
      canaryPin({}, pin);
    } catch (error) {
      if (!(error instanceof CohortArgumentError)) throw error;
      const renamed = new CohortArgumentError(FN, `options.pin${error.argument.replace(/^options/, '')}`, error.value, 'valid');
      renamed.message = `${FN}: options.pin: ${error.message}`;
      throw renamed;
    }
  }
  return { ...options, environment: environmentOf(options.environment) };
}

function environmentOf(given: CohortEnvironment | undefined): CohortEnvironment | undefined {
  const [name, text] = given !== undefined ? ['options.environment', JSON.stringify(given) ?? String(given)] : [COHORT_ENV, process.env[COHORT_ENV]];
  if (name === COHORT_ENV && (text === undefined || text.trim() === '')) return undefined;
  try {
    return parseCohortEnvironment(text!);
  } catch (error) {
    throw new CohortArgumentError(FN, name, given ?? text, `a CohortEnvironment as JSON (${(error as Error).message})`);
  }
}
