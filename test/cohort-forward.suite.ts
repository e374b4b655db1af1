// The sticky-cohort forwarder (issue #15 §4): which requests the live version serves itself and which it forwards to
// the canary alias, how it reads and caches the cohort item, and what a failed forward looks like. SDK clients are
// instance mocks; test/cohort-forward-standin.suite.ts runs the real clients against dynalite and the AWS stand-in.
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import {
  CohortArgumentError, CohortForwardError, cohortSalt, guardrails, guardrailsMiddleware, inCanaryCohort, stickyCohorts,
  stickyCohortsMiddleware, type CohortDecision, type StickyCohortsOptions,
} from '../packages/runtime/src';
import { COHORT_ATTRIBUTES, COHORT_ENV, COHORT_TABLE_KEY, type CohortEnvironment } from '../packages/runtime/src/contract';

const ENV: CohortEnvironment = { table: 'cohorts', key: 'answer-live', canaryAlias: 'live-canary', cacheSeconds: 5 };
const SALT = cohortSalt({ alias: ENV.key, rollout: 'd-42' });
const SECRET = 'synthetic-canary-secret-0001';

const item = (weight: number, canaryVersion = '7') => ({
  Item: {
    [COHORT_TABLE_KEY]: { S: ENV.key },
    [COHORT_ATTRIBUTES.weight]: { N: String(weight) },
    [COHORT_ATTRIBUTES.salt]: { S: SALT },
    [COHORT_ATTRIBUTES.canaryVersion]: { S: canaryVersion },
    [COHORT_ATTRIBUTES.deploymentId]: { S: 'd-42' },
  },
});

const request = (user?: string, headers: Record<string, string> = {}) => ({
  version: '2.0', routeKey: 'POST /answer', rawPath: '/answer', headers: { ...(user ? { 'x-user-id': user } : {}), ...headers },
  body: '{"q":"hello"}', isBase64Encoded: false, requestContext: { requestId: `r-${user}`, http: { method: 'POST', path: '/answer' } },
});

const invokeAnswer = (payload: unknown, functionError?: string) => ({
  StatusCode: 200, Payload: Buffer.from(JSON.stringify(payload)) as any, ...(functionError ? { FunctionError: functionError } : {}),
});

const saved = { ...process.env };
beforeEach(() => {
  process.env.AWS_LAMBDA_FUNCTION_NAME = 'answer';
  process.env.AWS_LAMBDA_FUNCTION_VERSION = '6';
  delete process.env[COHORT_ENV];
});
afterEach(() => {
  process.env = { ...saved };
});

function setup(overrides: Partial<StickyCohortsOptions> = {}) {
  const dynamodb = new DynamoDBClient({ region: 'eu-west-1' });
  const lambda = new LambdaClient({ region: 'eu-west-1' });
  const ddbMock = mockClient(dynamodb);
  const lambdaMock = mockClient(lambda);
  ddbMock.on(GetItemCommand).resolves(item(50));
  lambdaMock.on(InvokeCommand).callsFake((input) => invokeAnswer({ statusCode: 200, body: `canary:${JSON.parse(Buffer.from(input.Payload as Uint8Array).toString()).headers['x-user-id']}` }));
  const clock = { t: 1_000_000 };
  const logs: any[] = [];
  const decisions: CohortDecision[] = [];
  const local = jest.fn(async (event: any) => ({ statusCode: 200, body: `local:${event.headers?.['x-user-id']}` }));
  const options: StickyCohortsOptions = {
    stableId: (r: any) => r.headers?.['x-user-id'], environment: ENV, clients: { dynamodb, lambda },
    now: () => clock.t, log: (line) => logs.push(JSON.parse(line)), onDecision: (d) => decisions.push(d),
    pin: { secrets: [SECRET] }, ...overrides,
  };
  return { handler: stickyCohorts(local, options), options, local, ddbMock, lambdaMock, clock, logs, decisions };
}

const users = (n: number) => Array.from({ length: n }, (_, i) => `user-${i}`);

describe('served locally', () => {
  test('without GUARDRAILS_COHORT: no read, no forward, one notice for the life of the wrapper', async () => {
    const { handler, ddbMock, lambdaMock, logs, decisions } = setup({ environment: undefined });
    for (const user of users(3)) expect(await handler(request(user))).toEqual({ statusCode: 200, body: `local:${user}` });
    expect(ddbMock.commandCalls(GetItemCommand)).toHaveLength(0);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(logs).toEqual([expect.objectContaining({ level: 'INFO', message: expect.stringContaining('no sticky rollout is configured (GUARDRAILS_COHORT') })]);
    expect(decisions.map((d) => d.reason)).toEqual(['not-configured', 'not-configured', 'not-configured']);
  });

  test('without a cohort item, or with an unusable one, saying why', async () => {
    const { handler, ddbMock, lambdaMock, clock, decisions } = setup();
    ddbMock.on(GetItemCommand).resolvesOnce({}).resolves({ Item: { ...item(50).Item, [COHORT_ATTRIBUTES.weight]: { N: '150' } } });
    expect(await handler(request('user-1'))).toEqual({ statusCode: 200, body: 'local:user-1' });
    clock.t += 5_000;
    await handler(request('user-1'));
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(decisions.map((d) => [d.served, d.reason, d.detail])).toEqual([
      ['local', 'no-state', expect.stringContaining('no cohort item')],
      ['local', 'no-state', expect.stringContaining('weight is not a number from 0 to 100')],
    ]);
  });

  test('at the canary version (the canary itself, or the version promoted after the shift), even at 100 %', async () => {
    process.env.AWS_LAMBDA_FUNCTION_VERSION = '7';
    const { handler, ddbMock, lambdaMock, decisions } = setup();
    ddbMock.on(GetItemCommand).resolves(item(100, '7'));
    for (const user of users(20)) expect(await handler(request(user))).toEqual({ statusCode: 200, body: `local:${user}` });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(new Set(decisions.map((d) => d.reason))).toEqual(new Set(['canary-version']));
  });

  test('a warm ping, without reading the item; a request that came through the canary alias', async () => {
    const { handler, ddbMock, lambdaMock, local, decisions } = setup();
    ddbMock.on(GetItemCommand).resolves(item(100));
    await handler({ 'x-warm': true } as any);
    await handler(request('user-1', { 'X-Warm': 'true' }));
    expect(ddbMock.commandCalls(GetItemCommand)).toHaveLength(0);
    await handler(request('user-1'), { invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:answer:live-canary' });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(local).toHaveBeenCalledTimes(3);
    expect(decisions.map((d) => d.reason)).toEqual(['warm-ping', 'warm-ping', 'via-canary-alias']);
  });
});

test('GUARDRAILS_COHORT is the default environment: its table, key and canary alias are used', async () => {
  process.env[COHORT_ENV] = JSON.stringify({ ...ENV, table: 'from-env', canaryAlias: 'live-canary-env' });
  const { handler, ddbMock, lambdaMock } = setup({ environment: undefined });
  ddbMock.on(GetItemCommand).resolves(item(100));
  await handler(request('user-1'));
  expect(ddbMock.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: 'from-env', Key: { pk: { S: 'answer-live' } } });
  expect(lambdaMock.commandCalls(InvokeCommand)[0].args[0].input).toMatchObject({ FunctionName: 'answer', Qualifier: 'live-canary-env' });
});

describe('forwarded', () => {
  test("the cohort's requests go to the canary alias, with the event as the payload; the others are served here", async () => {
    const { handler, lambdaMock, local, decisions } = setup();
    const ids = users(200);
    const answers = await Promise.all(ids.map((user) => handler(request(user), { getRemainingTimeInMillis: () => 10_000 })));
    const cohort = ids.filter((id) => inCanaryCohort(id, 50, { salt: SALT }));
    expect(cohort.length).toBeGreaterThan(70);
    expect(cohort.length).toBeLessThan(130);
    ids.forEach((id, i) => expect(answers[i]).toEqual({ statusCode: 200, body: `${cohort.includes(id) ? 'canary' : 'local'}:${id}` }));
    const calls = lambdaMock.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(cohort.length);
    expect(local).toHaveBeenCalledTimes(ids.length - cohort.length);
    const first = calls[0].args[0].input;
    expect(first).toMatchObject({ FunctionName: 'answer', Qualifier: 'live-canary', InvocationType: 'RequestResponse' });
    expect(JSON.parse(Buffer.from(first.Payload as Uint8Array).toString())).toEqual(request(cohort[0]));
    expect(decisions.filter((d) => d.served === 'canary').every((d) => d.reason === 'cohort' && d.bucket! < 5000 && d.state?.deploymentId === 'd-42')).toBe(true);
  });

  test('a pin from an allowed caller reaches the canary at weight 0; a pin from anyone else is reported and ignored', async () => {
    const { handler, ddbMock, lambdaMock, decisions } = setup();
    ddbMock.on(GetItemCommand).resolves(item(0));
    expect(await handler(request('user-1', { 'X-Release': 'canary', 'X-Release-Token': SECRET }))).toEqual({ statusCode: 200, body: 'canary:user-1' });
    expect(await handler(request('user-1', { 'X-Release': 'canary', 'X-Release-Token': 'not-the-secret-at-all' }))).toEqual({ statusCode: 200, body: 'local:user-1' });
    expect(await handler(request('user-1'))).toEqual({ statusCode: 200, body: 'local:user-1' });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(decisions.map((d) => [d.served, d.reason, d.pinRejected])).toEqual([
      ['canary', 'pinned', false], ['local', 'control', true], ['local', 'control', false],
    ]);
  });

  test("the canary's function error is thrown as a CohortForwardError with its type and message", async () => {
    const { handler, ddbMock, lambdaMock } = setup();
    ddbMock.on(GetItemCommand).resolves(item(100));
    lambdaMock.on(InvokeCommand).resolves(invokeAnswer({ errorType: 'RangeError', errorMessage: 'index out of range', trace: [] }, 'Unhandled'));
    const error = await handler(request('user-1')).catch((e) => e);
    expect(error).toBeInstanceOf(CohortForwardError);
    expect(error).toMatchObject({
      name: 'CohortForwardError', functionError: 'Unhandled', errorType: 'RangeError', errorMessage: 'index out of range', canaryAlias: 'live-canary',
    });
    expect(error.message).toContain('answer:live-canary failed (Unhandled): RangeError: index out of range');
  });

  test('a throttled or failed Invoke is a CohortForwardError with the cause', async () => {
    const { handler, ddbMock, lambdaMock, local } = setup();
    ddbMock.on(GetItemCommand).resolves(item(100));
    const throttle = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
    lambdaMock.on(InvokeCommand).rejects(throttle);
    const error = await handler(request('user-1')).catch((e) => e);
    expect(error).toBeInstanceOf(CohortForwardError);
    expect(error.cause).toBe(throttle);
    expect(error.message).toContain('TooManyRequestsException: Rate exceeded');
    expect(error.functionError).toBeUndefined();
    expect(local).not.toHaveBeenCalled();
  });
});

test('an observer, a log sink or a stableId function that throws never fails the request: it is served here', async () => {
  const { handler, ddbMock, lambdaMock } = setup({
    stableId: (r: any) => { if (r.headers['x-user-id'] === 'bad') throw new Error('no tenant claim'); return r.headers['x-user-id']; },
    onDecision: () => { throw new Error('observer failed'); },
    log: () => { throw new Error('log sink failed'); },
  });
  ddbMock.on(GetItemCommand).resolves(item(100));
  expect(await handler(request('bad'))).toEqual({ statusCode: 200, body: 'local:bad' });
  expect(await handler(request('user-1'))).toEqual({ statusCode: 200, body: 'canary:user-1' });
  expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
  const decisions: CohortDecision[] = [];
  const observed = setup({ stableId: () => { throw new Error('no tenant claim'); }, onDecision: (d) => decisions.push(d) });
  observed.ddbMock.on(GetItemCommand).resolves(item(100));
  await observed.handler(request('user-1'));
  expect(decisions).toEqual([expect.objectContaining({ served: 'local', reason: 'route-error', detail: 'no tenant claim' })]);
  expect(observed.logs).toEqual([expect.objectContaining({ level: 'WARN', error: 'Error: no tenant claim' })]);
});

describe('the cohort item', () => {
  test('is read once per cacheSeconds, then again; concurrent requests share one read', async () => {
    const { handler, ddbMock, clock } = setup();
    for (let i = 0; i < 20; i++) {
      await handler(request(`user-${i}`));
      clock.t += 240;
    }
    expect(ddbMock.commandCalls(GetItemCommand)).toHaveLength(1);
    expect(ddbMock.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: 'cohorts', Key: { pk: { S: 'answer-live' } } });
    clock.t += 300;
    await handler(request('user-1'));
    expect(ddbMock.commandCalls(GetItemCommand)).toHaveLength(2);

    clock.t += 10_000;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    ddbMock.on(GetItemCommand).callsFake(async () => { await gate; return item(50); });
    const pending = users(10).map((user) => handler(request(user)));
    release();
    await Promise.all(pending);
    expect(ddbMock.commandCalls(GetItemCommand)).toHaveLength(3);
  });

  test('a failed read keeps the last good state for 60 s past its expiry, then serves locally; never fails the request', async () => {
    const { handler, ddbMock, lambdaMock, clock, logs, decisions } = setup();
    ddbMock.on(GetItemCommand).resolvesOnce(item(100)).rejects(new Error('connect ETIMEDOUT'));
    const start = clock.t;
    await handler(request('user-1'));
    clock.t = start + 6_000;
    expect(await handler(request('user-2'))).toEqual({ statusCode: 200, body: 'canary:user-2' });
    // Within the second after a failure no read is tried: the last good state serves without waiting.
    expect(await handler(request('user-3'))).toEqual({ statusCode: 200, body: 'canary:user-3' });
    expect(ddbMock.commandCalls(GetItemCommand)).toHaveLength(2);
    clock.t = start + 64_000;
    expect(await handler(request('user-4'))).toEqual({ statusCode: 200, body: 'canary:user-4' });
    clock.t = start + 66_000;
    expect(await handler(request('user-5'))).toEqual({ statusCode: 200, body: 'local:user-5' });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(4);
    expect(decisions.at(-1)).toMatchObject({ served: 'local', reason: 'no-state', detail: expect.stringContaining('could not be read') });
    expect(logs).toHaveLength(3);
    expect(logs[0]).toMatchObject({ level: 'WARN', table: 'cohorts', key: 'answer-live', error: 'Error: connect ETIMEDOUT' });
  });
});

test('stickiness over 10,000 ids: each step forwards a superset of the last, within ±1 point of its weight', async () => {
  // Plain stub clients here: 50,000 requests through aws-sdk-client-mock's recording stubs took seconds, and the SDK
  // layer is not what this test is about (the tests above cover the calls themselves).
  let current = item(0);
  let invokes = 0;
  const dynamodb = { send: async (command: unknown) => {
    if (!(command instanceof GetItemCommand)) throw new Error(`unexpected ${(command as object).constructor.name}`);
    return current;
  } } as unknown as DynamoDBClient;
  const lambda = { send: async (command: unknown) => {
    if (!(command instanceof InvokeCommand)) throw new Error(`unexpected ${(command as object).constructor.name}`);
    invokes++;
    return invokeAnswer({ statusCode: 200, body: `canary:${JSON.parse(Buffer.from(command.input.Payload as Uint8Array).toString()).headers['x-user-id']}` });
  } } as unknown as LambdaClient;
  const { handler, clock, decisions } = setup({ log: () => undefined, clients: { dynamodb, lambda } });
  const ids = users(10_000);
  let previous = new Set<string>();
  for (const weight of [1, 5, 25, 50, 100]) {
    current = item(weight);
    invokes = 0;
    clock.t += 5_000;
    decisions.length = 0;
    for (const id of ids) await handler(request(id));
    const forwarded = new Set(ids.filter((_, i) => decisions[i].served === 'canary'));
    expect(invokes).toBe(forwarded.size);
    // None of the last step's ids left out (one expect for all: an expect per id cost more than the forwarding).
    expect([...previous].filter((id) => !forwarded.has(id))).toEqual([]);
    expect(Math.abs((100 * forwarded.size) / ids.length - weight)).toBeLessThanOrEqual(1);
    previous = forwarded;
  }
  expect(previous.size).toBe(ids.length);
});

describe('in guardrails()', () => {
  test('outermost: a forwarded request is neither recorded nor tapped here; a local one is', async () => {
    const { options, ddbMock } = setup();
    ddbMock.on(GetItemCommand).resolves(item(0));
    const records: any[] = [];
    const taps: string[] = [];
    const handler = guardrails(async () => ({ statusCode: 200, body: 'local' }), {
      cohorts: options,
      telemetry: { release: { RELEASE_ID: 'r6' }, sink: (line) => records.push(JSON.parse(line)) },
      shadow: { sampleRate: 1, allowMethods: ['POST'], log: (line) => taps.push(line) },
    });
    expect(await handler(request('user-1', { 'X-Release': 'canary', 'X-Release-Token': SECRET }) as any)).toEqual({ statusCode: 200, body: 'canary:user-1' });
    expect(records).toHaveLength(0);
    expect(taps).toHaveLength(0);
    expect(await handler(request('user-1') as any)).toEqual({ statusCode: 200, body: 'local' });
    expect(records).toHaveLength(1);
    expect(taps).toHaveLength(1);
    expect(handler.shadowStats!().logged).toBe(1);
  });

  test('the middleware answers the cohort from before and lets the rest through; guardrailsMiddleware puts it first', async () => {
    const { options, ddbMock } = setup();
    ddbMock.on(GetItemCommand).resolves(item(0));
    const middleware = stickyCohortsMiddleware(options);
    const pinned = { event: request('user-1', { 'X-Release': 'canary', 'X-Release-Token': SECRET }), context: {}, response: undefined, error: undefined, internal: {} } as any;
    expect(await middleware.before!(pinned)).toEqual({ statusCode: 200, body: 'canary:user-1' });
    expect(pinned.earlyResponse).toEqual({ statusCode: 200, body: 'canary:user-1' });
    const plain = { event: request('user-1'), context: {}, response: undefined, error: undefined, internal: {} } as any;
    expect(await middleware.before!(plain)).toBeUndefined();
    const stack = guardrailsMiddleware({ cohorts: options, telemetry: { release: { RELEASE_ID: 'r6' }, sink: () => undefined } });
    expect(stack).toHaveLength(2);
    expect(await stack[0].before!({ ...pinned, internal: {} })).toEqual({ statusCode: 200, body: 'canary:user-1' });
  });
});

describe('bad input is refused at wrap time, naming the option or variable and the value', () => {
  const local = async () => 'ok';

  test.each([
    ['not JSON', 'table=cohorts', /GUARDRAILS_COHORT must be a CohortEnvironment as JSON \(GUARDRAILS_COHORT is not JSON.*got: "table=cohorts"/],
    ['an empty table', '{"table":"","key":"k","canaryAlias":"live-canary","cacheSeconds":5}', /GUARDRAILS_COHORT\.table must be a non-empty string, got: ""/],
    ['a negative cacheSeconds', '{"table":"t","key":"k","canaryAlias":"live-canary","cacheSeconds":-1}', /GUARDRAILS_COHORT\.cacheSeconds .*got: -1/],
  ])('a malformed GUARDRAILS_COHORT: %s', (_, text, message) => {
    process.env[COHORT_ENV] = text;
    let error: any;
    try {
      stickyCohorts(local, { stableId: 'tenant-1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CohortArgumentError);
    expect(error).toMatchObject({ argument: 'GUARDRAILS_COHORT', value: text });
    expect(error.message).toMatch(message);
  });

  test('a malformed environment option', () => {
    expect(() => stickyCohorts(local, { stableId: 'tenant-1', environment: { ...ENV, canaryAlias: '' } })).toThrow(/options\.environment .*canaryAlias must be a non-empty string, got: ""/);
  });

  test.each([
    [undefined, 'undefined'],
    ['  ', '"  "'],
    [42, '42'],
  ])('a missing or bad stableId: %p', (stableId, shown) => {
    expect(() => stickyCohorts(local, { stableId } as any)).toThrow(new CohortArgumentError('stickyCohorts', 'options.stableId', stableId,
      'a non-empty string or a function of the request (a tenant id or a stable user id)'));
    expect(() => stickyCohorts(local, { stableId } as any)).toThrow(`got: ${shown}`);
    expect(() => guardrails(local, { cohorts: { stableId } as any })).toThrow('options.stableId');
  });

  test('bad pin options', () => {
    const attempt = (pin: unknown) => {
      try {
        stickyCohorts(local, { stableId: 'tenant-1', pin } as any);
      } catch (e) {
        return e as CohortArgumentError;
      }
      throw new Error('not refused');
    };
    expect(attempt({ secrets: ['short'] })).toMatchObject({ argument: 'options.pin.secrets[0]', value: 'short', message: expect.stringContaining('stickyCohorts: options.pin: canaryPin: options.secrets[0] must be a string of at least 16 characters, got: "short"') });
    expect(attempt({})).toMatchObject({ argument: 'options.pin', message: expect.stringContaining('at least one of secrets, allowedCallers or verify') });
    expect(attempt('secret')).toMatchObject({ argument: 'options.pin', value: 'secret' });
    expect(() => stickyCohorts('handler' as any, { stableId: 'tenant-1' })).toThrow('stickyCohorts: handler must be a function');
  });
});
