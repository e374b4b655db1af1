import { ShadowConfigError } from '../shadow/errors.js';

/** One step of a JSON path: a member name, an array index, or `*` (every member or element). */
export type JsonPathSegment = { readonly key: string } | { readonly index: number } | { readonly wildcard: true };

/** The text that replaces a redacted value. */
export const REDACTED = '[REDACTED]';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*/;

/**
 * Parses the JSON path subset the tap redacts with: `$`, then any of `.name`, `['name']` / `["name"]`,
 * `[0]`, `[*]` and `.*`. Filters and recursive descent (`..`) are not supported: a redaction path must say
 * exactly what it removes.
 * @throws ShadowConfigError naming the path and the position of the problem
 */
export function parseJsonPath(path: string): JsonPathSegment[] {
  if (typeof path !== 'string') throw new ShadowConfigError('redactPaths', `a JSON path must be a string, got: ${JSON.stringify(path)}`);
  const fail = (at: number, what: string): never => {
    throw new ShadowConfigError('redactPaths', `${JSON.stringify(path)} is not a supported JSON path (${what} at character ${at + 1}); write $.a.b, $.items[*].name, $['x-y'] or $.list[0]`);
  };
  if (!path.startsWith('$')) fail(0, 'it must start with $');
  const segments: JsonPathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    if (path.startsWith('..', i)) fail(i, 'recursive descent is not supported');
    if (path[i] === '.') {
      i++;
      if (path[i] === '*') {
        segments.push({ wildcard: true });
        i++;
        continue;
      }
      const match = IDENTIFIER.exec(path.slice(i));
      if (!match) fail(i, 'a member name is expected');
      segments.push({ key: match![0] });
      i += match![0].length;
    } else if (path[i] === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) fail(i, 'an unclosed [');
      const inner = path.slice(i + 1, close).trim();
      if (inner === '*') segments.push({ wildcard: true });
      else if (/^\d+$/.test(inner)) segments.push({ index: Number(inner) });
      else if (/^'[^']*'$/.test(inner) || /^"[^"]*"$/.test(inner)) segments.push({ key: inner.slice(1, -1) });
      else fail(i, `[${inner}] is not an index, * or a quoted name`);
      i = close + 1;
    } else {
      fail(i, `unexpected ${JSON.stringify(path[i])}`);
    }
  }
  if (segments.length === 0) fail(0, 'the root itself cannot be redacted');
  return segments;
}

/**
 * Replaces the value at every path with `[REDACTED]`, in place. Paths that match nothing are ignored;
 * `$.a.b` where `a` is missing does not create it.
 * @returns how many values were redacted
 */
export function redactInPlace(value: unknown, paths: readonly (readonly JsonPathSegment[])[]): number {
  let count = 0;
  const visit = (node: unknown, segments: readonly JsonPathSegment[], depth: number): void => {
    if (typeof node !== 'object' || node === null) return;
    const segment = segments[depth];
    const last = depth === segments.length - 1;
    const apply = (container: Record<string | number, unknown>, key: string | number): void => {
      if (!Object.prototype.hasOwnProperty.call(container, key)) return;
      if (last) {
        container[key] = REDACTED;
        count++;
      } else {
        visit(container[key], segments, depth + 1);
      }
    };
    if ('wildcard' in segment) {
      for (const key of Array.isArray(node) ? node.keys() : Object.keys(node)) apply(node as Record<string | number, unknown>, key);
    } else if ('index' in segment) {
      if (Array.isArray(node)) apply(node as unknown as Record<number, unknown>, segment.index);
    } else if (!Array.isArray(node)) {
      apply(node as Record<string, unknown>, segment.key);
    }
  };
  for (const segments of paths) visit(value, segments, 0);
  return count;
}

/** The value at a path (the first match of a wildcard), or undefined. */
export function valueAt(value: unknown, segments: readonly JsonPathSegment[]): unknown {
  let node: unknown = value;
  for (const segment of segments) {
    if (typeof node !== 'object' || node === null) return undefined;
    if ('wildcard' in segment) {
      const values = Array.isArray(node) ? node : Object.values(node);
      node = values[0];
    } else if ('index' in segment) {
      node = Array.isArray(node) ? node[segment.index] : undefined;
    } else {
      node = Array.isArray(node) || !Object.prototype.hasOwnProperty.call(node, segment.key) ? undefined : (node as Record<string, unknown>)[segment.key];
    }
  }
  return node;
}
