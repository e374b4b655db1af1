import { contentTokens } from './tokenize.js';

/** Turns texts into embedding vectors; one vector per text, in the order given. */
export interface Embedder {
  /** Embeds every text; the result has one vector per input text, in the same order. */
  embed(texts: string[]): Promise<number[][]>;
}

/** Options of {@link HashedNgramEmbedder}. */
export interface HashedNgramEmbedderOptions {
  /**
   * Length of the vectors. A power of two keeps the bucket choice a cheap mask; more dimensions mean fewer
   * hash collisions between unrelated features.
   * @default 1024
   */
  readonly dimension?: number;
  /**
   * Character n-gram lengths taken from each word (padded as `<word>`).
   * @default [3, 4]
   */
  readonly ngramSizes?: readonly number[];
  /**
   * Weight of a token's whole-word feature (its light stem), relative to the token's character n-grams, which
   * share a weight of 1 between them. The joined pair of each token and the next gets half this weight.
   * Set 0 to embed by character n-grams alone.
   * @default 0.5
   */
  readonly wordWeight?: number;
}

/**
 * Deterministic, offline embedder: feature hashing of whole words and their character n-grams.
 *
 * Text is tokenised by `contentTokens` (NFKC, lower case, split on punctuation, stop words dropped). Each
 * token contributes its character n-grams (of `<token>`, lengths `ngramSizes`, default 3 and 4), which share
 * a weight of 1 so that a long word counts no more than a short one; a whole-word feature of its
 * `lightStem`, weight `wordWeight` (default 0.5); and the stem of itself joined to the next token, weight
 * `wordWeight / 2`, so that "roll back" meets "rollback". Every feature is hashed (32-bit FNV-1a) to one
 * of `dimension` buckets (default 1024) with a sign taken from the hash (signed feature hashing, so
 * collisions cancel on average instead of adding up), and the vector is L2-normalised to unit length.
 * N-grams make inflections and compounds overlap ("rollback" / "rolled back", "canary" / "canaries");
 * synonyms with no shared letters do not, which is the price of needing no model.
 * A text with no tokens (empty, or only punctuation) embeds to the zero vector.
 */
export class HashedNgramEmbedder implements Embedder {
  /** Length of every vector this embedder returns. */
  public readonly dimension: number;
  private readonly ngramSizes: readonly number[];
  private readonly wordWeight: number;

  constructor(options: HashedNgramEmbedderOptions = {}) {
    this.dimension = options.dimension ?? 1024;
    this.ngramSizes = options.ngramSizes ?? [3, 4];
    this.wordWeight = options.wordWeight ?? 0.5;
    if (!Number.isInteger(this.dimension) || this.dimension < 2 || (this.dimension & (this.dimension - 1)) !== 0) {
      throw new RangeError(`HashedNgramEmbedder dimension must be a power of two ≥ 2, got: ${options.dimension}`);
    }
    if (this.ngramSizes.length === 0 || this.ngramSizes.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new RangeError(`HashedNgramEmbedder ngramSizes must be positive integers, got: [${this.ngramSizes.join(', ')}]`);
    }
    if (!(this.wordWeight >= 0) || !Number.isFinite(this.wordWeight)) {
      throw new RangeError(`HashedNgramEmbedder wordWeight must be a finite number ≥ 0, got: ${options.wordWeight}`);
    }
  }

  /** Embeds every text synchronously; the promise is only there to satisfy {@link Embedder}. */
  public async embed(texts: string[]): Promise<number[][]> {
    return texts.map((text) => this.embedOne(text));
  }

  /** The unit vector of one text (the zero vector when it has no tokens). */
  public embedOne(text: string): number[] {
    const vector = new Float64Array(this.dimension);
    const mask = this.dimension - 1;
    const addHash = (hash: number, weight: number) => {
      vector[hash & mask] += hash & 0x80000000 ? -weight : weight;
    };
    const tokens = contentTokens(text);
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (this.wordWeight > 0) {
        addHash(fnv1a(lightStem(token), WORD_SEED), this.wordWeight);
        // Writers split and join compounds freely ("roll back" / "rollback"); the joined pair meets the compound.
        if (i + 1 < tokens.length) addHash(fnv1a(lightStem(token + tokens[i + 1]), WORD_SEED), this.wordWeight / 2);
      }
      const padded = `<${token}>`;
      let count = 0;
      for (const n of this.ngramSizes) count += Math.max(0, padded.length - n + 1);
      if (count === 0) {
        // A token shorter than every n-gram (e.g. "a" with only n = 4) still gets one feature: its padded self.
        addHash(fnv1a(padded), 1);
        continue;
      }
      // Hashed in place rather than sliced out: the same hash as fnv1a(padded.slice(j, j + n)), no strings made.
      for (const n of this.ngramSizes) {
        for (let j = 0; j + n <= padded.length; j++) addHash(fnv1a(padded, FNV_OFFSET, j, j + n), 1 / count);
      }
    }
    let sum = 0;
    for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
    const norm = Math.sqrt(sum);
    const unit = new Array<number>(this.dimension);
    for (let i = 0; i < vector.length; i++) unit[i] = norm > 0 ? vector[i] / norm : 0;
    return unit;
  }
}

/**
 * A deliberately crude English suffix stripper for the whole-word features, so that "starts" meets "start"
 * and "measured" meets "measure": -ies → -y, then one of -ing, -ed, -s (not -ss), then a final -e, each
 * only when enough of the word is left. It over- and under-stems; the character n-grams cover the rest.
 */
export function lightStem(token: string): string {
  let stem = token;
  if (stem.length > 4 && stem.endsWith('ies')) stem = `${stem.slice(0, -3)}y`;
  else if (stem.length > 5 && stem.endsWith('ing')) stem = stem.slice(0, -3);
  else if (stem.length > 4 && stem.endsWith('ed')) stem = stem.slice(0, -2);
  else if (stem.length > 3 && stem.endsWith('s') && !stem.endsWith('ss')) stem = stem.slice(0, -1);
  if (stem.length > 4 && stem.endsWith('e')) stem = stem.slice(0, -1);
  return stem;
}

// 32-bit FNV-1a over UTF-16 code units [start, end) of text, continuing from `seed`: tiny, fast, and the
// same on every platform.
const FNV_OFFSET = 0x811c9dc5;
function fnv1a(text: string, seed: number = FNV_OFFSET, start = 0, end = text.length): number {
  let hash = seed;
  for (let i = start; i < end; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

// Whole-word features get their own namespace (hashing continues from "w ") so that the word "ack" and the
// n-gram "ack" of "back" are different features.
const WORD_SEED = fnv1a('w ');
