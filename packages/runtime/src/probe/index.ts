/**
 * The ΔS probe's pure runtime: embedders, ΔS, coverage, λ state, the gold-set parser and the latency judge.
 * Nothing here touches the CDK; only BedrockEmbedder talks to AWS.
 *
 * Exports are listed by name, not `export *`, because lambdas/runtime/index.ts re-exports every area with
 * `export *`, where two areas exporting the same name (a generic `tokenize`, say) would clash. Types are
 * exported with `export type` so that transpile-only builds (ts-jest, esbuild) drop them cleanly.
 */
export { ProbeError, GoldSetError, EmbeddingError } from './errors.js';
export { HashedNgramEmbedder } from './embedder.js';
export type { Embedder, HashedNgramEmbedderOptions } from './embedder.js';
export { BedrockEmbedder } from './bedrock-embedder.js';
export type { BedrockEmbedderOptions } from './bedrock-embedder.js';
export { deltaS, deltaSPairs, deltaSBand, cosineDistance } from './delta-s.js';
export type { DeltaSBand, DeltaSOptions } from './delta-s.js';
export { coverage } from './coverage.js';
export { lambdaState, LAMBDA_SYMBOLS } from './lambda-state.js';
export type { LambdaState, LambdaStateOptions } from './lambda-state.js';
export { parseGoldSet, GoldSetProblemsError } from '../contract/gold-set.js';
export type { GoldItem, GoldSetProblem } from '../contract/gold-set.js';
export { mannWhitneyU, latencyVerdict, percentile } from './latency.js';
export type { MannWhitneyResult, LatencyVerdict, LatencyVerdictOptions } from './latency.js';
