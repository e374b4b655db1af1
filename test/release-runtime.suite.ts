import { isWarmPing, pinGuard, pinMismatches, releaseFromEnv, reportQuality, resetColdStartForTesting, withRelease } from '../packages/runtime/src';

const PINS = { SCHEMA_REV: '7', INDEX_HASH: '0x9a77', MODEL_TAG: 'titan-v2' };

/** An API Gateway REST (v1) proxy event. */
function restEvent(headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return { resource: '/answer', path: '/answer', httpMethod: 'POST', headers, multiValueHeaders: null, body: '{"question":"q"}', requestContext: { requestId: 'r1' }, ...extra };
}

/** An API Gateway HTTP API (v2) proxy event. */
function httpApiEvent(headers: Record<string, string> = {}) {
  return { version: '2.0', routeKey: 'POST /answer', rawPath: '/answer', headers, body: '{"question":"q"}', requestContext: { requestId: 'r2' } };
}

const ok = async () => ({ statusCode: 200, body: '{"answer":"a"}' });

describe('pinGuard', () => {
  test('passes a request that carries no pins', async () => {
    const guarded = pinGuard(ok, { pins: PINS });
    expect(await guarded(restEvent())).toEqual({ statusCode: 200, body: '{"answer":"a"}' });
    expect(await guarded({ question: 'plain invocation' } as any)).toEqual({ statusCode: 200, body: '{"answer":"a"}' });
  });

  test('treats an empty pin header as no pin, and reads a plain invocation\'s non-string header as text', async () => {
    const guarded = pinGuard(ok, { pins: PINS });
    expect((await guarded(restEvent({ 'X-Schema-Rev': '', 'x-model-tag': '  ' })) as any).statusCode).toBe(200);
    expect((await guarded({ headers: { 'X-Schema-Rev': 7 } } as any) as any).statusCode).toBe(200);
    const refused = await guarded({ headers: { 'X-Schema-Rev': 8 } } as any) as any;
    expect(refused.statusCode).toBe(409);
    expect(JSON.parse(refused.body).mismatches).toEqual([{ pin: 'SCHEMA_REV', header: 'X-Schema-Rev', version: '7', request: '8' }]);
  });

  test('passes a request whose pins all match, in any header case', async () => {
    const guarded = pinGuard(ok, { pins: PINS });
    expect((await guarded(restEvent({ 'x-schema-rev': '7', 'X-INDEX-HASH': '0x9a77', 'X-Model-Tag': ' titan-v2 ' })) as any).statusCode).toBe(200);
    expect((await guarded(httpApiEvent({ 'x-schema-rev': '7' }) as any) as any).statusCode).toBe(200);
  });

  test('refuses a mismatched pin with 409, naming the pin and both values', async () => {
    let called = false;
    const guarded = pinGuard(async () => { called = true; return { statusCode: 200 }; }, { pins: PINS });
    const response = await guarded(restEvent({ 'X-Schema-Rev': '8', 'x-model-tag': 'titan-v2' })) as any;
    expect(called).toBe(false);
    expect(response.statusCode).toBe(409);
    expect(response.headers['content-type']).toBe('application/json');
    const body = JSON.parse(response.body);
    expect(body.mismatches).toEqual([{ pin: 'SCHEMA_REV', header: 'X-Schema-Rev', version: '7', request: '8' }]);
    expect(body.message).toBe('this version does not match the request\'s pins (SCHEMA_REV: request "8", version "7")');
  });

  test('reports every mismatched pin at once, from REST multi-value headers too', async () => {
    const guarded = pinGuard(ok, { pins: PINS });
    const event = restEvent({}, { headers: null, multiValueHeaders: { 'X-Index-Hash': ['0xdead'], 'x-model-tag': ['claude'] } });
    const body = JSON.parse(((await guarded(event)) as any).body);
    expect(body.mismatches.map((m: any) => m.pin)).toEqual(['INDEX_HASH', 'MODEL_TAG']);
  });

  test('refuses a pin the version does not have, since it cannot vouch for it', async () => {
    const guarded = pinGuard(ok, { pins: { SCHEMA_REV: '7' } });
    const body = JSON.parse(((await guarded(restEvent({ 'x-index-hash': '0x1' }))) as any).body);
    expect(body.mismatches).toEqual([{ pin: 'INDEX_HASH', header: 'X-Index-Hash', version: null, request: '0x1' }]);
    expect(body.message).toContain('INDEX_HASH: request "0x1", version not pinned');
  });

  test('reads the pins from the function\'s environment by default', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { SCHEMA_REV: '3', INDEX_HASH: 'abc', MODEL_TAG: 'm1', RELEASE_ID: 'rel-1' });
    try {
      expect(releaseFromEnv()).toEqual({ RELEASE_ID: 'rel-1', SCHEMA_REV: '3', INDEX_HASH: 'abc', MODEL_TAG: 'm1' });
      const guarded = pinGuard(ok);
      expect((await guarded(restEvent({ 'x-schema-rev': '3' })) as any).statusCode).toBe(200);
      expect((await guarded(restEvent({ 'x-schema-rev': '4' })) as any).statusCode).toBe(409);
    } finally {
      process.env = saved;
    }
  });

  test('compares pins exactly: no prefix or case folding of the values', () => {
    expect(pinMismatches(restEvent({ 'x-model-tag': 'TITAN-V2' }), PINS)).toHaveLength(1);
    expect(pinMismatches(restEvent({ 'x-schema-rev': '70' }), PINS)).toHaveLength(1);
  });
});

describe('isWarmPing', () => {
  test.each([
    ['"x-warm": true at the top level', { 'x-warm': true }, true],
    ['"x-warm": "true" at the top level', { 'x-warm': 'true' }, true],
    ['an X-Warm: true header on a REST event', restEvent({ 'X-Warm': 'true' }), true],
    ['an x-warm: TRUE header on an HTTP API event', httpApiEvent({ 'x-warm': 'TRUE' }), true],
    ['"x-warm": false', { 'x-warm': false }, false],
    ['an x-warm: no header', restEvent({ 'x-warm': 'no' }), false],
    ['a body that mentions x-warm', { question: 'x-warm' }, false],
    ['a plain invocation whose headers hold x-warm: true as a boolean', { headers: { 'x-warm': true } }, true],
    ['a plain invocation whose headers hold x-warm: 0', { headers: { 'x-warm': 0 } }, false],
    ['null', null, false],
  ])('%s is a warm ping: %s', (_label, event, expected) => {
    expect(isWarmPing(event)).toBe(expected);
  });
});

describe('withRelease', () => {
  const release = { RELEASE_ID: 'rel-42', ...PINS };
  let lines: string[];
  const options = () => ({ release, revision: '12', functionName: 'answer', sink: (line: string) => lines.push(line) });
  beforeEach(() => {
    lines = [];
    resetColdStartForTesting();
  });

  test('writes one Embedded Metric Format record per invocation, split by release and revision', async () => {
    const handler = withRelease(ok, options());
    await handler(restEvent(), { awsRequestId: 'req-1' });
    expect(lines).toHaveLength(1);
    const record = JSON.parse(lines[0]);
    expect(record._aws.CloudWatchMetrics).toEqual([{
      Namespace: 'RolloutGuardrails',
      Dimensions: [['FunctionName', 'ReleaseId'], ['FunctionName', 'ReleaseId', 'Revision']],
      Metrics: [
        { Name: 'Invocations', Unit: 'Count' }, { Name: 'Errors', Unit: 'Count' },
        { Name: 'Latency', Unit: 'Milliseconds' }, { Name: 'ColdStart', Unit: 'Count' },
      ],
    }]);
    expect(record).toMatchObject({
      FunctionName: 'answer', ReleaseId: 'rel-42', Revision: '12', Invocations: 1, Errors: 0, ColdStart: 1,
      route: 'POST /answer', variant: 'rel-42', release_id: 'rel-42', revision: '12', cold_start: true, status: 200, request_id: 'req-1',
    });
    expect(typeof record.Latency).toBe('number');
    expect(record.latency_ms).toBe(record.Latency);
    expect(Math.abs(Date.parse(record.ts) - record._aws.Timestamp)).toBe(0);
  });

  test('counts only the first invocation of an environment as a cold start', async () => {
    const handler = withRelease(ok, options());
    await handler(restEvent());
    await handler(restEvent());
    expect(lines.map((l) => JSON.parse(l).ColdStart)).toEqual([1, 0]);
  });

  test('does not count the first invocation of an environment initialised for provisioned concurrency as a cold start', async () => {
    const before = process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    try {
      process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'provisioned-concurrency';
      resetColdStartForTesting();
      const handler = withRelease(ok, options());
      await handler(restEvent());
      process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
      resetColdStartForTesting();
      await handler(restEvent());
      await handler(restEvent());
      expect(lines.map((l) => JSON.parse(l)).map((r) => [r.ColdStart, r.cold_start])).toEqual([[0, false], [1, true], [0, false]]);
    } finally {
      if (before === undefined) delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
      else process.env.AWS_LAMBDA_INITIALIZATION_TYPE = before;
    }
  });

  test('lets warm pings reach the handler but writes no metrics for them, and they take the cold start', async () => {
    let calls = 0;
    const handler = withRelease(async () => { calls++; return { warm: true }; }, options());
    await handler({ 'x-warm': true } as any);
    await handler(restEvent({ 'x-warm': 'true' }) as any);
    expect(calls).toBe(2);
    expect(lines).toEqual([]);
    await handler(restEvent() as any);
    expect(JSON.parse(lines[0]).ColdStart).toBe(0);
  });

  test('counts a thrown error and a 5xx response as errors, and rethrows', async () => {
    const failing = withRelease(async () => { throw new TypeError('boom'); }, options());
    await expect(failing(restEvent())).rejects.toThrow('boom');
    const fiveHundred = withRelease(async () => ({ statusCode: 503 }), options());
    await fiveHundred(httpApiEvent());
    const fourHundred = withRelease(async () => ({ statusCode: 409 }), options());
    await fourHundred(httpApiEvent());
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => [r.Errors, r.status])).toEqual([[1, 'error'], [1, 503], [0, 409]]);
    expect(records[0].error_type).toBe('TypeError');
    expect(records[1].route).toBe('POST /answer');
  });

  test('records the quality the handler reports for its own invocation only', async () => {
    const handler = withRelease(async (event: { n: number }) => {
      await new Promise((r) => setTimeout(r, event.n));
      reportQuality({ deltaS: event.n / 100, coverage: 0.8 });
      reportQuality({ lambdaState: 'convergent' });
      return { ok: event.n };
    }, options());
    await Promise.all([handler({ n: 5 }), handler({ n: 1 })]);
    const records = lines.map((l) => JSON.parse(l)).sort((a, b) => a.delta_s - b.delta_s);
    expect(records.map((r) => [r.delta_s, r.coverage, r.lambda_state])).toEqual([[0.01, 0.8, 'convergent'], [0.05, 0.8, 'convergent']]);
    expect(records[0].route).toBe('invoke');
    expect(records[0].status).toBe(200);
  });

  test('takes the variant from the X-Release or X-Exp header', async () => {
    const handler = withRelease(ok, options());
    await handler(restEvent({ 'X-Release': 'canary' }));
    await handler(httpApiEvent({ 'x-exp': 'v2-cnr' }) as any);
    expect(lines.map((l) => JSON.parse(l).variant)).toEqual(['canary', 'v2-cnr']);
  });

  test('composes with pinGuard: a refused request is recorded as a 409, not an error', async () => {
    const handler = withRelease(pinGuard(ok, { pins: PINS }), options());
    const response = await handler(restEvent({ 'x-schema-rev': '1' })) as any;
    expect(response.statusCode).toBe(409);
    expect(JSON.parse(lines[0])).toMatchObject({ status: 409, Errors: 0 });
  });

  test('escapes what it copies from the request into valid JSON', async () => {
    const handler = withRelease(ok, options());
    await handler(restEvent({ 'x-release': 'a"b\\c\n' }, { resource: '/q"uote' }));
    expect(JSON.parse(lines[0]).variant).toBe('a"b\\c\n');
    expect(JSON.parse(lines[0]).route).toBe('POST /q"uote');
  });
});
