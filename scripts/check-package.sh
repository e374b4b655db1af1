#!/usr/bin/env bash
# Packs the library as npm would publish it, installs the tarball into an empty project next to aws-cdk-lib
# (and no AWS SDK), and checks what a user gets: the constructs synthesise with the prebundled handler
# assets, and the runtime package loads. Run after `npm run build`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

tarball="$(cd "$root" && npm pack --silent --pack-destination "$work" 2>/dev/null | tail -n 1)"
runtime_tarball="$(cd "$root/packages/runtime" && npm pack --silent --pack-destination "$work" 2>/dev/null | tail -n 1)"
cd "$work"
npm init -y >/dev/null 2>&1
cdk_version="$(node -p "require('$root/node_modules/aws-cdk-lib/package.json').version")"
constructs_version="$(node -p "require('$root/node_modules/constructs/package.json').version")"
npm install --no-audit --no-fund --prefer-offline --loglevel=error "$work/$tarball" "$work/$runtime_tarball" "aws-cdk-lib@$cdk_version" "constructs@$constructs_version" >/dev/null

cat > consumer.js <<'JS'
const { App, Stack } = require('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda');
const { GuardedAlias } = require('cdk-rollout-guardrails');
const runtime = require('cdk-rollout-guardrails-runtime');
process.env.CDK_VALIDATION = 'false';
const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'Consumer');
const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
new GuardedAlias(stack, 'Guarded', { function: fn });
const template = app.synth().getStackByName('Consumer').template;
const types = Object.values(template.Resources).map((r) => r.Type);
for (const type of ['AWS::Lambda::Alias', 'AWS::CodeDeploy::DeploymentGroup', 'Custom::GuardrailsControlVersions']) {
  if (!types.includes(type)) throw new Error(`the installed package synthesised no ${type}`);
}
if (typeof runtime.deltaS !== 'function' || typeof runtime.makeIdempotent !== 'function') throw new Error('the runtime package is missing exports');
if (require.resolve.paths('@aws-sdk/client-dynamodb').some((p) => require('fs').existsSync(p + '/@aws-sdk/client-dynamodb'))) {
  throw new Error('the consumer project unexpectedly has the AWS SDK; this check must run without it');
}
console.log(`package check: ${types.length} resources synthesised from the installed tarball; runtime exports ${Object.keys(runtime).length} names without the AWS SDK installed`);
JS
node consumer.js

# The CLI as installed (the package's bin): a rehearsal of the consumer app's default staged rollout, offline.
out="$(npx --no-install cdk-rollout-guardrails rehearse --app cdk.out --scenario good --scenario error-spike --expect good=promote,error-spike=rollback --quiet 2>&1)" \
  || { echo "$out" >&2; echo "the installed cdk-rollout-guardrails rehearse did not end as expected" >&2; exit 1; }
echo "package check: the installed CLI rehearsed the consumer app (good promoted, error-spike rolled back)"

# A new CDK app as `cdk init` writes it (the classic tsconfig: module commonjs, moduleResolution node10) and the
# same app under nodenext: the constructs package's and the runtime package's types resolve under both. Then a
# handler that imports only pinGuard is bundled against the installed runtime package (its ES module build, as a
# bundler picks it) and must stay under 10 KB minified.
cat > app.ts <<'TS'
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedAlias, RolloutStrategy } from 'cdk-rollout-guardrails';
const app = new App();
const stack = new Stack(app, 'Typed');
const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
new GuardedAlias(stack, 'Guarded', { function: fn, strategy: RolloutStrategy.staged({ steps: [10, 100] }) });
TS
cat > handler.ts <<'TS'
import { pinGuard } from 'cdk-rollout-guardrails-runtime';
import type { IdempotencyOptions } from 'cdk-rollout-guardrails-runtime';
import { TELEMETRY_NAMESPACE } from 'cdk-rollout-guardrails-runtime/contract';
export const namespace: string = TELEMETRY_NAMESPACE;
export type Options = IdempotencyOptions<unknown>;
export const handler = pinGuard(async (_event: unknown) => ({ statusCode: 200, body: 'ok' }));
TS
# The type check sees what a user's project has: @types/node, and the AWS SDK clients the runtime's optional
# peer dependencies name (the runtime check above ran without them).
pin() { node -p "require('$root/node_modules/$1/package.json').version"; }
npm install --no-audit --no-fund --prefer-offline --loglevel=error "@types/node@$(pin @types/node)" \
  "@aws-sdk/client-dynamodb@$(pin @aws-sdk/client-dynamodb)" "@aws-sdk/client-bedrock-runtime@$(pin @aws-sdk/client-bedrock-runtime)" \
  "@aws-sdk/client-lambda@$(pin @aws-sdk/client-lambda)" >/dev/null
tsc="$root/node_modules/typescript/bin/tsc"
for resolution in "commonjs node10" "nodenext nodenext"; do
  set -- $resolution
  cat > tsconfig.json <<JSON
{ "compilerOptions": { "target": "ES2022", "module": "$1", "moduleResolution": "$2", "lib": ["es2022"], "strict": true, "noEmit": true, "skipLibCheck": false, "types": ["node"] }, "files": ["app.ts", "handler.ts"] }
JSON
  node "$tsc" -p tsconfig.json || { echo "types do not resolve under moduleResolution $2" >&2; exit 1; }
  echo "package check: the app and the handler type-check under moduleResolution $2"
done
size="$(node -e "
  const esbuild = require('$root/node_modules/esbuild');
  esbuild.build({ entryPoints: ['handler.ts'], bundle: true, minify: true, platform: 'node', format: 'esm', write: false, external: ['@aws-sdk/*'] })
    .then((r) => console.log(r.outputFiles[0].contents.length));
")"
echo "package check: a handler importing only pinGuard bundles to $size bytes minified (limit 10240)"
[ "$size" -lt 10240 ] || { echo "the pinGuard-only handler is $size bytes, over 10 KB: the runtime package no longer tree-shakes" >&2; exit 1; }
