import { ShadowDrop, ShadowTapStats, parseShadowLine, shadowTap, shouldSample } from '../packages/runtime/src/shadow';
import * as sanitise from '../packages/runtime/src/shadow/sanitise';

function restEvent(requestId: string, overrides: Record<string, unknown> = {}): any {
  return {
    resource: '/answer', path: '/answer', httpMethod: 'GET', headers: { Accept: 'application/json' }, multiValueHeaders: { Accept: ['application/json'] },
    queryStringParameters: null, multiValueQueryStringParameters: null, pathParameters: null,
    requestContext: { requestId, stage: 'prod' }, body: null, isBase64Encoded: false, ...overrides,
  };
}

function httpEvent(requestId: string, overrides: Record<string, unknown> = {}): any {
  return {
    version: '2.0', routeKey: 'GET /answer', rawPath: '/answer', headers: { accept: 'application/json' },
    requestContext: { requestId, stage: '$default', http: { method: 'GET', path: '/answer' } }, isBase64Encoded: false, ...overrides,
  };
}

const ok = (body: unknown) => ({ statusCode: 200, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** A JSON body of about `bytes` bytes, with members the redaction paths and the credential rule would touch. */
function bigJson(bytes: number): string {
  const count = Math.ceil(bytes / 60);
  return JSON.stringify({ user: { email: 'a@example.com' }, token: 'secret', items: Array.from({ length: count }, (_, i) => ({ id: i, text: 'lorem ipsum dolor sit amet' })) });
}

/** Runs `call` with JSON.parse, JSON.stringify and the tap's redaction watched; returns what was called on what. */
async function watched<T>(call: () => Promise<T>) {
  const parse = jest.spyOn(JSON, 'parse');
  const stringify = jest.spyOn(JSON, 'stringify');
  const redact = jest.spyOn(sanitise, 'redactBody');
  try {
    const value = await call();
    return {
      value,
      parsedLengths: parse.mock.calls.map((args) => String(args[0]).length),
      stringified: stringify.mock.calls.map((args) => args[0]),
      redactCalls: redact.mock.calls.length,
    };
  } finally {
    parse.mockRestore();
    stringify.mockRestore();
    redact.mockRestore();
  }
}

describe('shadowTap checks the size cap before it parses or redacts anything', () => {
  test('a 5 MB JSON request body is neither parsed nor redacted; the drop notice says the request body was over the cap', async () => {
    const lines: string[] = [];
    const body = bigJson(5_000_000);
    const handler = shadowTap(async () => ok({ answer: 'small' }), { sampleRate: 1, allowMethods: ['POST'], redactPaths: ['$.user.email'], log: (l) => lines.push(l) });
    const { value, parsedLengths, redactCalls } = await watched(() => handler(restEvent('big-request', { httpMethod: 'POST', body }), {}));

    expect(value).toEqual(ok({ answer: 'small' }));
    expect(redactCalls).toBe(0);
    expect(parsedLengths.filter((n) => n > 65_536)).toEqual([]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('lorem');
    const drop = parseShadowLine(lines[0]) as ShadowDrop;
    expect(drop).toMatchObject({ drop: 'oversize', id: 'big-request', body: 'request', seen: 1 });
    expect(drop.bytes).toBeGreaterThanOrEqual(body.length);
    expect(handler.shadowStats()).toMatchObject({ sampled: 1, logged: 0, dropped: { oversize: 1 } });
  });

  test('a 5 MB response body is neither parsed nor redacted', async () => {
    const lines: string[] = [];
    const body = bigJson(5_000_000);
    const handler = shadowTap(async () => ok(body), { sampleRate: 1, redactPaths: ['$.user.email'], log: (l) => lines.push(l) });
    const { value, parsedLengths, redactCalls } = await watched(() => handler(restEvent('big-response'), {}));

    expect((value as { body: string }).body).toBe(body);
    expect(redactCalls).toBe(0);
    expect(parsedLengths.filter((n) => n > 65_536)).toEqual([]);
    expect(parseShadowLine(lines[0])).toMatchObject({ drop: 'oversize', body: 'response' });
  });

  test('an HTTP API handler\'s 5 MB plain result is not serialised for the record', async () => {
    const lines: string[] = [];
    const result = JSON.parse(bigJson(5_000_000));
    const handler = shadowTap(async () => result, { sampleRate: 1, log: (l) => lines.push(l) });
    const { value, stringified } = await watched(() => handler(httpEvent('big-plain'), {}));

    expect(value).toBe(result);
    expect(stringified).not.toContain(result);
    expect(parseShadowLine(lines[0])).toMatchObject({ drop: 'oversize', body: 'response' });
  });

  test('two bodies each under the cap but over it together are dropped unread as well', async () => {
    const lines: string[] = [];
    const body = bigJson(3_000);
    const handler = shadowTap(async () => ok(body), { sampleRate: 1, allowMethods: ['POST'], maxRecordBytes: 4096, log: (l) => lines.push(l) });
    const { redactCalls } = await watched(() => handler(restEvent('both', { httpMethod: 'POST', body }), {}));
    expect(redactCalls).toBe(0);
    expect(parseShadowLine(lines[0])).toMatchObject({ drop: 'oversize', body: 'both' });
  });

  test('a body under the cap is still redacted and logged', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok({ answer: 'a' }), { sampleRate: 1, allowMethods: ['POST'], redactPaths: ['$.user.email'], log: (l) => lines.push(l) });
    await handler(restEvent('small', { httpMethod: 'POST', body: '{"user":{"email":"a@example.com"},"q":"x"}' }), {});
    expect(lines[0]).not.toContain('a@example.com');
    expect(parseShadowLine(lines[0])).toMatchObject({ id: 'small', request: { body: '{"user":{"email":"[REDACTED]"},"q":"x"}' } });
  });
});

describe('shadowTap recognises a replay whatever the case of its x-shadow header', () => {
  test.each([
    ['X-SHADOW on a REST event', restEvent('r1', { headers: { 'X-SHADOW': 'true' } })],
    ['X-Shadow on a REST event', restEvent('r2', { headers: { 'X-Shadow': 'true' } })],
    ['x-ShAdOw on a REST event', restEvent('r3', { headers: { 'x-ShAdOw': '1' } })],
    ['X-SHADOW in multiValueHeaders only', restEvent('r4', { headers: null, multiValueHeaders: { 'X-SHADOW': ['true'] } })],
    ['x-shadow on an HTTP API event', httpEvent('h1', { headers: { 'x-shadow': 'true' } })],
  ])('%s is not sampled, and not counted as seen', async (_label, event) => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 1, log: (l) => lines.push(l) });
    expect(await handler(event, {})).toEqual(ok('x'));
    expect(lines).toEqual([]);
    expect(handler.shadowStats()).toMatchObject({ seen: 0, sampled: 0 });
  });

  test('a header that only starts like it is not a replay', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 1, log: (l) => lines.push(l) });
    await handler(restEvent('r5', { headers: { 'X-Shadowed': 'true' } }), {});
    expect(lines).toHaveLength(1);
  });
});

describe('shadowTap\'s counts always add up', () => {
  const totalDropped = (s: ShadowTapStats) => Object.values(s.dropped).reduce((a, b) => a + b, 0);
  function expectConsistent(s: ShadowTapStats): void {
    expect(s.seen).toBe(s.sampled + s.notSampled);
    expect(s.sampled).toBe(s.inFlight + s.logged + totalDropped(s) + s.handlerErrors + s.logErrors);
  }

  test('through every path: not sampled, no id, logged, each kind of drop, handler errors, log failures and calls in flight', async () => {
    let logFails = false;
    const log = (_line: string) => {
      if (logFails) throw new Error('log sink down');
    };
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    // The case is chosen by a header, so that the request id only decides the sampling.
    const handler = shadowTap((event: any): any => {
      switch (event.headers['x-case']) {
        case 'sync-throw': throw new Error('sync');
        case 'reject': return Promise.reject(new Error('async'));
        case 'unserialisable': return { answer: 10n };
        case 'oversize-unread': return Promise.resolve(ok({ answer: 'x'.repeat(5_000) }));
        case 'oversize-measured': return Promise.resolve(ok({ answer: '€'.repeat(1_500) }));
        case 'pending': return gate.then(() => ok({ answer: 'late' }));
        default: return Promise.resolve(ok({ answer: 'fine' }));
      }
    }, { sampleRate: 0.5, allowMethods: ['GET', 'POST'], redactPaths: ['$.email'], maxRecordBytes: 4096, log });
    let n = 0;
    const sampledId = () => { for (;;) { const id = `s-${n++}`; if (shouldSample(id, 0.5)) return id; } };
    const unsampledId = () => { for (;;) { const id = `u-${n++}`; if (!shouldSample(id, 0.5)) return id; } };
    const event = (id: string | undefined, kase: string, overrides: Record<string, unknown> = {}) =>
      restEvent('unused', { headers: { 'x-case': kase }, requestContext: { requestId: id, stage: 'prod' }, ...overrides });
    const run = async (e: any, kind: 'http' | 'rest' = 'rest') => {
      try {
        await handler(kind === 'http' ? httpEvent(e.requestContext.requestId, { headers: e.headers }) : e, {});
      } catch {
        // a handler's error reaches the caller; only the counts matter here
      }
      expectConsistent(handler.shadowStats());
    };

    await run(event(unsampledId(), 'fine'));
    await run(event(undefined, 'fine')); // no id to hash
    for (const kase of ['fine', 'oversize-unread', 'oversize-measured', 'sync-throw', 'reject']) await run(event(sampledId(), kase));
    await run(event(sampledId(), 'unserialisable'), 'http');
    await run(event(sampledId(), 'fine', { httpMethod: 'POST', body: 'email=a@example.com' })); // unredactable
    logFails = true;
    await run(event(sampledId(), 'fine')); // the record's line fails
    await run(event(sampledId(), 'oversize-unread')); // the drop notice's line fails
    logFails = false;

    const pending = handler(event(sampledId(), 'pending'), {});
    expect(handler.shadowStats().inFlight).toBe(1);
    expectConsistent(handler.shadowStats());
    release();
    await pending;

    const stats = handler.shadowStats();
    expectConsistent(stats);
    expect(stats).toEqual({
      seen: 12, sampled: 10, notSampled: 2, inFlight: 0, logged: 2,
      dropped: { oversize: 3, unredactable: 1, unserialisable: 1 }, handlerErrors: 2, logErrors: 1,
    });
  });

  test('a failed line keeps its requests in the next line\'s "seen", so the observed rate stays right', async () => {
    let fail = true;
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 1, log: (l) => { if (fail) throw new Error('down'); lines.push(l); } });
    await handler(restEvent('first'), {});
    fail = false;
    await handler(restEvent('second'), {});
    expect(parseShadowLine(lines[0])).toMatchObject({ id: 'second', seen: 2 });
    expect(handler.shadowStats()).toMatchObject({ logged: 1, logErrors: 1 });
  });
});

describe('shadowTap options of the wrong type are rejected at wrap time', () => {
  test.each([
    [{ sampleRate: 1, modelRev: 7 }, 'modelRev: must be a string, got: 7'],
    [{ sampleRate: 1, indexHash: { h: 1 } }, 'indexHash: must be a string, got: {"h":1}'],
  ])('%j', (options, message) => {
    expect(() => shadowTap(async () => 1, options as never)).toThrow(message);
  });
});
