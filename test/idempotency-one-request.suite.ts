import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from './helpers/sdk-mock';
import { IdempotencyInProgressError, makeIdempotent } from '../packages/runtime/src/idempotency';
import { sha256 } from '../packages/runtime/src/idempotency/keys';

// dynalite (and DynamoDB Local) do not return the item on a failed condition; DynamoDB does. These tests give
// the client DynamoDB's answer to check that a duplicate then costs exactly one request.
const client = new DynamoDBClient({ region: 'eu-west-1' });
const ddb = mockClient(client);

beforeEach(() => ddb.reset());
afterAll(() => ddb.restore());

const event = (key: string, body: string) => ({
  httpMethod: 'POST',
  headers: { 'Idempotency-Key': key },
  requestContext: {},
  body,
});

function conditionFailure(item: Record<string, { S?: string; N?: string }>) {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: item as never });
}

const later = () => String(Math.floor(Date.now() / 1000) + 3600);

test('answers a duplicate from the item returned with the failed condition, in one request', async () => {
  ddb.on(PutItemCommand).rejects(conditionFailure({
    id: { S: `orders#${sha256('k1')}` },
    status: { S: 'COMPLETED' },
    expiration: { N: later() },
    payload_hash: { S: sha256('{"a":1}') },
    data: { S: '{"statusCode":201,"body":"stored"}' },
  }));
  const body = jest.fn(async () => ({ statusCode: 201, body: 'fresh' }));

  const result = await makeIdempotent(body, { table: 't', client, scope: 'orders' })(event('k1', '{"a":1}'));

  expect(result).toEqual({ statusCode: 201, body: 'stored' });
  expect(body).not.toHaveBeenCalled();
  expect(ddb.calls()).toHaveLength(1);
  expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  expect(ddb.commandCalls(PutItemCommand)[0].args[0].input).toMatchObject({
    TableName: 't',
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ConditionExpression: expect.stringContaining('attribute_not_exists(#id)'),
  });
});

test('reports an in-progress holder from the returned item, in one request', async () => {
  ddb.on(PutItemCommand).rejects(conditionFailure({
    id: { S: `orders#${sha256('k2')}` },
    status: { S: 'INPROGRESS' },
    expiration: { N: later() },
    held_until: { N: String(Date.now() + 4_500) },
    claim_token: { S: 'someone-else' },
  }));

  const call = makeIdempotent(async () => 1, { table: 't', client, scope: 'orders' })(event('k2', 'x'));

  await expect(call).rejects.toBeInstanceOf(IdempotencyInProgressError);
  await expect(makeIdempotent(async () => 1, { table: 't', client, scope: 'orders' })(event('k2', 'x'))).rejects.toMatchObject({ retryAfterSeconds: 5 });
  expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
  expect(ddb.commandCalls(DeleteItemCommand)).toHaveLength(0);
});

test('spends two requests on a first call: the claim and the stored result', async () => {
  ddb.on(PutItemCommand).resolves({});

  expect(await makeIdempotent(async () => 'ok', { table: 't', client, scope: 'orders' })(event('k3', 'x'))).toBe('ok');

  const puts = ddb.commandCalls(PutItemCommand);
  expect(ddb.calls()).toHaveLength(2);
  expect(puts[0].args[0].input.Item?.status).toEqual({ S: 'INPROGRESS' });
  expect(puts[1].args[0].input.Item?.status).toEqual({ S: 'COMPLETED' });
  expect(puts[1].args[0].input.Item?.data).toEqual({ S: '"ok"' });
  expect(puts[1].args[0].input.ConditionExpression).toBe('#tok = :tok');
  expect(puts[1].args[0].input.ExpressionAttributeValues?.[':tok']).toEqual(puts[0].args[0].input.Item?.claim_token);
});

test('returns the result and logs a warning when the result cannot be stored after the body ran', async () => {
  ddb.on(PutItemCommand).resolvesOnce({}).rejectsOnce(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    const body = jest.fn(async () => 'charged');
    expect(await makeIdempotent(body, { table: 't', client, scope: 'orders' })(event('k4', 'x'))).toBe('charged');
    expect(body).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('"operation":"complete"'));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('TimeoutError: socket hang up'));
  } finally {
    warn.mockRestore();
  }
});

test('rethrows the body\'s own error when releasing the claim also fails', async () => {
  ddb.on(PutItemCommand).resolves({});
  ddb.on(DeleteItemCommand).rejects(new Error('network down'));
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  try {
    const call = makeIdempotent(async () => { throw new Error('payment declined'); }, { table: 't', client, scope: 'orders' })(event('k5', 'x'));
    await expect(call).rejects.toThrow('payment declined');
    expect(ddb.commandCalls(DeleteItemCommand)[0].args[0].input.ConditionExpression).toBe('#tok = :tok AND #st = :inprogress');
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('"operation":"release"'));
  } finally {
    warn.mockRestore();
  }
});

test('wraps a handler typed with the aws-lambda event and Context types, passing both through', async () => {
  ddb.on(PutItemCommand).resolves({});
  type Ev = import('aws-lambda').APIGatewayProxyEvent;
  type Ctx = import('aws-lambda').Context;
  const seen: Array<[string | null, number]> = [];
  const lambdaHandler = async (e: Ev, c: Ctx) => {
    seen.push([e.body, c.getRemainingTimeInMillis()]);
    return { statusCode: 200, body: 'ok' };
  };
  const wrapped = makeIdempotent(lambdaHandler, { table: 't', client, scope: 'orders' });
  const ctx = { getRemainingTimeInMillis: () => 1234 } as Ctx;

  expect(await wrapped(event('k6', 'typed') as unknown as Ev, ctx)).toEqual({ statusCode: 200, body: 'ok' });
  expect(seen).toEqual([['typed', 1234]]);
  const claim = ddb.commandCalls(PutItemCommand)[0].args[0].input.Item?.held_until?.N;
  expect(Number(claim) - Date.now()).toBeLessThanOrEqual(1234);
});
