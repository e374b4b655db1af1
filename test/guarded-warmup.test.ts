import * as path from 'path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy, StagedRollout } from '../lib';
import { PROBE_WARMUP_ENV } from '../packages/runtime/src/contract/probe';
import { testApp, testFunction, testStack } from './util';

const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));
const id = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as any);

function machineDefinition(template: Template): string {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
  return (machine.Properties.DefinitionString['Fn::Join'][1] as any[]).map((p) => (typeof p === 'string' ? p : p.Ref ?? `arn:${p['Fn::GetAtt'][0]}`)).join('');
}

describe('GuardedAlias warmup', () => {
  describe('with the default staged strategy', () => {
    const stack = testStack();
    const ga = new GuardedAlias(stack, 'Answer', { function: testFunction(stack), warmup: { provisionedConcurrency: 5 } });
    const template = Template.fromStack(stack);

    test('puts the provisioned concurrency on the published version (not the alias) and makes the version DESTROY', () => {
      template.hasResource('AWS::Lambda::Version', { DeletionPolicy: 'Delete', Properties: { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 5 } } });
      expect(JSON.stringify(template.findResources('AWS::Lambda::Alias'))).not.toContain('ProvisionedConcurrencyConfig');
      expect(ga.warmup?.warmGate).toEqual({ concurrency: 5, pings: 5, readyTimeoutSeconds: 120 });
    });

    test('hands the warm gate to the state machine, run by the stack\'s warm function whose timeout covers the wait', () => {
      const warm = StagedRollout.of(stack).node.findChild('Warm') as lambda.Function;
      const definition = machineDefinition(template);
      expect(definition).toContain(`\\"warmup\\":{\\"functionArn\\":\\"arn:${id(stack, warm)}\\",\\"concurrency\\":5,\\"pings\\":5,\\"readyTimeoutSeconds\\":120}`);
      template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.warm', Timeout: 170 });
    });

    test('lets the warm function read the provisioned concurrency of exactly this version and ping it; nothing may write one', () => {
      const warm = StagedRollout.of(stack).node.findChild('Warm') as lambda.Function;
      const statements = (role: string) => Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))
        .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      const versionArn = { Ref: stack.resolve((ga.version.node.defaultChild as lambda.CfnVersion).logicalId) };
      expect(statements(id(stack, warm.role!))).toContainEqual(expect.objectContaining({
        Action: ['lambda:GetProvisionedConcurrencyConfig', 'lambda:InvokeFunction'],
        Resource: versionArn,
      }));
      expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toMatch(/(Put|Delete)ProvisionedConcurrencyConfig/);
    });

    test('adds the cold-start gate (share ≤ 0.05 of the new release) to the alarms the deployment group watches and the machine reads', () => {
      expect(ga.coldStartAlarm).toBeDefined();
      const alarm = template.toJSON().Resources[id(stack, ga.coldStartAlarm!)].Properties;
      expect(alarm).toMatchObject({ Threshold: 0.05, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
      const cold = alarm.Metrics.find((m: any) => m.Id === 'cold');
      expect(cold.MetricStat.Metric).toMatchObject({ Namespace: 'RolloutGuardrails', MetricName: 'ColdStart' });
      expect(cold.MetricStat.Metric.Dimensions).toContainEqual({ Name: 'ReleaseId', Value: stack.resolve(ga.releaseId) });
      const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as any;
      expect(group.Properties.AlarmConfiguration.Alarms).toContainEqual({ Name: { Ref: id(stack, ga.coldStartAlarm!) } });
      expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(2);
      expect(machineDefinition(template)).toContain(id(stack, ga.coldStartAlarm!));
    });
  });

  test('with a canary strategy the probe runs the warm gate in its BeforeAllowTraffic hook', () => {
    const stack = testStack();
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
    const ga = new GuardedAlias(stack, 'Answer', {
      function: testFunction(stack), probe, strategy: RolloutStrategy.canary(10, Duration.minutes(5)),
      warmup: { autoScaling: { minCapacity: 2, maxCapacity: 20 } }, gates: { maxColdStartShare: 0.1 },
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 20 });
    const env = template.toJSON().Resources[id(stack, probe.function)].Properties.Environment.Variables[PROBE_WARMUP_ENV];
    expect(JSON.stringify(env)).toContain('\\"concurrency\\":2,\\"pings\\":2,\\"readyTimeoutSeconds\\":120');
    expect(template.toJSON().Resources[id(stack, ga.coldStartAlarm!)].Properties.Threshold).toBe(0.1);
    const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as any;
    expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(3);
  });

  test.each([
    [{ warmup: { provisionedConcurrency: 2 }, strategy: RolloutStrategy.canary(10, Duration.minutes(5)) },
      'warmup must be left out with canary unless a probe is set (the ΔS probe runs the warm gate in its BeforeAllowTraffic hook; the staged strategy runs it itself): set `probe`, or use RolloutStrategy.staged(), got: {"provisionedConcurrency":2}'],
    [{ gates: { maxColdStartShare: 0.05 } },
      'gates.maxColdStartShare must be left out without a warmup (it judges cold starts after the warm gate: set `warmup` too), got: 0.05'],
    [{ warmup: { provisionedConcurrency: 2 }, gates: { maxColdStartShare: 1.5 } },
      'gates.maxColdStartShare must be a number at least 0 and less than 1, got: 1.5'],
    [{ warmup: 5 as any }, 'warmup must be an object of ProvisionedWarmupOptions ({ provisionedConcurrency } or { autoScaling }), got: 5'],
  ])('rejects %j, saying why', (props, message) => {
    const stack = testStack();
    expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), ...props })).toThrow(message);
  });

  test('counts the cold-start gate among the 10 alarms CodeDeploy watches', () => {
    const stack = testStack();
    const alarms = Array.from({ length: 9 }, (_, i) => new cloudwatch.Alarm(stack, `A${i}`, { metric: new cloudwatch.Metric({ namespace: 'X', metricName: `m${i}` }), threshold: 1, evaluationPeriods: 1 }));
    expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), warmup: { provisionedConcurrency: 2 }, alarms }))
      .toThrow('alarms must be at most 8 alarms (CodeDeploy watches 10 per deployment group and the gate alarm and the cold-start gate take 2), got: 9 alarms');
  });

  test('adds no cdk-nag AwsSolutions finding of its own', () => {
    const app = testApp();
    const stack = testStack(app);
    const fn = testFunction(stack);
    new GuardedAlias(stack, 'Answer', { function: fn, warmup: { autoScaling: { minCapacity: 1, maxCapacity: 4 } } });
    // The function is the user's; its basic execution role is the user's to acknowledge.
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'test function: logs only',
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const assembly = app.synth();
    const report = JSON.parse(require('fs').readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
  });
});
