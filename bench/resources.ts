// npm run bench:resources — what a stack of guarded functions costs in CloudFormation resources, against
// the hand-written CDK pattern measured in the same run, how many functions fit in one stack, and how long
// a stack of 30 takes to synthesise, per function, against the same pattern.
import {
  figures, guardedAliasStack, guardedCanaryStack, handWrittenStack, maxFunctionsPerStack, STACK_RESOURCE_LIMIT,
  synthSecondsPerFunction, TEMPLATE_SIZE_LIMIT,
} from './scale-stacks';

process.env.CDK_VALIDATION = 'false';
const N = 30;
// Rounds of the synth timing: on 2 shared cores one stack's synth moves by a third from round to round.
const ROUNDS = 9;
const started = Date.now();
const ours = figures(guardedAliasStack(N), N);
const canary = figures(guardedCanaryStack(N), N);
const peer = figures(handWrittenStack(N), N);
const oursMax = maxFunctionsPerStack(guardedAliasStack);
const canaryMax = maxFunctionsPerStack(guardedCanaryStack);
const peerMax = maxFunctionsPerStack(handWrittenStack);
// Timed after the counts, so that every builder is loaded and warm; the three take turns in each round.
const [oursSynth, canarySynth, peerSynth] = synthSecondsPerFunction([guardedAliasStack, guardedCanaryStack, handWrittenStack], N, ROUNDS);
const oursAtMax = figures(guardedAliasStack(oursMax), oursMax);

const row = (name: string, f: typeof ours, max: number, synth: number) =>
  `| ${name} | ${f.total} | ${f.perFunction.toFixed(2)} | ${f.rolloutPerFunction.toFixed(2)} | ${max} | ${(synth * 1000).toFixed(0)} |`;
console.log(`Stack of ${N} guarded functions (each function brings its own Function, role and log group):\n`);
console.log(`| pattern | resources | per function | rollout resources per function | functions per stack (≤ ${STACK_RESOURCE_LIMIT} resources) | synth ms per function (stack of ${N}) |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
console.log(row('GuardedAlias, default staged 1 → 5 → 25 → 50 → 100 %', ours, oursMax, oursSynth));
console.log(row('GuardedAlias, canary(10, 5 min)', canary, canaryMax, canarySynth));
console.log(row('hand-written LambdaDeploymentGroup, canary 10 % 5 min', peer, peerMax, peerSynth));
console.log(`\nsynth per function, staged GuardedAlias vs hand-written: ${(oursSynth * 1000).toFixed(0)} ms vs ${(peerSynth * 1000).toFixed(0)} ms `
  + `(${(oursSynth / peerSynth).toFixed(2)}x; median of ${ROUNDS} alternating rounds after a warm-up, ts-node --transpile-only, CDK_VALIDATION=false)`);
console.log(`template of ${oursMax} staged GuardedAliases: ${oursAtMax.total} resources, ${(oursAtMax.templateBytes / 1000).toFixed(0)} kB of JSON `
  + `(CloudFormation takes ${TEMPLATE_SIZE_LIMIT / 1_000_000} MB from S3)`);
console.log(`\nstaged by type: ${JSON.stringify(ours.byType)}`);
console.log(`canary by type: ${JSON.stringify(canary.byType)}`);
console.log(`peer by type: ${JSON.stringify(peer.byType)}`);
console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
