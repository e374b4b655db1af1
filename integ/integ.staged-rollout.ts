// Integ test: the default strategy, a staged rollout with the ΔS probe and warm-up, under live traffic.
//
// The stack is created with release v1-good. The assertions then deploy the stack twice more through CloudFormation
// (integ/support/assertions.ts deployRelease: UpdateStack with the `Release` parameter changed, which publishes a new
// version and makes the alias update start a CodeDeploy deployment, as `cdk deploy` of changed code does):
// 1. v2-good, with live traffic: the staged machine warms it, probes it, shifts 50 %, bakes, probes again, CodeDeploy
//    moves the rest; the update completes, the alias serves v2-good alone, the deployment Succeeded;
// 2. v3-bad-live, with live traffic: it answers the probe and warm pings, but fails every live request (a regression
//    on a path the gold set does not cover). Only the live canary-vs-control gates can see it, once it has traffic:
//    the machine shifts 50 %, the gates fail, the weight is reset, Failed is reported, CodeDeploy and CloudFormation
//    roll back. The alias serves v2-good again with no AdditionalVersionWeights, the deployment Failed, the machine had
//    set 50 % (its TrafficWeight metric), a FAILURE notification reached the topic (an SQS queue subscribed to it),
//    and the rollback deployments were not gated again (no execution named after them; a hook that ran for them
//    logged "not gated ... rollback");
// 3. v4-good, aborted by an operator: once its deployment exists, the assertions write `abort` for it into the
//    alias's operator item (the contract's operatorItem, the put the CLI makes), without traffic. The gate reads it at
//    its first invocation and rolls back before any user request reaches v4-good: the stack rolls back, the
//    deployment Failed (gated), and the machine never set a weight above 0 (its TrafficWeight metric).
import { Annotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { DeltaSProbe, GoldSet, GuardedAlias, NoDataAction, RolloutStrategy, StagedRollout } from '../lib';
import { aliasConfigKey, operatorItem } from 'cdk-rollout-guardrails-runtime/contract';
import { integApp } from './support/app';
import { chain, claim, deployRelease, inspect, Inspector, observe, ROLLBACK_OBSERVATIONS, startTraffic, trafficGenerator } from './support/assertions';
import { demoFunction, destroyLogsWithStack, GOLD_SET_JSONL, releaseParameter, SAMPLE_QUESTION } from './support/demo';

const app = integApp();
const stack = new Stack(app, 'GuardrailsIntegStaged', { description: 'cdk-rollout-guardrails integ: staged rollout with probe and warm-up' });
destroyLogsWithStack(stack);
const release = releaseParameter(stack);
const fn = demoFunction(stack, 'Demo', release);

// A probe that fits a short schedule: 60 s budget, 5 s per call (its function's timeout: 60 + 5 + 20 = 85 s).
const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromJsonl(GOLD_SET_JSONL), budget: Duration.seconds(60), invokeTimeout: Duration.seconds(5) });
Annotations.of(probe).acknowledgeWarning('cdk-rollout-guardrails:smallGoldSet', 'A three-question gold set keeps the integ test short; the demo answers it exactly.');

const topic = new sns.Topic(stack, 'Notifications');
const failures = new sqs.Queue(stack, 'FailureNotifications', { retentionPeriod: Duration.hours(2), removalPolicy: RemovalPolicy.DESTROY, enforceSSL: true });
// Only the deployment FAILURE messages reach the queue, so whatever ReceiveMessage returns is one.
topic.addSubscription(new subs.SqsSubscription(failures, {
  rawMessageDelivery: true,
  filterPolicyWithMessageBody: {
    event: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['deployment'] })),
    state: sns.FilterOrPolicy.filter(sns.SubscriptionFilter.stringFilter({ allowlist: ['FAILURE'] })),
  },
}));

const guarded = new GuardedAlias(stack, 'Answer', {
  function: fn,
  probe,
  notifications: topic,
  warmup: { provisionedConcurrency: 2 },
  strategy: RolloutStrategy.staged({
    steps: [50, 100],
    bake: Duration.minutes(1),
    maxFailuresPerStep: 1,
    // Live traffic is guaranteed by the generator; missing data must fail rather than pass the step.
    noData: { maxWait: Duration.minutes(3), then: NoDataAction.FAIL, minInvocations: 10 },
    probeBudget: Duration.seconds(85),
  }),
});

const machinery = StagedRollout.of(stack);
const generator = trafficGenerator(stack, 'Traffic', guarded.alias);
const inspector = new Inspector(stack, 'Inspector', {
  functions: [fn],
  deployments: true,
  stateMachineArns: [machinery.stateMachine.stateMachineArn],
  logGroupArns: [machinery.starterFunction.logGroup.logGroupArn, probe.function.logGroup.logGroupArn],
  metrics: true,
  stacks: [stack],
});

const integ = new IntegTest(app, 'StagedRollout', {
  testCases: [stack],
  // The test makes its own later deployments (UpdateStack); the runner's update workflow would only redeploy the snapshot.
  stackUpdateWorkflow: false,
  diffAssets: false,
});

const target = { functionName: fn.functionName, alias: guarded.alias.aliasName };
const deployments = (only: 'rollouts' | 'rollbacks' | 'observed') => ({
  op: 'deployments',
  only,
  application: guarded.deploymentGroup.application.applicationName,
  deploymentGroup: guarded.deploymentGroup.deploymentGroupName,
  functionName: fn.functionName,
  stateMachineArns: [machinery.stateMachine.stateMachineArn],
  hookLogGroups: [machinery.starterFunction.logGroup.logGroupName, probe.function.logGroup.logGroupName],
});
const trafficFor = (seconds: number) => startTraffic(integ, generator, { ...target, question: SAMPLE_QUESTION, rps: 10, seconds });
const weight = machinery.metricTrafficWeight({ functionName: fn.functionName, aliasName: guarded.alias.aliasName });

// 1. A good release under live traffic goes all the way.
const good = deployRelease(integ, stack, 'v2-good', 'UPDATE_COMPLETE');
const goodAlias = inspect(integ, inspector, { op: 'alias', ...target },
  { release: 'v2-good', weightedVersions: 0 },
  'after the good rollout the alias serves v2-good at 100 %, with no AdditionalVersionWeights');
const goodDeployment = inspect(integ, inspector, deployments('rollouts'),
  { rollouts: [Match.objectLike({ release: 'v2-good', status: 'Succeeded', gated: true })] },
  'the good release\'s deployment Succeeded, gated by the staged machine (an execution named after it)');

// 2. A release that fails live traffic only is pulled back after its first shift.
const bad = deployRelease(integ, stack, 'v3-bad-live', 'UPDATE_ROLLBACK_COMPLETE', 'UPDATE_COMPLETE');
const badAlias = inspect(integ, inspector, { op: 'alias', ...target },
  { release: 'v2-good', weightedVersions: 0 },
  'after the bad rollout the alias is back on v2-good, with no AdditionalVersionWeights');
const badDeployment = inspect(integ, inspector, deployments('rollouts'),
  // The bad release's version is gone after the rollback (CloudFormation deletes the version it created): the
  // deployment is the Failed one after the good release's.
  { rollouts: Match.arrayWith([Match.objectLike({ release: 'v2-good', status: 'Succeeded' }), Match.objectLike({ status: 'Failed', gated: true })]) },
  'after the good release\'s deployment, the bad release\'s deployment Failed, gated by the staged machine');
const shifted = inspect(integ, inspector, {
  op: 'metricMax', namespace: weight.namespace, metricName: weight.metricName, sinceLastUpdateOf: stack.stackName,
  dimensions: Object.entries(weight.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
}, { max: 50 }, 'the machine had moved 50 % of the traffic (its TrafficWeight metric) before the live gates pulled the bad release back', Duration.minutes(5));
const notified = claim(integ.assertions.awsApiCall('SQS', 'receiveMessage', { QueueUrl: failures.queueUrl, WaitTimeSeconds: 20, MaxNumberOfMessages: 1 })
  .assertAtPath('Messages.0.Body.state', ExpectedResult.exact('FAILURE'))
  .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(10) }),
'a deployment FAILURE notification was published to the alias\'s topic (read from an SQS queue subscribed to it)');
const notGatedAgain = inspect(integ, inspector, deployments('rollbacks'),
  { rollbacks: { any: true, allSucceeded: true, noneGated: true, everyHookRunSaidNotGated: true } },
  'the rollback deployments Succeeded and were not gated again: no machine execution is named after them, and a hook that ran for one logged "not gated ... rollback"',
  Duration.minutes(10));

// 3. An operator aborts a good release while the machine runs it.
const application = guarded.deploymentGroup.application.applicationName;
const deploymentGroup = guarded.deploymentGroup.deploymentGroupName;
const inProgress = { applicationName: application, deploymentGroupName: deploymentGroup, includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'] };
const deploymentStarted = claim(integ.assertions.awsApiCall('CodeDeploy', 'listDeployments', inProgress)
  .assertAtPath('deployments.0', ExpectedResult.stringLikeRegexp('^d-'))
  .waitForAssertions({ totalTimeout: Duration.minutes(15), interval: Duration.seconds(15) }),
'the aborted release\'s deployment starts');
const current = integ.assertions.awsApiCall('CodeDeploy', 'listDeployments', inProgress);
const operatorTable = machinery.node.findChild('OperatorTable') as dynamodb.Table;
const abort = claim(integ.assertions.awsApiCall('DynamoDB', 'putItem', {
  TableName: operatorTable.tableName,
  Item: operatorItem(aliasConfigKey(application, deploymentGroup), {
    deploymentId: current.getAttString('deployments.0'), command: 'abort', step: 0, commandId: 'integ-abort',
    requestedBy: 'the staged integ test', requestedAt: 'during the v4-good update', reason: 'an operator aborts a good release',
  }),
}), 'an operator\'s abort of the deployment in progress is written to the alias\'s operator item');
const aborted = deployRelease(integ, stack, 'v4-good', 'UPDATE_ROLLBACK_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', [deploymentStarted, current, abort]);
const abortedDeployment = inspect(integ, inspector, deployments('rollouts'),
  { rollouts: Match.arrayWith([Match.objectLike({ status: 'Failed', gated: true }), Match.objectLike({ status: 'Failed', gated: true })]) },
  'the aborted release\'s deployment Failed, gated by the staged machine, as the bad release\'s did');
const neverServed = inspect(integ, inspector, {
  op: 'metricMax', namespace: weight.namespace, metricName: weight.metricName, sinceLastUpdateOf: stack.stackName,
  dimensions: Object.entries(weight.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
}, { max: 0 }, 'the aborted release never served users: the machine published only a weight of 0 (the rollback) after the update began', Duration.minutes(5));

chain(good.end, goodAlias, goodDeployment);
// The generator runs 14 minutes from just before each update (Lambda's 15-minute limit).
const trafficForGood = trafficFor(840);
const trafficForBad = trafficFor(840);
trafficForGood.next(good.start);
goodDeployment.next(trafficForBad);
trafficForBad.next(bad.start);
const observed = chain(bad.end, badAlias, badDeployment, shifted, notified, notGatedAgain, observe(integ, inspector, deployments('observed'), ROLLBACK_OBSERVATIONS));
observed.next(aborted.start);
chain(aborted.end, abortedDeployment, neverServed);

app.synth();
