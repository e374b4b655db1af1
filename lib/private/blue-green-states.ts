// The states of the blue-green state machine (lib/private/blue-green-machine.ts assembles them): JSONata Task
// states written as CustomStates (each AWS call an SDK integration, so that the role is granted exactly what is
// attached), the one report step, the notification step and the worker and hold-routing states the definition
// uses more than once. The decisions, their records and the notifications' words are the worker's, in
// TypeScript (lambdas/blue-green): these states call, route, wait and report.
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { DECISION_KIND, PUBLISH_BOUND_SECONDS, REPORT_ATTEMPT_SECONDS } from 'cdk-rollout-guardrails-runtime/contract';
import { ALREADY_REPORTED, LAMBDA_INVOKE, NO_RETRY_ONCE_REPORTED, REPORT, RETRY } from './asl';

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

/** The variables a notification is written from: the worker's `notify` operation takes them as they stand. */
const NOTIFY_PAYLOAD = "'topicArn': $config.topicArn, 'deploymentId': $hook.deploymentId, "
  + "'deploymentGroup': $states.context.Execution.Input.deploymentGroupName, 'execution': $states.context.Execution.Id, "
  + "'phase': $phase, 'target': $target, 'invariants': $invariants, 'warmup': $warmup, 'smoke': $smoke, 'frozen': $frozen, "
  + "'held': $held, 'breach': $breach, 'error': $error";

/**
 * Notifies the alias's topic of `event` (the worker writes and publishes the message: lambdas/blue-green/
 * notification.ts), then goes on to `next`: a Choice on the configuration (no topic: straight to `next`, no
 * call), and the worker's task, cut off after PUBLISH_BOUND_SECONDS, whose every error is caught into `next`
 * too. A notification never decides anything: the worker records a failed publish in its output, and the
 * machine never retries one.
 */
export function notify(scope: Construct, id: string, event: string, comment: string, workerArn: string, next: sfn.State): sfn.Choice {
  const publish = task(scope, id, {
    comment,
    resource: LAMBDA_INVOKE,
    arguments: { FunctionName: workerArn, Payload: `{% {'op': 'notify', 'event': '${event}', ${NOTIFY_PAYLOAD}} %}` },
    output: '{% $states.result.Payload %}',
    timeoutSeconds: PUBLISH_BOUND_SECONDS,
    // (In the state's JSON: CustomState.addCatch renders a catcher's Output only for JSONata states it knows.)
    catch: [{
      ErrorEquals: ['States.ALL'],
      Next: next.stateId,
      Output: `{% {'kind': ${kind('notification')}, 'published': false, 'error': $states.errorOutput} %}`,
    }],
  });
  publish.next(next);
  return sfn.Choice.jsonata(scope, `${id}?`, { comment: 'Notify only for an alias with a notifications topic' })
    .when(sfn.Condition.jsonata('{% $exists($config.topicArn) %}'), publish)
    .otherwise(next);
}

/** Where a report goes on: `next` once it landed (or CodeDeploy says an earlier attempt did), `onError` otherwise. */
export interface ReportOptions {
  readonly comment: string;
  readonly status: 'Succeeded' | 'Failed';
  readonly next: sfn.State;
  readonly onError: sfn.State;
  /** Keep the error in `$error` for the error path. @default true */
  readonly assignError?: boolean;
  readonly output?: string;
  /** The Failed report after a breach: RETRY.report instead of RETRY.sdk. @default false */
  readonly bounded?: boolean;
}

/**
 * The one report step: putLifecycleEventHookExecutionStatus with `status`, each attempt cut off after
 * REPORT_ATTEMPT_SECONDS; never retried once CodeDeploy says the hook is completed (an earlier attempt landed,
 * which goes on to `next` like a report that landed); any other error, once the retries are spent, to `onError`.
 */
export function report(scope: Construct, id: string, options: ReportOptions): sfn.CustomState {
  const state = task(scope, id, {
    comment: options.comment, resource: REPORT, arguments: { ...HOOK, Status: options.status }, output: options.output,
    timeoutSeconds: REPORT_ATTEMPT_SECONDS,
  }).addRetry(NO_RETRY_ONCE_REPORTED).addRetry(options.bounded ? RETRY.report : RETRY.sdk);
  state.addCatch(options.next, { errors: [ALREADY_REPORTED] });
  state.addCatch(options.onError, options.assignError === false ? {} : { assign: { error: CAUGHT } });
  state.next(options.next);
  return state;
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
