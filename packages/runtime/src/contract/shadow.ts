/**
 * The shadow tap's constants and pure checks, shared by the tap (runtime), the mirror dispatcher and the
 * ShadowIntegration construct (which validates its props with the same rules the tap applies). Free of
 * imports, so lib/ can use it without pulling in anything else of the runtime.
 */

/** The marker that starts every tap line; the subscription filter selects log events that contain it. */
export const SHADOW_LINE_MARKER = 'GUARDRAILS_SHADOW_V1';

/** The version of the record format, written as `v` in every line. */
export const SHADOW_RECORD_VERSION = 1;

/** The header that marks a replayed request; the tap never samples a request that carries it. */
export const SHADOW_HEADER = 'x-shadow';

/** Environment variables through which ShadowIntegration configures the live function's tap. */
export const SHADOW_TAP_ENV = {
  /** The sample rate, a number in (0, 1]. */
  sampleRate: 'GUARDRAILS_SHADOW_SAMPLE_RATE',
  /** Route keys the tap samples (`GET /answer`), as a JSON array; unset: every API Gateway route. */
  routes: 'GUARDRAILS_SHADOW_ROUTES',
  /** Methods mirrored, as a JSON array. */
  methods: 'GUARDRAILS_SHADOW_METHODS',
  /** Request headers copied into the record, as a JSON array. */
  headers: 'GUARDRAILS_SHADOW_HEADERS',
  /** JSON paths redacted in request and response bodies, as a JSON array. */
  redactPaths: 'GUARDRAILS_SHADOW_REDACT_PATHS',
  /** Largest line, in bytes; a larger record is dropped and counted. */
  maxRecordBytes: 'GUARDRAILS_SHADOW_MAX_RECORD_BYTES',
} as const;

/** Methods mirrored unless the user allows more: reads only. */
export const DEFAULT_MIRRORED_METHODS: readonly string[] = ['GET', 'HEAD'];

/** HTTP methods the tap and the construct know. */
export const HTTP_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Request headers copied by default: the ones that change what a read returns and carry no identity. */
export const DEFAULT_HEADER_ALLOW_LIST: readonly string[] = ['accept', 'accept-language', 'content-type'];

/** Default size cap of one tap line, in bytes. */
export const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;

/**
 * Largest size cap allowed. A CloudWatch Logs event holds at most 256 KiB (262,144 bytes less 26 bytes of
 * overhead); Lambda adds its own prefix, and its JSON log format escapes the line again, so the cap keeps
 * well clear of the limit.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
 */
export const MAX_RECORD_BYTES_LIMIT = 200_000;

/** Smallest size cap allowed: below it not even an empty GET fits. */
export const MIN_RECORD_BYTES_LIMIT = 1024;

/** Headers that are never copied, whatever the allow-list says. */
const SECRET_HEADERS = new Set([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-amz-security-token',
  'x-amz-content-sha256', 'x-csrf-token', 'x-xsrf-token', 'x-forwarded-for', 'forwarded', 'x-real-ip',
]);

/** Names that look like a credential or a session: headers and query parameters so named are never copied. */
const SECRET_NAME = /auth|token|secret|passw|pwd|api[-_]?key|apikey|session|cookie|credential|signature|jwt|bearer|private/i;

/** Whether a header (any case) is one the tap never copies: credentials, cookies, API keys, client addresses. */
export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.has(lower) || SECRET_NAME.test(lower);
}

/** Names (lower case, without `-` and `_`) of query parameters and JSON body members that hold credentials. */
const SECRET_KEYS = new Set([
  'authorization', 'auth', 'token', 'secret', 'password', 'passwd', 'pwd', 'apikey', 'session', 'sessionid', 'cookie',
  'credential', 'credentials', 'signature', 'sig', 'privatekey', 'jwt', 'bearer', 'cvv', 'cvc', 'pin', 'otp',
]);
const SECRET_KEY_SUFFIX = /(token|secret|password|passwd|apikey|privatekey|signature|credentials?)$/;

/**
 * Whether a query parameter or a JSON body member is named like a credential (`token`, `api_key`,
 * `access_token`, `clientSecret`, `password`, `X-Amz-Signature`...): such query parameters are never copied
 * and such body members are redacted. Narrower than the header rule, so that `author` or `tokens` survive.
 */
export function isSecretKey(name: string): boolean {
  const key = name.toLowerCase().replace(/[-_]/g, '');
  return SECRET_KEYS.has(key) || SECRET_KEY_SUFFIX.test(key) || key.startsWith('xamz');
}

/** RFC 9110 token characters: what a header name may contain. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Problems with a header allow-list, each quoting the entry; empty when it is fine. */
export function headerAllowListProblems(list: readonly unknown[]): string[] {
  const problems: string[] = [];
  for (const name of list) {
    if (typeof name !== 'string' || !HEADER_NAME.test(name)) {
      problems.push(`${JSON.stringify(name)} is not a header name`);
    } else if (isSecretHeader(name)) {
      problems.push(`${JSON.stringify(name)} carries credentials, cookies or client identity and is never copied`);
    }
  }
  return problems;
}

/** The CloudWatch namespace of the mirror dispatcher's metrics. */
export const SHADOW_METRICS_NAMESPACE = 'CdkRolloutGuardrails/Shadow';

/** The metric dimension that names one ShadowIntegration (its construct path). */
export const SHADOW_METRICS_DIMENSION = 'Shadow';

/** The mirror dispatcher's environment, set by ShadowIntegration. */
export const DISPATCHER_ENV = {
  shadowFunction: 'SHADOW_FUNCTION',
  resultsTable: 'RESULTS_TABLE',
  shadowName: 'SHADOW_NAME',
  maxMirrorRps: 'MAX_MIRROR_RPS',
  reservedConcurrency: 'RESERVED_CONCURRENCY',
  maxEventBytes: 'MAX_EVENT_BYTES',
  redactPaths: 'REDACT_PATHS',
  answerPath: 'ANSWER_PATH',
  shadowTimeoutMs: 'SHADOW_TIMEOUT_MS',
  resultsTtlSeconds: 'RESULTS_TTL_SECONDS',
  /** The answer schema's JSON (ShadowIntegration `answerSchema`); unset: no schema, nothing checked. */
  answerSchema: 'ANSWER_SCHEMA',
} as const;

/**
 * Largest answer schema, as UTF-8 bytes of its JSON. Lambda caps a function's environment variables at 4 KB in all
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html); half of it leaves room for the
 * dispatcher's other variables (the redaction paths and the ARNs).
 */
export const MAX_ANSWER_SCHEMA_BYTES = 2048;
