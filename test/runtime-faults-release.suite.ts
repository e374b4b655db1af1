import { ReleaseConfigError, isWarmPing, pinGuard, reportQuality, resetColdStartForTesting, withRelease } from '../packages/runtime/src';

const restEvent = (headers: Record<string, unknown> | null = {}, extra: Record<string, unknown> = {}) => ({
  resource: '/answer', path: '/answer', httpMethod: 'POST', headers, multiValueHeaders: null, body: '{}', requestContext: { requestId: 'r1' }, ...extra,
});
const httpApiEvent = (headers: Record<string, string>) => ({ version: '2.0', routeKey: 'POST /answer', rawPath: '/answer', headers, body: '{}', requestContext: { requestId: 'r2' } });
const release = { RELEASE_ID: 'rel-1' };
const ok = async () => ({ statusCode: 200, body: 'answer' });

let errors: jest.SpyInstance;
beforeEach(() => {
  resetColdStartForTesting();
  errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => errors.mockRestore());

/** console.error lines written so far, parsed. */
const errorLines = () => errors.mock.calls.map((args) => JSON.parse(String(args[0])) as { level: string; source: string; message: string });

describe('telemetry never changes what the handler returns or throws', () => {
  test('a sink that throws loses the record, not the result, with one line on standard error', async () => {
    const handler = withRelease(ok, { release, sink: () => { throw new Error('log pipe closed'); } });
    await expect(handler(restEvent())).resolves.toEqual({ statusCode: 200, body: 'answer' });
    expect(errorLines()).toEqual([expect.objectContaining({ level: 'ERROR', source: 'cdk-rollout-guardrails/telemetry', message: expect.stringContaining('Error: log pipe closed') })]);
  });

  test('a sink that throws cannot hide the handler\'s own error', async () => {
    const failure = new Error('the handler\'s own error');
    const handler = withRelease(async () => { throw failure; }, { release, sink: () => { throw new Error('sink failed'); } });
    await expect(handler(restEvent())).rejects.toBe(failure);
    expect(errors).toHaveBeenCalledTimes(1);
  });

  test('an async sink that rejects neither changes the result nor leaves an unhandled rejection', async () => {
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const handler = withRelease(ok, { release, sink: (async () => { throw new Error('async sink failed'); }) as unknown as (line: string) => void });
      await expect(handler(restEvent())).resolves.toEqual({ statusCode: 200, body: 'answer' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
      expect(errorLines()).toEqual([expect.objectContaining({ message: expect.stringContaining('async sink failed') })]);
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  test('a route option that throws records the default route and leaves the result alone', async () => {
    const lines: string[] = [];
    const handler = withRelease(ok, { release, sink: (l) => lines.push(l), route: () => { throw new Error('no route'); } });
    await expect(handler(restEvent())).resolves.toEqual({ statusCode: 200, body: 'answer' });
    expect(JSON.parse(lines[0])).toMatchObject({ route: 'POST /answer', status: 200 });
    expect(errors).toHaveBeenCalledTimes(1);
  });

  test('a route option that returns something other than text still gives a valid record', async () => {
    const lines: string[] = [];
    const handler = withRelease(ok, { release, sink: (l) => lines.push(l), route: (() => undefined) as unknown as (e: unknown) => string });
    await handler(restEvent());
    expect(JSON.parse(lines[0])).toMatchObject({ route: 'POST /answer' });
  });

  test('a bad reportQuality value is left out of the record, never thrown, and the handler\'s result stands', async () => {
    const lines: string[] = [];
    const handler = withRelease(async () => {
      reportQuality({ deltaS: 0.2 });
      reportQuality({ lambdaState: 10n as unknown as string, coverage: '0.9' as unknown as number });
      reportQuality(null as unknown as object);
      reportQuality({ get deltaS(): number { throw new Error('getter'); } });
      return { statusCode: 200, body: 'measured' };
    }, { release, sink: (l) => lines.push(l) });
    await expect(handler(restEvent())).resolves.toEqual({ statusCode: 200, body: 'measured' });
    const record = JSON.parse(lines[0]);
    expect(record).toMatchObject({ delta_s: 0.2, status: 200 });
    expect(record).not.toHaveProperty('lambda_state');
    expect(record).not.toHaveProperty('coverage');
    expect(errorLines().map((l) => l.message)).toEqual([
      'reportQuality left out: coverage must be a finite number, got: "0.9"; lambdaState must be a string, got: 10n',
      'reportQuality ignored a report that is not an object: null',
      'reportQuality ignored a report it could not read: Error: getter',
    ]);
  });

  test('a handler\'s error is rethrown unchanged even when the report it made cannot be written', async () => {
    const failure = new Error('boom');
    const handler = withRelease(async () => {
      reportQuality({ lambdaState: { toJSON() { throw new Error('no'); } } as unknown as string });
      throw failure;
    }, { release, sink: () => undefined });
    await expect(handler(restEvent())).rejects.toBe(failure);
  });
});

describe('withRelease and pinGuard options are checked at wrap time', () => {
  test.each([
    [{ sink: 'stdout' }, 'sink: must be a function, got: "stdout"'],
    [{ route: 'POST /answer' }, 'route: must be a function, got: "POST /answer"'],
    [{ namespace: 42 }, 'namespace: must be a non-empty string, got: 42'],
    [{ namespace: ':bad' }, 'namespace: must be a CloudWatch namespace (1 to 255 characters, not starting with \':\'), got: ":bad"'],
    [{ functionName: '' }, 'functionName: must be a non-empty string, got: ""'],
    [{ revision: 12 }, 'revision: must be a non-empty string, got: 12'],
    [{ variant: null }, 'variant: must be a non-empty string, got: null'],
    [{ release: 'rel-1' }, 'release: must be an object of strings, got: "rel-1"'],
    [{ release: { RELEASE_ID: 7 } }, 'release.RELEASE_ID: must be a string, got: 7'],
  ])('withRelease rejects %j, naming the option and the value', (options, message) => {
    expect(() => withRelease(ok, options as never)).toThrow(ReleaseConfigError);
    expect(() => withRelease(ok, options as never)).toThrow(message);
  });

  test('withRelease rejects a handler that is not a function', () => {
    expect(() => withRelease('handler' as never)).toThrow('handler: must be a function, got: "handler"');
  });

  test.each([
    [{ pins: { SCHEMA_REV: 7 } }, 'pins.SCHEMA_REV: must be a string, got: 7'],
    [{ pins: { schema_rev: '7' } }, 'pins.schema_rev: is not a pin (SCHEMA_REV, INDEX_HASH, MODEL_TAG)'],
    [{ pins: 'SCHEMA_REV=7' }, 'pins: must be an object of strings, got: "SCHEMA_REV=7"'],
  ])('pinGuard rejects %j, naming the option and the value', (options, message) => {
    expect(() => pinGuard(ok, options as never)).toThrow(ReleaseConfigError);
    expect(() => pinGuard(ok, options as never)).toThrow(message);
  });

  test('pinGuard still takes the release identity releaseFromEnv returns, RELEASE_ID included', async () => {
    const guarded = pinGuard(ok, { pins: { RELEASE_ID: 'rel-1', SCHEMA_REV: '7' } as never });
    expect(await guarded(restEvent({ 'X-Schema-Rev': '7' }))).toEqual({ statusCode: 200, body: 'answer' });
  });
});

describe('isWarmPing matches names and values in any case, in every form', () => {
  test.each([
    ['top-level X-Warm: true', { 'X-Warm': true }],
    ['top-level X-WARM: "TRUE"', { 'X-WARM': 'TRUE' }],
    ['top-level x-warm: "True "', { 'x-warm': 'True ' }],
    ['a REST event with X-WARM: true', restEvent({ 'X-WARM': 'true' })],
    ['a REST event with the header only in multiValueHeaders', restEvent(null, { multiValueHeaders: { 'X-WARM': ['TRUE'] } })],
    ['an HTTP API event with a repeated header joined by a comma', httpApiEvent({ 'x-warm': 'true,true' })],
    ['a plain invocation with headers { X-WARM: true }', { headers: { 'X-WARM': true } }],
  ])('%s is a warm ping', (_label, event) => {
    expect(isWarmPing(event)).toBe(true);
  });

  test.each([
    ['top-level X-Warm: "false"', { 'X-Warm': 'false' }],
    ['top-level X-Warm-Up: true', { 'X-Warm-Up': true }],
    ['top-level X-WARM: 1', { 'X-WARM': 1 }],
    ['a header X-Warm: "true,false"', restEvent({ 'X-Warm': 'true,false' })],
    ['an inherited X-Warm', Object.create({ 'X-Warm': true })],
  ])('%s is not', (_label, event) => {
    expect(isWarmPing(event)).toBe(false);
  });

  test('withRelease writes no record for an X-WARM ping', async () => {
    const lines: string[] = [];
    const handler = withRelease(async () => ({ warm: true }), { release, sink: (l) => lines.push(l) });
    await handler({ 'X-WARM': 'TRUE' } as never);
    expect(lines).toEqual([]);
  });
});
