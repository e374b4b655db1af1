import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DEMO_SHADOW_PATH, addShadowRoute } from '../bin/demo-shadow';
import { DemoStack } from '../bin/demo-stack';
import { testApp } from './util';

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
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
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
// costs about 10 s per test file). The example app, shadow route included, passes it in test/demo-app.test.ts.
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
