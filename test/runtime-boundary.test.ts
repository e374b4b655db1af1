import * as fs from 'fs';
import * as path from 'path';

const runtimeDir = path.join(__dirname, '..', 'lambdas', 'runtime');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('the runtime subpath', () => {
  test('never imports aws-cdk-lib or constructs', () => {
    const files = sourceFiles(runtimeDir);
    expect(files.length).toBeGreaterThan(0);
    const offenders = files.filter((file) => /from\s+['"](aws-cdk-lib|constructs)(\/[^'"]*)?['"]|require\(['"](aws-cdk-lib|constructs)/.test(fs.readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });

  test('is exported as cdk-rollout-guardrails/runtime', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
    expect(manifest.exports['./runtime'].default).toBe('./dist/lambdas/runtime/index.js');
    expect(manifest.exports['.'].default).toBe('./dist/lib/index.js');
  });
});

describe('the runtime subpath without the AWS SDK installed', () => {
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
      runtime = require('../lambdas/runtime');
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
