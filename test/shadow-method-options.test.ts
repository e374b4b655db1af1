import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ShadowIntegration, ShadowIntegrationProps, ShadowMethodOptions } from '../lib';
import { FEATURE_FLAGS, testFunction, testStack } from './util';

/** A live alias and a shadow in `stack`, mirrored on GET /answer of `api` with `methodOptions`. */
function mirror(stack: Stack, api: ShadowIntegrationProps['api'], methodOptions?: ShadowMethodOptions): ShadowIntegration {
  return new ShadowIntegration(stack, 'Mirror', {
    api, method: 'GET', path: '/answer', live: testFunction(stack, 'Live').addAlias('live'), shadow: testFunction(stack, 'Shadow'),
    sampleRate: 0.1, maxMirrorRps: 5, methodOptions,
  });
}

function cognitoAuthorizer(stack: Stack): apigw.CognitoUserPoolsAuthorizer {
  return new apigw.CognitoUserPoolsAuthorizer(stack, 'Authorizer', { cognitoUserPools: [new cognito.UserPool(stack, 'Pool')] });
}

function httpUserPoolAuthorizer(stack: Stack): HttpUserPoolAuthorizer {
  return new HttpUserPoolAuthorizer('UserPoolAuthorizer', new cognito.UserPool(stack, 'Pool'));
}

const id = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as any);

describe('ShadowIntegration methodOptions on a REST API', () => {
  test('gives the method a Cognito authorizer, its scopes and the API key flag', () => {
    const stack = testStack();
    const authorizer = cognitoAuthorizer(stack);
    const integration = mirror(stack, new apigw.RestApi(stack, 'Api'), { authorizer, apiKeyRequired: true, authorizationScopes: ['answers/read'] });
    const method = Template.fromStack(stack).toJSON().Resources[id(stack, integration.restMethod!)];
    expect(method.Properties).toMatchObject({
      HttpMethod: 'GET',
      AuthorizationType: 'COGNITO_USER_POOLS',
      AuthorizerId: { Ref: id(stack, authorizer) },
      ApiKeyRequired: true,
      AuthorizationScopes: ['answers/read'],
    });
  });

  test('takes an authorization type without an authorizer (IAM)', () => {
    const stack = testStack();
    const integration = mirror(stack, new apigw.RestApi(stack, 'Api'), { authorizationType: apigw.AuthorizationType.IAM });
    const method = Template.fromStack(stack).toJSON().Resources[id(stack, integration.restMethod!)];
    expect(method.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(method.Properties.AuthorizerId).toBeUndefined();
  });

  test('without methodOptions the method takes the API\'s defaultMethodOptions, and is open without them', () => {
    const stack = testStack();
    const authorizer = cognitoAuthorizer(stack);
    const integration = mirror(stack, new apigw.RestApi(stack, 'Api', { defaultMethodOptions: { authorizer, apiKeyRequired: true } }));
    const method = Template.fromStack(stack).toJSON().Resources[id(stack, integration.restMethod!)];
    expect(method.Properties).toMatchObject({ AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: { Ref: id(stack, authorizer) }, ApiKeyRequired: true });

    const open = testStack();
    const openIntegration = mirror(open, new apigw.RestApi(open, 'Api'));
    const openMethod = Template.fromStack(open).toJSON().Resources[id(open, openIntegration.restMethod!)];
    expect(openMethod.Properties.AuthorizationType).toBe('NONE');
    expect(openMethod.Properties.ApiKeyRequired).toBeUndefined();
  });
});

describe('ShadowIntegration methodOptions on an HTTP API', () => {
  test('gives the route the authorizer and its scopes', () => {
    const stack = testStack();
    const integration = mirror(stack, new apigwv2.HttpApi(stack, 'Api'), { authorizer: httpUserPoolAuthorizer(stack), authorizationScopes: ['answers/read'] });
    const template = Template.fromStack(stack);
    const route = template.toJSON().Resources[id(stack, integration.httpRoute!)];
    expect(route.Properties).toMatchObject({ RouteKey: 'GET /answer', AuthorizationType: 'JWT', AuthorizationScopes: ['answers/read'] });
    const authorizers = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'JWT' } }));
    expect(authorizers).toHaveLength(1);
    expect(route.Properties.AuthorizerId).toEqual({ Ref: authorizers[0] });
  });

  test('takes an IAM authorizer', () => {
    const stack = testStack();
    const integration = mirror(stack, new apigwv2.HttpApi(stack, 'Api'), { authorizer: new HttpIamAuthorizer() });
    expect(Template.fromStack(stack).toJSON().Resources[id(stack, integration.httpRoute!)].Properties.AuthorizationType).toBe('AWS_IAM');
  });
});

// Only cdk-nag's report is read: aws-cdk-lib's CloudFormation validator stays off (test/setup-env.ts; loading it
// costs about 10 s per test file).
describe('ShadowIntegration methodOptions under cdk-nag', () => {
  /** The AwsSolutions-APIG4 and -COG4 findings, open or acknowledged, on the route's construct. */
  function authFindings(build: (stack: Stack) => ShadowIntegration): { open: string[]; acknowledged: string[] } {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'shadow-method-options-'));
    const app = new App({ context: FEATURE_FLAGS, outdir });
    const integration = build(testStack(app));
    const route = (integration.restMethod ?? integration.httpRoute)!.node.path;
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    try {
      app.synth();
    } catch {
      // The test's API, user pool and functions have findings of their own; only the report is read.
    }
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
    const onRoute = (v: any) => /AwsSolutions-(APIG4|COG4)$/.test(v.ruleName);
    return {
      open: nag.violations.filter(onRoute)
        .flatMap((v: any) => v.violatingConstructs.filter((c: any) => c.constructPath.startsWith(route)).map(() => v.ruleName)).sort(),
      acknowledged: nag.suppressedViolations.filter((v: any) => onRoute(v) && v.acknowledgedAt.startsWith(route)).map((v: any) => v.ruleName).sort(),
    };
  }

  test('a REST method without authorization has APIG4 and COG4 open; with a Cognito authorizer neither', () => {
    expect(authFindings((stack) => mirror(stack, new apigw.RestApi(stack, 'Api'))).open).toEqual(['AwsSolutions-APIG4', 'AwsSolutions-COG4']);
    expect(authFindings((stack) => mirror(stack, new apigw.RestApi(stack, 'Api'), { authorizer: cognitoAuthorizer(stack) })))
      .toEqual({ open: [], acknowledged: [] });
  });

  test('an HTTP route with an authorizer has no APIG4 finding and needs no acknowledgement', () => {
    expect(authFindings((stack) => mirror(stack, new apigwv2.HttpApi(stack, 'Api'))))
      .toEqual({ open: [], acknowledged: ['AwsSolutions-APIG4'] });
    expect(authFindings((stack) => mirror(stack, new apigwv2.HttpApi(stack, 'Api'), { authorizer: httpUserPoolAuthorizer(stack) })))
      .toEqual({ open: [], acknowledged: [] });
  });
});

describe('ShadowIntegration methodOptions validation', () => {
  function problems(api: (stack: Stack) => ShadowIntegrationProps['api'], methodOptions: (stack: Stack) => unknown): string[] {
    const stack = testStack();
    try {
      mirror(stack, api(stack), methodOptions(stack) as ShadowMethodOptions);
    } catch (error) {
      expect((error as Error).name).toBe('GuardrailsValidationError');
      expect((error as Error).message).toMatch(/^ShadowIntegration 'TestStack\/Mirror' has \d+ invalid props?:/);
      return [...(error as { problems: string[] }).problems];
    }
    throw new Error('no error');
  }
  const rest = (stack: Stack) => new apigw.RestApi(stack, 'Api');
  const http = (stack: Stack) => new apigwv2.HttpApi(stack, 'Api');

  test.each([
    ['an HTTP API authorizer on a REST API', rest, (s: Stack) => ({ authorizer: httpUserPoolAuthorizer(s) }),
      'methodOptions.authorizer must be an aws-apigateway IAuthorizer for a REST API (such as a CognitoUserPoolsAuthorizer, TokenAuthorizer or RequestAuthorizer), got: HttpUserPoolAuthorizer'],
    ['a REST authorizer on an HTTP API', http, (s: Stack) => ({ authorizer: cognitoAuthorizer(s) }),
      'methodOptions.authorizer must be an aws-apigatewayv2 IHttpRouteAuthorizer for an HTTP API (such as an HttpUserPoolAuthorizer, HttpJwtAuthorizer, '
      + 'HttpLambdaAuthorizer or HttpIamAuthorizer), got: CognitoUserPoolsAuthorizer \'TestStack/Authorizer\''],
    ['an unknown authorization type', rest, () => ({ authorizationType: 'OAUTH' }),
      'methodOptions.authorizationType must be one of NONE, AWS_IAM, CUSTOM, COGNITO_USER_POOLS (apigateway.AuthorizationType), got: "OAUTH"'],
    ['a type other than the authorizer\'s', rest, (s: Stack) => ({ authorizer: cognitoAuthorizer(s), authorizationType: apigw.AuthorizationType.IAM }),
      'methodOptions.authorizationType must be COGNITO_USER_POOLS, the type of the authorizer, or left out, got: "AWS_IAM"'],
    ['a Cognito type without an authorizer', rest, () => ({ authorizationType: apigw.AuthorizationType.COGNITO }),
      'methodOptions.authorizer must be an authorizer for authorizationType COGNITO_USER_POOLS (the REST API has no defaultMethodOptions.authorizer either), got: undefined'],
    ['an API key flag that is not a boolean', rest, () => ({ apiKeyRequired: 'yes' }), 'methodOptions.apiKeyRequired must be a boolean, got: "yes"'],
    ['scopes without a Cognito authorizer', rest, () => ({ authorizationType: apigw.AuthorizationType.IAM, authorizationScopes: ['answers/read'] }),
      'methodOptions.authorizationScopes must be given with a Cognito user pool authorizer (authorizationType COGNITO_USER_POOLS), the only one whose scopes API Gateway checks, got: ["answers/read"]'],
    ['a scope with a space', rest, (s: Stack) => ({ authorizer: cognitoAuthorizer(s), authorizationScopes: ['answers read'] }),
      'methodOptions.authorizationScopes must be an array of OAuth scopes (printable characters without spaces, quotes or backslashes), got: ["answers read"]'],
    ['an API key flag on an HTTP API', http, () => ({ apiKeyRequired: true }),
      'methodOptions.apiKeyRequired must be left out for an HTTP API (a REST API setting; an HTTP API route is authorised by its authorizer), got: true'],
    ['scopes on an HTTP API without an authorizer', http, () => ({ authorizationScopes: ['answers/read'] }),
      'methodOptions.authorizationScopes must be given with an authorizer (methodOptions.authorizer or the HTTP API\'s defaultAuthorizer); without one no scope is checked, got: ["answers/read"]'],
    ['an option it does not take', rest, () => ({ operationName: 'answer' }),
      'methodOptions.operationName must be one of authorizer, authorizationType, apiKeyRequired, authorizationScopes (unknown option), got: "operationName"'],
    ['options that are not an object', rest, () => 'COGNITO', 'methodOptions must be an object of authorizer, authorizationType, apiKeyRequired, authorizationScopes, got: "COGNITO"'],
  ])('rejects %s, naming the prop and quoting the value', (_what, api, options, message) => {
    expect(problems(api, options)).toEqual([message]);
  });

  test('accepts scopes on an HTTP API whose defaultAuthorizer checks them', () => {
    const stack = testStack();
    const api = new apigwv2.HttpApi(stack, 'Api', { defaultAuthorizer: httpUserPoolAuthorizer(stack) });
    const integration = mirror(stack, api, { authorizationScopes: ['answers/read'] });
    expect(Template.fromStack(stack).toJSON().Resources[id(stack, integration.httpRoute!)].Properties)
      .toMatchObject({ AuthorizationType: 'JWT', AuthorizationScopes: ['answers/read'] });
  });

  test('reports the options\' problems with the other props\' problems', () => {
    const stack = testStack();
    expect(() => new ShadowIntegration(stack, 'Mirror', {
      api: new apigw.RestApi(stack, 'Api'), method: 'GET', path: '/answer', live: testFunction(stack, 'Live').addAlias('live'), shadow: testFunction(stack, 'Shadow'),
      sampleRate: 2, maxMirrorRps: 5, methodOptions: { apiKeyRequired: 1 as unknown as boolean },
    })).toThrow(/has 2 invalid props:\n {2}- sampleRate must be[^\n]*\n {2}- methodOptions.apiKeyRequired must be a boolean, got: 1$/);
  });
});
