// ShadowIntegration's props checked at synth: every problem at once, each naming its prop and quoting its value.
import { Duration, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  DEFAULT_HEADER_ALLOW_LIST, DEFAULT_MIRRORED_METHODS, DISPATCHER_ENV, HTTP_METHODS, MAX_RECORD_BYTES_LIMIT, MIN_RECORD_BYTES_LIMIT, headerAllowListProblems, parseJsonPath,
} from 'cdk-rollout-guardrails-runtime/contract';
import { IGuardedAlias } from '../guarded-alias';
import { answerSchemaChecker } from '../private/answer-schema';
import { Described, PropProblems } from '../private/validation';
import { DEFAULT_SHADOW_GATES, MAX_MIRROR_RPS_LIMIT, ShadowGateSettings, ShadowIntegrationProps, ShadowMethodOptions } from './props';
import { isHttpApi, isRestApi } from './route';

const SHADOW_GATE_NAMES = ['maxMeanDeltaS', 'maxP95LatencyIncrease', 'maxP95DeltaS'];
const METHOD_OPTION_NAMES: readonly (keyof ShadowMethodOptions)[] = ['authorizer', 'authorizationType', 'apiKeyRequired', 'authorizationScopes'];
const AUTHORIZATION_TYPES: readonly string[] = Object.values(apigw.AuthorizationType);
/** An OAuth scope-token (RFC 6749 §3.3): printable ASCII without spaces, quotes or backslashes. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

const PATH = /^\/(?:(?:[A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\}|\{[A-Za-z0-9_]+\+\})(?:\/(?:[A-Za-z0-9._~-]+|\{[A-Za-z0-9_]+\}|\{[A-Za-z0-9_]+\+\}))*)?$/;

/** Integrations by live function: one tap configuration per function. */
const TAPPED = new WeakMap<lambda.Function, Construct>();

/** The props once checked, with what they resolve to (the functions behind the targets, defaults filled in). */
export interface ShadowSettings {
  readonly props: ShadowIntegrationProps;
  readonly apiKind: 'rest' | 'http';
  /** The route's method, upper case. */
  readonly method: string;
  readonly liveAlias: lambda.Alias;
  readonly liveFunction: lambda.Function;
  readonly shadowFunction: lambda.Function;
  readonly allowMethods: string[];
  readonly headers: string[];
  readonly redactPaths: string[];
  readonly gates: ShadowGateSettings;
  readonly shadowTimeout: Duration;
  readonly resultsTtl: Duration;
  /** `answerSchema` as the dispatcher's environment carries it: [variable, JSON]; undefined without a schema. */
  readonly answerSchema?: [string, string];
}

/**
 * Checks the props of the ShadowIntegration `integration` and throws one GuardrailsValidationError listing
 * every problem; otherwise records it as the one integration of its live function.
 */
export function validateShadowProps(integration: Construct, props: ShadowIntegrationProps): ShadowSettings {
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
  const answerSchema = answerSchemaProblems(problems, p.answerSchema);
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
  methodOptionsProblems(problems, apiKind, p.api, p.methodOptions);
  problems.throwIfAny(`ShadowIntegration '${integration.node.path}'`);

  TAPPED.set(liveFunction!, integration);
  return {
    props: p as ShadowIntegrationProps,
    apiKind: apiKind!,
    method: method as string,
    liveAlias: liveAlias!,
    liveFunction: liveFunction!,
    shadowFunction: shadowFunction!,
    allowMethods: allowMethods.map((m) => m.toUpperCase()),
    headers,
    redactPaths,
    gates: { ...DEFAULT_SHADOW_GATES, ...Object.fromEntries(Object.entries(gates).filter(([, v]) => v !== undefined)) },
    shadowTimeout,
    resultsTtl,
    answerSchema,
  };
}

/**
 * Checks `answerSchema` with the dispatcher's own code (prebundled with ajv): plain JSON without tokens (the
 * dispatcher compiles it at cold start, before anything could resolve them), compiling, within the size cap.
 */
function answerSchemaProblems(problems: PropProblems, schema: unknown): [string, string] | undefined {
  if (schema === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(schema);
  } catch {
    // answerSchemaProblems says why
  }
  if (json !== undefined && Token.isUnresolved(json)) {
    problems.addMessage('answerSchema: must be a JSON Schema of plain values, known at synth (it holds a token, which the dispatcher could not compile)');
    return undefined;
  }
  const checker = answerSchemaChecker();
  const found = checker.answerSchemaProblems(schema);
  for (const problem of found) problems.addMessage(`answerSchema: ${problem}`);
  return found.length === 0 ? [DISPATCHER_ENV.answerSchema, json!] : undefined;
}

/** Checks `methodOptions` against the kind of API the route is added to (nothing kind-specific when the API is invalid). */
function methodOptionsProblems(problems: PropProblems, apiKind: 'rest' | 'http' | undefined, api: unknown, options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    problems.add('methodOptions', `an object of ${METHOD_OPTION_NAMES.join(', ')}`, describe(options));
    return;
  }
  const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as ShadowMethodOptions & Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(METHOD_OPTION_NAMES as string[]).includes(key)) problems.add(`methodOptions.${key}`, `one of ${METHOD_OPTION_NAMES.join(', ')} (unknown option)`, key);
  }
  const { authorizer, authorizationType: type, apiKeyRequired, authorizationScopes: scopes } = given;
  if (scopes !== undefined && (!Array.isArray(scopes) || !scopes.every((scope) => typeof scope === 'string' && SCOPE.test(scope)))) {
    problems.add('methodOptions.authorizationScopes', 'an array of OAuth scopes (printable characters without spaces, quotes or backslashes)', scopes);
  }
  const hasScopes = Array.isArray(scopes) && scopes.length > 0;
  if (apiKind === 'http') {
    if (authorizer !== undefined && !isHttpRouteAuthorizer(authorizer)) {
      problems.add('methodOptions.authorizer', 'an aws-apigatewayv2 IHttpRouteAuthorizer for an HTTP API (such as an HttpUserPoolAuthorizer, HttpJwtAuthorizer, '
        + 'HttpLambdaAuthorizer or HttpIamAuthorizer)', describe(authorizer));
    }
    for (const [key, value] of [['authorizationType', type], ['apiKeyRequired', apiKeyRequired]] as const) {
      if (value !== undefined) problems.add(`methodOptions.${key}`, 'left out for an HTTP API (a REST API setting; an HTTP API route is authorised by its authorizer)', value);
    }
    if (hasScopes && authorizer === undefined && (api as apigwv2.IHttpApi).defaultAuthorizer === undefined) {
      problems.add('methodOptions.authorizationScopes', 'given with an authorizer (methodOptions.authorizer or the HTTP API\'s defaultAuthorizer); without one no scope is checked', scopes);
    }
  } else if (apiKind === 'rest') {
    const restAuthorizer = authorizer === undefined || isHttpRouteAuthorizer(authorizer) || typeof (authorizer as apigw.IAuthorizer)?.authorizerId !== 'string'
      ? undefined : authorizer as apigw.IAuthorizer;
    if (authorizer !== undefined && !restAuthorizer) {
      problems.add('methodOptions.authorizer', 'an aws-apigateway IAuthorizer for a REST API (such as a CognitoUserPoolsAuthorizer, TokenAuthorizer or RequestAuthorizer)', describe(authorizer));
    }
    if (type !== undefined && !AUTHORIZATION_TYPES.includes(type)) {
      problems.add('methodOptions.authorizationType', `one of ${AUTHORIZATION_TYPES.join(', ')} (apigateway.AuthorizationType)`, type);
    } else if (type !== undefined && restAuthorizer) {
      const own = restAuthorizer.authorizationType;
      if ((own !== undefined && own !== type) || type === apigw.AuthorizationType.NONE) {
        problems.add('methodOptions.authorizationType', own !== undefined ? `${own}, the type of the authorizer, or left out` : 'left out or a type other than NONE with an authorizer', type);
      }
    } else if (type !== undefined && authorizer === undefined && [apigw.AuthorizationType.CUSTOM, apigw.AuthorizationType.COGNITO].includes(type)
      && (api as apigw.IRestApi).root.defaultMethodOptions?.authorizer === undefined) {
      problems.add('methodOptions.authorizer', `an authorizer for authorizationType ${type} (the REST API has no defaultMethodOptions.authorizer either)`, undefined);
    }
    if (apiKeyRequired !== undefined && typeof apiKeyRequired !== 'boolean') problems.add('methodOptions.apiKeyRequired', 'a boolean', apiKeyRequired);
    const defaults = (api as apigw.IRestApi).root.defaultMethodOptions;
    const effectiveType = (restAuthorizer ?? defaults?.authorizer)?.authorizationType ?? type ?? defaults?.authorizationType;
    if (hasScopes && effectiveType !== apigw.AuthorizationType.COGNITO) {
      problems.add('methodOptions.authorizationScopes', 'given with a Cognito user pool authorizer (authorizationType COGNITO_USER_POOLS), the only one whose scopes API Gateway checks', scopes);
    }
  }
}

/** An HTTP API route authorizer (its `authorizerId` getter may throw before it is bound, so only `bind` is read). */
function isHttpRouteAuthorizer(authorizer: unknown): authorizer is apigwv2.IHttpRouteAuthorizer {
  return typeof (authorizer as apigwv2.IHttpRouteAuthorizer)?.bind === 'function';
}

function underlyingFunction(target: unknown): lambda.Function | undefined {
  if (target instanceof lambda.Function) return target;
  if (target instanceof lambda.Alias) return target.version.lambda instanceof lambda.Function ? target.version.lambda : undefined;
  if (target instanceof lambda.Version) return target.lambda instanceof lambda.Function ? target.lambda : undefined;
  return undefined;
}

function tryPath(problems: PropProblems, prop: string, jsonPath: unknown): void {
  try {
    parseJsonPath(jsonPath as string);
  } catch (error) {
    problems.addMessage(`${prop}: ${(error as Error).message.replace(/^redactPaths: /, '')}`);
  }
}

/** A prop's value as its author would recognise it: a construct by its class and path, an object by its class. */
export function describe(value: unknown): unknown {
  // aws-cdk-lib's decorated classes carry a numeric suffix (Function2); the reader wrote `Function`.
  if (value instanceof Construct) return new Described(`${value.constructor.name.replace(/\d+$/, '')} '${value.node.path}'`);
  if (value === undefined) return undefined;
  if (typeof value === 'object' && value !== null) return new Described(value.constructor?.name ?? 'an object');
  return value;
}
