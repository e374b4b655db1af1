// Bundles the command line (cli/src/main.ts) into dist/cli/main.js, the package's `cdk-rollout-guardrails` bin:
// one file with the library's decision code and the AWS SDK classes it names inlined, so that `npx
// cdk-rollout-guardrails rehearse` needs nothing but Node.js. It reads a cloud assembly as JSON and must never load
// aws-cdk-lib or constructs at run time: the build fails if the bundle would.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(root, 'dist', 'cli', 'main.js');
const started = Date.now();
const result = await build({
  entryPoints: [join(root, 'cli', 'src', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  sourcemap: false,
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
  tsconfig: join(root, 'tsconfig.json'),
});
const forbidden = Object.keys(result.metafile.inputs).filter((input) => /node_modules\/(aws-cdk-lib|constructs)\//.test(input));
if (forbidden.length > 0) throw new Error(`the CLI bundle must not contain aws-cdk-lib or constructs: ${forbidden.slice(0, 5).join(', ')}`);
chmodSync(outfile, 0o755);
const bytes = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes;
console.log(`bundled the CLI into dist/cli/main.js (${(bytes / 1024).toFixed(1)} KiB) in ${Date.now() - started} ms`);
