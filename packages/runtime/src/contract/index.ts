/**
 * The contract between the constructs (synth time) and the code that runs in Lambda: the library's own
 * handlers and the runtime helpers in users' functions. Everything both sides share lives here, and only here:
 * environment names, the shapes of the per-alias configuration the constructs write and the handlers read, the
 * decision records, the CodeDeploy hook event, reporting a hook's status with retries and AppSpec reading, and the parsers the constructs run at synth
 * to refuse a bad gold set, JSON path or header list before it reaches a function.
 *
 * Pure: it imports neither aws-cdk-lib nor the AWS SDK (test/dependency-direction.suite.ts checks it), so the
 * constructs load it at synth and esbuild bundles it into each handler.
 *
 * Published as `cdk-rollout-guardrails-runtime/contract` for the constructs package; it is not a user API and
 * follows the constructs package's version, not semver of its own.
 */
export * from './appspec.js';
export * from './blue-green.js';
export * from './check.js';
export * from './cohort.js';
export * from './config-key.js';
export * from './gold-set.js';
export * from './hook.js';
export * from './idempotency.js';
export * from './json-path.js';
export * from './operator.js';
export * from './probe.js';
export * from './probe-request.js';
export * from './release.js';
export * from './rollback.js';
export * from './shadow.js';
export * from './shadow-promotion.js';
export * from './staged.js';
export * from './telemetry.js';
export * from './warmup.js';
