// Retries and dedupe hits by release: what the idempotency helpers count in the withRelease record of the invocation
// they run in, on dynalite (the real conditional writes), and the shape of the EMF lines that carry the counts.
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  FenceHeldError,
  fenceMiddleware,
  guardrails,
  idempotencyMiddleware,
  IdempotencyInProgressError,
  InMemoryIdempotencyStore,
  makeFence,
  makeIdempotent,
  releaseTelemetryMiddleware,
  reportCacheLookup,
  withRelease,
  type LambdaMiddleware,
  type MiddlewareRequest,
} from '../packages/runtime/src';
import { IDEMPOTENCY_METRICS, TELEMETRY_DIMENSIONS, TELEMETRY_NAMESPACE } from '../packages/runtime/src/contract';
import { sha256 } from '../packages/runtime/src/idempotency/keys';
import { redeliveries } from '../packages/runtime/src/idempotency/telemetry';
import { startDynalite, type LocalDynamo } from './helpers/dynalite';

let dynamo: LocalDynamo;
let client: DynamoDBClient;
let table: string;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = dynamo.client();
});
afterAll(async () => {
  await dynamo.stop();
});
beforeEach(async () => {
  table = await dynamo.createTable();
});

let counter = 0;
const freshKey = () => `key-${Date.now()}-${++counter}`;
const RELEASE = { RELEASE_ID: 'rel-new' };

/** withRelease around `handler`, its EMF lines parsed into `records`. */
function recorded<E, R>(handler: (event: E, context?: any) => Promise<R>) {
  const lines: string[] = [];
  const wrapped = withRelease(handler, { release: RELEASE, revision: '7', functionName: 'orders', sink: (line) => { lines.push(line); } });
  return { wrapped, lines, records: () => lines.map((line) => JSON.parse(line)) };
}

/** Calls `fn`, returning what it threw (or undefined). */
async function thrown(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

function restEvent(key: string, body = '{"sku":"a"}') {
  return { httpMethod: 'POST', path: '/orders', resource: '/orders', headers: { 'Idempotency-Key': key }, requestContext: { requestId: key }, body };
}

function sqsRecord(messageId: string, receiveCount: string, group = 'g1') {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: '{"order":1}',
    attributes: { ApproximateReceiveCount: receiveCount, SentTimestamp: '1545082649183', SenderId: 'AIDAEXAMPLE', ApproximateFirstReceiveTimestamp: '1545082649185', MessageGroupId: group },
    messageAttributes: {},
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:orders',
    awsRegion: 'eu-west-1',
  };
}

const counts = (record: any) => ({ dedupeHits: record.DedupeHits, retries: record.Retries });

/** A body that says when it starts and ends when told: a call holding its key for as long as the test wants. */
function holding() {
  let started!: () => void;
  let finish!: () => void;
  const startedPromise = new Promise<void>((resolve) => { started = resolve; });
  const finished = new Promise<void>((resolve) => { finish = resolve; });
  return {
    started: startedPromise,
    finish: () => finish(),
    work: async () => {
      started();
      await finished;
      return 'done';
    },
  };
}

describe('makeIdempotent under withRelease: dedupe hits and retries by release', () => {
  test('a first call counts nothing, a duplicate answered from the completed record is a dedupe hit and a retry', async () => {
    let runs = 0;
    const { wrapped, records } = recorded(makeIdempotent(async () => ({ statusCode: 201, body: `order ${++runs}` }), { table, client, scope: 'orders' }));
    const key = freshKey();
    expect(await wrapped(restEvent(key))).toEqual({ statusCode: 201, body: 'order 1' });
    expect(await wrapped(restEvent(key))).toEqual({ statusCode: 201, body: 'order 1' });
    expect(runs).toBe(1);
    const [first, duplicate] = records();
    expect(counts(first)).toEqual({ dedupeHits: 0, retries: 0 });
    expect(counts(duplicate)).toEqual({ dedupeHits: 1, retries: 1 });
    expect(duplicate).toMatchObject({ dedupe_replayed: 1, retries_key_again: 1, ReleaseId: 'rel-new', Revision: '7', FunctionName: 'orders' });
    // The breakdown fields appear only when not zero.
    expect(first).not.toHaveProperty('dedupe_replayed');
    expect(duplicate).not.toHaveProperty('dedupe_in_progress');
  });

  test('a call refused because the key is in progress is a dedupe hit, not a retry, and its record is an error', async () => {
    const first = holding();
    const { wrapped, records } = recorded(makeIdempotent(first.work, { table, client, scope: 'orders' }));
    const key = freshKey();
    const running = wrapped(restEvent(key));
    await first.started; // the first call holds the key: its body runs
    expect(await thrown(() => wrapped(restEvent(key)))).toBeInstanceOf(IdempotencyInProgressError);
    first.finish();
    expect(await running).toBe('done');
    const [refused, completed] = records();
    expect(counts(refused)).toEqual({ dedupeHits: 1, retries: 0 });
    expect(refused).toMatchObject({ dedupe_in_progress: 1, Errors: 1, ErrorsByClass: 1, ErrorClass: 'thrown', error_type: 'IdempotencyInProgressError' });
    expect(counts(completed)).toEqual({ dedupeHits: 0, retries: 0 });
  });

  test('a key whose result could not be stored is refused as a dedupe hit and a retry', async () => {
    const store = new InMemoryIdempotencyStore({ maxItemBytes: 600 });
    const { wrapped, records } = recorded(makeIdempotent(async () => 'x'.repeat(2000), { store, scope: 'orders' }));
    const key = freshKey();
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      await wrapped(restEvent(key));
      expect(warn.mock.calls[0][0]).toContain('the result was not stored');
    } finally {
      warn.mockRestore();
    }
    expect((await thrown(() => wrapped(restEvent(key))) as Error).name).toBe('IdempotencyResultNotStoredError');
    expect(records()[1]).toMatchObject({ DedupeHits: 1, Retries: 1, dedupe_not_stored: 1, retries_key_again: 1 });
  });

  test('a claim over a lapsed one (its holder crashed or timed out) is a retry, and the handler runs', async () => {
    const key = freshKey();
    const now = Date.now();
    // What a crashed call leaves behind: an in-progress claim whose lease has ended.
    await client.send(new PutItemCommand({
      TableName: table,
      Item: {
        id: { S: `orders#${sha256(key)}` }, status: { S: 'INPROGRESS' }, expiration: { N: String(Math.floor(now / 1000) + 3600) },
        held_until: { N: String(now - 1000) }, claim_token: { S: 'crashed' }, payload_hash: { S: sha256('{"sku":"a"}') },
      },
    }));
    let runs = 0;
    const { wrapped, records } = recorded(makeIdempotent(async () => ++runs, { table, client, scope: 'orders' }));
    expect(await wrapped(restEvent(key))).toBe(1);
    expect(records()[0]).toMatchObject({ DedupeHits: 0, Retries: 1, retries_key_again: 1 });
  });

  test('a key seen again after its handler threw is not counted: the claim was deleted, so nothing tells it from a first call', async () => {
    let fail = true;
    const { wrapped, records } = recorded(makeIdempotent(async () => {
      if (fail) throw new Error('downstream down');
      return 'ok';
    }, { table, client, scope: 'orders' }));
    const key = freshKey();
    expect(await thrown(() => wrapped(restEvent(key)))).toBeInstanceOf(Error);
    fail = false;
    expect(await wrapped(restEvent(key))).toBe('ok');
    expect(records().map(counts)).toEqual([{ dedupeHits: 0, retries: 0 }, { dedupeHits: 0, retries: 0 }]);
  });

  test('SQS records received before are retries: one per record, and a redelivered duplicate counts once', async () => {
    const perRecord = recorded(makeIdempotent(async (record: ReturnType<typeof sqsRecord>) => record.messageId, { table, client, scope: 'orders', key: '$.messageId' }));
    await perRecord.wrapped(sqsRecord('m-1', '1'));
    await perRecord.wrapped(sqsRecord('m-2', '3'));
    // m-2 again (a fourth receive), completed the first time: a dedupe hit, and one retry, not two.
    await perRecord.wrapped(sqsRecord('m-2', '4'));
    expect(perRecord.records().map((r) => [r.DedupeHits, r.Retries, r.retries_redelivered ?? 0, r.retries_key_again ?? 0])).toEqual([
      [0, 0, 0, 0],
      [0, 1, 1, 0],
      [1, 1, 1, 1],
    ]);

    // A whole batch under one key: each record received before counts.
    const batch = recorded(makeIdempotent(async (event: { Records: unknown[] }) => event.Records.length, { table, client, scope: 'batch', key: '$.Records[0].messageId' }));
    await batch.wrapped({ Records: [sqsRecord('b-1', '2'), sqsRecord('b-2', '1'), sqsRecord('b-3', '5')] });
    expect(batch.records()[0]).toMatchObject({ DedupeHits: 0, Retries: 2, retries_redelivered: 2 });
  });

  test('the release and revision come from the environment, as withRelease reads them', async () => {
    const saved = { release: process.env.RELEASE_ID, version: process.env.AWS_LAMBDA_FUNCTION_VERSION, name: process.env.AWS_LAMBDA_FUNCTION_NAME };
    process.env.RELEASE_ID = 'rel-from-env';
    process.env.AWS_LAMBDA_FUNCTION_VERSION = '12';
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'orders-fn';
    try {
      const lines: string[] = [];
      const handler = withRelease(makeIdempotent(async () => 'ok', { table, client }), { sink: (line) => { lines.push(line); } });
      const key = freshKey();
      await handler(restEvent(key));
      await handler(restEvent(key));
      expect(JSON.parse(lines[1])).toMatchObject({ FunctionName: 'orders-fn', ReleaseId: 'rel-from-env', Revision: '12', DedupeHits: 1, Retries: 1 });
    } finally {
      for (const [name, value] of [['RELEASE_ID', saved.release], ['AWS_LAMBDA_FUNCTION_VERSION', saved.version], ['AWS_LAMBDA_FUNCTION_NAME', saved.name]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  test('guardrails() counts its idempotency part in its telemetry part\'s record', async () => {
    const lines: string[] = [];
    const handler = guardrails(async () => ({ statusCode: 200, body: 'ok' }), {
      idempotency: { table, client, scope: 'orders' },
      telemetry: { release: RELEASE, revision: '7', functionName: 'orders', sink: (line) => { lines.push(line); } },
    });
    const key = freshKey();
    await handler(restEvent(key));
    await handler(restEvent(key));
    expect(lines.map((line) => counts(JSON.parse(line)))).toEqual([{ dedupeHits: 0, retries: 0 }, { dedupeHits: 1, retries: 1 }]);
  });
});

describe('makeFence under withRelease', () => {
  test('a batch sums its records: work done once per partition and release, redeliveries and held fences counted', async () => {
    const fence = makeFence({ table, client, scope: 'reindex', releaseId: 'rel-new' });
    // Another drain holds partition g3.
    const otherDrain = holding();
    const other = fence({ partition: 'g3' }, otherDrain.work);
    await otherDrain.started;

    const outcomes: unknown[] = [];
    const { wrapped, records } = recorded(async (event: { Records: ReturnType<typeof sqsRecord>[] }) => {
      for (const record of event.Records) {
        try {
          outcomes.push((await fence({ partition: record.attributes.MessageGroupId, record }, async () => `done ${record.messageId}`)).ran);
        } catch (error) {
          outcomes.push((error as Error).name);
        }
      }
      return { batchItemFailures: [] };
    });
    await wrapped({ Records: [sqsRecord('m-1', '1', 'g1'), sqsRecord('m-2', '2', 'g2')] });
    // Redelivered: g1's and g2's work completed (dedupe hits; g2 received before too, counted once), g3 is held.
    await wrapped({ Records: [sqsRecord('m-1', '2', 'g1'), sqsRecord('m-2', '3', 'g2'), sqsRecord('m-3', '1', 'g3')] });
    otherDrain.finish();
    await other;

    expect(outcomes).toEqual([true, true, false, false, 'FenceHeldError']);
    const [first, second] = records();
    expect(first).toMatchObject({ DedupeHits: 0, Retries: 1, retries_redelivered: 1 });
    expect(second).toMatchObject({ DedupeHits: 3, Retries: 2, dedupe_replayed: 2, dedupe_in_progress: 1, retries_redelivered: 2, retries_key_again: 2 });
  });

  test('without a record only a fence key seen again counts', async () => {
    const fence = makeFence({ table, client, scope: 'jobs', releaseId: 'rel-new' });
    const { wrapped, records } = recorded(async () => (await fence({ partition: 'p' }, async () => 1)).ran);
    expect(await wrapped({})).toBe(true);
    expect(await wrapped({})).toBe(false);
    expect(records().map(counts)).toEqual([{ dedupeHits: 0, retries: 0 }, { dedupeHits: 1, retries: 1 }]);
  });
});

/** The part of middy's onion the guardrails middlewares rely on: `before` in order (an early answer ends it), then `after` in reverse. */
async function runMiddy<E, R>(middlewares: LambdaMiddleware<E, R>[], handler: (event: E) => Promise<R>, event: E): Promise<R> {
  const request: MiddlewareRequest<E, R> = { event, context: { awsRequestId: 'r-1' }, response: undefined, error: undefined, internal: {} };
  for (const m of middlewares) {
    await m.before?.(request);
    if ('earlyResponse' in request) return request.earlyResponse as R;
  }
  try {
    request.response = await handler(event);
  } catch (error) {
    request.error = error;
    for (const m of [...middlewares].reverse()) await m.onError?.(request);
    throw error;
  }
  for (const m of [...middlewares].reverse()) await m.after?.(request);
  return request.response as R;
}

describe('the middlewares under releaseTelemetryMiddleware', () => {
  test('idempotencyMiddleware: a replay answered in before is counted in the record the early answer settles', async () => {
    const lines: string[] = [];
    const telemetry = releaseTelemetryMiddleware({ release: RELEASE, revision: '7', functionName: 'orders', sink: (line) => { lines.push(line); } });
    const idempotency = idempotencyMiddleware({ table, client, scope: 'orders' });
    const key = freshKey();
    await runMiddy([telemetry, idempotency], async () => 'ok', restEvent(key));
    expect(await runMiddy([telemetry, idempotency], async () => 'again', restEvent(key))).toBe('ok');
    expect(lines.map((line) => counts(JSON.parse(line)))).toEqual([{ dedupeHits: 0, retries: 0 }, { dedupeHits: 1, retries: 1 }]);
  });

  test('fenceMiddleware counts the invocation event\'s SQS records received before', async () => {
    const lines: string[] = [];
    const telemetry = releaseTelemetryMiddleware({ release: RELEASE, revision: '7', functionName: 'orders', sink: (line) => { lines.push(line); } });
    const fenced = fenceMiddleware<{ Records: ReturnType<typeof sqsRecord>[] }>({ table, client, scope: 'shards', releaseId: 'rel-new', partition: (event) => event.Records[0].attributes.MessageGroupId });
    await runMiddy([telemetry, fenced], async () => 'processed', { Records: [sqsRecord('m-1', '2', 'g9'), sqsRecord('m-2', '2', 'g9')] });
    expect(JSON.parse(lines[0])).toMatchObject({ DedupeHits: 0, Retries: 2, retries_redelivered: 2 });
  });
});

describe('optional-safe: no telemetry without withRelease', () => {
  test('makeIdempotent and makeFence alone write nothing, whatever they count', async () => {
    const stdout = jest.spyOn(process.stdout, 'write');
    const log = jest.spyOn(console, 'log');
    try {
      const handler = makeIdempotent(async () => 'ok', { table, client, scope: 'orders', key: '$.messageId' });
      await handler(sqsRecord('m-1', '5'));
      await handler(sqsRecord('m-1', '6'));
      const fence = makeFence({ table, client, scope: 'jobs', releaseId: 'rel-new' });
      await fence({ partition: 'p', record: sqsRecord('m-2', '2') }, async () => 1);
      await fence({ partition: 'p', record: sqsRecord('m-2', '3') }, async () => 1);
      expect(stdout).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    } finally {
      stdout.mockRestore();
      log.mockRestore();
    }
  });

  test('an event whose members throw when read counts no retry and changes nothing', async () => {
    const { wrapped, records } = recorded(makeIdempotent(async () => 'ok', { store: new InMemoryIdempotencyStore(), scope: 'orders', key: () => 'fixed' }));
    const hostile = { get Records(): unknown { throw new Error('no'); } };
    expect(await wrapped(hostile)).toBe('ok');
    expect(counts(records()[0])).toEqual({ dedupeHits: 0, retries: 0 });
    // Records that are not SQS records received before count nothing; a number is read as a string would be.
    expect(redeliveries({ Records: [null, 7, { attributes: null }, { attributes: { ApproximateReceiveCount: 'x' } }, { attributes: { ApproximateReceiveCount: '1' } }, { attributes: { ApproximateReceiveCount: 2 } }] })).toBe(1);
    expect(redeliveries('key')).toBe(0);
  });
});

describe('the EMF lines (register CW-11)', () => {
  /** Every dimension and metric a directive names is a member of the record, and each metric value is a number. */
  function expectWellFormed(record: any) {
    for (const directive of record._aws.CloudWatchMetrics) {
      for (const set of directive.Dimensions) for (const name of set) expect(typeof record[name]).toBe('string');
      for (const metric of directive.Metrics) expect(typeof record[metric.Name]).toBe('number');
    }
  }

  test('DedupeHits and Retries are Count metrics of the main directive, in the namespace and dimension sets of every record', async () => {
    const { wrapped, records } = recorded(makeIdempotent(async () => 'ok', { store: new InMemoryIdempotencyStore(), scope: 'orders' }));
    const key = freshKey();
    await wrapped(restEvent(key));
    await wrapped(restEvent(key));
    for (const record of records()) {
      expectWellFormed(record);
      const [directive] = record._aws.CloudWatchMetrics;
      expect(directive.Namespace).toBe(TELEMETRY_NAMESPACE);
      expect(directive.Dimensions).toEqual(TELEMETRY_DIMENSIONS);
      expect(directive.Metrics).toEqual(expect.arrayContaining([
        { Name: IDEMPOTENCY_METRICS.dedupeHits, Unit: 'Count' },
        { Name: IDEMPOTENCY_METRICS.retries, Unit: 'Count' },
      ]));
      expect(record._aws.CloudWatchMetrics).toHaveLength(1);
    }
  });

  test('with cache lookups and a failed invocation, one line carries every metric and the ErrorsByClass directive', async () => {
    const store = new InMemoryIdempotencyStore();
    const { wrapped, records } = recorded(makeIdempotent(async () => {
      reportCacheLookup(true);
      throw new Error('boom');
    }, { store, scope: 'orders' }));
    await thrown(() => wrapped(restEvent(freshKey())));
    const [record] = records();
    expectWellFormed(record);
    expect(record._aws.CloudWatchMetrics).toHaveLength(2);
    expect(record._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual(
      ['Invocations', 'Errors', 'Latency', 'ColdStart', 'CacheLookups', 'CacheHits', 'DedupeHits', 'Retries'],
    );
    expect(record._aws.CloudWatchMetrics[1].Metrics).toEqual([{ Name: 'ErrorsByClass', Unit: 'Count' }]);
  });

  test('a record of an invocation where no idempotency helper ran names neither metric', async () => {
    const { wrapped, records } = recorded(async () => 'plain');
    await wrapped({});
    const [record] = records();
    expect(JSON.stringify(record._aws)).not.toMatch(/DedupeHits|Retries/);
    expect(record).not.toHaveProperty('DedupeHits');
  });

  test('a held fence is reported as FenceHeldError and counted once', async () => {
    const fence = makeFence({ store: new InMemoryIdempotencyStore(), scope: 'jobs', releaseId: 'rel-new' });
    const holder = holding();
    const running = fence({ partition: 'p' }, holder.work);
    await holder.started;
    const { wrapped, records } = recorded(async () => fence({ partition: 'p' }, async () => undefined));
    expect(await thrown(() => wrapped({}))).toBeInstanceOf(FenceHeldError);
    holder.finish();
    await running;
    expect(records()[0]).toMatchObject({ DedupeHits: 1, Retries: 0, dedupe_in_progress: 1, error_type: 'FenceHeldError' });
  });
});
