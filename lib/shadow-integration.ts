import * as fs from 'fs';
import * as path from 'path';
import { Annotations, AssetStaging, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { LambdaDestination } from 'aws-cdk-lib/aws-logs-destinations';
import { Construct } from 'constructs';
import { IGuardedAlias } from './guarded-alias';
import { handlerCode } from './private/assets';
import { acknowledgeGuard, logsEncryptedReason, NO_VPC_REASON } from './private/guard';
import { acknowledgeManagedPolicy } from './private/nag';
import { HANDLER_RUNTIME } from './private/runtime';
import { SHADOW_DENIED_ACTIONS } from './private/shadow-deny';
import { Described, PropProblems } from './private/validation';
import { SHADOW_MODE_ENV } from 'cdk-rollout-guardrails-runtime/contract';
import {
  DEFAULT_HEADER_ALLOW_LIST, DEFAULT_MAX_RECORD_BYTES, DEFAULT_MIRRORED_METHODS, DISPATCHER_ENV, HTTP_METHODS, MAX_RECORD_BYTES_LIMIT,
  MIN_RECORD_BYTES_LIMIT, SHADOW_LINE_MARKER, SHADOW_METRICS_DIMENSION, SHADOW_METRICS_NAMESPACE, SHADOW_TAP_ENV, headerAllowListProblems,
} from 'cdk-rollout-guardrails-runtime/contract';
import { parseJsonPath } from 'cdk-rollout-guardrails-runtime/contract';

export { SHADOW_DENIED_ACTIONS } from './private/shadow-deny';

/** Thresholds of the shadow's alarms, which tell when a shadow is ready to become a canary. */
export interface ShadowGates {
  /**
   * Largest mean ΔS between the live and the shadow answers over a period (the seed's drift gate).
   * @default 0.45
   */
  readonly maxMeanDeltaS?: number;
  /**
   * Largest increase of the shadow's p95 duration over the live one, as a fraction (0.03 = 3 %, the seed's
   * bound for promoting a shadow to a canary).
   * @default 0.03
   */
  readonly maxP95LatencyIncrease?: number;
  /**
   * Largest p95 of ΔS over a period. The mean can stay under its gate while a minority of answers go badly
   * wrong (a retriever that picks the wrong section one time in six); the p95 sees those. Opt-in: the seed
   * sets no p95 bound.
   * @default - no p95 alarm
   */
  readonly maxP95DeltaS?: number;
}

/** The defaults of {@link ShadowGates}; `maxP95DeltaS` has none (no alarm unless set). */
export const DEFAULT_SHADOW_GATES: Required<Omit<ShadowGates, 'maxP95DeltaS'>> = { maxMeanDeltaS: 0.45, maxP95LatencyIncrease: 0.03 };

const SHADOW_GATE_NAMES = ['maxMeanDeltaS', 'maxP95LatencyIncrease', 'maxP95DeltaS'];

/** Period of the shadow metrics' alarms: shadow traffic is a sample, so a minute holds too few answers. */
export const SHADOW_ALARM_PERIOD = Duration.minutes(5);

/** Highest `maxMirrorRps`: beyond it the dispatcher's reserved concurrency would eat into the account's pool. */
export const MAX_MIRROR_RPS_LIMIT = 1000;

/** Most replays one dispatcher execution environment is budgeted per second; more rps means more environments. */
const RPS_PER_DISPATCHER = 10;
/** Most dispatcher environments (reserved concurrency). */
const MAX_DISPATCHER_CONCURRENCY = 10;

const PATH = /^\/(?:(?:[A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\}|\{[A-Za-z0-9_]+\+\})(?:\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\}|\{[A-Za-z0-9_]+\+\}))*)?$/;

/** Properties of `ShadowIntegration`. */
export interface ShadowIntegrationProps {
  /** The API: a REST API (aws-apigateway) or an HTTP API (aws-apigatewayv2). */
  readonly api: apigw.IRestApi | apigwv2.IHttpApi;
  /** The route's method: one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY. */
  readonly method: string;
  /** The route's path (`/answer`, `/items/{id}`). */
  readonly path: string;
  /**
   * What users are served by: a GuardedAlias or an alias. The route integrates with the alias (never
   * $LATEST); its function must be wrapped with `shadowTap` from `cdk-rollout-guardrails-runtime`.
   */
  readonly live: IGuardedAlias | lambda.Alias;
  /**
   * The read-only shadow: a function, or an alias or version of one, defined in this app. Its role gets an
   * explicit Deny on writes and its environment `GUARDRAILS_SHADOW_MODE=true`.
   */
  readonly shadow: lambda.IFunction;
  /** Share of eligible requests mirrored, in (0, 1]. */
  readonly sampleRate: number;
  /**
   * Most replays a second, enforced by the dispatcher's reserved concurrency (one environment per 10 rps, at
   * most 10) and a token bucket in each environment. Samples over it are dropped and counted.
   */
  readonly maxMirrorRps: number;
  /**
   * JSON paths replaced by "[REDACTED]" in request and response bodies before they leave the live function.
   * @default - none
   */
  readonly redactPaths?: string[];
  /**
   * Request headers copied to the shadow. Credentials, cookies, API keys and client addresses are refused.
   * @default ['accept', 'accept-language', 'content-type']
   */
  readonly headerAllowList?: string[];
  /**
   * Methods mirrored. Reads only unless you allow more; the shadow's write Deny applies either way.
   * @default ['GET', 'HEAD']
   */
  readonly allowMethods?: string[];
  /**
   * Thresholds of the drift and latency alarms.
   * @default DEFAULT_SHADOW_GATES (mean ΔS ≤ 0.45, shadow p95 ≤ live p95 + 3 %)
   */
  readonly gates?: ShadowGates;
  /**
   * JSON path of the answer in a JSON response body (`$.answer`); ΔS compares the whole body when unset or
   * when the path is absent.
   * @default - the whole body
   */
  readonly answerPath?: string;
  /**
   * Largest tap record, in bytes; larger samples are dropped and counted, never truncated.
   * @default 65536
   */
  readonly maxRecordBytes?: number;
  /**
   * How long the shadow may take before a replay counts as a timeout (a shadow error).
   * @default Duration.seconds(10)
   */
  readonly shadowTimeout?: Duration;
  /**
   * Where results go: a table with partition key `shadow_id` (string) and TTL attribute `expires_at`.
   * @default - an on-demand table is created (PITR on, destroyed with the stack: results are diagnostics)
   */
  readonly resultsTable?: dynamodb.ITable;
  /**
   * How long a result is kept.
   * @default Duration.days(7)
   */
  readonly resultsTtl?: Duration;
}

/**
 * Id of the note ShadowIntegration adds when it cannot see a `shadowTap()` call in the live function's code:
 * inline code and the handler's file of an asset directory are read at synth (a minified bundle, a zip, a
 * bucket or an image cannot be read for it). Once the handler is wrapped, acknowledge it with
 * `Annotations.of(scope).acknowledgeInfo(SHADOW_TAP_NOT_SEEN_INFO, reason)` on the integration, its stack or the app.
 */
export const SHADOW_TAP_NOT_SEEN_INFO = 'cdk-rollout-guardrails:shadowTapNotSeen';

/** Integrations by live function: one tap configuration per function. */
const TAPPED = new WeakMap<lambda.Function, ShadowIntegration>();

/**
 * An API Gateway route integrated with the live alias, with a sampled copy of its reads replayed to a
 * read-only shadow function, off the user path.
 *
 * The live function's `shadowTap` (configured here through its environment) logs a deterministic, sanitised
 * sample of requests with their answers; a CloudWatch Logs subscription feeds the mirror dispatcher, whose
 * reserved concurrency and token bucket cap the replays at `maxMirrorRps`; it replays each to the shadow
 * with `x-shadow: true`, scores ΔS between the two answers, stores both in the results table and publishes
 * `ShadowDeltaS`, `ShadowLatencyDelta`, `ShadowErrors`, `MirrorDropped` and the observed sample rate.
 *
 * "Zero side effects" covers what IAM can stop: the shadow's role is denied DynamoDB writes, S3 puts and
 * deletes, SQS/SNS/EventBridge sends, invoking other functions, starting workflows, stream puts, mail and
 * parameter writes ({@link SHADOW_DENIED_ACTIONS}), and `makeIdempotent` refuses to run in shadow mode. It
 * cannot cover calls outside AWS authorisation: HTTP to third parties, databases reached with their own
 * credentials, or side effects inside a service the shadow may only read (a read that costs money or bumps
 * a counter). A shadow must not be given such credentials.
 */
export class ShadowIntegration extends Construct {
  /** The alias users are served by. */
  public readonly liveAlias: lambda.Alias;
  /** The live function, whose tap this configures. */
  public readonly liveFunction: lambda.Function;
  /** The shadow function (the function behind `shadow`). */
  public readonly shadowFunction: lambda.Function;
  /** The mirror dispatcher. */
  public readonly dispatcher: lambda.Function;
  /** The results table. */
  public readonly resultsTable: dynamodb.ITable;
  /** The subscription filter that feeds the tap's lines to the dispatcher. */
  public readonly subscription: logs.SubscriptionFilter;
  /** The log group the tap writes to. */
  public readonly liveLogGroup: logs.ILogGroup;
  /** Mean ΔS above `gates.maxMeanDeltaS`. */
  public readonly deltaSAlarm: cloudwatch.Alarm;
  /** Shadow p95 duration above live p95 by more than `gates.maxP95LatencyIncrease`. */
  public readonly latencyAlarm: cloudwatch.Alarm;
  /** p95 of ΔS above `gates.maxP95DeltaS`; undefined unless that gate is set. */
  public readonly p95DeltaSAlarm?: cloudwatch.Alarm;
  /** The thresholds in force. */
  public readonly gates: ShadowGates & typeof DEFAULT_SHADOW_GATES;
  /** The dispatcher's reserved concurrency. */
  public readonly dispatcherConcurrency: number;
  /** `METHOD /path` of the mirrored route. */
  public readonly routeKey: string;
  /** The REST method created, for a REST API. */
  public readonly restMethod?: apigw.Method;
  /** The HTTP API route created, for an HTTP API. */
  public readonly httpRoute?: apigwv2.HttpRoute;

  constructor(scope: Construct, id: string, props: ShadowIntegrationProps) {
    super(scope, id);
    const p = (props ?? {}) as Partial<ShadowIntegrationProps>;
    const problems = new PropProblems();

    const apiKind = p.api === undefined ? undefined : isRestApi(p.api) ? 'rest' : isHttpApi(p.api) ? 'http' : undefined;
    if (apiKind === undefined) problems.add('api', 'a REST API (aws-apigateway IRestApi) or an HTTP API (aws-apigatewayv2 IHttpApi)', describe(p.api));
    const method = typeof p.method === 'string' ? p.method.toUpperCase() : p.method;
    if (typeof method !== 'string' || (method !== 'ANY' && !HTTP_METHODS.includes(method))) {
      problems.add('method', `one of ${[...HTTP_METHODS, 'ANY'].join(', ')}`, p.method);
    }
    const path = p.path;
    if (typeof path !== 'string' || !PATH.test(path) || (path.length > 1 && path.endsWith('/'))) {
      problems.add('path', 'a path starting with "/", of segments of letters, digits, "._~-" or {param} / {proxy+}, without a trailing "/"', path);
    }
    const liveAlias = p.live instanceof lambda.Alias ? p.live : (p.live as IGuardedAlias | undefined)?.alias instanceof lambda.Alias ? (p.live as IGuardedAlias).alias : undefined;
    const liveFunction = liveAlias?.version.lambda instanceof lambda.Function ? liveAlias.version.lambda : undefined;
    if (!liveAlias) problems.add('live', 'a GuardedAlias or a lambda.Alias', describe(p.live));
    else if (!liveFunction) problems.add('live', 'an alias of a lambda.Function defined in this app (its environment and log group are configured)', describe(p.live));
    else if (TAPPED.has(liveFunction)) {
      problems.add('live', `a function without another ShadowIntegration (its tap is configured by '${TAPPED.get(liveFunction)!.node.path}'; one per function)`, describe(p.live));
    }
    const shadowFunction = underlyingFunction(p.shadow);
    if (!shadowFunction) problems.add('shadow', 'a lambda.Function defined in this app, or an alias or version of one (its role gets the write Deny)', describe(p.shadow));
    else if (!shadowFunction.role) problems.add('shadow', 'a function with an execution role this app can attach the write Deny to', describe(p.shadow));
    else if (liveFunction && shadowFunction === liveFunction) problems.add('shadow', 'a function other than the live one (its role is denied writes)', describe(p.shadow));

    if (p.sampleRate === undefined) problems.add('sampleRate', 'a number greater than 0 and at most 1', undefined);
    else problems.number('sampleRate', p.sampleRate, { min: 0, minInclusive: false, max: 1 });
    if (p.maxMirrorRps === undefined) problems.add('maxMirrorRps', `an integer from 1 to ${MAX_MIRROR_RPS_LIMIT}`, undefined);
    else problems.integer('maxMirrorRps', p.maxMirrorRps, 1, MAX_MIRROR_RPS_LIMIT);

    const allowMethods = p.allowMethods ?? [...DEFAULT_MIRRORED_METHODS];
    if (!Array.isArray(allowMethods) || allowMethods.length === 0) {
      problems.add('allowMethods', `a non-empty array of ${HTTP_METHODS.join(', ')}`, allowMethods);
    } else {
      const bad = allowMethods.filter((m) => typeof m !== 'string' || !HTTP_METHODS.includes(m.toUpperCase()));
      if (bad.length > 0) problems.add('allowMethods', `methods of ${HTTP_METHODS.join(', ')} (ANY is not a method: list each one)`, bad);
      else if (typeof method === 'string' && method !== 'ANY' && HTTP_METHODS.includes(method) && !allowMethods.some((m) => m.toUpperCase() === method)) {
        problems.add('allowMethods', `a list that includes the route's method ${method}, or nothing would be mirrored (writes are mirrored only when you allow them)`, allowMethods);
      }
    }
    const headers = p.headerAllowList ?? [...DEFAULT_HEADER_ALLOW_LIST];
    if (!Array.isArray(headers)) problems.add('headerAllowList', 'an array of header names', headers);
    else for (const problem of headerAllowListProblems(headers)) problems.addMessage(`headerAllowList: ${problem}`);
    const redactPaths = p.redactPaths ?? [];
    if (!Array.isArray(redactPaths)) problems.add('redactPaths', 'an array of JSON paths', redactPaths);
    else for (const jsonPath of redactPaths) tryPath(problems, 'redactPaths', jsonPath);
    if (p.answerPath !== undefined) tryPath(problems, 'answerPath', p.answerPath);
    problems.integer('maxRecordBytes', p.maxRecordBytes, MIN_RECORD_BYTES_LIMIT, MAX_RECORD_BYTES_LIMIT);
    const gates = p.gates ?? {};
    if (typeof gates !== 'object' || gates === null) problems.add('gates', 'an object of thresholds', gates);
    else {
      for (const key of Object.keys(gates)) {
        if (!SHADOW_GATE_NAMES.includes(key)) problems.add(`gates.${key}`, `one of ${SHADOW_GATE_NAMES.join(', ')} (unknown gate)`, key);
      }
      problems.number('gates.maxMeanDeltaS', gates.maxMeanDeltaS, { min: 0, max: 2, minInclusive: false });
      problems.number('gates.maxP95DeltaS', gates.maxP95DeltaS, { min: 0, max: 2, minInclusive: false });
      problems.number('gates.maxP95LatencyIncrease', gates.maxP95LatencyIncrease, { min: 0, max: 10 });
    }
    const shadowTimeout = p.shadowTimeout ?? Duration.seconds(10);
    if (!(shadowTimeout instanceof Duration)) problems.add('shadowTimeout', 'a Duration', shadowTimeout);
    else if (!Token.isUnresolved(shadowTimeout) && (shadowTimeout.toMilliseconds() < 100 || shadowTimeout.toSeconds() > 300)) {
      problems.add('shadowTimeout', 'from 100 milliseconds to 5 minutes', shadowTimeout);
    }
    const resultsTtl = p.resultsTtl ?? Duration.days(7);
    if (!(resultsTtl instanceof Duration)) problems.add('resultsTtl', 'a Duration', resultsTtl);
    else if (!Token.isUnresolved(resultsTtl) && (resultsTtl.toSeconds() < 3600 || resultsTtl.toDays({ integral: false }) > 365)) {
      problems.add('resultsTtl', 'from 1 hour to 365 days', resultsTtl);
    }
    if (p.resultsTable !== undefined && typeof (p.resultsTable as dynamodb.ITable)?.tableName !== 'string') problems.add('resultsTable', 'a dynamodb.ITable', describe(p.resultsTable));
    problems.throwIfAny(`ShadowIntegration '${this.node.path}'`);

    this.liveAlias = liveAlias!;
    this.liveFunction = liveFunction!;
    this.shadowFunction = shadowFunction!;
    TAPPED.set(this.liveFunction, this);
    this.gates = { ...DEFAULT_SHADOW_GATES, ...Object.fromEntries(Object.entries(gates).filter(([, v]) => v !== undefined)) };
    this.routeKey = `${method} ${path}`;
    const maxMirrorRps = p.maxMirrorRps!;
    this.dispatcherConcurrency = Math.min(MAX_DISPATCHER_CONCURRENCY, Math.ceil(maxMirrorRps / RPS_PER_DISPATCHER));

    // 1. The route, integrated with the live alias.
    if (apiKind === 'rest') {
      const resource = (p.api as apigw.IRestApi).root.resourceForPath(path!);
      this.restMethod = resource.addMethod(method as string, new apigw.LambdaIntegration(this.liveAlias));
      acknowledgeGuard(this.restMethod, 'lambda_function_public_access_prohibited_check', API_PERMISSION_REASON);
    } else {
      this.httpRoute = new apigwv2.HttpRoute(this, 'Route', {
        httpApi: p.api as apigwv2.IHttpApi,
        routeKey: apigwv2.HttpRouteKey.with(path!, method as apigwv2.HttpMethod),
        integration: new HttpLambdaIntegration('LiveIntegration', this.liveAlias, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 }),
      });
      acknowledgeGuard(this.httpRoute, 'lambda_function_public_access_prohibited_check', API_PERMISSION_REASON);
      const routeAuthReason = 'The route is the live route, added to the caller\'s HTTP API: it takes '
        + 'the API\'s defaultAuthorizer (and scopes) like the API\'s other routes, and without one it is as open as they are. Give the HttpApi a defaultAuthorizer.';
      acknowledgeGuard(this.httpRoute, 'api_gw_v2_authorization_type_configured_check', routeAuthReason);
      Validations.of(this.httpRoute).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason: routeAuthReason });
    }

    // 2. The live function's tap, configured through its environment.
    const tapEnv: Record<string, string> = {
      [SHADOW_TAP_ENV.sampleRate]: String(p.sampleRate),
      [SHADOW_TAP_ENV.routes]: JSON.stringify([this.routeKey]),
      [SHADOW_TAP_ENV.methods]: JSON.stringify(allowMethods.map((m) => m.toUpperCase())),
      [SHADOW_TAP_ENV.headers]: JSON.stringify(headers.map((h) => h.toLowerCase())),
      [SHADOW_TAP_ENV.redactPaths]: JSON.stringify(redactPaths),
      [SHADOW_TAP_ENV.maxRecordBytes]: String(p.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES),
    };
    for (const [name, value] of Object.entries(tapEnv)) this.liveFunction.addEnvironment(name, value);

    // 3. The shadow: shadow mode and an explicit Deny on writes.
    this.shadowFunction.addEnvironment(SHADOW_MODE_ENV, 'true');
    this.shadowFunction.role!.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ShadowDenyWrites',
      effect: iam.Effect.DENY,
      actions: [...SHADOW_DENIED_ACTIONS],
      resources: ['*'],
    }));

    // 4. The results table.
    this.resultsTable = p.resultsTable ?? new dynamodb.Table(this, 'Results', {
      partitionKey: { name: 'shadow_id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expires_at',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    if (!p.resultsTable) {
      acknowledgeGuard(this.resultsTable, 'dynamodb_table_encrypted_kms_check', 'Encrypted at rest with DynamoDB\'s AWS owned key; the rows (ΔS, the live and '
        + 'shadow outputs after redactPaths) expire after resultsTtl. resultsTable takes a table of your own, encrypted with your key.');
    }

    // 5. The dispatcher.
    const shadowTarget = p.shadow!;
    const timeoutMs = shadowTimeout.toMilliseconds();
    const maxRecordBytes = p.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.dispatcher = new lambda.Function(this, 'Dispatcher', {
      runtime: HANDLER_RUNTIME,
      handler: 'index.handler',
      code: handlerCode('mirror-dispatcher'),
      memorySize: 512,
      // A delivery's replays run at most maxInFlight at a time, each bounded by the shadow timeout.
      timeout: Duration.seconds(Math.min(900, Math.ceil(timeoutMs / 1000) * 3 + 30)),
      reservedConcurrentExecutions: this.dispatcherConcurrency,
      // X-Ray traces the dispatcher's invocations (Lambda samples the first request a second and 5 % of the rest).
      tracing: lambda.Tracing.ACTIVE,
      description: `cdk-rollout-guardrails: mirrors sampled ${this.routeKey} requests to the shadow and scores ΔS`,
      environment: {
        [DISPATCHER_ENV.shadowFunction]: shadowTarget.functionArn,
        [DISPATCHER_ENV.resultsTable]: this.resultsTable.tableName,
        [DISPATCHER_ENV.shadowName]: this.node.path,
        [DISPATCHER_ENV.maxMirrorRps]: String(maxMirrorRps),
        [DISPATCHER_ENV.reservedConcurrency]: String(this.dispatcherConcurrency),
        // JSON log format can escape a line to about twice its size; anything larger was not written by the tap.
        [DISPATCHER_ENV.maxEventBytes]: String(maxRecordBytes * 2 + 1024),
        [DISPATCHER_ENV.redactPaths]: JSON.stringify(redactPaths),
        [DISPATCHER_ENV.answerPath]: p.answerPath ?? '',
        [DISPATCHER_ENV.shadowTimeoutMs]: String(timeoutMs),
        [DISPATCHER_ENV.resultsTtlSeconds]: String(resultsTtl.toSeconds()),
      },
    });
    // CloudWatch Logs invokes the dispatcher asynchronously. Throttled deliveries wait in Lambda's queue; a
    // short event age and no retries keep that wait bounded (Lambda counts the discards in AsyncEventsDropped).
    this.dispatcher.configureAsyncInvoke({ maxEventAge: Duration.minutes(5), retryAttempts: 0 });
    acknowledgeManagedPolicy(this.dispatcher, 'service-role/AWSLambdaBasicExecutionRole',
      'It only lets the dispatcher write its own CloudWatch Logs (and its EMF metrics); its other permissions are invoking the one shadow ARN and dynamodb:PutItem on the results table.');
    Validations.of(this.dispatcher).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; the dispatcher\'s other grants are scoped.',
    });
    acknowledgeGuard(this.dispatcher, 'lambda_inside_vpc_check', NO_VPC_REASON);
    acknowledgeGuard(this.dispatcher, 'cloudwatch_log_group_encrypted_check', logsEncryptedReason('The dispatcher\'s log group'));
    iam.Grant.addToPrincipal({ grantee: this.dispatcher, actions: ['lambda:InvokeFunction'], resourceArns: [shadowTarget.functionArn] });
    iam.Grant.addToPrincipal({ grantee: this.dispatcher, actions: ['dynamodb:PutItem'], resourceArns: [this.resultsTable.tableArn] });
    if (this.resultsTable.encryptionKey) this.resultsTable.encryptionKey.grantEncryptDecrypt(this.dispatcher);

    // 6. The subscription: the tap's lines in the live function's log group go to the dispatcher.
    this.liveLogGroup = liveLogGroup(this, this.liveFunction);
    this.subscription = new logs.SubscriptionFilter(this, 'TapSubscription', {
      logGroup: this.liveLogGroup,
      destination: new LambdaDestination(this.dispatcher),
      filterPattern: logs.FilterPattern.literal(`"${SHADOW_LINE_MARKER}"`),
    });

    // 7. Alarms: drift and latency, the two signals that a shadow is (not yet) ready to be a canary.
    this.deltaSAlarm = this.gateAlarm('MaxMeanDeltaS', this.metricDeltaS({ statistic: 'Average' }), this.gates.maxMeanDeltaS,
      `mean ΔS between the live and the shadow answers exceeds ${this.gates.maxMeanDeltaS}`);
    this.latencyAlarm = this.gateAlarm('MaxP95LatencyIncrease', this.metricP95LatencyRatio(), 1 + this.gates.maxP95LatencyIncrease,
      `the shadow's p95 duration exceeds the live p95 by more than ${Math.round(this.gates.maxP95LatencyIncrease * 1000) / 10} %`);
    if (this.gates.maxP95DeltaS !== undefined) {
      this.p95DeltaSAlarm = this.gateAlarm('MaxP95DeltaS', this.metricDeltaS({ statistic: 'p95' }), this.gates.maxP95DeltaS,
        `p95 ΔS between the live and the shadow answers exceeds ${this.gates.maxP95DeltaS}`);
    }
    // The construct cannot run the handler, so it only says nothing when it can read a shadowTap() call in the
    // code Lambda will load (inline code, or the handler's file in an asset directory, unminified). Otherwise it
    // cannot tell, and says so in a note that can be acknowledged once the handler is wrapped.
    const tap = tapEvidence(this.liveFunction);
    if (!tap.seen) {
      Annotations.of(this).addInfoV2(SHADOW_TAP_NOT_SEEN_INFO, `ShadowIntegration: no shadowTap() call seen in the code of '${this.liveFunction.node.path}' (${tap.looked}): `
        + 'wrap its handler with shadowTap() from cdk-rollout-guardrails-runtime, or nothing is mirrored. If it is wrapped, acknowledge this note: '
        + `Annotations.of(scope).acknowledgeInfo('${SHADOW_TAP_NOT_SEEN_INFO}', 'the handler is wrapped with shadowTap').`);
    }
  }

  /** Every alarm: mean ΔS, p95 latency, and p95 ΔS when that gate is set. */
  public get alarms(): cloudwatch.Alarm[] {
    return [this.deltaSAlarm, this.latencyAlarm, ...(this.p95DeltaSAlarm ? [this.p95DeltaSAlarm] : [])];
  }

  /** ΔS between the live and the shadow answer, one datapoint per scored pair. @default average over 5 minutes */
  public metricDeltaS(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ShadowDeltaS', { statistic: 'Average', ...props });
  }

  /** Shadow duration minus live duration per pair, in ms. @default average over 5 minutes */
  public metricLatencyDelta(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ShadowLatencyDelta', { statistic: 'Average', ...props });
  }

  /** The shadow's duration per replay, in ms. @default p95 over 5 minutes */
  public metricShadowLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ShadowLatency', { statistic: 'p95', ...props });
  }

  /** The live handler's duration for the replayed samples, in ms. @default p95 over 5 minutes */
  public metricLiveLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('LiveLatency', { statistic: 'p95', ...props });
  }

  /** Replays that failed: function errors, 5xx answers, timeouts and invoke failures. @default sum over 5 minutes */
  public metricShadowErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ShadowErrors', { statistic: 'Sum', ...props });
  }

  /** Samples dropped (over the budget, oversize, unredactable, malformed). @default sum over 5 minutes */
  public metricMirrorDropped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MirrorDropped', { statistic: 'Sum', ...props });
  }

  /** Samples replayed to the shadow. @default sum over 5 minutes */
  public metricMirrorReplayed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('MirrorReplayed', { statistic: 'Sum', ...props });
  }

  /**
   * Observed sample rate: requests the tap sampled over eligible requests it saw, to compare with
   * `sampleRate` (the seed allows ±2 %).
   */
  public metricObservedSampleRate(props?: { period?: Duration }): cloudwatch.MathExpression {
    const period = props?.period ?? SHADOW_ALARM_PERIOD;
    return new cloudwatch.MathExpression({
      expression: 'IF(seen > 0, sampled / seen, 0)',
      usingMetrics: { sampled: this.metric('MirrorSampled', { statistic: 'Sum', period }), seen: this.metric('MirrorSeen', { statistic: 'Sum', period }) },
      label: 'ObservedSampleRate',
      period,
    });
  }

  /** Shadow p95 over live p95 of the replayed samples (1.03 = the shadow is 3 % slower). */
  public metricP95LatencyRatio(props?: { period?: Duration }): cloudwatch.MathExpression {
    const period = props?.period ?? SHADOW_ALARM_PERIOD;
    return new cloudwatch.MathExpression({
      expression: 'IF(live > 0, shadow / live, 0)',
      usingMetrics: { shadow: this.metricShadowLatency({ period }), live: this.metricLiveLatency({ period }) },
      label: 'ShadowP95LatencyRatio',
      period,
    });
  }

  private metric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: SHADOW_METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { [SHADOW_METRICS_DIMENSION]: this.node.path },
      period: SHADOW_ALARM_PERIOD,
      ...props,
    });
  }

  private gateAlarm(gate: string, metric: cloudwatch.IMetric, threshold: number, what: string): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(this, gate, {
      metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      // No replays is not drift: the alarm stays OK while the mirror is idle.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Shadow gate ${gate}: ${what}. While in ALARM the shadow is not ready to become a canary.`,
    });
    acknowledgeGuard(alarm, 'cloudwatch_alarm_action_check', 'A shadow gate: it tells whether the shadow is ready to become a canary, read where it is shown '
      + '(ReleaseDashboard) before a release; nothing is rolled back by it. Give it an action with addAlarmAction() to be told.');
    return alarm;
  }
}

function isRestApi(api: unknown): api is apigw.IRestApi {
  return typeof (api as apigw.IRestApi)?.root?.resourceForPath === 'function' && typeof (api as apigw.IRestApi).restApiId === 'string';
}

function isHttpApi(api: unknown): api is apigwv2.IHttpApi {
  return api instanceof apigwv2.HttpApi || ((api as { isHttpApi?: unknown })?.isHttpApi === true && typeof (api as apigwv2.IHttpApi).apiId === 'string');
}

function underlyingFunction(target: unknown): lambda.Function | undefined {
  if (target instanceof lambda.Function) return target;
  if (target instanceof lambda.Alias) return target.version.lambda instanceof lambda.Function ? target.version.lambda : undefined;
  if (target instanceof lambda.Version) return target.lambda instanceof lambda.Function ? target.lambda : undefined;
  return undefined;
}

/** cfn-guard CT.LAMBDA.PR.2 on the permission API Gateway gets to invoke the live alias: a false positive. */
const API_PERMISSION_REASON = 'False positive: the permission has a SourceArn, this route\'s execute-api ARN (API id, stage, method, path), '
  + 'which CDK writes as Fn::Join; the rule accepts only a literal string or a Ref/GetAtt there.';

function tryPath(problems: PropProblems, prop: string, jsonPath: unknown): void {
  try {
    parseJsonPath(jsonPath as string);
  } catch (error) {
    problems.addMessage(`${prop}: ${(error as Error).message.replace(/^redactPaths: /, '')}`);
  }
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

/** Largest code file read to look for the tap: a bundle beyond it is not read (the note stays). */
const MAX_SCANNED_CODE_BYTES = 20 * 1024 * 1024;

/**
 * Whether the live function's code visibly calls `shadowTap(...)`: its inline code, or the handler's module
 * (`index.handler` → index.js, .mjs or .cjs) in its asset directory as staged for deployment. Comments are
 * left out, and so is the tap's own definition (`function shadowTap(`), which a bundle carries whether the
 * handler is wrapped or not. A minified bundle renames the call, so it is not seen there.
 */
function tapEvidence(fn: lambda.Function): { seen: boolean; looked: string } {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const stack = Stack.of(fn);
  const code = stack.resolve(cfn.code) as { zipFile?: unknown; s3Key?: unknown } | undefined;
  if (typeof code?.zipFile === 'string') return { seen: callsShadowTap(code.zipFile), looked: 'its inline code was read' };
  const handler = stack.resolve(cfn.handler);
  const asset = fn.node.tryFindChild('Code') instanceof s3assets.Asset ? fn.node.tryFindChild('Code') as s3assets.Asset
    : stack.node.findAll().find((c): c is s3assets.Asset => c instanceof s3assets.Asset && typeof code?.s3Key === 'string' && stack.resolve(c.s3ObjectKey) === code.s3Key);
  const staging = asset?.node.tryFindChild('Stage');
  const dir = staging instanceof AssetStaging ? staging.absoluteStagedPath : undefined;
  if (!dir || typeof handler !== 'string' || !handler.includes('.')) return { seen: false, looked: 'its code cannot be read at synth' };
  const module = handler.slice(0, handler.lastIndexOf('.'));
  for (const ext of ['.js', '.mjs', '.cjs']) {
    const file = path.join(dir, module + ext);
    try {
      if (!fs.statSync(file).isFile()) continue;
      if (fs.statSync(file).size > MAX_SCANNED_CODE_BYTES) return { seen: false, looked: `${module + ext} of its asset is too large to read` };
      const seen = callsShadowTap(fs.readFileSync(file, 'utf8'));
      return { seen, looked: `${module + ext} of its asset was read${seen ? '' : '; a minified bundle hides the call'}` };
    } catch {
      continue;
    }
  }
  return { seen: false, looked: `no ${module}.js, .mjs or .cjs in its asset directory` };
}

/** Whether JavaScript text calls `shadowTap(` (directly or as `(0, x.shadowTap)(`), comments aside. */
function callsShadowTap(source: string): boolean {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:\\'"`])\/\/.*$/gm, '$1');
  for (const match of code.matchAll(/(function\s*\*?\s*)?\bshadowTap\b\s*\)?\s*\(/g)) {
    if (!match[1]) return true;
  }
  return false;
}

function describe(value: unknown): unknown {
  // aws-cdk-lib's decorated classes carry a numeric suffix (Function2); the reader wrote `Function`.
  if (value instanceof Construct) return new Described(`${value.constructor.name.replace(/\d+$/, '')} '${value.node.path}'`);
  if (value === undefined) return undefined;
  if (typeof value === 'object' && value !== null) return new Described(value.constructor?.name ?? 'an object');
  return value;
}

