import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { loadSdk } from '../shared/optional-sdk.js';
import { Embedder } from './embedder.js';
import { EmbeddingError } from './errors.js';

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
  /**
   * How long one InvokeModel call may take, in milliseconds; a slower call is aborted and the embedding fails
   * with an `EmbeddingError` saying so, rather than holding the probe until its Lambda times out.
   * @default 10000
   */
  readonly timeoutMs?: number;
}

const COHERE_INPUT_TYPES = ['search_document', 'search_query', 'classification', 'clustering'];

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
    if (typeof this.modelId !== 'string' || this.modelId.trim() === '') {
      throw new RangeError(`BedrockEmbedder modelId must be a non-empty string, got: ${JSON.stringify(options.modelId)}`);
    }
    if (options.dimensions !== undefined && ![256, 512, 1024].includes(options.dimensions)) {
      throw new RangeError(`BedrockEmbedder dimensions must be 256, 512 or 1024 (Titan Text Embeddings V2), got: ${JSON.stringify(options.dimensions)}`);
    }
    if (options.cohereInputType !== undefined && !COHERE_INPUT_TYPES.includes(options.cohereInputType)) {
      throw new RangeError(`BedrockEmbedder cohereInputType must be one of ${COHERE_INPUT_TYPES.join(', ')}, got: ${JSON.stringify(options.cohereInputType)}`);
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1) {
      throw new RangeError(`BedrockEmbedder timeoutMs must be a whole number of milliseconds ≥ 1, got: ${JSON.stringify(options.timeoutMs)}`);
    }
  }

  /** Embeds the texts, one InvokeModel call per text (Titan) or per batch of 96 (Cohere). */
  public async embed(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const batches: string[][] = this.isCohere()
      ? chunk(texts, COHERE_BATCH)
      : texts.map((text) => [text]);
    const results = await mapBounded(batches, this.options.concurrency ?? 4, (batch) => this.invoke(batch));
    const vectors = results.flat();
    // Each call checked its own vectors; across calls they must agree too, or no two of them can be compared.
    const mismatch = vectors.findIndex((v) => v.length !== vectors[0].length);
    if (mismatch > 0) {
      throw new EmbeddingError(this.modelId, `embeddings have different lengths: embedding 0 has ${vectors[0].length}, embedding ${mismatch} has ${vectors[mismatch].length}`);
    }
    return vectors;
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
    const timeoutMs = this.options.timeoutMs ?? 10_000;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        const error = new EmbeddingError(this.modelId, `InvokeModel did not answer within ${timeoutMs} ms (timeoutMs)`);
        reject(error);
        abort.abort(error);
      }, timeoutMs);
    });
    try {
      const response = await Promise.race([this.client.send(new sdk.InvokeModelCommand({
        modelId: this.modelId,
        contentType: 'application/json',
        accept: 'application/json',
        body: JSON.stringify(request),
      }), { abortSignal: abort.signal }), timedOut]);
      raw = response.body === undefined ? '' : new TextDecoder().decode(response.body);
    } catch (cause) {
      if (cause instanceof EmbeddingError) throw cause;
      throw new EmbeddingError(this.modelId, `InvokeModel failed: ${(cause as Error).message}`, { cause });
    } finally {
      clearTimeout(timer);
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
