// The shadow route's construct suites (answer schema, method options, the demo's route), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Lazy, App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as os from 'os';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GuardedAlias } from '../lib/guarded-alias';
import { ShadowIntegration, ShadowIntegrationProps } from '../lib/shadow-integration';
import { ANSWER_SCHEMA_ENV, MAX_ANSWER_SCHEMA_BYTES, answerSchemaProblems, compileAnswerSchema } from '../lambdas/mirror-dispatcher/schema';
import { testFunction, testStack, testApp, TEST_APP_PROPS } from './util';
import { ShadowMethodOptions } from '../lib';
import { DEMO_SHADOW_PATH, addShadowRoute } from '../bin/demo-shadow';
import { DemoStack } from '../bin/demo-stack';

describe('shadow-promotion-schema', () => {
  // ShadowIntegration's answer schema at synth (checked with the dispatcher's own code, prebundled with ajv in
  // assets/answer-schema-check) and what the construct exposes and grants for the per-release summaries.
  const SCHEMA = {
    type: 'object',
    required: ['answer', 'sources'],
    properties: { answer: { type: 'string', minLength: 1 }, sources: { type: 'array', items: { type: 'string' } } },
    additionalProperties: false,
  };

  function integration(overrides: Partial<ShadowIntegrationProps> = {}) {
    const stack = testStack();
    const live = testFunction(stack, 'Live');
    const guarded = new GuardedAlias(stack, 'Guarded', { function: live });
    const shadow = testFunction(stack, 'Shadow');
    const api = new apigw.RestApi(stack, 'Api');
    const make = () => new ShadowIntegration(stack, 'Mirror', { api, method: 'GET', path: '/answer', live: guarded, shadow, sampleRate: 0.1, maxMirrorRps: 5, ...overrides });
    return { stack, make };
  }

  function dispatcherEnvironment(stack: ReturnType<typeof testStack>): Record<string, unknown> {
    const fns = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
    return fns.find((f) => f.Properties.Environment?.Variables?.RESULTS_TABLE)!.Properties.Environment.Variables;
  }

  describe('answerSchema', () => {
    test('travels to the dispatcher as its JSON, and the construct exposes the results TTL in force', () => {
      const { stack, make } = integration({ answerSchema: SCHEMA, resultsTtl: Duration.days(3) });
      const shadow = make();
      expect(JSON.parse(dispatcherEnvironment(stack)[ANSWER_SCHEMA_ENV] as string)).toEqual(SCHEMA);
      expect(shadow.resultsTtl.toDays()).toBe(3);
      expect(stack.resolve(shadow.metricSchemaViolations().toMetricConfig().metricStat)).toMatchObject({
        namespace: 'CdkRolloutGuardrails/Shadow', metricName: 'SchemaViolations', statistic: 'Sum', dimensions: [{ name: 'Shadow', value: 'TestStack/Mirror' }],
      });
      expect(shadow.metricUnreleasedReplays().metricName).toBe('UnreleasedReplays');
    });

    test('without it the dispatcher has no schema variable, and the TTL is the 7-day default', () => {
      const { stack, make } = integration();
      const shadow = make();
      expect(dispatcherEnvironment(stack)[ANSWER_SCHEMA_ENV]).toBeUndefined();
      expect(shadow.resultsTtl.toDays()).toBe(7);
      expect((shadow.resultsTable as dynamodb.Table).tableName).toBeDefined();
    });

    test('a schema ajv cannot compile is refused at synth, named, with the construct\'s other prop problems', () => {
      const { make } = integration({ answerSchema: { type: 'objec' }, sampleRate: 2 });
      expect(make).toThrow(/sampleRate[\s\S]*answerSchema: is not a JSON Schema ajv 8 compiles \(draft-07, no formats\): schema is invalid: data\/type must be equal to one of the allowed values/);
    });

    test('unknown keywords and formats are refused rather than silently not checked', () => {
      expect(integration({ answerSchema: { type: 'object', requird: ['answer'] } }).make).toThrow('answerSchema: is not a JSON Schema ajv 8 compiles (draft-07, no formats): strict mode: unknown keyword: "requird"');
      expect(integration({ answerSchema: { type: 'string', format: 'email' } }).make).toThrow(/answerSchema: .*unknown format "email"/);
    });

    test(`a schema over ${MAX_ANSWER_SCHEMA_BYTES} bytes of JSON is refused, naming the cap and Lambda's 4 KB environment`, () => {
      const big = { type: 'object', description: 'é'.repeat(1100) };
      const bytes = Buffer.byteLength(JSON.stringify(big));
      expect(bytes).toBeGreaterThan(MAX_ANSWER_SCHEMA_BYTES);
      expect(JSON.stringify(big).length).toBeLessThan(MAX_ANSWER_SCHEMA_BYTES); // the cap counts UTF-8 bytes, not characters
      expect(integration({ answerSchema: big }).make).toThrow(`answerSchema: its JSON is ${bytes} bytes, over the 2048-byte cap`);
      expect(integration({ answerSchema: big }).make).toThrow(/4 KB of environment variables/);
    });

    test('tokens, arrays and values JSON would lose are refused', () => {
      expect(integration({ answerSchema: { type: 'object', title: Lazy.string({ produce: () => 'late' }) } }).make).toThrow(/answerSchema: must be a JSON Schema of plain values, known at synth/);
      expect(integration({ answerSchema: [SCHEMA] as any }).make).toThrow('answerSchema: must be a JSON Schema object (draft-07), got an array');
      expect(integration({ answerSchema: { type: 'number', maximum: NaN } }).make).toThrow(/answerSchema: must be plain JSON/);
      expect(integration({ answerSchema: { type: 'string', description: undefined } }).make).toThrow(/answerSchema: must be plain JSON/);
    });

    test('what synth accepts is what the dispatcher checks with: the bundled checker is the dispatcher\'s module', () => {
      const bundled = require(path.join(__dirname, '..', 'assets', 'answer-schema-check', 'index.js'));
      expect(bundled.ANSWER_SCHEMA_ENV).toBe(ANSWER_SCHEMA_ENV);
      expect(bundled.MAX_ANSWER_SCHEMA_BYTES).toBe(MAX_ANSWER_SCHEMA_BYTES);
      for (const schema of [SCHEMA, { type: 'objec' }, { requird: [] }]) expect(bundled.answerSchemaProblems(schema)).toEqual(answerSchemaProblems(schema));
      // The constructs package does not depend on ajv: only the bundles carry it.
      const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
      expect(Object.keys(manifest.dependencies)).toEqual(['cdk-rollout-guardrails-runtime']);
      expect(manifest.devDependencies.ajv).toBe(require('ajv/package.json').version);
    });
  });

  describe('the dispatcher\'s schema check', () => {
    const check = compileAnswerSchema(SCHEMA);

    test('a conforming body passes; an invalid one, a body that is not JSON and no body break it, each saying why', () => {
      expect(check(JSON.stringify({ answer: 'yes', sources: ['guide'] }))).toBeUndefined();
      expect(check(JSON.stringify({ answer: 'yes' }))).toBe("(root) must have required property 'sources'");
      expect(check(JSON.stringify({ answer: '', sources: [] }))).toBe('/answer must NOT have fewer than 1 characters');
      expect(check(JSON.stringify({ answer: 'yes', sources: [], extra: 1 }))).toBe('(root) must NOT have additional properties');
      expect(check('<html>oops</html>')).toMatch(/^the body is not JSON \(/);
      expect(check(null)).toBe('the body is empty, not JSON');
      expect(check('')).toBe('the body is empty, not JSON');
    });
  });
});

describe('shadow-method-options', () => {
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
      const app = new App({ ...TEST_APP_PROPS, outdir });
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
});

describe('shadow-demo', () => {
  function nagReport(assemblyDir: string): any {
    const report = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'validation-report.json'), 'utf8'));
    return report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
  }

  /** The example app, whose DemoStack adds its shadow route with `addShadowRoute(this, props.shadow)`. */
  function demo(options?: Parameters<typeof addShadowRoute>[1]) {
    const app = testApp();
    const stack = new DemoStack(app, 'ShadowDemo', { env: { account: '123456789012', region: 'eu-west-1' }, shadow: options });
    return { app, stack, ...stack.shadow };
  }

  describe('the example app\'s shadow route', () => {
    const { stack, shadowFunction, integration } = demo();
    const template = Template.fromStack(stack);
    const id = (c: any) => stack.getLogicalId(c.node.defaultChild);

    test('serves GET /answer/mirrored from the GuardedAlias', () => {
      const resources = Object.values(template.findResources('AWS::ApiGateway::Resource')) as any[];
      expect(resources.map((r) => r.Properties.PathPart)).toEqual(expect.arrayContaining(['answer', 'mirrored']));
      const method = template.findResources('AWS::ApiGateway::Method', { Properties: { ResourceId: { Ref: id(stack.api.root.resourceForPath(DEMO_SHADOW_PATH)) } } });
      const [only] = Object.values(method) as any[];
      expect(only.Properties.HttpMethod).toBe('GET');
      expect(JSON.stringify(only.Properties.Integration.Uri)).toContain(id(stack.guarded.alias));
    });

    test('mirrors to a shadow build of the demo function that is denied writes and runs in shadow mode', () => {
      const fn = template.toJSON().Resources[id(shadowFunction)];
      expect(fn.Properties.Environment.Variables).toEqual({ RELEASE_ID: 'shadow', GUARDRAILS_SHADOW_MODE: 'true' });
      const roleId = id(shadowFunction.role!);
      const statements = (Object.values(template.findResources('AWS::IAM::Policy')) as any[])
        .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
        .flatMap((p) => p.Properties.PolicyDocument.Statement);
      const deny = statements.find((s) => s.Effect === 'Deny');
      expect(deny.Resource).toBe('*');
      expect(deny.Action).toEqual(expect.arrayContaining(['dynamodb:PutItem', 's3:PutObject', 's3:DeleteObject', 'sqs:SendMessage', 'sns:Publish', 'events:PutEvents', 'lambda:InvokeFunction']));
      expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([]);
    });

    test('configures the demo function\'s tap for the mirrored route only, and compares the answer field', () => {
      const live = template.toJSON().Resources[id(stack.answerFunction)];
      expect(live.Properties.Environment.Variables).toMatchObject({ GUARDRAILS_SHADOW_ROUTES: '["GET /answer/mirrored"]', GUARDRAILS_SHADOW_SAMPLE_RATE: '0.1' });
      const dispatcher = template.toJSON().Resources[id(integration.dispatcher)];
      expect(dispatcher.Properties.Environment.Variables).toMatchObject({ ANSWER_PATH: '$.answer', MAX_MIRROR_RPS: '5' });
      expect(dispatcher.Properties.ReservedConcurrentExecutions).toBe(1);
    });

    test('adds the mirroring resources: dispatcher, subscription, results table and three alarms', () => {
      template.resourceCountIs('AWS::Logs::SubscriptionFilter', 1);
      // One results table; the staged machinery's operator table (one per stack with a staged alias) aside.
      expect(Object.keys(template.findResources('AWS::DynamoDB::Table')).filter((id) => !id.startsWith('StagedRolloutOperatorTable'))).toHaveLength(1);
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ShadowDeltaS', Statistic: 'Average', Threshold: 0.45 });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ShadowDeltaS', ExtendedStatistic: 'p95', Threshold: 0.6 });
      template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Threshold: 1.03 }, 1);
      expect(integration.alarms).toHaveLength(3);
    });

    test('mirrors to the drifted build when asked', () => {
      const drifted = demo({ drift: true });
      const fn = Template.fromStack(drifted.stack).toJSON().Resources[drifted.stack.getLogicalId(drifted.shadowFunction.node.defaultChild as any)];
      expect(fn.Properties.Environment.Variables.DEMO_DRIFT).toBe('1');
    });
  });

  // Only cdk-nag's report is read: aws-cdk-lib's CloudFormation validator stays off (test/setup-env.ts; loading it
  // costs about 10 s per test file). The example app, shadow route included, passes it in test/example-app.suite.ts › 'demo-app'.
  describe('the example app with its shadow route under cdk-nag', () => {
    test('adds no unacknowledged AwsSolutions finding, and each acknowledgement it adds has its reason', () => {
      const { app } = demo();
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const nag = nagReport(app.synth().directory);
      expect(nag.violations).toEqual([]);
      expect(nag.conclusion).toBe('success');
      const shadowAcks = nag.suppressedViolations
        .filter((v: any) => /ShadowAnswer|AnswerShadowFunction/.test(v.acknowledgedAt))
        .map((v: any) => `${v.ruleName.replace(/\[Policy::.*\/(.*)\]$/, '[$1]')} at ${v.acknowledgedAt}`).sort();
      expect(shadowAcks).toEqual([
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at ShadowDemo/AnswerShadowFunction',
        'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at ShadowDemo/ShadowAnswer/Dispatcher',
        // The dispatcher is traced (X-Ray active tracing): its trace writes take no resource.
        'AwsSolutions-IAM5[Resource::*] at ShadowDemo/ShadowAnswer/Dispatcher',
        // It reads the RELEASE_ID of the shadow version that answered each replay.
        'AwsSolutions-IAM5[Resource::<AnswerShadowFunctionA0778B15.Arn>:*] at ShadowDemo/ShadowAnswer/Dispatcher',
      ]);
      const xray = nag.suppressedViolations.find((v: any) => v.acknowledgedAt === 'ShadowDemo/ShadowAnswer/Dispatcher' && v.ruleName === 'AwsSolutions-IAM5[Resource::*]');
      expect(xray.reason).toMatch(/xray:PutTraceSegments|X-Ray/);
      for (const v of nag.suppressedViolations) expect(v.reason.length).toBeGreaterThan(20);
    });
  });
});
