// npm run bench:bundle — what each runtime helper costs a user's function: a handler that imports only that
// helper from the built package (cdk-rollout-guardrails-runtime resolved through node_modules, so its dist),
// bundled by esbuild as a user's build would (minified, ESM, platform node, the AWS SDK external), in bytes.
// In the same run, the peers: a handler importing the whole runtime, and Powertools' makeIdempotent.
import * as path from 'path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '..');
const PIN_GUARD_LIMIT = 10_000;

/** A handler using one import, as users write it. */
const helper = (name: string, use: string) => ({
  name,
  source: `import { ${name} } from 'cdk-rollout-guardrails-runtime';\nexport const handler = ${use};\n`,
});

const handlers = [
  helper('pinGuard', 'pinGuard(async () => ({ statusCode: 200, body: "ok" }))'),
  helper('withRelease', 'withRelease(async () => ({ statusCode: 200, body: "ok" }))'),
  helper('makeIdempotent', 'makeIdempotent(async () => ({ statusCode: 200, body: "ok" }))'),
  helper('shadowTap', 'shadowTap(async () => ({ statusCode: 200, body: "ok" }))'),
  helper('pinGuardMiddleware', 'pinGuardMiddleware()'),
  helper('releaseTelemetryMiddleware', 'releaseTelemetryMiddleware()'),
  helper('idempotencyMiddleware', 'idempotencyMiddleware()'),
  helper('shadowTapMiddleware', 'shadowTapMiddleware()'),
  helper('guardrails', 'guardrails(async () => ({ statusCode: 200, body: "ok" }), { idempotency: {}, pins: {}, telemetry: {}, shadow: {} })'),
  {
    name: 'the whole runtime (import * as rt)',
    source: `import * as rt from 'cdk-rollout-guardrails-runtime';\nexport const handler = async (event) => rt[event.helper];\n`,
  },
  {
    name: 'Powertools makeIdempotent (+ DynamoDBPersistenceLayer)',
    source: `import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
export const handler = makeIdempotent(async () => ({ statusCode: 200, body: "ok" }), { persistenceStore: new DynamoDBPersistenceLayer({ tableName: 't' }) });\n`,
  },
];

function bundledBytes(source: string): number {
  const result = buildSync({
    stdin: { contents: source, resolveDir: ROOT, loader: 'js', sourcefile: 'handler.mjs' },
    bundle: true, minify: true, format: 'esm', platform: 'node', target: 'node20',
    external: ['@aws-sdk/*'], write: false, logLevel: 'silent',
  });
  return result.outputFiles[0].contents.byteLength;
}

function main(): void {
  const rows = handlers.map(({ name, source }) => ({ name, bytes: bundledBytes(source) }));
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log('Bundled handler size, esbuild --bundle --minify --format=esm --platform=node --external:@aws-sdk/*\n');
  console.log(`| ${'handler imports'.padEnd(width)} | ${'bytes'.padStart(9)} | ${'KB'.padStart(6)} |`);
  console.log(`| ${'-'.repeat(width)} | ${'-'.repeat(8)}: | ${'-'.repeat(5)}: |`);
  for (const { name, bytes } of rows) {
    console.log(`| ${name.padEnd(width)} | ${bytes.toLocaleString('en').padStart(9)} | ${(bytes / 1024).toFixed(1).padStart(6)} |`);
  }
  const pin = rows.find((r) => r.name === 'pinGuard')!.bytes;
  console.log(`\npinGuard alone: ${pin.toLocaleString('en')} bytes (limit ${PIN_GUARD_LIMIT.toLocaleString('en')}): ${pin < PIN_GUARD_LIMIT ? 'met' : 'MISSED'}`);
  if (pin >= PIN_GUARD_LIMIT) process.exitCode = 1;
}

main();
