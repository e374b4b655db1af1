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
