/**
 * Runs several suites (test/*.suite.ts) in one jest test file, so that they share one module registry.
 *
 * jest loads every module afresh for each test file: aws-cdk-lib, the constructs and the AWS SDK clients, each time
 * cold (not yet optimised by V8). That first load and first synth cost one to two seconds of CPU per file, the same
 * in every file, on a 2-core machine: about a third of the suite's time when each suite had a file of its own. A group
 * (test/suites-*.test.ts) pays it once.
 *
 * What one suite changes stays its own: each runs inside a describe() named after it, with its own copy of
 * process.env, its AWS SDK mocks (test/helpers/sdk-mock.ts) attached only while its tests run, and its jest spies
 * and fake timers undone when they end.
 * Run one suite (or several, comma-separated) with GUARDRAILS_SUITE, which loads no other suite of the group:
 * `GUARDRAILS_SUITE=operator npx jest test/suites-staged`.
 */
import { collectMocks } from './sdk-mock';

/** Adds the suite `name` (test/`name`.suite.ts), loaded by `load` (the group file's own require, for its paths). */
export function suite(name: string, load: () => unknown): void {
  const only = process.env.GUARDRAILS_SUITE?.split(',').map((s) => s.trim());
  if (only && !only.includes(name)) return;
  describe(name, () => {
    // The environment the suite set while it was collected (a fixture's folder, say) is its own too.
    const outside = { ...process.env };
    // Registered before the suite's own hooks, so they run around them.
    beforeAll(() => {
      setEnv(collected);
      mocks.activate();
    });
    const mocks = collectMocks(load);
    const collected = { ...process.env };
    setEnv(outside);
    afterAll(() => {
      mocks.deactivate();
      jest.useRealTimers();
      jest.restoreAllMocks();
      setEnv(outside);
    });
  });
}

/** Makes process.env hold exactly `env`. */
function setEnv(env: NodeJS.ProcessEnv): void {
  for (const key of Object.keys(process.env)) if (!(key in env)) delete process.env[key];
  Object.assign(process.env, env);
}
