import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { HANDLER_RUNTIME } from '../lib/private/runtime';

/** The feature flags of cdk.json: `new App()` in a test does not read cdk.json, so tests pass them in. */
export const FEATURE_FLAGS: Record<string, unknown> = require('../cdk.json').context;

/**
 * The props of the tests' Apps: cdk.json's feature flags, and no tree metadata. The construct tree (tree.json, for
 * the CDK console and tooling) costs about a fifth of each synth's time and nothing in the tests reads it; the
 * example app's own synth (bin/app.ts, `npm run synth`) keeps it.
 */
export const TEST_APP_PROPS = { context: FEATURE_FLAGS, treeMetadata: false } as const;

/** A dummy environment: nothing in the tests reaches AWS. */
export const TEST_ENV = { account: '123456789012', region: 'eu-west-1' };

export function testApp(): App {
  return new App(TEST_APP_PROPS);
}

export function testStack(app: App = testApp(), id = 'TestStack'): Stack {
  return new Stack(app, id, { env: TEST_ENV });
}

/** A small function with inline code, so that unit tests need no bundled asset. */
export function testFunction(scope: Stack, id = 'Fn', code = 'exports.handler = async () => ({ ok: true });'): lambda.Function {
  return new lambda.Function(scope, id, {
    runtime: HANDLER_RUNTIME,
    handler: 'index.handler',
    code: lambda.Code.fromInline(code),
  });
}

/** The logical IDs of the template's resources of one type. */
export function resourcesOfType(template: { Resources?: Record<string, { Type: string }> }, type: string): string[] {
  return Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === type).map(([id]) => id);
}
