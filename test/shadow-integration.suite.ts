import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { GuardedAlias } from '../lib/guarded-alias';
import { SHADOW_DENIED_ACTIONS, ShadowIntegration, ShadowIntegrationProps } from '../lib/shadow-integration';
import { FEATURE_FLAGS, testFunction, testStack, TEST_APP_PROPS } from './util';

interface Fixture {
  stack: Stack;
  live: lambda.Function;
  guarded: GuardedAlias;
  shadow: lambda.Function;
}

function fixture(): Fixture {
  const stack = testStack();
  const live = testFunction(stack, 'Live');
  const guarded = new GuardedAlias(stack, 'Guarded', { function: live });
  const shadow = testFunction(stack, 'Shadow');
  return { stack, live, guarded, shadow };
}

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as any);
}

function policyStatements(template: Template, roleLogicalIdPrefix: string): any[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as any[];
  return policies
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref?.startsWith(roleLogicalIdPrefix)))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('ShadowIntegration on a REST API', () => {
  const f = fixture();
  const api = new apigw.RestApi(f.stack, 'Api');
  const shadowIntegration = new ShadowIntegration(f.stack, 'Mirror', {
    api, method: 'GET', path: '/answer', live: f.guarded, shadow: f.shadow, sampleRate: 0.1, maxMirrorRps: 25,
    redactPaths: ['$.user.email'], answerPath: '$.answer',
  });
  const template = Template.fromStack(f.stack);
  const aliasId = logicalId(f.stack, f.guarded.alias);

  test('integrates the route with the live alias through a Lambda proxy integration, never $LATEST', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', Integration: { Type: 'AWS_PROXY' } });
    const method = Object.values(template.findResources('AWS::ApiGateway::Method'))[0] as any;
    expect(JSON.stringify(method.Properties.Integration.Uri)).toContain(aliasId);
    for (const permission of Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } })) as any[]) {
      expect(permission.Properties.FunctionName).toEqual({ Ref: aliasId });
    }
  });

  test('configures the live function\'s tap through its environment', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Code: { ZipFile: Match.anyValue() },
      Environment: {
        Variables: {
          GUARDRAILS_SHADOW_SAMPLE_RATE: '0.1',
          GUARDRAILS_SHADOW_ROUTES: '["GET /answer"]',
          GUARDRAILS_SHADOW_METHODS: '["GET","HEAD"]',
          GUARDRAILS_SHADOW_HEADERS: '["accept","accept-language","content-type"]',
          GUARDRAILS_SHADOW_REDACT_PATHS: '["$.user.email"]',
          GUARDRAILS_SHADOW_MAX_RECORD_BYTES: '65536',
        },
      },
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LiveServiceRole'), 'Arn'] },
    });
  });

  test('subscribes the dispatcher to the live function\'s log group, selecting only the tap\'s lines', () => {
    const liveLogGroupId = logicalId(f.stack, shadowIntegration.liveLogGroup as any);
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      FilterPattern: '"GUARDRAILS_SHADOW_V1"',
      LogGroupName: { Ref: liveLogGroupId },
      DestinationArn: { 'Fn::GetAtt': [logicalId(f.stack, shadowIntegration.dispatcher), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'logs.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [logicalId(f.stack, shadowIntegration.dispatcher), 'Arn'] },
    });
  });

  test('caps the dispatcher with reserved concurrency (one environment per 10 rps) and bounds Lambda\'s async queue', () => {
    expect(shadowIntegration.dispatcherConcurrency).toBe(3);
    template.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 3,
      Runtime: 'nodejs24.x',
      Environment: { Variables: Match.objectLike({ MAX_MIRROR_RPS: '25', RESERVED_CONCURRENCY: '3', ANSWER_PATH: '$.answer', REDACT_PATHS: '["$.user.email"]', SHADOW_TIMEOUT_MS: '10000', RESULTS_TTL_SECONDS: '604800', SHADOW_NAME: 'TestStack/Mirror' }) },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumEventAgeInSeconds: 300, MaximumRetryAttempts: 0 });
  });

  test('gives the shadow an explicit Deny on writes and marks it as a shadow in its environment', () => {
    const statements = policyStatements(template, 'ShadowServiceRole');
    const deny = statements.find((s) => s.Effect === 'Deny');
    expect(deny).toMatchObject({ Sid: 'ShadowDenyWrites', Resource: '*' });
    expect(deny.Action).toEqual(expect.arrayContaining([
      'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem',
      's3:PutObject', 's3:DeleteObject', 'sqs:SendMessage', 'sns:Publish', 'events:PutEvents', 'lambda:InvokeFunction',
    ]));
    expect(deny.Action).toHaveLength(SHADOW_DENIED_ACTIONS.length);
    // Only real IAM actions: cfn-lint (W3037) rejects names that are API calls but not actions.
    expect(deny.Action).not.toContain('dynamodb:TransactWriteItems');
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ShadowServiceRole'), 'Arn'] },
      Environment: { Variables: { GUARDRAILS_SHADOW_MODE: 'true' } },
    });
  });

  test('leaves the live function\'s role without the Deny and out of shadow mode', () => {
    expect(policyStatements(template, 'LiveServiceRole').filter((s) => s.Effect === 'Deny')).toEqual([]);
    const live = template.findResources('AWS::Lambda::Function', { Properties: { Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LiveServiceRole'), 'Arn'] } } });
    expect(JSON.stringify(live)).not.toContain('GUARDRAILS_SHADOW_MODE');
  });

  test('lets the dispatcher invoke only the shadow, read only its configuration, and only put and update items in the results table', () => {
    const statements = policyStatements(template, 'MirrorDispatcherServiceRole');
    const shadowArn = { 'Fn::GetAtt': [logicalId(f.stack, f.shadow), 'Arn'] };
    expect(statements).toEqual([
      // Active tracing: X-Ray's trace writes take no resource (acknowledged for cdk-nag).
      { Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' },
      { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: shadowArn },
      // Each replay's release: the RELEASE_ID of the shadow version that answered.
      { Action: 'lambda:GetFunctionConfiguration', Effect: 'Allow', Resource: [shadowArn, { 'Fn::Join': ['', [shadowArn, ':*']] }] },
      // Result rows (PutItem) and the per-release summaries (UpdateItem).
      { Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalId(f.stack, shadowIntegration.resultsTable as dynamodb.Table), 'Arn'] } },
    ]);
  });

  test('creates an on-demand results table keyed by shadow_id with TTL on expires_at and PITR', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'shadow_id', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('alarms when mean ΔS exceeds 0.45 and when shadow p95 exceeds live p95 by more than 3 %', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ShadowDeltaS', Namespace: 'CdkRolloutGuardrails/Shadow', Statistic: 'Average', Threshold: 0.45,
      ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching', Period: 300,
      Dimensions: [{ Name: 'Shadow', Value: 'TestStack/Mirror' }],
      AlarmDescription: Match.stringLikeRegexp('^Shadow gate MaxMeanDeltaS: mean ΔS'),
    });
    const latency = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Threshold: 1.03 } })) as any[];
    expect(latency).toHaveLength(1);
    const metrics = latency[0].Properties.Metrics;
    expect(metrics.find((m: any) => m.Expression)?.Expression).toBe('IF(live > 0, shadow / live, 0)');
    const stats = Object.fromEntries(metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, `${m.MetricStat.Metric.MetricName}:${m.MetricStat.Stat}`]));
    expect(stats).toEqual({ shadow: 'ShadowLatency:p95', live: 'LiveLatency:p95' });
    expect(shadowIntegration.alarms).toEqual([shadowIntegration.deltaSAlarm, shadowIntegration.latencyAlarm]);
    expect(shadowIntegration.p95DeltaSAlarm).toBeUndefined();
    // The guarded alias's gate alarm (the three metric gates), these two, and the staged machinery's dead-letter queue alarm.
    const gates = template.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmDescription: Match.stringLikeRegexp('^Release gates\\. ') } });
    expect(Object.keys(gates)).toHaveLength(1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1 });
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1 + 2 + 1);
  });

  test('exposes the observed sample rate as sampled over seen', () => {
    const rate = shadowIntegration.metricObservedSampleRate();
    expect(rate.expression).toBe('IF(seen > 0, sampled / seen, 0)');
    expect(Object.fromEntries(Object.entries(rate.usingMetrics).map(([k, m]) => [k, (m as any).metricName]))).toEqual({ sampled: 'MirrorSampled', seen: 'MirrorSeen' });
    expect(shadowIntegration.metricMirrorDropped().metricName).toBe('MirrorDropped');
    expect(shadowIntegration.metricShadowErrors().metricName).toBe('ShadowErrors');
    expect(shadowIntegration.metricLatencyDelta().metricName).toBe('ShadowLatencyDelta');
    expect(shadowIntegration.metricDeltaS({ statistic: 'p95' }).statistic).toBe('p95');
  });
});

describe('ShadowIntegration on an HTTP API', () => {
  const stack = testStack();
  const live = testFunction(stack, 'Live');
  const alias = new lambda.Alias(stack, 'LiveAlias', { aliasName: 'live', version: live.currentVersion });
  const shadowFn = testFunction(stack, 'Shadow');
  const shadowAlias = new lambda.Alias(stack, 'ShadowAlias', { aliasName: 'shadow', version: shadowFn.currentVersion });
  const api = new apigwv2.HttpApi(stack, 'Http');
  const shadowIntegration = new ShadowIntegration(stack, 'Mirror', {
    api, method: 'ANY', path: '/items/{id}', live: alias, shadow: shadowAlias, sampleRate: 1, maxMirrorRps: 1000,
    allowMethods: ['GET', 'POST'], headerAllowList: ['Accept', 'X-Tenant'], gates: { maxMeanDeltaS: 0.3, maxP95LatencyIncrease: 0.1, maxP95DeltaS: 0.6 },
  });
  const template = Template.fromStack(stack);

  test('adds the route with a Lambda integration to the live alias, payload format 2.0', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'ANY /items/{id}' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: { Ref: logicalId(stack, alias) },
    });
    expect(shadowIntegration.httpRoute).toBeDefined();
    expect(shadowIntegration.restMethod).toBeUndefined();
  });

  test('mirrors the allowed methods of an ANY route and copies the allowed headers', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GUARDRAILS_SHADOW_ROUTES: '["ANY /items/{id}"]', GUARDRAILS_SHADOW_METHODS: '["GET","POST"]', GUARDRAILS_SHADOW_HEADERS: '["accept","x-tenant"]', GUARDRAILS_SHADOW_SAMPLE_RATE: '1' }) },
    });
  });

  test('invokes the shadow alias by its ARN and denies writes to the function behind it', () => {
    const statements = policyStatements(template, 'MirrorDispatcherServiceRole');
    expect(statements[0]).toEqual({ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' });
    expect(statements[1]).toEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { Ref: logicalId(stack, shadowAlias) } });
    expect(statements.filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'))).toHaveLength(1);
    expect(policyStatements(template, 'ShadowServiceRole').some((s) => s.Effect === 'Deny' && s.Sid === 'ShadowDenyWrites')).toBe(true);
  });

  test('caps the dispatcher\'s reserved concurrency at 10 and uses the given gates, the p95 ΔS one among them', () => {
    expect(shadowIntegration.dispatcherConcurrency).toBe(10);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ShadowDeltaS', Statistic: 'Average', Threshold: 0.3 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ShadowDeltaS', ExtendedStatistic: 'p95', Threshold: 0.6 });
    template.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { Threshold: 1.1 }, 1);
    expect(shadowIntegration.alarms).toHaveLength(3);
  });
});

describe('ShadowIntegration with a table of your own', () => {
  test('writes results there and creates none', () => {
    const f = fixture();
    const table = new dynamodb.Table(f.stack, 'Mine', { partitionKey: { name: 'shadow_id', type: dynamodb.AttributeType.STRING } });
    const mirror = new ShadowIntegration(f.stack, 'Mirror', {
      api: new apigw.RestApi(f.stack, 'Api'), method: 'GET', path: '/a', live: f.guarded, shadow: f.shadow, sampleRate: 0.5, maxMirrorRps: 1,
      resultsTable: table, resultsTtl: Duration.days(2),
    });
    const template = Template.fromStack(f.stack);
    // One results table; the staged machinery's operator table (one per stack with a staged alias) aside.
    expect(Object.keys(template.findResources('AWS::DynamoDB::Table')).filter((id) => !id.startsWith('StagedRolloutOperatorTable'))).toHaveLength(1);
    expect(mirror.resultsTable).toBe(table);
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ RESULTS_TTL_SECONDS: '172800', RESULTS_TABLE: { Ref: logicalId(f.stack, table) } }) } });
  });
});

describe('ShadowIntegration and the live function\'s log group', () => {
  function build(context: Record<string, unknown>, logGroup?: (stack: Stack) => logs.ILogGroup) {
    const app = new App({ ...TEST_APP_PROPS, context: { ...FEATURE_FLAGS, ...context } });
    const stack = testStack(app);
    const live = new lambda.Function(stack, 'Live', {
      runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;'),
      logGroup: logGroup?.(stack),
    });
    const mirror = new ShadowIntegration(stack, 'Mirror', {
      api: new apigw.RestApi(stack, 'Api'), method: 'GET', path: '/a', live: live.addAlias('live'), shadow: testFunction(stack, 'Shadow'), sampleRate: 1, maxMirrorRps: 1,
    });
    return { stack, live, mirror, template: Template.fromStack(stack) };
  }

  test('subscribes to the log group the function was given', () => {
    const { stack, mirror, template } = build({}, (s) => new logs.LogGroup(s, 'Mine'));
    expect(mirror.liveLogGroup.node.path).toBe('TestStack/Mine');
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', { LogGroupName: { Ref: stack.getLogicalId(mirror.liveLogGroup.node.defaultChild as any) } });
  });

  test('gives a function without a log group of its own one that exists before the subscription is made', () => {
    const { stack, live, mirror, template } = build({ '@aws-cdk/aws-lambda:useCdkManagedLogGroup': false });
    const groupId = stack.getLogicalId(mirror.liveLogGroup.node.defaultChild as any);
    expect(mirror.liveLogGroup.node.path).toBe('TestStack/Mirror/LiveLogGroup');
    const fn = template.toJSON().Resources[stack.getLogicalId(live.node.defaultChild as any)];
    expect(fn.Properties.LoggingConfig).toEqual({ LogGroup: { Ref: groupId } });
    template.hasResourceProperties('AWS::Logs::SubscriptionFilter', { LogGroupName: { Ref: groupId } });
    template.resourceCountIs('Custom::LogRetention', 0);
  });
});

describe('ShadowIntegration validation', () => {
  function props(f: Fixture, overrides: Partial<Record<keyof ShadowIntegrationProps, unknown>>): ShadowIntegrationProps {
    return { api: new apigw.RestApi(f.stack, `Api${Math.random()}`.replace('.', '')), method: 'GET', path: '/answer', live: f.guarded, shadow: f.shadow, sampleRate: 0.1, maxMirrorRps: 10, ...overrides } as ShadowIntegrationProps;
  }

  test('reports every invalid prop together, each naming the prop and quoting the value', () => {
    const f = fixture();
    let error: any;
    try {
      new ShadowIntegration(f.stack, 'Bad', props(f, {
        sampleRate: 0, maxMirrorRps: 2.5, method: 'FETCH', path: 'answer/', allowMethods: ['GET', 'ANY'],
        headerAllowList: ['Authorization', 'x tenant'], redactPaths: ['user.email'], maxRecordBytes: 10, gates: { maxMeanDeltaS: -1, meanDrift: 1 },
        shadowTimeout: Duration.minutes(10), resultsTtl: Duration.minutes(5),
      }));
    } catch (e) {
      error = e;
    }
    expect(error?.name).toBe('GuardrailsValidationError');
    expect(error.problems).toEqual([
      'method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, ANY, got: "FETCH"',
      'path must be a path starting with "/", of segments of letters, digits, "._~-" or {param} / {proxy+}, without a trailing "/", got: "answer/"',
      'sampleRate must be a number greater than 0 and at most 1, got: 0',
      'maxMirrorRps must be an integer from 1 to 1000, got: 2.5',
      'allowMethods must be methods of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (ANY is not a method: list each one), got: ["ANY"]',
      'headerAllowList: "Authorization" carries credentials, cookies or client identity and is never copied',
      'headerAllowList: "x tenant" is not a header name',
      'redactPaths: "user.email" is not a supported JSON path (it must start with $ at character 1); write $.a.b, $.items[*].name, $[\'x-y\'] or $.list[0]',
      'maxRecordBytes must be an integer from 1024 to 200000, got: 10',
      'gates.meanDrift must be one of maxMeanDeltaS, maxP95LatencyIncrease, maxP95DeltaS (unknown gate), got: "meanDrift"',
      'gates.maxMeanDeltaS must be a number greater than 0 and at most 2, got: -1',
      'shadowTimeout must be from 100 milliseconds to 5 minutes, got: 10 minutes',
      'resultsTtl must be from 1 hour to 365 days, got: 5 minutes',
    ]);
    expect(error.message).toMatch(/^ShadowIntegration 'TestStack\/Bad' has 13 invalid props:\n {2}- method must be/);
  });

  test.each([
    [{ sampleRate: 1.01 }, 'sampleRate must be a number greater than 0 and at most 1, got: 1.01'],
    [{ sampleRate: undefined }, 'sampleRate must be a number greater than 0 and at most 1, got: undefined'],
    [{ maxMirrorRps: 0 }, 'maxMirrorRps must be an integer from 1 to 1000, got: 0'],
    [{ maxMirrorRps: 5000 }, 'maxMirrorRps must be an integer from 1 to 1000, got: 5000'],
    [{ method: 'POST' }, 'allowMethods must be a list that includes the route\'s method POST, or nothing would be mirrored (writes are mirrored only when you allow them), got: ["GET","HEAD"]'],
    [{ answerPath: 'answer' }, 'answerPath: "answer" is not a supported JSON path'],
    [{ path: '/a//b' }, 'path must be a path starting with "/"'],
  ])('rejects %j', (overrides, message) => {
    const f = fixture();
    expect(() => new ShadowIntegration(f.stack, 'Bad', props(f, overrides))).toThrow(message);
  });

  test('rejects a shadow that is the live function itself', () => {
    const f = fixture();
    expect(() => new ShadowIntegration(f.stack, 'Bad', props(f, { shadow: f.live })))
      .toThrow('shadow must be a function other than the live one (its role is denied writes), got: Function \'TestStack/Live\'');
  });

  test('rejects an imported shadow, whose role this app cannot give the Deny', () => {
    const f = fixture();
    const imported = lambda.Function.fromFunctionArn(f.stack, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:elsewhere');
    expect(() => new ShadowIntegration(f.stack, 'Bad', props(f, { shadow: imported })))
      .toThrow(/shadow must be a lambda.Function defined in this app, or an alias or version of one \(its role gets the write Deny\), got: \w+ 'TestStack\/Imported'/);
  });

  test('rejects a live target that is not an alias, and an API of another kind', () => {
    const f = fixture();
    expect(() => new ShadowIntegration(f.stack, 'Bad', props(f, { live: f.live, api: { restApiId: 'x' } })))
      .toThrow(/api must be a REST API \(aws-apigateway IRestApi\) or an HTTP API \(aws-apigatewayv2 IHttpApi\), got: Object[\s\S]*live must be a GuardedAlias or a lambda.Alias, got: Function 'TestStack\/Live'/);
  });

  test('rejects a second ShadowIntegration on the same live function, naming the first', () => {
    const f = fixture();
    new ShadowIntegration(f.stack, 'First', props(f, {}));
    expect(() => new ShadowIntegration(f.stack, 'Second', props(f, { path: '/other', shadow: testFunction(f.stack, 'Shadow2') })))
      .toThrow("live must be a function without another ShadowIntegration (its tap is configured by 'TestStack/First'; one per function)");
  });
});
