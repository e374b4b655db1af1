import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { GuardedAlias, RolloutStrategy, StagedRollout, TARGET_VERSION_ENV } from '../lib';
import { testApp, testFunction, testStack } from './util';

/** A user's hooks need a canary or linear strategy: the default staged one's BeforeAllowTraffic hook is its starter. */
const CANARY = RolloutStrategy.canary(10, Duration.minutes(5));

function guarded(stack: Stack = testStack(), props: Partial<ConstructorParameters<typeof GuardedAlias>[2]> = {}, id = 'Guarded') {
  const fn = props.function ?? testFunction(stack, `${id}Fn`);
  const ga = new GuardedAlias(stack, id, { ...props, function: fn });
  return { stack, fn, ga };
}

/** The logical ID of fn's published version (its ID carries a hash of the code, known only in the template). */
function versionLogicalId(stack: Stack, fn: lambda.Function): string {
  const fnId = stack.resolve((fn.node.defaultChild as lambda.CfnFunction).ref);
  const versions = Template.fromStack(stack).findResources('AWS::Lambda::Version', { Properties: { FunctionName: fnId } });
  expect(Object.keys(versions)).toHaveLength(1);
  return Object.keys(versions)[0];
}

/** The template's gate alarms (their descriptions start 'Release gates. '), by logical ID. */
function gateAlarmResources(t: Template): Record<string, any> {
  return t.findResources('AWS::CloudWatch::Alarm', { Properties: { AlarmDescription: Match.stringLikeRegexp('^Release gates\\. ') } });
}
function gateAlarms(t: Template): string[] {
  return Object.keys(gateAlarmResources(t));
}
/** The logical IDs of the machineries' dead-letter queue alarms (one per StagedRollout / BlueGreenSwitch). */
function dlqAlarms(t: Template): string[] {
  return Object.keys(t.findResources('AWS::CloudWatch::Alarm', {
    Properties: { Namespace: 'AWS/SQS', MetricName: 'ApproximateNumberOfMessagesVisible', Threshold: 1, AlarmDescription: Match.stringLikeRegexp('dead-letter queue') },
  }));
}

describe('GuardedAlias', () => {
  test('publishes the current version and points the alias "live" at it', () => {
    const { stack, fn } = guarded();
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Lambda::Version', 1);
    t.hasResourceProperties('AWS::Lambda::Alias', {
      Name: 'live',
      FunctionVersion: { 'Fn::GetAtt': [versionLogicalId(stack, fn), 'Version'] },
    });
  });

  test('gives the alias CodeDeploy\'s update policy, naming the shared application and its deployment group', () => {
    const { stack, ga } = guarded();
    const t = Template.fromStack(stack);
    const dg = stack.getLogicalId(ga.deploymentGroup.node.defaultChild as any);
    const app = t.findResources('AWS::CodeDeploy::Application');
    t.hasResource('AWS::Lambda::Alias', {
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: {
          ApplicationName: { Ref: Object.keys(app)[0] },
          DeploymentGroupName: { Ref: dg },
        },
      },
    });
  });

  test('rolls back on failure, on stop and on alarm, watching the one gate alarm of the three metric gates', () => {
    const { stack, ga } = guarded();
    const t = Template.fromStack(stack);
    const alarmRefs = ga.gates.alarms.map((a) => ({ Name: { Ref: stack.getLogicalId(a.node.defaultChild as cloudwatch.CfnAlarm) } }));
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: Match.arrayWith(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST', 'DEPLOYMENT_STOP_ON_ALARM']),
      },
      AlarmConfiguration: { Enabled: true, Alarms: alarmRefs },
      DeploymentStyle: { DeploymentOption: 'WITH_TRAFFIC_CONTROL', DeploymentType: 'BLUE_GREEN' },
    });
    // The gate alarm (all three metric gates) is the group's alarm; the stack's one other alarm is the staged
    // machinery's dead-letter queue alarm (FailedEventsAlarm), which CodeDeploy does not watch.
    expect(gateAlarms(t)).toHaveLength(1);
    expect(dlqAlarms(t)).toEqual([stack.getLogicalId(StagedRollout.of(stack).failedEventsAlarm.node.defaultChild as cloudwatch.CfnAlarm)]);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 1 + 1);
  });

  test('shares one CodeDeploy application and one service role between every GuardedAlias of a stack', () => {
    const stack = testStack();
    guarded(stack, {}, 'A');
    guarded(stack, {}, 'B');
    guarded(stack, {}, 'C');
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CodeDeploy::Application', 1);
    t.resourceCountIs('AWS::CodeDeploy::DeploymentGroup', 3);
    const roles = t.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'codedeploy.amazonaws.com' } })] } },
    });
    expect(Object.keys(roles)).toHaveLength(1);
    const roleId = Object.keys(roles)[0];
    const groups = t.findResources('AWS::CodeDeploy::DeploymentGroup');
    for (const group of Object.values(groups)) {
      expect(group.Properties.ServiceRoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
  });

  test('keeps separate stacks\' shared resources apart', () => {
    const app = testApp();
    const one = testStack(app, 'One');
    const two = testStack(app, 'Two');
    guarded(one);
    guarded(two);
    Template.fromStack(one).resourceCountIs('AWS::CodeDeploy::Application', 1);
    Template.fromStack(two).resourceCountIs('AWS::CodeDeploy::Application', 1);
  });

  test('defaults to the staged schedule 1 → 5 → 25 → 50 → 100 %: an all-at-once group whose BeforeAllowTraffic hook starts the state machine', () => {
    const { stack, ga } = guarded();
    expect(ga.strategy.toString()).toBe('staged 1 → 5 → 25 → 50 → 100 %, 5 minutes bake per step, rolled back after 2 failed gates at one step');
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
    template.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    const starter = stack.getLogicalId(StagedRollout.of(stack).starterFunction.node.defaultChild as lambda.CfnFunction);
    template.hasResource('AWS::Lambda::Alias', { UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: { Ref: starter } } } });
  });

  test('keeps CodeDeploy\'s predefined configuration for a canary of 10 % for 5 minutes', () => {
    const { stack, ga } = guarded(testStack(), { strategy: CANARY });
    expect(ga.strategy.toString()).toBe('canary 10 % for 5 minutes, then 100 %');
    Template.fromStack(stack).hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes',
    });
    Template.fromStack(stack).resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
    Template.fromStack(stack).resourceCountIs('AWS::StepFunctions::StateMachine', 0);
  });

  test.each([
    [RolloutStrategy.canary(10, Duration.minutes(30)), 'CodeDeployDefault.LambdaCanary10Percent30Minutes'],
    [RolloutStrategy.linear(10, Duration.minutes(1)), 'CodeDeployDefault.LambdaLinear10PercentEvery1Minute'],
    [RolloutStrategy.linear(10, Duration.minutes(10)), 'CodeDeployDefault.LambdaLinear10PercentEvery10Minutes'],
    [RolloutStrategy.allAtOnce(), 'CodeDeployDefault.LambdaAllAtOnce'],
  ])('maps %s to the predefined configuration %s', (strategy, configName) => {
    const { stack } = guarded(testStack(), { strategy });
    Template.fromStack(stack).hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: configName });
    Template.fromStack(stack).resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 0);
  });

  test('creates one custom deployment configuration per distinct shape per stack', () => {
    const stack = testStack();
    guarded(stack, { strategy: RolloutStrategy.canary(5, Duration.minutes(7)) }, 'A');
    guarded(stack, { strategy: RolloutStrategy.canary(5, Duration.minutes(7)) }, 'B');
    guarded(stack, { strategy: RolloutStrategy.linear(20, Duration.minutes(2)) }, 'C');
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CodeDeploy::DeploymentConfig', 2);
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      ComputePlatform: 'Lambda',
      TrafficRoutingConfig: { Type: 'TimeBasedCanary', TimeBasedCanary: { CanaryPercentage: 5, CanaryInterval: 7 } },
    });
    t.hasResourceProperties('AWS::CodeDeploy::DeploymentConfig', {
      TrafficRoutingConfig: { Type: 'TimeBasedLinear', TimeBasedLinear: { LinearPercentage: 20, LinearInterval: 2 } },
    });
  });

  test('computes how long each strategy takes to shift all traffic', () => {
    expect(RolloutStrategy.canary(10, Duration.minutes(5)).shiftDuration?.toMinutes()).toBe(5);
    expect(RolloutStrategy.linear(10, Duration.minutes(2)).shiftDuration?.toMinutes()).toBe(18);
    expect(RolloutStrategy.linear(30, Duration.minutes(1)).shiftDuration?.toMinutes()).toBe(3);
    expect(RolloutStrategy.allAtOnce().shiftDuration?.toSeconds()).toBe(0);
  });

  test('builds every gate dimension from names and the version number, never from the alias ARN (aws-cdk #2231)', () => {
    const { stack, fn, ga } = guarded();
    const t = Template.fromStack(stack);
    const aliasId = stack.getLogicalId(ga.alias.node.defaultChild as lambda.CfnAlias);
    const alarms = t.findResources('AWS::CloudWatch::Alarm');
    const json = JSON.stringify(alarms);
    expect(json).not.toContain(aliasId);
    const fnId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
    expect(json).toContain(JSON.stringify({ Name: 'Resource', Value: { 'Fn::Join': ['', [{ Ref: fnId }, ':live']] } }));
    expect(json).toContain(JSON.stringify({ Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [versionLogicalId(stack, fn), 'Version'] } }));
  });

  describe('the control version', () => {
    function controlVersionsResource(stack: Stack) {
      const resources = Template.fromStack(stack).findResources('Custom::GuardrailsControlVersions');
      expect(Object.keys(resources)).toHaveLength(1);
      const [id, resource] = Object.entries(resources)[0];
      return { id, resource };
    }

    test('is read at deploy time by the stack\'s custom resource, before the alias is updated', () => {
      const { stack, fn } = guarded();
      const { id, resource } = controlVersionsResource(stack);
      const fnId = stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction);
      expect(resource.Properties.Aliases).toEqual([{
        Key: expect.stringMatching(/^V[A-F0-9]{8}0$/),
        FunctionName: { Ref: fnId },
        AliasName: 'live',
        TargetVersion: { 'Fn::GetAtt': [versionLogicalId(stack, fn), 'Version'] },
      }]);
      Template.fromStack(stack).hasResource('AWS::Lambda::Alias', { DependsOn: Match.arrayWith([id]) });
    });

    test('gives the p95 gate the control\'s own ExecutedVersion series', () => {
      const { stack, ga } = guarded();
      const { id, resource } = controlVersionsResource(stack);
      const key = resource.Properties.Aliases[0].Key;
      const alarm = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(ga.gates.alarm.node.defaultChild as cloudwatch.CfnAlarm)];
      const control = alarm.Properties.Metrics.find((m: any) => m.Id === 'control');
      expect(control.MetricStat.Stat).toBe('p95');
      expect(control.MetricStat.Metric.Dimensions).toContainEqual({ Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [id, key] } });
    });

    test('is one resource and one provider per stack, allowed GetAlias on exactly the guarded aliases', () => {
      const stack = testStack();
      const { fn: a } = guarded(stack, {}, 'A');
      const { fn: b } = guarded(stack, { aliasName: 'prod' }, 'B');
      const { resource } = controlVersionsResource(stack);
      const keys = resource.Properties.Aliases.map((e: any) => e.Key);
      expect(new Set(keys).size).toBe(2);
      const t = Template.fromStack(stack);
      const providers = t.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('reads which version each guarded alias serves') } });
      expect(Object.keys(providers)).toHaveLength(1);
      const arn = (f: lambda.Function) => ({ 'Fn::GetAtt': [stack.getLogicalId(f.node.defaultChild as any), 'Arn'] });
      const policy = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ControlVersions') } }))[0];
      const getAlias = policy.Properties.PolicyDocument.Statement.filter((st: any) => st.Action === 'lambda:GetAlias');
      const resources = getAlias.flatMap((st: any) => st.Resource);
      expect(resources).toEqual(expect.arrayContaining([
        arn(a), { 'Fn::Join': ['', [arn(a), ':live']] },
        arn(b), { 'Fn::Join': ['', [arn(b), ':prod']] },
      ]));
      expect(resources).toHaveLength(4);
    });
  });

  test('renders the default thresholds and lets each be overridden', () => {
    const stack = testStack();
    const { ga } = guarded(stack, {}, 'Default');
    const { ga: custom } = guarded(stack, { gates: { maxP95Ratio: 1.25, maxErrorRate: 0.02 } }, 'Custom');
    expect(ga.gates.thresholds).toEqual({ maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 });
    expect(custom.gates.thresholds).toEqual({ maxErrorRateDelta: 0.0005, maxP95Ratio: 1.25, maxErrorRate: 0.02 });
    const t = Template.fromStack(stack);
    // One alarm on the gate code (threshold 1); each gate's threshold is in its term of the expression.
    const props = (alarm: cloudwatch.Alarm) => t.toJSON().Resources[stack.getLogicalId(alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
    const expression = (alarm: cloudwatch.Alarm) => props(alarm).Metrics.find((m: any) => m.ReturnData !== false).Expression;
    expect(props(ga.gates.alarm).Threshold).toBe(1);
    expect(expression(ga.gates.alarm)).toMatch(/^IF\(IF\(.*\) > 0\.0005, 1, 0\) \+ IF\(IF\(.*\) > 1\.1, 2, 0\) \+ IF\(IF\(.*\) > 0\.01, 4, 0\)$/);
    expect(expression(custom.gates.alarm)).toMatch(/^IF\(IF\(.*\) > 0\.0005, 1, 0\) \+ IF\(IF\(.*\) > 1\.25, 2, 0\) \+ IF\(IF\(.*\) > 0\.02, 4, 0\)$/);
  });

  test('gate alarms use one-minute datapoints, alarm on one, and treat missing data as not breaching', () => {
    const { stack } = guarded();
    const t = Template.fromStack(stack);
    const alarms = Object.values(gateAlarmResources(t));
    expect(alarms).toHaveLength(1);
    // Besides the gates, only the staged machinery's dead-letter queue alarm.
    expect(dlqAlarms(t)).toHaveLength(1);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 1 + 1);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
        // The value is the gate code: 1 or more is a breach of at least one gate.
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
      });
      expect(alarm.Properties.AlarmDescription).toMatch(/^Release gates\. The value is a gate code/);
      for (const m of alarm.Properties.Metrics.filter((x: any) => x.MetricStat)) expect(m.MetricStat.Period).toBe(60);
    }
  });

  test('exposes a worst-case detection time of at most 2 minutes', () => {
    const { ga } = guarded();
    expect(ga.worstCaseDetectionTime.toSeconds()).toBe(120);
    expect(ga.worstCaseDetectionTime.toSeconds()).toBeLessThanOrEqual(120);
  });

  test('watches alarms given as props and added later, in addition to the gates', () => {
    const stack = testStack();
    const extra = new cloudwatch.Alarm(stack, 'Extra', { metric: new cloudwatch.Metric({ namespace: 'X', metricName: 'Y' }), threshold: 1, evaluationPeriods: 1 });
    const later = new cloudwatch.Alarm(stack, 'Later', { metric: new cloudwatch.Metric({ namespace: 'X', metricName: 'Z' }), threshold: 1, evaluationPeriods: 1 });
    const { ga } = guarded(stack, { alarms: [extra] });
    ga.addAlarm(later);
    expect(ga.alarms).toHaveLength(3);
    const alarms = Template.fromStack(stack).findResources('AWS::CodeDeploy::DeploymentGroup');
    const names = Object.values(alarms)[0].Properties.AlarmConfiguration.Alarms.map((a: any) => a.Name.Ref);
    expect(names).toEqual(expect.arrayContaining([stack.getLogicalId(extra.node.defaultChild as any), stack.getLogicalId(later.node.defaultChild as any)]));
    expect(names).toHaveLength(3);
  });

  test('refuses to watch the same alarm twice', () => {
    const { ga } = guarded();
    expect(() => ga.addAlarm(ga.gates.alarm)).toThrow(/is already watched/);
  });

  describe('hooks', () => {
    test('run before and after traffic moves, from the alias\'s update policy', () => {
      const stack = testStack();
      const pre = testFunction(stack, 'Pre');
      const post = testFunction(stack, 'Post');
      guarded(stack, { strategy: CANARY, preTrafficHook: pre, postTrafficHook: post });
      Template.fromStack(stack).hasResource('AWS::Lambda::Alias', {
        UpdatePolicy: {
          CodeDeployLambdaAliasUpdate: {
            BeforeAllowTrafficHook: { Ref: stack.getLogicalId(pre.node.defaultChild as any) },
            AfterAllowTrafficHook: { Ref: stack.getLogicalId(post.node.defaultChild as any) },
          },
        },
      });
    });

    test('may report their status for this deployment group, read it, and invoke exactly the new version', () => {
      const stack = testStack();
      const pre = testFunction(stack, 'Pre');
      const { fn, ga } = guarded(stack, { strategy: CANARY, preTrafficHook: pre });
      const t = Template.fromStack(stack);
      const policy = Object.values(t.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: stack.getLogicalId(pre.role!.node.defaultChild as any) }] },
      }))[0];
      const statements = policy.Properties.PolicyDocument.Statement;
      expect(statements).toContainEqual({ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { Ref: versionLogicalId(stack, fn) } });
      const dgId = stack.getLogicalId(ga.deploymentGroup.node.defaultChild as any);
      const codedeploy = statements.find((s: any) => JSON.stringify(s.Action).includes('PutLifecycleEventHookExecutionStatus'));
      expect(codedeploy.Action).toEqual(expect.arrayContaining(['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus']));
      expect(JSON.stringify(codedeploy.Resource)).toContain(dgId);
      // Nothing broader than the version: no function-wide or wildcard invoke.
      expect(JSON.stringify(statements)).not.toContain(':*');
    });

    test('learn the new version\'s ARN from their environment', () => {
      const stack = testStack();
      const pre = testFunction(stack, 'Pre');
      const { fn } = guarded(stack, { strategy: CANARY, preTrafficHook: pre });
      Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: { [TARGET_VERSION_ENV]: { Ref: versionLogicalId(stack, fn) } } },
      });
    });

    test('may be invoked by the shared CodeDeploy service role, by their ARN only', () => {
      const stack = testStack();
      const pre = testFunction(stack, 'Pre');
      guarded(stack, { strategy: CANARY, preTrafficHook: pre });
      const t = Template.fromStack(stack);
      const preArn = { 'Fn::GetAtt': [stack.getLogicalId(pre.node.defaultChild as any), 'Arn'] };
      const policy = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('RolloutGuardrailsDeploymentRole') } }))[0];
      expect(policy.Properties.PolicyDocument.Statement).toEqual([{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: preArn }]);
    });

    test('add no cdk-nag AwsSolutions finding of the library\'s own', () => {
      const app = testApp();
      const stack = testStack(app);
      const fns = [testFunction(stack, 'Fn'), testFunction(stack, 'Pre'), testFunction(stack, 'Post')];
      new GuardedAlias(stack, 'Guarded', { function: fns[0], strategy: CANARY, preTrafficHook: fns[1], postTrafficHook: fns[2] });
      // The functions are the user's; their basic execution role is the user's to acknowledge.
      for (const f of fns) {
        Validations.of(f).acknowledge({
          id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: 'test functions: logs only',
        });
      }
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const assembly = app.synth();
      const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
      const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
      expect(nag.violations).toEqual([]);
      expect(nag.conclusion).toBe('success');
    });

    test('can be added after construction, and only once per lifecycle event', () => {
      const stack = testStack();
      const { ga } = guarded(stack, { strategy: CANARY });
      ga.addPreTrafficHook(testFunction(stack, 'Pre'));
      ga.addPostTrafficHook(testFunction(stack, 'Post'));
      expect(() => ga.addPreTrafficHook(testFunction(stack, 'Pre2'))).toThrow(
        "GuardedAlias 'TestStack/Guarded': preTrafficHook is already set to 'TestStack/Pre'; CodeDeploy runs one BeforeAllowTraffic hook per deployment group");
      expect(() => ga.addPostTrafficHook(testFunction(stack, 'Post2'))).toThrow(/postTrafficHook is already set to 'TestStack\/Post'/);
      Template.fromStack(stack).hasResource('AWS::Lambda::Alias', {
        UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: Match.anyValue(), AfterAllowTrafficHook: Match.anyValue() } },
      });
    });

    test('a hook added after a synth is in the next synth\'s update policy', () => {
      const stack = testStack();
      const { ga } = guarded(stack, { strategy: CANARY });
      const updatePolicy = () => (Object.values((stack.node.root as App).synth({ force: true }).getStackArtifact(stack.artifactId).template.Resources)
        .find((r: any) => r.Type === 'AWS::Lambda::Alias') as any).UpdatePolicy.CodeDeployLambdaAliasUpdate;
      expect(updatePolicy().AfterAllowTrafficHook).toBeUndefined();
      ga.addPostTrafficHook(testFunction(stack, 'Post'));
      expect(updatePolicy().AfterAllowTrafficHook).toEqual({ Ref: stack.getLogicalId(stack.node.findChild('Post').node.defaultChild as lambda.CfnFunction) });
    });

    test('shared by two aliases keep the first target in their environment and warn', () => {
      const stack = testStack();
      const pre = testFunction(stack, 'Pre');
      guarded(stack, { strategy: CANARY, preTrafficHook: pre }, 'A');
      guarded(stack, { strategy: CANARY, preTrafficHook: pre }, 'B');
      const warnings = stack.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:warning'));
      expect(JSON.stringify(warnings)).toContain("hook 'TestStack/Pre' also serves 'TestStack/A'");
    });
  });

  test('synthesises without a dependency cycle when alarms, hooks and the alias meet', () => {
    const app = testApp();
    const stack = testStack(app);
    const pre = testFunction(stack, 'Pre');
    const post = testFunction(stack, 'Post');
    guarded(stack, { strategy: CANARY, preTrafficHook: pre, postTrafficHook: post });
    expect(() => app.synth()).not.toThrow();
    expect(app.synth().getStackByName('TestStack').template.Resources).toBeDefined();
  });

  test('lets a grantee invoke the alias, not the function\'s every version', () => {
    const stack = testStack();
    const { ga } = guarded(stack);
    const caller = testFunction(stack, 'Caller');
    ga.grantInvoke(caller);
    const t = Template.fromStack(stack);
    const aliasId = stack.getLogicalId(ga.alias.node.defaultChild as any);
    const policy = JSON.stringify(t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: stack.getLogicalId(caller.role!.node.defaultChild as any) }] } }));
    expect(policy).toContain(aliasId);
  });
});
