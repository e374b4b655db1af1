import * as fs from 'fs';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildDemoApp } from '../bin/demo-app';
import { DemoStack } from '../bin/demo-stack';
import { testApp } from './util';
import { StagedRollout } from '../lib';

/** Asset hashes and the code hash in the version's logical ID change with every handler edit; the snapshot ignores them. */
function normalise(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(/[0-9a-f]{32,64}/g, '<hash>').replace(/rel-[0-9a-f]{12}/g, 'rel-<hash>'));
}

function nagReport(assemblyDir: string): any {
  const report = JSON.parse(fs.readFileSync(path.join(assemblyDir, 'validation-report.json'), 'utf8'));
  return report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
}

describe('the example app', () => {
  // aws-cdk-lib's CloudFormation validator stays off here, as in every suite (test/setup-env.ts): none of these tests
  // reads its findings, and `npm run synth` (CI) runs it on this same app, failing on any error.

  // One synth of the example app, under cdk-nag, for every test that only reads it
  // (Template.fromStack reuses the app's assembly).
  const app = testApp();
  const stack = buildDemoApp(app);
  let assembly: CloudAssembly;
  let template: Template;
  beforeAll(() => {
    assembly = app.synth();
    template = Template.fromStack(stack);
  });

  test('synthesises with cdk-nag\'s AwsSolutions pack finding nothing unacknowledged, each acknowledgement with its reason', () => {
    const nag = nagReport(assembly.directory);
    expect(nag.conclusion).toBe('success');
    expect(nag.violations).toEqual([]);
    const acknowledged = nag.suppressedViolations.map((v: any) => `${v.ruleName.replace(/\[Policy::.*\/(.*)\]$/, '[$1]')} at ${v.acknowledgedAt}`).sort();
    expect(acknowledged).toEqual([
      'AwsSolutions-APIG3 at RolloutGuardrailsDemo/Api',
      'AwsSolutions-APIG4 at RolloutGuardrailsDemo/Api',
      'AwsSolutions-COG4 at RolloutGuardrailsDemo/Api',
      'AwsSolutions-IAM4[AWSCodeDeployRoleForLambdaLimited] at RolloutGuardrailsDemo/RolloutGuardrails/DeploymentRole',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/AnswerFunction',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/AnswerShadowFunction',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/ControlVersions/Provider',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/Probe/Function',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/PurgeCanaryCache',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/RollbackHooks/Function',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/ShadowAnswer/Dispatcher',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/StagedRollout/Gate',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/StagedRollout/SafetyNet',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/StagedRollout/Starter',
      'AwsSolutions-IAM4[AWSLambdaBasicExecutionRole] at RolloutGuardrailsDemo/StagedRollout/Warm',
      'AwsSolutions-IAM4[AmazonAPIGatewayPushToCloudWatchLogs] at RolloutGuardrailsDemo/Api',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/ControlVersions/Provider',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/Probe/Function',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/RollbackHooks/Function',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/ShadowAnswer/Dispatcher',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/Gate',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/SafetyNet',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/Starter',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/StateMachine',
      'AwsSolutions-IAM5[Resource::*] at RolloutGuardrailsDemo/StagedRollout/Warm',
      'AwsSolutions-IAM5[Resource::<AnswerFunctionC9E3DEFB.Arn>:*] at RolloutGuardrailsDemo/RollbackHooks/Function',
      'AwsSolutions-IAM5[Resource::<AnswerShadowFunctionA0778B15.Arn>:*] at RolloutGuardrailsDemo/ShadowAnswer/Dispatcher',
      'AwsSolutions-IAM5[Resource::<ProbeFunctionCA5564E7.Arn>:*] at RolloutGuardrailsDemo/StagedRollout/StateMachine',
      'AwsSolutions-IAM5[Resource::<StagedRolloutGate7DEAA04C.Arn>:*] at RolloutGuardrailsDemo/StagedRollout/StateMachine',
      'AwsSolutions-IAM5[Resource::<StagedRolloutWarmD1CE4050.Arn>:*] at RolloutGuardrailsDemo/StagedRollout/StateMachine',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<StagedRolloutStateMachine289C5D3F.Name>:*] at RolloutGuardrailsDemo/StagedRollout/SafetyNet',
    ]);
    for (const v of nag.suppressedViolations) expect(v.reason.length).toBeGreaterThan(20);
    // Every traced function's wildcard (X-Ray's trace writes take no resource) is acknowledged for that reason.
    const traced = ['ControlVersions/Provider', 'Probe/Function', 'RollbackHooks/Function', 'ShadowAnswer/Dispatcher', 'StagedRollout/Gate', 'StagedRollout/SafetyNet', 'StagedRollout/Starter', 'StagedRollout/StateMachine', 'StagedRollout/Warm'];
    for (const at of traced) {
      const ack = nag.suppressedViolations.find((v: any) => v.ruleName === 'AwsSolutions-IAM5[Resource::*]' && v.acknowledgedAt === `RolloutGuardrailsDemo/${at}`);
      expect([at, ack.reason]).toEqual([at, expect.stringMatching(/X-Ray|xray:PutTraceSegments/)]);
    }
  });

  test('fails its synth when a resource breaks an AwsSolutions rule', () => {
    const careless = testApp();
    new sqs.Queue(buildDemoApp(careless), 'CarelessQueue', { enforceSSL: false });
    expect(() => careless.synth()).toThrow(/The SQS queue does not require requests to use SSL[\s\S]*AwsSolutions-SQS4/);
  });

  describe('template', () => {
    test('sends every API method (answer and the mirrored route) to the GuardedAlias, never to $LATEST', () => {
      const aliasId = stack.getLogicalId(stack.guarded.alias.node.defaultChild as any);
      const methods = Object.values(template.findResources('AWS::ApiGateway::Method'));
      const integrated = methods.filter((m: any) => m.Properties.Integration?.Type === 'AWS_PROXY');
      expect(integrated.map((m: any) => m.Properties.HttpMethod).sort()).toEqual(['GET', 'GET', 'POST']);
      for (const m of integrated) expect(JSON.stringify(m.Properties.Integration.Uri)).toContain(aliasId);
      // API Gateway may invoke the alias and nothing else (CloudWatch Logs, not the API, invokes the dispatcher).
      const apiPermissions = Object.values(template.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'apigateway.amazonaws.com' } }));
      expect(apiPermissions.length).toBeGreaterThan(0);
      for (const p of apiPermissions) expect(p.Properties.FunctionName).toEqual({ Ref: aliasId });
    });

    test('runs the demo function on the library\'s runtime from the prebundled asset', () => {
      template.hasResourceProperties('AWS::Lambda::Function', { Runtime: 'nodejs24.x', Handler: 'index.handler' });
    });

    test('rolls the demo function out through CodeDeploy with its gate alarms, the probe\'s ΔS alarm and the cold-start gate', () => {
      template.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 1);
      const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as any;
      expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(3);
      expect(group.Properties.AlarmConfiguration.Alarms).toContainEqual({ Name: { Ref: stack.getLogicalId(stack.guarded.coldStartAlarm!.node.defaultChild as any) } });
      // Beside them, the shadow route's three alarms (mean ΔS, p95 ΔS, p95 latency) and the staged machinery's
      // dead-letter queue alarm, which CodeDeploy does not watch.
      const dlq = stack.getLogicalId(StagedRollout.of(stack).failedEventsAlarm.node.defaultChild as any);
      expect(group.Properties.AlarmConfiguration.Alarms).not.toContainEqual({ Name: { Ref: dlq } });
      // (and the rollback hooks' dead-letter alarm, likewise not CodeDeploy's to watch).
      const hooksDlq = stack.getLogicalId(stack.node.findChild('RollbackHooks').node.findChild('FailedEventsAlarm').node.defaultChild as any);
      expect(group.Properties.AlarmConfiguration.Alarms).not.toContainEqual({ Name: { Ref: hooksDlq } });
      expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm', { Properties: { Namespace: 'AWS/SQS' } })).sort()).toEqual([dlq, hooksDlq].sort());
      template.resourceCountIs('AWS::CloudWatch::Alarm', 3 + 3 + 2);
    });

    test('gives each published version provisioned concurrency, warmed on each new version by the state machine before the first shift', () => {
      // On the version (AWS::Lambda::Version), never on the alias: nothing puts or deletes a configuration during a rollout.
      const versionId = stack.resolve((stack.guarded.version.node.defaultChild as any).logicalId) as string;
      expect(template.toJSON().Resources[versionId].Properties.ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 2 });
      template.hasResourceProperties('AWS::Lambda::Alias', { Name: 'live', FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] }, ProvisionedConcurrencyConfig: Match.absent() });
      const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
      expect(JSON.stringify(machine.Properties.DefinitionString)).toMatch(/concurrency[\\"]*:2,[\\"]*pings[\\"]*:2/);
      template.hasResource('AWS::Lambda::Alias', { UpdatePolicy: { CodeDeployLambdaAliasUpdate: {} } });
    });

    test('rolls out by the default staged schedule: the starter before traffic moves, the probe before each step and after', () => {
      const probeId = stack.getLogicalId(stack.probe.function.node.defaultChild as any);
      const starterId = stack.getLogicalId(StagedRollout.of(stack).starterFunction.node.defaultChild as any);
      template.hasResource('AWS::Lambda::Alias', {
        UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: { Ref: starterId }, AfterAllowTrafficHook: { Ref: probeId } } },
      });
      template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
      const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
      const definition = JSON.stringify(machine.Properties.DefinitionString);
      expect(definition).toMatch(/steps[\\"]*:\[1,5,25,50,100\]/);
      expect(definition).toContain('probeFunctionArn');
      expect(stack.probe.goldItems).toHaveLength(54);
    });

    test('ships the normal build without the drift flag, and the drifted build with it', () => {
      const environments = (t: Template) => Object.values(t.findResources('AWS::Lambda::Function'))
        .map((f: any) => f.Properties.Environment?.Variables?.DEMO_DRIFT);
      expect(environments(template)).not.toContain('1');
      const drifted = testApp();
      const driftedStack = new DemoStack(drifted, 'Drifted', { drift: true });
      expect(environments(Template.fromStack(driftedStack))).toContain('1');
    });

    test('matches the reviewed snapshot', () => {
      expect(normalise(template.toJSON())).toMatchSnapshot();
    });
  });
});
