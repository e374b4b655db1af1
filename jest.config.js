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
  // jest's default is one worker less than the cores: on a 2-core machine, one worker, every suite in a row. Several
  // suites wait on child processes (cfn-guard, asl-validator, esbuild, node children under middy) or on loopback
  // servers (dynalite, the AWS stand-in), so one worker more than the cores keeps them busy: on the 2-core machine
  // a fresh clone's run took 92 and 93 s with 3 workers against 98 and 102 s with 2 (4 workers: 108 s).
  maxWorkers: 3,
  // Most suites run in groups (test/suites-*.test.ts, see test/helpers/suites.ts); the groups start first.
  testSequencer: '<rootDir>/test/helpers/sequencer.js',
  // A synth with the CloudFormation validator takes seconds; give slow machines room.
  testTimeout: 60_000,
};
