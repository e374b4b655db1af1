// The live route ShadowIntegration adds to the caller's API: a REST method or an HTTP API route, integrated
// with the live alias.
import { Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeGuard } from '../private/guard';

/** cfn-guard CT.LAMBDA.PR.2 on the permission API Gateway gets to invoke the live alias: a false positive. */
const API_PERMISSION_REASON = 'False positive: the permission has a SourceArn, this route\'s execute-api ARN (API id, stage, method, path), '
  + 'which CDK writes as Fn::Join; the rule accepts only a literal string or a Ref/GetAtt there.';

/** Why the HTTP API route is acknowledged for the authorization findings. */
const HTTP_ROUTE_AUTH_REASON = 'The route is the live route, added to the caller\'s HTTP API: it takes '
  + 'the API\'s defaultAuthorizer (and scopes) like the API\'s other routes, and without one it is as open as they are. Give the HttpApi a defaultAuthorizer.';

/** What the route is: where it is added and how it is reached and authorised. */
export interface LiveRouteOptions {
  readonly api: apigw.IRestApi | apigwv2.IHttpApi;
  readonly apiKind: 'rest' | 'http';
  readonly method: string;
  readonly path: string;
  readonly liveAlias: lambda.Alias;
}

/** The route created: a REST method or an HTTP API route. */
export interface LiveRoute {
  readonly restMethod?: apigw.Method;
  readonly httpRoute?: apigwv2.HttpRoute;
}

/** Adds the live route, the HTTP API's in `scope`. */
export function addLiveRoute(scope: Construct, options: LiveRouteOptions): LiveRoute {
  if (options.apiKind === 'rest') {
    const resource = (options.api as apigw.IRestApi).root.resourceForPath(options.path);
    const restMethod = resource.addMethod(options.method, new apigw.LambdaIntegration(options.liveAlias));
    acknowledgeGuard(restMethod, 'lambda_function_public_access_prohibited_check', API_PERMISSION_REASON);
    return { restMethod };
  }
  const httpRoute = new apigwv2.HttpRoute(scope, 'Route', {
    httpApi: options.api as apigwv2.IHttpApi,
    routeKey: apigwv2.HttpRouteKey.with(options.path, options.method as apigwv2.HttpMethod),
    integration: new HttpLambdaIntegration('LiveIntegration', options.liveAlias, { payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0 }),
  });
  acknowledgeGuard(httpRoute, 'lambda_function_public_access_prohibited_check', API_PERMISSION_REASON);
  acknowledgeGuard(httpRoute, 'api_gw_v2_authorization_type_configured_check', HTTP_ROUTE_AUTH_REASON);
  Validations.of(httpRoute).acknowledge({ id: 'AwsSolutions::AwsSolutions-APIG4', reason: HTTP_ROUTE_AUTH_REASON });
  return { httpRoute };
}

export function isRestApi(api: unknown): api is apigw.IRestApi {
  return typeof (api as apigw.IRestApi)?.root?.resourceForPath === 'function' && typeof (api as apigw.IRestApi).restApiId === 'string';
}

export function isHttpApi(api: unknown): api is apigwv2.IHttpApi {
  return api instanceof apigwv2.HttpApi || ((api as { isHttpApi?: unknown })?.isHttpApi === true && typeof (api as apigwv2.IHttpApi).apiId === 'string');
}
