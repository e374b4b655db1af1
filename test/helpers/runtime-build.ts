import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'packages', 'runtime', 'src');
const built = new Map<string, string>();

/**
 * The runtime package compiled from its sources into one module system, for a suite that runs it in a child
 * process (real middy is ES-module-only; a fresh process sees which modules load). esbuild compiles it in a
 * fraction of a second into the run's temporary directory (removed at the end of the run), so `npm test` need not
 * build the package first; the package as published (tsc's dist/cjs and dist/esm) is checked by
 * scripts/check-package.sh. Returns the folder holding `index.js` (CommonJS) or `index.mjs` (ES module), and
 * `idempotency.js` / `idempotency.mjs` for that entry alone. The AWS SDK stays external, as in a Lambda bundle.
 */
export function builtRuntime(format: 'cjs' | 'esm'): string {
  const cached = built.get(format);
  if (cached) return cached;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), `runtime-${format}-`));
  buildSync({
    entryPoints: { index: path.join(SRC, 'index.ts'), idempotency: path.join(SRC, 'idempotency', 'index.ts') },
    outdir,
    outExtension: { '.js': format === 'esm' ? '.mjs' : '.js' },
    bundle: true,
    platform: 'node',
    format,
    target: 'node20',
    external: ['@aws-sdk/*'],
    logLevel: 'error',
  });
  built.set(format, outdir);
  return outdir;
}
