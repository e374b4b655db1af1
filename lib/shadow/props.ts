// The public shapes of ShadowIntegration: its props, gates and method options, and their limits.
import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IGuardedAlias } from '../guarded-alias';

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

/** The shadow's thresholds in force, defaults filled in. */
export interface ShadowGateSettings {
  /** Largest mean ΔS between the live and the shadow answers over a period. */
  readonly maxMeanDeltaS: number;
  /** Largest increase of the shadow's p95 duration over the live one, as a fraction. */
  readonly maxP95LatencyIncrease: number;
  /**
   * Largest p95 of ΔS over a period.
   * @default - no p95 alarm
   */
  readonly maxP95DeltaS?: number;
}

/** Options of ShadowIntegration's ratio metrics (math expressions over two of its metrics). */
export interface ShadowRatioMetricOptions {
  /**
   * The period of both metrics and of the expression.
   * @default Duration.minutes(5)
   */
  readonly period?: Duration;
}

/** The defaults of {@link ShadowGates}; `maxP95DeltaS` has none (no alarm unless set). */
export const DEFAULT_SHADOW_GATES: ShadowGateSettings = { maxMeanDeltaS: 0.45, maxP95LatencyIncrease: 0.03 };

/** Period of the shadow metrics' alarms: shadow traffic is a sample, so a minute holds too few answers. */
export const SHADOW_ALARM_PERIOD = Duration.minutes(5);

/** Highest `maxMirrorRps`: beyond it the dispatcher's reserved concurrency would eat into the account's pool. */
export const MAX_MIRROR_RPS_LIMIT = 1000;

/**
 * How the route ShadowIntegration creates is authorised: the options aws-cdk-lib takes for a REST method
 * (`Resource.addMethod`) or an HTTP route (`HttpRoute`) that decide who may call it, which cdk-nag's
 * AwsSolutions-APIG4 (authorization) and AwsSolutions-COG4 (Cognito user pool authorizer) check. What is left
 * out comes from the API, as for its other routes: a REST API's `defaultMethodOptions`, an HTTP API's
 * `defaultAuthorizer` and `defaultAuthorizationScopes`.
 */
export interface ShadowMethodOptions {
  /**
   * Who may call the route. For a REST API an `apigateway.IAuthorizer` (a `CognitoUserPoolsAuthorizer` satisfies
   * AwsSolutions-APIG4 and AwsSolutions-COG4); for an HTTP API an `apigatewayv2.IHttpRouteAuthorizer` (such as an
   * `HttpUserPoolAuthorizer`, `HttpJwtAuthorizer`, `HttpLambdaAuthorizer` or `HttpIamAuthorizer`).
   * @default - the API's default: a REST API's `defaultMethodOptions.authorizer`, an HTTP API's `defaultAuthorizer`; else none
   */
  readonly authorizer?: apigw.IAuthorizer | apigwv2.IHttpRouteAuthorizer;
  /**
   * REST API only: the method's authorization type. With an `authorizer` it may be left out (the authorizer's
   * type is used) or must be the authorizer's type; `CUSTOM` and `COGNITO_USER_POOLS` need an authorizer.
   * @default - the authorizer's type, else the API's `defaultMethodOptions.authorizationType`, else `NONE`
   */
  readonly authorizationType?: apigw.AuthorizationType;
  /**
   * REST API only: whether a caller must send an API key (`x-api-key`) of one of the API's usage plans.
   * @default - the API's `defaultMethodOptions.apiKeyRequired`, else false
   */
  readonly apiKeyRequired?: boolean;
  /**
   * OAuth scopes, one of which a caller's token must carry. For a REST API only with a Cognito user pool
   * authorizer (`COGNITO_USER_POOLS`); for an HTTP API only with an authorizer (given here or the API's
   * default), in place of the API's `defaultAuthorizationScopes`.
   * @default - the API's default: a REST API's `defaultMethodOptions.authorizationScopes`, an HTTP API's `defaultAuthorizationScopes`; else none
   */
  readonly authorizationScopes?: string[];
}

/** Properties of `ShadowIntegration`. */
export interface ShadowIntegrationProps {
  /** The API: a REST API (aws-apigateway) or an HTTP API (aws-apigatewayv2). */
  readonly api: apigw.IRestApi | apigwv2.IHttpApi;
  /** The route's method: one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS or ANY. */
  readonly method: string;
  /** The route's path (`/answer`, `/items/{id}`). */
  readonly path: string;
  /**
   * Who may call the route: its authorizer, authorization type, API key requirement and scopes.
   * @default - the API's defaults, as for its other routes (a REST API's `defaultMethodOptions`, an HTTP API's `defaultAuthorizer`); without them the route is open
   */
  readonly methodOptions?: ShadowMethodOptions;
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
   * A JSON Schema (draft-07, as ajv 8 validates it; no `format`) every scored shadow answer must meet: the
   * dispatcher parses each scored shadow response body as JSON (a body that is not JSON breaks it) and checks it,
   * counting violations in the `SchemaViolations` metric, the result's `schema_violation` and the release's
   * summary (`schema_violations`), which a GuardedAlias with `requireShadow` holds to none. Checked at synth: it
   * must compile, and its JSON must fit in 2,048 bytes (it travels in the dispatcher's environment, and Lambda
   * allows 4 KB of environment variables in all).
   * @default - no schema: answers are not checked and no violation is counted
   */
  readonly answerSchema?: { [key: string]: any };
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
