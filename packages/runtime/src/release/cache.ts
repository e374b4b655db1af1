// Cache namespaces per release, after the canary seed: "separate cache prefixes for control and canary", "always
// namespace" (a cache shared by both versions lets the canary poison the control's entries, or serve them), and
// "cache hit does not regress more than five points after namespace split". The control and the canary are
// different releases (the GuardedAlias `release` prop puts RELEASE_ID on each published version), so a prefix
// derived from the release keeps their entries apart, and a rollback can purge the canary's prefix alone.
import { RELEASE_ID_ENV } from '../contract/release.js';
import { ReleaseConfigError, shown } from './errors.js';

/** Options of `cacheNamespace` and `cacheKey`. */
export interface CacheNamespaceOptions {
  /** The release whose namespace it is. @default - the function's RELEASE_ID environment variable */
  readonly release?: string;
  /** Put before the release in every key, e.g. the cache's own name. @default 'rel' */
  readonly prefix?: string;
}

/** A release ID or prefix as it may go into a key: printable, no ':' (the separator) and no whitespace. */
const KEY_PART = /^[^\s:]{1,128}$/;

/**
 * The cache namespace of a release: `<prefix>-<release>:`, e.g. `rel-2026-11-26.3:`. Throws a
 * ReleaseConfigError naming RELEASE_ID when the function has none (the GuardedAlias `release` prop sets it):
 * without it every version would share one namespace, which is what namespacing is there to prevent.
 */
export function cacheNamespace(options: CacheNamespaceOptions = {}): string {
  if (options === null || typeof options !== 'object') throw new ReleaseConfigError('options', `must be an object, got: ${shown(options)}`);
  const prefix = options.prefix ?? 'rel';
  if (typeof prefix !== 'string' || !KEY_PART.test(prefix)) {
    throw new ReleaseConfigError('prefix', `must be 1 to 128 characters without ':' or whitespace, got: ${shown(prefix)}`);
  }
  const release = options.release ?? process.env[RELEASE_ID_ENV];
  if (release === undefined || release === '') {
    throw new ReleaseConfigError(RELEASE_ID_ENV, 'is not set: give the GuardedAlias a `release` (or pass `release`), so that each version caches under its own namespace');
  }
  if (typeof release !== 'string' || !KEY_PART.test(release)) {
    throw new ReleaseConfigError(options.release !== undefined ? 'release' : RELEASE_ID_ENV, `must be 1 to 128 characters without ':' or whitespace, got: ${shown(release)}`);
  }
  return `${prefix}-${release}:`;
}

/** `key` in the release's namespace: `cacheNamespace(options) + key`. */
export function cacheKey(key: string, options: CacheNamespaceOptions = {}): string {
  if (typeof key !== 'string' || key === '') throw new ReleaseConfigError('key', `must be a non-empty string, got: ${shown(key)}`);
  return cacheNamespace(options) + key;
}
