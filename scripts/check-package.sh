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
const app = new App();
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
