// What both state machines' definitions share: the one retry policy of their tasks, the ARNs of the service
// integrations they call (in the stack's partition: GovCloud, China), and the error CodeDeploy answers a report
// of a hook that is already completed.
import { Aws, Duration, Fn, IFragmentConcatenator, Lazy, Token, Tokenization } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { REPORT_RETRIES, REPORT_RETRY_INTERVAL_SECONDS } from 'cdk-rollout-guardrails-runtime/contract';

/**
 * The retry policy, one per kind of call:
 * - `sdk`: an idempotent AWS call (a read, a routing write, a resume, a report before the switch): three more
 *   attempts, 2, 4 and 8 s apart;
 * - `lambda`: a function the machine invokes, on Lambda's own transient errors only (the function did not run),
 *   the ones AWS recommends retrying for lambda:invoke: two more attempts, 2 and 4 s apart;
 * - `decide`: the staged gate function failing on its own (a read it makes was throttled): two more attempts, 5
 *   and 10 s apart (its Lambda service errors are retried by the task's own retryOnServiceExceptions);
 * - `report`: the Failed report after a breach, bounded since its time is part of the worst-case rollback
 *   (REPORT_BOUND_SECONDS).
 * A report is never retried after CodeDeploy says its hook is already completed (ALREADY_REPORTED): an earlier
 * attempt landed.
 */
export const RETRY = {
  sdk: { errors: ['States.ALL'], maxAttempts: 3, interval: Duration.seconds(2), backoffRate: 2 },
  lambda: {
    errors: ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'],
    maxAttempts: 2, interval: Duration.seconds(2), backoffRate: 2,
  },
  decide: { errors: ['States.TaskFailed'], maxAttempts: 2, interval: Duration.seconds(5), backoffRate: 2 },
  report: { errors: ['States.ALL'], maxAttempts: REPORT_RETRIES, interval: Duration.seconds(REPORT_RETRY_INTERVAL_SECONDS), backoffRate: 2 },
} satisfies Record<string, sfn.RetryProps>;

/** A hook status that has already been reported: a retried report found its first attempt landed. */
export const ALREADY_REPORTED = 'CodeDeploy.LifecycleEventAlreadyCompletedException';
/** The retrier that keeps a report from being retried once CodeDeploy says it landed; first on every report. */
export const NO_RETRY_ONCE_REPORTED: sfn.RetryProps = { errors: [ALREADY_REPORTED], maxAttempts: 0 };

/** An AWS SDK integration's resource ARN. */
export const sdk = (action: string) => `arn:${Aws.PARTITION}:states:::aws-sdk:${action}`;
/** The Lambda invoke integration's resource ARN. */
export const LAMBDA_INVOKE = `arn:${Aws.PARTITION}:states:::lambda:invoke`;
/**
 * The JSONata expression that selects the alias's configuration from `configsJson` (every attached alias's, keyed
 * by `aliasConfigKey`) by the execution input's `configKey`, or `fallback` (a JSONata value) when there is none.
 */
export const selectConfig = (configsJson: string, fallback: string) =>
  `{% ($c := $lookup(${configsJson}, $states.input.configKey); $exists($c) ? $c : ${fallback}) %}`;

/**
 * The text `produce` gives, with the tokens in it, as one `Fn::Join` whose parts are its literals and tokens in
 * order. CDK resolves a string's tokens by joining its fragments two at a time, each join copying and rescanning the
 * parts so far: quadratic in the number of tokens, 14 ms per resolution of a definition that holds 30 aliases'
 * configurations (and a synth resolves it more than once). `Fn.join` resolves its parts in one pass. Produced
 * again at each resolution, so that a synth after a change (another alias attached) writes the change.
 */
export function joinedText(produce: () => string): string {
  return Lazy.uncachedString({
    produce: () => {
      const text = produce();
      if (!Token.isUnresolved(text)) return text;
      const collect: IFragmentConcatenator = { join: (left, right) => (Array.isArray(left) ? (left.push(right), left) : [left, right]) };
      const parts = Tokenization.reverseString(text).join(collect);
      return Array.isArray(parts) ? Fn.join('', parts) : parts;
    },
  });
}

/** CodeDeploy's report of a hook's status. */
export const REPORT = sdk('codedeploy:putLifecycleEventHookExecutionStatus');
