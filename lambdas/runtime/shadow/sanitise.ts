import { isSecretHeader, isSecretParameter } from './config';
import { JsonPathSegment, redactInPlace } from './json-path';

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
    if (value === undefined || isSecretParameter(name)) continue;
    (out ??= {})[name] = value;
  }
  return out;
}

/** The result of redacting a body. */
export type RedactedBody = { readonly ok: true; readonly body: string | null; readonly isBase64Encoded: boolean } | { readonly ok: false };

/**
 * Redacts the JSON paths in a body. With no paths the body passes through unchanged (base64 or not). With
 * paths, a body that is not JSON cannot be checked, so it is refused (`ok: false`) rather than copied with
 * what the paths were meant to remove.
 */
export function redactBody(body: string | null | undefined, isBase64Encoded: boolean, paths: readonly (readonly JsonPathSegment[])[]): RedactedBody {
  if (body === null || body === undefined || body === '') return { ok: true, body: null, isBase64Encoded: false };
  if (paths.length === 0) return { ok: true, body, isBase64Encoded };
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false };
  }
  if (redactInPlace(parsed, paths) === 0) return { ok: true, body: text, isBase64Encoded: false };
  return { ok: true, body: JSON.stringify(parsed), isBase64Encoded: false };
}
