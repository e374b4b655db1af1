// Shadow as a rollout's stage 0: the dispatcher adds each batch's replays to one summary item per release in the
// results table, which a GuardedAlias with `requireShadow` reads before it moves any user traffic. The item's key,
// attribute names and ΔS bins are the contract's (shadow-promotion.ts); every counter is an atomic ADD, so
// dispatchers running at once add up instead of overwriting each other.
import type { DynamoDBClient, UpdateItemCommandInput } from '@aws-sdk/client-dynamodb';
import { SHADOW_SUMMARY_ATTRIBUTES as A, deltaSBin, deltaSBinAttribute, shadowSummaryKey } from 'cdk-rollout-guardrails-runtime/contract';
import type { ShadowResult } from './store';

/** What one batch adds to one release's summary. */
export interface ReleaseTally {
  replays: number;
  scored: number;
  shadowErrors: number;
  shadowTimeouts: number;
  liveErrors: number;
  schemaViolations: number;
  /** Scored replays by ΔS bin (only the bins touched). */
  readonly bins: Map<number, number>;
  /** The earliest and latest `sampled_at` of the release's replays in the batch, epoch ms. */
  earliest: number;
  latest: number;
}

/** Adds one replay's result to its release's tally. */
export function tallyResult(tallies: Map<string, ReleaseTally>, releaseId: string, result: ShadowResult): void {
  let t = tallies.get(releaseId);
  if (!t) {
    t = { replays: 0, scored: 0, shadowErrors: 0, shadowTimeouts: 0, liveErrors: 0, schemaViolations: 0, bins: new Map(), earliest: result.sampled_at, latest: result.sampled_at };
    tallies.set(releaseId, t);
  }
  t.replays++;
  if (result.outcome === 'scored') {
    t.scored++;
    const bin = deltaSBin(result.delta_s ?? 0);
    t.bins.set(bin, (t.bins.get(bin) ?? 0) + 1);
    if (result.schema_violation !== undefined) t.schemaViolations++;
  } else if (result.outcome === 'shadow_timeout') {
    t.shadowTimeouts++;
  } else {
    t.shadowErrors++;
  }
  if (result.live_status >= 500) t.liveErrors++;
  t.earliest = Math.min(t.earliest, result.sampled_at);
  t.latest = Math.max(t.latest, result.sampled_at);
}

/**
 * The UpdateItem of one release's summary: ADD every counter and each touched bin; SET the release, `first_seen`
 * only if absent, `expires_at` (the table's TTL attribute) and, when `withLastSeen`, `last_seen` under the
 * condition that it does not move back (dispatchers finish batches out of order).
 */
export function summaryUpdate(table: string, releaseId: string, t: ReleaseTally, expiresAt: number, withLastSeen: boolean): UpdateItemCommandInput {
  const names: Record<string, string> = { '#rel': A.releaseId, '#first': A.firstSeen, '#exp': 'expires_at' };
  const values: Record<string, { S: string } | { N: string }> = { ':rel': { S: releaseId }, ':earliest': { N: String(t.earliest) }, ':exp': { N: String(expiresAt) } };
  const set = ['#rel = :rel', '#first = if_not_exists(#first, :earliest)', '#exp = :exp'];
  const add: string[] = [];
  const counters: Array<[string, number]> = [
    [A.replays, t.replays], [A.scored, t.scored], [A.shadowErrors, t.shadowErrors], [A.shadowTimeouts, t.shadowTimeouts],
    [A.liveErrors, t.liveErrors], [A.schemaViolations, t.schemaViolations],
    ...[...t.bins.entries()].sort(([a], [b]) => a - b).map(([bin, count]): [string, number] => [deltaSBinAttribute(bin), count]),
  ];
  counters.forEach(([attribute, count], i) => {
    names[`#c${i}`] = attribute;
    values[`:c${i}`] = { N: String(count) };
    add.push(`#c${i} :c${i}`);
  });
  const input: UpdateItemCommandInput = {
    TableName: table,
    Key: { shadow_id: { S: shadowSummaryKey(releaseId) } },
    UpdateExpression: `SET ${set.join(', ')}${withLastSeen ? ', #last = :latest' : ''} ADD ${add.join(', ')}`,
    ExpressionAttributeNames: withLastSeen ? { ...names, '#last': A.lastSeen } : names,
    ExpressionAttributeValues: withLastSeen ? { ...values, ':latest': { N: String(t.latest) } } : values,
  };
  if (withLastSeen) input.ConditionExpression = 'attribute_not_exists(#last) OR #last <= :latest';
  return input;
}

/** Where summaries go. */
export interface SummaryStore {
  add(releaseId: string, tally: ReleaseTally): Promise<void>;
}

/** Adds tallies to the summary items of a DynamoDB results table keyed by `shadow_id`. */
export class DynamoSummaryStore implements SummaryStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    private readonly ttlSeconds: number,
    private readonly sdk: Pick<typeof import('@aws-sdk/client-dynamodb'), 'UpdateItemCommand'>,
    private readonly now: () => number = Date.now,
  ) {}

  public async add(releaseId: string, tally: ReleaseTally): Promise<void> {
    const expiresAt = Math.floor(this.now() / 1000) + this.ttlSeconds;
    try {
      await this.client.send(new this.sdk.UpdateItemCommand(summaryUpdate(this.tableName, releaseId, tally, expiresAt, true)));
    } catch (error) {
      // Another dispatcher already counted a later replay: the counters still go in, last_seen stays.
      if ((error as Error)?.name !== 'ConditionalCheckFailedException') throw error;
      await this.client.send(new this.sdk.UpdateItemCommand(summaryUpdate(this.tableName, releaseId, tally, expiresAt, false)));
    }
  }
}
