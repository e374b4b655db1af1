// Prebundles every Lambda handler (lambdas/<name>/index.ts) into assets/<name>/index.js, so that the
// constructs load finished code with Code.fromAsset and users need neither esbuild nor Docker at synth.
// lambdas/runtime is the library users import into their own functions, not a handler, so it is skipped.
import { build } from 'esbuild';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NOT_HANDLERS = new Set(['runtime', 'shared']);

const handlers = readdirSync(join(root, 'lambdas'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && !NOT_HANDLERS.has(d.name))
  .map((d) => d.name)
  .filter((name) => existsSync(join(root, 'lambdas', name, 'index.ts')));

// Synth-time checkers: code the constructs run at synth with a dependency the constructs package must not have
// (jsii allows it none but the runtime package), bundled like a handler and loaded from assets/ by lib/private.
// answer-schema-check: the dispatcher's own answer-schema module, with ajv (lib/private/answer-schema.ts).
const CHECKERS = { 'answer-schema-check': join('lambdas', 'mirror-dispatcher', 'schema.ts') };
const entries = [...handlers.map((name) => [name, join('lambdas', name, 'index.ts')]), ...Object.entries(CHECKERS)];

rmSync(join(root, 'assets'), { recursive: true, force: true });
const started = Date.now();
await Promise.all(entries.map(([name, entry]) => build({
  entryPoints: [join(root, entry)],
  outfile: join(root, 'assets', name, 'index.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  // The functions run on nodejs24.x (see lib/private/runtime.ts); esbuild's newest node target that
  // every supported version knows is node22, which emits the same syntax here.
  target: 'node22',
  minify: true,
  sourcemap: false,
  // The Lambda Node.js runtime ships AWS SDK v3; bundling it would only grow the asset.
  external: ['@aws-sdk/*'],
  logLevel: 'warning',
  legalComments: 'none',
})));
console.log(`bundled ${handlers.length} handler(s) and ${Object.keys(CHECKERS).length} checker(s) into assets/ in ${Date.now() - started} ms: ${entries.map(([name]) => name).join(', ')}`);
