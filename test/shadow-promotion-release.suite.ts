// The release of each replay, as the dispatcher's handler learns it: GetFunctionConfiguration on the shadow version
// that answered (Qualifier = the invoke's ExecutedVersion), read once per version for the life of the process;
// a failed read keeps the result row and leaves the replay out of the summaries. The SDK is mocked.
import { gzipSync } from 'zlib';
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import { DISPATCHER_ENV as ENV } from '../packages/runtime/src/contract/shadow';
import { shadowTap } from '../packages/runtime/src/shadow';
import { handler, resetForTests } from '../lambdas/mirror-dispatcher';
import { FAILED_READ_RETRY_MS, MOVABLE_RELEASE_TTL_MS, ReleaseLookup, qualifierOf, unqualifiedArn } from '../lambdas/mirror-dispatcher/release';
import { ANSWER_SCHEMA_ENV } from '../lambdas/mirror-dispatcher/schema';

const ANSWER = 'A canary release sends a small share of traffic to the new version and watches its alarms.';
const SHADOW_ALIAS_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:shadow:candidate';
const SHADOW_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:shadow';

function delivery(ids: string[]): { awslogs: { data: string } } {
  const lines: string[] = [];
  const tapped = shadowTap(() => ({ statusCode: 200, body: JSON.stringify({ answer: ANSWER }) }), { sampleRate: 1, log: (l) => lines.push(l) });
  for (const id of ids) {
    tapped({
      resource: '/answer', path: '/answer', httpMethod: 'GET', headers: {}, queryStringParameters: null, multiValueQueryStringParameters: null,
      pathParameters: null, requestContext: { requestId: id, stage: 'prod' }, body: null, isBase64Encoded: false,
    }, {});
  }
  const message = { messageType: 'DATA_MESSAGE', logGroup: '/aws/lambda/live', logEvents: lines.map((m, i) => ({ id: String(i), timestamp: i, message: m })) };
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(message))).toString('base64') } };
}

const answer = (version: string): any => ({ StatusCode: 200, ExecutedVersion: version, Payload: Buffer.from(JSON.stringify({ statusCode: 200, body: JSON.stringify({ answer: ANSWER }) })) });
const configuration = (releaseId?: string): any => ({ Environment: { Variables: releaseId ? { RELEASE_ID: releaseId } : { OTHER: '1' } } });

const lambdaMock = mockClient(LambdaClient);
const dynamoMock = mockClient(DynamoDBClient);

function emf(log: jest.SpyInstance): any {
  return log.mock.calls.map(([l]) => String(l)).filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l)).find((d) => d.MirrorSeen !== undefined);
}

describe('the dispatcher handler learns each replay\'s release', () => {
  let log: jest.SpyInstance;

  beforeEach(() => {
    resetForTests();
    lambdaMock.reset();
    dynamoMock.reset();
    dynamoMock.on(PutItemCommand).resolves({});
    dynamoMock.on(UpdateItemCommand).resolves({});
    Object.assign(process.env, {
      [ENV.shadowFunction]: SHADOW_ALIAS_ARN,
      [ENV.resultsTable]: 'results',
      [ENV.shadowName]: 'Demo/ShadowAnswer',
      [ENV.maxMirrorRps]: '100',
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
    for (const name of [...Object.values(ENV), ANSWER_SCHEMA_ENV]) delete process.env[name];
  });

  const summaryCalls = () => dynamoMock.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);

  test('reads each version\'s configuration once for the life of the process, by its ExecutedVersion on the unqualified function', async () => {
    lambdaMock.on(InvokeCommand).resolvesOnce(answer('8')).resolvesOnce(answer('9')).resolves(answer('8'));
    lambdaMock.on(GetFunctionConfigurationCommand, { Qualifier: '8' }).resolves(configuration('rel-a'));
    lambdaMock.on(GetFunctionConfigurationCommand, { Qualifier: '9' }).resolves(configuration('rel-b'));
    await handler(delivery(['a-1', 'a-2', 'a-3']));
    await handler(delivery(['a-4', 'a-5']));
    const reads = lambdaMock.commandCalls(GetFunctionConfigurationCommand).map((c) => c.args[0].input);
    expect(reads).toEqual([{ FunctionName: SHADOW_ARN, Qualifier: '8' }, { FunctionName: SHADOW_ARN, Qualifier: '9' }]);
    const byRelease = Object.fromEntries(summaryCalls().map((u) => [u.Key!.shadow_id.S, u.ExpressionAttributeValues![':c0'].N]));
    // The first delivery: rel-a twice, rel-b once; the second: rel-a twice.
    expect(summaryCalls()).toHaveLength(3);
    expect(byRelease['release#rel-b']).toBe('1');
    const rows = dynamoMock.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item!);
    expect(rows.map((r) => [r.shadow_id.S, r.shadow_release_id?.S])).toEqual(expect.arrayContaining([['a-1', 'rel-a'], ['a-2', 'rel-b'], ['a-5', 'rel-a']]));
    expect(emf(log)).toMatchObject({ UnreleasedReplays: 0, SummaryWriteErrors: 0 });
  });

  test('a failed read keeps every result row, leaves the replays out of the summaries, counts and logs them', async () => {
    lambdaMock.on(InvokeCommand).resolves(answer('8'));
    lambdaMock.on(GetFunctionConfigurationCommand).rejects(Object.assign(new Error('User is not authorized to perform: lambda:GetFunctionConfiguration'), { name: 'AccessDeniedException' }));
    const metrics = await handler(delivery(['f-1', 'f-2']));
    expect(dynamoMock.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item!.shadow_id.S).sort()).toEqual(['f-1', 'f-2']);
    expect(summaryCalls()).toEqual([]);
    expect(metrics.unreleasedReplays).toBe(2);
    expect(emf(log)).toMatchObject({ UnreleasedReplays: 2, MirrorReplayed: 2 });
    // Both replays shared the one failed read, and it is said once.
    expect(lambdaMock.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(1);
    const warnings = log.mock.calls.map(([l]) => String(l)).filter((l) => l.includes('RELEASE_ID'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('AccessDeniedException');
  });

  test('a version without RELEASE_ID is counted as UnreleasedReplays', async () => {
    lambdaMock.on(InvokeCommand).resolves(answer('8'));
    lambdaMock.on(GetFunctionConfigurationCommand).resolves(configuration(undefined));
    const metrics = await handler(delivery(['n-1']));
    expect(metrics.unreleasedReplays).toBe(1);
    expect(summaryCalls()).toEqual([]);
    expect(dynamoMock.commandCalls(PutItemCommand)).toHaveLength(1);
  });

  test('a replay that got no answer is charged to what the dispatcher invokes: the alias in the shadow ARN', async () => {
    lambdaMock.on(InvokeCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    lambdaMock.on(GetFunctionConfigurationCommand).resolves(configuration('rel-a'));
    await handler(delivery(['x-1']));
    expect(lambdaMock.commandCalls(GetFunctionConfigurationCommand)[0].args[0].input).toEqual({ FunctionName: SHADOW_ARN, Qualifier: 'candidate' });
    expect(summaryCalls()[0]).toMatchObject({ Key: { shadow_id: { S: 'release#rel-a' } }, ExpressionAttributeNames: { '#c2': 'shadow_errors' }, ExpressionAttributeValues: { ':c2': { N: '1' } } });
  });

  test('a summary that cannot be updated is counted; the rows are already stored', async () => {
    lambdaMock.on(InvokeCommand).resolves(answer('8'));
    lambdaMock.on(GetFunctionConfigurationCommand).resolves(configuration('rel-a'));
    dynamoMock.on(UpdateItemCommand).rejects(new Error('ProvisionedThroughputExceededException'));
    const metrics = await handler(delivery(['s-1']));
    expect(metrics.summaryWriteErrors).toBe(1);
    expect(emf(log)).toMatchObject({ SummaryWriteErrors: 1, ResultsWriteErrors: 0 });
    expect(dynamoMock.commandCalls(PutItemCommand)).toHaveLength(1);
  });

  test('compiles the answer schema from its environment at cold start and counts SchemaViolations', async () => {
    process.env[ANSWER_SCHEMA_ENV] = JSON.stringify({ type: 'object', required: ['answer', 'sources'] });
    lambdaMock.on(InvokeCommand).resolves(answer('8'));
    lambdaMock.on(GetFunctionConfigurationCommand).resolves(configuration('rel-a'));
    const metrics = await handler(delivery(['v-1']));
    expect(metrics.schemaViolations).toBe(1);
    expect(emf(log)).toMatchObject({ SchemaViolations: 1 });
    expect(dynamoMock.commandCalls(PutItemCommand)[0].args[0].input.Item!.schema_violation).toEqual({ S: "(root) must have required property 'sources'" });
  });

  test('a schema that does not compile fails the cold start rather than letting answers through unchecked', async () => {
    process.env[ANSWER_SCHEMA_ENV] = JSON.stringify({ type: 'objec' });
    await expect(handler(delivery(['v-2']))).rejects.toThrow(/schema is invalid/);
    await expect(handler(delivery(['v-3']))).rejects.toThrow(/schema is invalid/);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});

describe('the release cache', () => {
  test('keeps a published version\'s release for good, re-reads $LATEST and the invoke target after a minute, and retries a failed read after 30 s', async () => {
    let now = 0;
    const read: jest.Mock<Promise<Record<string, string>>, [string | undefined]> = jest.fn(async (qualifier: string | undefined) => {
      if (qualifier === '3') throw new Error('throttled');
      return { RELEASE_ID: `rel-${qualifier ?? 'target'}-${read.mock.calls.length}` };
    });
    const lookup = new ReleaseLookup(read, () => now);
    expect(await lookup.releaseOf('8')).toEqual({ releaseId: 'rel-8-1' });
    expect(await lookup.releaseOf('$LATEST')).toEqual({ releaseId: 'rel-$LATEST-2' });
    expect(await lookup.releaseOf(undefined)).toEqual({ releaseId: 'rel-target-3' });
    expect(await lookup.releaseOf('3')).toMatchObject({ reason: 'lookup-failed', error: 'Error: throttled' });
    now = FAILED_READ_RETRY_MS + 1;
    await lookup.releaseOf('3');
    expect(read).toHaveBeenCalledTimes(5);
    now = MOVABLE_RELEASE_TTL_MS + 1;
    expect(await lookup.releaseOf('8')).toEqual({ releaseId: 'rel-8-1' });
    expect(await lookup.releaseOf('$LATEST')).toEqual({ releaseId: 'rel-$LATEST-6' });
    expect(await lookup.releaseOf(undefined)).toEqual({ releaseId: 'rel-target-7' });
  });

  test('reads the function and the qualifier out of a shadow ARN', () => {
    expect(unqualifiedArn(SHADOW_ALIAS_ARN)).toBe(SHADOW_ARN);
    expect(qualifierOf(SHADOW_ALIAS_ARN)).toBe('candidate');
    expect(unqualifiedArn(SHADOW_ARN)).toBe(SHADOW_ARN);
    expect(qualifierOf(SHADOW_ARN)).toBeUndefined();
    expect(qualifierOf(`${SHADOW_ARN}:7`)).toBe('7');
  });
});
