import * as fs from 'fs';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const RUNTIME = path.join(ROOT, 'packages', 'runtime');

function newestMtime(dir: string): number {
  return fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const full = path.join(dir, entry.name);
    return Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }, 0);
}

/**
 * The runtime package's build of one module system (packages/runtime/dist/cjs or dist/esm), for a suite that runs
 * the built package in a child process. `npm test` builds it once before jest starts (`npm run build:runtime`);
 * suites never rebuild it. Throws, saying what to run, when the build is missing or older than the sources.
 */
export function builtRuntime(format: 'cjs' | 'esm'): string {
  const dist = path.join(RUNTIME, 'dist', format);
  const entry = path.join(dist, 'index.js');
  const rebuild = 'run `npm run build:runtime` (`npm test` does it before jest)';
  if (!fs.existsSync(entry)) throw new Error(`the runtime's ${format} build ${path.relative(ROOT, entry)} is missing: ${rebuild}`);
  if (fs.statSync(entry).mtimeMs < newestMtime(path.join(RUNTIME, 'src'))) {
    throw new Error(`the runtime's ${format} build ${path.relative(ROOT, entry)} is older than packages/runtime/src: ${rebuild}`);
  }
  return dist;
}
