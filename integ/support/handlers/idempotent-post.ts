// The function of the idempotency integ test: POST /orders, made idempotent on the Idempotency-Key header with the
// runtime's `makeIdempotent` (its table and lease from IdempotencyTable.grant's environment). Its body has one side
// effect the test counts, an atomic counter per key in the side-effects table, and takes 2 seconds so that concurrent
// duplicates overlap it. Each run answers its own `runId`: a duplicate answered from the store carries the first run's.
import { randomUUID } from 'crypto';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { idempotencyErrorResponse, makeIdempotent } from '../../../packages/runtime/src';

interface HttpEvent {
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string | null;
}

const client = new DynamoDBClient({});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const placeOrder = makeIdempotent(async (event: HttpEvent) => {
  const key = event.headers?.['idempotency-key'] ?? 'none';
  await client.send(new UpdateItemCommand({
    TableName: process.env.SIDE_EFFECTS_TABLE,
    Key: { id: { S: key } },
    UpdateExpression: 'ADD runs :one',
    ExpressionAttributeValues: { ':one': { N: '1' } },
  }));
  await sleep(2000);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ runId: randomUUID(), order: event.body ? JSON.parse(event.body) : null }) };
});

export async function handler(event: HttpEvent, context: { getRemainingTimeInMillis(): number }) {
  try {
    return await placeOrder(event, context);
  } catch (error) {
    const response = idempotencyErrorResponse(error);
    if (response) return response;
    throw error;
  }
}
