// The states of the blue-green state machine (lib/private/blue-green-machine.ts assembles them): JSONata Task
// states written as CustomStates (each AWS call an SDK integration, so that the role is granted exactly what is
// attached), their retries, the JSONata expressions the decision records and notifications are made of, and the
// notification, worker and hold-routing states the definition uses more than once.
import { Aws, Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DECISION_KIND, NOTIFICATION_SOURCE, PUBLISH_RETRIES, PUBLISH_TIMEOUT_SECONDS, REPORT_RETRIES, REPORT_RETRY_INTERVAL_SECONDS } from 'cdk-rollout-guardrails-runtime/contract';

/** Retry of an idempotent AWS call: three more attempts, 2, 4 and 8 s apart. */
export const SDK_RETRY: sfn.RetryProps = { errors: ['States.ALL'], maxAttempts: 3, interval: Duration.seconds(2), backoffRate: 2 };
/** Lambda's own transient errors (the function did not run), the ones AWS recommends retrying for lambda:invoke. */
const LAMBDA_SERVICE_ERRORS = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
export const LAMBDA_RETRY: sfn.RetryProps = { errors: LAMBDA_SERVICE_ERRORS, maxAttempts: 2, interval: Duration.seconds(2), backoffRate: 2 };
/** The Failed report's retry after a breach: bounded, since its time is part of the worst-case rollback (REPORT_BOUND_SECONDS). */
export const REPORT_RETRY: sfn.RetryProps = { errors: ['States.ALL'], maxAttempts: REPORT_RETRIES, interval: Duration.seconds(REPORT_RETRY_INTERVAL_SECONDS), backoffRate: 2 };
/** A publish's retry: one more attempt, 1 s later (PUBLISH_BOUND_SECONDS with its timeout). */
const PUBLISH_RETRY: sfn.RetryProps = { errors: ['States.ALL'], maxAttempts: PUBLISH_RETRIES, interval: Duration.seconds(1), backoffRate: 2 };
/** A hook status that has already been reported: a retried report found its first attempt landed. */
export const ALREADY_REPORTED = 'CodeDeploy.LifecycleEventAlreadyCompletedException';
/** The error a hold branch fails with when a stop rule breaks; its cause is the check's decision record. */
export const STOP_RULE_BROKEN = 'StopRuleBroken';

export const kind = (name: string) => `'${DECISION_KIND}/${name}'`;
/** A catcher's `error` variable: Step Functions' error output and the state that failed. */
export const CAUGHT = "{% $merge([$states.errorOutput, {'State': $states.context.State.Name}]) %}";
export const HOOK = { DeploymentId: '{% $hook.deploymentId %}', LifecycleEventHookExecutionId: '{% $hook.lifecycleEventHookExecutionId %}' };
/** What the hold's branches carry from one check to the next. */
export const CARRY = "'target': $states.input.target, 'config': $states.input.config, 'holdStartedAt': $states.input.holdStartedAt, 'holdEndsAt': $states.input.holdEndsAt";

export interface TaskOptions {
  readonly comment: string;
  readonly resource: string;
  readonly arguments: Record<string, unknown>;
  readonly output?: unknown;
  readonly assign?: Record<string, unknown>;
  readonly timeoutSeconds?: number | string;
  readonly catch?: unknown[];
}

export function task(scope: Construct, id: string, options: TaskOptions): sfn.CustomState {
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

export const sdk = (action: string) => `arn:${Aws.PARTITION}:states:::aws-sdk:${action}`;
export const LAMBDA_INVOKE = `arn:${Aws.PARTITION}:states:::lambda:invoke`;

// ---- notifications: one JSON message per decision that is news (BlueGreenDecisionNotification) ----

/** The function's name, whether the AppSpec gave a name or an ARN (as lambdas/shared/lambda-metrics.ts functionNameOf). */
const FUNCTION_NAME = "($f := $target.functionName; $contains($f, ':function:') ? $split($split($f, ':function:')[1], ':')[0] : $split($f, ':')[0])";
/** A list of rule records (`rules` of a check) as measurements. */
export const measurementsOf = (rules: string) => `[${rules}.{'rule': rule, 'measured': measured, 'threshold': threshold, 'passed': passed}]`;
/** The checks before the switch that ran, as measurements: the invariants, the warm gate, the smoke probe's gates. */
export const BEFORE_MEASUREMENTS = '$append($append('
  + "[$invariants.checks.{'rule': 'invariant:' & name, 'measured': actual, 'threshold': expected, 'passed': passed}], "
  + "($warmup ? ["
  + "{'rule': 'warmup:status', 'measured': $warmup.status, 'threshold': 'READY', 'passed': $warmup.status = 'READY'}, "
  + "{'rule': 'warmup:readySeconds', 'measured': $warmup.waitedMs / 1000, 'threshold': $config.warmup.readyTimeoutSeconds, 'passed': $warmup.status = 'READY' ? true : ($warmup.status = 'IN_PROGRESS' ? false : null)}, "
  + "{'rule': 'warmup:pingsFailed', 'measured': $warmup.pingsFailed, 'threshold': 0, 'passed': $warmup.pingsSent > 0 ? $warmup.pingsFailed = 0 : null}"
  + "] : [])), "
  + "($smoke ? ($count($smoke.gates) > 0 ? [$smoke.gates.{'rule': 'smoke:' & gate, 'measured': measured, 'threshold': threshold, 'passed': passed}] "
  + ": [{'rule': 'smoke', 'measured': $smoke.status, 'threshold': 'Succeeded', 'passed': $smoke.passed}]) : []))";
export const SUMMARY_BEFORE = '$append($append($invariants.reasons, '
  + "$warmup ? ['warm gate: provisioned concurrency ' & $warmup.status & ' after ' & $round($warmup.waitedMs / 1000, 1) & ' s, ' & $warmup.pingsSent & ' warm pings sent, ' & $warmup.pingsFailed & ' failed'] : []), "
  + "$smoke ? ['smoke probe on ' & $smoke.questions & ' gold questions: ' & $smoke.status] : ['no ΔS probe attached: no smoke probe'])";

/**
 * The JSONata expression of one notification: the fields every message carries, then `fields` (JSONata object
 * entries), evaluated after `bindings` (JSONata `$name := ...;` statements) if any.
 */
export function message(phase: string, fields: string, bindings = ''): string {
  return `(${bindings} {'source': '${NOTIFICATION_SOURCE}', 'event': 'blue-green-decision', 'strategy': 'blue-green', 'phase': ${phase}, `
    + "'deploymentId': $hook.deploymentId, 'deploymentGroup': $states.context.Execution.Input.deploymentGroupName, 'execution': $states.context.Execution.Id, "
    + `'functionName': ${FUNCTION_NAME}, 'alias': $target.alias, 'currentVersion': $target.currentVersion, 'targetVersion': $target.targetVersion, ${fields}})`;
}

/**
 * Publishes `expression` (a notification) to the alias's topic, then goes on to `next`: a Choice on the
 * configuration (no topic: straight to `next`, no call), and the sns:publish task, whose every error is caught
 * into `next` too. A publish never decides anything: it is bounded (PUBLISH_BOUND_SECONDS) and its failure is
 * only recorded in its output.
 */
export function notify(scope: Construct, id: string, comment: string, expression: string, next: sfn.State): sfn.Choice {
  const publish = task(scope, id, {
    comment,
    resource: sdk('sns:publish'),
    arguments: { TopicArn: '{% $config.topicArn %}', Message: `{% $string(${expression}) %}` },
    output: `{% {'kind': ${kind('notification')}, 'published': true, 'messageId': $states.result.MessageId} %}`,
    timeoutSeconds: PUBLISH_TIMEOUT_SECONDS,
    // (In the state's JSON: CustomState.addCatch renders a catcher's Output only for JSONata states it knows.)
    catch: [{
      ErrorEquals: ['States.ALL'],
      Next: next.stateId,
      Output: `{% {'kind': ${kind('notification')}, 'published': false, 'error': $states.errorOutput} %}`,
    }],
  }).addRetry(PUBLISH_RETRY);
  publish.next(next);
  return sfn.Choice.jsonata(scope, `${id}?`, { comment: 'Publish only for an alias with a notifications topic' })
    .when(sfn.Condition.jsonata('{% $exists($config.topicArn) %}'), publish)
    .otherwise(next);
}


/** Invokes the worker with `payload` (a JSONata object expression); its output is the worker's result unless `output` says otherwise. */
export function workerTask(scope: Construct, id: string, workerArn: string, payload: string, comment: string, assign?: Record<string, unknown>, output?: string, timeoutSeconds?: number | string): sfn.CustomState {
  return task(scope, id, {
    comment,
    resource: LAMBDA_INVOKE,
    arguments: { FunctionName: workerArn, Payload: `{% ${payload} %}` },
    output: output ?? '{% $states.result.Payload %}',
    assign,
    timeoutSeconds,
  });
}

/** The Choice after each check of the hold: continue (wait, then check again), succeed, or fail the branch. */
export function route(scope: Construct, id: string, wait: sfn.IChainable, held: sfn.IChainable, broken: sfn.IChainable): sfn.Choice {
  return sfn.Choice.jsonata(scope, id)
    .when(sfn.Condition.jsonata("{% $states.input.decision.next = 'continue' %}"), wait)
    .when(sfn.Condition.jsonata("{% $states.input.decision.next = 'succeed' %}"), held)
    .otherwise(broken);
}
