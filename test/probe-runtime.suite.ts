import {
  coverage,
  cosineDistance,
  deltaS,
  deltaSBand,
  deltaSPairs,
  Embedder,
  HashedNgramEmbedder,
  LAMBDA_SYMBOLS,
  lambdaState,
} from '../packages/runtime/src/probe';

describe('HashedNgramEmbedder', () => {
  const embedder = new HashedNgramEmbedder();

  test('returns one unit vector of the documented dimension per text, in order', async () => {
    const vectors = await embedder.embed(['canary release', 'provisioned concurrency', 'canary release']);
    expect(vectors).toHaveLength(3);
    for (const v of vectors) {
      expect(v).toHaveLength(1024);
      expect(Math.hypot(...v)).toBeCloseTo(1, 12);
    }
    expect(vectors[0]).toEqual(vectors[2]);
    expect(vectors[0]).not.toEqual(vectors[1]);
  });

  test('is deterministic across instances', async () => {
    const [a] = await new HashedNgramEmbedder().embed(['How does automatic rollback work?']);
    const [b] = await new HashedNgramEmbedder().embed(['How does automatic rollback work?']);
    expect(a).toEqual(b);
  });

  test('ignores case, punctuation and stop words', async () => {
    const [a, b] = await embedder.embed(['What is a Canary?', 'canary']);
    expect(a).toEqual(b);
  });

  test('embeds text without tokens to the zero vector', async () => {
    const [empty, punctuation] = await embedder.embed(['', ' ?! … ']);
    expect(empty.every((x) => x === 0)).toBe(true);
    expect(punctuation.every((x) => x === 0)).toBe(true);
  });

  test('honours a custom dimension', async () => {
    const [v] = await new HashedNgramEmbedder({ dimension: 256 }).embed(['alias weights']);
    expect(v).toHaveLength(256);
  });

  test('rejects a dimension that is not a power of two', () => {
    expect(() => new HashedNgramEmbedder({ dimension: 1000 })).toThrow('HashedNgramEmbedder dimension must be a power of two ≥ 2, got: 1000');
  });

  test('rejects empty or non-integer n-gram sizes and a negative word weight', () => {
    expect(() => new HashedNgramEmbedder({ ngramSizes: [] })).toThrow('ngramSizes must be positive integers');
    expect(() => new HashedNgramEmbedder({ ngramSizes: [2.5] })).toThrow('ngramSizes must be positive integers, got: [2.5]');
    expect(() => new HashedNgramEmbedder({ wordWeight: -1 })).toThrow('wordWeight must be a finite number ≥ 0, got: -1');
  });

  test('scores inflections and split compounds closer than unrelated words', async () => {
    const near = await deltaS('rollback of the canaries', 'rolled back canary', { embedder });
    const far = await deltaS('rollback of the canaries', 'provisioned concurrency warm-up', { embedder });
    expect(near).toBeLessThan(0.6);
    expect(far).toBeGreaterThan(0.9);
  });
});

describe('deltaS', () => {
  const texts = [
    'A canary release sends a small share of live traffic to the new version.',
    'Provisioned concurrency keeps execution environments initialised.',
    'ΔS is one minus the cosine similarity of unit normalised embeddings: 0.45 is the gate.',
  ];

  test('is 0 for identical text', async () => {
    for (const text of texts) expect(await deltaS(text, text)).toBe(0);
  });

  test('is 0 for texts that differ only in case, punctuation and stop words', async () => {
    expect(await deltaS('What is a canary release?', 'canary release')).toBeCloseTo(0, 12);
  });

  test('is symmetric, bit for bit', async () => {
    for (const a of texts) for (const b of texts) expect(await deltaS(a, b)).toBe(await deltaS(b, a));
  });

  test('stays within [0, 2] and near 1 for unrelated text', async () => {
    const value = await deltaS(texts[0], texts[1]);
    expect(value).toBeGreaterThanOrEqual(0);
    expect(value).toBeLessThanOrEqual(2);
    expect(value).toBeGreaterThan(0.9);
  });

  test('reaches 2 for opposite embeddings and is clamped there', async () => {
    const opposite: Embedder = { embed: async (t) => t.map((x) => (x === 'up' ? [1, 0] : [-1, -1e-17])) };
    expect(await deltaS('up', 'down', { embedder: opposite })).toBe(2);
  });

  test('gives 0 for two blank texts and 1 for a blank against a non-blank one, without embedding blanks', async () => {
    const seen: string[] = [];
    const recording: Embedder = { embed: async (t) => { seen.push(...t); return t.map(() => [1, 0]); } };
    expect(await deltaS('', '   ', { embedder: recording })).toBe(0);
    expect(await deltaS('', 'canary', { embedder: recording })).toBe(1);
    expect(await deltaS('canary', '\n', { embedder: recording })).toBe(1);
    expect(seen).toEqual(['canary', 'canary']);
  });

  test('treats text the embedder maps to the zero vector like blank text', async () => {
    expect(await deltaS('?!', '...')).toBe(0);
    expect(await deltaS('?!', 'canary')).toBe(1);
  });

  test('uses the given embedder instead of the default', async () => {
    const fixed: Embedder = { embed: async (t) => t.map((x) => (x === 'a' ? [1, 0] : [1, 1])) };
    expect(await deltaS('a', 'b', { embedder: fixed })).toBeCloseTo(1 - Math.SQRT1_2, 12);
  });

  test('embeds each distinct text once across many pairs', async () => {
    const calls: string[][] = [];
    const counting: Embedder = { embed: async (t) => { calls.push(t); return t.map((x) => [x.length, 1]); } };
    const values = await deltaSPairs([['target', 'answer one'], ['target', 'answer two'], ['target', 'target']], { embedder: counting });
    expect(calls).toEqual([['target', 'answer one', 'answer two']]);
    expect(values).toHaveLength(3);
    expect(values[2]).toBe(0);
  });

  test('fails when the embedder returns the wrong number of vectors', async () => {
    const broken: Embedder = { embed: async () => [[1, 0]] };
    await expect(deltaS('a', 'b', { embedder: broken })).rejects.toThrow('the embedder returned 1 vectors for 2 texts');
  });

  test('rejects a value that is not a string with a TypeError', async () => {
    await expect(deltaS(undefined as unknown as string, 'canary')).rejects.toThrow('ΔS compares strings, got undefined and string');
    await expect(deltaSPairs([['a', 'b'], ['c', 5 as unknown as string]])).rejects.toThrow('ΔS compares strings, got string and number in pair 1');
  });

  test('cosineDistance rejects vectors of different lengths', () => {
    expect(() => cosineDistance([1, 0], [1, 0, 0])).toThrow('cannot compare embeddings of different lengths: 2 and 3');
  });

  test('cosineDistance normalises its inputs', () => {
    expect(cosineDistance([3, 0], [0.5, 0])).toBe(0);
    expect(cosineDistance([0, 2], [5, 0])).toBe(1);
  });

  test.each([
    [0, 'stable'], [0.3999, 'stable'], [0.4, 'transitional'], [0.5999, 'transitional'], [0.6, 'risk'], [2, 'risk'],
  ] as const)('deltaSBand(%s) is %s', (value, band) => {
    expect(deltaSBand(value)).toBe(band);
  });
});

describe('coverage', () => {
  test('is the share of distinct target content tokens found in the answer', () => {
    // Target content tokens: canary, gets, small, share, traffic → "gets" is a stop word, so 4: canary, small, share, traffic.
    expect(coverage('The canary sees traffic.', 'The canary gets a small share of traffic.')).toBe(2 / 4);
  });

  test('is 1 when the answer contains every target token, whatever the order, case and punctuation', () => {
    expect(coverage('TRAFFIC: share; small... canary!', 'A canary gets a small share of traffic')).toBe(1);
  });

  test('is 0 when nothing matches, and for an empty answer', () => {
    expect(coverage('provisioned concurrency', 'canary traffic')).toBe(0);
    expect(coverage('', 'canary traffic')).toBe(0);
  });

  test('counts repeated target tokens once', () => {
    expect(coverage('canary', 'canary canary canary traffic')).toBe(1 / 2);
  });

  test('does not stem: a plural does not cover the singular', () => {
    expect(coverage('canaries', 'canary')).toBe(0);
  });

  test('keeps decimals and apostrophes inside words as one token', () => {
    expect(coverage('the gate is 0.45', 'median 0.45')).toBe(1 / 2);
    expect(coverage('0 45', 'median 0.45')).toBe(0);
    expect(coverage("it doesn't roll back", 'doesnt')).toBe(1);
  });

  test('falls back to all tokens when the target is only stop words', () => {
    expect(coverage('it is what it is', 'what is it')).toBe(1);
    expect(coverage('nothing here', 'what is it')).toBe(0);
  });

  test('is 1 for a target without tokens', () => {
    expect(coverage('anything', '')).toBe(1);
    expect(coverage('', '?!')).toBe(1);
  });

  test('rejects a value that is not a string with a TypeError', () => {
    expect(() => coverage(null as unknown as string, 'canary')).toThrow(new TypeError('coverage compares strings, got object and string'));
  });

  test('stays in [0, 1]', () => {
    const value = coverage('a canary release sends traffic', 'A canary release sends a small share of live traffic to the new Lambda version');
    expect(value).toBeGreaterThan(0);
    expect(value).toBeLessThan(1);
  });
});

describe('lambdaState', () => {
  test('one value, a flat sequence and a falling sequence are convergent', () => {
    expect(lambdaState([0.3])).toBe('convergent');
    expect(lambdaState([0.3, 0.3, 0.3, 0.3, 0.3, 0.3])).toBe('convergent');
    expect(lambdaState([0.6, 0.5, 0.4, 0.3, 0.2, 0.1])).toBe('convergent');
  });

  test('a step of exactly +0.02 is still small (convergent); +0.021 is not', () => {
    expect(lambdaState([0.3, 0.32])).toBe('convergent');
    // One significant rise, mean rises 0.0105 ≤ 0.04: divergent.
    expect(lambdaState([0.3, 0.321])).toBe('divergent');
  });

  test('small steps whose rolling mean creeps more than 0.02 above the start are not convergent', () => {
    // Every Δ = +0.02 (small), but the rolling mean ends at 0.35, 0.05 above the first value.
    expect(lambdaState([0.3, 0.32, 0.34, 0.36, 0.38, 0.40])).toBe('divergent');
  });

  test('a rolling mean exactly 0.02 above the start is still convergent', () => {
    // Means: 0.30, 0.31, 0.32 → 0.32 − 0.30 = 0.02, on the boundary.
    expect(lambdaState([0.3, 0.32, 0.34])).toBe('convergent');
    // Means: 0.30, 0.31, 0.3203 → just above.
    expect(lambdaState([0.3, 0.32, 0.341])).toBe('divergent');
  });

  test('noise within ±0.02 is convergent, not recursive', () => {
    expect(lambdaState([0.3, 0.31, 0.3, 0.31, 0.3, 0.31])).toBe('convergent');
  });

  test('significant steps that alternate in sign are recursive', () => {
    expect(lambdaState([0.3, 0.5, 0.3, 0.5, 0.3, 0.5])).toBe('recursive');
    expect(lambdaState([0.5, 0.3, 0.5])).toBe('recursive');
  });

  test('small steps between alternating significant steps do not break the alternation', () => {
    expect(lambdaState([0.3, 0.5, 0.51, 0.3, 0.31, 0.5])).toBe('recursive');
  });

  test('two significant steps of the same sign are not recursive', () => {
    // Δ = +0.05, −0.05, −0.05, +0.05: two falls in a row break the alternation.
    expect(lambdaState([0.3, 0.35, 0.3, 0.25, 0.3])).toBe('divergent');
    // Δ = −0.1, −0.1, +0.03: the mean falls throughout, but the one rise of 0.03 is not small.
    expect(lambdaState([0.5, 0.4, 0.3, 0.33])).toBe('divergent');
  });

  test('a steady rise with the rolling mean rising exactly 0.04 a step is divergent; more is chaotic', () => {
    // x = 0.1, 0.18: mean 0.1 → 0.14, a rise of exactly 0.04.
    expect(lambdaState([0.1, 0.18])).toBe('divergent');
    // x = 0.1, 0.181: mean rises 0.0405.
    expect(lambdaState([0.1, 0.181])).toBe('chaotic');
  });

  test('a late jump raises the rolling mean by (jump − mean) / (t + 1)', () => {
    // Means 0.2, 0.2, 0.2, 0.2, 0.2 then x₅ = 0.44: the mean rises (0.44 − 0.2) / 6 = 0.04: divergent.
    expect(lambdaState([0.2, 0.2, 0.2, 0.2, 0.2, 0.44])).toBe('divergent');
    expect(lambdaState([0.2, 0.2, 0.2, 0.2, 0.2, 0.45])).toBe('chaotic');
  });

  test('alternation wins over a fast-rising mean (rules apply in order)', () => {
    expect(lambdaState([0.1, 0.9, 0.5, 1.5])).toBe('recursive');
  });

  test('thresholds can be changed', () => {
    expect(lambdaState([0.3, 0.35], { flat: 0.05 })).toBe('convergent');
    expect(lambdaState([0.1, 0.3], { maxMeanRise: 0.1 })).toBe('divergent');
    expect(lambdaState([0.1, 0.3])).toBe('chaotic');
  });

  test('is deterministic', () => {
    const sequence = [0.31, 0.42, 0.38, 0.47, 0.29, 0.5];
    const first = lambdaState(sequence);
    for (let i = 0; i < 5; i++) expect(lambdaState([...sequence])).toBe(first);
  });

  test('rejects an empty sequence and non-finite values', () => {
    expect(() => lambdaState([])).toThrow('lambdaState needs at least one ΔS value, got none');
    expect(() => lambdaState([0.2, NaN])).toThrow('lambdaState needs finite ΔS values, got NaN at index 1');
  });

  test('has a WFGY symbol for every state', () => {
    expect(LAMBDA_SYMBOLS).toEqual({ convergent: '→', divergent: '←', recursive: '<>', chaotic: '×' });
  });
});
