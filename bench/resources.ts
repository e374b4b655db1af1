// npm run bench:resources — what a stack of guarded functions costs in CloudFormation resources, against
// the hand-written CDK pattern measured in the same run, how many functions fit in one stack, and how long
// a stack of 30 takes to synthesise, per function, against the same pattern.
import {
  figures, guardedAliasStack, guardedCanaryStack, handWrittenStack, maxFunctionsPerStack, median, STACK_RESOURCE_LIMIT,
  synthSecondsPerFunction, TEMPLATE_SIZE_LIMIT,
} from './scale-stacks';

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

process.env.CDK_VALIDATION = 'false';
const N = 30;
// Rounds of the synth timing: on 2 shared cores one stack's synth moves by a third from round to round.
const ROUNDS = 15;
const started = Date.now();
const ours = figures(guardedAliasStack(N), N);
const canary = figures(guardedCanaryStack(N), N);
const peer = figures(handWrittenStack(N), N);
const oursMax = maxFunctionsPerStack(guardedAliasStack);
const canaryMax = maxFunctionsPerStack(guardedCanaryStack);
const peerMax = maxFunctionsPerStack(handWrittenStack);
// Timed after the counts, so that every builder is loaded and warm; the three take turns in each round.
const timings = synthSecondsPerFunction([guardedAliasStack, guardedCanaryStack, handWrittenStack], N, ROUNDS);
const [oursSynth, canarySynth, peerSynth] = timings.perFunction;
// Each round's ratio compares two stacks synthesised back to back, so the machine's speed, which drifts over
// seconds on these shared cores, cancels out of it; their median is the figure compared with the target.
const ratios = timings.rounds.map(([staged, , handWritten]) => staged / handWritten).sort((a, b) => a - b);
const oursAtMax = figures(guardedAliasStack(oursMax), oursMax);

// One cold synth per process, as `cdk synth` runs a user's app: loading aws-cdk-lib and the compiled library
// (dist/) counts, and nothing is warm. The patterns take turns; each round's ratio is of two processes run back to back.
const COLD_ROUNDS = 7;
if (!fs.existsSync(path.join(__dirname, '..', 'dist', 'lib', 'index.js'))) throw new Error('bench:resources: dist/lib is missing; run npm run build first');
const coldMs = (pattern: string) => Number(execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'cold-synth.ts'), pattern, String(N)], {
  cwd: path.join(__dirname, '..'), encoding: 'utf8',
}).trim().split('\n').pop());
const cold = Array.from({ length: COLD_ROUNDS }, () => ['staged', 'canary', 'hand-written'].map(coldMs));
const coldMedian = (i: number) => median(cold.map((round) => round[i]));
const coldRatios = cold.map(([staged, , handWritten]) => staged / handWritten).sort((a, b) => a - b);

const row = (name: string, f: typeof ours, max: number, synth: number) =>
  `| ${name} | ${f.total} | ${f.perFunction.toFixed(2)} | ${f.rolloutPerFunction.toFixed(2)} | ${max} | ${(synth * 1000).toFixed(0)} |`;
console.log(`Stack of ${N} guarded functions (each function brings its own Function, role and log group):\n`);
console.log(`| pattern | resources | per function | rollout resources per function | functions per stack (≤ ${STACK_RESOURCE_LIMIT} resources) | synth ms per function (stack of ${N}) |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
console.log(row('GuardedAlias, default staged 1 → 5 → 25 → 50 → 100 %', ours, oursMax, oursSynth));
console.log(row('GuardedAlias, canary(10, 5 min)', canary, canaryMax, canarySynth));
console.log(row('hand-written LambdaDeploymentGroup, canary 10 % 5 min', peer, peerMax, peerSynth));
console.log(`\nsynth per function, staged GuardedAlias vs hand-written: ${(oursSynth * 1000).toFixed(0)} ms vs ${(peerSynth * 1000).toFixed(0)} ms `
  + `(medians of ${ROUNDS} alternating rounds after a warm-up, ts-node --transpile-only, CDK_VALIDATION=false); `
  + `staged / hand-written in the same round: median ${median(ratios).toFixed(2)}x, from ${ratios[0].toFixed(2)}x to ${ratios[ratios.length - 1].toFixed(2)}x`);
console.log(`one cold synth of the ${N}-function app per process (compiled library, as installed): staged ${coldMedian(0).toFixed(0)} ms, canary ${coldMedian(1).toFixed(0)} ms, `
  + `hand-written ${coldMedian(2).toFixed(0)} ms (medians of ${COLD_ROUNDS}); staged / hand-written in the same round: median ${median(coldRatios).toFixed(2)}x, `
  + `from ${coldRatios[0].toFixed(2)}x to ${coldRatios[coldRatios.length - 1].toFixed(2)}x`);
console.log(`template of ${oursMax} staged GuardedAliases: ${oursAtMax.total} resources, ${(oursAtMax.templateBytes / 1000).toFixed(0)} kB of JSON `
  + `(CloudFormation takes ${TEMPLATE_SIZE_LIMIT / 1_000_000} MB from S3)`);
console.log(`\nstaged by type: ${JSON.stringify(ours.byType)}`);
console.log(`canary by type: ${JSON.stringify(canary.byType)}`);
console.log(`peer by type: ${JSON.stringify(peer.byType)}`);
console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
