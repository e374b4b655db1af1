/**
 * Pure functions: where the idempotency key and the payload come from, how they are hashed, and the seeds'
 * webhook dedupe key. Nothing here touches the network.
 */
import { createHash } from 'crypto';
import { IdempotencyConfigurationError } from './errors.js';

/** The default header carrying the key, matched in any case. */
export const DEFAULT_KEY_HEADER = 'Idempotency-Key';

/**
 * Where a value comes from in the event: a JSON path (`$.detail.orderId`, `body.orderId`, `$.Records[0].messageId`;
 * a string met on the way that holds JSON, like an API Gateway body, is parsed) or a function of the event.
 */
export type EventSelector<E> = string | ((event: E) => unknown);

/** sha256 of a string, base64url (43 characters). */
export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

/**
 * The seeds' webhook dedupe key, sha256(source_id, event_rev, index_hash) as 64 hex characters.
 * Each part is length-prefixed before hashing, so `("ab", "c", x)` and `("a", "bc", x)` differ.
 */
export function dedupeKey(sourceId: string, eventRev: string | number, indexHash: string): string {
  const hash = createHash('sha256');
  for (const part of [sourceId, String(eventRev), indexHash]) {
    if (typeof part !== 'string') throw new TypeError(`dedupeKey takes strings, got: ${JSON.stringify(part)}`);
    hash.update(`${Buffer.byteLength(part, 'utf8')}:`).update(part, 'utf8');
  }
  return hash.digest('hex');
}

/** JSON with object keys sorted, so that `{a, b}` and `{b, a}` hash alike. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return value === undefined ? 'null' : JSON.stringify(value) ?? 'null';
  }
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return stableStringify((value as { toJSON(): unknown }).toJSON());
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    if (record[key] === undefined || typeof record[key] === 'function') continue;
    parts.push(`${JSON.stringify(key)}:${stableStringify(record[key])}`);
  }
  return `{${parts.join(',')}}`;
}

interface HttpEventShape {
  headers?: Record<string, string | undefined> | null;
  multiValueHeaders?: Record<string, string[] | undefined> | null;
  body?: string | null;
}

/** Whether the event looks like an API Gateway REST (v1) or HTTP API (v2) proxy event (or a function URL / ALB event). */
export function isHttpEvent(event: unknown): event is HttpEventShape {
  if (event === null || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  return 'headers' in e && 'body' in e && ('httpMethod' in e || 'routeKey' in e || (typeof e.requestContext === 'object' && e.requestContext !== null));
}

/** A header's value by name in any case, from `headers` or (REST API) `multiValueHeaders`. */
export function headerValue(event: unknown, name: string): string | undefined {
  if (event === null || typeof event !== 'object') return undefined;
  const { headers, multiValueHeaders } = event as HttpEventShape;
  const wanted = name.toLowerCase();
  if (headers && typeof headers === 'object') {
    // Exact and lower-case spellings are the common ones (HTTP APIs lower-case every header); try them first.
    const direct = headers[name] ?? headers[wanted];
    if (direct !== undefined && direct !== null) return direct;
    for (const key in headers) {
      if (key.toLowerCase() === wanted && headers[key] !== undefined && headers[key] !== null) return headers[key];
    }
  }
  if (multiValueHeaders && typeof multiValueHeaders === 'object') {
    for (const key in multiValueHeaders) {
      const values = multiValueHeaders[key];
      if (key.toLowerCase() === wanted && Array.isArray(values) && values.length > 0) return values[0];
    }
  }
  return undefined;
}

type Segment = string | number;

const pathCache = new Map<string, Segment[]>();

/** Parses `$.a.b[0]["c.d"]` (the leading `$` and `.` are optional) into segments; throws naming the path if malformed. */
export function parsePath(path: string): Segment[] {
  const cached = pathCache.get(path);
  if (cached) return cached;
  const segments: Segment[] = [];
  let i = path.startsWith('$') ? 1 : 0;
  const fail = (why: string): never => {
    throw new IdempotencyConfigurationError(`invalid JSON path ${JSON.stringify(path)}: ${why} at position ${i}`);
  };
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      i++;
      continue;
    }
    if (c === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) fail('unclosed [');
      const inner = path.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) segments.push(Number(inner));
      else if (/^(['"]).*\1$/.test(inner)) segments.push(inner.slice(1, -1));
      else fail(`expected an index or a quoted name in [${inner}]`);
      i = close + 1;
      continue;
    }
    let end = i;
    while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
    segments.push(path.slice(i, end));
    i = end;
  }
  if (segments.length === 0) fail('the path selects nothing');
  pathCache.set(path, segments);
  return segments;
}

/** The value at a JSON path; a JSON string met before the last segment is parsed. Undefined when absent. */
export function selectPath(root: unknown, path: string): unknown {
  let current: unknown = root;
  for (const segment of parsePath(path)) {
    if (typeof current === 'string') {
      try {
        current = JSON.parse(current);
      } catch {
        return undefined;
      }
    }
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[segment];
  }
  return current;
}

/** Applies a selector to the event. */
export function select<E>(event: E, selector: EventSelector<E>): unknown {
  return typeof selector === 'function' ? selector(event) : selectPath(event, selector);
}

/** A key value as a string: strings and numbers as they are, other values as stable JSON; undefined when empty. */
export function keyText(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  const text = stableStringify(value);
  return text === '{}' || text === '[]' ? undefined : text;
}
