import { dedupeKey, idempotencyErrorResponse, InMemoryIdempotencyStore, makeIdempotent, IdempotencyInProgressError, IdempotencyKeyReuseError, IdempotencyKeyMissingError, stableStringify } from '../packages/runtime/src/idempotency';
import { headerValue, isHttpEvent, parsePath, selectPath } from '../packages/runtime/src/idempotency/keys';
import { builtRuntime } from './helpers/runtime-build';

describe('dedupeKey', () => {
  test('is a 64-character sha256 hex digest, the same for the same parts', () => {
    expect(dedupeKey('src-1', 7, 'idx-a')).toMatch(/^[0-9a-f]{64}$/);
    expect(dedupeKey('src-1', 7, 'idx-a')).toBe(dedupeKey('src-1', '7', 'idx-a'));
  });

  test('is unambiguous: moving characters between parts changes the key', () => {
    expect(dedupeKey('ab', 'c', 'x')).not.toBe(dedupeKey('a', 'bc', 'x'));
    expect(dedupeKey('a', 'b:c', 'x')).not.toBe(dedupeKey('a:b', 'c', 'x'));
    expect(dedupeKey('', 'ab', 'x')).not.toBe(dedupeKey('ab', '', 'x'));
  });

  test('changes with each part', () => {
    const base = dedupeKey('s', 'r', 'i');
    expect(new Set([base, dedupeKey('s2', 'r', 'i'), dedupeKey('s', 'r2', 'i'), dedupeKey('s', 'r', 'i2')]).size).toBe(4);
  });
});

describe('key and payload helpers', () => {
  test('stableStringify sorts object keys at every depth and drops undefined', () => {
    expect(stableStringify({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  test('headerValue matches a header name in any case and falls back to multiValueHeaders', () => {
    expect(headerValue({ headers: { 'IDEMPOTENCY-KEY': 'k' } }, 'Idempotency-Key')).toBe('k');
    expect(headerValue({ headers: null, multiValueHeaders: { 'idempotency-KEY': ['m', 'n'] } }, 'Idempotency-Key')).toBe('m');
    expect(headerValue({ headers: { other: 'x' } }, 'Idempotency-Key')).toBeUndefined();
  });

  test('isHttpEvent recognises REST and HTTP API events and not queue events', () => {
    expect(isHttpEvent({ httpMethod: 'POST', headers: {}, body: null, requestContext: {} })).toBe(true);
    expect(isHttpEvent({ version: '2.0', routeKey: 'POST /', headers: {}, body: 'x', requestContext: {} })).toBe(true);
    expect(isHttpEvent({ Records: [{ body: 'x' }] })).toBe(false);
  });

  test('selectPath follows names, indices and quoted names, parsing JSON strings on the way', () => {
    const event = { Records: [{ body: '{"order":{"id":"o-7"}}' }], 'a.b': { c: 3 } };
    expect(selectPath(event, '$.Records[0].body.order.id')).toBe('o-7');
    expect(selectPath(event, '["a.b"].c')).toBe(3);
    expect(selectPath(event, '$.Records[1].body')).toBeUndefined();
    expect(parsePath('$.a[2]["x y"]')).toEqual(['a', 2, 'x y']);
  });
});

describe('idempotencyErrorResponse', () => {
  test('maps a key in progress to 409 with Retry-After, a reused key to 422 and a missing key to 400', () => {
    expect(idempotencyErrorResponse(new IdempotencyInProgressError('id', 7))).toMatchObject({ statusCode: 409, headers: { 'retry-after': '7' } });
    expect(idempotencyErrorResponse(new IdempotencyKeyReuseError('id', 'a', 'b'))?.statusCode).toBe(422);
    expect(idempotencyErrorResponse(new IdempotencyKeyMissingError('header Idempotency-Key'))?.statusCode).toBe(400);
    expect(idempotencyErrorResponse(new Error('other'))).toBeUndefined();
  });

  test('errors carry their own name', () => {
    expect(new IdempotencyInProgressError('id', 1).name).toBe('IdempotencyInProgressError');
    expect(new IdempotencyKeyReuseError('id', 'a', 'b').name).toBe('IdempotencyKeyReuseError');
  });
});

describe('loading the runtime', () => {
  test('does not load the DynamoDB client until a DynamoDB store is made', () => {
    const { execFileSync } = require('child_process') as typeof import('child_process');
    // In a fresh Node.js, on the runtime compiled to CommonJS (what a handler requires); NODE_PATH lets the bundle,
    // built in the run's temporary directory, find the repository's AWS SDK as a function finds the Lambda runtime's.
    const script = `
      const loaded = () => Object.keys(require.cache).some((f) => f.includes('@aws-sdk/client-dynamodb'));
      const runtime = require(${JSON.stringify(require('path').join(builtRuntime('cjs'), 'idempotency'))});
      const before = loaded();
      runtime.makeIdempotent(async () => 1, { table: 'orders' });
      console.log(JSON.stringify({ before, after: loaded() }));
    `;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: require('path').join(__dirname, '..'), encoding: 'utf8', env: { ...process.env, AWS_REGION: 'eu-west-1', NODE_PATH: require('path').join(__dirname, '..', 'node_modules') } });
    expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ before: false, after: true });
  });
});

describe('InMemoryIdempotencyStore', () => {
  test('lets code under test use makeIdempotent without DynamoDB, with the same once-per-key behaviour', async () => {
    const store = new InMemoryIdempotencyStore();
    let runs = 0;
    const handler = makeIdempotent(async (e: { id: string }) => ({ n: ++runs, id: e.id }), { store, key: '$.id', scope: 'unit' });

    expect(await handler({ id: 'a' })).toEqual({ n: 1, id: 'a' });
    expect(await handler({ id: 'a' })).toEqual({ n: 1, id: 'a' });
    expect(await handler({ id: 'b' })).toEqual({ n: 2, id: 'b' });
    expect(store.size).toBe(2);
  });

  test('releases only the claim of the token that made it, as the DynamoDB store does', async () => {
    const store = new InMemoryIdempotencyStore();
    const now = Date.now();
    const claim = { id: 'x', now, expiresAt: Math.floor(now / 1000) + 60, inProgressUntil: now + 1000 };
    expect(await store.claim({ ...claim, token: 't1' })).toEqual({ claimed: true });
    expect(await store.claim({ ...claim, token: 't2' })).toMatchObject({ claimed: false, existing: { token: 't1' } });
    expect(await store.release('x', 't2')).toBe(false);
    expect(await store.complete({ id: 'x', token: 't2', expiresAt: claim.expiresAt })).toBe(false);
    // After the lease, another call takes over and the first call's release no longer applies.
    expect(await store.claim({ ...claim, now: now + 2000, token: 't3' })).toEqual({ claimed: true });
    expect(await store.release('x', 't1')).toBe(false);
    expect(store.get('x')?.token).toBe('t3');
  });
});

describe('without @aws-sdk/client-dynamodb installed', () => {
  afterEach(() => jest.dontMock('@aws-sdk/client-dynamodb'));

  test('makeIdempotent names the missing package, and works with another store', async () => {
    let runtime!: typeof import('../packages/runtime/src/idempotency');
    jest.isolateModules(() => {
      jest.doMock('@aws-sdk/client-dynamodb', () => {
        throw Object.assign(new Error("Cannot find module '@aws-sdk/client-dynamodb'"), { code: 'MODULE_NOT_FOUND' });
      });
      runtime = require('../packages/runtime/src/idempotency');
    });

    expect(() => runtime.makeIdempotent(async () => 1, { table: 'orders' })).toThrow(
      'the DynamoDB idempotency store needs @aws-sdk/client-dynamodb, which is not installed: add it to your dependencies (the Lambda Node.js runtime already includes it), or pass options.store');
    const handler = runtime.makeIdempotent(async () => 'ran', { store: new runtime.InMemoryIdempotencyStore(), key: '$.id' });
    expect(await handler({ id: 'a' })).toBe('ran');
  });
});
