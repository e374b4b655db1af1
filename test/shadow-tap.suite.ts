import { SHADOW_LINE_MARKER, ShadowConfigError, ShadowRecord, parseShadowLine, shadowTap, shouldSample } from '../packages/runtime/src/shadow';

const SECRET = 'Bearer sk-live-THIS-MUST-NEVER-BE-COPIED';

/** A REST API (v1 proxy) event with credentials in every place they turn up. */
function restEvent(requestId: string, overrides: Record<string, unknown> = {}): any {
  return {
    resource: '/answer',
    path: '/answer',
    httpMethod: 'GET',
    headers: {
      Accept: 'application/json',
      Authorization: SECRET,
      Cookie: `session=${SECRET}`,
      'X-Api-Key': SECRET,
      'X-Amz-Security-Token': SECRET,
      'X-Forwarded-For': '203.0.113.7',
      'X-Custom-Auth-Token': SECRET,
      'Content-Type': 'application/json',
    },
    multiValueHeaders: { Authorization: [SECRET] },
    queryStringParameters: { q: 'what is a canary', access_token: SECRET, api_key: SECRET },
    multiValueQueryStringParameters: { q: ['what is a canary'], access_token: [SECRET] },
    pathParameters: null,
    stageVariables: null,
    requestContext: { requestId, stage: 'prod', identity: { apiKey: SECRET, sourceIp: '203.0.113.7' }, authorizer: { claims: { email: 'a@example.com' } } },
    body: null,
    isBase64Encoded: false,
    ...overrides,
  };
}

/** An HTTP API (payload v2) event. */
function httpEvent(requestId: string, overrides: Record<string, unknown> = {}): any {
  return {
    version: '2.0',
    routeKey: 'GET /answer',
    rawPath: '/answer',
    rawQueryString: `q=hello&token=${encodeURIComponent(SECRET)}`,
    cookies: [`session=${SECRET}`],
    headers: { accept: 'application/json', authorization: SECRET, 'x-api-key': SECRET },
    queryStringParameters: { q: 'hello', token: SECRET },
    requestContext: { requestId, stage: '$default', http: { method: 'GET', path: '/answer', sourceIp: '203.0.113.7' }, authorizer: { jwt: { claims: { sub: 'user-1' } } } },
    isBase64Encoded: false,
    ...overrides,
  };
}

const ok = (body: unknown) => ({ statusCode: 200, headers: { 'content-type': 'application/json', 'set-cookie': `s=${SECRET}` }, body: JSON.stringify(body) });

/** An id that `shouldSample` takes at `rate` (and, with `not`, one it leaves). */
function idSampledAt(rate: number, not = false): string {
  for (let i = 0; ; i++) if (shouldSample(`id-${i}`, rate) !== not) return `id-${i}`;
}

function recordOf(line: string): ShadowRecord {
  return parseShadowLine(line) as ShadowRecord;
}

const ENV_KEYS = Object.keys(process.env).filter((k) => k.startsWith('GUARDRAILS_'));
afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('GUARDRAILS_') && !ENV_KEYS.includes(key)) delete process.env[key];
});

describe('shadowTap', () => {
  test('logs one line for a sampled request, after the handler has produced its response', async () => {
    const order: string[] = [];
    const lines: string[] = [];
    const handler = shadowTap(async () => {
      order.push('handler');
      return ok({ answer: 'a canary takes a small share' });
    }, { sampleRate: 1, log: (line) => { order.push('log'); lines.push(line); } });
    const response = await handler(restEvent('req-1'), {});
    expect(response).toEqual(ok({ answer: 'a canary takes a small share' }));
    expect(order).toEqual(['handler', 'log']);
    expect(lines).toHaveLength(1);
    // A structured line: one JSON object, the marker first, so the subscription filter can select it.
    expect(lines[0].startsWith(`{"_shadow":"${SHADOW_LINE_MARKER}","v":1,`)).toBe(true);
    expect(JSON.parse(lines[0])).toEqual(recordOf(lines[0]));
    const record = recordOf(lines[0]);
    expect(record).toMatchObject({
      v: 1, kind: 'rest', id: 'req-1', rate: 1, seen: 1,
      request: { method: 'GET', path: '/answer', resource: '/answer', stage: 'prod', query: { q: 'what is a canary' } },
      response: { status: 200, body: JSON.stringify({ answer: 'a canary takes a small share' }), isBase64Encoded: false },
    });
    expect(record.response.ms).toBeGreaterThanOrEqual(0);
  });

  test('opens no connection and looks up no host while sampling, sanitising and logging', async () => {
    const net = require('net');
    const dns = require('dns');
    const connect = jest.spyOn(net.Socket.prototype, 'connect');
    const lookup = jest.spyOn(dns, 'lookup');
    try {
      const lines: string[] = [];
      const handler = shadowTap(async () => ok({ answer: 'a' }), { sampleRate: 1, redactPaths: ['$.user'], allowMethods: ['GET', 'POST'], log: (l) => lines.push(l) });
      for (let i = 0; i < 50; i++) await handler(restEvent(`net-${i}`, i % 2 ? { httpMethod: 'POST', body: '{"user":"u","q":"x"}' } : {}), {});
      expect(lines).toHaveLength(50);
      expect(connect).not.toHaveBeenCalled();
      expect(lookup).not.toHaveBeenCalled();
    } finally {
      connect.mockRestore();
      lookup.mockRestore();
    }
  });

  test('logs nothing and returns the handler\'s own promise for a request that is not sampled', async () => {
    const lines: string[] = [];
    const promise = Promise.resolve(ok('x'));
    const handler = shadowTap(() => promise, { sampleRate: 0.1, log: (l) => lines.push(l) });
    const returned = handler(restEvent(idSampledAt(0.1, true)), {});
    expect(returned).toBe(promise);
    await returned;
    expect(lines).toEqual([]);
    expect(handler.shadowStats()).toMatchObject({ seen: 1, sampled: 0, logged: 0 });
  });

  test('samples exactly the requests shouldSample picks, by API Gateway request id', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 0.25, log: (l) => lines.push(l) });
    const ids = Array.from({ length: 400 }, (_, i) => `rid-${i}`);
    for (const id of ids) await handler(restEvent(id), { awsRequestId: 'lambda-id-ignored' });
    expect(lines.map((l) => recordOf(l).id)).toEqual(ids.filter((id) => shouldSample(id, 0.25)));
  });

  test('writes to console.log unless told otherwise', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const handler = shadowTap(async () => ok('x'), { sampleRate: 1 });
      await handler(restEvent('console-1'), {});
      expect(log).toHaveBeenCalledTimes(1);
      expect(JSON.parse(log.mock.calls[0][0])).toMatchObject({ _shadow: SHADOW_LINE_MARKER, id: 'console-1' });
    } finally {
      log.mockRestore();
    }
  });

  test('never copies Authorization, cookies, API keys, security tokens, client addresses or credential query parameters', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok({ answer: 'fine' }), {
      sampleRate: 1, headerAllowList: ['accept', 'content-type'], log: (l) => lines.push(l),
    });
    await handler(restEvent('r1'), {});
    await handler(httpEvent('r2'), {});
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(line).not.toContain('sk-live');
      expect(line).not.toContain('203.0.113.7');
      expect(line).not.toContain('a@example.com');
      expect(line).not.toContain('user-1');
    }
    expect(recordOf(lines[0]).request.headers).toEqual({ accept: 'application/json', 'content-type': 'application/json' });
    expect(recordOf(lines[1]).request.headers).toEqual({ accept: 'application/json' });
    expect(recordOf(lines[1]).request.query).toEqual({ q: 'hello' });
  });

  test('redacts request body members named like credentials by default, and keeps look-alikes such as author', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok({ answer: 'ok' }), { sampleRate: 1, allowMethods: ['POST'], log: (l) => lines.push(l) });
    const body = JSON.stringify({ question: 'q', author: 'ann', tokens: 12, password: 'hunter2', auth: { clientSecret: 'cs-1', access_token: 'at-1' }, items: [{ apiKey: 'k-1' }] });
    await handler(restEvent('b1', { httpMethod: 'POST', body, queryStringParameters: { author: 'ann', 'X-Amz-Signature': 'abc', page: '2' } }), {});
    const request = recordOf(lines[0]).request;
    expect(JSON.parse(request.body!)).toEqual({ question: 'q', author: 'ann', tokens: 12, password: '[REDACTED]', auth: '[REDACTED]', items: [{ apiKey: '[REDACTED]' }] });
    expect(request.query).toEqual({ author: 'ann', page: '2' });
    expect(lines[0]).not.toMatch(/hunter2|cs-1|at-1|k-1/);
  });

  test('passes a body with nothing to redact on exactly as it came, text or base64', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 1, allowMethods: ['POST'], log: (l) => lines.push(l) });
    await handler(restEvent('p1', { httpMethod: 'POST', body: '{ "question" : "spaced" }' }), {});
    await handler(restEvent('p2', { httpMethod: 'POST', body: Buffer.from([0xff, 0x00, 0x10]).toString('base64'), isBase64Encoded: true }), {});
    expect(recordOf(lines[0]).request).toMatchObject({ body: '{ "question" : "spaced" }', isBase64Encoded: false });
    expect(recordOf(lines[1]).request).toMatchObject({ body: '/wAQ', isBase64Encoded: true });
  });

  test('copies only the default allow-list (accept, accept-language, content-type) when none is given', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 1, log: (l) => lines.push(l) });
    await handler(restEvent('r1', { headers: { Accept: 'a', 'Accept-Language': 'de', 'User-Agent': 'curl', 'X-Request-Tag': 't' } }), {});
    expect(recordOf(lines[0]).request.headers).toEqual({ accept: 'a', 'accept-language': 'de' });
  });

  test.each([['Authorization'], ['cookie'], ['X-API-Key'], ['x-my-session-id'], ['X-Amz-Security-Token']])('refuses to allow the secret header %s, at wrap time', (header) => {
    expect(() => shadowTap(async () => 1, { sampleRate: 1, headerAllowList: ['accept', header] }))
      .toThrow(new ShadowConfigError('headerAllowList', `"${header}" carries credentials, cookies or client identity and is never copied`));
  });

  test('redacts configured JSON paths in the request and the response body', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok({ answer: 'ok', user: { email: 'b@example.com' } }), {
      sampleRate: 1, allowMethods: ['POST'], redactPaths: ['$.user.email', '$.cards[*].number', "$['ssn']"], log: (l) => lines.push(l),
    });
    const body = JSON.stringify({ question: 'q', user: { email: 'a@example.com', name: 'A' }, cards: [{ number: '4111111111111111' }, { number: '5500000000000004' }], ssn: '078-05-1120' });
    await handler(restEvent('r1', { httpMethod: 'POST', body }), {});
    const record = recordOf(lines[0]);
    expect(JSON.parse(record.request.body!)).toEqual({ question: 'q', user: { email: '[REDACTED]', name: 'A' }, cards: [{ number: '[REDACTED]' }, { number: '[REDACTED]' }], ssn: '[REDACTED]' });
    expect(JSON.parse(record.response.body!)).toEqual({ answer: 'ok', user: { email: '[REDACTED]' } });
    // The whole values: the line's timestamp and latency are digits too, and may hold a short run like 5500.
    for (const secret of ['a@example.com', 'b@example.com', '4111111111111111', '5500000000000004', '078-05-1120']) expect(lines[0]).not.toContain(secret);
  });

  test('drops and counts a sample whose body is not JSON when paths must be redacted, copying nothing of it', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 1, allowMethods: ['POST'], redactPaths: ['$.email'], log: (l) => lines.push(l) });
    await handler(restEvent('r1', { httpMethod: 'POST', body: 'email=a@example.com' }), {});
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('example.com');
    expect(parseShadowLine(lines[0])).toMatchObject({ drop: 'unredactable', id: 'r1', seen: 1 });
    expect(handler.shadowStats().dropped.unredactable).toBe(1);
  });

  test('drops a record over the size cap and counts it, never logging a truncated record', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok({ answer: 'x'.repeat(5000) }), { sampleRate: 1, maxRecordBytes: 4096, log: (l) => lines.push(l) });
    await handler(restEvent('big'), {});
    expect(lines).toHaveLength(1);
    const drop = parseShadowLine(lines[0]);
    expect(drop).toMatchObject({ drop: 'oversize', id: 'big' });
    expect((drop as any).bytes).toBeGreaterThan(4096);
    expect(lines[0]).not.toContain('xxxx');
    expect(handler.shadowStats()).toMatchObject({ sampled: 1, logged: 0, dropped: { oversize: 1 } });
  });

  test('measures the cap in UTF-8 bytes, not characters', async () => {
    const lines: string[] = [];
    // 1,500 three-byte characters: 4,500 bytes, under 4,096 characters.
    const handler = shadowTap(async () => ok('€'.repeat(1500)), { sampleRate: 1, maxRecordBytes: 4096, log: (l) => lines.push(l) });
    await handler(restEvent('euro'), {});
    expect(parseShadowLine(lines[0])).toMatchObject({ drop: 'oversize' });
  });

  test('mirrors only GET and HEAD by default, and other methods when allowed', async () => {
    const lines: string[] = [];
    const reads = shadowTap(async () => ok('x'), { sampleRate: 1, log: (l) => lines.push(l) });
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH']) await reads(restEvent(`m-${method}`, { httpMethod: method }), {});
    expect(lines.map((l) => recordOf(l).request.method)).toEqual(['GET', 'HEAD']);
    expect(reads.shadowStats().seen).toBe(2);
    lines.length = 0;
    const withPost = shadowTap(async () => ok('x'), { sampleRate: 1, allowMethods: ['get', 'POST'], log: (l) => lines.push(l) });
    for (const method of ['GET', 'POST', 'DELETE']) await withPost(restEvent(`m-${method}`, { httpMethod: method }), {});
    expect(lines.map((l) => recordOf(l).request.method)).toEqual(['GET', 'POST']);
  });

  test('samples only the configured routes, matching ANY to every method', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 1, routes: ['ANY /answer', 'GET /items/{id}'], allowMethods: ['GET', 'POST'], log: (l) => lines.push(l) });
    await handler(restEvent('a', { httpMethod: 'POST' }), {});
    await handler(restEvent('b', { resource: '/items/{id}', path: '/items/7', pathParameters: { id: '7' } }), {});
    await handler(restEvent('c', { resource: '/items/{id}', path: '/items/7', httpMethod: 'POST' }), {});
    await handler(restEvent('d', { resource: '/other', path: '/other' }), {});
    await handler(httpEvent('e', { routeKey: 'GET /items/{id}', rawPath: '/items/8' }), {});
    expect(lines.map((l) => recordOf(l).id)).toEqual(['a', 'b', 'e']);
  });

  test('never samples a replay marked x-shadow, nor anything while the function runs in shadow mode', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 1, log: (l) => lines.push(l) });
    await handler(restEvent('replayed', { headers: { 'x-shadow': 'true' } }), {});
    expect(lines).toEqual([]);
    process.env.GUARDRAILS_SHADOW_MODE = 'true';
    try {
      const inShadow = shadowTap(async () => ok('x'), { sampleRate: 1, log: (l) => lines.push(l) });
      await inShadow(restEvent('in-shadow'), {});
    } finally {
      delete process.env.GUARDRAILS_SHADOW_MODE;
    }
    expect(lines).toEqual([]);
  });

  test('passes events that are not from API Gateway straight through', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async (event: any) => ({ echoed: event.question }), { sampleRate: 1, log: (l) => lines.push(l) });
    expect(await handler({ question: 'direct' }, {})).toEqual({ echoed: 'direct' });
    expect(lines).toEqual([]);
  });

  test('records an HTTP API handler\'s plain result as API Gateway would answer it: 200 and JSON', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ({ answer: 'plain object' }), { sampleRate: 1, log: (l) => lines.push(l) });
    await handler(httpEvent('h1'), {});
    const record = recordOf(lines[0]);
    expect(record.kind).toBe('http');
    expect(record.request).toMatchObject({ method: 'GET', path: '/answer', resource: '/answer', stage: '$default' });
    expect(record.response).toMatchObject({ status: 200, body: '{"answer":"plain object"}' });
  });

  test('wraps a handler that answers synchronously', () => {
    const lines: string[] = [];
    const handler = shadowTap(() => ok('sync'), { sampleRate: 1, log: (l) => lines.push(l) });
    expect(handler(restEvent('s1'), {})).toEqual(ok('sync'));
    expect(recordOf(lines[0]).response.body).toBe('"sync"');
  });

  test('counts every eligible request since the previous line in "seen", so the dispatcher can observe the rate', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { sampleRate: 0.2, log: (l) => lines.push(l) });
    for (let i = 0; i < 500; i++) await handler(restEvent(`seen-${i}`), {});
    const total = lines.reduce((sum, l) => sum + recordOf(l).seen, 0);
    const lastSampled = Math.max(...Array.from({ length: 500 }, (_, i) => (shouldSample(`seen-${i}`, 0.2) ? i : -1)));
    expect(total).toBe(lastSampled + 1);
    expect(handler.shadowStats()).toMatchObject({ seen: 500, sampled: lines.length, logged: lines.length });
  });

  test('never lets its own failure reach the user: an unserialisable response is dropped and counted', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ({ answer: 10n }), { sampleRate: 1, log: (l) => lines.push(l) });
    await expect(handler(httpEvent('bigint'), {})).resolves.toEqual({ answer: 10n });
    expect(parseShadowLine(lines[0])).toMatchObject({ drop: 'unserialisable', id: 'bigint' });
  });

  test('passes the handler\'s error to the caller unchanged and logs nothing', async () => {
    const lines: string[] = [];
    const failure = new Error('boom');
    const handler = shadowTap(async () => { throw failure; }, { sampleRate: 1, log: (l) => lines.push(l) });
    await expect(handler(restEvent('err'), {})).rejects.toBe(failure);
    expect(lines).toEqual([]);
  });

  test('reads its configuration from the environment ShadowIntegration sets, options overriding it', async () => {
    process.env.GUARDRAILS_SHADOW_SAMPLE_RATE = '1';
    process.env.GUARDRAILS_SHADOW_ROUTES = '["GET /answer"]';
    process.env.GUARDRAILS_SHADOW_METHODS = '["GET"]';
    process.env.GUARDRAILS_SHADOW_HEADERS = '["accept-language"]';
    process.env.GUARDRAILS_SHADOW_REDACT_PATHS = '[]';
    process.env.GUARDRAILS_SHADOW_MAX_RECORD_BYTES = '8192';
    const lines: string[] = [];
    const fromEnv = shadowTap(async () => ok('x'), { log: (l) => lines.push(l), modelRev: '7', indexHash: 'idx-1' });
    await fromEnv(restEvent('env-1', { headers: { 'Accept-Language': 'fr', Accept: 'text/html' } }), {});
    await fromEnv(restEvent('env-2', { resource: '/other' }), {});
    expect(lines).toHaveLength(1);
    expect(recordOf(lines[0])).toMatchObject({ id: 'env-1', modelRev: '7', indexHash: 'idx-1', request: { headers: { 'accept-language': 'fr' } } });
    const overridden = shadowTap(async () => ok('x'), { sampleRate: 0.000001, log: (l) => lines.push(l) });
    await overridden(restEvent(idSampledAt(0.000001, true)), {});
    expect(lines).toHaveLength(1);
  });

  test('is off when no rate is configured anywhere', async () => {
    const lines: string[] = [];
    const handler = shadowTap(async () => ok('x'), { log: (l) => lines.push(l) });
    await handler(restEvent('off'), {});
    expect(lines).toEqual([]);
    expect(handler.shadowStats().seen).toBe(0);
  });

  test('turns itself off with one warning, rather than break the live function, when its environment is invalid', async () => {
    process.env.GUARDRAILS_SHADOW_SAMPLE_RATE = '1.5';
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const lines: string[] = [];
      const handler = shadowTap(async () => ok('still served'), { log: (l) => lines.push(l) });
      expect(await handler(restEvent('x'), {})).toEqual(ok('still served'));
      expect(lines).toEqual([]);
      expect(warn).toHaveBeenCalledWith('cdk-rollout-guardrails shadowTap is off: GUARDRAILS_SHADOW_SAMPLE_RATE: must be a number from 0 to 1, got: 1.5');
    } finally {
      warn.mockRestore();
    }
  });

  test.each([
    [{ sampleRate: 2 }, 'sampleRate: must be a number from 0 to 1, got: 2'],
    [{ sampleRate: 1, allowMethods: ['GET', 'FETCH'] }, 'allowMethods: must list methods of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got: ["FETCH"]'],
    [{ sampleRate: 1, routes: ['/answer'] }, 'routes: each route must be "<METHOD> /path" (METHOD one of ANY, GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS), got: "/answer"'],
    [{ sampleRate: 1, redactPaths: ['user.email'] }, 'redactPaths: "user.email" is not a supported JSON path (it must start with $ at character 1); write $.a.b, $.items[*].name, $[\'x-y\'] or $.list[0]'],
    [{ sampleRate: 1, redactPaths: ['$..email'] }, 'redactPaths: "$..email" is not a supported JSON path (recursive descent is not supported at character 2)'],
    [{ sampleRate: 1, maxRecordBytes: 500_000 }, 'maxRecordBytes: must be an integer from 1024 to 200000, got: 500000'],
  ])('rejects %j at wrap time with an error naming the option and the value', (options, message) => {
    expect(() => shadowTap(async () => 1, options as any)).toThrow(message);
  });
});
