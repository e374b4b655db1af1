import { gzipSync } from 'zlib';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import * as dynamoSdk from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import { SHADOW_LINE_PREFIX, shadowTap, shouldSample } from '../packages/runtime/src/shadow';
import { DISPATCHER_ENV as ENV } from '../packages/runtime/src/contract/shadow';
import { handler, resetForTests } from '../lambdas/mirror-dispatcher';
import { dispatch } from '../lambdas/mirror-dispatcher/dispatch';
import { parseShadowLine } from '../packages/runtime/src/shadow';
import { TokenBucket, decodeSubscription, reportedDuration } from '../lambdas/mirror-dispatcher/logic';
import { DynamoResultsStore, ShadowResult } from '../lambdas/mirror-dispatcher/store';
import { LocalDynamo, startDynalite } from './helpers/dynalite';

const LIVE_ANSWER = 'A canary release sends a small share of traffic to the new version and watches its alarms.';
const DRIFTED_ANSWER = 'Provisioned concurrency keeps execution environments initialised before requests arrive.';

/** Real tap lines: the live handler wrapped by shadowTap at rate 1, answering `answer` to each request. */
function tapLines(ids: string[], answer = LIVE_ANSWER, options: Record<string, unknown> = {}): string[] {
  const lines: string[] = [];
  const tapped = shadowTap(() => ({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answer, release: 'live-7' }) }),
    { sampleRate: 1, log: (l) => lines.push(l), modelRev: '7', indexHash: 'corpus-abc', ...options });
  for (const id of ids) {
    tapped({
      resource: '/answer', path: '/answer', httpMethod: 'GET', headers: { Accept: 'application/json', Authorization: 'Bearer secret' },
      queryStringParameters: { q: `question ${id}` }, multiValueQueryStringParameters: null, pathParameters: null,
      requestContext: { requestId: id, stage: 'prod' }, body: null, isBase64Encoded: false,
    }, {});
  }
  return lines;
}

/** What CloudWatch Logs delivers to a Lambda subscription: base64 of gzip of the documented JSON. */
function subscriptionEvent(messages: string[], format: 'text' | 'json' = 'text'): { awslogs: { data: string } } {
  const body = {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/lambda/live',
    logStream: '2026/11/22/[7]abcdef',
    subscriptionFilters: ['TapSubscription'],
    logEvents: messages.map((message, i) => ({
      id: `3${String(i).padStart(55, '0')}`,
      timestamp: 1_795_000_000_000 + i,
      message: format === 'text'
        ? `2026-11-22T03:00:00.${String(i % 1000).padStart(3, '0')}Z\tlambda-req-${i}\tINFO\t${message}\n`
        : JSON.stringify({ timestamp: '2026-11-22T03:00:00.000Z', level: 'INFO', requestId: `lambda-req-${i}`, message }),
    })),
  };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(body))).toString('base64') } };
}

// The SDK types Payload as its blob adapter; a plain Uint8Array is what the dispatcher reads.
function shadowPayload(answer: string, status = 200): any {
  return Buffer.from(JSON.stringify({ statusCode: status, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ answer, release: 'shadow-8' }) }));
}

const shadowBytes = (text: string): any => Buffer.from(text);
const tail = (ms: number) => Buffer.from(`START RequestId: s Version: 8\nEND RequestId: s\nREPORT RequestId: s\tDuration: ${ms} ms\tBilled Duration: ${Math.ceil(ms)} ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB\t\n`).toString('base64');

const lambdaMock = mockClient(LambdaClient);
const dynamoMock = mockClient(DynamoDBClient);

function emfDocs(log: jest.SpyInstance): any[] {
  return log.mock.calls.map(([line]) => line).filter((l) => typeof l === 'string' && l.includes('"_aws"')).map((l) => JSON.parse(l));
}

function mainDoc(log: jest.SpyInstance): any {
  return emfDocs(log).find((d) => d.MirrorSeen !== undefined);
}

describe('the mirror dispatcher handler', () => {
  let log: jest.SpyInstance;

  beforeEach(() => {
    resetForTests();
    lambdaMock.reset();
    dynamoMock.reset();
    dynamoMock.on(PutItemCommand).resolves({});
    // The release of each replay (its summary is covered by test/shadow-promotion-summary.suite.ts).
    lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: { RELEASE_ID: 'rel-shadow-8' } } });
    dynamoMock.on(dynamoSdk.UpdateItemCommand).resolves({});
    Object.assign(process.env, {
      [ENV.shadowFunction]: 'arn:aws:lambda:eu-west-1:123456789012:function:shadow:shadow',
      [ENV.resultsTable]: 'results',
      [ENV.shadowName]: 'Demo/ShadowAnswer',
      [ENV.maxMirrorRps]: '50',
      [ENV.reservedConcurrency]: '1',
      [ENV.maxEventBytes]: String(65536 * 2 + 1024),
      [ENV.redactPaths]: '[]',
      [ENV.answerPath]: '$.answer',
      [ENV.shadowTimeoutMs]: '200',
      [ENV.resultsTtlSeconds]: '604800',
    });
    log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });

  afterEach(() => {
    log.mockRestore();
    for (const name of Object.values(ENV)) delete process.env[name];
  });

  test('replays each sampled request to the shadow with x-shadow: true and without the user\'s credentials', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER), LogResult: tail(12.5), ExecutedVersion: '8' });
    await handler(subscriptionEvent(tapLines(['r-1', 'r-2'])));
    const calls = lambdaMock.commandCalls(InvokeCommand);
    expect(calls).toHaveLength(2);
    const input = calls[0].args[0].input;
    expect(input.FunctionName).toBe('arn:aws:lambda:eu-west-1:123456789012:function:shadow:shadow');
    expect(input.LogType).toBe('Tail');
    const replayed = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
    expect(replayed).toMatchObject({
      httpMethod: 'GET', resource: '/answer', path: '/answer',
      headers: { accept: 'application/json', 'x-shadow': 'true' },
      queryStringParameters: { q: 'question r-1' },
      requestContext: { requestId: 'shadow-r-1', stage: 'prod' },
    });
    expect(JSON.stringify(replayed)).not.toContain('Bearer secret');
  });

  test('scores ΔS 0 for the same answer and above the 0.45 gate for a drifted one, and stores both answers', async () => {
    lambdaMock.on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER), LogResult: tail(10), ExecutedVersion: '8' })
      .resolvesOnce({ StatusCode: 200, Payload: shadowPayload(DRIFTED_ANSWER), LogResult: tail(30), ExecutedVersion: '8' });
    const metrics = await handler(subscriptionEvent(tapLines(['same', 'drifted'])));
    expect(metrics.deltaS).toHaveLength(2);
    expect(metrics.deltaS[0]).toBe(0);
    expect(metrics.deltaS[1]).toBeGreaterThan(0.45);
    const items = dynamoMock.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item!);
    const byId = Object.fromEntries(items.map((item) => [item.shadow_id.S, item]));
    expect(byId.same).toMatchObject({
      outcome: { S: 'scored' }, delta_s: { N: '0' }, model_rev: { S: '7' }, shadow_model_rev: { S: '8' }, index_hash: { S: 'corpus-abc' },
      live_status: { N: '200' }, shadow_status: { N: '200' }, shadow_ms: { N: '10' }, shadow_ms_source: { S: 'report' }, route: { S: 'GET /answer' },
    });
    expect(byId.same.req_hash.S).toMatch(/^[0-9a-f]{64}$/);
    expect(byId.same.req_hash.S).not.toBe(byId.drifted.req_hash.S);
    expect(JSON.parse(byId.drifted.shadow_output.S!).answer).toBe(DRIFTED_ANSWER);
    expect(JSON.parse(byId.drifted.live_output.S!).answer).toBe(LIVE_ANSWER);
    expect(Number(byId.drifted.expires_at.N) - Math.floor(Date.now() / 1000)).toBeGreaterThan(604800 - 60);
  });

  test('publishes ShadowDeltaS, both latencies, their delta and the counts as EMF in the Shadow dimension', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER), LogResult: tail(25), ExecutedVersion: '8' });
    await handler(subscriptionEvent(tapLines(['m-1', 'm-2', 'm-3'])));
    const doc = mainDoc(log);
    expect(doc._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'CdkRolloutGuardrails/Shadow', Dimensions: [['Shadow']] });
    expect(doc.Shadow).toBe('Demo/ShadowAnswer');
    expect(doc.ShadowDeltaS).toEqual([0, 0, 0]);
    expect(doc.ShadowLatency).toEqual([25, 25, 25]);
    expect(doc.LiveLatency).toHaveLength(3);
    expect(doc.ShadowLatencyDelta[0]).toBeCloseTo(25 - doc.LiveLatency[0], 6);
    expect(doc).toMatchObject({ ShadowErrors: 0, MirrorDropped: 0, MirrorReplayed: 3, MirrorSampled: 3, MirrorSeen: 3, ResultsWriteErrors: 0 });
    const names = doc._aws.CloudWatchMetrics[0].Metrics.map((m: any) => m.Name);
    expect(names).toEqual(expect.arrayContaining(['ShadowDeltaS', 'ShadowLatencyDelta', 'ShadowLatency', 'LiveLatency', 'ShadowErrors', 'MirrorDropped', 'MirrorSampled', 'MirrorSeen']));
  });

  test('publishes the counts from which the observed sample rate is exact: sampled over eligible requests seen', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER) });
    const lines: string[] = [];
    const tapped = shadowTap(async () => ({ statusCode: 200, body: '{"answer":"a"}' }), { sampleRate: 0.1, log: (l) => lines.push(l) });
    const ids = Array.from({ length: 3000 }, (_, i) => `obs-${i}`);
    for (const id of ids) await tapped({ resource: '/answer', path: '/answer', httpMethod: 'GET', headers: {}, requestContext: { requestId: id } }, {});
    await handler(subscriptionEvent(lines));
    const sampled = ids.filter((id) => shouldSample(id, 0.1));
    const lastSampled = ids.lastIndexOf(sampled[sampled.length - 1]);
    const doc = mainDoc(log);
    expect(doc.MirrorSampled).toBe(sampled.length);
    expect(doc.MirrorSeen).toBe(lastSampled + 1);
    expect(Math.abs(doc.MirrorSampled / doc.MirrorSeen - 0.1)).toBeLessThan(0.02);
  });

  test('reads lines that Lambda wrote in its JSON log format, the record as the message string or object', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER) });
    const metrics = await handler(subscriptionEvent(tapLines(['j-1']), 'json'));
    expect(metrics.replayed).toBe(1);
    expect(metrics.deltaS).toEqual([0]);
    const [line] = tapLines(['j-2']);
    const asObject = JSON.stringify({ timestamp: 't', level: 'INFO', requestId: 'r', message: JSON.parse(line) });
    expect(parseShadowLine(asObject)).toMatchObject({ id: 'j-2', kind: 'rest' });
  });

  test('drops and counts the samples over maxMirrorRps instead of queueing them', async () => {
    process.env[ENV.maxMirrorRps] = '3';
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER) });
    const metrics = await handler(subscriptionEvent(tapLines(Array.from({ length: 10 }, (_, i) => `b-${i}`))));
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(3);
    expect(metrics.dropped).toEqual({ budget: 7 });
    expect(mainDoc(log)).toMatchObject({ MirrorDropped: 7, MirrorReplayed: 3, MirrorSampled: 10 });
    expect(emfDocs(log).find((d) => d.Reason === 'budget')).toMatchObject({ MirrorDropped: 7, Shadow: 'Demo/ShadowAnswer' });
  });

  test('stops starting replays that could not finish before the invocation\'s deadline, dropping them as counted', async () => {
    process.env[ENV.shadowTimeoutMs] = '400';
    lambdaMock.on(InvokeCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER) }), 350)));
    // maxInFlight is 50 / 1 capped at 10. With 1.7 s left, a replay may start in the first 0.3 s (400 ms timeout +
    // 1 s to finish): the first ten do; the next would start when one ends, after 0.35 s, too late.
    const metrics = await handler(subscriptionEvent(tapLines(Array.from({ length: 14 }, (_, i) => `dl-${i}`))), { getRemainingTimeInMillis: () => 1700 });
    expect(metrics.replayed).toBe(10);
    expect(metrics.dropped).toEqual({ deadline: 4 });
    expect(mainDoc(log)).toMatchObject({ MirrorDropped: 4, MirrorSampled: 14 });
  });

  test('counts a shadow function error and a 5xx answer as ShadowErrors, unscored, with the error stored', async () => {
    lambdaMock.on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, FunctionError: 'Unhandled', Payload: shadowBytes(JSON.stringify({ errorType: 'AccessDeniedException', errorMessage: 'explicit deny on dynamodb:PutItem' })) })
      .resolvesOnce({ StatusCode: 200, Payload: shadowPayload('upstream failed', 503) });
    const metrics = await handler(subscriptionEvent(tapLines(['e-1', 'e-2'])));
    expect(metrics.shadowErrors).toBe(2);
    expect(metrics.deltaS).toEqual([]);
    const items = Object.fromEntries(dynamoMock.commandCalls(PutItemCommand).map((c) => [c.args[0].input.Item!.shadow_id.S, c.args[0].input.Item!]));
    expect(items['e-1']).toMatchObject({ outcome: { S: 'shadow_error' }, error: { S: 'function error (Unhandled): AccessDeniedException: explicit deny on dynamodb:PutItem' } });
    expect(items['e-1'].delta_s).toBeUndefined();
    expect(items['e-2']).toMatchObject({ outcome: { S: 'shadow_error' }, shadow_status: { N: '503' }, error: { S: 'the shadow answered 503' } });
    expect(mainDoc(log).ShadowErrors).toBe(2);
  });

  test('gives up on a shadow that does not answer within the timeout, counting it as a shadow error', async () => {
    lambdaMock.on(InvokeCommand).callsFakeOnce(() => new Promise(() => undefined)).resolves({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER) });
    const started = Date.now();
    const metrics = await handler(subscriptionEvent(tapLines(['slow', 'fast'])));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(metrics.shadowErrors).toBe(1);
    expect(metrics.deltaS).toEqual([0]);
    const slow = dynamoMock.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item!).find((i) => i.shadow_id.S === 'slow')!;
    expect(slow).toMatchObject({ outcome: { S: 'shadow_timeout' }, error: { S: 'the shadow did not answer within 200 ms' } });
    expect(Number(slow.shadow_ms.N)).toBeGreaterThanOrEqual(190);
  });

  test('counts an invoke that fails (throttled) as a shadow error without retrying it', async () => {
    lambdaMock.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const metrics = await handler(subscriptionEvent(tapLines(['t-1'])));
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(metrics.shadowErrors).toBe(1);
    expect(dynamoMock.commandCalls(PutItemCommand)[0].args[0].input.Item).toMatchObject({ outcome: { S: 'shadow_error' }, error: { S: 'invoke failed: TooManyRequestsException: Rate exceeded' } });
  });

  test('drops oversized and malformed log events, counting each by reason, and replays the good ones', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER) });
    process.env[ENV.maxEventBytes] = '4096';
    const [good] = tapLines(['good']);
    const [tapDrop] = tapLines(['too-big'], 'x'.repeat(5000), { maxRecordBytes: 4096 });
    const messages = [
      good,
      tapDrop, // the tap's own oversize notice
      `${SHADOW_LINE_PREFIX},"v":1,"id":"huge","seen":1,"rate":1,"kind":"rest","pad":"${'y'.repeat(6000)}"}`,
      `${SHADOW_LINE_PREFIX},"v":1,"id":"cut-off","seen":1,"ra`,
      `${SHADOW_LINE_PREFIX},"v":2,"id":"future","seen":1,"rate":1}`,
      'an ordinary log line that happens to match nothing',
      `${SHADOW_LINE_PREFIX},"v":1,"id":"no-request","seen":1,"rate":1,"kind":"rest"}`,
    ];
    const metrics = await handler(subscriptionEvent(messages));
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(1);
    expect(metrics.dropped).toEqual({ oversize: 2, malformed: 4 });
    expect(metrics.replayed).toBe(1);
    const warnings = log.mock.calls.map(([l]) => String(l)).filter((l) => l.includes('"WARN"'));
    expect(warnings).toHaveLength(4);
    expect(warnings.join('\n')).toContain('is not valid JSON');
    expect(warnings.join('\n')).toContain("the record's version must be 1, got: 2");
    expect(warnings.join('\n')).not.toContain('happens to match');
  });

  test('drops a delivery that is not base64 gzip JSON as one malformed sample, without throwing', async () => {
    const metrics = await handler({ awslogs: { data: Buffer.from('not gzip').toString('base64') } });
    expect(metrics.dropped).toEqual({ malformed: 1 });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });

  test('ignores CloudWatch Logs control messages', async () => {
    const data = gzipSync(Buffer.from(JSON.stringify({ messageType: 'CONTROL_MESSAGE', logEvents: [{ id: '1', timestamp: 1, message: 'CWL CONTROL MESSAGE: Checking health of destination Lambda.' }] }))).toString('base64');
    const metrics = await handler({ awslogs: { data } });
    expect(metrics).toMatchObject({ replayed: 0, sampled: 0, dropped: {} });
    expect(emfDocs(log)).toEqual([]);
  });

  test('counts results it could not store without losing the batch\'s metrics', async () => {
    lambdaMock.on(InvokeCommand).resolves({ StatusCode: 200, Payload: shadowPayload(LIVE_ANSWER) });
    dynamoMock.on(PutItemCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    const metrics = await handler(subscriptionEvent(tapLines(['w-1'])));
    expect(metrics.resultsWriteErrors).toBe(1);
    expect(mainDoc(log)).toMatchObject({ ResultsWriteErrors: 1, MirrorReplayed: 1 });
  });
});

describe('dispatcher pieces', () => {
  test('decodes a subscription delivery and says which layer is wrong', () => {
    expect(decodeSubscription(subscriptionEvent(['a'])).logEvents).toHaveLength(1);
    expect(() => decodeSubscription({})).toThrow('not a CloudWatch Logs subscription event: awslogs.data is missing');
    expect(() => decodeSubscription({ awslogs: { data: gzipSync('{').toString('base64') } })).toThrow(/awslogs.data does not hold JSON/);
  });

  test('the token bucket allows a burst, then the rate, and never borrows', () => {
    const bucket = new TokenBucket(2, 2, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, false]);
    expect(bucket.take(400)).toBe(false);
    expect(bucket.take(500)).toBe(true);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(10_000)).toBe(false);
  });

  test('reads the shadow\'s own duration from the REPORT line or the JSON platform.report record', () => {
    expect(reportedDuration(tail(42.17))).toBe(42.17);
    const json = Buffer.from('{"time":"t","type":"platform.report","record":{"requestId":"x","metrics":{"durationMs":7.5,"billedDurationMs":8}}}').toString('base64');
    expect(reportedDuration(json)).toBe(7.5);
    expect(reportedDuration(undefined)).toBeUndefined();
  });
});

describe('results written to DynamoDB (dynalite)', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let table: string;

  beforeAll(async () => {
    dynamoMock.restore();
    lambdaMock.restore();
    dynamo = await startDynalite();
    client = dynamo.client();
    table = `shadow-results-${process.pid}`;
    await client.send(new dynamoSdk.CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'shadow_id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'shadow_id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }));
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  test('stores one item per replay keyed by shadow_id, and a redelivered batch overwrites rather than duplicates', async () => {
    const store = new DynamoResultsStore(client, table, dynamoSdk);
    const invoke = jest.fn(async () => ({ Payload: shadowPayload(DRIFTED_ANSWER), LogResult: tail(40), ExecutedVersion: '8' }));
    const config = { shadowName: 'S', maxEventBytes: 200_000, redact: [], answerPath: [{ key: 'answer' }], shadowTimeoutMs: 1000, resultsTtlSeconds: 3600, maxInFlight: 2 };
    const event = subscriptionEvent(tapLines(['d-1', 'd-2']));
    for (let delivery = 0; delivery < 2; delivery++) {
      await dispatch(event, config, { invoke, store, budget: new TokenBucket(100, 100, Date.now()), log: () => undefined });
    }
    expect(invoke).toHaveBeenCalledTimes(4);
    const scan = await client.send(new dynamoSdk.ScanCommand({ TableName: table }));
    expect(scan.Count).toBe(2);
    const item = (await client.send(new GetItemCommand({ TableName: table, Key: { shadow_id: { S: 'd-1' } } }))).Item!;
    expect(item.outcome.S).toBe('scored');
    expect(Number(item.delta_s.N)).toBeGreaterThan(0.45);
    expect(item.shadow_ms.N).toBe('40');
    expect(Object.keys(item).sort()).toEqual([
      'delta_s', 'expires_at', 'index_hash', 'live_ms', 'live_output', 'live_status', 'model_rev', 'outcome', 'req_hash', 'route',
      'sampled_at', 'shadow_id', 'shadow_model_rev', 'shadow_ms', 'shadow_ms_source', 'shadow_output', 'shadow_status',
    ]);
  });

  test('caps a huge shadow output below DynamoDB\'s 400 KB item limit and marks it truncated', async () => {
    const store = new DynamoResultsStore(client, table, dynamoSdk);
    const result: ShadowResult = {
      shadow_id: 'huge-output', req_hash: 'h', model_rev: '7', index_hash: null, route: 'GET /answer', outcome: 'scored', delta_s: 0.5,
      live_status: 200, shadow_status: 200, live_ms: 1, shadow_ms: 2, live_output: 'short', shadow_output: 'z'.repeat(600_000), sampled_at: 1, expires_at: 2,
    };
    await store.put(result);
    const item = (await client.send(new GetItemCommand({ TableName: table, Key: { shadow_id: { S: 'huge-output' } } }))).Item!;
    expect(item.shadow_output.S!.length).toBe(150_000);
    expect(item.shadow_output_truncated.BOOL).toBe(true);
    expect(item.live_output_truncated).toBeUndefined();
  });
});
