// The shadow tap's configuration: its options, and how they are resolved (options first, then the environment
// ShadowIntegration sets, then the library defaults) and validated.
import {
  DEFAULT_HEADER_ALLOW_LIST, DEFAULT_MAX_RECORD_BYTES, DEFAULT_MIRRORED_METHODS, HTTP_METHODS, MAX_RECORD_BYTES_LIMIT,
  MIN_RECORD_BYTES_LIMIT, SHADOW_TAP_ENV, headerAllowListProblems,
} from '../contract/shadow.js';
import { JsonPathSegment, parseJsonPath } from '../contract/json-path.js';
import { ShadowConfigError } from './errors.js';

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

/** The options resolved: what the tap works with once it is on. */
export interface TapConfig {
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

/** Options first, then the environment, then the defaults; undefined when the tap is off. */
export function resolveConfig(options: ShadowTapOptions): TapConfig | undefined {
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
