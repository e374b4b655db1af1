// The rollback-hook and provisioned warm-up suites, one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import { CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template, Match } from 'aws-cdk-lib/assertions';
import { mockClient } from './helpers/sdk-mock';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedAlias, RolloutStrategy, GuardrailsValidationError, ProvisionedWarmup, ProvisionedWarmupOptions } from '../lib';
import { createRollbackHooksHandler } from '../lambdas/rollback-hooks/handler';
import { testFunction, testStack } from './util';

describe('rollback-hooks', () => {
  // GuardedAlias `rollbackHooks`: the rule on the deployment group's FAILURE and STOP, the stack's one function and
  // its grants, validation, and the handler against mocked CodeDeploy and Lambda clients: it reads the rolled-back
  // version and its release at run time, invokes each hook asynchronously with the cache namespace to purge, and
  // leaves a rollback deployment's own failure alone.
  type Json = any;

  describe('GuardedAlias rollbackHooks: synth', () => {
    const stack = testStack();
    const purge = testFunction(stack, 'Purge');
    const audit = testFunction(stack, 'Audit');
    const a = new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), rollbackHooks: [purge, audit], strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
    new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), rollbackHooks: [purge] });
    new GuardedAlias(stack, 'C', { function: testFunction(stack, 'FnC') });
    const template = Template.fromStack(stack);
    const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);
    const fnId = (name: string) => id(stack.node.findChild(name) as never);

    test('one rule per alias with hooks, on its own deployment group\'s FAILURE and STOP, to the stack\'s one function', () => {
      const rules = (Object.values(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { detail: { state: ['FAILURE', 'STOP'] } } } })) as Json[])
        .filter((r) => r.Properties.Targets[0].Arn['Fn::GetAtt'][0].startsWith('RollbackHooksFunction'));
      expect(rules).toHaveLength(2);
      const fns = Object.values(template.findResources('AWS::Lambda::Function')).filter((f: Json) => String(f.Properties.Description ?? '').startsWith('cdk-rollout-guardrails rollback hooks'));
      expect(fns).toHaveLength(1);
      const ruleOfA = rules.find((r) => r.Properties.EventPattern.detail.deploymentGroup[0].Ref === id(a.deploymentGroup))!;
      expect(ruleOfA.Properties.EventPattern).toMatchObject({ 'source': ['aws.codedeploy'], 'detail-type': ['CodeDeploy Deployment State-change Notification'] });
      const [target] = ruleOfA.Properties.Targets;
      expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 4 });
      expect(target.DeadLetterConfig).toBeDefined();
      // The input: the deployment and state from the event; the alias and its hooks from synth.
      expect(target.InputTransformer.InputPathsMap).toEqual({ 'detail-deploymentId': '$.detail.deploymentId', 'detail-state': '$.detail.state' });
      const [, parts] = target.InputTransformer.InputTemplate['Fn::Join'];
      expect(parts[0]).toBe('{"deploymentId":<detail-deploymentId>,"state":<detail-state>,"functionName":"');
      expect(parts.filter((p: Json) => p['Fn::GetAtt']).map((p: Json) => p['Fn::GetAtt'][0])).toEqual([id(purge), id(audit)]);
      expect(parts).toContain('","alias":"live","hooks":["');
    });

    test('the function may read the groups\' deployments and AppSpecs and the functions\' versions, and invoke the hooks (unqualified) only', () => {
      const fn = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, f]: [string, Json]) => String(f.Properties.Description ?? '').startsWith('cdk-rollout-guardrails rollback hooks'))![1] as Json;
      const roleId = fn.Properties.Role['Fn::GetAtt'][0];
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: Json) => p.Properties.Roles.some((r: Json) => r.Ref === roleId))
        .flatMap((p: Json) => p.Properties.PolicyDocument.Statement);
      const on = (action: string) => statements.filter((s: Json) => [s.Action].flat().includes(action)).flatMap((s: Json) => [s.Resource].flat());
      expect(on('lambda:InvokeFunction')).toEqual(expect.arrayContaining([{ 'Fn::GetAtt': [id(purge), 'Arn'] }, { 'Fn::GetAtt': [id(audit), 'Arn'] }]));
      expect(JSON.stringify(on('lambda:InvokeFunction'))).not.toContain(':*');
      expect(on('codedeploy:GetDeployment')).toHaveLength(2);
      expect(on('codedeploy:GetApplicationRevision').length).toBeGreaterThanOrEqual(1);
      // Any version of the aliases' own functions (the one rolled out is known only at run time), nothing else.
      expect(on('lambda:GetFunctionConfiguration').map((r: Json) => r['Fn::Join'][1][0]['Fn::GetAtt'][0]).sort()).toEqual([fnId('FnA'), fnId('FnB')].sort());
      expect(on('lambda:GetFunctionConfiguration').every((r: Json) => r['Fn::Join'][1][1] === ':*')).toBe(true);
      expect(statements.flatMap((s: Json) => [s.Action].flat())).not.toContain('lambda:UpdateAlias');
    });

    test('refuses hooks that are not functions, naming the prop and the value', () => {
      const s = testStack();
      expect(() => new GuardedAlias(s, 'X', { function: testFunction(s), rollbackHooks: ['arn:aws:lambda:eu-west-1:123456789012:function:purge' as never] }))
        .toThrow(/rollbackHooks must be an array of Lambda functions \(lambda\.IFunction\), got: \["arn:aws:lambda:eu-west-1:123456789012:function:purge"\]/);
      expect(() => new GuardedAlias(s, 'Y', { function: testFunction(s, 'Fn2'), rollbackHooks: testFunction(s, 'Lone') as never }))
        .toThrow(/rollbackHooks must be an array of Lambda functions \(lambda\.IFunction\), got: /);
    });
  });

  describe('the rollback-hooks function', () => {
    const codedeploy = mockClient(CodeDeployClient);
    const lambda = mockClient(LambdaClient);
    const INPUT = { deploymentId: 'd-FAILED', state: 'FAILURE', functionName: 'answer-fn', alias: 'live', hooks: ['arn:aws:lambda:eu-west-1:123456789012:function:purge', 'arn:aws:lambda:eu-west-1:123456789012:function:audit'] };
    const APPSPEC = JSON.stringify({ Resources: [{ answer: { Type: 'AWS::Lambda::Function', Properties: { Name: 'answer-fn', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }] });
    const handler = () => createRollbackHooksHandler({ codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), log: () => undefined });
    const invoked = () => lambda.commandCalls(InvokeCommand).map((c) => ({ ...c.args[0].input, Payload: JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString('utf8')) }));
    beforeEach(() => {
      codedeploy.reset();
      lambda.reset();
      codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', creator: 'user', revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'abc' } } } });
      codedeploy.on(GetApplicationRevisionCommand).resolves({ revision: { revisionType: 'AppSpecContent', appSpecContent: { content: APPSPEC } } });
      lambda.on(GetFunctionConfigurationCommand, { FunctionName: 'answer-fn', Qualifier: '8' }).resolves({ Environment: { Variables: { RELEASE_ID: '2026-11-26.3' } } });
      lambda.on(InvokeCommand).resolves({ StatusCode: 202 });
    });
    afterAll(() => {
      codedeploy.restore();
      lambda.restore();
    });

    test('invokes each hook asynchronously with the rolled-back version\'s release and its cache namespace', async () => {
      const result = await handler()(INPUT);
      const event = {
        source: 'cdk-rollout-guardrails', event: 'rollback', state: 'FAILURE', deploymentId: 'd-FAILED', functionName: 'answer-fn', alias: 'live',
        targetVersion: '8', currentVersion: '7', releaseId: '2026-11-26.3', cacheNamespace: 'rel-2026-11-26.3:',
      };
      expect(result).toEqual({ invoked: INPUT.hooks, event });
      expect(invoked()).toEqual(INPUT.hooks.map((FunctionName) => ({ FunctionName, InvocationType: 'Event', Payload: event })));
      // The release is the version's own, read from its configuration: not a value fixed at synth.
      expect(lambda.commandCalls(GetFunctionConfigurationCommand)[0].args[0].input).toEqual({ FunctionName: 'answer-fn', Qualifier: '8' });
    });

    test('a version without RELEASE_ID: the hooks still run, told there is no release and no namespace', async () => {
      lambda.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: {} } });
      const result = await handler()(INPUT);
      expect(result).toMatchObject({ event: { releaseId: null, cacheNamespace: null } });
      expect(invoked()).toHaveLength(2);
    });

    test('leaves a rollback deployment\'s own failure alone: its target is the version users are back on', async () => {
      for (const info of [{ creator: 'codeDeployRollback' as const }, { creator: 'user' as const, rollbackInfo: { rollbackTriggeringDeploymentId: 'd-ORIGINAL' } }]) {
        codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', ...info } });
        const result = await handler()(INPUT);
        expect(result).toMatchObject({ skipped: expect.stringMatching(/^deployment d-FAILED is a rollback/) });
      }
      expect(invoked()).toEqual([]);
      expect(lambda.commandCalls(GetFunctionConfigurationCommand)).toHaveLength(0);
    });

    test('a hook that cannot be invoked: the others still are, then the error is thrown for Lambda\'s retries and the dead-letter queue', async () => {
      lambda.on(InvokeCommand, { FunctionName: INPUT.hooks[0] }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
      await expect(handler()(INPUT)).rejects.toThrow('Rate exceeded');
      expect(lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input.FunctionName)).toEqual(INPUT.hooks);
    });

    test('refuses an input that is not the rule\'s, and a deployment CodeDeploy does not know', async () => {
      await expect(handler()({ hello: 'world' } as never)).rejects.toThrow('expected the rollback rule\'s input { deploymentId, state, functionName, alias, hooks }, got: {"hello":"world"}');
      codedeploy.on(GetDeploymentCommand).resolves({});
      await expect(handler()(INPUT)).rejects.toThrow('deployment d-FAILED was not found');
    });
  });
});

describe('provisioned-warmup', () => {
  function setup(options: ProvisionedWarmupOptions, stack: Stack = testStack()) {
    const fn = testFunction(stack);
    const version = fn.currentVersion;
    const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
    const warmup = new ProvisionedWarmup(stack, 'Warmup', { alias, version, ...options });
    return { stack, fn, version, alias, warmup };
  }

  const id = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as any).logicalId) as string;

  function errorOf(options: Partial<ProvisionedWarmupOptions> & { alias?: unknown; version?: unknown }): GuardrailsValidationError {
    const stack = testStack();
    const fn = testFunction(stack);
    const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
    try {
      new ProvisionedWarmup(stack, 'Warmup', { alias, version: fn.currentVersion, ...options } as any);
    } catch (e) {
      expect(e).toBeInstanceOf(GuardrailsValidationError);
      return e as GuardrailsValidationError;
    }
    throw new Error('expected the props to be rejected');
  }

  describe('ProvisionedWarmup with a fixed count', () => {
    test('puts the provisioned concurrency on the published version, nothing on the alias, and no scaling (PC-1, PC-2)', () => {
      const { stack, alias, version, warmup } = setup({ provisionedConcurrency: 5 });
      const t = Template.fromStack(stack);
      expect(t.toJSON().Resources[id(stack, version)].Properties.ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 5 });
      expect(t.toJSON().Resources[id(stack, alias)].Properties.ProvisionedConcurrencyConfig).toBeUndefined();
      t.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 0);
      expect(warmup.alias).toBe(alias);
      expect(warmup.provisionedConcurrency).toBe(5);
      expect(warmup.minCapacity).toBe(5);
      expect(warmup.maxCapacity).toBe(5);
      expect(warmup.autoScaling).toBeUndefined();
    });

    test('the warm gate defaults to the same count, as many pings up to 10, and 2 minutes to be READY', () => {
      expect(setup({ provisionedConcurrency: 5 }).warmup.warmGate).toEqual({ concurrency: 5, pings: 5, readyTimeoutSeconds: 120 });
      expect(setup({ provisionedConcurrency: 40 }).warmup.warmGate).toEqual({ concurrency: 40, pings: 10, readyTimeoutSeconds: 120 });
      expect(setup({ provisionedConcurrency: 5, warmPings: 0, readyTimeout: Duration.minutes(4) }).warmup.warmGate)
        .toEqual({ concurrency: 5, pings: 0, readyTimeoutSeconds: 240 });
    });

    test('makes the published version DESTROY (deleted on rollback and in the cleanup phase), even when the function retains its versions', () => {
      const { stack, version } = setup({ provisionedConcurrency: 2 });
      const resource = Template.fromStack(stack).toJSON().Resources[id(stack, version)];
      expect(resource).toMatchObject({ Type: 'AWS::Lambda::Version', DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });

      const retaining = (warm: boolean) => {
        const stack = testStack();
        const fn = new lambda.Function(stack, 'Fn', {
          runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;'),
          currentVersionOptions: { removalPolicy: RemovalPolicy.RETAIN },
        });
        const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
        if (warm) new ProvisionedWarmup(stack, 'Warmup', { alias, version: fn.currentVersion, provisionedConcurrency: 1 });
        return Template.fromStack(stack).toJSON().Resources[id(stack, fn.currentVersion)];
      };
      expect(retaining(false)).toMatchObject({ DeletionPolicy: 'Retain' });
      expect(retaining(true)).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    });
  });

  describe('ProvisionedWarmup with auto scaling', () => {
    const schedules = [
      { id: 'BusinessHours', schedule: appscaling.Schedule.cron({ hour: '7', minute: '0', weekDay: 'MON-FRI' }), minCapacity: 10, maxCapacity: 50 },
      { schedule: appscaling.Schedule.cron({ hour: '20', minute: '0' }), minCapacity: 1 },
    ];

    test('scales the version (function:<name>:<version>), never the alias, by target tracking on LambdaProvisionedConcurrencyUtilization, with the schedules (PC-6, PC-7)', () => {
      const { stack, fn, alias, warmup } = setup({ autoScaling: { minCapacity: 2, maxCapacity: 20, schedules } });
      const t = Template.fromStack(stack);
      const targets = t.findResources('AWS::ApplicationAutoScaling::ScalableTarget');
      expect(Object.keys(targets)).toHaveLength(1);
      const [targetId, target] = Object.entries(targets)[0] as [string, any];
      expect(target.Properties).toEqual({
        ServiceNamespace: 'lambda',
        ScalableDimension: 'lambda:function:ProvisionedConcurrency',
        MinCapacity: 2,
        MaxCapacity: 20,
        // The function's name and the version's number: a new target with every version.
        ResourceId: { 'Fn::Join': ['', ['function:', { Ref: id(stack, fn) }, ':', { 'Fn::GetAtt': [id(stack, fn.currentVersion), 'Version'] }]] },
        RoleARN: 'arn:aws:iam::123456789012:role/aws-service-role/lambda.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency',
        ScheduledActions: [
          { ScheduledActionName: 'BusinessHours', Schedule: 'cron(0 7 ? * MON-FRI *)', ScalableTargetAction: { MinCapacity: 10, MaxCapacity: 50 } },
          { ScheduledActionName: 'Schedule1', Schedule: 'cron(0 20 * * ? *)', ScalableTargetAction: { MinCapacity: 1 } },
        ],
      });
      expect(JSON.stringify(target.Properties.ResourceId)).not.toContain(id(stack, alias));
      t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        PolicyName: { 'Fn::Join': ['', [Match.stringLikeRegexp('Warmup.*-v$'), { 'Fn::GetAtt': [id(stack, fn.currentVersion), 'Version'] }]] },
        PolicyType: 'TargetTrackingScaling',
        ScalingTargetId: { Ref: targetId },
        TargetTrackingScalingPolicyConfiguration: {
          PredefinedMetricSpecification: { PredefinedMetricType: 'LambdaProvisionedConcurrencyUtilization' },
          TargetValue: 0.7,
        },
      });
      // The alias carries none; the version starts at the floor, and Application Auto Scaling owns it from there.
      expect(t.toJSON().Resources[id(stack, alias)].Properties.ProvisionedConcurrencyConfig).toBeUndefined();
      expect(t.toJSON().Resources[id(stack, fn.currentVersion)].Properties.ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 2 });
      expect(warmup.minCapacity).toBe(2);
      expect(warmup.maxCapacity).toBe(20);
      expect(warmup.provisionedConcurrency).toBeUndefined();
      expect(warmup.scaling).toBeDefined();
      expect(warmup.warmGate).toEqual({ concurrency: 2, pings: 2, readyTimeoutSeconds: 120 });
    });

    test('takes its own utilization target', () => {
      const { stack } = setup({ autoScaling: { minCapacity: 1, maxCapacity: 4, utilizationTarget: 0.5 } });
      Template.fromStack(stack).hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
        TargetTrackingScalingPolicyConfiguration: { TargetValue: 0.5 },
      });
    });
  });

  describe('ProvisionedWarmup.grantWarmGate', () => {
    test('grants the read of the version\'s provisioned concurrency and the pings on exactly this version (no write), GetAlias on the function and the alias', () => {
      const { stack, fn, version, warmup } = setup({ provisionedConcurrency: 3 });
      const hook = testFunction(stack, 'Hook');
      warmup.grantWarmGate(hook);
      const policies = Template.fromStack(stack).findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(stack, hook.role as any) }] } });
      const statements = (Object.values(policies)[0] as any).Properties.PolicyDocument.Statement;
      const fnArn = { 'Fn::GetAtt': [id(stack, fn), 'Arn'] };
      expect(statements).toEqual([
        {
          Action: ['lambda:GetProvisionedConcurrencyConfig', 'lambda:InvokeFunction'],
          Effect: 'Allow',
          Resource: { Ref: id(stack, version) },
        },
        {
          Action: 'lambda:GetAlias',
          Effect: 'Allow',
          Resource: [fnArn, { 'Fn::Join': ['', [fnArn, ':live']] }],
        },
      ]);
    });
  });

  describe('ProvisionedWarmup.metricColdStartShare', () => {
    test('is cold / invocations (0..1) of the release\'s withRelease telemetry, no traffic being 0', () => {
      const { stack, fn, warmup } = setup({ provisionedConcurrency: 1 });
      new cloudwatch.Alarm(stack, 'ColdStarts', { metric: warmup.metricColdStartShare('rel-0123456789ab'), threshold: 0.05, evaluationPeriods: 1 });
      const alarm = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))[0] as any;
      const dimensions = [{ Name: 'FunctionName', Value: { Ref: id(stack, fn) } }, { Name: 'ReleaseId', Value: 'rel-0123456789ab' }];
      expect(alarm.Properties.Metrics).toEqual([
        { Id: 'expr_1', Expression: 'IF(FILL(inv, 0) > 0, FILL(cold, 0) / FILL(inv, 0), 0)', Label: 'Cold-start share of the release (0..1, from withRelease telemetry)', ReturnData: true },
        { Id: 'inv', ReturnData: false, MetricStat: { Metric: { Namespace: 'RolloutGuardrails', MetricName: 'Invocations', Dimensions: dimensions }, Period: 60, Stat: 'Sum' } },
        { Id: 'cold', ReturnData: false, MetricStat: { Metric: { Namespace: 'RolloutGuardrails', MetricName: 'ColdStart', Dimensions: dimensions }, Period: 60, Stat: 'Sum' } },
      ]);
    });

    test('takes a period and a label', () => {
      const { warmup } = setup({ provisionedConcurrency: 1 });
      const metric = warmup.metricColdStartShare('rel-1', { period: Duration.minutes(5), label: 'cold' });
      expect(metric.period.toSeconds()).toBe(300);
      expect(metric.label).toBe('cold');
    });
  });

  describe('ProvisionedWarmup validation', () => {
    const cron = appscaling.Schedule.cron({ hour: '1', minute: '0' });
    test.each([
      [{}, 'provisionedConcurrency must be a count, or autoScaling set instead (exactly one of a fixed count and auto scaling), got: undefined'],
      [{ provisionedConcurrency: 2, autoScaling: { minCapacity: 1, maxCapacity: 2 } }, 'provisionedConcurrency must be left out when autoScaling is set (exactly one of a fixed count and auto scaling), got: 2'],
      [{ provisionedConcurrency: 0 }, 'provisionedConcurrency must be an integer of at least 1, got: 0'],
      [{ provisionedConcurrency: 2.5 }, 'provisionedConcurrency must be an integer of at least 1, got: 2.5'],
      [{ autoScaling: { minCapacity: 0, maxCapacity: 2 } }, 'autoScaling.minCapacity must be an integer of at least 1, got: 0'],
      [{ autoScaling: { minCapacity: 1 } }, 'autoScaling.maxCapacity must be an integer of at least 1, got: undefined'],
      [{ autoScaling: { minCapacity: 5, maxCapacity: 2 } }, 'autoScaling.maxCapacity must be at least autoScaling.minCapacity (5), got: 2'],
      [{ autoScaling: { minCapacity: 1, maxCapacity: 2, utilizationTarget: 1 } }, 'autoScaling.utilizationTarget must be a number at least 0.1 and at most 0.9, got: 1'],
      [{ autoScaling: { minCapacity: 1, maxCapacity: 2, utilizationTarget: 0 } }, 'autoScaling.utilizationTarget must be a number at least 0.1 and at most 0.9, got: 0'],
      [{ autoScaling: { minCapacity: 1, maxCapacity: 2, schedules: [{ schedule: cron, minCapacity: 0 }] } },
        'autoScaling.schedules[0].minCapacity must be at least 1: a scheduled scale-down to 0 removes the version\'s provisioned concurrency configuration, and a deployment while it is gone fails (ProvisionedConcurrencyConfigNotFoundException, aws-cdk issue 29992); keep a floor of 1, got: 0'],
      [{ autoScaling: { minCapacity: 1, maxCapacity: 2, schedules: [{ schedule: '0 1 * * *', minCapacity: 1 }] } },
        'autoScaling.schedules[0].schedule must be an appscaling.Schedule (Schedule.cron(...), Schedule.rate(...), Schedule.at(...)), got: "0 1 * * *"'],
      [{ autoScaling: { minCapacity: 1, maxCapacity: 2, schedules: [{ schedule: cron, minCapacity: 4, maxCapacity: 3 }] } },
        'autoScaling.schedules[0].maxCapacity must be at least its minCapacity (4), got: 3'],
      [{ autoScaling: { minCapacity: 1, maxCapacity: 2, schedules: [{ id: 'Night', schedule: cron, minCapacity: 1 }, { id: 'Night', schedule: cron, minCapacity: 2 }] } },
        'autoScaling.schedules[1].id must be unique among the schedules (schedules[0] has it too), got: "Night"'],
      [{ autoScaling: { minCapacity: 1, maxCapacity: 2, schedules: [{ id: 'a/b', schedule: cron, minCapacity: 1 }] } },
        'autoScaling.schedules[0].id must be 1 to 256 characters without "|", ":" or "/" (an Application Auto Scaling scheduled action name), got: "a/b"'],
      [{ provisionedConcurrency: 2, warmConcurrency: 3 }, 'warmConcurrency must be left out: the new version is warmed by its own provisioned concurrency (provisionedConcurrency or autoScaling.minCapacity), which it gets when it is published, got: 3'],
      [{ provisionedConcurrency: 2, warmPings: 101 }, 'warmPings must be an integer from 0 to 100, got: 101'],
      [{ provisionedConcurrency: 2, warmPings: 3 }, 'warmPings must be at most the version\'s provisioned concurrency (2): more concurrent pings than provisioned environments spill over to on-demand ones, got: 3'],
      [{ provisionedConcurrency: 2, readyTimeout: Duration.seconds(20) }, 'readyTimeout must be whole seconds from 30 seconds to 12 minutes (the warm gate runs inside a CodeDeploy hook, a Lambda function with at most 15 minutes, and the probe after it needs some of them), got: 20 seconds'],
      [{ provisionedConcurrency: 2, readyTimeout: Duration.minutes(13) }, 'readyTimeout must be whole seconds from 30 seconds to 12 minutes (the warm gate runs inside a CodeDeploy hook, a Lambda function with at most 15 minutes, and the probe after it needs some of them), got: 13 minutes'],
      [{ provisionedConcurrency: 2, readyTimeout: Duration.millis(45_500) }, 'readyTimeout must be whole seconds from 30 seconds to 12 minutes (the warm gate runs inside a CodeDeploy hook, a Lambda function with at most 15 minutes, and the probe after it needs some of them), got: 45 seconds 500 millis'],
      [{ provisionedConcurrency: 2, readyTimeout: 600 as any }, 'readyTimeout must be a Duration, got: 600'],
      [{ provisionedConcurrency: 2, alias: 'live' }, 'alias must be a lambda.Alias, got: "live"'],
    ] as Array<[any, string]>)('rejects %j, naming the prop and quoting the value', (options, message) => {
      expect(errorOf(options).problems).toContain(message);
    });

    test('rejects a version the alias does not point at, and a version that is not a lambda.Version', () => {
      const stack = testStack();
      const fn = testFunction(stack);
      const other = testFunction(stack, 'Other');
      const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
      expect(() => new ProvisionedWarmup(stack, 'W', { alias, version: other.currentVersion, provisionedConcurrency: 1 })).toThrow(
        "version must be the version the alias 'TestStack/Live' points at (TestStack/Fn/CurrentVersion), got: the construct at 'TestStack/Other/CurrentVersion'");
      expect(() => new ProvisionedWarmup(stack, 'W2', { alias, version: fn as any, provisionedConcurrency: 1 })).toThrow(
        "version must be a lambda.Version (a published version, e.g. fn.currentVersion), got: the construct at 'TestStack/Fn'");
    });

    test('rejects an alias that already has provisioned concurrency or weights (Lambda refuses provisioned concurrency on a weighted alias)', () => {
      const stack = testStack();
      const fn = testFunction(stack);
      const v1 = new lambda.Version(stack, 'V1', { lambda: fn });
      const owned = new lambda.Alias(stack, 'Owned', { aliasName: 'owned', version: fn.currentVersion, provisionedConcurrentExecutions: 2 });
      const weighted = new lambda.Alias(stack, 'Weighted', { aliasName: 'weighted', version: fn.currentVersion, additionalVersions: [{ version: v1, weight: 0.1 }] });
      expect(() => new ProvisionedWarmup(stack, 'A', { alias: owned, version: fn.currentVersion, provisionedConcurrency: 1 })).toThrow(
        "alias must be an alias without provisioned concurrency of its own (ProvisionedWarmup puts it on each version: a version holds one configuration, on itself or on an alias pointing to it), got: the construct at 'TestStack/Owned'");
      expect(() => new ProvisionedWarmup(stack, 'B', { alias: weighted, version: fn.currentVersion, provisionedConcurrency: 1 })).toThrow(
        'alias must be an alias without additional version weights (Lambda refuses provisioned concurrency on a weighted alias: "Alias with weights can not be used with Provisioned Concurrency"), got: the construct at \'TestStack/Weighted\'');
    });

    test('reports every problem together in one GuardrailsValidationError', () => {
      const e = errorOf({ autoScaling: { minCapacity: 0, maxCapacity: 0, utilizationTarget: 2 }, warmPings: -1, readyTimeout: Duration.seconds(5) });
      expect(e.message).toMatch(/^ProvisionedWarmup 'TestStack\/Warmup' has 5 invalid props:\n {2}- /);
      expect(e.problems.map((p) => p.split(' ')[0])).toEqual([
        'autoScaling.minCapacity', 'autoScaling.maxCapacity', 'autoScaling.utilizationTarget', 'warmPings', 'readyTimeout',
      ]);
    });

    test('accepts the boundaries', () => {
      expect(() => setup({ autoScaling: { minCapacity: 1, maxCapacity: 1, utilizationTarget: 0.9, schedules: [{ schedule: cron, minCapacity: 1, maxCapacity: 1 }] }, warmPings: 0, readyTimeout: Duration.seconds(30) })).not.toThrow();
      expect(() => setup({ provisionedConcurrency: 100, warmPings: 100, readyTimeout: Duration.minutes(12) })).not.toThrow();
    });
  });
});
