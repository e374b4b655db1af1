import { createServer, type Server, type Socket } from 'net';
import type { AddressInfo } from 'net';
import { GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBIdempotencyStore,
  IdempotencyConfigurationError,
  IdempotencyInProgressError,
  IdempotencyResultNotStoredError,
  IdempotencyStorageError,
  IdempotencyStorageTimeoutError,
  InMemoryIdempotencyStore,
  idempotencyErrorResponse,
  makeIdempotent,
  type ClaimRequest,
  type CompleteRequest,
  type IdempotencyOptions,
  type IdempotencyStore,
} from '../packages/runtime/src/idempotency';
import { sha256 } from '../packages/runtime/src/idempotency/keys';
import { startDynalite, type LocalDynamo } from './helpers/dynalite';

let dynamo: LocalDynamo;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startDynalite();
  client = dynamo.client();
});
afterAll(async () => {
  await dynamo.stop();
});

let keyCounter = 0;
const freshKey = () => `fault-${Date.now()}-${++keyCounter}`;
const event = (key: string) => ({ headers: { 'Idempotency-Key': key }, detail: 'x' });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** A Lambda context whose invocation has `ms` left: the claim's lease. */
const remaining = (ms: number) => ({ getRemainingTimeInMillis: () => ms });

/** What a test needs of one backend: options for makeIdempotent, and the raw record as the backend holds it. */
interface Backend {
  options(): Promise<IdempotencyOptions<ReturnType<typeof event>>>;
  record(id: string): Promise<{ status?: string; data?: string; notStored?: string; expiresAt?: number; heldUntil?: number } | undefined>;
}

const backends: Array<[string, () => Backend]> = [
  ['dynalite', () => {
    let table = '';
    return {
      async options() {
        table = await dynamo.createTable();
        return { table, client, scope: 'faults' };
      },
      async record(id) {
        const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }));
        if (!Item) return undefined;
        return {
          status: Item.status?.S,
          data: Item.data?.S,
          notStored: Item.result_not_stored?.S,
          expiresAt: Item.expiration?.N === undefined ? undefined : Number(Item.expiration.N),
          heldUntil: Item.held_until?.N === undefined ? undefined : Number(Item.held_until.N),
        };
      },
    };
  }],
  ['the in-memory store', () => {
    const store = new InMemoryIdempotencyStore();
    return {
      async options() {
        return { store, scope: 'faults' };
      },
      async record(id) {
        const r = store.get(id);
        return r && { status: r.status, data: r.data, notStored: r.resultNotStored, expiresAt: r.expiresAt, heldUntil: r.inProgressUntil };
      },
    };
  }],
];

function quietly<T>(run: (warn: jest.SpyInstance) => Promise<T>): Promise<T> {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  return run(warn).finally(() => warn.mockRestore());
}

const cycle = () => {
  const value: Record<string, unknown> = { order: 1 };
  value.self = value;
  return value;
};

describe.each(backends)('a result that cannot be stored, against %s', (_name, makeBackend) => {
  test.each([
    ['a BigInt', () => ({ charged: 10n }), /cannot be serialised as JSON: TypeError: .*BigInt/],
    ['a cycle', cycle, /cannot be serialised as JSON: TypeError: .*circular/i],
    ['a function', () => () => 'charged', /cannot be serialised as JSON: TypeError: a function has no JSON form/],
    ['over DynamoDB\'s 400 KB item limit', () => ({ blob: 'x'.repeat(420_000) }), /over the store's item limit of 409600 bytes/],
  ])('%s: the body runs once; the first caller gets the result, a duplicate after the lease gets IdempotencyResultNotStoredError', async (_label, make, reason) => {
    const backend = makeBackend();
    const key = freshKey();
    const id = `faults#${sha256(key)}`;
    const produced = make();
    let runs = 0;
    const handler = makeIdempotent(async () => {
      runs++;
      return produced;
    }, await backend.options());

    await quietly(async (warn) => {
      // A short lease: before the fix the claim stayed in progress and the body ran again once it lapsed.
      expect(await handler(event(key), remaining(50))).toBe(produced);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('the result was not stored'));
    });
    const record = await backend.record(id);
    expect(record).toMatchObject({ status: 'COMPLETED', data: undefined, notStored: expect.stringMatching(reason) });
    expect(Buffer.byteLength(JSON.stringify(record))).toBeLessThan(2_000);

    await sleep(80);
    const error = await handler(event(key), remaining(50)).catch((e: unknown) => e);
    expect(runs).toBe(1);
    expect(error).toBeInstanceOf(IdempotencyResultNotStoredError);
    expect(error).toMatchObject({ name: 'IdempotencyResultNotStoredError', recordId: id, key, reason: expect.stringMatching(reason) });
    expect((error as Error).message).toContain(`idempotency key ${JSON.stringify(key)} (record ${id}) was already used: the first call completed, but its result could not be stored`);
    expect((error as Error).message).toContain('Send a new key to repeat the operation');
    expect(idempotencyErrorResponse(error)).toMatchObject({ statusCode: 409, body: expect.stringContaining('IdempotencyResultNotStoredError') });
  });

  test('a storable result is still stored and replayed', async () => {
    const backend = makeBackend();
    const key = freshKey();
    let runs = 0;
    const handler = makeIdempotent(async () => ({ n: ++runs, blob: 'y'.repeat(300_000) }), await backend.options());
    const first = await handler(event(key));
    expect(await handler(event(key))).toEqual(first);
    expect(runs).toBe(1);
  });

  test('an expiresAfter shorter than the lease does not let the claim expire under the running call', async () => {
    const backend = makeBackend();
    const key = freshKey();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let runs = 0;
    const options = { ...(await backend.options()), expiresAfter: 1, inProgressTimeout: 60 };
    const handler = makeIdempotent(async () => {
      runs++;
      await gate;
      return 'done';
    }, options);
    const first = handler(event(key));
    await sleep(50);
    const claim = await backend.record(`faults#${sha256(key)}`);
    expect(claim?.status).toBe('INPROGRESS');
    expect(claim!.expiresAt! * 1000).toBeGreaterThanOrEqual(claim!.heldUntil!);

    await sleep(2_100); // past expiresAfter, well inside the 60 s lease
    const second = await handler(event(key)).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(IdempotencyInProgressError);
    expect(runs).toBe(1);
    release();
    expect(await first).toBe('done');
  });
});

describe('a record left by another version with an expiry shorter than its lease', () => {
  test('is reported as in progress, not as a storage error', async () => {
    const table = await dynamo.createTable();
    const key = freshKey();
    const now = Date.now();
    await client.send(new PutItemCommand({
      TableName: table,
      Item: {
        id: { S: `faults#${sha256(key)}` }, status: { S: 'INPROGRESS' }, claim_token: { S: 'other' },
        expiration: { N: String(Math.floor(now / 1000) - 10) }, held_until: { N: String(now + 60_000) },
      },
    }));
    const body = jest.fn(async () => 'ran');
    const error = await makeIdempotent(body, { table, client, scope: 'faults' })(event(key)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect(body).not.toHaveBeenCalled();
  });
});

/** A store over an in-memory one whose chosen calls do their work and then never answer. */
class HangingStore implements IdempotencyStore {
  public readonly inner = new InMemoryIdempotencyStore();
  public readonly signals: AbortSignal[] = [];
  constructor(private readonly hang: { claim?: 'after-write' | 'before-write'; complete?: boolean; release?: boolean }) {}

  async claim(request: ClaimRequest, options?: { signal?: AbortSignal }) {
    if (options?.signal) this.signals.push(options.signal);
    if (this.hang.claim === 'before-write') return new Promise<never>(() => undefined);
    const outcome = await this.inner.claim(request);
    if (this.hang.claim === 'after-write') return new Promise<never>(() => undefined);
    return outcome;
  }
  async complete(request: CompleteRequest) {
    if (this.hang.complete) return new Promise<never>(() => undefined);
    return this.inner.complete(request);
  }
  async release(id: string, token: string) {
    if (this.hang.release) return new Promise<never>(() => undefined);
    return this.inner.release(id, token);
  }
}

/** The call's outcome, or 'still waiting' if it has not settled within `ms`. */
async function within<T>(ms: number, call: Promise<T>): Promise<{ value?: T; error?: unknown } | 'still waiting'> {
  const settled = call.then((value) => ({ value }), (error: unknown) => ({ error }));
  // (unref: once the call has settled, the deadline's timer does not hold the jest worker open at the end of the run)
  const deadline = new Promise<'still waiting'>((resolve) => { setTimeout(() => resolve('still waiting'), ms).unref(); });
  return Promise.race([settled, deadline]);
}

describe('a store that never answers', () => {
  test.each([['after writing the claim', 'after-write'], ['before writing anything', 'before-write']] as const)(
    'a claim that hangs %s fails within storageTimeoutMs with an error naming the operation and the timeout, and leaves no record',
    async (_label, when) => {
      const store = new HangingStore({ claim: when });
      const body = jest.fn(async () => 'ran');
      const key = freshKey();
      const started = Date.now();
      const outcome = await within(3_000, makeIdempotent(body, { store, scope: 'faults', storageTimeoutMs: 150 })(event(key)));

      expect(outcome).not.toBe('still waiting');
      const error = (outcome as { error?: unknown }).error;
      expect(error).toBeInstanceOf(IdempotencyStorageTimeoutError);
      expect(error).toBeInstanceOf(IdempotencyStorageError);
      expect(error).toMatchObject({ operation: 'claim', timeoutMs: 150, recordId: `faults#${sha256(key)}` });
      expect((error as Error).message).toBe(`idempotency store did not answer the claim of record faults#${sha256(key)} within 150 ms (storageTimeoutMs)`);
      expect(Date.now() - started).toBeLessThan(1_500);
      expect(body).not.toHaveBeenCalled();
      // The claim that landed after the caller stopped waiting was taken back: nothing blocks a retry.
      expect(store.inner.size).toBe(0);
      expect(store.signals[0].aborted).toBe(true);
    },
  );

  test('a result store that hangs still returns the result within the deadline, with a warning naming the timeout', async () => {
    const store = new HangingStore({ complete: true });
    const body = jest.fn(async () => 'charged');
    await quietly(async (warn) => {
      const outcome = await within(3_000, makeIdempotent(body, { store, scope: 'faults', storageTimeoutMs: 150 })(event(freshKey())));
      expect(outcome).toEqual({ value: 'charged' });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('did not answer the complete of record'));
    });
    expect(body).toHaveBeenCalledTimes(1);
  });

  test('a release that hangs after the body failed still rethrows the body\'s error within the deadline', async () => {
    const store = new HangingStore({ release: true });
    const failure = new Error('payment declined');
    await quietly(async (warn) => {
      const outcome = await within(3_000, makeIdempotent(async () => { throw failure; }, { store, scope: 'faults', storageTimeoutMs: 150 })(event(freshKey())));
      expect(outcome).toEqual({ error: failure });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('"operation":"release"'));
    });
  });

  describe('DynamoDB behind a server that accepts connections and never answers', () => {
    let server: Server;
    let endpoint: string;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    test('the call is cut off at storageTimeoutMs and its request aborted', async () => {
      const hanging = dynamo.client({ endpoint });
      const send = jest.spyOn(hanging, 'send');
      const body = jest.fn(async () => 'ran');
      const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
      let outcome: unknown;
      let warned: unknown[][];
      try {
        outcome = await within(3_000, makeIdempotent(body, { table: 't', client: hanging, scope: 'faults', storageTimeoutMs: 200 })(event(freshKey())));
      } finally {
        warned = [...warn.mock.calls];
        warn.mockRestore();
      }
      expect(outcome).not.toBe('still waiting');
      expect((outcome as { error?: unknown }).error).toMatchObject({ name: 'IdempotencyStorageTimeoutError', operation: 'claim', timeoutMs: 200 });
      expect(body).not.toHaveBeenCalled();
      // The SDK was handed the deadline's signal, and it fired: the request is dropped, not left running.
      const signal = (send.mock.calls[0] as unknown[])[1] as { abortSignal?: AbortSignal } | undefined;
      expect(signal?.abortSignal?.aborted).toBe(true);
      await expect(send.mock.results[0].value).rejects.toMatchObject({ name: 'AbortError' });
      // Taking back the claim that may still have landed times out too (nothing ever answers): logged as a warning.
      expect(warned.map((args) => JSON.parse(String(args[0])))).toEqual([
        expect.objectContaining({ level: 'WARN', operation: 'release', error: expect.stringContaining('IdempotencyStorageTimeoutError') }),
      ]);
    });

    test('the client the library creates has its own HTTP timeouts, so it gives up even with a long deadline', async () => {
      const saved = { ...process.env };
      Object.assign(process.env, {
        AWS_ENDPOINT_URL_DYNAMODB: endpoint, AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_MAX_ATTEMPTS: '1',
      });
      try {
        const store = new DynamoDBIdempotencyStore({ tableName: 't' });
        const started = Date.now();
        const outcome = await within(6_000, makeIdempotent(async () => 'ran', { store, scope: 'faults', storageTimeoutMs: 60_000 })(event(freshKey())));
        expect(outcome).not.toBe('still waiting');
        const error = (outcome as { error?: unknown }).error;
        expect(error).toBeInstanceOf(IdempotencyStorageError);
        expect(error).not.toBeInstanceOf(IdempotencyStorageTimeoutError);
        expect(Date.now() - started).toBeGreaterThanOrEqual(1_900);
        store.client.destroy();
      } finally {
        for (const name of ['AWS_ENDPOINT_URL_DYNAMODB', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_MAX_ATTEMPTS']) {
          if (saved[name] === undefined) delete process.env[name];
          else process.env[name] = saved[name];
        }
      }
    });
  });
});

describe('makeIdempotent options are checked when the handler is built', () => {
  test.each([
    [{ storageTimeoutMs: 0 }, 'storageTimeoutMs must be a whole number of milliseconds from 1 to 900000, got: 0'],
    [{ storageTimeoutMs: '5000' }, 'storageTimeoutMs must be a whole number of milliseconds from 1 to 900000, got: "5000"'],
    [{ requireKey: 'no' }, 'requireKey must be true or false, got: "no"'],
    [{ table: 42, store: undefined }, 'table must be a non-empty string, got: 42'],
    [{ payloadValidation: '$.body[x' }, 'invalid JSON path "$.body[x": unclosed ['],
    [{ payloadValidation: 1 }, 'payloadValidation must be true, false, a JSON path or a function, got: 1'],
    [{ store: { claim: async () => ({ claimed: true }) } }, 'store must implement claim, complete and release (missing complete, release)'],
    [{ scope: 7 }, 'scope must be 1 to 512 characters, got: 7'],
    [{ fence: { partition: '$.p', releaseId: 3 } }, 'fence.releaseId must be a non-empty string, got: 3'],
  ])('%j is rejected, naming the option and the value', (extra, message) => {
    const build = () => makeIdempotent(async () => 1, { store: new InMemoryIdempotencyStore(), ...(extra as object) } as IdempotencyOptions<unknown>);
    expect(build).toThrow(IdempotencyConfigurationError);
    expect(build).toThrow(message);
  });
});
