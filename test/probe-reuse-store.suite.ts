// The answer table behind reuseCurrentAnswers, on dynalite (a real DynamoDB implementation on loopback): the
// store's reads and writes, and the probe's hook handler recording the current version's answers in a
// deployment's first run and reading them in the next, each run a separate handler (no state in the process).
import { execFileSync } from 'child_process';
import * as path from 'path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { BatchGetItemCommand, BatchWriteItemCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import { answerItemKey, dynamoAnswerStore, MAX_ITEM_BYTES } from '../lambdas/probe/answer-store';
import { createHookHandler } from '../lambdas/probe/hook';
import { ReuseScope } from '../lambdas/probe/reuse';
import { GoldItem } from '../packages/runtime/src/contract/gold-set';
import { DEFAULT_PROBE_GATES, DEFAULT_REQUEST_TEMPLATE, PROBE_ANSWERS_TTL_SECONDS, ProbeConfig } from '../packages/runtime/src/contract/probe';
import { LocalDynamo, startDynalite } from './helpers/dynalite';

let dynamo: LocalDynamo;
beforeAll(async () => { dynamo = await startDynalite(); });
afterAll(async () => { await dynamo.stop(); });

const scope: ReuseScope = { deploymentId: 'd-ABCDEFGHI', functionName: 'svc', alias: 'live', currentVersion: '7' };
const T0 = Date.UTC(2026, 10, 27, 1, 0, 0);

describe('the answer table (dynalite)', () => {
  test('writes one item per question under the deployment, reads them back strongly consistent, and nothing of another deployment', async () => {
    const table = await dynamo.createTable();
    const client = dynamo.client();
    const store = dynamoAnswerStore(() => client, table);
    const questions = Array.from({ length: 130 }, (_, i) => ({ id: `q|${i}`, fingerprint: `f${i}`, answers: { '0/0': `answer ${i}`, '1/1': `other ${i}` } }));
    expect(await store.write(scope, questions, T0)).toEqual({ notStored: 0 });
    const stored = await client.send(new GetItemCommand({ TableName: table, Key: { id: { S: answerItemKey(scope, 'q|5') } } }));
    expect(stored.Item).toMatchObject({ question: { S: 'q|5' }, fingerprint: { S: 'f5' }, expiresAt: { N: String(T0 / 1000 + PROBE_ANSWERS_TTL_SECONDS) } });
    expect(answerItemKey(scope, 'q|5')).toBe('d-ABCDEFGHI|svc|live|7|q%7C5');

    const read = await store.read(scope, questions.map((q) => q.id), T0 + 60_000);
    expect(read).toHaveLength(130); // two BatchGetItem calls of at most 100 keys
    expect(read.find((q) => q.id === 'q|129')).toEqual({ id: 'q|129', fingerprint: 'f129', answers: { '0/0': 'answer 129', '1/1': 'other 129' } });
    expect(await store.read({ ...scope, deploymentId: 'd-OTHER0000' }, ['q|1'], T0)).toEqual([]);
    expect(await store.read({ ...scope, currentVersion: '6' }, ['q|1'], T0)).toEqual([]);
  });

  test('ignores items past their expiry, which DynamoDB\'s TTL deletes only later', async () => {
    const table = await dynamo.createTable();
    const store = dynamoAnswerStore(() => dynamo.client(), table);
    await store.write(scope, [{ id: 'a', fingerprint: 'f', answers: { '0/0': 'x' } }], T0);
    expect(await store.read(scope, ['a'], T0 + (PROBE_ANSWERS_TTL_SECONDS - 1) * 1000)).toHaveLength(1);
    expect(await store.read(scope, ['a'], T0 + PROBE_ANSWERS_TTL_SECONDS * 1000)).toEqual([]);
  });

  test('does not store a question whose answers would pass DynamoDB\'s 400 KB item limit, and says so', async () => {
    const table = await dynamo.createTable();
    const store = dynamoAnswerStore(() => dynamo.client(), table);
    const huge = { id: 'big', fingerprint: 'f', answers: { '0/0': 'x'.repeat(MAX_ITEM_BYTES) } };
    expect(await store.write(scope, [huge, { id: 'small', fingerprint: 'f', answers: { '0/0': 'y' } }], T0))
      .toEqual({ notStored: 1, reason: `answers over ${MAX_ITEM_BYTES} bytes` });
    expect((await store.read(scope, ['big', 'small'], T0)).map((q) => q.id)).toEqual(['small']);
  });

  test('a table that does not exist throws on read (the run then falls back and says why)', async () => {
    const store = dynamoAnswerStore(() => dynamo.client(), 'no-such-table');
    await expect(store.read(scope, ['a'], T0)).rejects.toThrow(/non-existent table|not found/i);
  });
});

describe('unprocessed keys and items', () => {
  // Mocked only here: the other suites of this file talk to dynalite.
  let ddb: ReturnType<typeof mockClient>;
  beforeAll(() => { ddb = mockClient(DynamoDBClient); });
  afterAll(() => ddb.restore());

  test('are asked again with a back-off, then counted as not found or not stored', async () => {
    const item = { id: { S: answerItemKey(scope, 'a') }, fingerprint: { S: 'f' }, answers: { S: '{"0/0":"x"}' }, expiresAt: { N: String(T0 / 1000 + 60) } };
    const keyB = { id: { S: answerItemKey(scope, 'b') } };
    ddb.on(BatchGetItemCommand).resolvesOnce({ Responses: { T: [item] }, UnprocessedKeys: { T: { Keys: [keyB], ConsistentRead: true } } })
      .resolves({ Responses: { T: [] }, UnprocessedKeys: { T: { Keys: [keyB], ConsistentRead: true } } });
    ddb.on(BatchWriteItemCommand).callsFake(async (input: any) => ({ UnprocessedItems: { T: input.RequestItems.T.slice(0, 1) } }));
    const waits: number[] = [];
    const store = dynamoAnswerStore(() => new DynamoDBClient({ region: 'eu-west-1' }), 'T', { sleep: async (ms) => { waits.push(ms); } });
    expect(await store.read(scope, ['a', 'b'], T0)).toEqual([{ id: 'a', fingerprint: 'f', answers: { '0/0': 'x' } }]);
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(4);
    expect(ddb.commandCalls(BatchGetItemCommand)[0].args[0].input.RequestItems!.T.ConsistentRead).toBe(true);
    expect(await store.write(scope, [{ id: 'a', fingerprint: 'f', answers: {} }, { id: 'b', fingerprint: 'f', answers: {} }], T0))
      .toEqual({ notStored: 1, reason: 'unprocessed after 4 attempts' });
    expect(waits).toEqual([100, 200, 400, 100, 200, 400]);
  });
});

describe('the hook handler across runs of one deployment', () => {
  const lambda = mockClient(LambdaClient);
  const codedeploy = mockClient(CodeDeployClient);
  const cloudwatch = mockClient(CloudWatchClient);
  afterAll(() => { lambda.restore(); codedeploy.restore(); cloudwatch.restore(); });

  const gold: GoldItem[] = Array.from({ length: 10 }, (_, i) => ({
    id: `q${i}`, question: `What is item ${i}?`, paraphrases: [`Explain item ${i}.`, `Describe item ${i}.`], target: `Item ${i} is the ${i}th thing of the corpus.`,
  }));
  const config: ProbeConfig = {
    requestTemplate: DEFAULT_REQUEST_TEMPLATE, answerPointer: '/answer', seeds: 2, concurrency: 4, invokeTimeoutMs: 1000,
    budgetMs: 60_000, metricNamespace: 'Test', gates: DEFAULT_PROBE_GATES, reuseCurrentAnswers: true,
  };
  /** 10 questions × 3 wordings × 2 seeds. */
  const PER_SIDE = 60;
  const event = { functionName: 'svc', alias: 'live', currentVersion: '7', targetVersion: '8', deploymentId: 'd-ABCDEFGHI' };

  beforeEach(() => {
    lambda.reset();
    codedeploy.reset();
    cloudwatch.reset();
    cloudwatch.on(PutMetricDataCommand).resolves({});
    lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
      const request = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      const answer = gold.find((g) => [g.question, ...g.paraphrases].includes(request.question))!.target;
      return { StatusCode: 200, Payload: Buffer.from(JSON.stringify({ answer })) as never, LogResult: Buffer.from('REPORT RequestId: r\tDuration: 20.00 ms').toString('base64') };
    });
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  /** A fresh handler per run, as a new execution environment would be: nothing carries over but the table. */
  const handlerFor = (table: string) => createHookHandler({
    load: () => ({ config, gold }),
    lambda: new LambdaClient({ region: 'eu-west-1' }),
    codedeploy: new CodeDeployClient({ region: 'eu-west-1' }),
    cloudwatch: new CloudWatchClient({ region: 'eu-west-1' }),
    answers: dynamoAnswerStore(() => dynamo.client(), table),
    log: () => undefined,
  });
  const invokedVersions = () => lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input.Qualifier);
  const count = (version: string) => invokedVersions().filter((v) => v === version).length;

  test('the first run records the current version\'s answers; the next reads them and invokes the current version only for its latency sample', async () => {
    const table = await dynamo.createTable();
    const first = await handlerFor(table)(event);
    expect(first.status).toBe('Succeeded');
    expect((first.report as any).reuse).toMatchObject({ status: 'none-recorded', recorded: PER_SIDE });
    expect([count('8'), count('7')]).toEqual([PER_SIDE, PER_SIDE]);

    lambda.resetHistory();
    const canary = await handlerFor(table)({ ...event, questionLimit: 4 });
    expect(canary.status).toBe('Succeeded');
    // 4 questions × 6 samples = 24 a version; the current version only for max(20, ceil(24 / 4)) = 20 of them.
    expect([count('8'), count('7')]).toEqual([24, 20]);
    expect((canary.report as any).reuse).toMatchObject({ status: 'reused', reused: 4, invoked: 20, checked: 20, mismatches: 0 });
  });

  test('a direct run without deploymentId reuses nothing; a bad deploymentId is refused, naming the field and the value', async () => {
    const table = await dynamo.createTable();
    const { deploymentId: _d, ...anonymous } = event;
    const result = await handlerFor(table)(anonymous);
    expect((result.report as any).reuse).toMatchObject({ status: 'no-deployment', invoked: PER_SIDE });
    await expect(handlerFor(table)({ ...event, deploymentId: 'd-1 ; drop' })).rejects.toThrow('deploymentId must be a CodeDeploy deployment id (letters, digits, - and _, at most 128) or null, got: "d-1 ; drop"');
  });

  test('a missing table falls back to invoking the current version, and the run still passes', async () => {
    const result = await handlerFor('no-such-table')(event);
    expect(result.status).toBe('Succeeded');
    expect((result.report as any).reuse.status).toBe('unreadable');
    expect((result.report as any).reuse.note).toMatch(/^the recorded answers could not be read \(.*\): the current version was invoked for every sample; recording failed/);
    expect([count('8'), count('7')]).toEqual([PER_SIDE, PER_SIDE]);
  });
});

describe('the bundled probe', () => {
  test('loads no DynamoDB client until it has an answer table to use (a probe without reuse starts no slower)', () => {
    const bundle = path.join(__dirname, '..', 'assets', 'probe', 'index.js');
    const script = `require(${JSON.stringify(bundle)}); process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('client-dynamodb'))));`;
    const loaded = (env: Record<string, string>) => execFileSync(process.execPath, ['-e', script], { cwd: path.join(__dirname, '..'), env: { ...process.env, AWS_REGION: 'eu-west-1', ...env } }).toString();
    expect(loaded({})).toBe('false');
    expect(loaded({ GUARDRAILS_PROBE_ANSWERS_TABLE: 'answers' })).toBe('false');
  });
});
