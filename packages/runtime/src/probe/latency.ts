/** Result of {@link mannWhitneyU}. */
export interface MannWhitneyResult {
  /** U of the new samples: the number of (new, current) pairs where new is slower, ties counting ½. */
  readonly u: number;
  /** Normal-approximation z of U (tie- and continuity-corrected); reported in exact mode too. 0 when every value ties. */
  readonly z: number;
  /** One-sided p-value of "new is slower than current" (upper tail of U). */
  readonly p: number;
  /** `exact` (permutation distribution of U) when both samples are under 50 and nothing ties; `normal` otherwise. */
  readonly method: 'exact' | 'normal';
  /** Number of new samples. */
  readonly nNew: number;
  /** Number of current samples. */
  readonly nCurrent: number;
}

/** Samples below this size (each, and with no ties) get the exact distribution, as R's wilcox.test does. */
const EXACT_BELOW = 50;

/**
 * One-sided Mann-Whitney U test (Wilcoxon rank-sum) of H1 "new is slower than current", i.e. new latencies
 * are stochastically greater.
 *
 * U = R − n(n+1)/2, with R the sum of the new samples' ranks in the pooled data (tied values get the mean
 * of their ranks). When both samples are under 50 and no value ties, p is exact: P(U' ≥ U) under H0 from the
 * permutation distribution. Otherwise p = 1 − Φ(z), z = (U − n·m/2 − ½) / σ, σ² = n·m/12 · ((N + 1) −
 * Σ(t³ − t) / (N(N − 1))), with N = n + m and t the size of each group of ties: the tie correction and a
 * continuity correction of ½ towards the mean. If every value is the same, σ = 0 and the test says
 * nothing: z = 0 and p = 1. Throws a RangeError on an empty sample or a value that is not finite.
 */
export function mannWhitneyU(newSamples: readonly number[], currentSamples: readonly number[]): MannWhitneyResult {
  checkSamples(newSamples, 'new');
  checkSamples(currentSamples, 'current');
  const n = newSamples.length;
  const m = currentSamples.length;
  const N = n + m;
  const pooled = [
    ...newSamples.map((value) => ({ value, isNew: true })),
    ...currentSamples.map((value) => ({ value, isNew: false })),
  ].sort((a, b) => a.value - b.value);

  let rankSumNew = 0;
  let tieTerm = 0;
  for (let i = 0; i < N;) {
    let j = i;
    while (j + 1 < N && pooled[j + 1].value === pooled[i].value) j++;
    const midRank = (i + j) / 2 + 1;
    const size = j - i + 1;
    tieTerm += size ** 3 - size;
    for (let k = i; k <= j; k++) if (pooled[k].isNew) rankSumNew += midRank;
    i = j + 1;
  }
  const u = rankSumNew - (n * (n + 1)) / 2;
  const mean = (n * m) / 2;
  const variance = ((n * m) / 12) * (N + 1 - tieTerm / (N * (N - 1)));
  const z = variance > 0 ? (u - mean - 0.5) / Math.sqrt(variance) : 0;

  if (tieTerm === 0 && n < EXACT_BELOW && m < EXACT_BELOW) {
    return { u, z, p: exactUpperTail(n, m, u), method: 'exact', nNew: n, nCurrent: m };
  }
  const p = variance > 0 ? upperNormalTail(z) : 1;
  return { u, z, p, method: 'normal', nNew: n, nCurrent: m };
}

/** Options of {@link latencyVerdict}. */
export interface LatencyVerdictOptions {
  /**
   * Significance level of the one-sided Mann-Whitney test.
   * @default 0.05
   */
  readonly alpha?: number;
  /**
   * Largest tolerated p95(new) / p95(current): the effect-size gate. The seeds' "p95 warm within 25 % of control".
   * @default 1.25
   */
  readonly maxP95Ratio?: number;
  /**
   * Fewest warm samples each version needs before the judge decides anything.
   * @default 20
   */
  readonly minSamples?: number;
}

/** Outcome of {@link latencyVerdict}. */
export interface LatencyVerdict {
  /** `fail` only when new is both significantly slower and beyond the p95 ratio; `insufficient-data` below `minSamples`. */
  readonly verdict: 'pass' | 'fail' | 'insufficient-data';
  /** One sentence a person can act on, with the measured values and thresholds. */
  readonly reason: string;
  /** p95 of the new samples (linear interpolation between order statistics); undefined with no samples. */
  readonly p95New: number | undefined;
  /** p95 of the current samples; undefined with no samples. */
  readonly p95Current: number | undefined;
  /** p95New / p95Current (Infinity when only the current p95 is 0, 1 when both are); undefined if either is missing. */
  readonly p95Ratio: number | undefined;
  /** The Mann-Whitney result; undefined when the judge had too little data to run it. */
  readonly test: MannWhitneyResult | undefined;
  /** The thresholds the verdict was judged by, with defaults filled in. */
  readonly thresholds: { readonly alpha: number; readonly maxP95Ratio: number; readonly minSamples: number };
}

/**
 * Latency judge after Netflix Kayenta's Mann-Whitney classifier: the new version fails only when it is
 * both statistically slower (one-sided Mann-Whitney p < `alpha`) and slower by a margin that matters
 * (p95(new) / p95(current) > `maxP95Ratio`). Either alone passes: significance without effect is a few
 * milliseconds nobody feels, and a p95 gap without significance is the noise of a small sample.
 *
 * It needs `minSamples` (default 20) warm samples per version. Below that it returns `insufficient-data`
 * and decides nothing, like Kayenta's NODATA: whether that blocks a release is the gate's choice. Why 20:
 * with fewer, p95 (linear interpolation) is essentially the single slowest sample, and the test has little
 * power (the smallest exact one-sided p with 3 + 3 samples is 0.05, so it can never reject at 0.05).
 * Cold starts must be removed by the caller: the judge compares whatever it is given.
 */
export function latencyVerdict(
  newSamples: readonly number[],
  currentSamples: readonly number[],
  options: LatencyVerdictOptions = {},
): LatencyVerdict {
  const thresholds = {
    alpha: options.alpha ?? 0.05,
    maxP95Ratio: options.maxP95Ratio ?? 1.25,
    minSamples: options.minSamples ?? 20,
  };
  if (!(thresholds.alpha > 0 && thresholds.alpha < 1)) throw new RangeError(`alpha must be between 0 and 1, got: ${options.alpha}`);
  if (!(thresholds.maxP95Ratio > 0) || !Number.isFinite(thresholds.maxP95Ratio)) {
    throw new RangeError(`maxP95Ratio must be a finite number > 0, got: ${options.maxP95Ratio}`);
  }
  if (!Number.isInteger(thresholds.minSamples) || thresholds.minSamples < 1) {
    throw new RangeError(`minSamples must be an integer ≥ 1, got: ${options.minSamples}`);
  }
  for (const [samples, label] of [[newSamples, 'new'], [currentSamples, 'current']] as const) {
    const bad = samples.findIndex((x) => !Number.isFinite(x) || x < 0);
    if (bad >= 0) throw new RangeError(`${label} latency samples must be finite and ≥ 0, got ${samples[bad]} at index ${bad}`);
  }

  const p95New = newSamples.length > 0 ? percentile(newSamples, 0.95) : undefined;
  const p95Current = currentSamples.length > 0 ? percentile(currentSamples, 0.95) : undefined;
  const p95Ratio = p95New === undefined || p95Current === undefined ? undefined : ratio(p95New, p95Current);
  const base = { p95New, p95Current, p95Ratio, thresholds };

  if (newSamples.length < thresholds.minSamples || currentSamples.length < thresholds.minSamples) {
    return {
      ...base,
      verdict: 'insufficient-data',
      reason: `needs at least ${thresholds.minSamples} warm latency samples per version, got ${newSamples.length} new and ${currentSamples.length} current`,
      test: undefined,
    };
  }

  const test = mannWhitneyU(newSamples, currentSamples);
  const slower = test.p < thresholds.alpha;
  const beyondRatio = p95Ratio! > thresholds.maxP95Ratio;
  const pText = `one-sided Mann-Whitney p = ${fmt(test.p)} ${slower ? '<' : '≥'} ${thresholds.alpha}`;
  const ratioText = `p95 ${fmt(p95New!)} vs ${fmt(p95Current!)}, ratio ${fmt(p95Ratio!)} ${beyondRatio ? '>' : '≤'} ${thresholds.maxP95Ratio}`;
  if (slower && beyondRatio) {
    return { ...base, test, verdict: 'fail', reason: `new version is significantly slower (${pText}) and beyond the p95 ratio (${ratioText})` };
  }
  const why = slower
    ? `significantly slower (${pText}) but within the p95 ratio (${ratioText})`
    : `not significantly slower (${pText}; ${ratioText})`;
  return { ...base, test, verdict: 'pass', reason: `new version is ${why}` };
}

/** The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics (R type 7, numpy's default). */
export function percentile(samples: readonly number[], q: number): number {
  if (samples.length === 0) throw new RangeError('percentile of an empty sample');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile must be between 0 and 1, got: ${q}`);
  const sorted = [...samples].sort((a, b) => a - b);
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

function ratio(a: number, b: number): number {
  if (b === 0) return a === 0 ? 1 : Infinity;
  return a / b;
}

function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x);
}

function checkSamples(samples: readonly number[], label: string): void {
  if (samples.length === 0) throw new RangeError(`mannWhitneyU needs at least one ${label} sample`);
  const bad = samples.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`${label} samples must be finite, got ${samples[bad]} at index ${bad}`);
}

/**
 * P(U ≥ u) for U of n "new" against m "current" values under H0 (every interleaving equally likely).
 * Recurrence on the largest pooled value: it is new with probability n/(n+m), beating all m current values
 * (U gains m), else current (U gains 0). Probabilities rather than counts, so only additions of positive
 * numbers: no overflow at C(98, 49) and no cancellation.
 */
function exactUpperTail(n: number, m: number, u: number): number {
  // dist[j] = distribution of U for (i new, j current) for the current i, each an array over 0..i*j.
  let previous: number[][] = Array.from({ length: m + 1 }, () => [1]); // i = 0: U = 0 surely
  for (let i = 1; i <= n; i++) {
    const current: number[][] = [[1]]; // j = 0: U = 0 surely
    for (let j = 1; j <= m; j++) {
      const dist = new Array<number>(i * j + 1).fill(0);
      const pNewLargest = i / (i + j);
      const fromNew = previous[j]; // (i-1, j), shifted by j
      for (let k = 0; k < fromNew.length; k++) dist[k + j] += pNewLargest * fromNew[k];
      const fromCurrent = current[j - 1]; // (i, j-1)
      for (let k = 0; k < fromCurrent.length; k++) dist[k] += (1 - pNewLargest) * fromCurrent[k];
      current.push(dist);
    }
    previous = current;
  }
  const dist = previous[m];
  let tail = 0;
  // U is an integer here (no ties); round guards against a float U like 2.9999999.
  for (let k = Math.round(u); k < dist.length; k++) tail += dist[k];
  return Math.min(1, tail);
}

/** 1 − Φ(z) for the standard normal. */
function upperNormalTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

// Complementary error function, Chebyshev fit from Numerical Recipes (erfcc): relative error < 1.2e-7
// everywhere, ample for a p-value compared against 0.05.
function erfc(x: number): number {
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const y = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
    + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
    + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? y : 2 - y;
}
