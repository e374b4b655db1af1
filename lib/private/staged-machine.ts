// The staged rollout's state machine definition (see lib/staged-rollout.ts). Every AWS call is a Step
// Functions SDK integration written as a CustomState, so that the construct grants its role exactly the
// resources of the aliases attached to it (CallAwsService would fix the resources at creation).
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { COHORT_ATTRIBUTES, COHORT_TABLE_KEY, INITIAL_PROGRESS, REPORT_ATTEMPT_SECONDS, STAGED_METRIC_NAMESPACE } from 'cdk-rollout-guardrails-runtime/contract';
import { ALREADY_REPORTED, LAMBDA_INVOKE, NO_RETRY_ONCE_REPORTED, REPORT, RETRY, sdk, selectConfig } from './asl';

function sdkTask(scope: Construct, id: string, action: string, parameters: Record<string, unknown>, comment: string): sfn.CustomState {
  return new sfn.CustomState(scope, id, {
    stateJson: {
      Type: 'Task',
      Comment: comment,
      Resource: sdk(action),
      Parameters: parameters,
      ResultPath: null,
    },
  }).addRetry(RETRY.sdk);
}

/**
 * Sticky cohorts: a put of the alias's cohort item: the weight (0, or the gate's decision as DynamoDB's number
 * text), the rollout's salt (the deployment ID: one draw per rollout, the same at every step, and no two rollouts
 * of any alias share it) and the version the canary alias serves: the target while the rollout runs, the current
 * one once it ends (a function of that version then serves every request itself).
 */
function cohortPut(scope: Construct, id: string, weight: Record<string, string>, version: string, comment: string): sfn.CustomState {
  return sdkTask(scope, id, 'dynamodb:putItem', {
    'TableName.$': '$.config.cohort.tableName',
    Item: {
      [COHORT_TABLE_KEY]: { 'S.$': '$.config.cohort.key' },
      [COHORT_ATTRIBUTES.weight]: weight,
      [COHORT_ATTRIBUTES.salt]: { 'S.$': '$.deployment.deploymentId' },
      [COHORT_ATTRIBUTES.canaryVersion]: { 'S.$': version },
      [COHORT_ATTRIBUTES.deploymentId]: { 'S.$': '$.deployment.deploymentId' },
    },
  }, comment);
}

/** A cohort put at weight 0 when the alias has sticky cohorts (`config.cohort`), else straight on to `next`. */
function cohortStep(scope: Construct, id: string, version: string, next: sfn.State, onError: sfn.IChainable, comment: string): sfn.Choice {
  const put = cohortPut(scope, id, { N: '0' }, version, comment);
  put.addCatch(onError, { resultPath: '$.cohortError' }).next(next);
  return new sfn.Choice(scope, `${id}?`, { comment: 'Sticky cohorts?' })
    .when(sfn.Condition.isPresent('$.config.cohort'), put)
    .otherwise(next);
}

const ALIAS = { 'FunctionName.$': '$.target.functionName', 'Name.$': '$.target.alias' };
const HOOK = { 'DeploymentId.$': '$.deployment.deploymentId', 'LifecycleEventHookExecutionId.$': '$.deployment.lifecycleEventHookExecutionId' };

/**
 * The one report step (the blue-green machine's, in JSONPath): putLifecycleEventHookExecutionStatus with
 * `status`, each attempt cut off after REPORT_ATTEMPT_SECONDS, retried (RETRY.sdk) but never once CodeDeploy says
 * the hook is completed: an earlier attempt landed, which goes on to `next` like a report that landed. Any other
 * error, once the retries are spent, goes to `onError` with the error at `errorPath`.
 */
function report(scope: Construct, id: string, status: 'Succeeded' | 'Failed', comment: string, next: sfn.State, onError: sfn.IChainable, errorPath = '$.reportError'): sfn.CustomState {
  const state = new sfn.CustomState(scope, id, {
    stateJson: { Type: 'Task', Comment: comment, Resource: REPORT, Parameters: { ...HOOK, Status: status }, ResultPath: null, TimeoutSeconds: REPORT_ATTEMPT_SECONDS },
  }).addRetry(NO_RETRY_ONCE_REPORTED).addRetry(RETRY.sdk);
  state.addCatch(next, { errors: [ALREADY_REPORTED], resultPath: '$.reportError' });
  state.addCatch(onError, { resultPath: errorPath });
  state.next(next);
  return state;
}

/**
 * Builds the definition:
 *
 * `configsJson` produces a JSON object of configurations keyed by `aliasConfigKey()`, written into Init.
 *
 * Init → Configured → OpenCohort? → HasShadowGate → (ShadowGate → Notify? → Route →) HasWarmup → (WarmUp → Warm? →) HasProbe → (Probe | NoProbe)
 * → Gate → Notify? → (Notify →) Route, where Route goes on `$.gate.next`:
 * - start: PublishShadowPassed → HasWarmup (the release passed shadow: stage 0 is over)
 * - shift: Shift → SetWeight (AdditionalVersionWeights only) or, with sticky cohorts, SetCohort (the weight in the
 *   alias's cohort item) → PublishShift → Bake (a slice of the bake) → Gate
 * - bake: Bake → Gate (the gate watches the alarms every slice)
 * - recheck: PublishHold → Recheck → HasProbe
 * - probe: HasProbe (the bake is over: probe and check before the next shift)
 * - succeed: PublishSucceeded → HandBack (the alias back on the current version alone) → ReportSucceeded → Succeeded
 * - rollback: ResetRouting → ClearCohort? → PublishRollback → ReportFailed → RolledBack
 *
 * With sticky cohorts, OpenCohort writes the cohort item at 0 % first (for pinned synthetic requests), and it goes back to
 * 0 % wherever the routing is reset (ClearCohort, ClearCohortOnError). On success it is left at the last step: the
 * cohort stays on the new version until CodeDeploy's shift moves everyone there (a function of that version then
 * serves every request itself), so that no user goes back to the old version in between; if the deployment fails
 * after that (an AfterAllowTraffic hook, a gate alarm), the safety net clears it on the FAILURE event.
 *
 * Every Task state catches every error into ResetRoutingOnError → ClearCohortOnError? → ReportFailedOnError → Errored.
 */
export function buildDefinition(scope: Construct, gateFunction: lambda.IFunction, configsJson: string): sfn.IChainable {
  const errored = new sfn.Fail(scope, 'Errored', { error: 'StagedRolloutError', cause: 'A state failed; the routing was reset and Failed reported to CodeDeploy.' });
  const reportFailedOnError = report(scope, 'ReportFailedOnError', 'Failed', 'Report Failed to CodeDeploy after an error', errored, errored);
  const resetOnError = sdkTask(scope, 'ResetRoutingOnError', 'lambda:updateAlias', { ...ALIAS, RoutingConfig: { AdditionalVersionWeights: {} } },
    'Clear AdditionalVersionWeights after an error');
  const clearOnError = cohortStep(scope, 'ClearCohortOnError', '$.target.currentVersion', reportFailedOnError, reportFailedOnError,
    'Sticky cohorts: no user on the new version after an error');
  resetOnError.addCatch(reportFailedOnError, { resultPath: '$.resetError' }).next(clearOnError);
  const onError = <T extends { addCatch(handler: sfn.IChainable, props?: sfn.CatchProps): unknown }>(state: T): T => {
    state.addCatch(resetOnError, { resultPath: '$.error' });
    return state;
  };

  const publish = (id: string) => onError(sdkTask(scope, id, 'cloudwatch:putMetricData',
    { Namespace: STAGED_METRIC_NAMESPACE, 'MetricData.$': '$.gate.metricData' }, 'Publish the traffic weight and the decision'));

  // The configuration of every attached alias is in the definition itself (no resource per alias): Init, a
  // JSONata state, selects the one whose key the starter passed. An unknown key yields a marker without a
  // schedule, which Configured sends to the error path (reset, report Failed) rather than failing silently.
  const init = sfn.Pass.jsonata(scope, 'Init', {
    comment: 'Select this alias\'s configuration; start at the first step with no failure counted',
    outputs: {
      deployment: '{% $states.input.deployment %}',
      target: '{% $states.input.target %}',
      deadline: '{% $states.input.deadline %}',
      // The consumers the starter paused (the consumer fence), always an array: the gate resumes them.
      fenced: '{% $exists($states.input.fenced) ? $states.input.fenced : [] %}',
      config: selectConfig(configsJson, '{ "unknownKey": $states.input.configKey }'),
      // The first probe asks the whole gold set (probeQuestions null) and judges no stop rule (none is in force
      // before the first shift); the gate function says what later ones ask and judge.
      gate: { progress: INITIAL_PROGRESS, probeQuestions: null, probeStopRules: null },
      probe: { status: 'NotConfigured', reasons: [] },
    },
  });

  const gate = onError(new tasks.LambdaInvoke(scope, 'Gate', {
    comment: 'Judge the gates: probe verdict, live metrics, alarms, failure count, noData policy, time left',
    lambdaFunction: gateFunction,
    payload: sfn.TaskInput.fromObject({
      'deployment.$': '$.deployment',
      'target.$': '$.target',
      'config.$': '$.config',
      'deadline.$': '$.deadline',
      'progress.$': '$.gate.progress',
      'probe.$': '$.probe',
      'fenced.$': '$.fenced',
    }),
    payloadResponseOnly: true,
    resultPath: '$.gate',
    retryOnServiceExceptions: true,
  }).addRetry(RETRY.decide));

  const probe = onError(new sfn.CustomState(scope, 'Probe', {
    stateJson: {
      Type: 'Task',
      Comment: 'Run the ΔS probe against the new and the current version (a direct run: it reports to nobody): the whole gold set before the first shift, the canary questions after',
      Resource: LAMBDA_INVOKE,
      Parameters: {
        'FunctionName.$': '$.config.probeFunctionArn',
        Payload: {
          // The deployment: a probe with reuseCurrentAnswers reads the answers its first run recorded for it.
          'deploymentId.$': '$.deployment.deploymentId',
          'functionName.$': '$.target.functionName',
          'alias.$': '$.target.alias',
          'currentVersion.$': '$.target.currentVersion',
          'targetVersion.$': '$.target.targetVersion',
          'questionLimit.$': '$.gate.probeQuestions',
          'stopRules.$': '$.gate.probeStopRules',
        },
      },
      ResultSelector: { 'status.$': '$.Payload.status', 'reasons.$': '$.Payload.reasons' },
      ResultPath: '$.probe',
    },
  }).addRetry(RETRY.lambda));
  const noProbe = new sfn.Pass(scope, 'NoProbe', { comment: 'No probe configured', result: sfn.Result.fromObject({ status: 'NotConfigured', reasons: [] }), resultPath: '$.probe' });
  const hasProbe = new sfn.Choice(scope, 'HasProbe')
    .when(sfn.Condition.isPresent('$.config.probeFunctionArn'), probe)
    .otherwise(noProbe);
  probe.next(gate);
  noProbe.next(gate);

  const bake = new sfn.Wait(scope, 'Bake', { comment: 'Bake one slice; the gate watches the alarms after each', time: sfn.WaitTime.secondsPath('$.gate.waitSeconds') });
  bake.next(gate);
  const setWeight = onError(sdkTask(scope, 'SetWeight', 'lambda:updateAlias', { ...ALIAS, 'RoutingConfig.$': '$.gate.routing' },
    'Set AdditionalVersionWeights (never FunctionVersion: that is CodeDeploy\'s)'));
  const publishShift = publish('PublishShift');
  setWeight.next(publishShift).next(bake);
  // Sticky cohorts: the step's weight goes into the cohort item; the alias stays on the current version alone.
  const setCohort = onError(cohortPut(scope, 'SetCohort', { 'N.$': '$.gate.cohortWeight' }, '$.target.targetVersion',
    'Sticky cohorts: the step\'s share of users on the new version (the alias keeps no weight)'));
  setCohort.next(publishShift);
  const shift = new sfn.Choice(scope, 'Shift', { comment: 'Sticky cohorts or alias weights?' })
    .when(sfn.Condition.isPresent('$.config.cohort'), setCohort)
    .otherwise(setWeight);

  const recheck = new sfn.Wait(scope, 'Recheck', { comment: 'Hold the weight, then probe and check again', time: sfn.WaitTime.secondsPath('$.gate.waitSeconds') });
  recheck.next(hasProbe);
  const publishHold = publish('PublishHold');
  publishHold.next(recheck);

  const succeeded = new sfn.Succeed(scope, 'Succeeded', { comment: 'CodeDeploy shifts the alias to the new version' });
  // A retry after a report that did land finds the hook already completed: that is success, not an error.
  const reportSucceeded = report(scope, 'ReportSucceeded', 'Succeeded', 'Report Succeeded to CodeDeploy, which shifts the alias to the new version at once',
    succeeded, resetOnError, '$.error');
  // The hand-back: CodeDeploy's all-at-once shift expects the alias as the deployment found it (its
  // FunctionVersion the AppSpec's current version, no other version in its routing: docs/aws-behaviour.md
  // CD-6, CD-7), so the weights the schedule set are cleared right before the report, in the state next to
  // it. Users are on the current version alone from this call until CodeDeploy's shift (seconds; both
  // versions keep their provisioned concurrency).
  const handBack = onError(sdkTask(scope, 'HandBack', 'lambda:updateAlias', { ...ALIAS, RoutingConfig: { AdditionalVersionWeights: {} } },
    'Clear AdditionalVersionWeights: the alias as CodeDeploy left it, for its all-at-once shift'));
  handBack.next(reportSucceeded);
  const publishSucceeded = publish('PublishSucceeded');
  publishSucceeded.next(handBack);

  const rolledBack = new sfn.Fail(scope, 'RolledBack', { error: 'GateFailed', cause: 'A gate failed maxFailuresPerStep times at one step (or time ran out); the routing was reset and Failed reported. See the gate function\'s log.' });
  const reportFailed = report(scope, 'ReportFailed', 'Failed', 'Report Failed to CodeDeploy, which rolls back', rolledBack, errored);
  const resetRouting = sdkTask(scope, 'ResetRouting', 'lambda:updateAlias', { ...ALIAS, RoutingConfig: { AdditionalVersionWeights: {} } },
    'Clear AdditionalVersionWeights: all traffic back on the current version');
  resetRouting.addCatch(reportFailedOnError, { resultPath: '$.resetError' });
  const publishRollback = sdkTask(scope, 'PublishRollback', 'cloudwatch:putMetricData',
    { Namespace: STAGED_METRIC_NAMESPACE, 'MetricData.$': '$.gate.metricData' }, 'Publish the rollback');
  // The routing is already reset: a failed publish must not stop the Failed report.
  publishRollback.addCatch(reportFailed, { resultPath: '$.publishError' });
  resetRouting.next(cohortStep(scope, 'ClearCohort', '$.target.currentVersion', publishRollback, reportFailedOnError,
    'Sticky cohorts: every user back on the current version'));
  publishRollback.next(reportFailed);

  const route = new sfn.Choice(scope, 'Route', { comment: 'Where the gate function says to go' })
    .when(sfn.Condition.stringEquals('$.gate.next', 'shift'), shift)
    .when(sfn.Condition.stringEquals('$.gate.next', 'bake'), bake)
    .when(sfn.Condition.stringEquals('$.gate.next', 'recheck'), publishHold)
    .when(sfn.Condition.stringEquals('$.gate.next', 'probe'), hasProbe)
    .when(sfn.Condition.stringEquals('$.gate.next', 'succeed'), publishSucceeded)
    .otherwise(resetRouting);
  // A decision worth telling people goes to the alias's topic; a failed publish must not stop the rollout.
  const notify = sdkTask(scope, 'Notify', 'sns:publish', { 'TopicArn.$': '$.config.topicArn', 'Message.$': 'States.JsonToString($.gate.notification)' },
    'Publish the gate decision (values and thresholds) to the alias\'s notifications topic');
  notify.addCatch(route, { resultPath: '$.notifyError' }).next(route);
  const shouldNotify = new sfn.Choice(scope, 'Notify?', { comment: 'Has the gate function a notification for the alias\'s topic?' })
    .when(sfn.Condition.isPresent('$.gate.notification'), notify)
    .otherwise(route);
  gate.next(shouldNotify);

  // The warm gate (a ProvisionedWarmup's): before the first probe and shift, the new version gets its temporary
  // provisioned concurrency, READY within the bound, and its warm pings. A cold version fails the deployment
  // before any user request reaches it; nothing has been routed yet, so there is nothing to reset.
  const warmFailed = new sfn.Fail(scope, 'WarmGateFailed', { error: 'WarmGateFailed', cause: 'The new version was not warm in time (see $.warm.reasons and the warm function\'s log); Failed reported.' });
  const reportWarmFailed = report(scope, 'ReportWarmGateFailed', 'Failed', 'Report Failed to CodeDeploy: the new version is not warm', warmFailed, errored);
  const warmUp = onError(new sfn.CustomState(scope, 'WarmUp', {
    stateJson: {
      Type: 'Task',
      Comment: 'The warm gate: the new version\'s own provisioned concurrency READY within the bound, then warm pings',
      Resource: LAMBDA_INVOKE,
      Parameters: {
        'FunctionName.$': '$.config.warmup.functionArn',
        Payload: { 'deployment.$': '$.deployment', 'target.$': '$.target', 'warmup.$': '$.config.warmup' },
      },
      ResultSelector: { 'ok.$': '$.Payload.ok', 'reasons.$': '$.Payload.reasons', 'status.$': '$.Payload.status', 'waitedMs.$': '$.Payload.waitedMs' },
      ResultPath: '$.warm',
    },
  }).addRetry(RETRY.lambda));
  const warm = new sfn.Choice(scope, 'Warm?', { comment: 'Is the new version warm?' })
    .when(sfn.Condition.booleanEquals('$.warm.ok', true), hasProbe)
    .otherwise(reportWarmFailed);
  warmUp.next(warm);
  const hasWarmup = new sfn.Choice(scope, 'HasWarmup')
    .when(sfn.Condition.isPresent('$.config.warmup'), warmUp)
    .otherwise(hasProbe);
  // Stage 0 (GuardedAlias requireShadow): the gate function judges the release's shadow record before the warm-up,
  // the first probe and any shift; its decision goes the way of every other (Notify?, Route: start or rollback).
  const shadowGate = onError(new tasks.LambdaInvoke(scope, 'ShadowGate', {
    comment: 'Stage 0: has the release passed shadow? (its record in the shadow\'s results table, judged by the gate function)',
    lambdaFunction: gateFunction,
    payload: sfn.TaskInput.fromObject({
      mode: 'shadow',
      'deployment.$': '$.deployment',
      'target.$': '$.target',
      'config.$': '$.config',
      'deadline.$': '$.deadline',
      'progress.$': '$.gate.progress',
      'fenced.$': '$.fenced',
    }),
    payloadResponseOnly: true,
    resultPath: '$.gate',
    retryOnServiceExceptions: true,
  }).addRetry(RETRY.decide));
  shadowGate.next(shouldNotify);
  route.when(sfn.Condition.stringEquals('$.gate.next', 'start'), publish('PublishShadowPassed').next(hasWarmup));
  const hasShadowGate = new sfn.Choice(scope, 'HasShadowGate', { comment: 'Must the release have passed shadow first?' })
    .when(sfn.Condition.isPresent('$.config.shadowPromotion'), shadowGate)
    .otherwise(hasWarmup);
  const configured = new sfn.Choice(scope, 'Configured', { comment: 'Is there a configuration for this deployment group?' })
    .when(sfn.Condition.isPresent('$.config.schedule'), cohortStep(scope, 'OpenCohort', '$.target.targetVersion', hasShadowGate, resetOnError,
      'Sticky cohorts: no user yet, but pinned synthetic requests (X-Release: canary) reach the new version from now'))
    .otherwise(resetOnError);
  return init.next(configured);
}
