import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBIdempotencyStore,
  IdempotencyConfigurationError,
  IdempotencyError,
  IdempotencyInProgressError,
  IdempotencyKeyMissingError,
  IdempotencyKeyReuseError,
  IdempotencyPersistenceError,
  IdempotencyStorageError,
  IdempotencyShadowModeError,
  makeIdempotent,
  type IdempotencyOptions,
} from '../packages/runtime/src/idempotency';
import { sha256 } from '../packages/runtime/src/idempotency/keys';
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

let keyCounter = 0;
const freshKey = () => `key-${Date.now()}-${++keyCounter}`;

/** An API Gateway REST (v1) proxy event. */
function restEvent(key: string | undefined, body: string, headerName = 'Idempotency-Key') {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  const multiValueHeaders: Record<string, string[]> = {};
  if (key !== undefined) {
    headers[headerName] = key;
    multiValueHeaders[headerName] = [key];
  }
  return {
    resource: '/orders',
    path: '/orders',
    httpMethod: 'POST',
    headers: headers as Record<string, string> | null,
    multiValueHeaders,
    requestContext: { requestId: `r-${Math.random()}` },
    body,
    isBase64Encoded: false,
  };
}

/** An API Gateway HTTP API (v2) event: header names arrive lower-cased. */
function httpApiEvent(key: string, body: string) {
  return {
    version: '2.0',
    routeKey: 'POST /orders',
    rawPath: '/orders',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    requestContext: { http: { method: 'POST' }, requestId: `r-${Math.random()}` },
    body,
    isBase64Encoded: false,
  };
}

async function readItem(id: string) {
  const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
  return Item;
}

function counted<E, R>(body: (event: E) => Promise<R>) {
  const calls: E[] = [];
  const fn = async (event: E) => {
    calls.push(event);
    return body(event);
  };
  return { fn, calls };
}

function options<E>(extra: Partial<IdempotencyOptions<E>> = {}): IdempotencyOptions<E> {
  return { table, client, scope: 'orders', ...extra };
}

describe('makeIdempotent against dynalite', () => {
  test('runs the body on the first call and stores its result as a completed record', async () => {
    const key = freshKey();
    const { fn, calls } = counted(async () => ({ statusCode: 201, body: '{"order":1}' }));
    const handler = makeIdempotent(fn, options());

    const result = await handler(restEvent(key, '{"sku":"a"}'));

    expect(result).toEqual({ statusCode: 201, body: '{"order":1}' });
    expect(calls).toHaveLength(1);
    const item = await readItem(`orders#${sha256(key)}`);
    expect(item?.status).toEqual({ S: 'COMPLETED' });
    expect(JSON.parse(item?.data?.S ?? 'null')).toEqual({ statusCode: 201, body: '{"order":1}' });
    expect(item?.payload_hash).toEqual({ S: sha256('{"sku":"a"}') });
    expect(Number(item?.held_until?.N)).toBe(Number(item?.expiration?.N) * 1000);
  });

  test('answers a duplicate with the stored result without running the body again', async () => {
    const key = freshKey();
    let n = 0;
    const { fn, calls } = counted(async () => ({ statusCode: 201, body: `order-${++n}` }));
    const handler = makeIdempotent(fn, options());

    const first = await handler(restEvent(key, '{"sku":"a"}'));
    const second = await handler(restEvent(key, '{"sku":"a"}'));

    expect(second).toEqual(first);
    expect(second.body).toBe('order-1');
    expect(calls).toHaveLength(1);
  });

  test('finds the Idempotency-Key header in any case, in REST and HTTP API events alike', async () => {
    const key = freshKey();
    const { fn, calls } = counted(async () => 'done');
    const handler = makeIdempotent(fn, options<unknown>());

    await handler(restEvent(key, 'x', 'IDEMPOTENCY-KEY'));
    expect(await handler(restEvent(key, 'x', 'idempotency-key'))).toBe('done');
    expect(await handler(httpApiEvent(key, 'x'))).toBe('done');
    const onlyMultiValue = { ...restEvent(key, 'x', 'Idempotency-key'), headers: null };
    expect(await handler(onlyMultiValue)).toBe('done');

    expect(calls).toHaveLength(1);
  });

  test('rejects a reused key with a different body and does not run the body', async () => {
    const key = freshKey();
    const { fn, calls } = counted(async () => 'charged');
    const handler = makeIdempotent(fn, options());

    await handler(restEvent(key, '{"amount":10}'));
    const reuse = handler(restEvent(key, '{"amount":99}'));

    await expect(reuse).rejects.toBeInstanceOf(IdempotencyKeyReuseError);
    await expect(handler(restEvent(key, '{"amount":99}'))).rejects.toMatchObject({
      name: 'IdempotencyKeyReuseError',
      storedPayloadHash: sha256('{"amount":10}'),
      payloadHash: sha256('{"amount":99}'),
    });
    expect(calls).toHaveLength(1);
  });

  test('accepts a different body for a reused key when payload validation is off', async () => {
    const key = freshKey();
    const { fn, calls } = counted(async () => 'first');
    const handler = makeIdempotent(fn, options({ payloadValidation: false }));

    await handler(restEvent(key, '{"amount":10}'));
    expect(await handler(restEvent(key, '{"amount":99}'))).toBe('first');
    expect(calls).toHaveLength(1);
  });

  test('releases the claim when the body fails, so that a retry runs the body again', async () => {
    const key = freshKey();
    let fail = true;
    const { fn, calls } = counted(async () => {
      if (fail) throw new Error('downstream timed out');
      return 'ok';
    });
    const handler = makeIdempotent(fn, options());

    await expect(handler(restEvent(key, 'b'))).rejects.toThrow('downstream timed out');
    expect(await readItem(`orders#${sha256(key)}`)).toBeUndefined();

    fail = false;
    expect(await handler(restEvent(key, 'b'))).toBe('ok');
    expect(calls).toHaveLength(2);
  });

  test('a failing call whose claim lapsed and was taken over does not delete or overwrite the new holder', async () => {
    const key = freshKey();
    const id = `orders#${sha256(key)}`;
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((resolve) => { releaseSlow = resolve; });
    const slow = makeIdempotent(async () => {
      await slowGate;
      throw new Error('slow call failed late');
    }, options());
    let releaseFast!: () => void;
    const fastGate = new Promise<void>((resolve) => { releaseFast = resolve; });
    const fast = makeIdempotent(async () => {
      await fastGate;
      return 'fast';
    }, options());

    // The slow call's lease is 50 ms; after it lapses the fast call takes the key over.
    const slowCall = slow(restEvent(key, 'b'), { getRemainingTimeInMillis: () => 50 });
    await sleep(120);
    const fastCall = fast(restEvent(key, 'b'), { getRemainingTimeInMillis: () => 60_000 });
    await sleep(50);
    const fastToken = (await readItem(id))?.claim_token?.S;
    expect(fastToken).toBeDefined();

    releaseSlow();
    await expect(slowCall).rejects.toThrow('slow call failed late');
    // The slow call's release was conditional on its own token: the fast call's claim is still there.
    expect((await readItem(id))?.claim_token?.S).toBe(fastToken);
    expect((await readItem(id))?.status?.S).toBe('INPROGRESS');

    releaseFast();
    expect(await fastCall).toBe('fast');
    expect((await readItem(id))?.status?.S).toBe('COMPLETED');
  });

  test('a call whose claim was taken over keeps the new holder\'s result instead of overwriting it', async () => {
    const key = freshKey();
    const id = `orders#${sha256(key)}`;
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      let releaseSlow!: () => void;
      const slowGate = new Promise<void>((resolve) => { releaseSlow = resolve; });
      const slow = makeIdempotent(async () => {
        await slowGate;
        return 'slow';
      }, options());
      const fast = makeIdempotent(async () => 'fast', options());

      const slowCall = slow(restEvent(key, 'b'), { getRemainingTimeInMillis: () => 50 });
      await sleep(120);
      expect(await fast(restEvent(key, 'b'))).toBe('fast');
      releaseSlow();

      expect(await slowCall).toBe('slow');
      expect(JSON.parse((await readItem(id))?.data?.S ?? 'null')).toBe('fast');
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('another call took the key'));
    } finally {
      warn.mockRestore();
    }
  });

  test('runs the body exactly once for 200 concurrent calls with one key; every other call gets the result or IdempotencyInProgressError', async () => {
    const key = freshKey();
    let runs = 0;
    const handler = makeIdempotent(async () => {
      runs++;
      await sleep(20);
      return { statusCode: 200, body: 'paid once' };
      // dynalite answers 200 calls one at a time; with another jest worker on the machine the last answers can take
      // longer than the default 5 s storage timeout, which is the production figure, not what this test is about.
      // The 200 calls queue for the client's 50 sockets on purpose: its warning that requests wait for a socket
      // (after 3 s, under load) would say nothing here, so it only comes after the storage timeout.
    }, options({ storageTimeoutMs: 30_000, client: dynamo.client({ requestHandler: { socketAcquisitionWarningTimeout: 30_000 } }) }));

    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, () => handler(restEvent(key, '{"amount":10}'))));

    expect(runs).toBe(1);
    const fulfilled = outcomes.filter((o): o is PromiseFulfilledResult<{ statusCode: number; body: string }> => o.status === 'fulfilled');
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(fulfilled.length).toBeGreaterThanOrEqual(1);
    for (const o of fulfilled) expect(o.value).toEqual({ statusCode: 200, body: 'paid once' });
    for (const o of rejected) expect(o.reason).toBeInstanceOf(IdempotencyInProgressError);
    expect(fulfilled.length + rejected.length).toBe(200);
  });

  test('a claim left by a crashed call blocks retries until the invocation\'s remaining time runs out, then a retry runs', async () => {
    const key = freshKey();
    let unblock!: () => void;
    const never = new Promise<void>((resolve) => { unblock = resolve; });
    // The "crashed" call never finishes: its claim stays in the table, as after a timeout.
    const crashed = makeIdempotent(async () => { await never; return 'crashed'; }, options());
    const crashedCall = crashed(restEvent(key, 'b'), { getRemainingTimeInMillis: () => 300 });
    await sleep(30);

    const { fn, calls } = counted(async () => 'retried');
    const retry = makeIdempotent(fn, options());
    const early = retry(restEvent(key, 'b'));
    await expect(early).rejects.toBeInstanceOf(IdempotencyInProgressError);
    await expect(retry(restEvent(key, 'b'))).rejects.toMatchObject({ retryAfterSeconds: 1 });
    expect(calls).toHaveLength(0);

    await sleep(320);
    expect(await retry(restEvent(key, 'b'))).toBe('retried');
    expect(calls).toHaveLength(1);

    // Should the stuck call come back after all, it must not overwrite the retry's result.
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      unblock();
      expect(await crashedCall).toBe('crashed');
      expect(JSON.parse((await readItem(`orders#${sha256(key)}`))?.data?.S ?? 'null')).toBe('retried');
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      warn.mockRestore();
    }
  });

  test('sets the in-progress lease from the Lambda context\'s remaining time', async () => {
    const key = freshKey();
    let unblock!: () => void;
    const gate = new Promise<void>((resolve) => { unblock = resolve; });
    const handler = makeIdempotent(async () => { await gate; return 1; }, options());
    const before = Date.now();
    const call = handler(restEvent(key, 'b'), { getRemainingTimeInMillis: () => 7_000 });
    // The claim is written while the body waits; on a busy machine that can take longer than a few milliseconds.
    let claim = await readItem(`orders#${sha256(key)}`);
    for (const deadline = Date.now() + 5_000; !claim && Date.now() < deadline; claim = await readItem(`orders#${sha256(key)}`)) await sleep(20);

    const until = Number(claim?.held_until?.N);
    expect(until).toBeGreaterThanOrEqual(before + 7_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 7_000);
    unblock();
    await call;
  });

  test('runs the body again once a completed record has expired, even before TTL deletes it', async () => {
    const key = freshKey();
    const id = `orders#${sha256(key)}`;
    await client.send(new PutItemCommand({
      TableName: table,
      Item: { id: { S: id }, status: { S: 'COMPLETED' }, expiration: { N: String(Math.floor(Date.now() / 1000) - 5) }, held_until: { N: String(Date.now() - 5000) }, data: { S: '"stale"' } },
    }));
    const { fn, calls } = counted(async () => 'fresh');

    expect(await makeIdempotent(fn, options())(restEvent(key, 'b'))).toBe('fresh');
    expect(calls).toHaveLength(1);
  });

  test('raises a storage error naming the record when a stored result is not valid JSON', async () => {
    const key = freshKey();
    const id = `orders#${sha256(key)}`;
    const later = Math.floor(Date.now() / 1000) + 3600;
    await client.send(new PutItemCommand({
      TableName: table,
      Item: { id: { S: id }, status: { S: 'COMPLETED' }, expiration: { N: String(later) }, held_until: { N: String(later * 1000) }, data: { S: '{"truncated' } },
    }));
    const { fn, calls } = counted(async () => 'ran');

    await expect(makeIdempotent(fn, options())(restEvent(key, 'b'))).rejects.toMatchObject({
      name: 'IdempotencyStorageError', operation: 'read', recordId: id, cause: expect.any(SyntaxError),
    });
    expect(calls).toHaveLength(0);
  });

  test('gives a call that is already out of time a lease that has already ended', async () => {
    const key = freshKey();
    let unblock!: () => void;
    const gate = new Promise<void>((resolve) => { unblock = resolve; });
    const late = makeIdempotent(async () => { await gate; return 'late'; }, options());
    const call = late(restEvent(key, 'b'), { getRemainingTimeInMillis: () => 0 });
    await sleep(30);

    const { fn, calls } = counted(async () => 'retried');
    expect(await makeIdempotent(fn, options())(restEvent(key, 'b'))).toBe('retried');
    expect(calls).toHaveLength(1);
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      unblock();
      await call;
    } finally {
      warn.mockRestore();
    }
  });

  test('writes records that expire after expiresAfter seconds', async () => {
    const key = freshKey();
    await makeIdempotent(async () => 1, options({ expiresAfter: 90_000 }))(restEvent(key, 'b'));
    const expiration = Number((await readItem(`orders#${sha256(key)}`))?.expiration?.N);
    expect(expiration - Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(89_998);
    expect(expiration - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(90_000);
  });

  test('computes the key and payload hash from the event as received, even if the body mutates it', async () => {
    const key = freshKey();
    const { fn, calls } = counted(async (event: ReturnType<typeof restEvent>) => {
      event.headers!['Idempotency-Key'] = 'mutated-key';
      event.multiValueHeaders['Idempotency-Key'] = ['mutated-key'];
      event.body = '{"mutated":true}';
      return 'once';
    });
    const handler = makeIdempotent(fn, options());

    await handler(restEvent(key, '{"sku":"a"}'));
    const item = await readItem(`orders#${sha256(key)}`);
    expect(item?.payload_hash?.S).toBe(sha256('{"sku":"a"}'));
    expect(await readItem(`orders#${sha256('mutated-key')}`)).toBeUndefined();
    expect(await handler(restEvent(key, '{"sku":"a"}'))).toBe('once');
    expect(calls).toHaveLength(1);
  });

  test('stores and replays a function that returns nothing', async () => {
    const key = freshKey();
    const { fn, calls } = counted(async () => undefined);
    const handler = makeIdempotent(fn, options());
    expect(await handler(restEvent(key, 'b'))).toBeUndefined();
    expect(await handler(restEvent(key, 'b'))).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  test('reads the key from a JSON path, parsing a JSON body on the way', async () => {
    const { fn, calls } = counted(async () => 'ok');
    const handler = makeIdempotent(fn, options<unknown>({ key: { path: '$.body.order.id' } }));

    await handler(restEvent(undefined, '{"order":{"id":"o-1"},"note":"a"}'));
    await handler(restEvent(undefined, '{"order":{"id":"o-1"},"note":"a"}'));
    await handler(restEvent(undefined, '{"order":{"id":"o-2"},"note":"a"}'));

    expect(calls).toHaveLength(2);
    expect(await readItem(`orders#${sha256('o-1')}`)).toBeDefined();
  });

  test('takes a plain string key option as a JSON path', async () => {
    const { fn, calls } = counted(async () => 'ok');
    const handler = makeIdempotent(fn, options<{ detail: { id: string } }>({ key: '$.detail.id' }));
    await handler({ detail: { id: 'evt-1' } });
    await handler({ detail: { id: 'evt-1' } });
    expect(calls).toHaveLength(1);
    expect(await readItem(`orders#${sha256('evt-1')}`)).toBeDefined();
  });

  test('reads the key from a function of the event, and validates a selected payload', async () => {
    type Job = { jobId: string; input: { n: number }; attempt: number };
    const { fn, calls } = counted(async (job: Job) => job.input.n * 2);
    const handler = makeIdempotent(fn, options<Job>({ key: (job) => job.jobId, payloadValidation: '$.input' }));

    expect(await handler({ jobId: 'j1', input: { n: 2 }, attempt: 1 })).toBe(4);
    expect(await handler({ jobId: 'j1', input: { n: 2 }, attempt: 2 })).toBe(4);
    await expect(handler({ jobId: 'j1', input: { n: 3 }, attempt: 3 })).rejects.toBeInstanceOf(IdempotencyKeyReuseError);
    expect(calls).toHaveLength(1);
  });

  test('throws IdempotencyKeyMissingError naming the header when the key is absent, without running the body', async () => {
    const { fn, calls } = counted(async () => 'ran');
    const handler = makeIdempotent(fn, options());

    await expect(handler(restEvent(undefined, 'b'))).rejects.toThrow('no idempotency key in the event: expected header Idempotency-Key');
    await expect(handler(restEvent(undefined, 'b'))).rejects.toBeInstanceOf(IdempotencyKeyMissingError);
    await expect(handler(restEvent(undefined, 'b'))).rejects.toBeInstanceOf(IdempotencyError);
    expect(calls).toHaveLength(0);
  });

  test('runs the body without idempotency when the key is absent and requireKey is false', async () => {
    const { fn, calls } = counted(async () => 'ran');
    const handler = makeIdempotent(fn, options({ requireKey: false }));
    expect(await handler(restEvent(undefined, 'b'))).toBe('ran');
    expect(await handler(restEvent(undefined, 'b'))).toBe('ran');
    expect(calls).toHaveLength(2);
  });

  test('fences a queue partition: a second release gets the first release\'s result and the record names the release', async () => {
    type Msg = { partition: string; messageId: string };
    const key = { path: '$.messageId' };
    const oldRelease = counted(async () => 'old');
    const newRelease = counted(async () => 'new');
    const oldHandler = makeIdempotent(oldRelease.fn, options<Msg>({ key, fence: { partition: { path: '$.partition' }, releaseId: 'rel-1' } }));
    // A string starting with $ is a path too.
    const newHandler = makeIdempotent(newRelease.fn, options<Msg>({ key, fence: { partition: '$.partition', releaseId: 'rel-2' } }));

    expect(await oldHandler({ partition: 'shard-1', messageId: 'm1' })).toBe('old');
    expect(await newHandler({ partition: 'shard-1', messageId: 'm1' })).toBe('old');
    // The same message id in another partition is another record.
    expect(await newHandler({ partition: 'shard-2', messageId: 'm1' })).toBe('new');

    expect(oldRelease.calls).toHaveLength(1);
    expect(newRelease.calls).toHaveLength(1);
    const fencedId = `orders#${sha256(`${'shard-1'.length}:shard-1|m1`)}`;
    expect((await readItem(fencedId))?.release_id).toEqual({ S: 'rel-1' });
  });

  test('tells a fenced caller which release holds the record in progress', async () => {
    let unblock!: () => void;
    const gate = new Promise<void>((resolve) => { unblock = resolve; });
    const fence = (releaseId: string) => ({ partition: 'p-1', releaseId });
    const holder = makeIdempotent(async () => { await gate; return 1; }, options<{ id: string }>({ key: { path: 'id' }, fence: fence('rel-old') }));
    const call = holder({ id: 'm9' });
    await sleep(30);

    const other = makeIdempotent(async () => 2, options<{ id: string }>({ key: { path: 'id' }, fence: fence('rel-new') }));
    await expect(other({ id: 'm9' })).rejects.toMatchObject({ name: 'IdempotencyInProgressError', heldByRelease: 'rel-old' });
    unblock();
    await call;
  });

  test('refuses to write in shadow mode and does not run the body', async () => {
    const key = freshKey();
    const { fn, calls } = counted(async () => 'written');
    const handler = makeIdempotent(fn, options());
    process.env.GUARDRAILS_SHADOW_MODE = 'true';
    try {
      await expect(handler(restEvent(key, 'b'))).rejects.toThrow(IdempotencyShadowModeError);
      await expect(handler(restEvent(key, 'b'))).rejects.toThrow('idempotent writes are refused in shadow mode (GUARDRAILS_SHADOW_MODE=true)');
    } finally {
      delete process.env.GUARDRAILS_SHADOW_MODE;
    }
    expect(calls).toHaveLength(0);
    expect(await readItem(`orders#${sha256(key)}`)).toBeUndefined();
  });

  test('raises a storage error carrying its cause when DynamoDB is unreachable, without running the body or writing anything', async () => {
    const key = freshKey();
    const { fn, calls } = counted(async () => 'ran');
    const unreachable = dynamo.client({ endpoint: 'http://127.0.0.1:9' });
    const handler = makeIdempotent(fn, options({ client: unreachable }));

    const error = await handler(restEvent(key, 'b')).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(IdempotencyStorageError);
    expect(error).toBeInstanceOf(IdempotencyPersistenceError);
    expect(error).toMatchObject({ name: 'IdempotencyStorageError', operation: 'claim', recordId: `orders#${sha256(key)}` });
    expect((error as Error).message).toMatch(/^idempotency store failed to claim record orders#/);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(calls).toHaveLength(0);
    expect(await readItem(`orders#${sha256(key)}`)).toBeUndefined();
  });

  test('raises a storage error when the table does not exist, without running the body', async () => {
    const { fn, calls } = counted(async () => 'ran');
    const handler = makeIdempotent(fn, options({ table: 'no-such-table' }));
    await expect(handler(restEvent(freshKey(), 'b'))).rejects.toMatchObject({
      name: 'IdempotencyStorageError',
      cause: expect.objectContaining({ name: 'ResourceNotFoundException' }),
    });
    expect(calls).toHaveLength(0);
  });

  test('reads the table name and record lifetime from the environment IdempotencyTable.grant sets', async () => {
    const key = freshKey();
    process.env.GUARDRAILS_IDEMPOTENCY_TABLE = table;
    process.env.GUARDRAILS_IDEMPOTENCY_TTL_SECONDS = '7200';
    try {
      const handler = makeIdempotent(async () => 'env', { client, scope: 'orders' });
      expect(await handler(restEvent(key, 'b'))).toBe('env');
    } finally {
      delete process.env.GUARDRAILS_IDEMPOTENCY_TABLE;
      delete process.env.GUARDRAILS_IDEMPOTENCY_TTL_SECONDS;
    }
    const expiration = Number((await readItem(`orders#${sha256(key)}`))?.expiration?.N);
    expect(expiration - Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(7198);
    expect(expiration - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(7200);
  });

  test('scopes records by function name, so that two functions sharing a table do not collide', async () => {
    const key = freshKey();
    const a = makeIdempotent(async () => 'a', options({ scope: 'fn-a' }));
    const b = makeIdempotent(async () => 'b', options({ scope: 'fn-b' }));
    expect(await a(restEvent(key, 'x'))).toBe('a');
    expect(await b(restEvent(key, 'x'))).toBe('b');
  });

  test('the DynamoDB store falls back to a consistent read when the failed condition returns no item', async () => {
    const store = new DynamoDBIdempotencyStore({ tableName: table, client });
    const now = Date.now();
    const claim = { id: `direct#${freshKey()}`, now, expiresAt: Math.floor(now / 1000) + 60, inProgressUntil: now + 60_000, payloadHash: 'h' };
    expect(await store.claim({ ...claim, token: 't1' })).toEqual({ claimed: true });

    const second = await store.claim({ ...claim, token: 't2' });

    expect(second).toEqual({ claimed: false, existing: expect.objectContaining({ id: claim.id, status: 'INPROGRESS', token: 't1', payloadHash: 'h' }) });
    expect(await store.release(claim.id, 't2')).toBe(false);
    expect(await store.release(claim.id, 't1')).toBe(true);
  });
});

describe('makeIdempotent configuration', () => {
  test('fails when no table is given and the environment names none', () => {
    delete process.env.GUARDRAILS_IDEMPOTENCY_TABLE;
    delete process.env.IDEMPOTENCY_TABLE_NAME;
    expect(() => makeIdempotent(async () => 1, {})).toThrow(
      'no idempotency table: pass options.table or set GUARDRAILS_IDEMPOTENCY_TABLE (IdempotencyTable.grant(fn) sets it), got: undefined',
    );
  });

  test('fails on a non-positive expiresAfter, naming the option and the value', () => {
    expect(() => makeIdempotent(async () => 1, { table: 't', expiresAfter: -5 })).toThrow('expiresAfter must be a positive whole number of seconds, got: -5');
    expect(() => makeIdempotent(async () => 1, { table: 't', expiresAfter: 1.5 })).toThrow(IdempotencyConfigurationError);
  });

  test('fails on a malformed key path when the handler is built', () => {
    expect(() => makeIdempotent(async () => 1, { table: 't', key: { path: '$.a[b' } })).toThrow('invalid JSON path "$.a[b": unclosed [');
  });

  test('fails on a malformed TTL in the environment, naming the variable', () => {
    process.env.GUARDRAILS_IDEMPOTENCY_TTL_SECONDS = 'two days';
    try {
      expect(() => makeIdempotent(async () => 1, { table: 't' })).toThrow('GUARDRAILS_IDEMPOTENCY_TTL_SECONDS must be a positive whole number of seconds, got: "two days"');
    } finally {
      delete process.env.GUARDRAILS_IDEMPOTENCY_TTL_SECONDS;
    }
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
