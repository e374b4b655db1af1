// The blue-green state machine's definition (see lib/blue-green.ts). JSONata throughout: one Pass state picks the
// alias's configuration out of an object literal keyed by deployment group name, workflow variables carry the
// deployment, the target, the configuration and the paused consumers across states, and every state's output
// is a structured decision record. Every AWS call is a Step Functions SDK integration written as a CustomState,
// so that the construct grants the machine's role exactly the attached aliases and deployment groups.
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { REPORT_ATTEMPT_SECONDS, WATCH_TIMEOUT_SECONDS } from 'cdk-rollout-guardrails-runtime/contract';
import {
  ALREADY_REPORTED, BEFORE_MEASUREMENTS, CARRY, CAUGHT, HOOK, kind, LAMBDA_INVOKE, LAMBDA_RETRY, measurementsOf, message, notify, REPORT_RETRY, route, sdk, SDK_RETRY,
  STOP_RULE_BROKEN, SUMMARY_BEFORE, task, workerTask,
} from './blue-green-states';

export { STOP_RULE_BROKEN } from './blue-green-states';

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
 * Notifications: each `Notify…?` Choice goes to its sns:publish task only when the alias's configuration has a
 * topic; the task, and its catch of every error, go on to the state the Choice goes to without a topic. Before
 * the switch each publish comes before the report to CodeDeploy (a report of Succeeded starts the
 * AfterAllowTraffic hook, which waits for this execution to end); after a breach it runs beside the report,
 * never before it, so the worst-case rollback does not include it.
 */
export function buildBlueGreenDefinition(scope: Construct, props: BlueGreenDefinitionProps): sfn.IChainable {
  // ---- the error path, shared by every task outside the hold ----
  const errored = sfn.Fail.jsonata(scope, 'Errored', { error: 'BlueGreenError', cause: '{% $string($error) %}', comment: 'A state failed: consumers resumed, Failed reported (after the switch CodeDeploy rolls the alias back)' });
  const reportFailedOnError = task(scope, 'ReportFailedOnError', {
    comment: 'Report Failed to CodeDeploy after an error', resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Failed' }, output: `{% {'kind': ${kind('outcome')}, 'status': 'Failed', 'phase': $phase, 'error': $error} %}`,
  }).addRetry({ errors: [ALREADY_REPORTED], maxAttempts: 0 }).addRetry(SDK_RETRY);
  reportFailedOnError.addCatch(errored).next(errored);
  const notifyError = notify(scope, 'NotifyError', 'Publish the error (what failed, and what reporting Failed does to the alias)', message(
    "$phase = 'BeforeAllowTraffic' ? 'before' : 'after'",
    "'decision': 'error', 'report': 'Failed', "
    + "'reasons': $append([$phase = 'BeforeAllowTraffic' ? 'a step before the switch failed: the alias stays on version ' & $target.currentVersion & '; reporting Failed' "
    + ": 'a step failed after the switch: reporting Failed, CodeDeploy rolls the alias back to version ' & $target.currentVersion, "
    + "($exists($error.State) ? $error.State & ': ' : '') & $error.Error & ': ' & $error.Cause], $breach.kind = " + kind('check') + ' ? $breach.reasons : []), '
    + `'measurements': ${measurementsOf('$breach.rules')}, `
    + "'rollback': $phase = 'AfterAllowTraffic' ? {'owner': 'CodeDeploy', 'from': $target.targetVersion, 'to': $target.currentVersion} : null, 'error': $error",
  ), reportFailedOnError);
  const resumeOnError = workerTask(scope, 'ResumeOnError', props.workerArn, "{'op': 'unfreeze', 'mappings': $frozen}", 'Resume the consumers paused before the switch').addRetry(SDK_RETRY);
  resumeOnError.addCatch(notifyError).next(notifyError);
  const catchAll = <T extends sfn.CustomState>(state: T): T => {
    state.addCatch(resumeOnError, { assign: { error: CAUGHT } });
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
  reportBeforeFailed.addCatch(errored, { assign: { error: CAUGHT } }).next(beforeFailed);
  const notifyFailed = notify(scope, 'NotifyFailed', 'Publish the failed check before the switch, its reasons and every check that ran', message("'before'",
    "'decision': 'failed', 'report': 'Failed', 'failedCheck': $failed, "
    + "'reasons': $append([$lookup({'invariants': 'the invariant check', 'warmup': 'the warm gate', 'smoke': 'the smoke probe'}, $failed) & ' failed before the switch: the alias stays on version ' & $target.currentVersion & ', nothing was paused; reporting Failed'], "
    + "$lookup({'invariants': $invariants, 'warmup': $warmup, 'smoke': $smoke}, $failed).reasons), "
    + `'measurements': ${BEFORE_MEASUREMENTS}`,
    "$failed := $invariants.passed = false ? 'invariants' : ($warmup.passed = false ? 'warmup' : 'smoke');",
  ), reportBeforeFailed);

  const reportBeforeSucceeded = task(scope, 'ReportBeforeSucceeded', {
    comment: 'Report Succeeded: CodeDeploy switches the alias all at once', resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Succeeded' },
  }).addRetry({ errors: [ALREADY_REPORTED], maxAttempts: 0 }).addRetry(SDK_RETRY);
  reportBeforeSucceeded.addCatch(beforeDone, { errors: [ALREADY_REPORTED] });
  catchAll(reportBeforeSucceeded).next(beforeDone);
  const notifyPassed = notify(scope, 'NotifyPassed', 'Publish that every check before the switch passed, with their figures', message("'before'",
    "'decision': 'passed', 'report': 'Succeeded', "
    + "'reasons': $append(['every check before the switch passed: CodeDeploy switches ' & $target.alias & ' from version ' & $target.currentVersion & ' to ' & $target.targetVersion & ' at once'], "
    + `${SUMMARY_BEFORE}), 'measurements': ${BEFORE_MEASUREMENTS}, 'paused': $frozen`,
  ), reportBeforeSucceeded);

  const freeze = catchAll(workerTask(scope, 'Freeze', props.workerArn, "{'op': 'freeze', 'mappings': $config.freeze}",
    'Pause the listed event source mappings that are running, remembering which', { frozen: '{% $states.result.Payload.frozen %}' })
    .addRetry(LAMBDA_RETRY));
  freeze.next(notifyPassed);

  const smoke = catchAll(task(scope, 'Smoke', {
    comment: 'The ΔS probe on smokeQuestions gold questions against the new and the old version (a direct run)',
    resource: LAMBDA_INVOKE,
    arguments: {
      FunctionName: '{% $config.probeFunctionArn %}',
      Payload: "{% {'functionName': $target.functionName, 'alias': $target.alias, 'currentVersion': $target.currentVersion, 'targetVersion': $target.targetVersion, 'questionLimit': $config.smokeQuestions} %}",
    },
    output: `{% {'kind': ${kind('smoke')}, 'passed': $states.result.Payload.status = 'Succeeded', 'status': $states.result.Payload.status, 'reasons': $states.result.Payload.reasons, 'questions': $states.result.Payload.report.plan.questions, `
      + "'gates': [$states.result.Payload.report.gates.{'gate': gate, 'measured': measured, 'threshold': threshold, 'passed': passed}]} %}",
  }).addRetry(LAMBDA_RETRY));
  const smokePassed = sfn.Choice.jsonata(scope, 'SmokePassed', { assign: { smoke: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), freeze)
    .otherwise(notifyFailed);
  smoke.next(smokePassed);
  const hasSmoke = sfn.Choice.jsonata(scope, 'HasSmoke', { comment: 'Smoke only with a probe attached' })
    .when(sfn.Condition.jsonata('{% $exists($config.probeFunctionArn) %}'), smoke)
    .otherwise(freeze);

  // The worker waits for READY itself, up to readyTimeoutSeconds; a minute more for the pings and the report.
  const warmup = catchAll(workerTask(scope, 'Warmup', props.workerArn, "{'op': 'warmup', 'target': $target, 'config': $config}",
    'The warm gate: the new version\'s own provisioned concurrency READY, then warm pings', undefined, undefined,
    '{% $config.warmup.readyTimeoutSeconds + 60 %}').addRetry(LAMBDA_RETRY));
  const warmupPassed = sfn.Choice.jsonata(scope, 'WarmupPassed', { assign: { warmup: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), hasSmoke)
    .otherwise(notifyFailed);
  warmup.next(warmupPassed);
  const hasWarmup = sfn.Choice.jsonata(scope, 'HasWarmup', { comment: 'The warm gate only when configured' })
    .when(sfn.Condition.jsonata('{% $exists($config.warmup) %}'), warmup)
    .otherwise(hasSmoke);

  const checkInvariants = catchAll(workerTask(scope, 'CheckInvariants', props.workerArn, "{'op': 'invariants', 'target': $target, 'config': $config}",
    'Read the new version\'s environment (GetFunctionConfiguration) and compare its pins with the declared invariants')
    .addRetry(LAMBDA_RETRY));
  const invariantsHeld = sfn.Choice.jsonata(scope, 'InvariantsHeld', { assign: { invariants: '{% $states.input %}' } })
    .when(sfn.Condition.jsonata('{% $states.input.passed %}'), hasWarmup)
    .otherwise(notifyFailed);
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
  const resumeAfterHold = catchAll(workerTask(scope, 'ResumeAfterHold', props.workerArn, "{'op': 'unfreeze', 'mappings': $frozen}", 'Resume the consumers paused before the switch')
    .addRetry(SDK_RETRY));
  resumeAfterHold.next(reportAfterSucceeded);
  const notifyHeld = notify(scope, 'NotifyHeld', 'Publish that the switch held for the whole hold and is kept, with the last checks\' figures', message("'after'",
    "'decision': 'held', 'report': 'Succeeded', "
    + "'reasons': $append(['held ' & $target.alias & ' on version ' & $target.targetVersion & ' for ' & $m.elapsedSeconds & ' s of holdAndWatch ' & $m.holdSeconds & ' s: ' "
    + "& $m.check & ' metric checks and ' & $runs & ' probe runs, no stop rule broken; the switch is kept'], "
    + '$append([$filter($m.reasons, function($v, $i) { $i > 0 })], $exists($p.check) ? [$filter($p.reasons, function($v, $i) { $i > 0 })] : [$p.reasons])), '
    + `'measurements': $append(${measurementsOf('$m.rules')}, ${measurementsOf('$p.rules')}), `
    + "'checks': $m.check, 'probeRuns': $runs, 'heldSeconds': $m.elapsedSeconds, 'holdSeconds': $m.holdSeconds",
    '$m := $states.input.last[0]; $p := $states.input.last[1]; $runs := $exists($p.check) ? $p.check : 0;',
  ), resumeAfterHold);

  // ---- a breach (or an error in the hold): report Failed at once; CodeDeploy rolls the alias back ----
  const rolledBack = sfn.Fail.jsonata(scope, 'RolledBack', { error: STOP_RULE_BROKEN, cause: '{% $string($breach) %}', comment: 'Failed reported (CodeDeploy rolls the alias back), consumers resumed' });
  const reported = sfn.Succeed.jsonata(scope, 'ReportedAfterFailed', {
    outputs: `{% {'kind': ${kind('outcome')}, 'status': 'Failed', 'phase': $phase, 'breach': $breach, 'rollback': {'owner': 'CodeDeploy', 'from': $target.targetVersion, 'to': $target.currentVersion}} %}`,
  });
  const reportNotLanded = sfn.Succeed.jsonata(scope, 'ReportAfterFailedNotLanded', {
    comment: 'The report did not land: the execution still fails (ReportFailedOnError tries once more), and the safety net reports on its end',
    outputs: `{% {'kind': ${kind('outcome')}, 'status': 'NotReported', 'error': $states.input} %}`,
  });
  const reportAfterFailed = task(scope, 'ReportAfterFailed', {
    comment: 'Report Failed to CodeDeploy: its rollback moves the alias back to the old version (the one owner of the flip)',
    resource: sdk('codedeploy:putLifecycleEventHookExecutionStatus'),
    arguments: { ...HOOK, Status: 'Failed' },
    timeoutSeconds: REPORT_ATTEMPT_SECONDS,
  }).addRetry({ errors: [ALREADY_REPORTED], maxAttempts: 0 }).addRetry(REPORT_RETRY);
  // (A JSONata catcher without Output passes the error output on.)
  reportAfterFailed.addCatch(reported, { errors: [ALREADY_REPORTED] });
  reportAfterFailed.addCatch(reportNotLanded);
  reportAfterFailed.next(reported);
  // Kept off the report's way: the consumers and the notification run beside it.
  const resumed = sfn.Succeed.jsonata(scope, 'ResumedAfterBreach');
  const notifyRolledBack = notify(scope, 'NotifyRolledBack', 'Publish the rollback: the broken stop rules (or the hold\'s error), reported Failed for CodeDeploy to roll back', message("'after'",
    "'decision': $broke ? 'rolled-back' : 'error', 'report': 'Failed', 'failedCheck': $broke ? $breach.source, "
    + "'reasons': $broke ? $append(['a stop rule broke (' & $breach.source & ' check ' & $breach.check & ', ' & $breach.elapsedSeconds & ' s into the hold): reported Failed, CodeDeploy rolls ' & $target.alias & ' back from version ' & $target.targetVersion & ' to ' & $target.currentVersion], $breach.reasons) "
    + ": ['a step of the hold failed: reported Failed, CodeDeploy rolls ' & $target.alias & ' back from version ' & $target.targetVersion & ' to ' & $target.currentVersion, $breach.error & ': ' & $breach.cause], "
    + `'measurements': ${measurementsOf('$breach.rules')}, 'check': $breach.check, 'elapsedSeconds': $breach.elapsedSeconds, 'holdSeconds': $breach.holdSeconds, `
    + "'rollback': {'owner': 'CodeDeploy', 'from': $target.targetVersion, 'to': $target.currentVersion}, "
    + "'error': $not($broke) ? {'State': 'HoldAndWatch', 'Error': $breach.error, 'Cause': $breach.cause}",
    `$broke := $breach.kind = ${kind('check')};`,
  ), resumed);
  const resumeAfterBreach = task(scope, 'ResumeAfterBreach', {
    comment: 'Resume the consumers paused before the switch',
    resource: LAMBDA_INVOKE,
    arguments: { FunctionName: props.workerArn, Payload: "{% {'op': 'unfreeze', 'mappings': $frozen} %}" },
    output: '{% $states.result.Payload %}',
    // A failed resume is the safety net's to redo (it resumes on the deployment's FAILURE); the notification goes on.
    catch: [{ ErrorEquals: ['States.ALL'], Next: 'NotifyRolledBack?', Output: '{% $states.errorOutput %}' }],
  }).addRetry(SDK_RETRY);
  resumeAfterBreach.next(notifyRolledBack);
  const rollBack = sfn.Parallel.jsonata(scope, 'RollBack', {
    comment: 'Report Failed (the rollback) and, beside it, resume the consumers and publish',
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

