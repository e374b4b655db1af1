// Builds the runtime twice from one source: CommonJS into dist/cjs and ES modules into dist/esm, each with its
// declarations, and a package.json in each folder that tells Node (and TypeScript's nodenext resolution) which
// module system the folder's .js and .d.ts files are.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const started = Date.now();
rmSync(join(here, 'dist'), { recursive: true, force: true });
const builds = [
  ['cjs', ['--module', 'commonjs', '--moduleResolution', 'node'], 'commonjs'],
  ['esm', ['--module', 'es2022', '--moduleResolution', 'bundler'], 'module'],
];
for (const [folder, flags, type] of builds) {
  execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.json'), '--outDir', join(here, 'dist', folder), ...flags], { stdio: 'inherit' });
  mkdirSync(join(here, 'dist', folder), { recursive: true });
  writeFileSync(join(here, 'dist', folder, 'package.json'), `${JSON.stringify({ type }, null, 2)}\n`);
}
console.log(`built cdk-rollout-guardrails-runtime (cjs, esm) in ${Date.now() - started} ms`);
