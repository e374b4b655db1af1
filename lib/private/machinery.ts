// Pieces the stack-wide machineries (StagedRollout, BlueGreenSwitch) build the same way.
import { ArnFormat, Aws, Duration, Fn, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeGuard, NO_VPC_REASON } from './guard';
import { acknowledgeManagedPolicy } from './nag';
import { HANDLER_RUNTIME } from './runtime';
import { dropRedundantRoleDependency } from './lint';

/** Options of a stack's rollout machinery (StagedRollout, BlueGreenSwitch), fixed when it is first created. */
export interface MachineryOptions {
  /**
   * A KMS key for the machinery's log groups (its functions' and its state machine's, which log every state's
   * input and output). The key policy must let the CloudWatch Logs service principal use it (docs/aws-behaviour.md
   * CW-6): for a key defined in the same app the statement is added; for an imported key, add it yourself.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logsKey?: kms.IKey;
}

/** How long the machinery's logs are kept: a year, so that a release can be explained long after it. */
export const MACHINERY_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/** Why a machinery log group without `logsKey` has no KMS key (cfn-guard CT.CLOUDWATCH.PR.3). */
const MACHINERY_LOGS_KEY_REASON = 'Encrypted at rest with CloudWatch Logs\' own key by default; GuardedAlias logsKey (one KMS key for the stack\'s '
  + 'machinery: its functions\' and state machine\'s log groups) encrypts it with yours.';

/** Lets CloudWatch Logs use `key` for log groups of this stack's region (no-op for an imported key). */
export function allowLogsToUseKey(key: kms.IKey, scope: Construct): void {
  const stack = Stack.of(scope);
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) } },
  }), true);
}

/** One of the library's own functions: a handler of a prebundled asset, on the library's runtime, traced, with its own log group. */
export function machineryFunction(scope: Construct, id: string, props: {
  readonly code: lambda.Code;
  /** The bundle's export, e.g. `gate` for `index.gate`. */
  readonly handler: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly logsKey?: kms.IKey;
  /**
   * For a function invoked asynchronously (a CodeDeploy hook, an EventBridge target): Lambda's retries and
   * the queue that takes an event once they are spent (docs/aws-behaviour.md LAM-5).
   */
  readonly async?: { readonly retryAttempts: number; readonly deadLetterQueue: sqs.IQueue };
}): lambda.Function {
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: MACHINERY_LOG_RETENTION, encryptionKey: props.logsKey, removalPolicy: RemovalPolicy.DESTROY });
  const fn = new lambda.Function(scope, id, {
    runtime: HANDLER_RUNTIME,
    handler: `index.${props.handler}`,
    code: props.code,
    memorySize: 256,
    timeout: props.timeout,
    description: props.description,
    tracing: lambda.Tracing.ACTIVE,
    logGroup,
    ...(props.async ? { retryAttempts: props.async.retryAttempts, deadLetterQueue: props.async.deadLetterQueue } : {}),
  });
  dropRedundantRoleDependency(fn);
  acknowledgeManagedPolicy(fn, 'service-role/AWSLambdaBasicExecutionRole', 'It only lets the function write its own CloudWatch Logs; its other permissions are scoped grants.');
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: 'X-Ray\'s PutTraceSegments and PutTelemetryRecords (active tracing) support no resource-level permissions.',
  });
  acknowledgeGuard(fn, 'lambda_inside_vpc_check', NO_VPC_REASON);
  if (!props.logsKey) acknowledgeGuard(logGroup, 'cloudwatch_log_group_encrypted_check', MACHINERY_LOGS_KEY_REASON);
  return fn;
}

/**
 * The log group of a machinery's state machine: named under `/aws/vendedlogs/states/`, which AWS recommends so
 * that log delivery does not grow the account's CloudWatch Logs resource policy (docs/aws-behaviour.md SFN-9,
 * aws-cdk issue 28900), and unique per stack (the stack's name, then the construct's unique ID).
 */
export function stateMachineLogGroup(scope: Construct, id: string, logsKey?: kms.IKey): logs.LogGroup {
  const group = new logs.LogGroup(scope, id, {
    logGroupName: Fn.join('', ['/aws/vendedlogs/states/', Aws.STACK_NAME, '-', Names.uniqueResourceName(scope, { maxLength: 80 })]),
    retention: MACHINERY_LOG_RETENTION,
    encryptionKey: logsKey,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  if (!logsKey) acknowledgeGuard(group, 'cloudwatch_log_group_encrypted_check', MACHINERY_LOGS_KEY_REASON);
  return group;
}

/**
 * Where a machinery's lost work goes: one encrypted queue for the events its safety net and hooks could not
 * process after their retries (EventBridge targets' and Lambda's asynchronous dead letters), and an alarm on
 * the first message in it. Someone must look: a failed clean-up may have left weights on an alias or consumers
 * paused.
 */
export function failedEvents(scope: Construct, what: string): { readonly queue: sqs.Queue; readonly alarm: cloudwatch.Alarm } {
  const queue = new sqs.Queue(scope, 'FailedEvents', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({ id: 'AwsSolutions::AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the machinery\'s rule targets and asynchronously invoked functions.' });
  acknowledgeGuard(queue, 'sqs_dlq_check', 'This queue is itself the dead-letter queue of the machinery\'s rule targets and asynchronously invoked functions; its alarm fires on the first message.');
  // (EventBridge delivers to a target's dead-letter queue under its own service principal, EB-2: aws-cdk-lib's
  // targets add that statement, scoped to the rule.)
  const alarm = new cloudwatch.Alarm(scope, 'FailedEventsAlarm', {
    metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: `cdk-rollout-guardrails ${what}: an event its safety net or hooks could not process after their retries is in the dead-letter queue; a clean-up may not have run (weights left on an alias, consumers paused). Read the message and the function's log.`,
  });
  acknowledgeGuard(alarm, 'cloudwatch_alarm_action_check', 'Its actions are the notifications topics of the stack\'s GuardedAliases (each added once); with none it '
    + 'is read where it is shown (ReleaseDashboard\'s machinery row), or given an action with failedEventsAlarm.addAlarmAction().');
  return { queue, alarm };
}

/**
 * Lets `fn` act on the executions of `machine` (named after deployments that do not exist at synth, hence the
 * wildcard), and acknowledges cdk-nag's finding on that wildcard with `reason`.
 */
export function grantOnExecutions(fn: lambda.Function, machine: sfn.StateMachine, actions: string[], reason: string): void {
  const stack = Stack.of(machine);
  const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${machine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [executions] }));
  // cdk-nag names the finding after the ARN as synthesised: literal where the stack's environment is known.
  const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  Validations.of(fn).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:${literal(stack.partition, 'AWS::Partition')}:states:${literal(stack.region, 'AWS::Region')}:`
      + `${literal(stack.account, 'AWS::AccountId')}:execution:<${stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine)}.Name>:*]`,
    reason,
  });
}

const alarmTopics = new WeakMap<cloudwatch.Alarm, Set<sns.ITopic>>();

/** Sends `alarm`'s ALARM to `topic`, once per topic however many aliases ask (a machinery's alarm serves them all). */
export function alarmTo(alarm: cloudwatch.Alarm, topic: sns.ITopic): void {
  const topics = alarmTopics.get(alarm) ?? new Set<sns.ITopic>();
  alarmTopics.set(alarm, topics);
  if (topics.has(topic)) return;
  topics.add(topic);
  alarm.addAlarmAction(new cwActions.SnsAction(topic));
}
