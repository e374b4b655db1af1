import { Embedder, HashedNgramEmbedder } from './embedder.js';
import { EmbeddingError } from './errors.js';

/** Options of {@link deltaS} and {@link deltaSPairs}. */
export interface DeltaSOptions {
  /**
   * The embedder that turns texts into vectors.
   * @default - a shared HashedNgramEmbedder with its defaults
   */
  readonly embedder?: Embedder;
}

/** ΔS band of the product definitions: < 0.40 stable, 0.40 to < 0.60 transitional, ≥ 0.60 risk. */
export type DeltaSBand = 'stable' | 'transitional' | 'risk';

let defaultEmbedder: HashedNgramEmbedder | undefined;

/** The embedder used when none is given: one HashedNgramEmbedder with default options, shared. */
export function getDefaultEmbedder(): HashedNgramEmbedder {
  defaultEmbedder ??= new HashedNgramEmbedder();
  return defaultEmbedder;
}

/**
 * ΔS between two vectors: 1 − their cosine (so length does not matter), clamped to [0, 2] against rounding.
 * Zero vectors stand for "no content": two of them give 0 (nothing differs), one of them against a
 * non-zero vector gives 1 (orthogonal: no shared meaning, neither agreement nor opposition).
 *
 * @throws RangeError for vectors of different lengths, empty vectors, or an element that is not a finite number
 * (NaN or ±Infinity would otherwise pass as "no content" or give NaN)
 */
export function cosineDistance(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) {
    throw new RangeError(`cannot compare embeddings of different lengths: ${a.length} and ${b.length}`);
  }
  if (a.length === 0) throw new RangeError('cannot compare empty embeddings (length 0)');
  // One pass, no copies: this runs for every answer of every probe and every request of the demo.
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  if (!(Number.isFinite(dot) && Number.isFinite(normA) && Number.isFinite(normB))) {
    // Checked once after the loop, not per element: the common case pays nothing.
    const bad = firstNonFinite(a) ?? firstNonFinite(b);
    if (bad) throw new RangeError(`cannot compare embeddings with an element that is not a finite number: ${bad}`);
    // Every element is finite but a square overflowed: the cosine does not depend on scale, so scale down.
    return cosineDistance(scaled(a), scaled(b));
  }
  const zeroA = !(normA > 0);
  const zeroB = !(normB > 0);
  if (zeroA || zeroB) return zeroA && zeroB ? 0 : 1;
  // sqrt(normA) * sqrt(normB) is commutative in floating point, so the result is symmetric bit for bit.
  return Math.min(2, Math.max(0, 1 - dot / (Math.sqrt(normA) * Math.sqrt(normB))));
}

/**
 * ΔS(a, b) = 1 − cos(embed(a), embed(b)) with unit-normalised embeddings; in [0, 2], symmetric, and
 * exactly 0 for identical strings (they are not even embedded).
 *
 * Blank text (empty or only whitespace) is never sent to the embedder (Bedrock rejects it): two blank
 * texts give 0, a blank text against a non-blank one gives 1. An embedder that returns the zero vector
 * (the hashed one does for text with no tokens, such as "?!") is treated the same way.
 */
export async function deltaS(a: string, b: string, options: DeltaSOptions = {}): Promise<number> {
  const [value] = await deltaSPairs([[a, b]], options);
  return value;
}

/**
 * ΔS of many pairs with one `embed` call over the distinct non-blank texts, so a target shared by many
 * answers is embedded once. Same rules as {@link deltaS}; results are in the order of the pairs.
 */
export async function deltaSPairs(pairs: ReadonlyArray<readonly [string, string]>, options: DeltaSOptions = {}): Promise<number[]> {
  const embedder = options.embedder ?? getDefaultEmbedder();
  pairs.forEach(([a, b], i) => {
    // Plain JavaScript callers (a probe reading a JSON pointer) can pass undefined; say so plainly.
    if (typeof a !== 'string' || typeof b !== 'string') {
      throw new TypeError(`ΔS compares strings, got ${typeof a} and ${typeof b}${pairs.length > 1 ? ` in pair ${i}` : ''}`);
    }
  });
  const distinct = new Map<string, number>();
  for (const [a, b] of pairs) {
    for (const text of [a, b]) {
      if (!isBlank(text) && !distinct.has(text)) distinct.set(text, distinct.size);
    }
  }
  const texts = [...distinct.keys()];
  const vectors = texts.length > 0 ? await embedder.embed(texts) : [];
  checkVectors(vectors, texts.length, embedder);
  return pairs.map(([a, b]) => {
    if (a === b) return 0;
    const blankA = isBlank(a);
    const blankB = isBlank(b);
    if (blankA || blankB) return blankA && blankB ? 0 : 1;
    return cosineDistance(vectors[distinct.get(a)!], vectors[distinct.get(b)!]);
  });
}

/** The band a ΔS value falls in (< 0.40 stable, 0.40–0.60 transitional, ≥ 0.60 risk). */
export function deltaSBand(value: number): DeltaSBand {
  if (value < 0.4) return 'stable';
  return value < 0.6 ? 'transitional' : 'risk';
}

function isBlank(text: string): boolean {
  return text.trim().length === 0;
}

/**
 * Refuses embedder output ΔS cannot use, naming the problem: not one vector per text, a vector that is not an array
 * or is empty, vectors of different lengths, an element that is not a finite number. Silently, NaN would score as
 * "no content" (ΔS 1 or 0) and Infinity as NaN, either of which a gate would misread.
 */
function checkVectors(vectors: unknown, count: number, embedder: Embedder): asserts vectors is number[][] {
  const fail = (problem: string): never => {
    throw new EmbeddingError(embedderName(embedder), problem);
  };
  if (!Array.isArray(vectors)) fail(`the embedder returned ${describe(vectors)}, not an array of vectors`);
  const list = vectors as unknown[];
  if (list.length !== count) fail(`the embedder returned ${list.length} vectors for ${count} texts`);
  let length: number | undefined;
  list.forEach((vector, i) => {
    if (!Array.isArray(vector) && !(ArrayBuffer.isView(vector) && !(vector instanceof DataView))) {
      fail(`vector ${i} is ${describe(vector)}, not an array of numbers`);
    }
    const v = vector as ArrayLike<unknown>;
    if (v.length === 0) fail(`vector ${i} is empty (length 0)`);
    if (length === undefined) length = v.length;
    else if (v.length !== length) fail(`vectors have different lengths: vector 0 has ${length}, vector ${i} has ${v.length}`);
    for (let j = 0; j < v.length; j++) {
      const x = v[j];
      if (typeof x !== 'number' || !Number.isFinite(x)) fail(`vector ${i} has ${describe(x)} at element ${j}; ΔS needs finite numbers`);
    }
  });
}

function embedderName(embedder: Embedder): string {
  const modelId = (embedder as { modelId?: unknown }).modelId;
  if (typeof modelId === 'string' && modelId !== '') return modelId;
  const name = (embedder as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : '(custom embedder)';
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value)?.slice(0, 40) ?? typeof value;
  } catch {
    return `a ${typeof value}`;
  }
}

function firstNonFinite(vector: readonly number[]): string | undefined {
  for (let i = 0; i < vector.length; i++) {
    if (typeof vector[i] !== 'number' || !Number.isFinite(vector[i])) return `${describe(vector[i])} at index ${i}`;
  }
  return undefined;
}

function scaled(vector: readonly number[]): number[] {
  let max = 0;
  for (const x of vector) max = Math.max(max, Math.abs(x));
  return max > 0 ? vector.map((x) => x / max) : [...vector];
}
