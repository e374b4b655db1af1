import { latencyVerdict, mannWhitneyU } from '../packages/runtime/src/probe';

// Expected p-values were cross-checked with scipy.stats.mannwhitneyu(new, current, alternative='greater')
// (method='exact' for the exact cases, method='asymptotic', use_continuity=True for the normal ones).
describe('mannWhitneyU', () => {
  test('all new samples slower: U = n·m and the exact p is 1 / C(N, n)', () => {
    // new = 3, 4, 5 above current = 1, 2: all 3 × 2 = 6 pairs have new slower, U = 6. Of the C(5, 3) = 10
    // equally likely arrangements only this one reaches U = 6, so p = P(U ≥ 6) = 1/10.
    const result = mannWhitneyU([3, 4, 5], [1, 2]);
    expect(result).toMatchObject({ u: 6, method: 'exact', nNew: 3, nCurrent: 2 });
    expect(result.p).toBeCloseTo(0.1, 12);
  });

  test('a small interleaved case matches the hand-counted distribution', () => {
    // new = 1, 3, 5 vs current = 2, 4: new slower in (3 > 2), (5 > 2), (5 > 4) → U = 3. For 3 vs 2 values the
    // 10 arrangements give U = 0..6 with counts 1, 1, 2, 2, 2, 1, 1, so P(U ≥ 3) = (2 + 2 + 1 + 1) / 10 = 0.6.
    const result = mannWhitneyU([1, 3, 5], [2, 4]);
    expect(result.u).toBe(3);
    expect(result.p).toBeCloseTo(0.6, 12);
  });

  test('all new samples faster: U = 0 and p = 1', () => {
    const result = mannWhitneyU([1, 2], [3, 4, 5]);
    expect(result.u).toBe(0);
    expect(result.p).toBeCloseTo(1, 12);
  });

  test('6 against 6 without ties uses the exact distribution (scipy: p = 0.0324675)', () => {
    const result = mannWhitneyU([12, 15, 11, 19, 14, 20], [10, 13, 9, 16, 8, 7]);
    expect(result.u).toBe(30);
    expect(result.method).toBe('exact');
    expect(result.p).toBeCloseTo(0.0324675, 6);
    // z by hand: (30 − 18 − 0.5) / √(36 · 13 / 12) = 11.5 / √39 = 1.84147.
    expect(result.z).toBeCloseTo(1.84147, 5);
  });

  test('ties switch to the normal approximation with tie and continuity corrections', () => {
    // new = 2, 3, 3, 4, 6; current = 1, 2, 3, 5. Pooled ranks: 1→1, 2→2.5 (×2), 3→5 (×3), 4→7, 5→8, 6→9.
    // R(new) = 2.5 + 5 + 5 + 7 + 9 = 28.5, U = 28.5 − 15 = 13.5. Ties: (2³−2) + (3³−3) = 30.
    // σ² = 20/12 · (10 − 30/72) = 15.9722; z = (13.5 − 10 − 0.5) / 3.99653 = 0.75065; p = 1 − Φ(z) = 0.2264311.
    const result = mannWhitneyU([2, 3, 3, 4, 6], [1, 2, 3, 5]);
    expect(result).toMatchObject({ u: 13.5, method: 'normal' });
    expect(result.z).toBeCloseTo(0.75065, 5);
    expect(result.p).toBeCloseTo(0.2264311, 6);
  });

  test('samples of 50 or more use the normal approximation (scipy: p = 0.0017827)', () => {
    const newer = Array.from({ length: 60 }, (_, i) => 100 + ((i * 37) % 61) + 0.5);
    const current = Array.from({ length: 55 }, (_, i) => 95 + ((i * 29) % 53));
    const result = mannWhitneyU(newer, current);
    expect(result).toMatchObject({ u: 2171, method: 'normal' });
    expect(result.p).toBeCloseTo(0.0017827, 6);
  });

  test('the exact distribution stays accurate for 30 against 25 (scipy: p = 1.9e-6)', () => {
    const newer = Array.from({ length: 30 }, (_, i) => 50 + ((i * 7) % 31) * 1.3);
    const current = Array.from({ length: 25 }, (_, i) => 40 + ((i * 11) % 26) * 1.1 + 0.01);
    const result = mannWhitneyU(newer, current);
    expect(result).toMatchObject({ u: 634, method: 'exact' });
    expect(result.p).toBeGreaterThan(1.85e-6);
    expect(result.p).toBeLessThan(1.95e-6);
  });

  test('every value equal says nothing: z = 0, p = 1', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5])).toMatchObject({ u: 3, z: 0, p: 1, method: 'normal' });
  });

  test('is one-sided: swapping the samples turns a small p into a large one', () => {
    const slow = [30, 31, 32, 33, 34, 35];
    const fast = [10, 11, 12, 13, 14, 15];
    expect(mannWhitneyU(slow, fast).p).toBeLessThan(0.01);
    expect(mannWhitneyU(fast, slow).p).toBeGreaterThan(0.99);
  });

  test('rejects empty samples and non-finite values', () => {
    expect(() => mannWhitneyU([], [1])).toThrow('mannWhitneyU needs at least one new sample');
    expect(() => mannWhitneyU([1], [2, Infinity])).toThrow('current samples must be finite, got Infinity at index 1');
  });
});

describe('latencyVerdict', () => {
  // 40 deterministic "warm latencies" around 100 ms, spread 90–129 ms.
  const base = Array.from({ length: 40 }, (_, i) => 90 + ((i * 17) % 40));
  const scaled = (factor: number) => base.map((x) => x * factor);

  test('fails when new is significantly slower and its p95 exceeds 1.25× current', () => {
    const verdict = latencyVerdict(scaled(1.5), base);
    expect(verdict.verdict).toBe('fail');
    expect(verdict.test!.p).toBeLessThan(0.05);
    expect(verdict.p95Ratio).toBeCloseTo(1.5, 12);
    expect(verdict.reason).toMatch(/^new version is significantly slower \(one-sided Mann-Whitney p = .* < 0\.05\) and beyond the p95 ratio \(p95 .*, ratio 1\.5 > 1\.25\)$/);
  });

  test('passes a version that is significantly slower but within the p95 ratio', () => {
    const verdict = latencyVerdict(scaled(1.2), base);
    expect(verdict.test!.p).toBeLessThan(0.05);
    expect(verdict.verdict).toBe('pass');
    expect(verdict.reason).toContain('significantly slower');
    expect(verdict.reason).toContain('ratio 1.2 ≤ 1.25');
  });

  test('passes a p95 beyond the ratio when the difference is not significant', () => {
    // Same body, four slow outliers in new: p95 triples, the rank test barely moves (p ≈ 0.2).
    const newer = [...base.slice(0, 36), 400, 401, 402, 403];
    const verdict = latencyVerdict(newer, base);
    expect(verdict.p95Ratio!).toBeGreaterThan(1.25);
    expect(verdict.test!.p).toBeGreaterThanOrEqual(0.05);
    expect(verdict.verdict).toBe('pass');
    expect(verdict.reason).toMatch(/^new version is not significantly slower/);
  });

  test('passes identical samples', () => {
    expect(latencyVerdict(base, base).verdict).toBe('pass');
  });

  test('reports insufficient data below 20 samples a version by default, and decides nothing', () => {
    const verdict = latencyVerdict(scaled(3).slice(0, 19), base);
    expect(verdict.verdict).toBe('insufficient-data');
    expect(verdict.test).toBeUndefined();
    expect(verdict.reason).toBe('needs at least 20 warm latency samples per version, got 19 new and 40 current');
    expect(latencyVerdict(scaled(3).slice(0, 20), base).verdict).toBe('fail');
  });

  test('minSamples, alpha and maxP95Ratio can be changed', () => {
    expect(latencyVerdict(scaled(3).slice(0, 10), base, { minSamples: 10 }).verdict).toBe('fail');
    expect(latencyVerdict(scaled(1.5), base, { maxP95Ratio: 1.6 }).verdict).toBe('pass');
    // 3 % slower: p ≈ 0.12, significant at alpha 0.2 but not at 0.05.
    expect(latencyVerdict(scaled(1.03), base, { alpha: 0.2, maxP95Ratio: 1.01 }).verdict).toBe('fail');
    expect(latencyVerdict(scaled(1.03), base, { maxP95Ratio: 1.01 }).verdict).toBe('pass');
  });

  test('reports p95 by linear interpolation and echoes the thresholds', () => {
    const verdict = latencyVerdict(Array.from({ length: 21 }, (_, i) => i * 10), Array.from({ length: 21 }, () => 100));
    // 21 values 0..200: position 0.95 · 20 = 19 → 190 exactly.
    expect(verdict.p95New).toBe(190);
    expect(verdict.p95Current).toBe(100);
    expect(verdict.thresholds).toEqual({ alpha: 0.05, maxP95Ratio: 1.25, minSamples: 20 });
  });

  test('a zero current p95 gives an infinite ratio', () => {
    const zeros = Array.from({ length: 20 }, () => 0);
    expect(latencyVerdict(base, zeros).p95Ratio).toBe(Infinity);
    expect(latencyVerdict(zeros, zeros).p95Ratio).toBe(1);
  });

  test('rejects negative samples and bad options', () => {
    expect(() => latencyVerdict([-1], base)).toThrow('new latency samples must be finite and ≥ 0, got -1 at index 0');
    expect(() => latencyVerdict(base, base, { alpha: 1 })).toThrow('alpha must be between 0 and 1, got: 1');
    expect(() => latencyVerdict(base, base, { minSamples: 0 })).toThrow('minSamples must be an integer ≥ 1, got: 0');
    expect(() => latencyVerdict(base, base, { maxP95Ratio: 0 })).toThrow('maxP95Ratio must be a finite number > 0, got: 0');
  });
});
