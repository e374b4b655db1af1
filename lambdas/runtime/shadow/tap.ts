import { SHADOW_MODE_ENV } from '../idempotency/env';
import {
  DEFAULT_HEADER_ALLOW_LIST, DEFAULT_MAX_RECORD_BYTES, DEFAULT_MIRRORED_METHODS, HTTP_METHODS, MAX_RECORD_BYTES_LIMIT,
  MIN_RECORD_BYTES_LIMIT, SHADOW_HEADER, SHADOW_LINE_MARKER, SHADOW_RECORD_VERSION, SHADOW_TAP_ENV, headerAllowListProblems,
} from './config';
import { ShadowConfigError } from './errors';
import { JsonPathSegment, parseJsonPath } from './json-path';
import { ShadowDrop, ShadowDropReason, ShadowEventKind, ShadowRecord, ShadowRequest, ShadowResponse } from './record';
import { sampleHash } from './sampling';
import { allowedHeaders, redactBody, safeQuery } from './sanitise';

/** Options of {@link shadowTap}. Each defaults to the environment ShadowIntegration sets, then to the library default. */
export interface ShadowTapOptions {
  /**
   * Share of eligible requests sampled, from 0 to 1.
   * @default - `GUARDRAILS_SHADOW_SAMPLE_RATE`, else 0 (the tap is off)
   */
  readonly sampleRate?: number;
  /**
   * Methods that are mirrored. Only reads by default: a mirrored write would run twice.
   * @default - `GUARDRAILS_SHADOW_METHODS`, else ['GET', 'HEAD']
   */
  readonly allowMethods?: readonly string[];
  /**
   * Route keys sampled (`GET /answer`, `ANY /items/{id}`); the path is the API's resource path.
   * @default - `GUARDRAILS_SHADOW_ROUTES`, else every route
   */
  readonly routes?: readonly string[];
  /**
   * Request headers copied into the record (any case). Authorization, Cookie, API keys, security tokens and
   * client addresses are never copied, even if listed: listing one throws.
   * @default - `GUARDRAILS_SHADOW_HEADERS`, else ['accept', 'accept-language', 'content-type']
   */
  readonly headerAllowList?: readonly string[];
  /**
   * JSON paths replaced by "[REDACTED]" in the request and the response body (`$.user.email`, `$.items[*].card`).
   * With paths set, a body that is not JSON is not copied: the sample is dropped and counted.
   * @default - `GUARDRAILS_SHADOW_REDACT_PATHS`, else none
   */
  readonly redactPaths?: readonly string[];
  /**
   * Largest line, in bytes. A larger record is dropped and counted, never truncated.
   * @default - `GUARDRAILS_SHADOW_MAX_RECORD_BYTES`, else 65,536
   */
  readonly maxRecordBytes?: number;
  /**
   * The live release recorded with each sample.
   * @default - `RELEASE_ID`, else `AWS_LAMBDA_FUNCTION_VERSION`
   */
  readonly modelRev?: string;
  /**
   * The identity of the index or corpus the live function answers from.
   * @default - `GUARDRAILS_INDEX_HASH`, else none
   */
  readonly indexHash?: string;
  /**
   * Where lines go. Lambda sends stdout to CloudWatch Logs, where the subscription filter picks them up.
   * @default console.log
   */
  readonly log?: (line: string) => void;
}

/** What the tap counted in this execution environment. */
export interface ShadowTapStats {
  /** Eligible requests (mirrored route and method, not themselves a replay). */
  readonly seen: number;
  /** Requests sampled: logged plus dropped. */
  readonly sampled: number;
  /** Records logged. */
  readonly logged: number;
  /** Sampled requests dropped, by reason. */
  readonly dropped: Readonly<Record<ShadowDropReason, number>>;
}

/** A handler wrapped by {@link shadowTap}: takes and returns what the handler does, plus the tap's counters. */
export type TappedHandler<H extends (...args: any[]) => any> = ((event: Parameters<H> extends [infer E, ...any[]] ? E : any, context?: any) => ReturnType<H>) & {
  readonly shadowStats: () => ShadowTapStats;
};

interface TapConfig {
  readonly threshold: number;
  readonly rate: number;
  readonly methods: ReadonlySet<string>;
  readonly routes: ReadonlyArray<{ readonly method: string; readonly path: string }> | undefined;
  readonly headers: ReadonlySet<string>;
  readonly redact: readonly (readonly JsonPathSegment[])[];
  readonly maxBytes: number;
  readonly modelRev: string | null;
  readonly indexHash: string | null;
  readonly log: (line: string) => void;
}

const TWO_TO_32 = 4294967296;

/**
 * Wraps a Lambda handler behind API Gateway (REST proxy or HTTP API payload v2) so that a deterministic
 * sample of its read requests is logged, sanitised, with the live response, for the mirror dispatcher to
 * replay to a shadow function.
 *
 * On the user path the tap adds one hash of the request id and nothing else for requests that are not
 * sampled. For a sampled request it serialises the record and writes one log line after the handler has
 * produced its response: no network call and no await of anything but the handler itself. A tap failure
 * never reaches the user; a bad configuration in the environment turns the tap off with one warning.
 *
 * @throws ShadowConfigError when an explicit option is invalid (at wrap time, so at cold start)
 */
export function shadowTap<H extends (event: any, context: any) => any>(handler: H, options: ShadowTapOptions = {}): TappedHandler<H> {
  if (typeof handler !== 'function') throw new ShadowConfigError('handler', `must be a function, got: ${typeof handler}`);
  const config = resolveConfig(options);
  const shadowMode = process.env[SHADOW_MODE_ENV] === 'true' || process.env[SHADOW_MODE_ENV] === '1';
  const dropped: Record<ShadowDropReason, number> = { oversize: 0, unredactable: 0, unserialisable: 0 };
  let seen = 0;
  let sinceLine = 0;
  let sampled = 0;
  let logged = 0;

  const emit = (event: any, kind: ShadowEventKind, id: string, result: unknown, ms: number): void => {
    const at = Date.now();
    const drop = (reason: ShadowDropReason, bytes?: number): void => {
      dropped[reason]++;
      const notice: ShadowDrop = { _shadow: SHADOW_LINE_MARKER, v: SHADOW_RECORD_VERSION, drop: reason, id, at, rate: config!.rate, seen: sinceLine, ...(bytes !== undefined ? { bytes } : {}) };
      sinceLine = 0;
      config!.log(JSON.stringify(notice));
    };
    try {
      const request = sanitiseRequest(event, kind, config!);
      const response = request && sanitiseResponse(result, kind, ms, config!);
      if (!request || !response) return drop('unredactable');
      const record: ShadowRecord = {
        _shadow: SHADOW_LINE_MARKER, v: SHADOW_RECORD_VERSION, kind, id, at, rate: config!.rate, seen: sinceLine,
        modelRev: config!.modelRev, indexHash: config!.indexHash, request, response,
      };
      const line = JSON.stringify(record);
      // UTF-16 length bounds the UTF-8 size from below and 3x from above: measure exactly only near the cap.
      const bytes = line.length * 3 <= config!.maxBytes ? line.length : Buffer.byteLength(line, 'utf8');
      if (bytes > config!.maxBytes) return drop('oversize', bytes);
      sinceLine = 0;
      logged++;
      config!.log(line);
    } catch {
      // A response the tap cannot serialise (a BigInt, a cycle) is the tap's problem, never the user's.
      try { drop('unserialisable'); } catch { /* the log sink itself failed; nothing more to do */ }
    }
  };

  const tapped = function (this: unknown, event: any, context: any): any {
    if (config === undefined || shadowMode) return handler.call(this, event, context);
    const kind = eventKind(event);
    if (kind === undefined || !eligible(event, kind, config)) return handler.call(this, event, context);
    seen++;
    sinceLine++;
    const id: string = event.requestContext.requestId ?? context?.awsRequestId;
    if (typeof id !== 'string' || sampleHash(id) >= config.threshold) return handler.call(this, event, context);
    sampled++;
    const started = performance.now();
    const out = handler.call(this, event, context);
    if (out !== null && typeof out === 'object' && typeof out.then === 'function') {
      return out.then((result: unknown) => {
        emit(event, kind, id, result, performance.now() - started);
        return result;
      });
    }
    emit(event, kind, id, out, performance.now() - started);
    return out;
  } as unknown as TappedHandler<H>;
  Object.defineProperty(tapped, 'shadowStats', {
    value: (): ShadowTapStats => ({ seen, sampled, logged, dropped: { ...dropped } }),
  });
  return tapped;
}

function eventKind(event: any): ShadowEventKind | undefined {
  if (typeof event !== 'object' || event === null || typeof event.requestContext !== 'object' || event.requestContext === null) return undefined;
  if (event.version === '2.0' && typeof event.routeKey === 'string') return 'http';
  if (typeof event.httpMethod === 'string' && typeof event.resource === 'string') return 'rest';
  return undefined;
}

function methodOf(event: any, kind: ShadowEventKind): string {
  return String(kind === 'rest' ? event.httpMethod : event.requestContext.http?.method ?? '').toUpperCase();
}

function resourceOf(event: any, kind: ShadowEventKind): string {
  if (kind === 'rest') return event.resource;
  const routeKey: string = event.routeKey;
  const space = routeKey.indexOf(' ');
  return space < 0 ? routeKey : routeKey.slice(space + 1);
}

function eligible(event: any, kind: ShadowEventKind, config: TapConfig): boolean {
  const method = methodOf(event, kind);
  if (!config.methods.has(method)) return false;
  const headers = event.headers;
  if (headers && (headers[SHADOW_HEADER] !== undefined || headers['X-Shadow'] !== undefined)) return false;
  if (config.routes === undefined) return true;
  const resource = resourceOf(event, kind);
  return config.routes.some((r) => r.path === resource && (r.method === 'ANY' || r.method === method));
}

function sanitiseRequest(event: any, kind: ShadowEventKind, config: TapConfig): ShadowRequest | undefined {
  const body = redactBody(event.body, event.isBase64Encoded === true, config.redact, true);
  if (!body.ok) return undefined;
  const headers = allowedHeaders(event.headers, config.headers);
  if (kind === 'rest') {
    return {
      method: methodOf(event, kind),
      path: event.path,
      resource: event.resource,
      stage: event.requestContext.stage,
      headers,
      query: safeQuery<string>(event.queryStringParameters),
      multiQuery: safeQuery<string[]>(event.multiValueQueryStringParameters),
      pathParameters: event.pathParameters ?? null,
      body: body.body,
      isBase64Encoded: body.isBase64Encoded,
    };
  }
  return {
    method: methodOf(event, kind),
    path: event.rawPath ?? event.requestContext.http?.path,
    resource: resourceOf(event, kind),
    stage: event.requestContext.stage,
    headers,
    query: safeQuery<string>(event.queryStringParameters),
    pathParameters: event.pathParameters ?? null,
    body: body.body,
    isBase64Encoded: body.isBase64Encoded,
  };
}

function sanitiseResponse(result: any, kind: ShadowEventKind, ms: number, config: TapConfig): ShadowResponse | undefined {
  let status: number;
  let raw: string | null;
  let base64 = false;
  if (typeof result === 'object' && result !== null && typeof result.statusCode === 'number') {
    status = result.statusCode;
    raw = typeof result.body === 'string' ? result.body : null;
    base64 = result.isBase64Encoded === true;
  } else if (kind === 'http') {
    // HTTP API payload v2 turns any other result into a 200 (a string as is, anything else as JSON).
    status = 200;
    raw = result === undefined ? null : typeof result === 'string' ? result : JSON.stringify(result);
  } else {
    // API Gateway answers a REST proxy result without a statusCode with 502.
    status = 502;
    raw = null;
  }
  const body = redactBody(raw, base64, config.redact);
  if (!body.ok) return undefined;
  return { status, body: body.body, isBase64Encoded: body.isBase64Encoded, ms: Math.round(ms * 1000) / 1000 };
}

/** Options first, then the environment, then the defaults; undefined when the tap is off. */
function resolveConfig(options: ShadowTapOptions): TapConfig | undefined {
  const env = process.env;
  let fromEnv: Partial<Record<keyof typeof SHADOW_TAP_ENV, unknown>>;
  try {
    fromEnv = {
      sampleRate: env[SHADOW_TAP_ENV.sampleRate] === undefined ? undefined : Number(env[SHADOW_TAP_ENV.sampleRate]),
      routes: jsonEnv(SHADOW_TAP_ENV.routes),
      methods: jsonEnv(SHADOW_TAP_ENV.methods),
      headers: jsonEnv(SHADOW_TAP_ENV.headers),
      redactPaths: jsonEnv(SHADOW_TAP_ENV.redactPaths),
      maxRecordBytes: env[SHADOW_TAP_ENV.maxRecordBytes] === undefined ? undefined : Number(env[SHADOW_TAP_ENV.maxRecordBytes]),
    };
    validate(fromEnv, true);
  } catch (error) {
    // The construct validates what it writes here, so this is a hand-edited environment. Breaking the live
    // function over it would hurt users for the sake of a diagnostic: warn once and turn the tap off.
    console.warn(`cdk-rollout-guardrails shadowTap is off: ${(error as Error).message}`);
    return undefined;
  }
  const merged = {
    sampleRate: options.sampleRate ?? fromEnv.sampleRate,
    routes: options.routes ?? fromEnv.routes,
    methods: options.allowMethods ?? fromEnv.methods,
    headers: options.headerAllowList ?? fromEnv.headers,
    redactPaths: options.redactPaths ?? fromEnv.redactPaths,
    maxRecordBytes: options.maxRecordBytes ?? fromEnv.maxRecordBytes,
  };
  validate(merged, false);
  if (options.log !== undefined && typeof options.log !== 'function') throw new ShadowConfigError('log', `must be a function, got: ${typeof options.log}`);
  const rate = (merged.sampleRate as number | undefined) ?? 0;
  if (rate === 0) return undefined;
  const routes = (merged.routes as string[] | undefined)?.map((r) => parseRoute(r));
  return {
    rate,
    threshold: rate === 1 ? Infinity : rate * TWO_TO_32,
    methods: new Set(((merged.methods as string[] | undefined) ?? DEFAULT_MIRRORED_METHODS).map((m) => m.toUpperCase())),
    routes,
    headers: new Set(((merged.headers as string[] | undefined) ?? DEFAULT_HEADER_ALLOW_LIST).map((h) => h.toLowerCase())),
    redact: ((merged.redactPaths as string[] | undefined) ?? []).map(parseJsonPath),
    maxBytes: (merged.maxRecordBytes as number | undefined) ?? DEFAULT_MAX_RECORD_BYTES,
    modelRev: options.modelRev ?? env.RELEASE_ID ?? env.AWS_LAMBDA_FUNCTION_VERSION ?? null,
    indexHash: options.indexHash ?? env.GUARDRAILS_INDEX_HASH ?? null,
    log: options.log ?? ((line: string) => console.log(line)),
  };
}

function jsonEnv(name: string): unknown {
  const raw = process.env[name];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    throw new ShadowConfigError(name, `must be a JSON array, got: ${JSON.stringify(raw)}`);
  }
}

function validate(values: Partial<Record<'sampleRate' | 'routes' | 'methods' | 'headers' | 'redactPaths' | 'maxRecordBytes', unknown>>, fromEnv: boolean): void {
  const name = (option: string, envKey: keyof typeof SHADOW_TAP_ENV): string => (fromEnv ? SHADOW_TAP_ENV[envKey] : option);
  const { sampleRate, routes, methods, headers, redactPaths, maxRecordBytes } = values;
  if (sampleRate !== undefined && !(typeof sampleRate === 'number' && sampleRate >= 0 && sampleRate <= 1)) {
    throw new ShadowConfigError(name('sampleRate', 'sampleRate'), `must be a number from 0 to 1, got: ${JSON.stringify(sampleRate)}`);
  }
  for (const [option, envKey, list] of [['routes', 'routes', routes], ['allowMethods', 'methods', methods], ['headerAllowList', 'headers', headers], ['redactPaths', 'redactPaths', redactPaths]] as const) {
    if (list !== undefined && (!Array.isArray(list) || list.some((x) => typeof x !== 'string'))) {
      throw new ShadowConfigError(name(option, envKey), `must be an array of strings, got: ${JSON.stringify(list)}`);
    }
  }
  if (Array.isArray(methods)) {
    const bad = methods.filter((m) => !HTTP_METHODS.includes(String(m).toUpperCase()));
    if (bad.length > 0) throw new ShadowConfigError(name('allowMethods', 'methods'), `must list methods of ${HTTP_METHODS.join(', ')}, got: ${JSON.stringify(bad)}`);
  }
  if (Array.isArray(headers)) {
    const problems = headerAllowListProblems(headers);
    if (problems.length > 0) throw new ShadowConfigError(name('headerAllowList', 'headers'), problems.join('; '));
  }
  if (Array.isArray(routes)) routes.forEach((r) => parseRoute(r, name('routes', 'routes')));
  if (Array.isArray(redactPaths)) redactPaths.forEach((p) => parseJsonPath(p));
  if (maxRecordBytes !== undefined && !(Number.isInteger(maxRecordBytes) && (maxRecordBytes as number) >= MIN_RECORD_BYTES_LIMIT && (maxRecordBytes as number) <= MAX_RECORD_BYTES_LIMIT)) {
    throw new ShadowConfigError(name('maxRecordBytes', 'maxRecordBytes'), `must be an integer from ${MIN_RECORD_BYTES_LIMIT} to ${MAX_RECORD_BYTES_LIMIT}, got: ${JSON.stringify(maxRecordBytes)}`);
  }
}

function parseRoute(route: string, option = 'routes'): { method: string; path: string } {
  const match = /^([A-Za-z]+) (\/\S*)$/.exec(route);
  const method = match?.[1].toUpperCase();
  if (!match || (method !== 'ANY' && !HTTP_METHODS.includes(method!))) {
    throw new ShadowConfigError(option, `each route must be "<METHOD> /path" (METHOD one of ANY, ${HTTP_METHODS.join(', ')}), got: ${JSON.stringify(route)}`);
  }
  return { method: method!, path: match[2] };
}
