/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is `npm run typecheck`'s job (CI runs it); transpiling alone keeps the suite fast. esbuild, one
    // file at a time (test/helpers/esbuild-transform.js): on a fresh clone, where every file is transformed once per
    // worker, the suite took 106.5 s against 112 s with ts-jest (user CPU 185 s against 201 s).
    '^.+\\.tsx?$': '<rootDir>/test/helpers/esbuild-transform.js',
  },
  // One temporary directory per run for every synth's cloud assembly and every suite's scratch folder, removed at
  // the end (see test/helpers/jest-global-setup.js).
  // The runtime package is tested from its sources: its name maps to packages/runtime/src (as the tsconfig's
  // paths do for tsc and esbuild), and its sources' ES-module style './x.js' imports to the .ts files.
  moduleNameMapper: {
    '^cdk-rollout-guardrails-runtime$': '<rootDir>/packages/runtime/src/index.ts',
    '^cdk-rollout-guardrails-runtime/contract$': '<rootDir>/packages/runtime/src/contract/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  globalSetup: '<rootDir>/test/helpers/jest-global-setup.js',
  globalTeardown: '<rootDir>/test/helpers/jest-global-teardown.js',
  setupFiles: ['<rootDir>/test/setup-env.ts', '<rootDir>/test/helpers/jest-setup.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/helpers/jest-after-env.ts'],
  // Most suites run in three groups (test/suites-*.test.ts, see test/helpers/suites.ts), which start first, each in a
  // worker of its own; the fourth worker takes the few files of their own, which mostly wait (on timers, loopback
  // servers and child processes), beside them. On the 2-core machine, with an empty cache, the run took 84 s with 4
  // workers against 94 s with 3.
  maxWorkers: 4,
  testSequencer: '<rootDir>/test/helpers/sequencer.js',
  // A synth with the CloudFormation validator takes seconds; give slow machines room.
  testTimeout: 60_000,
};
