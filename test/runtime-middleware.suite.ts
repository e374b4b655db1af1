// The runtime's middy middlewares under the real @middy/core 6. middy is ESM only, which jest (CommonJS) cannot
// load, so each check runs in a child `node --input-type=module` that imports @middy/core and the runtime's built
// ES modules (compiled from packages/runtime/src by test/helpers/runtime-build.ts), and prints what it saw as JSON. Nothing is written to the repository.
// The runtime is built once before jest starts (`npm test` runs `npm run build:runtime` first): this suite only
// reads that build, and fails at once, saying so, when it is missing or older than the runtime's sources.
import { execFileSync } from 'child_process';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { builtRuntime } from './helpers/runtime-build';

const ROOT = path.join(__dirname, '..');
let ESM_ENTRY: string;

beforeAll(() => {
  ESM_ENTRY = path.join(builtRuntime('esm'), 'index.mjs');
});

/** Runs `body` (an async ES module body that ends with `return <json-able value>`) with `middy` and `rt` in scope. */
function runInMiddy(body: string): any {
  const script = `
import middy from '@middy/core';
import * as rt from ${JSON.stringify(pathToFileURL(ESM_ENTRY).href)};
const errorOf = async (promise) => { try { await promise; return null; } catch (e) { return { name: e.name, message: e.message }; } };
const main = async () => { ${body} };
process.stdout.write(JSON.stringify(await main()));
`;
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('GUARDRAILS_') || ['RELEASE_ID', 'SCHEMA_REV', 'INDEX_HASH', 'MODEL_TAG', 'AWS_LAMBDA_FUNCTION_NAME'].includes(name)) delete env[name];
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

const REST = `const rest = (headers = {}, method = 'GET', body = null, id = 'req-1') => ({
  resource: '/answer', path: '/answer', httpMethod: method, headers, multiValueHeaders: null, body,
  queryStringParameters: { q: 'x' }, multiValueQueryStringParameters: null, pathParameters: null, isBase64Encoded: false,
  requestContext: { requestId: id, stage: 'prod' },
});`;

test('pinGuardMiddleware decides as pinGuard: the same 409 for a mismatch, without running the handler; others pass', () => {
  const result = runInMiddy(`${REST}
    const pins = { SCHEMA_REV: '7', INDEX_HASH: '0x9a77' };
    const events = [rest({ 'X-Schema-Rev': '7' }), rest({ 'x-schema-rev': '8', 'X-Model-Tag': 'm' }), rest(), { question: 'q' }, rest({ 'X-Index-Hash': '' })];
    let calls = 0;
    const body = async (event) => { calls++; return { statusCode: 200, body: JSON.stringify(event.headers ?? null) }; };
    const viaMiddy = middy(body).use(rt.pinGuardMiddleware({ pins }));
    const wrapped = rt.pinGuard(body, { pins });
    const rows = [];
    for (const event of events) {
      const before = calls;
      const m = await viaMiddy(event, {});
      const middyCalls = calls - before;
      rows.push({ same: JSON.stringify(m) === JSON.stringify(await wrapped(event)), status: m.statusCode, middyCalls });
    }
    const badPins = [await errorOf((async () => rt.pinGuardMiddleware({ pins: { SCHEMA_REV: 7 } }))()), await errorOf((async () => rt.pinGuard(body, { pins: { SCHEMA_REV: 7 } }))())];
    return { rows, badPins };`);
  expect(result.rows).toEqual([
    { same: true, status: 200, middyCalls: 1 },
    { same: true, status: 409, middyCalls: 0 },
    { same: true, status: 200, middyCalls: 1 },
    { same: true, status: 200, middyCalls: 1 },
    { same: true, status: 200, middyCalls: 1 },
  ]);
  expect(result.badPins[0]).toEqual(result.badPins[1]);
  expect(result.badPins[0].name).toBe('ReleaseConfigError');
});

test('idempotencyMiddleware runs the body once per key with the InMemoryIdempotencyStore, and answers, stores and fails as makeIdempotent', () => {
  const result = runInMiddy(`${REST}
    const run = async (make) => {
      const store = new rt.InMemoryIdempotencyStore();
      let calls = 0;
      const body = async (event) => {
        calls++;
        if (JSON.parse(event.body).fail) throw new Error('body failed');
        return JSON.parse(event.body).none ? undefined : { statusCode: 201, body: JSON.stringify({ n: calls }) };
      };
      const fn = make(body, { store, scope: 'orders' });
      const key = (k, b) => rest({ 'Idempotency-Key': k }, 'POST', JSON.stringify(b));
      const out = {};
      out.first = await fn(key('a', { v: 1 }), {});
      out.repeat = await fn(key('a', { v: 1 }), {});
      out.callsAfterRepeat = calls;
      out.reuse = await errorOf(fn(key('a', { v: 2 }), {}));
      out.missing = await errorOf(fn(rest({}, 'POST', '{}'), {}));
      out.none1 = await fn(key('u', { none: true }), {}) ?? 'undefined';
      out.none2 = await fn(key('u', { none: true }), {}) ?? 'undefined';
      out.callsAfterUndefined = calls;
      out.fail = await errorOf(fn(key('f', { fail: true }), {}));
      out.failAgain = await errorOf(fn(key('f', { fail: true }), {}));
      out.callsAfterFailures = calls;
      return out;
    };
    const viaMiddy = await run((body, options) => middy(body).use(rt.idempotencyMiddleware(options)));
    const wrapped = await run((body, options) => rt.makeIdempotent(body, options));
    return { viaMiddy, wrapped };`);
  expect(result.viaMiddy).toEqual(result.wrapped);
  expect(result.viaMiddy).toMatchObject({
    first: { statusCode: 201, body: '{"n":1}' },
    repeat: { statusCode: 201, body: '{"n":1}' },
    callsAfterRepeat: 1,
    reuse: { name: 'IdempotencyKeyReuseError' },
    missing: { name: 'IdempotencyKeyMissingError' },
    none1: 'undefined',
    none2: 'undefined',
    callsAfterUndefined: 2,
    // A failure releases the claim: the retry runs the body again, and its error reaches the caller both times.
    fail: { name: 'Error', message: 'body failed' },
    failAgain: { name: 'Error', message: 'body failed' },
    callsAfterFailures: 4,
  });
});

test('releaseTelemetryMiddleware writes withRelease\'s record (errors, quality, warm pings left out) and lets errors through', () => {
  const result = runInMiddy(`${REST}
    const run = async (make) => {
      rt.resetColdStartForTesting();
      const lines = [];
      const body = async (event) => {
        if (event.boom) throw new TypeError('boom');
        rt.reportQuality({ deltaS: 0.25, lambdaState: 'convergent' });
        return { statusCode: event.status ?? 200, body: 'ok' };
      };
      const fn = make(body, { release: { RELEASE_ID: 'rel-1' }, revision: '3', functionName: 'answer', sink: (l) => lines.push(l) });
      const answers = [await fn({ ...rest({ 'X-Release': 'canary' }) }, { awsRequestId: 'r1' }), await fn({ 'x-warm': true }, {}), await fn({ status: 503 }, {})];
      const error = await errorOf(fn({ boom: true }, {}));
      const records = lines.map((l) => { const r = JSON.parse(l); delete r._aws.Timestamp; delete r.ts; delete r.Latency; delete r.latency_ms; return r; });
      return { answers, error, records };
    };
    const viaMiddy = await run((body, options) => middy(body).use(rt.releaseTelemetryMiddleware(options)));
    const wrapped = await run((body, options) => rt.withRelease(body, options));
    return { viaMiddy, wrapped };`);
  expect(result.viaMiddy).toEqual(result.wrapped);
  expect(result.viaMiddy.error).toEqual({ name: 'TypeError', message: 'boom' });
  expect(result.viaMiddy.records.map((r: any) => [r.status, r.Errors, r.ColdStart, r.delta_s, r.error_type])).toEqual([
    [200, 0, 1, 0.25, undefined],
    [503, 1, 0, 0.25, undefined],
    ['error', 1, 0, undefined, 'TypeError'],
  ]);
});

test('shadowTapMiddleware logs the same records and counts as shadowTap, a handler error included', () => {
  const result = runInMiddy(`${REST}
    const run = async (make) => {
      const lines = [];
      const body = async (event) => { if (event.httpMethod === 'GET' && event.requestContext.requestId === 'boom') throw new Error('down'); return { statusCode: 200, body: '{"answer":"a"}' }; };
      const fn = make(body, { sampleRate: 1, log: (l) => lines.push(l), modelRev: 'r1' });
      await fn(rest({ accept: 'application/json' }, 'GET', null, 'id-1'), {});
      await fn(rest({}, 'POST', '{"q":1}', 'id-2'), {});
      const error = await errorOf(fn(rest({}, 'GET', null, 'boom'), {}));
      const records = lines.map((l) => { const r = JSON.parse(l.slice(l.indexOf('{'))); delete r.at; delete r.response.ms; return r; });
      return { records, error, stats: fn.shadowStats ? fn.shadowStats() : undefined };
    };
    let stats;
    const viaMiddy = await run((body, options) => { const tap = rt.shadowTapMiddleware(options); stats = tap.shadowStats; return middy(body).use(tap); });
    viaMiddy.stats = stats();
    const wrapped = await run((body, options) => rt.shadowTap(body, options));
    return { viaMiddy, wrapped };`);
  expect(result.viaMiddy).toEqual(result.wrapped);
  expect(result.viaMiddy.records).toHaveLength(1);
  expect(result.viaMiddy.error).toEqual({ name: 'Error', message: 'down' });
  expect(result.viaMiddy.stats).toMatchObject({ seen: 2, sampled: 2, logged: 1, handlerErrors: 1, inFlight: 0 });
});

test('guardrailsMiddleware: a pin refusal is recorded by telemetry and the tap, and claims no idempotency key', () => {
  const result = runInMiddy(`${REST}
    const store = new rt.InMemoryIdempotencyStore();
    const lines = [];
    const taps = [];
    let calls = 0;
    const handler = middy(async () => { calls++; return { statusCode: 200, body: '{"ok":true}' }; }).use(rt.guardrailsMiddleware({
      shadow: { sampleRate: 1, allowMethods: ['GET', 'POST'], log: (l) => taps.push(l) },
      telemetry: { sink: (l) => lines.push(l), release: { RELEASE_ID: 'r' } },
      pins: { pins: { SCHEMA_REV: '7' } },
      idempotency: { store, scope: 's' },
    }));
    const refused = await handler(rest({ 'X-Schema-Rev': '8', 'Idempotency-Key': 'k' }, 'POST', '{}', 'a'), {});
    const served = await handler(rest({ 'X-Schema-Rev': '7', 'Idempotency-Key': 'k' }, 'POST', '{}', 'b'), {});
    const replayed = await handler(rest({ 'X-Schema-Rev': '7', 'Idempotency-Key': 'k' }, 'POST', '{}', 'c'), {});
    const warm = await handler({ 'x-warm': true }, {});
    return {
      statuses: [refused.statusCode, served.statusCode, replayed.statusCode], warm, calls,
      recorded: lines.map((l) => JSON.parse(l).status),
      tapped: taps.map((l) => JSON.parse(l.slice(l.indexOf('{'))).response.status),
    };`);
  expect(result).toEqual({ statuses: [409, 200, 200], warm: { statusCode: 200, body: '{"ok":true}' }, calls: 2, recorded: [409, 200, 200], tapped: [409, 200, 200] });
});
