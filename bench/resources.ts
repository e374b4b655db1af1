// npm run bench:resources — what a stack of guarded functions costs in CloudFormation resources, against
// the hand-written CDK pattern measured in the same run, and how many functions fit in one stack.
import { figures, guardedAliasStack, guardedCanaryStack, handWrittenStack, maxFunctionsPerStack, STACK_RESOURCE_LIMIT } from './scale-stacks';

process.env.CDK_VALIDATION = 'false';
const N = 30;
const started = Date.now();
const ours = figures(guardedAliasStack(N), N);
const canary = figures(guardedCanaryStack(N), N);
const peer = figures(handWrittenStack(N), N);
const oursMax = maxFunctionsPerStack(guardedAliasStack);
const canaryMax = maxFunctionsPerStack(guardedCanaryStack);
const peerMax = maxFunctionsPerStack(handWrittenStack);

const row = (name: string, f: typeof ours, max: number) =>
  `| ${name} | ${f.total} | ${f.perFunction.toFixed(2)} | ${f.rolloutPerFunction.toFixed(2)} | ${max} |`;
console.log(`Stack of ${N} guarded functions (each function brings its own Function, role and log group):\n`);
console.log('| pattern | resources | per function | rollout resources per function | functions per stack (≤ ' + STACK_RESOURCE_LIMIT + ' resources) |');
console.log('| --- | ---: | ---: | ---: | ---: |');
console.log(row('GuardedAlias, default staged 1 → 5 → 25 → 50 → 100 %', ours, oursMax));
console.log(row('GuardedAlias, canary(10, 5 min)', canary, canaryMax));
console.log(row('hand-written LambdaDeploymentGroup, canary 10 % 5 min', peer, peerMax));
console.log(`\nstaged by type: ${JSON.stringify(ours.byType)}`);
console.log(`canary by type: ${JSON.stringify(canary.byType)}`);
console.log(`peer by type: ${JSON.stringify(peer.byType)}`);
console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
