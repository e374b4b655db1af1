import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { loadSdk } from '../shared/optional-sdk';
import { Embedder } from './embedder';
import { EmbeddingError } from './errors';

/** Options of {@link BedrockEmbedder}. */
export interface BedrockEmbedderOptions {
  /**
   * Bedrock model id (or inference profile id / ARN). Titan text models (`amazon.titan-embed-text-*`) take one
   * text per call; Cohere Embed v3 models (`cohere.embed-*`) take up to 96 texts per call.
   * @default 'amazon.titan-embed-text-v2:0'
   */
  readonly modelId?: string;
  /**
   * The client to call; bring your own for a region, credentials or retry settings.
   * @default - a BedrockRuntimeClient with the SDK's default configuration, created on first use
   */
  readonly client?: BedrockRuntimeClient;
  /**
   * Vector length asked of Titan Text Embeddings V2 (1024, 512 or 256). Not sent to other models.
   * @default - the model's default (1024 for Titan V2)
   * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html
   */
  readonly dimensions?: number;
  /**
   * Cohere `input_type`. Both sides of a ΔS comparison are the same kind of text, hence clustering.
   * @default 'clustering'
   * @see https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed-v3.html
   */
  readonly cohereInputType?: 'search_document' | 'search_query' | 'classification' | 'clustering';
  /**
   * How many InvokeModel calls may be in flight at once.
   * @default 4
   */
  readonly concurrency?: number;
}

const COHERE_BATCH = 96;

/**
 * Embeddings from Amazon Bedrock through InvokeModel. Vectors are returned as the model gives them; ΔS
 * normalises them itself. Any failure (the call itself, a body that is not JSON, a missing or non-numeric
 * embedding, a count that does not match the texts) is an `EmbeddingError` naming the model.
 */
export class BedrockEmbedder implements Embedder {
  /** The model this embedder calls. */
  public readonly modelId: string;
  private readonly options: BedrockEmbedderOptions;
  private client: BedrockRuntimeClient | undefined;

  constructor(options: BedrockEmbedderOptions = {}) {
    this.modelId = options.modelId ?? 'amazon.titan-embed-text-v2:0';
    this.options = options;
    this.client = options.client;
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`BedrockEmbedder concurrency must be an integer ≥ 1, got: ${options.concurrency}`);
    }
  }

  /** Embeds the texts, one InvokeModel call per text (Titan) or per batch of 96 (Cohere). */
  public async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const batches: string[][] = this.isCohere()
      ? chunk(texts, COHERE_BATCH)
      : texts.map((text) => [text]);
    const results = await mapBounded(batches, this.options.concurrency ?? 4, (batch) => this.invoke(batch));
    return results.flat();
  }

  private isCohere(): boolean {
    return /(^|[.:/])cohere\.embed/.test(this.modelId);
  }

  private async invoke(texts: string[]): Promise<number[][]> {
    const cohere = this.isCohere();
    const request = cohere
      ? { texts, input_type: this.options.cohereInputType ?? 'clustering' }
      : { inputText: texts[0], ...(this.options.dimensions === undefined ? {} : { dimensions: this.options.dimensions }) };
    const sdk = loadSdk<typeof import('@aws-sdk/client-bedrock-runtime')>('@aws-sdk/client-bedrock-runtime', 'BedrockEmbedder');
    this.client ??= new sdk.BedrockRuntimeClient({});
    let raw: string;
    try {
      const response = await this.client.send(new sdk.InvokeModelCommand({
        modelId: this.modelId,
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify(request),
      }));
      raw = response.body === undefined ? '' : new TextDecoder().decode(response.body);
    } catch (cause) {
      throw new EmbeddingError(this.modelId, `InvokeModel failed: ${(cause as Error).message}`, { cause });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (cause) {
      throw new EmbeddingError(this.modelId, `response body is not JSON: ${JSON.stringify(raw.slice(0, 80))}`, { cause });
    }
    const vectors = cohere ? cohereVectors(body) : titanVector(body);
    if (vectors === undefined) {
      throw new EmbeddingError(this.modelId, `response has no ${cohere ? "'embeddings' array of vectors" : "'embedding' array"}: ${JSON.stringify(body).slice(0, 120)}`);
    }
    if (vectors.length !== texts.length) {
      throw new EmbeddingError(this.modelId, `asked for ${texts.length} embeddings, got ${vectors.length}`);
    }
    vectors.forEach((vector, i) => {
      const bad = vector.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
      if (vector.length === 0 || bad >= 0) {
        throw new EmbeddingError(this.modelId, `embedding ${i} is not a non-empty array of finite numbers${bad >= 0 ? ` (element ${bad} is ${JSON.stringify(vector[bad])})` : ''}`);
      }
    });
    return vectors;
  }
}

function titanVector(body: unknown): number[][] | undefined {
  const embedding = (body as { embedding?: unknown } | null)?.embedding;
  return Array.isArray(embedding) ? [embedding] : undefined;
}

// Cohere returns `embeddings: number[][]`, or `embeddings: { float: number[][] }` when embedding types are set.
function cohereVectors(body: unknown): number[][] | undefined {
  const embeddings = (body as { embeddings?: unknown } | null)?.embeddings;
  const list = Array.isArray(embeddings) ? embeddings : (embeddings as { float?: unknown } | undefined)?.float;
  return Array.isArray(list) && list.every(Array.isArray) ? (list as number[][]) : undefined;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}

// Runs fn over items with at most `limit` in flight, keeping results in item order.
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
