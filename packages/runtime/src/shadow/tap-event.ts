// What the shadow tap reads of an API Gateway event (REST proxy or HTTP API payload v2) and of the handler's
// result: whether a request is eligible, and the request and response as the record holds them, sanitised.
import { SHADOW_HEADER } from '../contract/shadow.js';
import { ShadowEventKind, ShadowRequest, ShadowResponse } from './record.js';
import { allowedHeaders, redactBody, safeQuery } from './sanitise.js';
import type { TapConfig } from './tap-config.js';

export function eventKind(event: any): ShadowEventKind | undefined {
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

export function eligible(event: any, kind: ShadowEventKind, config: TapConfig): boolean {
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

export function sanitiseRequest(event: any, kind: ShadowEventKind, config: TapConfig): ShadowRequest | undefined {
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
export type ResponseParts = ResponseAsSent | typeof OVERSIZE_RESULT;

/** A plain result whose JSON is surely over the cap: it is not serialised at all. */
export const OVERSIZE_RESULT = Symbol('oversize result');

/** @throws when the result must be serialised and JSON cannot represent it (a BigInt, a cycle) */
export function responseParts(result: any, kind: ShadowEventKind, maxBytes: number): ResponseParts {
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

export function sanitiseResponse(response: ResponseAsSent, ms: number, config: TapConfig): ShadowResponse | undefined {
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
