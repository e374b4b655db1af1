import { isSecretHeader, isSecretKey } from '../contract/shadow.js';
import { JsonPathSegment, REDACTED, redactInPlace } from '../contract/json-path.js';

/** The headers of `source` whose names are in `allowed` (lower case), never a secret one; names in lower case. */
export function allowedHeaders(source: Record<string, string | undefined> | null | undefined, allowed: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (!source) return out;
  for (const name of Object.keys(source)) {
    const lower = name.toLowerCase();
    const value = source[name];
    if (value !== undefined && allowed.has(lower) && !isSecretHeader(lower)) out[lower] = value;
  }
  return out;
}

/** Query parameters without those whose name looks like a credential; null when none are left. */
export function safeQuery<T>(source: Record<string, T | undefined> | null | undefined): Record<string, T> | null {
  if (!source) return null;
  let out: Record<string, T> | null = null;
  for (const name of Object.keys(source)) {
    const value = source[name];
    if (value === undefined || isSecretKey(name)) continue;
    (out ??= {})[name] = value;
  }
  return out;
}

/** The result of redacting a body. */
export type RedactedBody = { readonly ok: true; readonly body: string | null; readonly isBase64Encoded: boolean } | { readonly ok: false };

/** Replaces every member named like a credential ({@link isSecretKey}), at any depth, in place; returns how many. */
export function redactSecretKeys(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += redactSecretKeys(item);
    return count;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (isSecretKey(key) && record[key] !== null && record[key] !== REDACTED) {
      record[key] = REDACTED;
      count++;
    } else {
      count += redactSecretKeys(record[key]);
    }
  }
  return count;
}

/**
 * Redacts a body. A JSON body loses the configured paths and, when `secretKeys` is set (requests), every member
 * named like a credential. With paths configured, a body that is not JSON cannot be checked, so it is refused
 * (`ok: false`) rather than copied with what the paths were meant to remove; without paths it passes through
 * unchanged (base64 or not). A body with nothing to redact is passed on as it came.
 */
export function redactBody(body: string | null | undefined, isBase64Encoded: boolean, paths: readonly (readonly JsonPathSegment[])[], secretKeys = false): RedactedBody {
  if (body === null || body === undefined || body === '') return { ok: true, body: null, isBase64Encoded: false };
  if (paths.length === 0 && !secretKeys) return { ok: true, body, isBase64Encoded };
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return paths.length === 0 ? { ok: true, body, isBase64Encoded } : { ok: false };
  }
  const redacted = redactInPlace(parsed, paths) + (secretKeys ? redactSecretKeys(parsed) : 0);
  if (redacted === 0) return { ok: true, body, isBase64Encoded };
  return { ok: true, body: JSON.stringify(parsed), isBase64Encoded: false };
}
