// The mirror ShadowIntegration builds off the user path: the results table, the dispatcher that replays the
// tap's samples to the shadow, and the subscription that feeds it the tap's lines.
import { Annotations, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import { DEFAULT_MAX_RECORD_BYTES, DISPATCHER_ENV, SHADOW_LINE_MARKER } from 'cdk-rollout-guardrails-runtime/contract';
import { handlerCode } from '../private/assets';
import { acknowledgeGuard, logsEncryptedReason, NO_VPC_REASON } from '../private/guard';
import { acknowledgeManagedPolicy } from '../private/nag';
import { HANDLER_RUNTIME } from '../private/runtime';
import { ShadowSettings } from './validate-props';
import { dropRedundantRoleDependency } from '../private/lint';

/** Most replays one dispatcher execution environment is budgeted per second; more rps means more environments. */
const RPS_PER_DISPATCHER = 10;
/** Most dispatcher environments (reserved concurrency). */
const MAX_DISPATCHER_CONCURRENCY = 10;

/** The dispatcher's reserved concurrency for `maxMirrorRps`: one environment per 10 rps, at most 10. */
export function dispatcherConcurrency(maxMirrorRps: number): number {
  return Math.min(MAX_DISPATCHER_CONCURRENCY, Math.ceil(maxMirrorRps / RPS_PER_DISPATCHER));
}

/** The table given in `resultsTable`, or an on-demand one created in `scope`. */
export function resultsTable(scope: Construct, given: dynamodb.ITable | undefined): dynamodb.ITable {
  if (given) return given;
  const table = new dynamodb.Table(scope, 'Results', {
    partitionKey: { name: 'shadow_id', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: 'expires_at',
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  acknowledgeGuard(table, 'dynamodb_table_encrypted_kms_check', 'Encrypted at rest with DynamoDB\'s AWS owned key; the rows (ΔS, the live and '
    + 'shadow outputs after redactPaths) expire after resultsTtl. resultsTable takes a table of your own, encrypted with your key.');
  return table;
}

/** What the dispatcher replays for: the integration's settings, its route, its table and its concurrency. */
export interface DispatcherOptions {
  readonly settings: ShadowSettings;
  readonly routeKey: string;
  readonly resultsTable: dynamodb.ITable;
  readonly reservedConcurrency: number;
}

/**
 * The mirror dispatcher, in `scope` (whose path names the shadow in its metrics): it may invoke the one shadow
 * ARN, read the shadow function's configuration, and put and update items in the results table.
 */
export function mirrorDispatcher(scope: Construct, options: DispatcherOptions): lambda.Function {
  const { settings, resultsTable: table } = options;
  const p = settings.props;
  const shadowTarget = p.shadow;
  const timeoutMs = settings.shadowTimeout.toMilliseconds();
  const maxRecordBytes = p.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const dispatcher = new lambda.Function(scope, 'Dispatcher', {
    runtime: HANDLER_RUNTIME,
    handler: 'index.handler',
    code: handlerCode('mirror-dispatcher'),
    memorySize: 512,
    // A delivery's replays run at most maxInFlight at a time, each bounded by the shadow timeout.
    timeout: Duration.seconds(Math.min(900, Math.ceil(timeoutMs / 1000) * 3 + 30)),
    reservedConcurrentExecutions: options.reservedConcurrency,
    // X-Ray traces the dispatcher's invocations (Lambda samples the first request a second and 5 % of the rest).
    tracing: lambda.Tracing.ACTIVE,
    description: `cdk-rollout-guardrails: mirrors sampled ${options.routeKey} requests to the shadow and scores ΔS`,
    environment: {
      [DISPATCHER_ENV.shadowFunction]: shadowTarget.functionArn,
      [DISPATCHER_ENV.resultsTable]: table.tableName,
      [DISPATCHER_ENV.shadowName]: scope.node.path,
      [DISPATCHER_ENV.maxMirrorRps]: String(p.maxMirrorRps),
      [DISPATCHER_ENV.reservedConcurrency]: String(options.reservedConcurrency),
      // JSON log format can escape a line to about twice its size; anything larger was not written by the tap.
      [DISPATCHER_ENV.maxEventBytes]: String(maxRecordBytes * 2 + 1024),
      [DISPATCHER_ENV.redactPaths]: JSON.stringify(settings.redactPaths),
      [DISPATCHER_ENV.answerPath]: p.answerPath ?? '',
      [DISPATCHER_ENV.shadowTimeoutMs]: String(timeoutMs),
      [DISPATCHER_ENV.resultsTtlSeconds]: String(settings.resultsTtl.toSeconds()),
      ...(settings.answerSchema ? { [settings.answerSchema[0]]: settings.answerSchema[1] } : {}),
    },
  });
  dropRedundantRoleDependency(dispatcher);
  // CloudWatch Logs invokes the dispatcher asynchronously. Throttled deliveries wait in Lambda's queue; a
  // short event age and no retries keep that wait bounded (Lambda counts the discards in AsyncEventsDropped).
  dispatcher.configureAsyncInvoke({ maxEventAge: Duration.minutes(5), retryAttempts: 0 });
  acknowledgeManagedPolicy(dispatcher, 'service-role/AWSLambdaBasicExecutionRole',
    'It only lets the dispatcher write its own CloudWatch Logs (and its EMF metrics); its other permissions are invoking the one shadow ARN, '
    + 'reading the shadow function\'s configuration and dynamodb:PutItem and UpdateItem on the results table.');
  Validations.of(dispatcher).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; the dispatcher\'s other grants are scoped.',
  });
  acknowledgeGuard(dispatcher, 'lambda_inside_vpc_check', NO_VPC_REASON);
  acknowledgeGuard(dispatcher, 'cloudwatch_log_group_encrypted_check', logsEncryptedReason('The dispatcher\'s log group'));
  iam.Grant.addToPrincipal({ grantee: dispatcher, actions: ['lambda:InvokeFunction'], resourceArns: [shadowTarget.functionArn] });
  // Each replay's release is the RELEASE_ID of the shadow version that answered (or, unanswered, of the version or
  // alias it invokes): GetFunctionConfiguration on the shadow function and its qualified ARNs, nothing else.
  const shadowFn = settings.shadowFunction;
  iam.Grant.addToPrincipal({ grantee: dispatcher, actions: ['lambda:GetFunctionConfiguration'], resourceArns: [shadowFn.functionArn, `${shadowFn.functionArn}:*`] });
  const cfnShadow = shadowFn.node.defaultChild;
  if (cfnShadow instanceof lambda.CfnFunction) {
    Validations.of(dispatcher).acknowledge({
      id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(cfnShadow).getLogicalId(cfnShadow)}.Arn>:*]`,
      reason: 'Which shadow version answered a replay is known only from the invoke\'s ExecutedVersion at run time: reading the configuration (RELEASE_ID) of the shadow function\'s versions, nothing else.',
    });
  }
  // PutItem writes a result row; UpdateItem adds a batch to its releases' summary items (release#<RELEASE_ID>).
  iam.Grant.addToPrincipal({ grantee: dispatcher, actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], resourceArns: [table.tableArn] });
  if (table.encryptionKey) table.encryptionKey.grantEncryptDecrypt(dispatcher);
  return dispatcher;
}

/** The subscription, in `scope`, that sends the tap's lines in the live function's log group to the dispatcher. */
export function tapSubscription(scope: Construct, liveFunction: lambda.Function, dispatcher: lambda.IFunction): { logGroup: logs.ILogGroup; subscription: logs.SubscriptionFilter } {
  const logGroup = liveLogGroup(scope, liveFunction);
  const subscription = new logs.SubscriptionFilter(scope, 'TapSubscription', {
    logGroup,
    destination: new LambdaDestination(dispatcher),
    filterPattern: logs.FilterPattern.literal(`"${SHADOW_LINE_MARKER}"`),
  });
  return { logGroup, subscription };
}

/**
 * The live function's log group. A function given a log group (or log retention) has one the subscription
 * can attach to; otherwise Lambda creates `/aws/lambda/<name>` only when the function first logs, after this
 * stack's subscription filter would have failed to find it. So the function is given a log group here.
 */
function liveLogGroup(scope: Construct, fn: lambda.Function): logs.ILogGroup {
  // `_logGroup` is set when the function was given `logGroup` or `logRetention`; reading `fn.logGroup`
  // without it would add a LogRetention custom resource instead.
  if ((fn as unknown as { _logGroup?: logs.ILogGroup })._logGroup) return fn.logGroup;
  const group = new logs.LogGroup(scope, 'LiveLogGroup', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.RETAIN });
  (fn.node.defaultChild as lambda.CfnFunction).addPropertyOverride('LoggingConfig.LogGroup', group.logGroupName);
  Annotations.of(scope).addInfo(`ShadowIntegration: '${fn.node.path}' had no log group of its own; it now logs to a created one (retention one month) that the tap subscription reads.`);
  const yours = 'Give the function a logGroup of its own to choose its retention and key; the tap subscription reads that one.';
  acknowledgeGuard(group, 'cloudwatch_log_group_retention_period_check', `The live function's log group, created only because the function had none; a month keeps the tap's lines long enough to replay. ${yours}`);
  acknowledgeGuard(group, 'cloudwatch_log_group_encrypted_check', `The live function's log group, created only because the function had none; encrypted at rest with CloudWatch Logs' own key. ${yours}`);
  return group;
}
