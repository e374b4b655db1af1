import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { headerValue } from '../idempotency/keys';
import { ReleaseIdentity, releaseFromEnv } from './pins';
import { isWarmPing } from './warm';

/** The CloudWatch namespace of the telemetry metrics. */
export const TELEMETRY_NAMESPACE = 'RolloutGuardrails';

/**
 * The dimension sets of every record: by release, and by release and revision (the Lambda version), so that
 * a canary's metrics split from the control's and a redeploy of the same release stays comparable.
 */
export const TELEMETRY_DIMENSIONS = [['FunctionName', 'ReleaseId'], ['FunctionName', 'ReleaseId', 'Revision']] as const;

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
  /** Where each record goes. @default - one line on standard output, where Lambda sends it to CloudWatch Logs */
  readonly sink?: (line: string) => void;
}

const quality = new AsyncLocalStorage<{ report?: QualityReport }>();
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
 * Reports quality measures (ΔS, coverage, λ) of the invocation being served; `withRelease` adds them to its
 * record. Outside a `withRelease` handler it does nothing.
 */
export function reportQuality(report: QualityReport): void {
  const store = quality.getStore();
  if (store) store.report = { ...store.report, ...report };
}

/**
 * Wraps a handler so that every invocation writes one record in CloudWatch Embedded Metric Format: metrics
 * `Invocations`, `Errors` (a thrown error or a 5xx response), `Latency` (ms) and `ColdStart`, by release and
 * revision, plus the fields of the canary seed's telemetry record that apply to Lambda (ts, route, variant,
 * release_id, revision, cold_start, latency_ms, status, and delta_s / coverage / lambda_state when the
 * handler reports them with `reportQuality`). Warm pings reach the handler but write no record.
 * Works with API Gateway REST (v1) and HTTP API (v2) proxy events and plain invocations, around any handler,
 * including one wrapped by `pinGuard`.
 */
export function withRelease<E, R>(handler: (event: E, context?: any) => Promise<R>, options: WithReleaseOptions = {}): (event: E, context?: any) => Promise<R> {
  const release = options.release ?? releaseFromEnv();
  const releaseId = release.RELEASE_ID ?? 'unknown';
  const revision = options.revision ?? process.env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST';
  const functionName = options.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'unknown';
  const sink = options.sink ?? ((line: string) => { process.stdout.write(line + '\n'); });
  const routeOf = options.route ?? defaultRoute;
  // Everything that does not change between invocations is rendered once.
  const metricsBlock = JSON.stringify([{
    Namespace: options.namespace ?? TELEMETRY_NAMESPACE,
    Dimensions: TELEMETRY_DIMENSIONS,
    Metrics: [
      { Name: 'Invocations', Unit: 'Count' },
      { Name: 'Errors', Unit: 'Count' },
      { Name: 'Latency', Unit: 'Milliseconds' },
      { Name: 'ColdStart', Unit: 'Count' },
    ],
  }]);
  const identity = `"FunctionName":${JSON.stringify(functionName)},"ReleaseId":${JSON.stringify(releaseId)},"Revision":${JSON.stringify(revision)},"release_id":${JSON.stringify(releaseId)},"revision":${JSON.stringify(revision)}`;

  return async (event: E, context?: any) => {
    const cold = coldStart;
    coldStart = false;
    if (isWarmPing(event)) return handler(event, context);

    const store: { report?: QualityReport } = {};
    const started = performance.now();
    let status: number | string = 200;
    let failed = false;
    let errorType: string | undefined;
    try {
      const result = await quality.run(store, () => handler(event, context));
      const code = (result as { statusCode?: unknown } | null)?.statusCode;
      if (typeof code === 'number') status = code;
      failed = typeof status === 'number' && status >= 500;
      return result;
    } catch (error) {
      failed = true;
      status = 'error';
      errorType = (error as Error)?.name ?? 'Error';
      throw error;
    } finally {
      const latency = Math.round((performance.now() - started) * 1000) / 1000;
      const now = Date.now();
      const variant = options.variant ?? headerValue(event, 'x-release') ?? headerValue(event, 'x-exp') ?? releaseId;
      const q = store.report;
      sink(`{"_aws":{"Timestamp":${now},"CloudWatchMetrics":${metricsBlock}},${identity}`
        + `,"Invocations":1,"Errors":${failed ? 1 : 0},"Latency":${latency},"ColdStart":${cold ? 1 : 0}`
        + `,"ts":"${new Date(now).toISOString()}","route":${JSON.stringify(routeOf(event))},"variant":${JSON.stringify(variant)}`
        + `,"cold_start":${cold},"latency_ms":${latency},"status":${JSON.stringify(status)}`
        + (errorType ? `,"error_type":${JSON.stringify(errorType)}` : '')
        + (context?.awsRequestId ? `,"request_id":${JSON.stringify(context.awsRequestId)}` : '')
        + (q?.deltaS !== undefined && Number.isFinite(q.deltaS) ? `,"delta_s":${q.deltaS}` : '')
        + (q?.coverage !== undefined && Number.isFinite(q.coverage) ? `,"coverage":${q.coverage}` : '')
        + (q?.lambdaState !== undefined ? `,"lambda_state":${JSON.stringify(q.lambdaState)}` : '')
        + '}');
    }
  };
}

/** Test hook: the next invocation is the first of a new execution environment (initialised as the environment says). */
export function resetColdStartForTesting(): void {
  coldStart = startsCold();
}

function defaultRoute(event: unknown): string {
  if (event === null || typeof event !== 'object') return 'invoke';
  const e = event as { routeKey?: unknown; httpMethod?: unknown; resource?: unknown; path?: unknown };
  if (typeof e.routeKey === 'string') return e.routeKey;
  if (typeof e.httpMethod === 'string') return `${e.httpMethod} ${typeof e.resource === 'string' ? e.resource : e.path}`;
  return 'invoke';
}
