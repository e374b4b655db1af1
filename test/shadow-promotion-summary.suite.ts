// Shadow as a rollout's stage 0, the writing side: the dispatcher adds each batch's replays to one summary item per
// release (the RELEASE_ID of the shadow version that answered), written to and read back from dynalite with the
// contract's summaryFromItem and judged with its judgeShadowPromotion, as the GuardedAlias's reading side will.
import { gzipSync } from 'zlib';
import * as dynamoSdk from '@aws-sdk/client-dynamodb';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  DEFAULT_SHADOW_PROMOTION, SHADOW_SUMMARY_ATTRIBUTES, ShadowReleaseSummary, deltaSBin, judgeShadowPromotion, medianDeltaS, shadowSummaryKey, summaryFromItem,
} from '../packages/runtime/src/contract';
import { shadowTap } from '../packages/runtime/src/shadow';
import { DispatcherConfig, InvokeOutput, dispatch } from '../lambdas/mirror-dispatcher/dispatch';
import { TokenBucket } from '../lambdas/mirror-dispatcher/logic';
import { ReadEnvironment, ReleaseLookup } from '../lambdas/mirror-dispatcher/release';
import { compileAnswerSchema } from '../lambdas/mirror-dispatcher/schema';
import { DynamoResultsStore } from '../lambdas/mirror-dispatcher/store';
import { DynamoSummaryStore, ReleaseTally, summaryUpdate } from '../lambdas/mirror-dispatcher/summary';
import { LocalDynamo, startDynalite } from './helpers/dynalite';

const ANSWER = 'A canary release sends a small share of traffic to the new version and watches its alarms.';
const DRIFTED = 'Provisioned concurrency keeps execution environments initialised before requests arrive.';
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);
const TTL_SECONDS = 7 * 24 * 3600;

interface LiveOptions { readonly at: number; readonly status?: number }

/** Real tap lines, as the live handler wrapped by shadowTap at rate 1 logs them, sampled at `at`. */
function tapLines(ids: string[], { at, status = 200 }: LiveOptions): string[] {
  const lines: string[] = [];
  const tapped = shadowTap(() => ({ statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answer: ANSWER }) }),
    { sampleRate: 1, log: (l) => lines.push(l) });
  const clock = jest.spyOn(Date, 'now').mockReturnValue(at);
  try {
    for (const id of ids) {
      tapped({
        resource: '/answer', path: '/answer', httpMethod: 'GET', headers: { accept: 'application/json' }, queryStringParameters: { q: id },
        multiValueQueryStringParameters: null, pathParameters: null, requestContext: { requestId: id, stage: 'prod' }, body: null, isBase64Encoded: false,
      }, {});
    }
  } finally {
    clock.mockRestore();
  }
  return lines;
}

function delivery(lines: string[]): { awslogs: { data: string } } {
  const body = {
    messageType: 'DATA_MESSAGE', owner: '123456789012', logGroup: '/aws/lambda/live', logStream: 's', subscriptionFilters: ['TapSubscription'],
    logEvents: lines.map((message, i) => ({ id: `9${String(i).padStart(55, '0')}`, timestamp: T0 + i, message })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(body))).toString('base64') } };
}

/** What the shadow answers a request id: its version (ExecutedVersion) and body; `hang` never answers. */
type Shadow = (id: string) => { version: string; body: string; status?: number } | 'hang';

const answering = (version: string, answer = ANSWER): Shadow => () => ({ version, body: JSON.stringify({ answer }) });

function invokeOf(shadow: Shadow) {
  return (payload: string, signal: AbortSignal): Promise<InvokeOutput> => {
    const id = String(JSON.parse(payload).requestContext.requestId).replace(/^shadow-/, '');
    const answer = shadow(id);
    // As the SDK does, the aborted call rejects a moment after the abort (the timeout has already settled the race).
    if (answer === 'hang') return new Promise((_, reject) => signal.addEventListener('abort', () => setImmediate(() => reject(new Error('aborted')))));
    const result = { statusCode: answer.status ?? 200, headers: { 'content-type': 'application/json' }, body: answer.body };
    return Promise.resolve({ Payload: Buffer.from(JSON.stringify(result)), ExecutedVersion: answer.version });
  };
}

const CONFIG: DispatcherConfig = {
  shadowName: 'Test/Shadow', maxEventBytes: 200_000, redact: [], answerPath: [{ key: 'answer' }], shadowTimeoutMs: 100, resultsTtlSeconds: TTL_SECONDS, maxInFlight: 10,
};

describe('per-release shadow summaries on dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let table: string;
  let tables = 0;
  /** RELEASE_ID by qualifier ('' is the invoke target: what an unanswered replay is charged to). */
  const RELEASES: Record<string, string | undefined> = { '': 'rel-a', 8: 'rel-a', 9: 'rel-b', 10: undefined };
  const read: ReadEnvironment = async (qualifier) => {
    const releaseId = RELEASES[qualifier ?? ''];
    const variables: Record<string, string> = { OTHER: 'x' };
    if (releaseId) variables.RELEASE_ID = releaseId;
    return variables;
  };

  beforeAll(async () => {
    dynamo = await startDynalite();
    client = dynamo.client();
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  beforeEach(async () => {
    // A table per test, shaped like ShadowIntegration's (partition key shadow_id), so counts never mix.
    table = await dynamo.createTable(`shadow-promotion-${process.pid}-${++tables}`, 'shadow_id');
  });

  async function run(lines: string[], shadow: Shadow, options: { now?: number; schema?: object } = {}) {
    const now = () => options.now ?? T0;
    return dispatch(delivery(lines), CONFIG, {
      invoke: invokeOf(shadow),
      store: new DynamoResultsStore(client, table, dynamoSdk),
      summary: new DynamoSummaryStore(client, table, TTL_SECONDS, dynamoSdk, now),
      releases: new ReleaseLookup(read),
      answerCheck: options.schema ? compileAnswerSchema(options.schema) : undefined,
      budget: new TokenBucket(1000, 1000, Date.now()),
      log: () => undefined,
    });
  }

  async function item(key: string) {
    return (await client.send(new GetItemCommand({ TableName: table, Key: { shadow_id: { S: key } }, ConsistentRead: true }))).Item;
  }

  async function summary(releaseId: string): Promise<ShadowReleaseSummary | undefined> {
    return summaryFromItem((await item(shadowSummaryKey(releaseId))) as any);
  }

  const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

  test('two batches of one release add up: counters and bins summed, first_seen kept, last_seen the latest, expires_at refreshed', async () => {
    await run(tapLines(ids('one', 3), { at: T0 }), answering('8'));
    const first = await item(shadowSummaryKey('rel-a'));
    expect(first?.expires_at.N).toBe(String(Math.floor(T0 / 1000) + TTL_SECONDS));
    await run(tapLines(ids('two', 2), { at: T0 + 2 * HOUR }), answering('8', DRIFTED), { now: T0 + 2 * HOUR });

    const s = (await summary('rel-a'))!;
    expect(s).toMatchObject({ releaseId: 'rel-a', replays: 5, scored: 5, shadowErrors: 0, shadowTimeouts: 0, liveErrors: 0, schemaViolations: 0, firstSeen: T0, lastSeen: T0 + 2 * HOUR });
    // Each scored row's ΔS is in the bin the summary counted it in (0.01 wide).
    const rows = (await client.send(new dynamoSdk.ScanCommand({ TableName: table }))).Items!.filter((i) => i.outcome?.S === 'scored');
    expect(rows).toHaveLength(5);
    const expected = new Array(100).fill(0);
    for (const row of rows) expected[deltaSBin(Number(row.delta_s.N))]++;
    expect(s.bins).toEqual(expected);
    expect(s.bins[0]).toBe(3);
    expect(rows.every((r) => r.shadow_release_id?.S === 'rel-a')).toBe(true);
    const again = await item(shadowSummaryKey('rel-a'));
    expect(again?.expires_at.N).toBe(String(Math.floor((T0 + 2 * HOUR) / 1000) + TTL_SECONDS));
  });

  test('two releases in one batch are kept apart, each by the RELEASE_ID of the version that answered', async () => {
    const metrics = await run(tapLines(ids('mix', 6), { at: T0 }), (id) => ({ version: Number(id.split('-')[1]) % 2 === 0 ? '8' : '9', body: JSON.stringify({ answer: ANSWER }) }));
    expect(metrics.unreleasedReplays).toBe(0);
    expect((await summary('rel-a'))?.replays).toBe(3);
    expect((await summary('rel-b'))?.replays).toBe(3);
    expect(await summary('rel-c')).toBeUndefined();
  });

  test('counts shadow errors, timeouts (charged to what is invoked), live 5xx and schema violations', async () => {
    const schema = { type: 'object', required: ['answer'], properties: { answer: { type: 'string' } } };
    const shadow: Shadow = (id) => {
      const i = Number(id.split('-')[1]);
      if (i === 0) return { version: '8', body: 'not json' };
      if (i === 1) return { version: '8', body: JSON.stringify({ answer: 42 }) };
      if (i === 2) return { version: '8', body: JSON.stringify({ error: 'boom' }), status: 503 };
      if (i === 3) return 'hang';
      return { version: '8', body: JSON.stringify({ answer: ANSWER }) };
    };
    const lines = [...tapLines(ids('c', 5), { at: T0 }), ...tapLines(['c-5'], { at: T0 + 1000, status: 500 })];
    const metrics = await run(lines, shadow, { schema });
    expect(metrics).toMatchObject({ replayed: 6, shadowErrors: 2, schemaViolations: 2, unreleasedReplays: 0, summaryWriteErrors: 0 });
    const s = (await summary('rel-a'))!;
    expect(s).toMatchObject({ replays: 6, scored: 4, shadowErrors: 1, shadowTimeouts: 1, liveErrors: 1, schemaViolations: 2, firstSeen: T0, lastSeen: T0 + 1000 });
    expect((await item('c-0'))?.schema_violation.S).toMatch(/not JSON/);
    expect((await item('c-1'))?.schema_violation.S).toBe('/answer must be string');
    expect((await item('c-4'))?.schema_violation).toBeUndefined();
    expect((await item('c-3'))?.outcome.S).toBe('shadow_timeout');
    // The contract's judge sees the violations (the seed: stop if JSON schema violations appear), judging at the time
    // of the replays (the record expires resultsTtl after them; the real clock would pass that one day).
    const verdict = judgeShadowPromotion(s, DEFAULT_SHADOW_PROMOTION, 'rel-a', T0 + 1000);
    expect(verdict.checks.find((c) => c.name === 'shadow:schemaViolations')).toMatchObject({ measured: 2, passed: false });
  });

  test('a replay from a version without RELEASE_ID keeps its row but is in no summary', async () => {
    const metrics = await run(tapLines(ids('u', 2), { at: T0 }), answering('10'));
    expect(metrics.unreleasedReplays).toBe(2);
    expect((await item('u-0'))?.outcome.S).toBe('scored');
    expect((await item('u-0'))?.shadow_release_id).toBeUndefined();
    const all = (await client.send(new dynamoSdk.ScanCommand({ TableName: table }))).Items!;
    expect(all.filter((i) => i.shadow_id.S!.startsWith('release#'))).toEqual([]);
  });

  test('last_seen never moves back when an older batch is added after a newer one, and its counts still go in', async () => {
    await run(tapLines(ids('new', 2), { at: T0 + 5 * HOUR }), answering('8'));
    await run(tapLines(ids('old', 3), { at: T0 + HOUR }), answering('8'));
    const s = (await summary('rel-a'))!;
    expect(s).toMatchObject({ replays: 5, firstSeen: T0 + 5 * HOUR, lastSeen: T0 + 5 * HOUR });
  });

  test('a redelivered batch is replayed and counted again (the rows overwrite; the summary counts replays made)', async () => {
    const lines = tapLines(ids('r', 2), { at: T0 });
    await run(lines, answering('8'));
    await run(lines, answering('8'));
    expect((await summary('rel-a'))?.replays).toBe(4);
    const rows = (await client.send(new dynamoSdk.ScanCommand({ TableName: table }))).Items!.filter((i) => !i.shadow_id.S!.startsWith('release#'));
    expect(rows).toHaveLength(2);
  });

  test('a release shadowed for 24 hours within target passes judgeShadowPromotion; one drifting fails on its median', async () => {
    await run(tapLines(ids('day1', 60), { at: T0 }), answering('8'));
    await run(tapLines(ids('day2', 60), { at: T0 + 24 * HOUR + 1000 }), answering('8'), { now: T0 + 24 * HOUR });
    const passed = judgeShadowPromotion(await summary('rel-a'), DEFAULT_SHADOW_PROMOTION, 'rel-a', T0 + 24 * HOUR);
    expect(passed.checks.map((c) => [c.name, c.passed])).toEqual([
      ['shadow:window', true], ['shadow:medianDeltaS', true], ['shadow:schemaViolations', true], ['shadow:errorRateDelta', true],
    ]);
    expect(passed.passed).toBe(true);

    await run(tapLines(ids('b1', 60), { at: T0 }), answering('9', DRIFTED));
    await run(tapLines(ids('b2', 60), { at: T0 + 25 * HOUR }), answering('9', DRIFTED));
    const drifted = (await summary('rel-b'))!;
    expect(medianDeltaS(drifted.bins)).toBeGreaterThanOrEqual(0.6);
    const failed = judgeShadowPromotion(drifted, DEFAULT_SHADOW_PROMOTION, 'rel-b', T0 + 24 * HOUR);
    expect(failed.passed).toBe(false);
    expect(failed.checks.filter((c) => !c.passed).map((c) => c.name)).toEqual(['shadow:medianDeltaS']);
    expect(judgeShadowPromotion(await summary('rel-never'), DEFAULT_SHADOW_PROMOTION, 'rel-never', T0 + 24 * HOUR).passed).toBe(false);
  });
});

describe('the summary update', () => {
  const tally = (): ReleaseTally => ({
    replays: 4, scored: 3, shadowErrors: 1, shadowTimeouts: 0, liveErrors: 0, schemaViolations: 1, bins: new Map([[37, 1], [0, 2]]), earliest: 1000, latest: 5000,
  });

  test('ADDs every counter and each touched bin, sets first_seen only if absent, and sets last_seen only forward', () => {
    const input = summaryUpdate('results', 'rel-a', tally(), 99, true);
    expect(input.Key).toEqual({ shadow_id: { S: 'release#rel-a' } });
    expect(input.UpdateExpression).toBe('SET #rel = :rel, #first = if_not_exists(#first, :earliest), #exp = :exp, #last = :latest '
      + 'ADD #c0 :c0, #c1 :c1, #c2 :c2, #c3 :c3, #c4 :c4, #c5 :c5, #c6 :c6, #c7 :c7');
    expect(input.ConditionExpression).toBe('attribute_not_exists(#last) OR #last <= :latest');
    const A = SHADOW_SUMMARY_ATTRIBUTES;
    expect(input.ExpressionAttributeNames).toEqual({
      '#rel': A.releaseId, '#first': A.firstSeen, '#exp': 'expires_at', '#last': A.lastSeen,
      '#c0': A.replays, '#c1': A.scored, '#c2': A.shadowErrors, '#c3': A.shadowTimeouts, '#c4': A.liveErrors, '#c5': A.schemaViolations, '#c6': 'ds_00', '#c7': 'ds_37',
    });
    expect(input.ExpressionAttributeValues).toMatchObject({ ':earliest': { N: '1000' }, ':latest': { N: '5000' }, ':exp': { N: '99' }, ':c0': { N: '4' }, ':c6': { N: '2' }, ':c7': { N: '1' } });
  });

  test('without last_seen (an older batch): no condition, the counters all the same', () => {
    const input = summaryUpdate('results', 'rel-a', tally(), 99, false);
    expect(input.UpdateExpression).toBe('SET #rel = :rel, #first = if_not_exists(#first, :earliest), #exp = :exp ADD #c0 :c0, #c1 :c1, #c2 :c2, #c3 :c3, #c4 :c4, #c5 :c5, #c6 :c6, #c7 :c7');
    expect(input.ConditionExpression).toBeUndefined();
    expect(input.ExpressionAttributeNames!['#last']).toBeUndefined();
    expect(input.ExpressionAttributeValues![':latest']).toBeUndefined();
  });
});
