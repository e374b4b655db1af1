import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  fenceKey,
  fenceMiddleware,
  FenceHeldError,
  FenceKeyError,
  IdempotencyConfigurationError,
  IdempotencyInProgressError,
  IdempotencyShadowModeError,
  IdempotencyStorageError,
  idempotencyErrorResponse,
  makeFence,
  type FenceOptions,
  type MiddlewareRequest,
} from '../packages/runtime/src';
import { sha256 } from '../packages/runtime/src/idempotency/keys';
import { startDynalite, type LocalDynamo } from './helpers/dynalite';

const ENV = ['RELEASE_ID', 'AWS_LAMBDA_FUNCTION_NAME', 'GUARDRAILS_SHADOW_MODE'] as const;
const saved: Record<string, string | undefined> = {};
beforeEach(() => {
  for (const name of ENV) {
    saved[name] = process.env[name];
    delete process.env[name];
  }
});
afterEach(() => {
  for (const name of ENV) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** What an error thrown by `fn` is (fails the test if nothing is thrown). */
function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('fenceKey', () => {
  test('is the same for the same input, readable and ASCII', () => {
    const key = fenceKey({ partition: 'orders-7', releaseId: '2026-11-26.3', scope: 'reindex' });
    expect(key).toBe('fence:reindex:orders-7:2026-11-26.3');
    expect(fenceKey({ scope: 'reindex', releaseId: '2026-11-26.3', partition: 'orders-7' })).toBe(key);
  });

  test('defaults the release to RELEASE_ID and the scope to the function name', () => {
    process.env.RELEASE_ID = 'r42';
    process.env.AWS_LAMBDA_FUNCTION_NAME = 'consumer';
    expect(fenceKey({ partition: 'p' })).toBe(fenceKey({ partition: 'p', releaseId: 'r42', scope: 'consumer' }));
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    expect(fenceKey({ partition: 'p' })).toBe('fence:default:p:r42');
  });

  test('without a release given or in RELEASE_ID, throws an error naming RELEASE_ID and releaseId', () => {
    const error = thrown(() => fenceKey({ partition: 'p' }));
    expect(error).toBeInstanceOf(FenceKeyError);
    expect(error.input).toBe('RELEASE_ID');
    expect(error.message).toMatch(/RELEASE_ID is not set and no releaseId was given/);
    process.env.RELEASE_ID = '';
    expect(thrown(() => fenceKey({ partition: 'p' })).input).toBe('RELEASE_ID');
    process.env.RELEASE_ID = '   ';
    expect(thrown(() => fenceKey({ partition: 'p' })).message).toMatch(/RELEASE_ID must not be blank/);
  });

  test.each([
    ['an empty partition', { partition: '' }, 'partition', /must not be blank/],
    ['a blank partition', { partition: ' \t\n' }, 'partition', /must not be blank/],
    ['no partition', {}, 'partition', /must be a string, got: undefined/],
    ['a number as partition', { partition: 7 }, 'partition', /must be a string, got: 7/],
    ['an empty releaseId', { partition: 'p', releaseId: '' }, 'releaseId', /must not be blank/],
    ['a blank scope', { partition: 'p', releaseId: 'r', scope: ' ' }, 'scope', /must not be blank/],
    ['a lone surrogate', { partition: 'a\uD800b', releaseId: 'r' }, 'partition', /well-formed Unicode/],
  ])('rejects %s, naming the input', (_name, input, name, message) => {
    const error = thrown(() => fenceKey({ releaseId: 'r', ...(input as object) } as never));
    expect(error).toBeInstanceOf(FenceKeyError);
    expect(error.input).toBe(name);
    expect(error.message).toMatch(message);
  });

  test('never gives two different (scope, partition, release) the same key, separators and escapes included', () => {
    const fragments = ['', 'a', ':', '::', '%', '%3A', '%253A', 'a:b', 'b', 'fence', '|', '#', '/', ' ', '\u0000', 'é', 'e\u0301', '😀', '%F0%9F%98%80'];
    const words = fragments.flatMap((x) => fragments.map((y) => x + y)).filter((w) => /\S/.test(w));
    const partitions = [...new Set(words)];
    const releases = [...new Set(['r', 'a:b', 'b', ':b', 'a:', '%3A', partitions[partitions.length - 1]])];
    const scopes = ['s', 's:a', 'a', 's%3A'];
    const seen = new Map<string, string>();
    const collisions: string[] = [];
    const malformed: string[] = [];
    for (const partition of partitions) {
      for (const releaseId of releases) {
        for (const scope of scopes) {
          const key = fenceKey({ partition, releaseId, scope });
          const input = JSON.stringify([scope, partition, releaseId]);
          const before = seen.get(key);
          if (before !== undefined) collisions.push(`${before} and ${input} give ${key}`);
          seen.set(key, input);
          if (key.split(':').length !== 4 || !/^[\x21-\x7e]+$/.test(key)) malformed.push(key);
        }
      }
    }
    expect(collisions).toEqual([]);
    expect(malformed).toEqual([]);
    expect(seen.size).toBe(partitions.length * releases.length * scopes.length);
  });

  test('the classic separator collisions are apart', () => {
    expect(fenceKey({ partition: 'a:b', releaseId: 'c', scope: 's' })).not.toBe(fenceKey({ partition: 'a', releaseId: 'b:c', scope: 's' }));
    expect(fenceKey({ partition: 'b', releaseId: 'c', scope: 's:a' })).not.toBe(fenceKey({ partition: 'a:b', releaseId: 'c', scope: 's' }));
    expect(fenceKey({ partition: '%3A', releaseId: 'r', scope: 's' })).not.toBe(fenceKey({ partition: ':', releaseId: 'r', scope: 's' }));
  });

  test('takes unicode as it is: no normalisation, so composed and decomposed are two partitions', () => {
    const composed = fenceKey({ partition: 'caf\u00e9', releaseId: 'r', scope: 's' });
    const decomposed = fenceKey({ partition: 'cafe\u0301', releaseId: 'r', scope: 's' });
    expect(composed).toBe('fence:s:caf%C3%A9:r');
    expect(decomposed).not.toBe(composed);
    expect(fenceKey({ partition: '分区-😀', releaseId: 'r', scope: 's' })).toBe(`fence:s:${encodeURIComponent('分区-😀')}:r`);
  });
});

describe('makeFence against dynalite', () => {
  let dynamo: LocalDynamo;
  let client: DynamoDBClient;
  let table: string;
  let scopeCounter = 0;
  let scope: string;

  beforeAll(async () => {
    dynamo = await startDynalite();
    client = dynamo.client();
    table = await dynamo.createTable();
  });
  afterAll(async () => {
    await dynamo.stop();
  });
  beforeEach(() => {
    scope = `job-${++scopeCounter}`;
  });

  const options = (extra: Partial<FenceOptions> = {}): FenceOptions => ({ table, client, scope, ...extra });
  const contextWith = (remainingMs: number) => {
    const end = Date.now() + remainingMs;
    return { getRemainingTimeInMillis: () => end - Date.now() };
  };

  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => {
      open = resolve;
    });
    return { opened, open };
  }

  async function readRecord(key: string) {
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: `${scope}#fence#${sha256(key)}` } }, ConsistentRead: true }));
    return Item;
  }

  test('two concurrent callers: one runs the work, the other gets FenceHeldError with the key and until when', async () => {
    const fence = makeFence(options({ releaseId: 'r1' }));
    const { opened, open } = gate();
    const work = jest.fn(async () => {
      await opened;
      return { rows: 12 };
    });

    const calls = [fence({ partition: 'p1' }, work), fence({ partition: 'p1' }, work)].map((call) => call.then((value) => ({ value }), (error) => ({ error })));
    const first = await Promise.race(calls);
    open();
    const settled = await Promise.all(calls);

    expect(work).toHaveBeenCalledTimes(1);
    const error = (first as { error?: any }).error;
    expect(error).toBeInstanceOf(FenceHeldError);
    expect(error).toBeInstanceOf(IdempotencyInProgressError);
    expect(error.key).toBe('fence:' + scope + ':p1:r1');
    expect(error.recordId).toBe(`${scope}#fence#${sha256(error.key)}`);
    expect(error.heldUntil.getTime()).toBeGreaterThan(Date.now() + 800_000); // no context: inProgressTimeout, 900 s
    expect(error.message).toMatch(/is held by another call until .* at the latest/);
    expect(idempotencyErrorResponse(error)?.statusCode).toBe(409);
    expect(settled.filter((s) => 'value' in s)).toEqual([{ value: { key: error.key, ran: true, result: { rows: 12 } } }]);
    expect((await readRecord(error.key))?.status).toEqual({ S: 'COMPLETED' });
  });

  test('after completion a later caller gets the recorded result without running the work', async () => {
    const fence = makeFence(options({ releaseId: 'r1' }));
    const work = jest.fn(async () => ({ at: new Date(0), n: 1 }));
    const firstOutcome = await fence({ partition: 'p1' }, work);
    const thirdOutcome = await fence({ partition: 'p1' }, work);

    expect(work).toHaveBeenCalledTimes(1);
    expect(firstOutcome.ran).toBe(true);
    expect(thirdOutcome).toEqual({ key: firstOutcome.key, ran: false, result: { at: '1970-01-01T00:00:00.000Z', n: 1 } });
    // Another runner on the same table and scope (the other version of the function) sees the same record.
    const other = makeFence(options());
    expect(await other({ partition: 'p1', releaseId: 'r1' }, work)).toMatchObject({ ran: false });
    expect(work).toHaveBeenCalledTimes(1);
  });

  test('a different release for the same partition is a different fence: it runs again, once', async () => {
    const fence = makeFence(options());
    const work = jest.fn(async () => 'drained');
    process.env.RELEASE_ID = 'old';
    expect((await fence({ partition: 'p1' }, work)).ran).toBe(true);
    process.env.RELEASE_ID = 'new';
    expect((await fence({ partition: 'p1' }, work)).ran).toBe(true);
    expect((await fence({ partition: 'p1' }, work)).ran).toBe(false);
    expect((await fence({ partition: 'p1', releaseId: 'old' }, work)).ran).toBe(false);
    expect(work).toHaveBeenCalledTimes(2);
  });

  test('work that throws: the claim is released and the error rethrown, so the next caller runs the work', async () => {
    const fence = makeFence(options({ releaseId: 'r1' }));
    const failure = new Error('downstream unavailable');
    const work = jest.fn().mockRejectedValueOnce(failure).mockResolvedValueOnce('second try');

    await expect(fence({ partition: 'p1' }, work)).rejects.toBe(failure);
    expect(await readRecord(fenceKey({ partition: 'p1', releaseId: 'r1', scope }))).toBeUndefined();
    expect(await fence({ partition: 'p1' }, work)).toMatchObject({ ran: true, result: 'second try' });
    expect(work).toHaveBeenCalledTimes(2);
  });

  test('a lease that ran out (a holder that crashed or timed out) is taken over, and the late holder overwrites nothing', async () => {
    const fence = makeFence(options({ releaseId: 'r1' }));
    const { opened, open } = gate();
    const started = gate();
    const stuck = jest.fn(async () => {
      started.open();
      await opened;
      return 'late';
    });
    // The first holder's invocation has 600 ms left: its lease ends then.
    const context = contextWith(600);
    const leaseEnd = Date.now() + context.getRemainingTimeInMillis();
    const late = fence({ partition: 'p1' }, stuck, context);
    await started.opened;
    await expect(fence({ partition: 'p1' }, async () => 'never')).rejects.toBeInstanceOf(FenceHeldError);
    await new Promise((resolve) => setTimeout(resolve, leaseEnd + 50 - Date.now()));

    const takeover = await fence({ partition: 'p1' }, async () => 'taken over', contextWith(10_000));
    expect(takeover).toMatchObject({ ran: true, result: 'taken over' });

    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      open();
      expect(await late).toMatchObject({ ran: true, result: 'late' });
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('the claim lapsed and another call took the key'));
    } finally {
      warn.mockRestore();
    }
    expect(await fence({ partition: 'p1' }, stuck)).toMatchObject({ ran: false, result: 'taken over' });
    expect(stuck).toHaveBeenCalledTimes(1);
  });

  test('holds only while the record lives: after expiresAfter the same key runs again', async () => {
    const fence = makeFence(options({ releaseId: 'r1', expiresAfter: 1 }));
    const work = jest.fn(async () => 'done');
    await fence({ partition: 'p1' }, work);
    expect((await fence({ partition: 'p1' }, work)).ran).toBe(false);
    const expiresAt = Number((await readRecord(fenceKey({ partition: 'p1', releaseId: 'r1', scope })))?.expiration?.N);
    await new Promise((resolve) => setTimeout(resolve, expiresAt * 1000 + 20 - Date.now()));
    expect((await fence({ partition: 'p1' }, work)).ran).toBe(true);
    expect(work).toHaveBeenCalledTimes(2);
  });

  test('fence records live apart from makeIdempotent records of the same scope', async () => {
    const key = fenceKey({ partition: 'p1', releaseId: 'r1', scope });
    await makeFence(options({ releaseId: 'r1' }))({ partition: 'p1' }, async () => 1);
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: `${scope}#${sha256(key)}` } }, ConsistentRead: true }));
    expect(Item).toBeUndefined();
  });

  test('the work does not run when the store cannot be written, nor in shadow mode', async () => {
    const work = jest.fn(async () => 1);
    await expect(makeFence(options({ table: 'no-such-table', releaseId: 'r1' }))({ partition: 'p1' }, work)).rejects.toBeInstanceOf(IdempotencyStorageError);
    process.env.GUARDRAILS_SHADOW_MODE = 'true';
    await expect(makeFence(options({ releaseId: 'r1' }))({ partition: 'p1' }, work)).rejects.toBeInstanceOf(IdempotencyShadowModeError);
    expect(work).not.toHaveBeenCalled();
  });

  test('checks its options when made, and its inputs per call', async () => {
    expect(() => makeFence(options({ releaseId: ' ' }))).toThrow(FenceKeyError);
    expect(() => makeFence(options({ scope: '' }))).toThrow(FenceKeyError);
    expect(() => makeFence(options({ expiresAfter: 0 }))).toThrow(IdempotencyConfigurationError);
    const fence = makeFence(options());
    await expect(fence({ partition: 'p1' }, async () => 1)).rejects.toMatchObject({ name: 'FenceKeyError', input: 'RELEASE_ID' });
    await expect(fence({ partition: '', releaseId: 'r' }, async () => 1)).rejects.toMatchObject({ input: 'partition' });
    await expect(fence({ partition: 'p', releaseId: 'r' }, 'work' as never)).rejects.toBeInstanceOf(IdempotencyConfigurationError);
  });

  describe('fenceMiddleware', () => {
    type Job = { partition: string };
    const request = (event: Job): MiddlewareRequest<Job> => ({ event, context: contextWith(10_000), response: undefined, error: undefined, internal: {} });

    test('claims in before, records in after, answers a later invocation with the recorded response', async () => {
      const middleware = fenceMiddleware<Job>({ ...options({ releaseId: 'r1' }), partition: (event: Job) => event.partition });
      const first = request({ partition: 'p9' });
      expect(await middleware.before!(first)).toBeUndefined();

      const concurrent = request({ partition: 'p9' });
      await expect(middleware.before!(concurrent)).rejects.toBeInstanceOf(FenceHeldError);

      first.response = { processed: 3 };
      await middleware.after!(first);
      const later = request({ partition: 'p9' });
      expect(await middleware.before!(later)).toEqual({ processed: 3 });
      expect(later.earlyResponse).toEqual({ processed: 3 });
    });

    test('releases the claim in onError, so the next invocation runs', async () => {
      const middleware = fenceMiddleware<Job>({ ...options({ releaseId: 'r1' }), partition: (event: Job) => event.partition });
      const failed = request({ partition: 'p9' });
      await middleware.before!(failed);
      failed.error = new Error('boom');
      await middleware.onError!(failed);
      expect(await middleware.before!(request({ partition: 'p9' }))).toBeUndefined();
    });

    test('needs a partition function', () => {
      expect(() => fenceMiddleware(options() as never)).toThrow(/options.partition/);
    });
  });
});
