import {
  guardrails, GuardrailsConfigError, IdempotencyKeyMissingError, InMemoryIdempotencyStore, makeIdempotent, pinGuard,
  ReleaseConfigError, resetColdStartForTesting, shadowTap, withRelease,
} from 'cdk-rollout-guardrails-runtime';

const rest = (headers: Record<string, string> = {}, method = 'POST', id = 'req-1') => ({
  resource: '/orders', path: '/orders', httpMethod: method, headers, multiValueHeaders: null, body: '{"item":1}',
  queryStringParameters: null, multiValueQueryStringParameters: null, pathParameters: null, isBase64Encoded: false,
  requestContext: { requestId: id, stage: 'prod' },
});

function setup() {
  const store = new InMemoryIdempotencyStore();
  const claims = jest.spyOn(store, 'claim');
  const records: any[] = [];
  const taps: any[] = [];
  let calls = 0;
  const handler = guardrails(async (event: any) => {
    calls++;
    if (event.fail) throw new RangeError('handler failed');
    return { statusCode: 201, body: JSON.stringify({ n: calls }) };
  }, {
    idempotency: { store, scope: 'orders' },
    pins: { pins: { SCHEMA_REV: '7' } },
    telemetry: { release: { RELEASE_ID: 'r1' }, sink: (line) => records.push(JSON.parse(line)) },
    shadow: { sampleRate: 1, allowMethods: ['POST'], log: (line) => taps.push(JSON.parse(line.slice(line.indexOf('{')))) },
  });
  return { handler, store, claims, records, taps, calls: () => calls };
}

beforeEach(() => resetColdStartForTesting());

test('a pin mismatch is refused before idempotency: no key is claimed, and the matching retry runs the handler', async () => {
  const { handler, claims, calls } = setup();
  const refused = await handler(rest({ 'X-Schema-Rev': '8', 'Idempotency-Key': 'k1' }));
  expect(refused).toMatchObject({ statusCode: 409 });
  expect(claims).not.toHaveBeenCalled();
  expect(calls()).toBe(0);
  // Had the 409 been stored under k1, this retry (the one the 409 asks for) would get it back.
  expect(await handler(rest({ 'X-Schema-Rev': '7', 'Idempotency-Key': 'k1' }))).toEqual({ statusCode: 201, body: '{"n":1}' });
  expect(calls()).toBe(1);
});

test('the tap and telemetry are outermost: they record the responses the caller got, refusals and replays included', async () => {
  const { handler, records, taps, calls } = setup();
  await handler(rest({ 'X-Schema-Rev': '8' }, 'POST', 'a'));
  await handler(rest({ 'Idempotency-Key': 'k' }, 'POST', 'b'));
  await handler(rest({ 'Idempotency-Key': 'k' }, 'POST', 'c'));
  expect(calls()).toBe(1);
  expect(records.map((r) => r.status)).toEqual([409, 201, 201]);
  expect(taps.map((t) => [t.id, t.response.status, t.response.body])).toEqual([
    ['a', 409, expect.stringContaining('PinMismatch')],
    ['b', 201, '{"n":1}'],
    ['c', 201, '{"n":1}'],
  ]);
});

test('errors reach the caller, are counted by telemetry, and release the idempotency claim', async () => {
  const { handler, records, taps, calls } = setup();
  const failing = { ...rest({ 'Idempotency-Key': 'f' }), fail: true };
  await expect(handler(failing)).rejects.toThrow(RangeError);
  await expect(handler(failing)).rejects.toThrow('handler failed');
  expect(calls()).toBe(2);
  expect(records.map((r) => [r.status, r.Errors, r.error_type])).toEqual([['error', 1, 'RangeError'], ['error', 1, 'RangeError']]);
  expect(taps).toEqual([]);
  // An idempotency error is the caller's answer as well: telemetry counts it.
  await expect(handler(rest())).rejects.toThrow(IdempotencyKeyMissingError);
  expect(records[2]).toMatchObject({ status: 'error', error_type: 'IdempotencyKeyMissingError' });
});

test('a warm ping without a key runs the handler without a claim and without a record; a ping with a key is deduplicated', async () => {
  const { handler, claims, records, calls } = setup();
  await handler({ 'x-warm': true } as any);
  expect(calls()).toBe(1);
  expect(claims).not.toHaveBeenCalled();
  expect(records).toEqual([]);
  const keyed = rest({ 'x-warm': 'true', 'Idempotency-Key': 'w' });
  await handler(keyed);
  await handler(keyed);
  expect(calls()).toBe(2);
});

test('each part is optional and guardrails equals the wrappers nested by hand', async () => {
  const body = async (event: any) => ({ statusCode: 200, body: String(event.headers?.['x-n'] ?? '') });
  const lines: string[][] = [[], []];
  const strip = (l: string) => l.replace(/"Timestamp":\d+|"ts":"[^"]+"|"Latency":[\d.]+|"latency_ms":[\d.]+/g, '');
  const byHand = shadowTap(withRelease(pinGuard(body, { pins: { MODEL_TAG: 'm' } }), { sink: (l) => lines[0].push(strip(l)) }), {});
  const composed = guardrails(body, { pins: { pins: { MODEL_TAG: 'm' } }, telemetry: { sink: (l) => lines[1].push(strip(l)) }, shadow: {} });
  for (const event of [rest({ 'x-n': '1' }), rest({ 'X-Model-Tag': 'other' }), rest({ 'X-Model-Tag': 'm' })]) {
    resetColdStartForTesting();
    const expected = await byHand(event);
    resetColdStartForTesting();
    expect(await composed(event)).toEqual(expected);
  }
  expect(lines[1]).toEqual(lines[0]);

  expect(guardrails(body)).toBe(body);
  const store = new InMemoryIdempotencyStore();
  const onlyIdempotency = guardrails(body, { idempotency: { store, requireKey: false } });
  expect(await onlyIdempotency(rest({ 'x-n': '2' }))).toEqual(await makeIdempotent(body, { store: new InMemoryIdempotencyStore(), requireKey: false })(rest({ 'x-n': '2' })));
});

test('bad options fail at wrap time, naming the part', () => {
  const body = async () => 1;
  expect(() => guardrails(body, { pin: {} } as any)).toThrow(new GuardrailsConfigError('pin', 'is not a part of guardrails (idempotency, pins, telemetry, shadow, cohorts)'));
  expect(() => guardrails(body, { shadow: true } as any)).toThrow(GuardrailsConfigError);
  expect(() => guardrails('x' as any)).toThrow(GuardrailsConfigError);
  expect(() => guardrails(body, { pins: { pins: { SCHEMA_REV: 7 as any } } })).toThrow(ReleaseConfigError);
});
