// The live route ShadowIntegration adds to the caller's API: a REST method or an HTTP API route, integrated
// with the live alias and authorised as its methodOptions say.
import { Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeGuard } from '../private/guard';
import { ShadowMethodOptions } from './props';

/** cfn-guard CT.LAMBDA.PR.2 on the permission API Gateway gets to invoke the live alias: a false positive. */
const API_PERMISSION_REASON = 'False positive: the permission has a SourceArn, this route\'s execute-api ARN (API id, stage, method, path), '
  + 'which CDK writes as Fn::Join; the rule accepts only a literal string or a Ref/GetAtt there.';

/** Why an HTTP API route given no authorizer of its own is acknowledged for the authorization findings. */
const HTTP_ROUTE_AUTH_REASON = 'The route is the live route, added to the caller\'s HTTP API: it takes '
  + 'the API\'s defaultAuthorizer (and scopes) like the API\'s other routes, and without one it is as open as they are. '
  + 'Give the HttpApi a defaultAuthorizer, or the ShadowIntegration a methodOptions.authorizer.';

/** What the route is: where it is added and how it is reached and authorised. */
export interface LiveRouteOptions {
  readonly api: apigw.IRestApi | apigwv2.IHttpApi;
  readonly apiKind: 'rest' | 'http';
  readonly method: string;
  readonly path: string;
  readonly liveAlias: lambda.Alias;
  readonly methodOptions?: ShadowMethodOptions;
}

/** The route created: a REST method or an HTTP API route. */
export interface LiveRoute {
  readonly restMethod?: apigw.Method;
  readonly httpRoute?: apigwv2.HttpRoute;
}

/** Adds the live route (its options checked beforehand), the HTTP API's in `scope`. */
export function addLiveRoute(scope: Construct, options: LiveRouteOptions): LiveRoute {
  const auth = options.methodOptions ?? {};
  if (options.apiKind === 'rest') {
    const resource = (options.api as apigw.IRestApi).root.resourceForPath(options.path);
    const given = givenOptions(auth, ['authorizer', 'authorizationType', 'apiKeyRequired', 'authorizationScopes']);
    const restMethod = resource.addMethod(options.method, new apigw.LambdaIntegration(options.liveAlias),
      Object.keys(given).length > 0 ? given as apigw.MethodOptions : undefined);
    acknowledgeGuard(restMethod, 'lambda_function_public_access_prohibited_check', API_PERMISSION_REASON);
    return { restMethod };
  }
  const httpRoute = new apigwv2.HttpRoute(scope, 'Route', {
    httpApi: options.api as apigwv2.IHttpApi,
    routeKey: apigwv2.HttpRouteKey.with(options.path, options.method as apigwv2.HttpMethod),
    integration: new HttpLambdaIntegration('LiveIntegration', options.liveAlias, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 }),
    ...givenOptions(auth, ['authorizer', 'authorizationScopes']) as Pick<apigwv2.HttpRouteProps, 'authorizer' | 'authorizationScopes'>,
  });
  acknowledgeGuard(httpRoute, 'lambda_function_public_access_prohibited_check', API_PERMISSION_REASON);
  if (auth.authorizer === undefined) {
    acknowledgeGuard(httpRoute, 'api_gw_v2_authorization_type_configured_check', HTTP_ROUTE_AUTH_REASON);
    Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason: HTTP_ROUTE_AUTH_REASON });
  }
  return { httpRoute };
}

/**
 * The options of `keys` that were given. Only those are passed on: aws-cdk-lib records which props a construct
 * was given in the stack's CDK metadata, so an option passed as undefined would change the template.
 */
function givenOptions(options: ShadowMethodOptions, keys: readonly (keyof ShadowMethodOptions)[]): Partial<ShadowMethodOptions> {
  return Object.fromEntries(keys.filter((key) => options[key] !== undefined).map((key) => [key, options[key]]));
}

export function isRestApi(api: unknown): api is apigw.IRestApi {
  return typeof (api as apigw.IRestApi)?.root?.resourceForPath === 'function' && typeof (api as apigw.IRestApi).restApiId === 'string';
}

export function isHttpApi(api: unknown): api is apigwv2.IHttpApi {
  return api instanceof apigwv2.HttpApi || ((api as { isHttpApi?: unknown })?.isHttpApi === true && typeof (api as apigwv2.IHttpApi).apiId === 'string');
}
