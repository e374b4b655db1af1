// Integ test: CodeDeploy's own canary shape with the ΔS probe as its BeforeAllowTraffic hook.
//
// The stack is created with release v1-good; the assertions deploy v2-drift through CloudFormation (a release that
// answers every question from the wrong section: it runs without an error, so only a check of the answers' meaning can
// stop it). The probe's BeforeAllowTraffic run must report Failed before CodeDeploy moves any traffic: the update rolls
// back, the deployment Failed with BeforeAllowTraffic Failed and AllowTraffic never Succeeded, the alias serves
// v1-good with no AdditionalVersionWeights, the probe's hook log names the drift, and the rollback deployment was not
// gated again (if its hook ran at all, it logged "not gated ... rollback").
import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy } from '../lib';
import { integApp } from './support/app';
import { chain, claim, deployRelease, inspect, Inspector, observe, ROLLBACK_OBSERVATIONS } from './support/assertions';
import { demoFunction, destroyLogsWithStack, GOLD_SET_JSONL, releaseParameter } from './support/demo';

const app = integApp();
const stack = new Stack(app, 'GuardrailsIntegCanary', { description: 'cdk-rollout-guardrails integ: canary with the ΔS probe as its hook' });
destroyLogsWithStack(stack);
const release = releaseParameter(stack);
const fn = demoFunction(stack, 'Demo', release);
const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromJsonl(GOLD_SET_JSONL), budget: Duration.seconds(60), invokeTimeout: Duration.seconds(5) });
Annotations.of(probe).acknowledgeWarning('cdk-rollout-guardrails:smallGoldSet', 'A three-question gold set keeps the integ test short; the demo answers it exactly.');

const guarded = new GuardedAlias(stack, 'Answer', {
  function: fn,
  probe,
  strategy: RolloutStrategy.canary(10, Duration.minutes(1)),
});

const inspector = new Inspector(stack, 'Inspector', {
  functions: [fn],
  deployments: true,
  logGroupArns: [probe.function.logGroup.logGroupArn],
});

const integ = new IntegTest(app, 'CanaryProbe', { testCases: [stack], stackUpdateWorkflow: false, diffAssets: false });
const target = { functionName: fn.functionName, alias: guarded.alias.aliasName };
const deployments = (only: 'rollouts' | 'rollbacks' | 'observed') => ({
  op: 'deployments',
  only,
  application: guarded.deploymentGroup.application.applicationName,
  deploymentGroup: guarded.deploymentGroup.deploymentGroupName,
  functionName: fn.functionName,
  hookLogGroups: [probe.function.logGroup.logGroupName],
});

const drift = deployRelease(integ, stack, 'v2-drift', 'UPDATE_ROLLBACK_COMPLETE');
const alias = inspect(integ, inspector, { op: 'alias', ...target }, { release: 'v1-good', weightedVersions: 0 },
  'after the drifted rollout the alias serves v1-good at 100 %, with no AdditionalVersionWeights');
const beforeTraffic = inspect(integ, inspector, deployments('rollouts'),
  { rollouts: Match.arrayWith([Match.objectLike({ status: 'Failed', hooks: Match.objectLike({ BeforeAllowTraffic: 'Failed', AllowTraffic: Match.stringLikeRegexp('^(Pending|Skipped|Unknown)$') }) })]) },
  'the drifted release\'s deployment Failed in BeforeAllowTraffic (the probe) and CodeDeploy never ran AllowTraffic: no user request reached it');
const probeLog = claim(integ.assertions.awsApiCall('CloudWatchLogs', 'filterLogEvents', {
  logGroupName: probe.function.logGroup.logGroupName,
  filterPattern: '"cdk-rollout-guardrails probe hook" "Failed"',
  limit: 1,
}).assertAtPath('events.0.message', ExpectedResult.stringLikeRegexp('"status":"Failed","reasons":\\["'))
  .waitForAssertions({ totalTimeout: Duration.minutes(3), interval: Duration.seconds(15) }),
'the probe hook logged its Failed verdict with its reasons');
const notGatedAgain = inspect(integ, inspector, deployments('rollbacks'),
  { rollbacks: { any: true, allSucceeded: true, noneGated: true, everyHookRunSaidNotGated: true } },
  'the rollback deployment Succeeded and was not probed again (a hook that ran for it logged "not gated ... rollback")',
  Duration.minutes(10));

chain(drift.end, alias, beforeTraffic, probeLog, notGatedAgain, observe(integ, inspector, deployments('observed'), ROLLBACK_OBSERVATIONS));

app.synth();
