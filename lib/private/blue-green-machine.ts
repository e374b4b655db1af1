// The blue-green state machine's definition (see lib/blue-green.ts). JSONata throughout: one Pass state picks the
// alias's configuration out of an object literal keyed by deployment group name, workflow variables carry the
// deployment, the target, the configuration, the paused consumers and the decision records across states. The
// worker makes every decision and writes every record and notification (lambdas/blue-green); the definition
// calls, routes, waits and reports. Every AWS call is a Step Functions integration written as a CustomState, so
// that the construct grants the machine's role exactly the attached aliases and deployment groups.
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WATCH_TIMEOUT_SECONDS } from 'cdk-rollout-guardrails-runtime/contract';
import { LAMBDA_INVOKE, RETRY, selectConfig } from './asl';
import { CARRY, CAUGHT, kind, notify, report, route, STOP_RULE_BROKEN, task, workerTask } from './blue-green-states';

export { STOP_RULE_BROKEN } from './blue-green-states';

/** What the definition is built from. */
export interface BlueGreenDefinitionProps {
  /** The worker function's ARN (lambdas/blue-green/worker.ts). */
  readonly workerArn: string;
  /**
   * The JSON object literal of every attached alias's configuration, keyed by `aliasConfigKey`: a lazy
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
 *   SmokePassed → Freeze → NotifyPassed? → (NotifyPassed →)
 *   ReportBeforeSucceeded → BeforeDone (its output lists the paused consumers for the AfterAllowTraffic
 *   execution); a failed check: NotifyFailed? → (NotifyFailed →) ReportBeforeFailed → BeforeFailed (nothing is
 *   paused yet)
 * - AfterAllowTraffic: HoldAndWatch, a Parallel of two loops until the hold is over:
 *   metrics (Watch → WatchRoute → WatchWait → Watch) and probe (HoldProbe → JudgeProbe → ProbeRoute → ProbeWait
 *   → HoldProbe); a broken stop rule fails its branch with StopRuleBroken, which stops the other branch.
 *   Held: NotifyHeld? → (NotifyHeld →) ResumeAfterHold → ReportAfterSucceeded → Switched. Broken (or any error
 *   in the hold): RollBack, a Parallel of ReportAfterFailed (the rollback itself: CodeDeploy owns the alias and
 *   moves it back on a Failed report) beside ResumeAfterBreach → NotifyRolledBack? → (NotifyRolledBack →), so that
 *   nothing delays the report; then RolledBack.
 *
 * The machine never writes the alias's FunctionVersion: one owner of the flip back, CodeDeploy's rollback
 * (docs/aws-behaviour.md CD-9, CFN-2), and no drift for its checks to find.
 *
 * Every Task state outside the hold catches every error into ResumeOnError → NotifyError? → (NotifyError →)
 * ReportFailedOnError → Errored. Inside the hold, a failed task fails its branch and the Parallel's catch goes to
 * RollBack (catchers cannot leave a branch).
 *
 * Notifications: each `Notify…?` Choice goes to its task (the worker writes and publishes the message) only when
 * the alias's configuration has a topic; the task, and its catch of every error, go on to the state the Choice
 * goes to without a topic. Before
 * the switch each publish comes before the report to CodeDeploy (a report of Succeeded starts the
 * AfterAllowTraffic hook, which waits for this execution to end); after a breach it runs beside the report,
 * never before it, so the worst-case rollback does not include it.
 */
export function buildBlueGreenDefinition(scope: Construct, props: BlueGreenDefinitionProps): sfn.IChainable {
  const worker = (id: string, payload: string, comment: string, assign?: Record<string, unknown>, output?: string, timeoutSeconds?: number | string) =>
    workerTask(scope, id, props.workerArn, payload, comment, assign, output, timeoutSeconds);
  const notifyOf = (id: string, event: string, comment: string, next: sfn.State) => notify(scope, id, event, comment, props.workerArn, next);

  // ---- the error path, shared by every task outside the hold ----
  const errored = sfn.Fail.jsonata(scope, 'Errored', { error: 'BlueGreenError', cause: '{% $string($error) %}', comment: 'A state failed: consumers resumed, Failed reported (after the switch CodeDeploy rolls the alias back)' });
  const reportFailedOnError = report(scope, 'ReportFailedOnError', {
    comment: 'Report Failed to CodeDeploy after an error', status: 'Failed', next: errored, onError: errored, assignError: false,
    output: `{% {'kind': ${kind('outcome')}, 'status': 'Failed', 'phase': $phase, 'error': $error} %}`,
  });
  const notifyError = notifyOf('NotifyError', 'error', 'Notify the error: what failed, and what reporting Failed does to the alias', reportFailedOnError);
  const resumeOnError = worker('ResumeOnError', "{'op': 'unfreeze', 'mappings': $frozen}", 'Resume the consumers paused before the switch').addRetry(RETRY.sdk);
  resumeOnError.addCatch(notifyError).next(notifyError);
  const catchAll = <T extends sfn.CustomState>(state: T): T => {
    state.addCatch(resumeOnError, { assign: { error: CAUGHT } });
    return state;
  };

  // ---- LoadConfig: the alias's configuration, selected at run time by its key (application and deployment group) ----
  const loadConfig = sfn.Pass.jsonata(scope, 'LoadConfig', {
    comment: 'Select this deployment group\'s configuration and keep the deployment, target and phase in variables',
    assign: {
      config: selectConfig(props.configs, 'null'),
      hook: "{% {'deploymentId': $states.input.deploymentId, 'lifecycleEventHookExecutionId': $states.input.lifecycleEventHookExecutionId} %}",
      target: '{% $states.input.target %}',
      phase: '{% $states.input.phase %}',
      startedAt: '{% $states.input.startedAt %}',
      frozen: '{% $exists($states.input.frozen) ? $states.input.frozen : [] %}',
      invariants: null,
      warmup: null,
      smoke: null,
      held: null,
      breach: null,
      error: null,
    },
    outputs: `{% {'kind': ${kind('start')}, 'phase': $states.input.phase, 'deploymentId': $states.input.deploymentId, 'deploymentGroupName': $states.input.deploymentGroupName, 'target': $states.input.target} %}`,
  });

  const unconfigured = sfn.Fail.jsonata(scope, 'Unconfigured', {
    error: 'NotConfigured',
    cause: '{% \'no blue-green configuration for deployment group \' & $states.context.Execution.Input.deploymentGroupName %}',
  });
  const reportUnconfigured = report(scope, 'ReportUnconfigured', {
    comment: 'Report Failed: the deployment group is not attached to this machine', status: 'Failed', next: unconfigured, onError: errored,
  });

  // ---- BeforeAllowTraffic ----
  const beforeDone = sfn.Succeed.jsonata(scope, 'BeforeDone', {
    comment: 'CodeDeploy switches the alias; the AfterAllowTraffic execution reads `frozen` from this output',
    outputs: `{% {'kind': ${kind('before')}, 'status': 'Succeeded', 'frozen': $frozen, 'invariants': $invariants, 'warmup': $warmup, 'smoke': $smoke} %}`,
  });
  const beforeFailed = sfn.Fail.jsonata(scope, 'BeforeFailed', {
    error: 'BeforeAllowTrafficFailed',
    cause: `{% $string({'kind': ${kind('before')}, 'status': 'Failed', 'invariants': $invariants, 'warmup': $warmup, 'smoke': $smoke}) %}`,
  });
  const reportBeforeFailed = report(scope, 'ReportBeforeFailed', {
    comment: 'Report Failed: the new version broke an invariant, the warm gate or the smoke probe; nothing was paused', status: 'Failed', next: beforeFailed, onError: errored,
  });
  const notifyFailed = notifyOf('NotifyFailed', 'failed', 'Notify the failed check before the switch, its reasons and every check that ran', reportBeforeFailed);

  const reportBeforeSucceeded = report(scope, 'ReportBeforeSucceeded', {
    comment: 'Report Succeeded: CodeDeploy switches the alias all at once', status: 'Succeeded', next: beforeDone, onError: resumeOnError,
  });
  const notifyPassed = notifyOf('NotifyPassed', 'passed', 'Notify that every check before the switch passed, with their figures', reportBeforeSucceeded);

  const freeze = catchAll(worker('Freeze', "{'op': 'freeze', 'mappings': $config.freeze}",
    'Pause the listed event source mappings that are running, remembering which', { frozen: '{% $states.result.Payload.frozen %}' })
    .addRetry(RETRY.lambda));
  freeze.next(notifyPassed);

  const smoke = catchAll(task(scope, 'Smoke', {
    comment: 'The ΔS probe on smokeQuestions gold questions against the new and the old version (a direct run)',
    resource: LAMBDA_INVOKE,
    arguments: {
      FunctionName: '{% $config.probeFunctionArn %}',
      Payload: "{% {'deploymentId': $states.context.Execution.Input.deploymentId, 'functionName': $target.functionName, 'alias': $target.alias, 'currentVersion': $target.currentVersion, 'targetVersion': $target.targetVersion, 'questionLimit': $config.smokeQuestions} %}",
    },
    output: `{% ($p := $states.result.Payload; {'kind': ${kind('smoke')}, 'passed': $p.status = 'Succeeded', 'status': $p.status, 'reasons': $p.reasons, 'questions': $p.report.plan.questions, 'gates': $p.report.gates}) %}`,
  }).addRetry(RETRY.lambda));
  const smokePassed = sfn.Choice.jsonata(scope, 'SmokePassed', { assign: { smoke: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), freeze)
    .otherwise(notifyFailed);
  smoke.next(smokePassed);
  const hasSmoke = sfn.Choice.jsonata(scope, 'HasSmoke', { comment: 'Smoke only with a probe attached' })
    .when(sfn.Condition.jsonata('{% $exists($config.probeFunctionArn) %}'), smoke)
    .otherwise(freeze);

  // The worker waits for READY itself, up to readyTimeoutSeconds; a minute more for the pings and the report.
  const warmup = catchAll(worker('Warmup', "{'op': 'warmup', 'target': $target, 'config': $config}",
    'The warm gate: the new version\'s own provisioned concurrency READY, then warm pings', undefined, undefined,
    '{% $config.warmup.readyTimeoutSeconds + 60 %}').addRetry(RETRY.lambda));
  const warmupPassed = sfn.Choice.jsonata(scope, 'WarmupPassed', { assign: { warmup: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), hasSmoke)
    .otherwise(notifyFailed);
  warmup.next(warmupPassed);
  const hasWarmup = sfn.Choice.jsonata(scope, 'HasWarmup', { comment: 'The warm gate only when configured' })
    .when(sfn.Condition.jsonata('{% $exists($config.warmup) %}'), warmup)
    .otherwise(hasSmoke);

  const checkInvariants = catchAll(worker('CheckInvariants', "{'op': 'invariants', 'target': $target, 'config': $config}",
    'Read the new version\'s environment (GetFunctionConfiguration) and compare its pins with the declared invariants')
    .addRetry(RETRY.lambda));
  const invariantsHeld = sfn.Choice.jsonata(scope, 'InvariantsHeld', { assign: { invariants: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), hasWarmup)
    .otherwise(notifyFailed);
  checkInvariants.next(invariantsHeld);

  // ---- AfterAllowTraffic: hold and watch ----
  const metrics = (() => {
    const watch = worker('Watch',
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
    const judge = worker('JudgeProbe',
      "{'op': 'judgeProbe', 'target': $states.input.target, 'config': $states.input.config, 'holdStartedAt': $states.input.holdStartedAt, 'holdEndsAt': $states.input.holdEndsAt, 'check': $states.input.check, 'probe': $states.input.probe}",
      'Judge the probe run against the stop rules', undefined,
      `{% {${CARRY}, 'check': $states.input.check + 1, 'decision': $states.result.Payload} %}`, WATCH_TIMEOUT_SECONDS);
    const run = task(scope, 'HoldProbe', {
      comment: 'The ΔS probe against the new and the old version, cut off at probeBudgetSeconds',
      resource: LAMBDA_INVOKE,
      arguments: {
        FunctionName: '{% $states.input.config.probeFunctionArn %}',
        Payload: "{% {'deploymentId': $states.context.Execution.Input.deploymentId, 'functionName': $states.input.target.functionName, 'alias': $states.input.target.alias, 'currentVersion': $states.input.target.currentVersion, 'targetVersion': $states.input.target.targetVersion, 'questionLimit': $states.input.config.smokeQuestions} %}",
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
    assign: { held: '{% $states.result %}' },
    outputs: `{% {'kind': ${kind('held')}, 'last': $states.result} %}`,
  });
  hold.branch(metrics);
  hold.branch(probe);

  const switched = sfn.Succeed.jsonata(scope, 'Switched', { comment: 'Held and watched: the new version stays' });
  const reportAfterSucceeded = report(scope, 'ReportAfterSucceeded', {
    comment: 'Report Succeeded: the new version keeps the traffic', status: 'Succeeded', next: switched, onError: resumeOnError,
    output: `{% {'kind': ${kind('outcome')}, 'status': 'Succeeded', 'phase': $phase, 'resumed': $frozen, 'target': $target} %}`,
  });
  const resumeAfterHold = catchAll(worker('ResumeAfterHold', "{'op': 'unfreeze', 'mappings': $frozen}", 'Resume the consumers paused before the switch')
    .addRetry(RETRY.sdk));
  resumeAfterHold.next(reportAfterSucceeded);
  const notifyHeld = notifyOf('NotifyHeld', 'held', 'Notify that the switch held for the whole hold and is kept, with the last checks\' figures', resumeAfterHold);

  // ---- a breach (or an error in the hold): report Failed at once; CodeDeploy rolls the alias back ----
  const rolledBack = sfn.Fail.jsonata(scope, 'RolledBack', { error: STOP_RULE_BROKEN, cause: '{% $string($breach) %}', comment: 'Failed reported (CodeDeploy rolls the alias back), consumers resumed' });
  const reported = sfn.Succeed.jsonata(scope, 'ReportedAfterFailed', {
    outputs: `{% {'kind': ${kind('outcome')}, 'status': 'Failed', 'phase': $phase, 'breach': $breach, 'rollback': {'owner': 'CodeDeploy', 'from': $target.targetVersion, 'to': $target.currentVersion}} %}`,
  });
  const reportNotLanded = sfn.Succeed.jsonata(scope, 'ReportAfterFailedNotLanded', {
    comment: 'The report did not land: the execution still fails (ReportFailedOnError tries once more), and the safety net reports on its end',
    outputs: `{% {'kind': ${kind('outcome')}, 'status': 'NotReported', 'error': $states.input} %}`,
  });
  // (A JSONata catcher without Output passes the error output on.)
  const reportAfterFailed = report(scope, 'ReportAfterFailed', {
    comment: 'Report Failed to CodeDeploy: its rollback moves the alias back to the old version (the one owner of the flip)',
    status: 'Failed', next: reported, onError: reportNotLanded, assignError: false, bounded: true,
  });
  // Kept off the report's way: the consumers and the notification run beside it.
  const resumed = sfn.Succeed.jsonata(scope, 'ResumedAfterBreach');
  const notifyRolledBack = notifyOf('NotifyRolledBack', 'breach', 'Notify the rollback: the broken stop rules (or the hold\'s error), reported Failed for CodeDeploy to roll back', resumed);
  const resumeAfterBreach = task(scope, 'ResumeAfterBreach', {
    comment: 'Resume the consumers paused before the switch',
    resource: LAMBDA_INVOKE,
    arguments: { FunctionName: props.workerArn, Payload: "{% {'op': 'unfreeze', 'mappings': $frozen} %}" },
    output: '{% $states.result.Payload %}',
    // A failed resume is the safety net's to redo (it resumes on the deployment's FAILURE); the notification goes on.
    catch: [{ ErrorEquals: ['States.ALL'], Next: 'NotifyRolledBack?', Output: '{% $states.errorOutput %}' }],
  }).addRetry(RETRY.sdk);
  resumeAfterBreach.next(notifyRolledBack);
  const rollBack = sfn.Parallel.jsonata(scope, 'RollBack', {
    comment: 'Report Failed (the rollback) and, beside it, resume the consumers and notify',
    outputs: '{% $states.result %}',
  });
  rollBack.branch(reportAfterFailed);
  rollBack.branch(resumeAfterBreach);
  const landed = sfn.Choice.jsonata(scope, 'RollBackReported', {
    comment: 'Did the Failed report land?',
    // When it did not, the error path reports once more and names why this one failed.
    assign: { error: "{% $states.input[0].status = 'NotReported' ? $merge([$states.input[0].error, {'State': 'ReportAfterFailed'}]) : $error %}" },
  })
    .when(sfn.Condition.jsonata(`{% $states.input[0].kind = ${kind('outcome')} and $states.input[0].status = 'Failed' %}`), rolledBack)
    .otherwise(reportFailedOnError);
  rollBack.next(landed);
  rollBack.addCatch(reportFailedOnError, { assign: { error: CAUGHT } });

  hold.addCatch(rollBack, { errors: [STOP_RULE_BROKEN], assign: { breach: '{% $parse($states.errorOutput.Cause) %}' } });
  hold.addCatch(rollBack, {
    assign: { breach: `{% {'kind': ${kind('error')}, 'error': $states.errorOutput.Error, 'cause': $states.errorOutput.Cause} %}` },
  });
  hold.next(notifyHeld);

  const routePhase = sfn.Choice.jsonata(scope, 'Route', { comment: 'Which hook this execution serves, if the deployment group is attached' })
    .when(sfn.Condition.jsonata('{% $config = null %}'), reportUnconfigured)
    .when(sfn.Condition.jsonata("{% $phase = 'BeforeAllowTraffic' %}"), checkInvariants)
    .otherwise(hold);
  return loadConfig.next(routePhase);
}
