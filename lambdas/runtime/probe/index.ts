/**
 * The ΔS probe's pure runtime: embedders, ΔS, coverage, λ state, the gold-set parser and the latency judge.
 * Nothing here touches the CDK; only BedrockEmbedder talks to AWS.
 *
 * Exports are listed by name, not `export *`, because lambdas/runtime/index.ts re-exports every area with
 * `export *`, where two areas exporting the same name (a generic `tokenize`, say) would clash. Types are
 * exported with `export type` so that transpile-only builds (ts-jest, esbuild) drop them cleanly.
 */
export { ProbeError, GoldSetError, EmbeddingError } from './errors';
export { HashedNgramEmbedder } from './embedder';
export type { Embedder, HashedNgramEmbedderOptions } from './embedder';
export { BedrockEmbedder } from './bedrock-embedder';
export type { BedrockEmbedderOptions } from './bedrock-embedder';
export { deltaS, deltaSPairs, deltaSBand, cosineDistance } from './delta-s';
export type { DeltaSBand, DeltaSOptions } from './delta-s';
export { coverage } from './coverage';
export { lambdaState, LAMBDA_SYMBOLS } from './lambda-state';
export type { LambdaState, LambdaStateOptions } from './lambda-state';
export { parseGoldSet, GoldSetProblemsError } from './gold-set';
export type { GoldItem, GoldSetProblem } from './gold-set';
export { mannWhitneyU, latencyVerdict } from './latency';
export type { MannWhitneyResult, LatencyVerdict, LatencyVerdictOptions } from './latency';
