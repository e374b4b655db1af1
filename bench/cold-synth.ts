// One `cdk synth` as a user's app runs it: a fresh process that loads aws-cdk-lib and the compiled library
// (dist/, as installed from npm), builds a stack of 30 guarded functions (bench/scale-builders.ts) and synthesises
// it once. Run by bench/resources.ts in child processes, one per pattern and round; prints the milliseconds from
// before the first require to the end of the synth.
//
// Everything is required after the clock starts (an `import` would be hoisted above it).
/* eslint-disable @typescript-eslint/no-require-imports */
const started = process.hrtime.bigint();
process.env.CDK_VALIDATION = 'false';
const builders = require('./scale-builders') as typeof import('./scale-builders');

const pattern = process.argv[2];
const functions = Number(process.argv[3] ?? 30);
let stack: import('aws-cdk-lib').Stack;
if (pattern === 'staged' || pattern === 'canary') {
  const lib = require('../dist/lib') as typeof import('../lib');
  stack = pattern === 'staged' ? builders.guardedAliasStack(lib, functions) : builders.guardedCanaryStack(lib, functions);
} else if (pattern === 'hand-written') {
  // The metric math loaded on its own, and the default thresholds as numbers: the code a hand-written stack would
  // hold itself, not the library (dist/lib/release-gates.js would load most of it).
  const { CanaryMetrics } = require('../dist/lib/canary-metrics') as typeof import('../lib/canary-metrics');
  stack = builders.handWrittenStack({ CanaryMetrics, DEFAULT_GATE_THRESHOLDS: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 } }, functions);
} else {
  throw new Error(`bench/cold-synth.ts: the pattern must be staged, canary or hand-written, got: ${pattern}`);
}
(stack.node.root as import('aws-cdk-lib').App).synth();
console.log(Number(process.hrtime.bigint() - started) / 1e6);
