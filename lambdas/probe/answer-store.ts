// The answer table (DynamoDB) behind `reuseCurrentAnswers`: one item per (deployment, function, alias, current
// version, gold question), holding that question's recorded answers by wording and seed, expiring after
// PROBE_ANSWERS_TTL_SECONDS. Durable across the probe's invocations: nothing depends on Lambda reusing an
// execution environment, and nothing passes through the state machine's payload.
// Types only at load: the client is required at first use (a probe without an answer table never loads it).
import type { AttributeValue, BatchGetItemCommandOutput, BatchWriteItemCommandOutput, DynamoDBClient, KeysAndAttributes, WriteRequest } from '@aws-sdk/client-dynamodb';
import { PROBE_ANSWERS_ATTR, PROBE_ANSWERS_TTL_SECONDS } from 'cdk-rollout-guardrails-runtime/contract';
import { AnswerStore, RecordedQuestion, ReuseScope } from './reuse';

/** BatchGetItem takes at most 100 keys a call, BatchWriteItem at most 25 puts. */
const GET_BATCH = 100;
const WRITE_BATCH = 25;
/** Calls per batch for its unprocessed keys or items before the rest counts as not found / not stored. */
const ATTEMPTS = 4;
/** An item must stay under DynamoDB's 400 KB; a question whose answers would not is not recorded. */
export const MAX_ITEM_BYTES = 350_000;

/** The item key of one question's answers in `scope` (each part URI-encoded, so `|` separates them unambiguously). */
export function answerItemKey(scope: ReuseScope, questionId: string): string {
  return [scope.deploymentId, scope.functionName, scope.alias, scope.currentVersion, questionId].map(encodeURIComponent).join('|');
}

/** Options of {@link dynamoAnswerStore}. */
export interface DynamoAnswerStoreOptions {
  /** Waits between attempts at unprocessed keys or items. @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * The answer table as an AnswerStore: strongly consistent BatchGetItem (a record written by the previous run,
 * which ended before this one started, is read), BatchWriteItem puts; unprocessed keys and items are retried
 * with a short back-off, then given up (not found, not stored). Expired items are ignored on read: DynamoDB's
 * TTL deletes them in the background, later.
 */
export function dynamoAnswerStore(client: () => DynamoDBClient | Promise<DynamoDBClient>, tableName: string, options: DynamoAnswerStoreOptions = {}): AnswerStore {
  // require, not import(): the runtime's SDK is found through NODE_PATH, which only CommonJS resolution reads (LAM-8).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = async (): Promise<typeof import('@aws-sdk/client-dynamodb')> => require('@aws-sdk/client-dynamodb');
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return {
    async read(scope, ids, nowMs) {
      const { BatchGetItemCommand } = await sdk();
      const byKey = new Map(ids.map((id) => [answerItemKey(scope, id), id]));
      const found: RecordedQuestion[] = [];
      const keys = [...byKey.keys()];
      for (let i = 0; i < keys.length; i += GET_BATCH) {
        let request: KeysAndAttributes | undefined = {
          Keys: keys.slice(i, i + GET_BATCH).map((key) => ({ [PROBE_ANSWERS_ATTR.key]: { S: key } })),
          ConsistentRead: true,
        };
        for (let attempt = 0; request && (request.Keys?.length ?? 0) > 0 && attempt < ATTEMPTS; attempt++) {
          if (attempt > 0) await sleep(50 * 2 ** attempt);
          const out: BatchGetItemCommandOutput = await (await client()).send(new BatchGetItemCommand({ RequestItems: { [tableName]: request } }));
          for (const item of out.Responses?.[tableName] ?? []) {
            const question = parseItem(item, byKey, nowMs);
            if (question) found.push(question);
          }
          request = out.UnprocessedKeys?.[tableName];
        }
      }
      return found;
    },
    async write(scope, questions, nowMs) {
      const { BatchWriteItemCommand } = await sdk();
      const expiresAt = Math.floor(nowMs / 1000) + PROBE_ANSWERS_TTL_SECONDS;
      let notStored = 0;
      const reasons = new Set<string>();
      const puts: WriteRequest[] = [];
      for (const q of questions) {
        const item: Record<string, AttributeValue> = {
          [PROBE_ANSWERS_ATTR.key]: { S: answerItemKey(scope, q.id) },
          question: { S: q.id },
          fingerprint: { S: q.fingerprint },
          answers: { S: JSON.stringify(q.answers) },
          recordedAt: { N: String(Math.floor(nowMs / 1000)) },
          [PROBE_ANSWERS_ATTR.expiresAt]: { N: String(expiresAt) },
        };
        if (Buffer.byteLength(JSON.stringify(item)) > MAX_ITEM_BYTES) {
          notStored++;
          reasons.add(`answers over ${MAX_ITEM_BYTES} bytes`);
        } else {
          puts.push({ PutRequest: { Item: item } });
        }
      }
      for (let i = 0; i < puts.length; i += WRITE_BATCH) {
        let batch: WriteRequest[] | undefined = puts.slice(i, i + WRITE_BATCH);
        for (let attempt = 0; batch && batch.length > 0 && attempt < ATTEMPTS; attempt++) {
          if (attempt > 0) await sleep(50 * 2 ** attempt);
          const out: BatchWriteItemCommandOutput = await (await client()).send(new BatchWriteItemCommand({ RequestItems: { [tableName]: batch } }));
          batch = out.UnprocessedItems?.[tableName];
        }
        if (batch && batch.length > 0) {
          notStored += batch.length;
          reasons.add(`unprocessed after ${ATTEMPTS} attempts`);
        }
      }
      return { notStored, ...(reasons.size > 0 ? { reason: [...reasons].join(', ') } : {}) };
    },
  };
}

/** A stored item as a RecordedQuestion, or undefined when it is not one of ours, expired or malformed. */
function parseItem(item: Record<string, AttributeValue>, byKey: ReadonlyMap<string, string>, nowMs: number): RecordedQuestion | undefined {
  const id = byKey.get(item[PROBE_ANSWERS_ATTR.key]?.S ?? '');
  const expiresAt = Number(item[PROBE_ANSWERS_ATTR.expiresAt]?.N);
  if (id === undefined || !(expiresAt * 1000 > nowMs)) return undefined;
  try {
    const answers = JSON.parse(item.answers?.S ?? '') as unknown;
    if (typeof answers !== 'object' || answers === null || Array.isArray(answers)) return undefined;
    if (!Object.values(answers).every((a) => typeof a === 'string')) return undefined;
    return { id, fingerprint: item.fingerprint?.S ?? '', answers: answers as Record<string, string> };
  } catch {
    return undefined;
  }
}
