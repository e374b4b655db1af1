import { gunzipSync } from 'zlib';
import { SHADOW_HEADER } from 'cdk-rollout-guardrails-runtime/contract';
import { JsonPathSegment, redactInPlace, valueAt } from 'cdk-rollout-guardrails-runtime/contract';
import { ShadowRecord } from 'cdk-rollout-guardrails-runtime';

/** One log event of a CloudWatch Logs subscription message. */
export interface LogEvent {
  readonly id: string;
  readonly timestamp: number;
  readonly message: string;
}

/** The decoded body of a CloudWatch Logs subscription delivery. */
export interface SubscriptionMessage {
  readonly messageType: 'DATA_MESSAGE' | 'CONTROL_MESSAGE';
  readonly logGroup?: string;
  readonly logStream?: string;
  readonly logEvents: LogEvent[];
}

/**
 * Decodes what CloudWatch Logs delivers to a Lambda subscription: `{ awslogs: { data } }`, where `data` is
 * the base64 of the gzip of a JSON message.
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#LambdaFunctionExample
 * @throws Error saying which layer (shape, base64/gzip, JSON) is wrong
 */
export function decodeSubscription(event: unknown): SubscriptionMessage {
  const data = (event as { awslogs?: { data?: unknown } } | null)?.awslogs?.data;
  if (typeof data !== 'string') throw new Error('not a CloudWatch Logs subscription event: awslogs.data is missing');
  let json: string;
  try {
    json = gunzipSync(Buffer.from(data, 'base64')).toString('utf8');
  } catch (cause) {
    throw new Error(`awslogs.data is not base64 of gzip data (${(cause as Error).message})`);
  }
  let message: SubscriptionMessage;
  try {
    message = JSON.parse(json);
  } catch (cause) {
    throw new Error(`awslogs.data does not hold JSON (${(cause as Error).message})`);
  }
  if (message.messageType !== 'CONTROL_MESSAGE' && !Array.isArray(message.logEvents)) {
    throw new Error('the subscription message has no logEvents');
  }
  return { ...message, logEvents: message.logEvents ?? [] };
}

/**
 * A token bucket: `ratePerSecond` tokens a second, at most `burst` held. `take()` spends one token if there
 * is one; a request that finds none is dropped by the caller, never waited for.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(public readonly ratePerSecond: number, public readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  public take(now: number): boolean {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

/**
 * The budget of one dispatcher execution environment: the reserved concurrency bounds how many environments
 * run at once, so each gets `maxMirrorRps / reservedConcurrency` replays a second, with a burst of one
 * second's worth (at least 1).
 */
export function environmentBudget(maxMirrorRps: number, reservedConcurrency: number, now: number): TokenBucket {
  const rate = maxMirrorRps / reservedConcurrency;
  return new TokenBucket(rate, Math.max(1, rate), now);
}

/**
 * The API Gateway event the shadow receives: the record's sanitised request in the live event's shape, with
 * `x-shadow: true` and a request id of its own, so nothing in the shadow mistakes it for user traffic.
 */
export function replayEvent(record: ShadowRecord): Record<string, unknown> {
  const r = record.request;
  const headers = { ...r.headers, [SHADOW_HEADER]: 'true' };
  const requestId = `shadow-${record.id}`;
  if (record.kind === 'rest') {
    return {
      resource: r.resource,
      path: r.path,
      httpMethod: r.method,
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      queryStringParameters: r.query,
      multiValueQueryStringParameters: r.multiQuery ?? (r.query ? Object.fromEntries(Object.entries(r.query).map(([k, v]) => [k, [v]])) : null),
      pathParameters: r.pathParameters,
      stageVariables: null,
      requestContext: { requestId, stage: r.stage, resourcePath: r.resource, httpMethod: r.method, path: r.path },
      body: r.body,
      isBase64Encoded: r.isBase64Encoded,
    };
  }
  const rawQueryString = r.query ? new URLSearchParams(r.query).toString() : '';
  return {
    version: '2.0',
    routeKey: `${r.method} ${r.resource}`,
    rawPath: r.path,
    rawQueryString,
    headers,
    queryStringParameters: r.query ?? undefined,
    pathParameters: r.pathParameters ?? undefined,
    requestContext: {
      requestId,
      stage: r.stage,
      routeKey: `${r.method} ${r.resource}`,
      http: { method: r.method, path: r.path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'cdk-rollout-guardrails-mirror' },
      timeEpoch: record.at,
    },
    body: r.body ?? undefined,
    isBase64Encoded: r.isBase64Encoded,
  };
}

/** The shadow's answer as the user would have got it from API Gateway. */
export interface HttpAnswer {
  readonly status: number;
  readonly body: string | null;
}

/** Reads the shadow's invocation result the way API Gateway would (REST proxy or HTTP API payload v2). */
export function answerFromResult(kind: ShadowRecord['kind'], result: unknown): HttpAnswer {
  if (typeof result === 'object' && result !== null && typeof (result as { statusCode?: unknown }).statusCode === 'number') {
    const r = result as { statusCode: number; body?: unknown; isBase64Encoded?: boolean };
    const body = typeof r.body === 'string' ? (r.isBase64Encoded ? Buffer.from(r.body, 'base64').toString('utf8') : r.body) : null;
    return { status: r.statusCode, body };
  }
  if (kind === 'http') return { status: 200, body: result === undefined || result === null ? null : typeof result === 'string' ? result : JSON.stringify(result) };
  return { status: 502, body: null };
}

/**
 * The text ΔS compares: the value at `answerPath` in a JSON body (stringified when not a string), else the
 * whole body. The same `redact` paths the tap applied to the live body are applied first, so both sides
 * are compared as stored.
 */
export function answerText(body: string | null, isBase64Encoded: boolean, redact: readonly (readonly JsonPathSegment[])[], answerPath?: readonly JsonPathSegment[]): string {
  if (body === null) return '';
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  if (redact.length === 0 && !answerPath) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  redactInPlace(parsed, redact);
  if (answerPath) {
    const value = valueAt(parsed, answerPath);
    if (value !== undefined) return typeof value === 'string' ? value : JSON.stringify(value);
  }
  return redact.length === 0 ? text : JSON.stringify(parsed);
}

/**
 * The function's own duration from the tail of its log (`LogType: Tail`), in milliseconds: the REPORT line
 * in Lambda's text format or the `platform.report` record in its JSON format. Undefined when absent, and
 * the caller falls back to the round trip it measured.
 */
export function reportedDuration(logResultBase64: string | undefined): number | undefined {
  if (!logResultBase64) return undefined;
  const tail = Buffer.from(logResultBase64, 'base64').toString('utf8');
  const text = /REPORT RequestId:[^\n]*?\tDuration: ([\d.]+) ms/.exec(tail) ?? /REPORT RequestId:.*?Duration: ([\d.]+) ms/.exec(tail);
  if (text) return Number(text[1]);
  const json = /"type"\s*:\s*"platform\.report"[\s\S]*?"durationMs"\s*:\s*([\d.]+)/.exec(tail);
  return json ? Number(json[1]) : undefined;
}
