import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ATTR } from '../../contract/idempotency.js';
import { requireOptional } from '../../shared/optional-sdk.js';
import { IdempotencyConfigurationError, IdempotencyItemTooLargeError } from '../errors.js';
import { DYNAMODB_MAX_ITEM_BYTES, completedRecordBytes } from './item-size.js';

type DynamoDBModule = typeof import('@aws-sdk/client-dynamodb');
let dynamodbModule: DynamoDBModule | undefined;

/**
 * The DynamoDB client module, loaded on first use: a function that imports `cdk-rollout-guardrails-runtime` for
 * something else does not pay for loading it at cold start.
 */
function sdk(): DynamoDBModule {
  if (dynamodbModule) return dynamodbModule;
  try {
    dynamodbModule = requireOptional<DynamoDBModule>('@aws-sdk/client-dynamodb');
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new IdempotencyConfigurationError('the DynamoDB idempotency store needs @aws-sdk/client-dynamodb, which is not installed: ' +
      'add it to your dependencies (the Lambda Node.js runtime already includes it), or pass options.store');
  }
  return dynamodbModule;
}
import type { ClaimOutcome, ClaimRequest, CompleteRequest, IdempotencyRecord, IdempotencyStore, StoreCallOptions } from './store.js';

/** Options of the DynamoDB store. */
export interface DynamoDBIdempotencyStoreOptions {
  /** The table (partition key `id`, string; TTL attribute `expiration`). */
  readonly tableName: string;
  /**
   * The client.
   * @default - a new DynamoDBClient with the SDK's defaults, except for its HTTP timeouts: 1 s to connect and 2 s
   * per attempt (the SDK's own default is to wait for ever); `makeIdempotent` also gives each store call a deadline
   * (`storageTimeoutMs`)
   */
  readonly client?: DynamoDBClient;
}

/**
 * The HTTP timeouts of the client the store creates when none is given, in milliseconds. `throwOnRequestTimeout`
 * makes the request timeout an error (recent SDKs only warn without it; older ones ignore the flag and fail anyway).
 */
export const DYNAMODB_CLIENT_TIMEOUTS = { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true } as const;

// The claim succeeds when no record holds the key: none exists, or its `held_until` has passed (an in-progress
// claim whose lease ran out, or a completed record past its expiry that TTL, which runs up to days late, has
// not deleted yet). One attribute and one comparison, where Powertools needs five terms over three attributes.
const CLAIM_CONDITION = 'attribute_not_exists(#id) OR #hu < :now';
const CLAIM_NAMES = { '#id': ATTR.key, '#hu': ATTR.heldUntil };
const INPROGRESS: AttributeValue = { S: 'INPROGRESS' };
const COMPLETED: AttributeValue = { S: 'COMPLETED' };

/**
 * Idempotency records in DynamoDB: one conditional PutItem claims a key; a duplicate is answered from the item
 * that `ReturnValuesOnConditionCheckFailure` returns (one request in DynamoDB), or from a consistent read when
 * the implementation does not return it (DynamoDB Local and dynalite).
 */
export class DynamoDBIdempotencyStore implements IdempotencyStore {
  public readonly tableName: string;
  public readonly client: DynamoDBClient;

  constructor(options: DynamoDBIdempotencyStoreOptions) {
    this.tableName = options.tableName;
    this.client = options.client ?? new (sdk().DynamoDBClient)({ requestHandler: { ...DYNAMODB_CLIENT_TIMEOUTS } });
  }

  public async claim(request: ClaimRequest, options: StoreCallOptions = {}): Promise<ClaimOutcome> {
    const item: Record<string, AttributeValue> = {
      [ATTR.key]: { S: request.id },
      [ATTR.status]: INPROGRESS,
      [ATTR.expiration]: { N: String(request.expiresAt) },
      [ATTR.heldUntil]: { N: String(request.inProgressUntil) },
      [ATTR.token]: { S: request.token },
    };
    if (request.payloadHash !== undefined) item[ATTR.payloadHash] = { S: request.payloadHash };
    if (request.releaseId !== undefined) item[ATTR.releaseId] = { S: request.releaseId };
    try {
      const output = await this.client.send(new (sdk().PutItemCommand)({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: CLAIM_CONDITION,
        ExpressionAttributeNames: CLAIM_NAMES,
        ExpressionAttributeValues: { ':now': { N: String(request.now) } },
        // The lapsed record a claim overwrites comes back at no extra cost (no read capacity): telemetry counts a
        // claim over a lapsed one as a retry. A first claim overwrites nothing, so its answer is as small as before.
        ReturnValues: 'ALL_OLD',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }), sendOptions(options));
      const old = output?.Attributes;
      return old && old[ATTR.key] ? { claimed: true, replaced: toRecord(old) } : { claimed: true };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const returned = (error as { Item?: Record<string, AttributeValue> }).Item;
      if (returned && returned[ATTR.key]) return { claimed: false, existing: toRecord(returned) };
    }
    return { claimed: false, existing: await this.get(request.id, options) };
  }

  /** The record with a strongly consistent read, or undefined. */
  public async get(id: string, options: StoreCallOptions = {}): Promise<IdempotencyRecord | undefined> {
    const result = await this.client.send(new (sdk().GetItemCommand)({
      TableName: this.tableName,
      Key: { [ATTR.key]: { S: id } },
      ConsistentRead: true,
    }), sendOptions(options));
    return result.Item ? toRecord(result.Item) : undefined;
  }

  public async complete(request: CompleteRequest, options: StoreCallOptions = {}): Promise<boolean> {
    // A PutItem rather than an UpdateItem: it rewrites the whole record (dropping the lease) in one request,
    // and the condition on the token keeps it from overwriting a call that took over after our lease lapsed.
    // A record DynamoDB would refuse for its size is not sent at all (it would cost a 400 KB request to be told).
    const bytes = completedRecordBytes(request);
    if (bytes > DYNAMODB_MAX_ITEM_BYTES) throw new IdempotencyItemTooLargeError(bytes, DYNAMODB_MAX_ITEM_BYTES);
    const item: Record<string, AttributeValue> = {
      [ATTR.key]: { S: request.id },
      [ATTR.status]: COMPLETED,
      [ATTR.expiration]: { N: String(request.expiresAt) },
      [ATTR.heldUntil]: { N: String(request.expiresAt * 1000) },
      [ATTR.token]: { S: request.token },
    };
    if (request.data !== undefined) item[ATTR.data] = { S: request.data };
    if (request.payloadHash !== undefined) item[ATTR.payloadHash] = { S: request.payloadHash };
    if (request.releaseId !== undefined) item[ATTR.releaseId] = { S: request.releaseId };
    if (request.resultNotStored !== undefined) item[ATTR.notStored] = { S: request.resultNotStored };
    try {
      await this.client.send(new (sdk().PutItemCommand)({
        TableName: this.tableName,
        Item: item,
        ConditionExpression: '#tok = :tok',
        ExpressionAttributeNames: { '#tok': ATTR.token },
        ExpressionAttributeValues: { ':tok': { S: request.token } },
      }), sendOptions(options));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      // Should DynamoDB count the item larger than completedRecordBytes does, its refusal means the same thing.
      if ((error as { name?: string } | undefined)?.name === 'ValidationException' && /item size/i.test(String((error as Error).message))) {
        throw new IdempotencyItemTooLargeError(bytes, DYNAMODB_MAX_ITEM_BYTES);
      }
      throw error;
    }
  }

  public async release(id: string, token: string, options: StoreCallOptions = {}): Promise<boolean> {
    try {
      await this.client.send(new (sdk().DeleteItemCommand)({
        TableName: this.tableName,
        Key: { [ATTR.key]: { S: id } },
        ConditionExpression: '#tok = :tok AND #st = :inprogress',
        ExpressionAttributeNames: { '#tok': ATTR.token, '#st': ATTR.status },
        ExpressionAttributeValues: { ':tok': { S: token }, ':inprogress': INPROGRESS },
      }), sendOptions(options));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

function sendOptions(options: StoreCallOptions): { abortSignal?: AbortSignal } | undefined {
  return options.signal ? { abortSignal: options.signal } : undefined;
}

function isConditionFailure(error: unknown): boolean {
  // By name, not instanceof: a bundle may carry a different copy of the SDK than the client that threw.
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

function toRecord(item: Record<string, AttributeValue>): IdempotencyRecord {
  const text = (name: string): string | undefined => item[name]?.S;
  const number = (name: string): number | undefined => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  const status = text(ATTR.status) === 'COMPLETED' ? 'COMPLETED' : 'INPROGRESS';
  return {
    id: text(ATTR.key) ?? '',
    status,
    expiresAt: number(ATTR.expiration) ?? 0,
    inProgressUntil: status === 'INPROGRESS' ? number(ATTR.heldUntil) : undefined,
    token: text(ATTR.token),
    payloadHash: text(ATTR.payloadHash),
    data: text(ATTR.data),
    releaseId: text(ATTR.releaseId),
    resultNotStored: text(ATTR.notStored),
  };
}
