/**
 * Context every App of a test file reads from the environment (CDK_CONTEXT_JSON, merged over the App's own
 * context props), so that it reaches `new App()` calls in the tests as well as test/util.ts's testApp().
 */

/** aws-cdk-lib records a stack trace of each CfnElement's and Stack's creation unless this is set. */
export const DISABLE_CREATION_STACK_TRACES = 'aws:cdk:disable-creation-stack-traces';

function read(): Record<string, unknown> {
  return process.env.CDK_CONTEXT_JSON ? JSON.parse(process.env.CDK_CONTEXT_JSON) : {};
}

function write(context: Record<string, unknown>): void {
  if (Object.keys(context).length === 0) delete process.env.CDK_CONTEXT_JSON;
  else process.env.CDK_CONTEXT_JSON = JSON.stringify(context);
}

/**
 * aws-cdk-lib copies each asset into the cloud assembly at every synth unless this is set; with it, the assembly
 * names the asset's own folder (its hash, and so the template, are the same). `cdk synth --no-staging` sets it.
 */
export const DISABLE_ASSET_STAGING = 'aws:cdk:disable-asset-staging';

/**
 * Turns off the creation stack traces for the Apps of this test file (test/helpers/jest-setup.ts does it for
 * every file). Capturing them costs a stack trace, mapped through the source maps, per resource: about a tenth
 * of a synth-heavy suite's time. They only end up in the cloud assembly's metadata, never in a template.
 */
export function disableCreationStackTraces(): void {
  write({ ...read(), [DISABLE_CREATION_STACK_TRACES]: true });
}

/**
 * Turns off the copying of assets into the cloud assembly for the Apps of this test file (test/helpers/jest-setup.ts
 * does it for every file): copying the handlers' bundles into every test's assembly cost about a tenth of the rest of
 * a group's CPU, for nothing a test reads. An assembly the CLI reads is made with `withAssetStaging`.
 */
export function disableAssetStaging(): void {
  write({ ...read(), [DISABLE_ASSET_STAGING]: true });
}

/**
 * Runs `build` (which creates its App) with the assets copied into the cloud assembly, as `cdk synth` does: for an
 * assembly read as a user's would be, by the CLI.
 */
export function withAssetStaging<T>(build: () => T): T {
  const before = process.env.CDK_CONTEXT_JSON;
  const context = read();
  delete context[DISABLE_ASSET_STAGING];
  write(context);
  try {
    return build();
  } finally {
    if (before === undefined) delete process.env.CDK_CONTEXT_JSON;
    else process.env.CDK_CONTEXT_JSON = before;
  }
}

/**
 * Keeps the creation stack traces for the Apps this test file creates from now on: for a suite whose judge reads
 * them (scripts/check-guard-report.mjs tells a finding's owner, library or user, by its resource's creation trace).
 */
export function keepCreationStackTraces(): void {
  const context = read();
  delete context[DISABLE_CREATION_STACK_TRACES];
  write(context);
}
