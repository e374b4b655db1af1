// Integ test: blue-green with the warm gate and a frozen queue consumer, under live traffic.
//
// The stack is created with release v1-good; an SQS queue feeds the function through an event source mapping listed
// in `freezeConsumers`. The assertions deploy twice more through CloudFormation:
// 1. v2-good: the blue-green machine checks the invariants, waits for the new version's provisioned concurrency and
//    warms it, pauses the consumer, CodeDeploy switches all at once, the machine holds and watches, resumes the
//    consumer and reports Succeeded. Claims: the consumer was seen Disabled during the rollout and is Enabled after it,
//    the update completes, the alias serves v2-good alone, the deployment Succeeded (gated by the machine).
// 2. v3-bad-live: it passes the checks before the switch (no live traffic reaches it yet), then fails every live
//    request: the hold's 5xx stop rule must report Failed, CodeDeploy flips the alias back, the update rolls back.
//    Claims: the consumer was paused during this rollout too and is Enabled again after it, the alias serves v2-good
//    with no AdditionalVersionWeights, the deployment Failed, and the rollback deployments were not gated again.
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ExpectedResult, IApiCall, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { BlueGreenSwitch, GuardedAlias, RolloutStrategy } from '../lib';
import { integApp } from './support/app';
import { chain, claim, deployRelease, inspect, Inspector, observe, ROLLBACK_OBSERVATIONS, startTraffic, trafficGenerator } from './support/assertions';
import { demoFunction, destroyLogsWithStack, releaseParameter, SAMPLE_QUESTION } from './support/demo';

const app = integApp();
const stack = new Stack(app, 'GuardrailsIntegBlueGreen', { description: 'cdk-rollout-guardrails integ: blue-green with warm-up and a frozen consumer' });
destroyLogsWithStack(stack);
const release = releaseParameter(stack);
const fn = demoFunction(stack, 'Demo', release);

const jobs = new sqs.Queue(stack, 'Jobs', { visibilityTimeout: Duration.seconds(60), removalPolicy: RemovalPolicy.DESTROY, enforceSSL: true });
// The queue consumer. It is mapped to the function itself, as the library's own tests do: a mapping on the alias
// cannot be listed in freezeConsumers, since CloudFormation would find a cycle (mapping -> alias -> the alias's
// blue-green hook -> ... -> the worker's policy, which names the mapping).
const consumer = fn.addEventSourceMapping('Consumer', { eventSourceArn: jobs.queueArn, batchSize: 1 });
jobs.grantConsumeMessages(fn);

const guarded = new GuardedAlias(stack, 'Answer', {
  function: fn,
  warmup: { provisionedConcurrency: 2 },
  strategy: RolloutStrategy.blueGreen({
    holdAndWatch: Duration.minutes(4),
    freezeConsumers: [consumer],
  }),
});

const machinery = BlueGreenSwitch.of(stack);
const generator = trafficGenerator(stack, 'Traffic', guarded.alias);
const inspector = new Inspector(stack, 'Inspector', {
  functions: [fn],
  deployments: true,
  stateMachineArns: [machinery.stateMachine.stateMachineArn],
  logGroupArns: [machinery.hookFunction.logGroup.logGroupArn],
});

const integ = new IntegTest(app, 'BlueGreen', { testCases: [stack], stackUpdateWorkflow: false, diffAssets: false });
const target = { functionName: fn.functionName, alias: guarded.alias.aliasName };
const deployments = (only: 'rollouts' | 'rollbacks' | 'observed') => ({
  op: 'deployments',
  only,
  application: guarded.deploymentGroup.application.applicationName,
  deploymentGroup: guarded.deploymentGroup.deploymentGroupName,
  functionName: fn.functionName,
  stateMachineArns: [machinery.stateMachine.stateMachineArn],
  hookLogGroups: [machinery.hookFunction.logGroup.logGroupName],
});
const consumerIs = (state: 'Enabled' | 'Disabled', sentence: string, wait?: Duration): IApiCall => {
  const call = integ.assertions.awsApiCall('Lambda', 'getEventSourceMapping', { UUID: consumer.eventSourceMappingId })
    .assertAtPath('State', ExpectedResult.exact(state));
  if (wait) call.waitForAssertions({ totalTimeout: wait, interval: Duration.seconds(5) });
  return claim(call, sentence);
};
const traffic = () => startTraffic(integ, generator, { ...target, question: SAMPLE_QUESTION, rps: 10, seconds: 840 });

// 1. A good release: paused consumer, switch, hold, resume.
const trafficForGood = traffic();
const good = deployRelease(integ, stack, 'v2-good', 'UPDATE_COMPLETE');
const pausedDuringGood = consumerIs('Disabled', 'the queue consumer is paused (Disabled) during the good rollout', Duration.minutes(30));
chain(trafficForGood, good.start, pausedDuringGood);
const goodCheck = chain(
  good.end,
  consumerIs('Enabled', 'the queue consumer is resumed (Enabled) after the good rollout'),
  inspect(integ, inspector, { op: 'alias', ...target }, { release: 'v2-good', weightedVersions: 0 },
    'after the good rollout the alias serves v2-good at 100 %, with no AdditionalVersionWeights'),
  inspect(integ, inspector, deployments('rollouts'), { rollouts: [Match.objectLike({ release: 'v2-good', status: 'Succeeded', gated: true })] },
    'the good release\'s deployment Succeeded, gated by the blue-green machine'),
);
// The second update waits for the first one's checks and for the wait on the paused consumer.
pausedDuringGood.next(goodCheck);

// 2. A release that fails live traffic after the switch: the hold's stop rule flips it back.
const trafficForBad = traffic();
const bad = deployRelease(integ, stack, 'v3-bad-live', 'UPDATE_ROLLBACK_COMPLETE', 'UPDATE_COMPLETE');
const pausedDuringBad = consumerIs('Disabled', 'the queue consumer is paused (Disabled) during the bad rollout', Duration.minutes(30));
chain(goodCheck, trafficForBad, bad.start, pausedDuringBad);
const badCheck = chain(
  bad.end,
  consumerIs('Enabled', 'the queue consumer is resumed (Enabled) after the bad rollout was rolled back'),
  inspect(integ, inspector, { op: 'alias', ...target }, { release: 'v2-good', weightedVersions: 0 },
    'after the bad rollout the alias is back on v2-good, with no AdditionalVersionWeights'),
  inspect(integ, inspector, deployments('rollouts'),
    { rollouts: Match.arrayWith([Match.objectLike({ release: 'v2-good', status: 'Succeeded' }), Match.objectLike({ status: 'Failed', gated: true })]) },
    'after the good release\'s deployment, the bad release\'s deployment Failed, gated by the blue-green machine'),
  inspect(integ, inspector, deployments('rollbacks'), { rollbacks: { any: true, allSucceeded: true, noneGated: true, everyHookRunSaidNotGated: true } },
    'the rollback deployments Succeeded and were not gated again (no execution named after them; a hook that ran for one logged "not gated ... rollback")',
    Duration.minutes(10)),
  observe(integ, inspector, deployments('observed'), ROLLBACK_OBSERVATIONS),
);
pausedDuringBad.next(badCheck);

app.synth();
