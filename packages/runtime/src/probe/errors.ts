/** Base class of every error the probe runtime throws, so callers can catch the whole area at once. */
export class ProbeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProbeError';
  }
}

/** A gold-set file that cannot be used; `line` is 1-based (0 when the file as a whole is at fault). */
export class GoldSetError extends ProbeError {
  /** 1-based line number of the offending line; 0 when the problem is the whole file (e.g. it is empty). */
  public readonly line: number;
  /** The offending field (e.g. `paraphrases`), or undefined when the line is not a JSON object. */
  public readonly field: string | undefined;

  constructor(line: number, field: string | undefined, problem: string, options?: { cause?: unknown }) {
    super(`gold set line ${line}${field === undefined ? '' : `, field '${field}'`}: ${problem}`, options);
    this.name = 'GoldSetError';
    this.line = line;
    this.field = field;
  }
}

/** An embedding service answered with something that is not a usable embedding, or failed outright. */
export class EmbeddingError extends ProbeError {
  /** The model that was asked. */
  public readonly modelId: string;

  constructor(modelId: string, problem: string, options?: { cause?: unknown }) {
    super(`embedding model ${modelId}: ${problem}`, options);
    this.name = 'EmbeddingError';
    this.modelId = modelId;
  }
}
