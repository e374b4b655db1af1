/**
 * cdk-rollout-guardrails-runtime: helpers that users import into their own Lambda functions.
 *
 * This module must never import aws-cdk-lib (test/runtime-boundary.test.ts enforces it): it is bundled
 * into user functions, where the CDK has no business being.
 */
export const RUNTIME_MODULE = 'cdk-rollout-guardrails-runtime';
export * from './probe/index.js';
export * from './idempotency/index.js';
export {
  fenceKey, makeFence, FenceKeyError, FenceHeldError,
  type FenceKeyInput, type FenceOptions, type FenceTarget, type FenceOutcome, type FenceRunner,
} from './idempotency/fence.js';
export { fenceMiddleware, type FenceMiddlewareOptions } from './idempotency/fence-middleware.js';
export * from './release/index.js';
export * from './shadow/index.js';
export * from './cohort/index.js';
export { guardrails, guardrailsMiddleware, GuardrailsConfigError, type GuardrailsOptions, type GuardedHandler } from './guardrails.js';
export { cleanupGuardrails, type LambdaMiddleware, type MiddlewareRequest, type MiddlewareFn } from './middleware.js';
