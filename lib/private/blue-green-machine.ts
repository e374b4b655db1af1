// The blue-green state machine's definition (see lib/blue-green.ts). JSONata throughout: one Pass state picks the
// alias's configuration out of an object literal keyed by deployment group name, workflow variables carry the
// deployment, the target, the configuration and the paused consumers across states, and every state's output
// is a structured decision record. Every AWS call is a Step Functions SDK integration written as a CustomState,
// so that the construct grants the machine's role exactly the attached aliases and deployment groups.
import { Aws, Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  DECISION_KIND, FLIP_ATTEMPT_SECONDS, FLIP_RETRIES, FLIP_RETRY_INTERVAL_SECONDS, WATCH_TIMEOUT_SECONDS,
} from './blue-green-config';

/** Retry of an idempotent AWS call: three more attempts, 2, 4 and 8 s apart. */
const SDK_RETRY: sfn.RetryProps = { errors: ['States.ALL'], maxAttempts: 3, interval: Duration.seconds(2), backoffRate: 2 };
/** Lambda's own transient errors (the function did not run), the ones AWS recommends retrying for lambda:invoke. */
const LAMBDA_SERVICE_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
const LAMBDA_RETRY: sfn.RetryProps = { errors: LAMBDA_SERVICE_ERRORS, maxAttempts: 2, interval: Duration.seconds(2), backoffRate: 2 };
/** The flip's retry: bounded, since the flip's time is part of the worst-case rollback (FLIP_BOUND_SECONDS). */
const FLIP_RETRY: sfn.RetryProps = { errors: ['States.ALL'], maxAttempts: FLIP_RETRIES, interval: Duration.seconds(FLIP_RETRY_INTERVAL_SECONDS), backoffRate: 2 };
/** A hook status that has already been reported: a retried report found its first attempt landed. */
const ALREADY_REPORTED = 'CodeDeploy.LifecycleEventAlreadyCompletedException';
/** The error a hold branch fails with when a stop rule breaks; its cause is the check's decision record. */
export const STOP_RULE_BROKEN = 'StopRuleBroken';

const kind = (name: string) => `'${DECISION_KIND}/${name}'`;
const HOOK = { DeploymentId: '{% $hook.deploymentId %}', LifecycleEventHookExecutionId: '{% $hook.lifecycleEventHookExecutionId %}' };
/** What the hold's branches carry from one check to the next. */
const CARRY = "'target': $states.input.target, 'config': $states.input.config, 'holdStartedAt': $states.input.holdStartedAt, 'holdEndsAt': $states.input.holdEndsAt";

interface TaskOptions {
  readonly comment: string;
  readonly resource: string;
  readonly arguments: Record<string, unknown>;
  readonly output?: unknown;
  readonly assign?: Record<string, unknown>;
  readonly timeoutSeconds?: number | string;
  readonly catch?: unknown[];
}

function task(scope: Construct, id: string, options: TaskOptions): sfn.CustomState {
  return new sfn.CustomState(scope, id, {
    stateJson: {
      Type: 'Task',
      QueryLanguage: 'JSONata',
      Comment: options.comment,
      Resource: options.resource,
      Arguments: options.arguments,
      ...(options.output !== undefined ? { Output: options.output } : {}),
      ...(options.assign !== undefined ? { Assign: options.assign } : {}),
      ...(options.timeoutSeconds !== undefined ? { TimeoutSeconds: options.timeoutSeconds } : {}),
      ...(options.catch !== undefined ? { Catch: options.catch } : {}),
    },
  });
}

const sdk = (action: string) => `arn:${Aws.PARTITION}:states:::aws-sdk:${action}`;
const LAMBDA_INVOKE = `arn:${Aws.PARTITION}:states:::lambda:invoke`;

/** What the definition is built from. */
export interface BlueGreenDefinitionProps {
  /** The worker function's ARN (lambdas/blue-green/worker.ts). */
  readonly workerArn: string;
  /**
   * The JSON object literal of every attached alias's configuration, keyed by deployment group name: a lazy
   * string, since aliases are attached after the machine is built.
   */
  readonly configs: string;
}

/**
 * Builds the definition:
 *
 * LoadConfig → Route on the phase the hook found:
 * - no configuration for the deployment group: ReportUnconfigured → Unconfigured
 * - BeforeAllowTraffic: CheckInvariants → InvariantsHeld → HasWarmup → Warmup → WarmupPassed → HasSmoke → Smoke →
 *   SmokePassed → Freeze →
 *   ReportBeforeSucceeded → BeforeDone (its output lists the paused consumers for the AfterAllowTraffic
 *   execution); a failed check: ReportBeforeFailed → BeforeFailed (nothing is paused yet)
 * - AfterAllowTraffic: HoldAndWatch, a Parallel of two loops until the hold is over:
 *   metrics (Watch → WatchRoute → WatchWait → Watch) and probe (HoldProbe → JudgeProbe → ProbeRoute → ProbeWait
 *   → HoldProbe); a broken stop rule fails its branch with StopRuleBroken, which stops the other branch.
 *   Held: ResumeAfterHold → ReportAfterSucceeded → Switched. Broken (or any error in the hold):
 *   FlipBack → ResumeAfterFlip → ReportAfterFailed → RolledBack.
 *
 * Every Task state outside the hold catches every error into OnError → FlipBackOnError (AfterAllowTraffic only)
 * → ResumeOnError → ReportFailedOnError → Errored. Inside the hold, a failed task fails its branch and the
 * Parallel's catch flips back (catchers cannot leave a branch).
 */
export function buildBlueGreenDefinition(scope: Construct, props: BlueGreenDefinitionProps): sfn.IChainable {
  // ---- the error path, shared by every task outside the hold ----
  const errored = sfn.Fail.jsonata(scope, 'Errored', { error: 'BlueGreenError', cause: '{% $string($error) %}', comment: 'A state failed: flipped back (after the switch), consumers resumed, Failed reported' });
  const reportFailedOnError = task(scope, 'ReportFailedOnError', {
    comment: 'Report Failed to CodeDeploy after an error', resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Failed' }, output: `{% {'kind': ${kind('outcome')}, 'status': 'Failed', 'phase': $phase, 'error': $error} %}`,
  }).addRetry(SDK_RETRY);
  reportFailedOnError.addCatch(errored).next(errored);
  const resumeOnError = workerTask(scope, 'ResumeOnError', props.workerArn, "{'op': 'unfreeze', 'mappings': $frozen, 'release': $exists($config.warmup) ? {'functionName': $target.functionName, 'version': $target.targetVersion} : null}", 'Resume the consumers paused before the switch').addRetry(SDK_RETRY);
  resumeOnError.addCatch(reportFailedOnError).next(reportFailedOnError);
  const flipBackOnError = flip(scope, 'FlipBackOnError', 'Point the alias back at the old version after an error');
  flipBackOnError.addCatch(resumeOnError).next(resumeOnError);
  const onError = sfn.Choice.jsonata(scope, 'OnError', { comment: 'After the switch, flip back first' })
    .when(sfn.Condition.jsonata("{% $phase = 'AfterAllowTraffic' %}"), flipBackOnError)
    .otherwise(resumeOnError);
  const catchAll = <T extends sfn.CustomState>(state: T): T => {
    state.addCatch(onError, { assign: { error: '{% $states.errorOutput %}' } });
    return state;
  };

  // ---- LoadConfig: the alias's configuration, selected at run time by deployment group name ----
  const loadConfig = sfn.Pass.jsonata(scope, 'LoadConfig', {
    comment: 'Select this deployment group\'s configuration and keep the deployment, target and phase in variables',
    assign: {
      config: `{% ($c := $lookup(${props.configs}, $states.input.deploymentGroupName); $exists($c) ? $c : null) %}`,
      hook: "{% {'deploymentId': $states.input.deploymentId, 'lifecycleEventHookExecutionId': $states.input.lifecycleEventHookExecutionId} %}",
      target: '{% $states.input.target %}',
      phase: '{% $states.input.phase %}',
      startedAt: '{% $states.input.startedAt %}',
      frozen: '{% $exists($states.input.frozen) ? $states.input.frozen : [] %}',
      invariants: null,
      warmup: null,
      smoke: null,
      breach: null,
      error: null,
    },
    outputs: `{% {'kind': ${kind('start')}, 'phase': $states.input.phase, 'deploymentId': $states.input.deploymentId, 'deploymentGroupName': $states.input.deploymentGroupName, 'target': $states.input.target} %}`,
  });

  const unconfigured = sfn.Fail.jsonata(scope, 'Unconfigured', {
    error: 'NotConfigured',
    cause: '{% \'no blue-green configuration for deployment group \' & $states.context.Execution.Input.deploymentGroupName %}',
  });
  const reportUnconfigured = task(scope, 'ReportUnconfigured', {
    comment: 'Report Failed: the deployment group is not attached to this machine', resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Failed' },
  }).addRetry(SDK_RETRY);
  reportUnconfigured.addCatch(errored).next(unconfigured);

  // ---- BeforeAllowTraffic ----
  const beforeDone = sfn.Succeed.jsonata(scope, 'BeforeDone', {
    comment: 'CodeDeploy switches the alias; the AfterAllowTraffic execution reads `frozen` from this output',
    outputs: `{% {'kind': ${kind('before')}, 'status': 'Succeeded', 'frozen': $frozen, 'invariants': $invariants, 'warmup': $warmup, 'smoke': $smoke} %}`,
  });
  const beforeFailed = sfn.Fail.jsonata(scope, 'BeforeFailed', {
    error: 'BeforeAllowTrafficFailed',
    cause: `{% $string({'kind': ${kind('before')}, 'status': 'Failed', 'invariants': $invariants, 'warmup': $warmup, 'smoke': $smoke}) %}`,
  });
  const reportBeforeFailed = task(scope, 'ReportBeforeFailed', {
    comment: 'Report Failed: the new version broke an invariant or the smoke probe; nothing was paused', resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Failed' },
  }).addRetry({ errors: [ALREADY_REPORTED], maxAttempts: 0 }).addRetry(SDK_RETRY);
  reportBeforeFailed.addCatch(beforeFailed, { errors: [ALREADY_REPORTED] });
  reportBeforeFailed.addCatch(errored, { assign: { error: '{% $states.errorOutput %}' } }).next(beforeFailed);

  const reportBeforeSucceeded = task(scope, 'ReportBeforeSucceeded', {
    comment: 'Report Succeeded: CodeDeploy switches the alias all at once', resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Succeeded' },
  }).addRetry({ errors: [ALREADY_REPORTED], maxAttempts: 0 }).addRetry(SDK_RETRY);
  reportBeforeSucceeded.addCatch(beforeDone, { errors: [ALREADY_REPORTED] });
  catchAll(reportBeforeSucceeded).next(beforeDone);

  const freeze = catchAll(workerTask(scope, 'Freeze', props.workerArn, "{'op': 'freeze', 'mappings': $config.freeze}",
    'Pause the listed event source mappings that are running, remembering which', { frozen: '{% $states.result.Payload.frozen %}' })
    .addRetry(LAMBDA_RETRY));
  freeze.next(reportBeforeSucceeded);

  const smoke = catchAll(task(scope, 'Smoke', {
    comment: 'The ΔS probe on smokeQuestions gold questions against the new and the old version (a direct run)',
    resource: LAMBDA_INVOKE,
    arguments: {
      FunctionName: '{% $config.probeFunctionArn %}',
      Payload: "{% {'functionName': $target.functionName, 'alias': $target.alias, 'currentVersion': $target.currentVersion, 'targetVersion': $target.targetVersion, 'questionLimit': $config.smokeQuestions} %}",
    },
    output: `{% {'kind': ${kind('smoke')}, 'passed': $states.result.Payload.status = 'Succeeded', 'status': $states.result.Payload.status, 'reasons': $states.result.Payload.reasons, 'questions': $states.result.Payload.report.plan.questions} %}`,
  }).addRetry(LAMBDA_RETRY));
  const smokePassed = sfn.Choice.jsonata(scope, 'SmokePassed', { assign: { smoke: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), freeze)
    .otherwise(reportBeforeFailed);
  smoke.next(smokePassed);
  const hasSmoke = sfn.Choice.jsonata(scope, 'HasSmoke', { comment: 'Smoke only with a probe attached' })
    .when(sfn.Condition.jsonata('{% $exists($config.probeFunctionArn) %}'), smoke)
    .otherwise(freeze);

  // The worker waits for READY itself, up to readyTimeoutSeconds; a minute more for the pings and the report.
  const warmup = catchAll(workerTask(scope, 'Warmup', props.workerArn, "{'op': 'warmup', 'target': $target, 'config': $config}",
    'The warm gate: temporary provisioned concurrency READY on the new version, then warm pings', undefined, undefined,
    '{% $config.warmup.readyTimeoutSeconds + 60 %}').addRetry(LAMBDA_RETRY));
  const warmupPassed = sfn.Choice.jsonata(scope, 'WarmupPassed', { assign: { warmup: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), hasSmoke)
    .otherwise(reportBeforeFailed);
  warmup.next(warmupPassed);
  const hasWarmup = sfn.Choice.jsonata(scope, 'HasWarmup', { comment: 'The warm gate only when configured' })
    .when(sfn.Condition.jsonata('{% $exists($config.warmup) %}'), warmup)
    .otherwise(hasSmoke);

  const checkInvariants = catchAll(workerTask(scope, 'CheckInvariants', props.workerArn, "{'op': 'invariants', 'target': $target, 'config': $config}",
    'Read the new version\'s environment (GetFunctionConfiguration) and compare its pins with the declared invariants')
    .addRetry(LAMBDA_RETRY));
  const invariantsHeld = sfn.Choice.jsonata(scope, 'InvariantsHeld', { assign: { invariants: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), hasWarmup)
    .otherwise(reportBeforeFailed);
  checkInvariants.next(invariantsHeld);

  // ---- AfterAllowTraffic: hold and watch ----
  const metrics = (() => {
    const watch = workerTask(scope, 'Watch', props.workerArn,
      "{'op': 'watch', 'target': $states.input.target, 'config': $states.input.config, 'holdStartedAt': $states.input.holdStartedAt, 'holdEndsAt': $states.input.holdEndsAt, 'check': $states.input.check}",
      'Read the newest complete minute of 5xx and the gate alarms, and decide', undefined,
      `{% {${CARRY}, 'check': $states.input.check + 1, 'decision': $states.result.Payload} %}`, WATCH_TIMEOUT_SECONDS);
    const wait = sfn.Wait.jsonata(scope, 'WatchWait', { time: sfn.WaitTime.seconds('{% $states.input.config.checkIntervalSeconds %}') });
    wait.next(watch);
    const held = sfn.Succeed.jsonata(scope, 'MetricsHeld', { outputs: '{% $states.input.decision %}' });
    const broken = sfn.Fail.jsonata(scope, 'MetricsBreach', { error: STOP_RULE_BROKEN, cause: '{% $string($states.input.decision) %}' });
    watch.next(route(scope, 'WatchRoute', wait, held, broken));
    return watch;
  })();

  const probe = (() => {
    const judge = workerTask(scope, 'JudgeProbe', props.workerArn,
      "{'op': 'judgeProbe', 'target': $states.input.target, 'config': $states.input.config, 'holdStartedAt': $states.input.holdStartedAt, 'holdEndsAt': $states.input.holdEndsAt, 'check': $states.input.check, 'probe': $states.input.probe}",
      'Judge the probe run against the stop rules', undefined,
      `{% {${CARRY}, 'check': $states.input.check + 1, 'decision': $states.result.Payload} %}`, WATCH_TIMEOUT_SECONDS);
    const run = task(scope, 'HoldProbe', {
      comment: 'The ΔS probe against the new and the old version, cut off at probeBudgetSeconds',
      resource: LAMBDA_INVOKE,
      arguments: {
        FunctionName: '{% $states.input.config.probeFunctionArn %}',
        Payload: "{% {'functionName': $states.input.target.functionName, 'alias': $states.input.target.alias, 'currentVersion': $states.input.target.currentVersion, 'targetVersion': $states.input.target.targetVersion, 'questionLimit': $states.input.config.smokeQuestions} %}",
      },
      output: `{% {${CARRY}, 'check': $states.input.check, 'probe': {'status': $states.result.Payload.status, 'reasons': $states.result.Payload.reasons, 'report': $states.result.Payload.report}} %}`,
      timeoutSeconds: '{% $states.input.config.probeBudgetSeconds %}',
      // A run that did not answer in its budget (or at all) is judged as such: the engine says it cannot watch.
      // (In the state's JSON: CustomState.addCatch renders a catcher's Output only for JSONata states it knows.)
      catch: [{
        ErrorEquals: ['States.ALL'],
        Next: 'JudgeProbe',
        Output: `{% {${CARRY}, 'check': $states.input.check, 'probe': {'status': 'Unavailable', 'reasons': [$states.errorOutput.Error & ': ' & $states.errorOutput.Cause]}} %}`,
      }],
    });
    run.next(judge);
    const wait = sfn.Wait.jsonata(scope, 'ProbeWait', { time: sfn.WaitTime.seconds('{% $states.input.config.checkIntervalSeconds %}') });
    wait.next(run);
    const held = sfn.Succeed.jsonata(scope, 'ProbeHeld', { outputs: '{% $states.input.decision %}' });
    const broken = sfn.Fail.jsonata(scope, 'ProbeBreach', { error: STOP_RULE_BROKEN, cause: '{% $string($states.input.decision) %}' });
    judge.next(route(scope, 'ProbeRoute', wait, held, broken));
    const none = sfn.Succeed.jsonata(scope, 'NoHoldProbe', {
      outputs: `{% {'kind': ${kind('check')}, 'source': 'probe', 'next': 'succeed', 'reasons': ['no ΔS probe attached: ΔS, coverage and λ are not watched']} %}`,
    });
    return sfn.Choice.jsonata(scope, 'HasHoldProbe')
      .when(sfn.Condition.jsonata('{% $exists($states.input.config.probeFunctionArn) %}'), run)
      .otherwise(none);
  })();

  const hold = sfn.Parallel.jsonata(scope, 'HoldAndWatch', {
    comment: 'Two loops until the hold is over: the metrics every checkInterval, the probe run after run; a broken stop rule fails its branch and stops the other',
    arguments: {
      target: '{% $target %}',
      config: '{% $config %}',
      holdStartedAt: '{% $startedAt %}',
      holdEndsAt: '{% $startedAt + $config.holdSeconds * 1000 %}',
      check: 1,
    },
    outputs: `{% {'kind': ${kind('held')}, 'last': $states.result} %}`,
  });
  hold.branch(metrics);
  hold.branch(probe);

  const switched = sfn.Succeed.jsonata(scope, 'Switched', { comment: 'Held and watched: the new version stays' });
  const reportAfterSucceeded = task(scope, 'ReportAfterSucceeded', {
    comment: 'Report Succeeded: the new version keeps the traffic', resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Succeeded' },
    output: `{% {'kind': ${kind('outcome')}, 'status': 'Succeeded', 'phase': $phase, 'resumed': $frozen, 'target': $target} %}`,
  }).addRetry({ errors: [ALREADY_REPORTED], maxAttempts: 0 }).addRetry(SDK_RETRY);
  reportAfterSucceeded.addCatch(switched, { errors: [ALREADY_REPORTED] });
  catchAll(reportAfterSucceeded).next(switched);
  const resumeAfterHold = catchAll(workerTask(scope, 'ResumeAfterHold', props.workerArn, "{'op': 'unfreeze', 'mappings': $frozen, 'release': $exists($config.warmup) ? {'functionName': $target.functionName, 'version': $target.targetVersion} : null}", 'Resume the consumers paused before the switch')
    .addRetry(SDK_RETRY));
  resumeAfterHold.next(reportAfterSucceeded);

  const rolledBack = sfn.Fail.jsonata(scope, 'RolledBack', { error: STOP_RULE_BROKEN, cause: '{% $string($breach) %}', comment: 'Flipped back, consumers resumed, Failed reported' });
  const reportAfterFailed = task(scope, 'ReportAfterFailed', {
    comment: 'Report Failed to CodeDeploy, which rolls back (the alias already points at the old version)',
    resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Failed' },
    output: `{% {'kind': ${kind('outcome')}, 'status': 'Failed', 'phase': $phase, 'breach': $breach, 'resumed': $frozen, 'target': $target} %}`,
  }).addRetry({ errors: [ALREADY_REPORTED], maxAttempts: 0 }).addRetry(SDK_RETRY);
  reportAfterFailed.addCatch(rolledBack, { errors: [ALREADY_REPORTED] });
  reportAfterFailed.addCatch(errored, { assign: { error: '{% $states.errorOutput %}' } }).next(rolledBack);
  const resumeAfterFlip = workerTask(scope, 'ResumeAfterFlip', props.workerArn, "{'op': 'unfreeze', 'mappings': $frozen, 'release': $exists($config.warmup) ? {'functionName': $target.functionName, 'version': $target.targetVersion} : null}", 'Resume the consumers paused before the switch')
    .addRetry(SDK_RETRY);
  resumeAfterFlip.addCatch(reportFailedOnError, { assign: { error: '{% $states.errorOutput %}' } }).next(reportAfterFailed);
  const flipBack = flip(scope, 'FlipBack', 'Point the alias back at the old version: the breach is over for users once this lands');
  flipBack.addCatch(resumeOnError, { assign: { error: '{% $states.errorOutput %}' } }).next(resumeAfterFlip);

  hold.addCatch(flipBack, { errors: [STOP_RULE_BROKEN], assign: { breach: '{% $parse($states.errorOutput.Cause) %}' } });
  hold.addCatch(flipBack, {
    assign: { breach: `{% {'kind': ${kind('error')}, 'error': $states.errorOutput.Error, 'cause': $states.errorOutput.Cause} %}` },
  });
  hold.next(resumeAfterHold);

  const routePhase = sfn.Choice.jsonata(scope, 'Route', { comment: 'Which hook this execution serves, if the deployment group is attached' })
    .when(sfn.Condition.jsonata('{% $config = null %}'), reportUnconfigured)
    .when(sfn.Condition.jsonata("{% $phase = 'BeforeAllowTraffic' %}"), checkInvariants)
    .otherwise(hold);
  return loadConfig.next(routePhase);
}

/** Invokes the worker with `payload` (a JSONata object expression); its output is the worker's result unless `output` says otherwise. */
function workerTask(scope: Construct, id: string, workerArn: string, payload: string, comment: string, assign?: Record<string, unknown>, output?: string, timeoutSeconds?: number | string): sfn.CustomState {
  return task(scope, id, {
    comment,
    resource: LAMBDA_INVOKE,
    arguments: { FunctionName: workerArn, Payload: `{% ${payload} %}` },
    output: output ?? '{% $states.result.Payload %}',
    assign,
    timeoutSeconds,
  });
}

/** UpdateAlias back to the old version, routing cleared; its time is bounded (TimeoutSeconds and FLIP_RETRY). */
function flip(scope: Construct, id: string, comment: string): sfn.CustomState {
  return task(scope, id, {
    comment,
    resource: sdk('lambda:updateAlias'),
    arguments: {
      FunctionName: '{% $target.functionName %}',
      Name: '{% $target.alias %}',
      FunctionVersion: '{% $target.currentVersion %}',
      RoutingConfig: { AdditionalVersionWeights: {} },
    },
    output: `{% {'kind': ${kind('flip')}, 'from': $target.targetVersion, 'to': $target.currentVersion, 'at': $now(), 'breach': $breach} %}`,
    timeoutSeconds: FLIP_ATTEMPT_SECONDS,
  }).addRetry(FLIP_RETRY);
}

/** The Choice after each check of the hold: continue (wait, then check again), succeed, or fail the branch. */
function route(scope: Construct, id: string, wait: sfn.IChainable, held: sfn.IChainable, broken: sfn.IChainable): sfn.Choice {
  return sfn.Choice.jsonata(scope, id)
    .when(sfn.Condition.jsonata("{% $states.input.decision.next = 'continue' %}"), wait)
    .when(sfn.Condition.jsonata("{% $states.input.decision.next = 'succeed' %}"), held)
    .otherwise(broken);
}
