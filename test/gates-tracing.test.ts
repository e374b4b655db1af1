import * as fs from 'fs';
import * as path from 'path';
import { Annotations, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy, ShadowIntegration } from '../lib';
import { ControlVersions } from '../lib/private/control-version';
import { testApp, testFunction, testStack } from './util';

const item = (id: string) => JSON.stringify({
  id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.`,
});
const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));

/** The library's own functions in one stack: the probe, the shadow dispatcher and the control-version provider. */
function libraryFunctions(stack: Stack) {
  const fns = [testFunction(stack, 'Live'), testFunction(stack, 'Shadow')];
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
  Annotations.of(probe).acknowledgeWarning('cdk-rollout-guardrails:smallGoldSet', 'a two-question gold set is enough to synthesize');
  const guarded = new GuardedAlias(stack, 'Guarded', { function: fns[0], probe, strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
  const api = new apigw.RestApi(stack, 'Api');
  // The test's API is not the library's: its findings are the test's to acknowledge.
  for (const rule of ['APIG1', 'APIG2', 'APIG3', 'APIG4', 'APIG6', 'COG4']) {
    Validations.of(api).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason: 'the test\'s own bare REST API, only there to carry the shadow route' });
  }
  const mirror = new ShadowIntegration(stack, 'Mirror', {
    api, method: 'GET', path: '/answer', live: guarded, shadow: fns[1], sampleRate: 0.1, maxMirrorRps: 5,
  });
  return { userFunctions: fns, probe: probe.function, dispatcher: mirror.dispatcher, provider: ControlVersions.of(stack).handler };
}

function statementsOf(stack: Stack, fn: lambda.Function): any[] {
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as any);
  return (Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as any[])
    .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('X-Ray active tracing of the library\'s functions', () => {
  const stack = testStack();
  const fns = libraryFunctions(stack);
  const resources = Template.fromStack(stack).toJSON().Resources;

  test.each(['probe', 'dispatcher', 'provider'] as const)('the %s runs with active tracing and may send its traces', (which) => {
    const fn = fns[which];
    expect(resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(statementsOf(stack, fn)).toContainEqual({ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' });
  });

  test('leaves the user\'s functions\' tracing to the user', () => {
    for (const fn of fns.userFunctions) {
      expect(resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.TracingConfig).toBeUndefined();
    }
  });
});

describe('X-Ray active tracing under cdk-nag', () => {
  test('opens no finding: the X-Ray wildcard is acknowledged on each of the library\'s functions, with its reason', () => {
    const app = testApp();
    const stack = testStack(app);
    const { userFunctions } = libraryFunctions(stack);
    for (const fn of userFunctions) {
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'test functions: logs only',
      });
    }
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const report = JSON.parse(fs.readFileSync(path.join(app.synth().directory, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
    const wildcardAcks = nag.suppressedViolations
      .filter((v: any) => v.ruleName === 'AwsSolutions-IAM5[Resource::*]')
      .map((v: any) => [v.acknowledgedAt, v.reason]);
    for (const at of ['TestStack/Probe/Function', 'TestStack/Mirror/Dispatcher', 'TestStack/ControlVersions/Provider']) {
      const ack = wildcardAcks.find(([where]: [string]) => where === at);
      expect(ack).toBeDefined();
      expect(ack[1]).toContain('xray:PutTraceSegments');
    }
  });
});
