export * from './canary-metrics';
export * from './guarded-alias';
export * from './release-gates';
export * from './rollout-strategy';
export { GuardrailsValidationError } from './private/validation';
export * from './delta-s-probe';
export * from './idempotency-table';
export * from './shadow-integration';
export * from './staged-rollout';
