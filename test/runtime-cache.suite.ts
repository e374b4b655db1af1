// Cache namespaces per release (the canary seed's "separate cache prefixes for control and canary", "always
// namespace") and the cache hit rate by release in the telemetry record.
import {
  cacheKey, cacheNamespace, releaseTelemetryMiddleware, reportCacheLookup, resetColdStartForTesting, withRelease,
} from '../packages/runtime/src';

describe('cacheNamespace and cacheKey', () => {
  const saved = process.env.RELEASE_ID;
  afterEach(() => {
    if (saved === undefined) delete process.env.RELEASE_ID;
    else process.env.RELEASE_ID = saved;
  });

  test('put each release\'s keys under its own prefix, from the function\'s RELEASE_ID', () => {
    process.env.RELEASE_ID = '2026-11-26.3';
    expect(cacheNamespace()).toBe('rel-2026-11-26.3:');
    expect(cacheKey('answer:q17')).toBe('rel-2026-11-26.3:answer:q17');
    // The control and the canary are different releases: the same key never meets the other's entry.
    expect(cacheKey('answer:q17', { release: '2026-11-20.1' })).not.toBe(cacheKey('answer:q17'));
    expect(cacheKey('q', { prefix: 'embeddings' })).toBe('embeddings-2026-11-26.3:q');
  });

  test('refuse to share a namespace: no RELEASE_ID is an error naming it, not one prefix for every version', () => {
    delete process.env.RELEASE_ID;
    expect(() => cacheKey('q')).toThrow('RELEASE_ID: is not set: give the GuardedAlias a `release` (or pass `release`), so that each version caches under its own namespace');
    expect(() => cacheKey('q')).toThrow(expect.objectContaining({ name: 'ReleaseConfigError', option: 'RELEASE_ID' }));
  });

  test.each([
    ['a key that is empty', () => cacheKey('', { release: 'r1' }), 'key: must be a non-empty string, got: ""'],
    ['a key that is not a string', () => cacheKey(42 as never, { release: 'r1' }), 'key: must be a non-empty string, got: 42'],
    ['a release with the separator', () => cacheNamespace({ release: 'a:b' }), 'release: must be 1 to 128 characters without \':\' or whitespace, got: "a:b"'],
    ['a prefix with whitespace', () => cacheNamespace({ release: 'r1', prefix: 'my cache' }), 'prefix: must be 1 to 128 characters without \':\' or whitespace, got: "my cache"'],
  ])('reject %s, naming the option and the value', (_name, call, message) => {
    expect(call).toThrow(message);
  });
});

describe('reportCacheLookup', () => {
  let lines: string[];
  const options = () => ({ release: { RELEASE_ID: 'r2' }, revision: '8', functionName: 'answer', sink: (line: string) => lines.push(line) });
  beforeEach(() => {
    lines = [];
    resetColdStartForTesting();
  });

  test('counts the invocation\'s lookups and hits in its record, as two more metrics by release and revision', async () => {
    const handler = withRelease(async () => {
      reportCacheLookup(true);
      reportCacheLookup(false);
      reportCacheLookup(true);
      return { statusCode: 200 };
    }, options());
    await handler({});
    const record = JSON.parse(lines[0]);
    expect(record).toMatchObject({ ReleaseId: 'r2', Revision: '8', CacheLookups: 3, CacheHits: 2 });
    expect(record._aws.CloudWatchMetrics[0].Metrics.slice(-2)).toEqual([{ Name: 'CacheLookups', Unit: 'Count' }, { Name: 'CacheHits', Unit: 'Count' }]);
  });

  test('an invocation without lookups names no cache metric (each metric the directive names is in the record)', async () => {
    await withRelease(async () => 'ok', options())({});
    const record = JSON.parse(lines[0]);
    expect(record).not.toHaveProperty('CacheLookups');
    expect(record._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual(['Invocations', 'Errors', 'Latency', 'ColdStart']);
  });

  test('keeps each concurrent invocation\'s counts to itself, and counts under the middleware too', async () => {
    const handler = withRelease(async (event: { hits: number }) => {
      for (let i = 0; i < event.hits; i++) {
        await new Promise((r) => setTimeout(r, 1));
        reportCacheLookup(true);
      }
      return event.hits;
    }, options());
    await Promise.all([handler({ hits: 3 }), handler({ hits: 1 })]);
    expect(lines.map((l) => JSON.parse(l).CacheHits).sort()).toEqual([1, 3]);
    lines = [];
    // The middleware as middy drives it (middy itself, ESM only, runs in test/runtime-middleware.suite.ts).
    const middleware = releaseTelemetryMiddleware(options());
    const request = { event: {}, context: {}, response: undefined as unknown, error: undefined, internal: {} } as never as Parameters<NonNullable<typeof middleware.before>>[0];
    await middleware.before?.(request);
    reportCacheLookup(false);
    (request as { response: unknown }).response = 'ok';
    await middleware.after?.(request);
    expect(JSON.parse(lines[0])).toMatchObject({ CacheLookups: 1, CacheHits: 0 });
  });

  test('does nothing outside a recorded invocation, and ignores a hit that is not a boolean with one line on stderr', async () => {
    expect(() => reportCacheLookup(true)).not.toThrow();
    const errors: string[] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => { errors.push(line); });
    try {
      await withRelease(async () => {
        reportCacheLookup('yes' as never);
        return 'ok';
      }, options())({});
    } finally {
      spy.mockRestore();
    }
    expect(JSON.parse(lines[0])).not.toHaveProperty('CacheLookups');
    expect(errors.map((e) => JSON.parse(e).message)).toEqual(['reportCacheLookup ignored a lookup whose hit is not a boolean: "yes"']);
  });
});
