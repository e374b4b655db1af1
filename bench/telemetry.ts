// npm run bench:telemetry — what withRelease(pinGuard(handler)) adds to each invocation over the bare
// handler, p50 and p99, measured in the same run with the calls interleaved.
import * as fs from 'fs';
import { performance } from 'perf_hooks';
import { pinGuard, resetColdStartForTesting, withRelease } from '../packages/runtime/src';

const ITERATIONS = 200_000;
const WARMUP = 20_000;
const TARGET_P99_US = 50;

const event = {
  resource: '/answer', path: '/answer', httpMethod: 'POST',
  headers: { 'content-type': 'application/json', 'X-Schema-Rev': '7', 'x-index-hash': '0x9a77', 'X-Release': 'canary' },
  multiValueHeaders: null, body: '{"question":"What is a canary release?"}', requestContext: { requestId: 'r' },
};
const pins = { SCHEMA_REV: '7', INDEX_HASH: '0x9a77', MODEL_TAG: 'titan-v2' };
const bare = async (_e: unknown) => ({ statusCode: 200, body: '{"answer":"A canary release sends a small share of traffic."}' });

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function measure(sinkName: string, sink: (line: string) => void) {
  resetColdStartForTesting();
  const wrapped = withRelease(pinGuard(bare, { pins }), { release: { RELEASE_ID: 'rel-42', ...pins }, revision: '12', functionName: 'answer', sink });
  const tBare = new Float64Array(ITERATIONS);
  const tWrapped = new Float64Array(ITERATIONS);
  for (let i = 0; i < WARMUP; i++) { await bare(event); await wrapped(event); }
  for (let i = 0; i < ITERATIONS; i++) {
    let t0 = performance.now();
    await bare(event);
    tBare[i] = performance.now() - t0;
    t0 = performance.now();
    await wrapped(event);
    tWrapped[i] = performance.now() - t0;
  }
  tBare.sort();
  tWrapped.sort();
  const us = (ms: number) => ms * 1000;
  const row = (p: number) => ({ bare: us(percentile(tBare, p)), wrapped: us(percentile(tWrapped, p)), added: us(percentile(tWrapped, p) - percentile(tBare, p)) });
  const p50 = row(0.5);
  const p99 = row(0.99);
  console.log(`| ${sinkName} | ${p50.bare.toFixed(2)} | ${p50.wrapped.toFixed(2)} | ${p50.added.toFixed(2)} | ${p99.bare.toFixed(2)} | ${p99.wrapped.toFixed(2)} | ${p99.added.toFixed(2)} | ${p99.added <= TARGET_P99_US ? 'met' : 'MISSED'} |`);
}

async function main() {
  console.log(`withRelease(pinGuard(handler)) vs the bare handler, ${ITERATIONS.toLocaleString('en')} interleaved invocations each, µs per invocation (target: p99 added ≤ ${TARGET_P99_US} µs)\n`);
  console.log('| record sink | bare p50 | wrapped p50 | added p50 | bare p99 | wrapped p99 | added p99 | target |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  let kept: string[] = [];
  await measure('in memory (serialisation only)', (line) => { kept.push(line); if (kept.length > 10_000) kept = []; });
  const fd = fs.openSync('/dev/null', 'w');
  await measure('write(2) to /dev/null per record', (line) => { fs.writeSync(fd, line + '\n'); });
  fs.closeSync(fd);
}

main().catch((e) => { console.error(e); process.exit(1); });
