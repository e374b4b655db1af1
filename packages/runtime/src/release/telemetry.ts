import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { headerValue } from '../idempotency/keys.js';
import { ReleaseConfigError, shown } from './errors.js';
import { ReleaseIdentity, releaseFromEnv } from './pins.js';
import { isWarmPing } from './warm.js';
import { ERROR_CLASS_DIMENSIONS, errorClassOf, IDEMPOTENCY_METRICS, TELEMETRY_DIMENSIONS, TELEMETRY_NAMESPACE } from '../contract/telemetry.js';
import type { Outcome } from '../middleware.js';

export { TELEMETRY_DIMENSIONS, TELEMETRY_NAMESPACE };

/** Quality measures a handler may report for the invocation it is serving. */
export interface QualityReport {
  /** ΔS of this answer, e.g. against its retrieved context. */
  readonly deltaS?: number;
  /** Coverage of the target section, 0..1. */
  readonly coverage?: number;
  /** λ state, e.g. 'convergent'. */
  readonly lambdaState?: string;
}

/** Options of `withRelease`. */
export interface WithReleaseOptions {
  /** @default TELEMETRY_NAMESPACE ('RolloutGuardrails') */
  readonly namespace?: string;
  /** @default - AWS_LAMBDA_FUNCTION_NAME, or 'unknown' */
  readonly functionName?: string;
  /** @default - RELEASE_ID and the pins from the function's environment */
  readonly release?: ReleaseIdentity;
  /** The revision (Lambda version) serving. @default - AWS_LAMBDA_FUNCTION_VERSION, or '$LATEST' */
  readonly revision?: string;
  /**
   * The variant the request belongs to.
   * @default - the request's `X-Release` or `X-Exp` header, else the release ID
   */
  readonly variant?: string;
  /** The route of a request. @default - `GET /answer` for API Gateway events, 'invoke' otherwise */
  readonly route?: (event: unknown) => string;
  /**
   * Where each record goes. A sink that throws (or returns a promise that rejects) loses that record, with one
   * line on standard error; it never changes what the handler returns or throws.
   * @default - one line on standard output, where Lambda sends it to CloudWatch Logs
   */
  readonly sink?: (line: string) => void;
}

/**
 * What the idempotency helpers counted during one invocation: the two metrics (IDEMPOTENCY_METRICS) and, for the
 * record's fields, what they are made of.
 */
export interface IdempotencyCounts {
  /** Metric `DedupeHits`: calls whose handler did not run because the key was taken (the three below). */
  dedupeHits: number;
  /** Metric `Retries`: deliveries known to be repeats (per call, the larger of its redelivered SQS records and 1 for a key seen again). */
  retries: number;
  /** Calls answered with a completed record's stored result. */
  replayed: number;
  /** Calls refused because the key was in progress elsewhere. */
  inProgress: number;
  /** Calls refused because the key completed without a stored result. */
  notStored: number;
  /** SQS records whose ApproximateReceiveCount was above 1. */
  redelivered: number;
  /** Keys that came back after their record completed, or after a lapsed claim. */
  keyAgain: number;
}

/** What the handler reports during one invocation: its quality measures, its cache lookups and its idempotency counts. */
interface Reported {
  report?: QualityReport;
  cache?: { lookups: number; hits: number };
  idempotency?: IdempotencyCounts;
}

const quality = new AsyncLocalStorage<Reported>();
/**
 * The report of the invocation a middleware is recording. A middleware cannot run the handler inside
 * `quality.run`; Lambda runs one invocation at a time in an execution environment, so one slot is enough.
 */
let middlewareReport: Reported | undefined;

/** Sets (or, with undefined, clears) the report `reportQuality` adds to outside a `withRelease` handler. */
export function setMiddlewareReport(report: Reported | undefined): void {
  middlewareReport = report;
}
/**
 * Whether the environment's first invocation is a cold start a user waits for. An environment Lambda
 * initialised ahead of time for provisioned concurrency (`AWS_LAMBDA_INITIALIZATION_TYPE` is
 * `provisioned-concurrency`) ran its init before any request, so its first invocation is not one.
 */
function startsCold(): boolean {
  return process.env.AWS_LAMBDA_INITIALIZATION_TYPE !== 'provisioned-concurrency';
}

/** The first invocation of an on-demand execution environment is its cold start; a warm ping takes it if it comes first. */
let coldStart = startsCold();

/**
 * Reports quality measures (ΔS, coverage, λ) of the invocation being served; `withRelease` (or
 * `releaseTelemetryMiddleware`) adds them to its record. Outside either it does nothing. It never throws: a
 * measure of the wrong type (a ΔS or coverage that is not a finite number, a λ state that is not a string, a
 * report that is not an object) is left out, with one line on standard error, since telemetry must not change
 * what the handler does.
 */
export function reportQuality(report: QualityReport): void {
  try {
    const store = quality.getStore() ?? middlewareReport;
    if (!store) return;
    if (report === null || typeof report !== 'object') {
      telemetryProblem(`reportQuality ignored a report that is not an object: ${shown(report)}`);
      return;
    }
    const accepted: { -readonly [K in keyof QualityReport]: QualityReport[K] } = {};
    const rejected: string[] = [];
    const { deltaS, coverage, lambdaState } = report;
    if (deltaS !== undefined) {
      if (typeof deltaS === 'number' && Number.isFinite(deltaS)) accepted.deltaS = deltaS;
      else rejected.push(`deltaS must be a finite number, got: ${shown(deltaS)}`);
    }
    if (coverage !== undefined) {
      if (typeof coverage === 'number' && Number.isFinite(coverage)) accepted.coverage = coverage;
      else rejected.push(`coverage must be a finite number, got: ${shown(coverage)}`);
    }
    if (lambdaState !== undefined) {
      if (typeof lambdaState === 'string') accepted.lambdaState = lambdaState;
      else rejected.push(`lambdaState must be a string, got: ${shown(lambdaState)}`);
    }
    store.report = { ...store.report, ...accepted };
    if (rejected.length > 0) telemetryProblem(`reportQuality left out: ${rejected.join('; ')}`);
  } catch (error) {
    telemetryProblem(`reportQuality ignored a report it could not read: ${errorText(error)}`);
  }
}

/**
 * Counts one cache lookup of the invocation being served, a hit or not, in its `withRelease` (or
 * `releaseTelemetryMiddleware`) record: metrics `CacheLookups` and `CacheHits` by release and revision, so that
 * each version's hit rate, and its change after the namespace split (see `cacheKey`), can be read and gated.
 * Outside either it does nothing; it never throws.
 */
export function reportCacheLookup(hit: boolean): void {
  try {
    const store = quality.getStore() ?? middlewareReport;
    if (!store) return;
    if (typeof hit !== 'boolean') {
      telemetryProblem(`reportCacheLookup ignored a lookup whose hit is not a boolean: ${shown(hit)}`);
      return;
    }
    const cache = store.cache ?? { lookups: 0, hits: 0 };
    store.cache = { lookups: cache.lookups + 1, hits: cache.hits + (hit ? 1 : 0) };
  } catch (error) {
    telemetryProblem(`reportCacheLookup ignored a lookup it could not count: ${errorText(error)}`);
  }
}

/**
 * The idempotency counts of the invocation being recorded by `withRelease` (or `releaseTelemetryMiddleware`),
 * created on first use, so that its record names DedupeHits and Retries; undefined outside a recorded invocation,
 * where nothing is counted. For the idempotency helpers; cheap enough to call on every idempotent call.
 */
export function idempotencyCounts(): IdempotencyCounts | undefined {
  const store = quality.getStore() ?? middlewareReport;
  if (!store) return undefined;
  return (store.idempotency ??= { dedupeHits: 0, retries: 0, replayed: 0, inProgress: 0, notStored: 0, redelivered: 0, keyAgain: 0 });
}

/** One line on standard error for a telemetry failure; never throws. */
function telemetryProblem(message: string): void {
  try {
    console.error(JSON.stringify({ level: 'ERROR', source: 'cdk-rollout-guardrails/telemetry', message }));
  } catch {
    // Nothing is left to tell it to.
  }
}

function errorText(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return 'an error that cannot be shown';
  }
}

/**
 * Wraps a handler so that every invocation writes one record in CloudWatch Embedded Metric Format: metrics
 * `Invocations`, `Errors` (a thrown error or a 5xx response), `Latency` (ms) and `ColdStart`, by release and
 * revision, plus the fields of the canary seed's telemetry record that apply to Lambda (ts, route, variant,
 * release_id, revision, cold_start, latency_ms, status, and delta_s / coverage / lambda_state when the
 * handler reports them with `reportQuality`). Warm pings reach the handler but write no record.
 * Works with API Gateway REST (v1) and HTTP API (v2) proxy events and plain invocations, around any handler,
 * including one wrapped by `pinGuard`.
 *
 * Telemetry never changes what the handler returns or throws: a sink or a `route` that fails, or a record that
 * cannot be written, loses that record with one line on standard error. Options of the wrong type are rejected
 * here, at wrap time, with a `ReleaseConfigError` naming the option and the value.
 */
export function withRelease<E, R>(handler: (event: E, context?: any) => Promise<R>, options: WithReleaseOptions = {}): (event: E, context?: any) => Promise<R> {
  if (typeof handler !== 'function') throw new ReleaseConfigError('handler', `must be a function, got: ${shown(handler)}`);
  const begin = releaseRecorder(options);
  return async (event: E, context?: any) => {
    const recording = begin(event, context);
    if (!recording) return handler(event, context);
    let outcome: Outcome<R>;
    try {
      outcome = { ok: true, result: await quality.run(recording.report, () => handler(event, context)) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    recording.end(outcome);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  };
}

/** One invocation being recorded: the quality the handler reports goes in `report`; `end` writes the record. */
export interface Recording {
  readonly report: Reported;
  /** Writes the invocation's record; never throws. */
  end(outcome: Outcome<unknown>): void;
}

/**
 * withRelease's telemetry, shared by `withRelease` and `releaseTelemetryMiddleware`: checks the options (throwing
 * ReleaseConfigError now) and returns what starts recording an invocation: undefined for a warm ping (no record),
 * else a Recording to end with the invocation's outcome. Each call takes the environment's cold start if it is left.
 */
export function releaseRecorder(options: WithReleaseOptions): (event: unknown, context?: any) => Recording | undefined {
  checkOptions(options);
  const release = options.release ?? releaseFromEnv();
  const releaseId = release.RELEASE_ID ?? 'unknown';
  const revision = options.revision ?? process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST';
  const functionName = options.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown';
  const sink = options.sink ?? ((line: string) => { process.stdout.write(line + '\n'); });
  const routeOf = options.route ?? defaultRoute;
  // Everything that does not change between invocations is rendered once.
  const metrics = [
    { Name: 'Invocations', Unit: 'Count' },
    { Name: 'Errors', Unit: 'Count' },
    { Name: 'Latency', Unit: 'Milliseconds' },
    { Name: 'ColdStart', Unit: 'Count' },
  ];
  const block = (names: typeof metrics) => JSON.stringify([{ Namespace: options.namespace ?? TELEMETRY_NAMESPACE, Dimensions: TELEMETRY_DIMENSIONS, Metrics: names }]);
  // A record with cache lookups carries their two metrics too, and one where an idempotency helper ran carries
  // DedupeHits and Retries (a metric the directive names must be in the record); one rendering per combination.
  const cacheMetrics = [{ Name: 'CacheLookups', Unit: 'Count' }, { Name: 'CacheHits', Unit: 'Count' }];
  const idempotencyMetrics = [{ Name: IDEMPOTENCY_METRICS.dedupeHits, Unit: 'Count' }, { Name: IDEMPOTENCY_METRICS.retries, Unit: 'Count' }];
  const metricsBlocks = [
    block(metrics), block([...metrics, ...cacheMetrics]),
    block([...metrics, ...idempotencyMetrics]), block([...metrics, ...cacheMetrics, ...idempotencyMetrics]),
  ];
  // A failed invocation's record carries a second directive: ErrorsByClass by function, revision and class.
  const errorClassBlock = JSON.stringify({ Namespace: options.namespace ?? TELEMETRY_NAMESPACE, Dimensions: ERROR_CLASS_DIMENSIONS, Metrics: [{ Name: 'ErrorsByClass', Unit: 'Count' }] });
  const withErrorClass = (directives: string) => `${directives.slice(0, -1)},${errorClassBlock}]`;
  const identity = `"FunctionName":${JSON.stringify(functionName)},"ReleaseId":${JSON.stringify(releaseId)},"Revision":${JSON.stringify(revision)},"release_id":${JSON.stringify(releaseId)},"revision":${JSON.stringify(revision)}`;

  const write = (line: string): void => {
    const returned: unknown = sink(line);
    // A sink written as an async function rejects instead of throwing: an unhandled rejection would end the process.
    if (returned !== null && typeof returned === 'object' && typeof (returned as { then?: unknown }).then === 'function') {
      (returned as Promise<unknown>).then(undefined, (error: unknown) => telemetryProblem(`telemetry record lost: the sink failed: ${errorText(error)}`));
    }
  };

  return (event, context) => {
    const cold = coldStart;
    coldStart = false;
    let warm = false;
    try {
      warm = isWarmPing(event);
    } catch {
      // An event whose members cannot be read is not a warm ping.
    }
    if (warm) return undefined;
    const store: Reported = {};
    const started = performance.now();
    return { report: store, end: (outcome) => record(event, context, outcome, store, cold, started) };
  };

  function record(event: unknown, context: any, outcome: Outcome<unknown>, store: Reported, cold: boolean, started: number): void {
      // Everything from here is telemetry: whatever fails in it, the handler's own result or error goes back as it came.
      try {
        const latency = Math.round((performance.now() - started) * 1000) / 1000;
        const now = Date.now();
        let status: number | string = 'error';
        let failed = true;
        let errorType: string | undefined;
        if (outcome.ok) {
          const code = (outcome.result as { statusCode?: unknown } | null)?.statusCode;
          status = typeof code === 'number' ? code : 200;
          failed = status >= 500;
        } else {
          const name = (outcome.error as { name?: unknown } | null | undefined)?.name;
          errorType = typeof name === 'string' ? name : 'Error';
        }
        let route: string;
        try {
          const given = routeOf(event);
          route = typeof given === 'string' ? given : defaultRoute(event);
          if (typeof given !== 'string') telemetryProblem(`the route option returned ${shown(given)}, not a string; recorded the default route`);
        } catch (error) {
          route = defaultRoute(event);
          telemetryProblem(`the route option threw (${errorText(error)}); recorded the default route`);
        }
        const variant = options.variant ?? text(headerValue(event, 'x-release')) ?? text(headerValue(event, 'x-exp')) ?? releaseId;
        const requestId = text(context?.awsRequestId);
        const q = store.report;
        const c = store.cache;
        const idem = store.idempotency;
        const directives = metricsBlocks[(c ? 1 : 0) + (idem ? 2 : 0)];
        const errorClass = failed ? errorClassOf(errorType === undefined ? status as number : undefined) : undefined;
        const line = `{"_aws":{"Timestamp":${now},"CloudWatchMetrics":${errorClass ? withErrorClass(directives) : directives}},${identity}`
          + `,"Invocations":1,"Errors":${failed ? 1 : 0},"Latency":${latency},"ColdStart":${cold ? 1 : 0}`
          + (errorClass ? `,"ErrorClass":${JSON.stringify(errorClass)},"ErrorsByClass":1` : '')
          + (c ? `,"CacheLookups":${c.lookups},"CacheHits":${c.hits}` : '')
          + (idem ? idempotencyFields(idem) : '')
          + `,"ts":"${new Date(now).toISOString()}","route":${JSON.stringify(route)},"variant":${JSON.stringify(variant)}`
          + `,"cold_start":${cold},"latency_ms":${latency},"status":${JSON.stringify(status)}`
          + (errorType ? `,"error_type":${JSON.stringify(errorType)}` : '')
          + (requestId ? `,"request_id":${JSON.stringify(requestId)}` : '')
          + (q?.deltaS !== undefined && Number.isFinite(q.deltaS) ? `,"delta_s":${q.deltaS}` : '')
          + (q?.coverage !== undefined && Number.isFinite(q.coverage) ? `,"coverage":${q.coverage}` : '')
          + (q?.lambdaState !== undefined ? `,"lambda_state":${JSON.stringify(q.lambdaState)}` : '')
          + '}';
        try {
          write(line);
        } catch (error) {
          telemetryProblem(`telemetry record lost: the sink failed: ${errorText(error)}`);
        }
      } catch (error) {
        telemetryProblem(`telemetry record lost: ${errorText(error)}`);
      }
  }
}

/** The idempotency metrics of a record, and the non-zero parts they are made of as fields. */
function idempotencyFields(counts: IdempotencyCounts): string {
  let fields = `,"${IDEMPOTENCY_METRICS.dedupeHits}":${counts.dedupeHits},"${IDEMPOTENCY_METRICS.retries}":${counts.retries}`;
  if (counts.replayed > 0) fields += `,"dedupe_replayed":${counts.replayed}`;
  if (counts.inProgress > 0) fields += `,"dedupe_in_progress":${counts.inProgress}`;
  if (counts.notStored > 0) fields += `,"dedupe_not_stored":${counts.notStored}`;
  if (counts.redelivered > 0) fields += `,"retries_redelivered":${counts.redelivered}`;
  if (counts.keyAgain > 0) fields += `,"retries_key_again":${counts.keyAgain}`;
  return fields;
}

/** Test hook: the next invocation is the first of a new execution environment (initialised as the environment says). */
export function resetColdStartForTesting(): void {
  coldStart = startsCold();
}

/** A header or id as text: strings as they are, numbers and booleans (a plain invocation's) as text, else undefined. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
}

/** Rejects options of the wrong type when the handler is wrapped, rather than on a request. */
function checkOptions(options: WithReleaseOptions): void {
  if (options === null || typeof options !== 'object') throw new ReleaseConfigError('options', `must be an object, got: ${shown(options)}`);
  const { namespace, functionName, release, revision, variant, route, sink } = options;
  for (const [name, value] of [['namespace', namespace], ['functionName', functionName], ['revision', revision], ['variant', variant]] as const) {
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new ReleaseConfigError(name, `must be a non-empty string, got: ${shown(value)}`);
    }
  }
  if (namespace !== undefined && (namespace.length > 255 || namespace.startsWith(':'))) {
    throw new ReleaseConfigError('namespace', `must be a CloudWatch namespace (1 to 255 characters, not starting with ':'), got: ${shown(namespace)}`);
  }
  for (const [name, value] of [['route', route], ['sink', sink]] as const) {
    if (value !== undefined && typeof value !== 'function') throw new ReleaseConfigError(name, `must be a function, got: ${shown(value)}`);
  }
  if (release !== undefined) {
    if (release === null || typeof release !== 'object' || Array.isArray(release)) throw new ReleaseConfigError('release', `must be an object of strings, got: ${shown(release)}`);
    for (const [name, value] of Object.entries(release)) {
      if (value !== undefined && typeof value !== 'string') throw new ReleaseConfigError(`release.${name}`, `must be a string, got: ${shown(value)}`);
    }
  }
}

function defaultRoute(event: unknown): string {
  if (event === null || typeof event !== 'object') return 'invoke';
  const e = event as { routeKey?: unknown; httpMethod?: unknown; resource?: unknown; path?: unknown };
  if (typeof e.routeKey === 'string') return e.routeKey;
  if (typeof e.httpMethod === 'string') return `${e.httpMethod} ${typeof e.resource === 'string' ? e.resource : e.path}`;
  return 'invoke';
}
