import type { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { BedrockEmbedder, EmbeddingError, Embedder, HashedNgramEmbedder, cosineDistance, deltaS, deltaSPairs } from '../packages/runtime/src/probe';

/** An embedder that answers every text with the vector `make` gives for its position. */
const fixed = (make: (i: number) => unknown): Embedder => ({ embed: async (texts) => texts.map((_t, i) => make(i)) as number[][] });

describe('ΔS refuses embedder output it cannot use, naming the problem', () => {
  test.each([
    ['NaN', fixed((i) => (i === 1 ? [0.5, NaN] : [1, 0])), 'vector 1 has NaN at element 1; ΔS needs finite numbers'],
    ['Infinity', fixed((i) => (i === 0 ? [Infinity, 0] : [1, 0])), 'vector 0 has Infinity at element 0; ΔS needs finite numbers'],
    ['-Infinity', fixed(() => [1, -Infinity]), 'vector 0 has -Infinity at element 1'],
    ['zero-length vectors', fixed(() => []), 'vector 0 is empty (length 0)'],
    ['vectors of different lengths', fixed((i) => (i === 0 ? [1, 0] : [1, 0, 0])), 'vectors have different lengths: vector 0 has 2, vector 1 has 3'],
    ['a number given as text', fixed(() => ['0.5', 1]), 'vector 0 has "0.5" at element 0'],
    ['a vector that is not an array', fixed(() => ({ 0: 1, length: 1 })), 'vector 0 is {"0":1,"length":1}, not an array of numbers'],
    ['no array at all', { embed: async () => undefined as unknown as number[][] }, 'the embedder returned undefined, not an array of vectors'],
    ['the wrong number of vectors', { embed: async () => [[1, 0]] }, 'the embedder returned 1 vectors for 2 texts'],
  ])('%s', async (_label, embedder, problem) => {
    const error = await deltaS('canary rollout', 'blue green switch', { embedder }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect((error as Error).message).toContain(problem);
    expect((error as Error).message).toMatch(/^embedding model \(custom embedder\): /);
  });

  test('names the embedder\'s model or class when it has one', async () => {
    class BrokenEmbedder implements Embedder {
      async embed(texts: string[]) { return texts.map(() => [NaN]); }
    }
    await expect(deltaSPairs([['a', 'b']], { embedder: new BrokenEmbedder() })).rejects.toThrow('embedding model BrokenEmbedder: vector 0 has NaN');
    const withModel = Object.assign(fixed(() => [NaN]), { modelId: 'my-model' });
    await expect(deltaS('a', 'b', { embedder: withModel })).rejects.toThrow('embedding model my-model: vector 0 has NaN');
  });

  test('still takes typed arrays, and the default embedder is unaffected', async () => {
    const typed = fixed((i) => Float64Array.from(i === 0 ? [1, 0] : [0, 1]));
    expect(await deltaS('a', 'b', { embedder: typed })).toBe(1);
    expect(await deltaS('rolled back the canary', 'the canary was rolled back', { embedder: new HashedNgramEmbedder() })).toBeLessThan(0.4);
  });
});

describe('cosineDistance refuses what it cannot compare', () => {
  test.each([
    ['NaN', [NaN, 0], [1, 0], 'cannot compare embeddings with an element that is not a finite number: NaN at index 0'],
    ['Infinity', [1, 0], [0, Infinity], 'cannot compare embeddings with an element that is not a finite number: Infinity at index 1'],
    ['empty vectors', [], [], 'cannot compare empty embeddings (length 0)'],
  ])('%s', (_label, a, b, message) => {
    expect(() => cosineDistance(a, b)).toThrow(RangeError);
    expect(() => cosineDistance(a, b)).toThrow(message);
  });

  test('scales finite vectors whose squares overflow instead of answering NaN', () => {
    expect(cosineDistance([1e200, 0], [3e200, 0])).toBe(0);
    expect(cosineDistance([1e200, 0], [0, 1e200])).toBe(1);
  });
});

describe('BedrockEmbedder', () => {
  test('cuts off an InvokeModel call that never answers at timeoutMs, and aborts it', async () => {
    const send = jest.fn((_command: unknown, _options?: { abortSignal?: AbortSignal }) => new Promise<never>(() => undefined));
    const embedder = new BedrockEmbedder({ client: { send } as unknown as BedrockRuntimeClient, timeoutMs: 100 });
    const started = Date.now();
    const outcome = await Promise.race([
      embedder.embed(['a']).then(() => 'answered', (e: unknown) => e),
      // (unref: once the call has settled, this timer does not hold the jest worker open at the end of the run)
      new Promise((resolve) => { setTimeout(() => resolve('still waiting'), 3_000).unref(); }),
    ]);
    expect(outcome).toBeInstanceOf(EmbeddingError);
    expect((outcome as Error).message).toBe('embedding model amazon.titan-embed-text-v2:0: InvokeModel did not answer within 100 ms (timeoutMs)');
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(send.mock.calls[0][1]?.abortSignal?.aborted).toBe(true);
  });

  test('refuses embeddings of different lengths from different calls', async () => {
    const encode = (value: unknown) => ({ body: new TextEncoder().encode(JSON.stringify(value)) });
    const send = jest.fn(async (command: { input: { body: string } }) => encode({ embedding: JSON.parse(command.input.body).inputText === 'a' ? [1, 2] : [1, 2, 3] }));
    const embedder = new BedrockEmbedder({ client: { send } as unknown as BedrockRuntimeClient });
    await expect(embedder.embed(['a', 'b'])).rejects.toThrow('embedding model amazon.titan-embed-text-v2:0: embeddings have different lengths: embedding 0 has 2, embedding 1 has 3');
  });

  test.each([
    [{ dimensions: 300 }, 'BedrockEmbedder dimensions must be 256, 512 or 1024 (Titan Text Embeddings V2), got: 300'],
    [{ cohereInputType: 'search' }, 'BedrockEmbedder cohereInputType must be one of search_document, search_query, classification, clustering, got: "search"'],
    [{ modelId: '' }, 'BedrockEmbedder modelId must be a non-empty string, got: ""'],
    [{ timeoutMs: 0 }, 'BedrockEmbedder timeoutMs must be a whole number of milliseconds ≥ 1, got: 0'],
  ])('rejects %j when it is built', (options, message) => {
    expect(() => new BedrockEmbedder(options as never)).toThrow(message);
  });
});
