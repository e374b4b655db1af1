import { BedrockRuntimeClient, InvokeModelCommand, InvokeModelCommandOutput } from '@aws-sdk/client-bedrock-runtime';
import { mockClient } from './helpers/sdk-mock';
import { BedrockEmbedder, deltaS, EmbeddingError, ProbeError } from '../packages/runtime/src/probe';

const bedrock = mockClient(BedrockRuntimeClient);

// The SDK hands back a Uint8Array subclass; a plain Uint8Array is what it is underneath.
const body = (value: unknown): InvokeModelCommandOutput['body'] =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value)) as InvokeModelCommandOutput['body'];
const sentBodies = () => bedrock.commandCalls(InvokeModelCommand).map((call) => ({
  modelId: call.args[0].input.modelId,
  body: JSON.parse(call.args[0].input.body as string),
}));

beforeEach(() => bedrock.reset());

describe('BedrockEmbedder', () => {
  test('calls Titan Text Embeddings V2 by default, one text per InvokeModel, results in order', async () => {
    bedrock.on(InvokeModelCommand).callsFake((input) => {
      const text = JSON.parse(input.body).inputText as string;
      return { body: body({ embedding: [text.length, 1], inputTextTokenCount: 2 }) };
    });
    const vectors = await new BedrockEmbedder({ client: new BedrockRuntimeClient({}) }).embed(['a', 'bbb', 'cc']);
    expect(vectors).toEqual([[1, 1], [3, 1], [2, 1]]);
    const calls = sentBodies();
    expect(calls.map((c) => c.modelId)).toEqual(Array(3).fill('amazon.titan-embed-text-v2:0'));
    expect(calls.map((c) => c.body)).toEqual([{ inputText: 'a' }, { inputText: 'bbb' }, { inputText: 'cc' }]);
    const input = bedrock.commandCalls(InvokeModelCommand)[0].args[0].input;
    expect([input.contentType, input.accept]).toEqual(['application/json', 'application/json']);
  });

  test('sends the configured model id and Titan dimensions', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body({ embedding: [0.1, 0.2] }) });
    const embedder = new BedrockEmbedder({ client: new BedrockRuntimeClient({}), modelId: 'amazon.titan-embed-text-v2:0', dimensions: 256 });
    await embedder.embed(['x']);
    expect(sentBodies()).toEqual([{ modelId: 'amazon.titan-embed-text-v2:0', body: { inputText: 'x', dimensions: 256 } }]);
  });

  test('batches Cohere models 96 texts a call with the clustering input type', async () => {
    bedrock.on(InvokeModelCommand).callsFake((input) => {
      const texts = JSON.parse(input.body).texts as string[];
      return { body: body({ embeddings: texts.map((t) => [Number(t), 0]) }) };
    });
    const texts = Array.from({ length: 100 }, (_, i) => String(i + 1));
    const vectors = await new BedrockEmbedder({ client: new BedrockRuntimeClient({}), modelId: 'cohere.embed-english-v3' }).embed(texts);
    expect(vectors.map((v) => v[0])).toEqual(texts.map(Number));
    const calls = sentBodies();
    expect(calls.map((c) => c.body.texts.length)).toEqual([96, 4]);
    expect(calls[0].body.input_type).toBe('clustering');
  });

  test('reads Cohere embeddings given by type', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body({ embeddings: { float: [[1, 2]] } }) });
    const embedder = new BedrockEmbedder({ client: new BedrockRuntimeClient({}), modelId: 'us.cohere.embed-english-v3' });
    expect(await embedder.embed(['x'])).toEqual([[1, 2]]);
  });

  test('makes no call for no texts', async () => {
    expect(await new BedrockEmbedder({ client: new BedrockRuntimeClient({}) }).embed([])).toEqual([]);
    expect(bedrock.commandCalls(InvokeModelCommand)).toHaveLength(0);
  });

  test('keeps at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    bedrock.on(InvokeModelCommand).callsFake(async () => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return { body: body({ embedding: [1] }) };
    });
    await new BedrockEmbedder({ client: new BedrockRuntimeClient({}), concurrency: 2 }).embed(['a', 'b', 'c', 'd', 'e']);
    expect(most).toBe(2);
  });

  test('feeds deltaS: ΔS of orthogonal embeddings is 1', async () => {
    bedrock.on(InvokeModelCommand).callsFake((input) => ({
      body: body({ embedding: JSON.parse(input.body).inputText === 'old answer' ? [1, 0] : [0, 3] }),
    }));
    const embedder = new BedrockEmbedder({ client: new BedrockRuntimeClient({}) });
    expect(await deltaS('old answer', 'new answer', { embedder })).toBe(1);
  });

  test('rejects a response body that is not JSON, naming the model', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body('<html>busy</html>') });
    const embed = new BedrockEmbedder({ client: new BedrockRuntimeClient({}) }).embed(['x']);
    await expect(embed).rejects.toThrow(EmbeddingError);
    await expect(embed).rejects.toThrow('embedding model amazon.titan-embed-text-v2:0: response body is not JSON: "<html>busy</html>"');
  });

  test('rejects a response without an embedding array', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body({ message: 'throttled' }) });
    await expect(new BedrockEmbedder({ client: new BedrockRuntimeClient({}) }).embed(['x']))
      .rejects.toThrow(`embedding model amazon.titan-embed-text-v2:0: response has no 'embedding' array: {"message":"throttled"}`);
  });

  test('rejects an embedding holding something other than finite numbers', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body({ embedding: [0.1, 'x', 0.3] }) });
    await expect(new BedrockEmbedder({ client: new BedrockRuntimeClient({}) }).embed(['x']))
      .rejects.toThrow('embedding 0 is not a non-empty array of finite numbers (element 1 is "x")');
  });

  test('rejects an empty embedding', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body({ embedding: [] }) });
    await expect(new BedrockEmbedder({ client: new BedrockRuntimeClient({}) }).embed(['x']))
      .rejects.toThrow('embedding 0 is not a non-empty array of finite numbers');
  });

  test('rejects a Cohere response with fewer vectors than texts', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body({ embeddings: [[1, 2]] }) });
    await expect(new BedrockEmbedder({ client: new BedrockRuntimeClient({}), modelId: 'cohere.embed-multilingual-v3' }).embed(['x', 'y']))
      .rejects.toThrow('embedding model cohere.embed-multilingual-v3: asked for 2 embeddings, got 1');
  });

  test('wraps a failed call in an EmbeddingError that keeps the cause', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform bedrock:InvokeModel'), { name: 'AccessDeniedException' });
    bedrock.on(InvokeModelCommand).rejects(denied);
    const error = await new BedrockEmbedder({ client: new BedrockRuntimeClient({}) }).embed(['x']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmbeddingError);
    expect(error).toBeInstanceOf(ProbeError);
    expect((error as EmbeddingError).modelId).toBe('amazon.titan-embed-text-v2:0');
    expect((error as Error).message).toBe('embedding model amazon.titan-embed-text-v2:0: InvokeModel failed: User is not authorized to perform bedrock:InvokeModel');
    expect((error as Error).cause).toBe(denied);
  });

  test('creates its own client when none is given', async () => {
    bedrock.on(InvokeModelCommand).resolves({ body: body({ embedding: [1, 2] }) });
    expect(await new BedrockEmbedder().embed(['x'])).toEqual([[1, 2]]);
  });

  test('rejects a concurrency below 1', () => {
    expect(() => new BedrockEmbedder({ concurrency: 0 })).toThrow('BedrockEmbedder concurrency must be an integer ≥ 1, got: 0');
  });
});
