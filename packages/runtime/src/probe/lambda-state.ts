/** The λ state of one gold question over its sequence of ΔS values (the product definitions). */
export type LambdaState = 'convergent' | 'divergent' | 'recursive' | 'chaotic';

/** The symbols the WFGY problem map uses for each λ state, for logs and dashboards. */
export const LAMBDA_SYMBOLS: Readonly<Record<LambdaState, string>> = {
  convergent: '→',
  divergent: '←',
  recursive: '<>',
  chaotic: '×',
};

/** Thresholds of {@link lambdaState}; the defaults are the product definitions'. */
export interface LambdaStateOptions {
  /**
   * A step |Δ| at or below this is "small": noise, not a move.
   * @default 0.02
   */
  readonly flat?: number;
  /**
   * The most the rolling mean may rise in one step for the state to be divergent rather than chaotic.
   * @default 0.04
   */
  readonly maxMeanRise?: number;
}

// Decimal thresholds are not exact in binary (0.32 − 0.30 > 0.02 in floating point); a value within this
// of a threshold counts as on it, so that inputs written at a boundary land on its inclusive side.
const TOLERANCE = 1e-9;

/**
 * The λ state of one gold question, from its ΔS values in probe order (question and paraphrases × seeds,
 * e.g. 3 paraphrases × 2 seeds = 6 values). Deterministic; the first rule that holds wins:
 *
 * Let x₀…xₙ₋₁ be the values, Δₜ = xₜ − xₜ₋₁ (t ≥ 1), mₜ = mean(x₀…xₜ) the rolling (running) mean, and
 * "significant" steps those with |Δₜ| > 0.02 (`flat`).
 * 1. **convergent** (→): every Δₜ ≤ +0.02 (each step is small or falling) and the rolling mean never
 *    rises more than 0.02 above where it started (mₜ − x₀ ≤ 0.02 for every t). One value is convergent.
 * 2. **recursive** (<>): at least two significant steps, and their signs alternate (+ − + … or − + − …);
 *    small steps in between are ignored.
 * 3. **divergent** (←): the rolling mean rises by at most 0.04 (`maxMeanRise`) a step:
 *    mₜ − mₜ₋₁ ≤ 0.04 for every t.
 * 4. **chaotic** (×): otherwise, i.e. some step raises the rolling mean by more than 0.04.
 *
 * Comparisons are inclusive at each threshold, within 1e-9. An empty sequence or a non-finite value is a
 * caller's bug and throws a RangeError.
 */
export function lambdaState(deltaS: readonly number[], options: LambdaStateOptions = {}): LambdaState {
  const flat = options.flat ?? 0.02;
  const maxMeanRise = options.maxMeanRise ?? 0.04;
  if (deltaS.length === 0) throw new RangeError('lambdaState needs at least one ΔS value, got none');
  const bad = deltaS.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`lambdaState needs finite ΔS values, got ${deltaS[bad]} at index ${bad}`);

  const steps = deltaS.slice(1).map((x, i) => x - deltaS[i]);
  const means: number[] = [];
  let sum = 0;
  deltaS.forEach((x, i) => {
    sum += x;
    means.push(sum / (i + 1));
  });

  const everyStepSmallOrFalling = steps.every((d) => d <= flat + TOLERANCE);
  const meanStaysDown = means.every((m) => m - deltaS[0] <= flat + TOLERANCE);
  if (everyStepSmallOrFalling && meanStaysDown) return 'convergent';

  const signs = steps.filter((d) => Math.abs(d) > flat + TOLERANCE).map(Math.sign);
  if (signs.length >= 2 && signs.every((s, i) => i === 0 || s !== signs[i - 1])) return 'recursive';

  const meanRises = means.slice(1).map((m, i) => m - means[i]);
  return meanRises.every((rise) => rise <= maxMeanRise + TOLERANCE) ? 'divergent' : 'chaotic';
}
