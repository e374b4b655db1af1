// Integ test: a staged rollout with sticky cohorts under live traffic from 200 tenants.
//
// The live function answers with its release under guardrails({ cohorts, telemetry }) (integ/support/handlers/
// sticky-answer.ts): the stickyCohorts forwarder sends a tenant of the cohort to `live-canary`. The stack is created
// with release v1-good, then deployed twice more through CloudFormation (deployRelease):
// 1. v2-good, with 200 tenants calling: the machine opens the cohort item at 0 %, puts 50 %, bakes, and hands over
//    to CodeDeploy, which moves `live` to v2-good. Claims: the update completes and the deployment Succeeded, gated;
//    `live` serves v2-good with no AdditionalVersionWeights (it never had any); the machine published 50 % (its
//    TrafficWeight); the cohort item holds 50 % for the new version (left there on success); every tenant ended on
//    v2-good and none went back to v1-good once v2-good had answered it (the traffic generator's own count).
// 2. v3-bad-live, which fails every request it serves: the gates see the canary alias's errors at 50 %, the item is
//    put back to 0 % on the current version, Failed is reported, CodeDeploy and CloudFormation roll back. Claims:
//    the stack rolls back; `live` serves v2-good; the item is at 0 %.
import { Duration, Fn, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as path from 'path';
import { ExpectedResult, IntegTest, InvocationType, Match } from '@aws-cdk/integ-tests-alpha';
import { GuardedAlias, NoDataAction, RolloutStrategy, StagedRollout } from '../lib';
import { integApp } from './support/app';
import { chain, claim, deployRelease, inspect, Inspector } from './support/assertions';
import { destroyedLogGroup, destroyLogsWithStack, releaseParameter, REPO_ROOT } from './support/demo';

const app = integApp();
const stack = new Stack(app, 'GuardrailsIntegSticky', { description: 'cdk-rollout-guardrails integ: staged rollout with sticky cohorts' });
destroyLogsWithStack(stack);
const release = releaseParameter(stack);
const fn = new nodejs.NodejsFunction(stack, 'Answer', {
  entry: path.join(__dirname, 'support', 'handlers', 'sticky-answer.ts'),
  runtime: lambda.Runtime.NODEJS_22_X,
  memorySize: 256,
  timeout: Duration.seconds(10),
  description: 'cdk-rollout-guardrails integ: sticky-cohorts answering function',
  environment: { RELEASE_LABEL: release.valueAsString },
  currentVersionOptions: { description: Fn.join('', ['integ sticky release ', release.valueAsString]) },
  projectRoot: REPO_ROOT,
  depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
  bundling: { externalModules: ['@aws-sdk/*'], minify: true, sourceMap: false, target: 'node22', logLevel: nodejs.LogLevel.WARNING },
  logGroup: destroyedLogGroup(stack, 'AnswerLogs'),
});

const guarded = new GuardedAlias(stack, 'Sticky', {
  function: fn,
  strategy: RolloutStrategy.staged({
    steps: [50, 100],
    bake: Duration.minutes(2),
    maxFailuresPerStep: 1,
    // Live traffic is guaranteed by the generator; missing data must fail rather than pass the step.
    noData: { maxWait: Duration.minutes(3), then: NoDataAction.FAIL, minInvocations: 10 },
    stickyCohorts: {},
  }),
});

const machinery = StagedRollout.of(stack);
const cohortTable = machinery.node.findChild('CohortTable') as dynamodb.Table;
const cohortKey = `cohort-${guarded.alias.node.addr}`;

// The traffic generator: 200 tenants, round robin, each answer's release recorded per tenant.
const generator = new lambda.Function(stack, 'Traffic', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, 'support', 'sticky-traffic')),
  memorySize: 256,
  timeout: Duration.minutes(15),
  retryAttempts: 0,
  description: 'cdk-rollout-guardrails integ: 200 tenants through the alias during a sticky rollout',
  logGroup: destroyedLogGroup(stack, 'TrafficLogs'),
});
guarded.alias.grantInvoke(generator);
generator.addToRolePolicy(new iam.PolicyStatement({
  actions: ['cloudwatch:PutMetricData'], resources: ['*'], conditions: { StringEquals: { 'cloudwatch:namespace': 'IntegSticky' } },
}));

const inspector = new Inspector(stack, 'Inspector', {
  functions: [fn],
  deployments: true,
  stateMachineArns: [machinery.stateMachine.stateMachineArn],
  logGroupArns: [machinery.starterFunction.logGroup.logGroupArn],
  metrics: true,
  stacks: [stack],
});

const integ = new IntegTest(app, 'StickyCohorts', { testCases: [stack], stackUpdateWorkflow: false, diffAssets: false });

const target = { functionName: fn.functionName, alias: guarded.alias.aliasName };
const deployments = {
  op: 'deployments', only: 'rollouts',
  application: guarded.deploymentGroup.application.applicationName, deploymentGroup: guarded.deploymentGroup.deploymentGroupName,
  functionName: fn.functionName, stateMachineArns: [machinery.stateMachine.stateMachineArn], hookLogGroups: [machinery.starterFunction.logGroup.logGroupName],
};
const weight = machinery.metricTrafficWeight({ functionName: fn.functionName, aliasName: guarded.alias.aliasName });
const cohortItem = (expected: Record<string, unknown>, sentence: string) => claim(integ.assertions
  .awsApiCall('DynamoDB', 'getItem', { TableName: cohortTable.tableName, Key: { pk: { S: cohortKey } }, ConsistentRead: true })
  .expect(ExpectedResult.objectLike({ Item: Match.objectLike(expected) })), sentence);
const stickyMetric = (metricName: string, expected: Record<string, unknown>, sentence: string) => inspect(integ, inspector, {
  op: 'metricMax', namespace: 'IntegSticky', metricName, dimensions: [{ Name: 'Release', Value: 'v2-good' }], minutes: 60,
}, expected, sentence, Duration.minutes(5));
const trafficFor = (newRelease: string) => integ.assertions.invokeFunction({
  functionName: generator.functionName,
  invocationType: InvocationType.EVENT,
  payload: JSON.stringify({ ...target, newRelease, tenants: 200, rps: 10, seconds: 840 }),
});

// 1. A good release under 200 tenants' traffic goes all the way, each tenant on one release at a time.
const good = deployRelease(integ, stack, 'v2-good', 'UPDATE_COMPLETE');
const goodAlias = inspect(integ, inspector, { op: 'alias', ...target }, { release: 'v2-good', weightedVersions: 0 },
  'after the sticky rollout `live` serves v2-good, with no AdditionalVersionWeights');
const goodDeployment = inspect(integ, inspector, deployments, { rollouts: [Match.objectLike({ release: 'v2-good', status: 'Succeeded', gated: true })] },
  'the good release\'s deployment Succeeded, gated by the staged machine');
const shifted = inspect(integ, inspector, {
  op: 'metricMax', namespace: weight.namespace, metricName: weight.metricName, sinceLastUpdateOf: stack.stackName,
  dimensions: Object.entries(weight.dimensions ?? {}).map(([Name, Value]) => ({ Name, Value })),
}, { max: 50 }, 'the machine put 50 % of the users in the cohort (its TrafficWeight metric)', Duration.minutes(5));
const itemLeft = cohortItem({ weight: { N: '50' } }, 'on success the cohort item is left at 50 % until CodeDeploy\'s shift (the new version then serves everyone itself)');
const allOnNew = stickyMetric('TenantsOnNewRelease', { max: 200 }, 'every one of the 200 tenants was served by v2-good by the end');
const noneBack = stickyMetric('TenantsMovedBack', { max: 0 }, 'no tenant went back to v1-good once v2-good had answered it (sticky, and no gap at the hand-over)');

// 2. A release that fails every live request is pulled back at 50 %.
const bad = deployRelease(integ, stack, 'v3-bad-live', 'UPDATE_ROLLBACK_COMPLETE', 'UPDATE_COMPLETE');
const badAlias = inspect(integ, inspector, { op: 'alias', ...target }, { release: 'v2-good', weightedVersions: 0 },
  'after the bad rollout `live` is back on v2-good');
const itemCleared = cohortItem({ weight: { N: '0' } }, 'after the rollback the cohort item is at 0 %: every tenant on v2-good');

chain(good.end, goodAlias, goodDeployment, shifted, itemLeft, allOnNew, noneBack);
const trafficForGood = trafficFor('v2-good');
const trafficForBad = trafficFor('v3-bad-live');
trafficForGood.next(good.start);
noneBack.next(trafficForBad);
trafficForBad.next(bad.start);
chain(bad.end, badAlias, itemCleared);

app.synth();
