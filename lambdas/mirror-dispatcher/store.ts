import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** One row of the results table: a sampled request, the live and the shadow answer, and how they compare. */
export interface ShadowResult {
  /** The live request id; the table's partition key, so a redelivered batch overwrites rather than duplicates. */
  readonly shadow_id: string;
  /** SHA-256 of the sanitised request (method, path, query, body): equal for identical requests. */
  readonly req_hash: string;
  /** The live release. */
  readonly model_rev: string | null;
  /** The shadow version that answered (`ExecutedVersion`). */
  readonly shadow_model_rev?: string | null;
  /** The live function's index identity, when it reports one. */
  readonly index_hash: string | null;
  readonly route: string;
  /** `scored`, `shadow_error` (a function error or a 5xx) or `shadow_timeout`. */
  readonly outcome: 'scored' | 'shadow_error' | 'shadow_timeout';
  /** The release of the shadow version that answered (its RELEASE_ID); absent when unknown. */
  readonly shadow_release_id?: string;
  /** What is wrong with a scored shadow answer under `answerSchema`; absent when it conforms or no schema is set. */
  readonly schema_violation?: string;
  /** ΔS between the live and the shadow answer; absent unless scored. */
  readonly delta_s?: number;
  readonly live_status: number;
  readonly shadow_status?: number;
  readonly live_ms: number;
  readonly shadow_ms?: number;
  /** Whether `shadow_ms` is the function's reported duration (`report`) or the invoke round trip (`roundtrip`). */
  readonly shadow_ms_source?: 'report' | 'roundtrip';
  readonly live_output: string;
  readonly shadow_output?: string;
  readonly error?: string;
  /** When the live answer was produced, epoch ms. */
  readonly sampled_at: number;
  /** TTL attribute, epoch seconds. */
  readonly expires_at: number;
}

/** Where results go. */
export interface ResultsStore {
  put(result: ShadowResult): Promise<void>;
}

/** DynamoDB caps an item at 400 KB; each stored output is capped well below it (the ΔS is taken before). */
export const MAX_STORED_OUTPUT_CHARS = 150_000;

/** Writes results to a DynamoDB table keyed by `shadow_id`. */
export class DynamoResultsStore implements ResultsStore {
  constructor(private readonly client: DynamoDBClient, private readonly tableName: string, private readonly sdk: typeof import('@aws-sdk/client-dynamodb')) {}

  public async put(result: ShadowResult): Promise<void> {
    const item: Record<string, any> = {};
    for (const [key, value] of Object.entries(result)) {
      if (value === undefined || value === null) continue;
      if (typeof value === 'number') item[key] = { N: String(value) };
      else if (typeof value === 'string') item[key] = { S: value.length > MAX_STORED_OUTPUT_CHARS ? value.slice(0, MAX_STORED_OUTPUT_CHARS) : value };
    }
    if (typeof result.live_output === 'string' && result.live_output.length > MAX_STORED_OUTPUT_CHARS) item.live_output_truncated = { BOOL: true };
    if (typeof result.shadow_output === 'string' && result.shadow_output.length > MAX_STORED_OUTPUT_CHARS) item.shadow_output_truncated = { BOOL: true };
    await this.client.send(new this.sdk.PutItemCommand({ TableName: this.tableName, Item: item }));
  }
}
