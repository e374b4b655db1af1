import { SHADOW_MODE_ENV } from '../contract/idempotency.js';
import {
  DEFAULT_HEADER_ALLOW_LIST, DEFAULT_MAX_RECORD_BYTES, DEFAULT_MIRRORED_METHODS, HTTP_METHODS, MAX_RECORD_BYTES_LIMIT,
  MIN_RECORD_BYTES_LIMIT, SHADOW_HEADER, SHADOW_LINE_MARKER, SHADOW_RECORD_VERSION, SHADOW_TAP_ENV, headerAllowListProblems,
} from '../contract/shadow.js';
import { ShadowConfigError } from './errors.js';
import { JsonPathSegment, parseJsonPath } from '../contract/json-path.js';
import { ShadowDrop, ShadowDropReason, ShadowEventKind, ShadowRecord, ShadowRequest, ShadowResponse } from './record.js';
import { sampleHash } from './sampling.js';
import { allowedHeaders, redactBody, safeQuery } from './sanitise.js';

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
   * Largest line, in bytes. A larger record is dropped and counted, never truncated. Request and response bodies
   * whose raw size (as they arrived, before redaction) already exceeds it are dropped before they are parsed or
   * redacted, so that a large body costs the user path no more than a small one.
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

/**
 * What the tap counted in this execution environment. The counts always add up, whatever happened:
 * `seen = sampled + notSampled`, and `sampled = inFlight + logged + (sum of dropped) + handlerErrors + logErrors`.
 */
export interface ShadowTapStats {
  /** Eligible requests (mirrored route and method, not themselves a replay). */
  readonly seen: number;
  /** Eligible requests sampled. */
  readonly sampled: number;
  /** Eligible requests not sampled (the hash said no, or the request had no id to hash). */
  readonly notSampled: number;
  /** Sampled requests whose handler has not answered yet. */
  readonly inFlight: number;
  /** Records logged. */
  readonly logged: number;
  /** Sampled requests dropped, by reason (a drop notice is logged in place of the record). */
  readonly dropped: Readonly<Record<ShadowDropReason, number>>;
  /** Sampled requests whose handler threw or rejected: the error goes to the caller, and nothing is logged. */
  readonly handlerErrors: number;
  /** Sampled requests whose record the `log` function failed to write. */
  readonly logErrors: number;
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
  let notSampled = 0;
  let inFlight = 0;
  let logged = 0;
  let handlerErrors = 0;
  let logErrors = 0;

  // Settles one sampled request into exactly one outcome: logged, dropped (by reason), or a log error.
  const emit = (event: any, kind: ShadowEventKind, id: string, result: unknown, ms: number): void => {
    const at = Date.now();
    const drop = (reason: ShadowDropReason, bytes?: number, body?: ShadowDrop['body']): void => {
      dropped[reason]++;
      const notice: ShadowDrop = {
        _shadow: SHADOW_LINE_MARKER, v: SHADOW_RECORD_VERSION, drop: reason, id, at, rate: config!.rate, seen: sinceLine,
        ...(bytes !== undefined ? { bytes } : {}), ...(body !== undefined ? { body } : {}),
      };
      try {
        config!.log(JSON.stringify(notice));
        sinceLine = 0;
      } catch {
        // The sample stays counted as dropped; a failing log sink is not the user's problem.
      }
    };
    let response: ResponseParts;
    try {
      response = responseParts(result, kind, config!.maxBytes);
    } catch {
      // A response the tap cannot serialise (a BigInt, a cycle) is the tap's problem, never the user's.
      return drop('unserialisable');
    }
    // The size cap is checked on the raw bodies before anything is parsed or redacted: a body that alone takes the
    // record over the cap is dropped for what it is, at a cost that does not grow with its size.
    const requestChars = typeof event.body === 'string' ? event.body.length : 0;
    const responseChars = response === OVERSIZE_RESULT ? Infinity : response.raw?.length ?? 0;
    if (requestChars + responseChars > config!.maxBytes) {
      const body = requestChars > config!.maxBytes ? 'request' : responseChars > config!.maxBytes ? 'response' : 'both';
      // UTF-16 code units: a lower bound of the bodies' UTF-8 bytes, known without reading them.
      return drop('oversize', Number.isFinite(responseChars) ? requestChars + responseChars : undefined, body);
    }
    if (response === OVERSIZE_RESULT) return drop('oversize', undefined, 'response');
    let line: string;
    try {
      const request = sanitiseRequest(event, kind, config!);
      const sanitised = request && sanitiseResponse(response, ms, config!);
      if (!request || !sanitised) return drop('unredactable');
      const record: ShadowRecord = {
        _shadow: SHADOW_LINE_MARKER, v: SHADOW_RECORD_VERSION, kind, id, at, rate: config!.rate, seen: sinceLine,
        modelRev: config!.modelRev, indexHash: config!.indexHash, request, response: sanitised,
      };
      line = JSON.stringify(record);
    } catch {
      return drop('unserialisable');
    }
    // UTF-16 length bounds the UTF-8 size from below and 3x from above: measure exactly only near the cap.
    const bytes = line.length * 3 <= config!.maxBytes ? line.length : Buffer.byteLength(line, 'utf8');
    if (bytes > config!.maxBytes) return drop('oversize', bytes);
    try {
      config!.log(line);
    } catch {
      logErrors++;
      return;
    }
    sinceLine = 0;
    logged++;
  };

  const settle = (event: any, kind: ShadowEventKind, id: string, result: unknown, started: number): void => {
    inFlight--;
    try {
      emit(event, kind, id, result, performance.now() - started);
    } catch {
      // emit settles every path itself; this only guards the user against a bug in the tap.
    }
  };
  const failed = (): void => {
    inFlight--;
    handlerErrors++;
  };

  const tapped = function (this: unknown, event: any, context: any): any {
    if (config === undefined || shadowMode) return handler.call(this, event, context);
    const kind = eventKind(event);
    if (kind === undefined || !eligible(event, kind, config)) return handler.call(this, event, context);
    seen++;
    sinceLine++;
    const id: unknown = event.requestContext.requestId ?? context?.awsRequestId;
    if (typeof id !== 'string' || sampleHash(id) >= config.threshold) {
      notSampled++;
      return handler.call(this, event, context);
    }
    sampled++;
    inFlight++;
    const started = performance.now();
    let out: any;
    try {
      out = handler.call(this, event, context);
    } catch (error) {
      failed();
      throw error;
    }
    if (out !== null && typeof out === 'object' && typeof out.then === 'function') {
      return out.then((result: unknown) => {
        settle(event, kind, id, result, started);
        return result;
      }, (error: unknown) => {
        failed();
        throw error;
      });
    }
    settle(event, kind, id, out, started);
    return out;
  } as unknown as TappedHandler<H>;
  Object.defineProperty(tapped, 'shadowStats', {
    value: (): ShadowTapStats => ({ seen, sampled, notSampled, inFlight, logged, dropped: { ...dropped }, handlerErrors, logErrors }),
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
  if (isReplay(event)) return false;
  if (config.routes === undefined) return true;
  const resource = resourceOf(event, kind);
  return config.routes.some((r) => r.path === resource && (r.method === 'ANY' || r.method === method));
}

/** Whether the request carries the replay header (`x-shadow`, any case, in `headers` or REST `multiValueHeaders`). */
function isReplay(event: any): boolean {
  for (const headers of [event.headers, event.multiValueHeaders]) {
    if (headers === null || typeof headers !== 'object') continue;
    if (headers[SHADOW_HEADER] !== undefined) return true; // HTTP APIs lower-case every name: the common case
    for (const name in headers) {
      if (name.length === SHADOW_HEADER.length && name.toLowerCase() === SHADOW_HEADER && headers[name] !== undefined) return true;
    }
  }
  return false;
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

/** The live answer as API Gateway turns the handler's result into one, before redaction. */
interface ResponseAsSent {
  readonly status: number;
  readonly raw: string | null;
  readonly base64: boolean;
}
type ResponseParts = ResponseAsSent | typeof OVERSIZE_RESULT;

/** A plain result whose JSON is surely over the cap: it is not serialised at all. */
const OVERSIZE_RESULT = Symbol('oversize result');

/** @throws when the result must be serialised and JSON cannot represent it (a BigInt, a cycle) */
function responseParts(result: any, kind: ShadowEventKind, maxBytes: number): ResponseParts {
  if (typeof result === 'object' && result !== null && typeof result.statusCode === 'number') {
    return { status: result.statusCode, raw: typeof result.body === 'string' ? result.body : null, base64: result.isBase64Encoded === true };
  }
  if (kind === 'http') {
    // HTTP API payload v2 turns any other result into a 200 (a string as is, anything else as JSON).
    if (result === undefined) return { status: 200, raw: null, base64: false };
    if (typeof result === 'string') return { status: 200, raw: result, base64: false };
    if (jsonSurelyLonger(result, maxBytes)) return OVERSIZE_RESULT;
    return { status: 200, raw: JSON.stringify(result), base64: false };
  }
  // API Gateway answers a REST proxy result without a statusCode with 502.
  return { status: 502, raw: null, base64: false };
}

function sanitiseResponse(response: ResponseAsSent, ms: number, config: TapConfig): ShadowResponse | undefined {
  const body = redactBody(response.raw, response.base64, config.redact);
  if (!body.ok) return undefined;
  return { status: response.status, body: body.body, isBase64Encoded: body.isBase64Encoded, ms: Math.round(ms * 1000) / 1000 };
}

class ArrayWalk {
  public next = 0;
  constructor(public readonly items: readonly unknown[]) {}
}

/**
 * Whether `JSON.stringify(value)` is surely longer than `limit` characters. Counts a lower bound of the JSON's
 * length (string contents and keys with their quotes, one character per other value, brackets and commas) and
 * stops as soon as it passes `limit`: every value it visits adds at least one character, so it looks at no more
 * than about `limit` values however large the result (and a cycle ends it the same way).
 */
function jsonSurelyLonger(value: unknown, limit: number): boolean {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    let v = stack.pop();
    if (v instanceof ArrayWalk) {
      // Arrays are walked one element at a time, so a long one is not copied onto the stack first.
      if (v.next >= v.items.length) continue;
      const item = v.items[v.next++];
      stack.push(v);
      v = item;
    }
    if (typeof v === 'string') {
      size += v.length + 2;
    } else if (v === null || typeof v === 'number' || typeof v === 'boolean') {
      size += 1;
    } else if (typeof v === 'object') {
      size += 2;
      if (typeof (v as { toJSON?: unknown }).toJSON === 'function') {
        // A Date and the like: what toJSON gives is not counted (it is still a lower bound).
      } else if (Array.isArray(v)) {
        size += Math.max(0, v.length - 1);
        if (size > limit) return true;
        stack.push(new ArrayWalk(v));
      } else {
        for (const key in v) {
          if (!Object.prototype.hasOwnProperty.call(v, key)) continue;
          const member = (v as Record<string, unknown>)[key];
          if (member === undefined || typeof member === 'function' || typeof member === 'symbol') continue;
          size += key.length + 3;
          if (size > limit) return true;
          stack.push(member);
        }
      }
    }
    if (size > limit) return true;
  }
  return false;
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
  for (const option of ['modelRev', 'indexHash'] as const) {
    const value: unknown = options[option];
    if (value !== undefined && typeof value !== 'string') throw new ShadowConfigError(option, `must be a string, got: ${shownValue(value)}`);
  }
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

/** A value as an error message shows it: JSON where JSON can, else its type. */
function shownValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? typeof value;
  } catch {
    return typeof value === 'bigint' ? `${value}n` : `a ${typeof value} that JSON cannot show`;
  }
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
