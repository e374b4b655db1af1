import * as fs from 'fs';
import * as path from 'path';

const runtimeDir = path.join(__dirname, '..', 'packages', 'runtime', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('the runtime package', () => {
  test('never imports aws-cdk-lib or constructs', () => {
    const files = sourceFiles(runtimeDir);
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.filter((file) => /from\s+['"](aws-cdk-lib|constructs)(\/[^'"]*)?['"]|require\(['"](aws-cdk-lib|constructs)/.test(fs.readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  test('is its own package, cdk-rollout-guardrails-runtime, that the constructs package depends on and bundles', () => {
    const runtime = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'packages', 'runtime', 'package.json'), 'utf8'));
    expect(runtime.name).toBe('cdk-rollout-guardrails-runtime');
    expect(runtime.sideEffects).toBe(false);
    expect(runtime.exports['.'].require.default).toBe('./dist/cjs/index.js');
    expect(runtime.exports['.'].import.default).toBe('./dist/esm/index.js');
    expect(runtime.exports['./contract'].require.default).toBe('./dist/cjs/contract/index.js');
    const constructs = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    expect(constructs.exports['.'].default).toBe('./dist/lib/index.js');
    expect(constructs.exports['./runtime']).toBeUndefined();
    expect(constructs.dependencies[runtime.name]).toBe(runtime.version);
  });
});

describe('the runtime package without the AWS SDK installed', () => {
  const SDK_PACKAGES = ['@aws-sdk/client-bedrock-runtime', '@aws-sdk/client-dynamodb', '@aws-sdk/client-lambda', '@aws-sdk/client-cloudwatch', '@aws-sdk/client-codedeploy'];

  /** Loads lambdas/runtime in a fresh module registry in which every AWS SDK client package is missing. */
  function loadWithoutSdk(): any {
    let runtime: any;
    jest.isolateModules(() => {
      for (const name of SDK_PACKAGES) {
        jest.doMock(name, () => {
          throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
        });
      }
      runtime = require('../packages/runtime/src');
    });
    return runtime;
  }

  afterEach(() => {
    for (const name of SDK_PACKAGES) jest.dontMock(name);
  });

  test('still imports, and the helpers that need no SDK work', async () => {
    const runtime = loadWithoutSdk();
    expect(await runtime.deltaS('a canary release', 'a canary release')).toBe(0);
    expect(runtime.coverage('alias weights', 'alias weights')).toBe(1);
  });

  test('names the missing package when a helper that needs it is used', async () => {
    const runtime = loadWithoutSdk();
    await expect(new runtime.BedrockEmbedder().embed(['hello'])).rejects.toThrow(
      'BedrockEmbedder needs @aws-sdk/client-bedrock-runtime, which is not installed: add it to your dependencies (the Lambda Node.js runtime already includes it)');
  });
});
