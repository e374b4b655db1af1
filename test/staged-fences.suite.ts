// The staged rollout's early-step consumer fences (issue #15 §1): the strategy's validation, the starter's
// pause, the gate's resume, the safety net's resume, and the synthesized wiring (environment and grants).
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, GetEventSourceMappingCommand, LambdaClient, UpdateAliasCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { mockClient } from './helpers/sdk-mock';
import { RolloutStrategy, StagedRollout, StagedRolloutOptions, StagedRolloutStrategy } from '../lib';
import { createGateHandler, GateEvent } from '../lambdas/staged/gate';
import { createSafetyNetHandler } from '../lambdas/staged/safety-net';
import { createStarterHandler, fencesFromEnvironment } from '../lambdas/staged/starter';
import { pauseConsumers, resumeConsumers } from '../lambdas/shared/consumers';
import { aliasConfigKey } from '../packages/runtime/src/contract/config-key';
import { INITIAL_PROGRESS, STAGED_FENCES_ENV, StagedAliasConfig } from '../packages/runtime/src/contract/staged';
import { testFunction, testStack } from './util';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const TARGET = { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' };
const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Staged';
// One mock of each client for the file's handlers (each describe resets them).
const codedeployMock = mockClient(CodeDeployClient);
const sfn = mockClient(SFNClient);
const lambdaClient = mockClient(LambdaClient);
const clients = { codedeploy: codedeployMock as unknown as CodeDeployClient, sfn: sfn as unknown as SFNClient, lambda: lambdaClient as unknown as LambdaClient };

function mappings(stack: Stack, count: number): lambda.EventSourceMapping[] {
  const fn = testFunction(stack, 'Consumer');
  return Array.from({ length: count }, (_, i) => fn.addEventSourceMapping(`Jobs${i}`, { eventSourceArn: new sqs.Queue(stack, `Queue${i}`, { enforceSSL: true }).queueArn }));
}

describe('strategy: fence validation', () => {
  test('a fence defaults to 25 %, or to the first step above 25 when 25 is not a step; no fence, no fenceUntilStep', () => {
    const stack = testStack();
    const [jobs] = mappings(stack, 1);
    expect(RolloutStrategy.staged({ fence: { consumers: [jobs] } })._schedule().fenceUntilStep).toBe(25);
    expect((RolloutStrategy.staged({ steps: [1, 10, 50, 100], fence: { consumers: [jobs] } }) as StagedRolloutStrategy)._schedule().fenceUntilStep).toBe(50);
    expect(RolloutStrategy.staged({ fence: { consumers: [jobs], untilStep: 50 } })._schedule().fenceUntilStep).toBe(50);
    expect(RolloutStrategy.staged({ fence: { consumers: [jobs] } }).validate()).toEqual([]);
    expect('fenceUntilStep' in RolloutStrategy.staged()._schedule()).toBe(false);
  });

  test('reports every problem together, each with its prop and value', () => {
    const stack = testStack();
    const [jobs] = mappings(stack, 1);
    const problems = RolloutStrategy.staged({ fence: { consumers: [jobs, jobs, 'q' as never], untilStep: 30 } }).validate();
    expect(problems).toEqual([
      'strategy (staged) fence.consumers[1] must be listed once, got: "TestStack/Consumer/Jobs0"',
      'strategy (staged) fence.consumers[2] must be a lambda.IEventSourceMapping, got: "q"',
      'strategy (staged) fence.untilStep must be one of the steps (1, 5, 25, 50, 100), got: 30',
    ]);
    expect(RolloutStrategy.staged({ fence: { consumers: [], untilStep: 1.5 } }).validate()).toEqual([
      'strategy (staged) fence.consumers must be an array of at least one event source mapping, got: []',
      'strategy (staged) fence.untilStep must be an integer from 2 to 100, got: 1.5',
    ]);
    expect(RolloutStrategy.staged({ fence: { consumers: [jobs], untilStep: 1 } }).validate()).toEqual(['strategy (staged) fence.untilStep must be an integer from 2 to 100, got: 1']);
    expect(RolloutStrategy.staged({ fence: 'jobs' as never }).validate()).toEqual(['strategy (staged) fence must be an object { consumers, untilStep? }, got: "jobs"']);
  });
});

describe('shared consumers: pause and resume', () => {
  const client = lambdaClient;
  beforeEach(() => client.reset());

  test('pauses only the running mappings; a failure resumes what this call paused, then throws', async () => {
    client.on(GetEventSourceMappingCommand, { UUID: 'a' }).resolves({ State: 'Enabled' });
    client.on(GetEventSourceMappingCommand, { UUID: 'b' }).resolves({ State: 'Disabled' });
    client.on(GetEventSourceMappingCommand, { UUID: 'c' }).rejects(new Error('throttled'));
    client.on(UpdateEventSourceMappingCommand).resolves({});
    await expect(pauseConsumers(client as unknown as LambdaClient, ['a', 'b'])).resolves.toEqual({ paused: ['a'], skipped: [{ uuid: 'b', state: 'Disabled' }] });
    client.resetHistory();
    await expect(pauseConsumers(client as unknown as LambdaClient, ['a', 'c'])).rejects.toThrow('throttled');
    expect(client.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'a', Enabled: false }, { UUID: 'a', Enabled: true }]);
  });

  test('a resume tries every mapping, then throws the first failure', async () => {
    client.on(UpdateEventSourceMappingCommand, { UUID: 'a' }).rejects(new Error('a failed'));
    client.on(UpdateEventSourceMappingCommand, { UUID: 'b' }).resolves({});
    await expect(resumeConsumers(client as unknown as LambdaClient, ['a', 'b'])).rejects.toThrow('a failed');
    expect(client.commandCalls(UpdateEventSourceMappingCommand)).toHaveLength(2);
  });
});

/** CodeDeploy serving a deployment whose AppSpec moves demo-answer:live from 7 to 8 (application App, group Group). */
function serveDeployment(): void {
  const revision = { revisionType: 'AppSpecContent' as const, appSpecContent: { sha256: 'f00d' } };
  codedeployMock.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', deploymentGroupName: 'Group', revision } });
  codedeployMock.on(GetApplicationRevisionCommand).resolves({
    revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify({ version: 0.0, Resources: [{ Fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'demo-answer', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }] }) } },
  });
}

describe('starter: pauses the fenced consumers', () => {
  const starter = () => createStarterHandler({
    ...clients,
    fences: { [aliasConfigKey('App', 'Group')]: ['uuid-run', 'uuid-off', 'uuid-updating'], [aliasConfigKey('App', 'Other')]: ['uuid-other'] },
    stateMachineArn: SM, now: () => NOW, log: () => undefined,
  });
  beforeEach(() => {
    codedeployMock.reset(); sfn.reset(); lambdaClient.reset();
    serveDeployment();
    lambdaClient.on(GetEventSourceMappingCommand, { UUID: 'uuid-run' }).resolves({ State: 'Enabled' });
    lambdaClient.on(GetEventSourceMappingCommand, { UUID: 'uuid-off' }).resolves({ State: 'Disabled' });
    lambdaClient.on(GetEventSourceMappingCommand, { UUID: 'uuid-updating' }).resolves({ State: 'Updating' });
    lambdaClient.on(UpdateEventSourceMappingCommand).resolves({});
  });

  test('pauses the alias\'s running mappings only, before StartExecution, and passes exactly those as fenced', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: `${SM}:d-ABC123` });
    const result = await starter()({ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' });
    expect(result).toEqual({ started: true, executionArn: `${SM}:d-ABC123`, fenced: ['uuid-run', 'uuid-updating'] });
    expect(lambdaClient.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([
      { UUID: 'uuid-run', Enabled: false }, { UUID: 'uuid-updating', Enabled: false },
    ]);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!).fenced).toEqual(['uuid-run', 'uuid-updating']);
    // The other alias's mapping is not touched.
    expect(lambdaClient.commandCalls(GetEventSourceMappingCommand).map((c) => c.args[0].input.UUID)).not.toContain('uuid-other');
  });

  test('resumes what it paused when StartExecution fails, then reports Failed', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('State Machine Does Not Exist'), { name: 'StateMachineDoesNotExist' }));
    const result = await starter()({ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' });
    expect(result).toEqual({ started: false, reason: 'State Machine Does Not Exist' });
    expect(lambdaClient.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([
      { UUID: 'uuid-run', Enabled: false }, { UUID: 'uuid-updating', Enabled: false },
      { UUID: 'uuid-run', Enabled: true }, { UUID: 'uuid-updating', Enabled: true },
    ]);
    expect(codedeployMock.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0].args[0].input.status).toBe('Failed');
  });

  test('a second invocation for a running execution resumes what it paused itself and reports nothing', async () => {
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Execution Already Exists'), { name: 'ExecutionAlreadyExists' }));
    const result = await starter()({ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1' });
    expect(result).toEqual({ started: true, reason: 'already started' });
    expect(lambdaClient.commandCalls(UpdateEventSourceMappingCommand).filter((c) => c.args[0].input.Enabled === true)).toHaveLength(2);
    expect(codedeployMock.commandCalls(PutLifecycleEventHookExecutionStatusCommand)).toHaveLength(0);
  });

  test('reads the fences from GUARDRAILS_STAGED_FENCES', () => {
    expect(fencesFromEnvironment({})).toEqual({});
    expect(fencesFromEnvironment({ [STAGED_FENCES_ENV]: '{"App/Group":["u1"]}' })).toEqual({ 'App/Group': ['u1'] });
    expect(() => fencesFromEnvironment({ [STAGED_FENCES_ENV]: '{"App/Group":"u1"}' })).toThrow(STAGED_FENCES_ENV);
  });
});

describe('gate: lifts the fence', () => {
  const cloudwatch = mockClient(CloudWatchClient);
  const CONFIG: StagedAliasConfig = {
    schedule: {
      steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 1, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
      probeBudgetSeconds: 300, recheckSeconds: 60, canaryQuestions: 10, stopRules: [], fenceUntilStep: 25,
    },
    thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 },
    alarmNames: [],
  };
  const gate = () => createGateHandler({
    cloudwatch: cloudwatch as unknown as CloudWatchClient, lambda: clients.lambda, now: () => NOW, log: () => undefined,
  });
  const event = (stepIndex: number, overrides: Partial<GateEvent> = {}): GateEvent => ({
    deployment: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1' },
    target: TARGET, config: CONFIG, deadline: NOW + 58 * 60_000,
    progress: { ...INITIAL_PROGRESS, stepIndex }, probe: null, fenced: ['uuid-a', 'uuid-b'], ...overrides,
  });
  const healthy = { MetricDataResults: [{ Id: 'ci', Values: [400] }, { Id: 'ce', Values: [0] }, { Id: 'cp', Values: [100] }, { Id: 'ki', Values: [8000] }, { Id: 'ke', Values: [0] }, { Id: 'kp', Values: [100] }] };
  const resumes = () => lambdaClient.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input);
  beforeEach(() => {
    cloudwatch.reset(); lambdaClient.reset();
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
    cloudwatch.on(GetMetricDataCommand).resolves(healthy);
    lambdaClient.on(UpdateEventSourceMappingCommand).resolves({});
  });

  test('keeps the consumers paused while shifting to 1 and 5 %', async () => {
    for (const [stepIndex, weight] of [[0, 1], [1, 5]]) {
      const out = await gate()(event(stepIndex));
      expect(out).toMatchObject({ next: 'shift', weight });
      expect(out.progress.fenceLifted).toBeUndefined();
    }
    expect(resumes()).toEqual([]);
  });

  test('resumes the consumers when shifting to 25 %, says so, and only once', async () => {
    const out = await gate()(event(2));
    expect(out).toMatchObject({ next: 'shift', weight: 25 });
    expect(resumes()).toEqual([{ UUID: 'uuid-a', Enabled: true }, { UUID: 'uuid-b', Enabled: true }]);
    expect(out.progress.fenceLifted).toBe(true);
    expect(out.reasons[out.reasons.length - 1]).toBe('consumer fence: resumed 2 event source mappings (uuid-a, uuid-b): the weight reaches 25 % (the fence lifts at 25 %)');
    // The bake slices and the next shift carry the flag and resume nothing again.
    const bake = await gate()(event(3, { progress: out.progress }));
    expect(bake.next).toBe('bake');
    expect(bake.progress.fenceLifted).toBe(true);
    const later = await gate()(event(3, { progress: { ...INITIAL_PROGRESS, stepIndex: 3, fenceLifted: true } }));
    expect(later).toMatchObject({ next: 'shift', weight: 50, progress: { fenceLifted: true } });
    expect(resumes()).toHaveLength(2);
  });

  test('resumes the consumers on a rollback, before the fence\'s step', async () => {
    cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'Errors', StateValue: 'ALARM' }] });
    const out = await gate()(event(1, { config: { ...CONFIG, alarmNames: ['Errors'] } }));
    expect(out.next).toBe('rollback');
    expect(resumes()).toEqual([{ UUID: 'uuid-a', Enabled: true }, { UUID: 'uuid-b', Enabled: true }]);
    expect(out.reasons[out.reasons.length - 1]).toContain('the rollout rolls back');
  });

  test('resumes the consumers on success when the fence lifts at 100 %', async () => {
    const config = { ...CONFIG, schedule: { ...CONFIG.schedule, fenceUntilStep: 100 } };
    const out = await gate()(event(4, { config }));
    expect(out.next).toBe('succeed');
    expect(resumes()).toHaveLength(2);
    expect(out.reasons[out.reasons.length - 1]).toContain('the rollout succeeds');
  });

  test('resumes nothing without fenced consumers', async () => {
    const out = await gate()(event(2, { fenced: [] }));
    expect(out.next).toBe('shift');
    expect(out.progress.fenceLifted).toBeUndefined();
    expect(resumes()).toEqual([]);
  });

  test('throws when the resume fails (the machine resets and reports Failed; the safety net resumes)', async () => {
    lambdaClient.on(UpdateEventSourceMappingCommand).rejects(new Error('TooManyRequestsException'));
    await expect(gate()(event(2))).rejects.toThrow('TooManyRequestsException');
  });
});

describe('safety net: resumes the fenced consumers', () => {
  const net = () => createSafetyNetHandler({ ...clients, stateMachineArn: SM, log: () => undefined });
  const input = {
    deployment: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1' }, target: TARGET, configKey: 'App/Group', deadline: NOW, fenced: ['uuid-a'],
  };
  beforeEach(() => {
    codedeployMock.reset(); lambdaClient.reset(); sfn.reset();
    serveDeployment();
    lambdaClient.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: { 8: 0.05 } } });
    lambdaClient.on(UpdateAliasCommand).resolves({});
    lambdaClient.on(UpdateEventSourceMappingCommand).resolves({});
    codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  });

  test('an execution that ended FAILED: the input\'s fenced consumers are resumed beside the weights and the report', async () => {
    const result = await net()({ source: 'aws.states', detail: { executionArn: `${SM}:d-ABC123`, status: 'FAILED', input: JSON.stringify(input) } });
    expect(result).toMatchObject({ cleared: { 8: 0.05 }, reported: 'reported', resumed: ['uuid-a'] });
    expect(lambdaClient.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-a', Enabled: true }]);
  });

  test('an execution whose input is not in the event is described', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(input) });
    const result = await net()({ source: 'aws.states', detail: { executionArn: `${SM}:d-ABC123`, status: 'TIMED_OUT', input: null } });
    expect(result.resumed).toEqual(['uuid-a']);
  });

  test('a deployment that FAILED: the stopped execution\'s fenced consumers are resumed too', async () => {
    sfn.on(StopExecutionCommand).resolves({});
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(input) });
    const result = await net()({ detail: { deploymentId: 'd-ABC123', state: 'FAILURE' } });
    expect(result).toEqual({ stopped: true, cleared: { 8: 0.05 }, resumed: ['uuid-a'] });
    expect(sfn.commandCalls(DescribeExecutionCommand)[0].args[0].input.executionArn).toBe(`${SM.replace(':stateMachine:', ':execution:')}:d-ABC123`);
  });

  test('a failed resume still reports Failed, then throws so that EventBridge retries', async () => {
    lambdaClient.on(UpdateEventSourceMappingCommand).rejects(new Error('TooManyRequestsException'));
    await expect(net()({ source: 'aws.states', detail: { executionArn: `${SM}:d-ABC123`, status: 'ABORTED', input: JSON.stringify(input) } })).rejects.toThrow('TooManyRequestsException');
    expect(codedeployMock.commandCalls(PutLifecycleEventHookExecutionStatusCommand)).toHaveLength(1);
  });
});

/** One staged alias (application App, deployment group Group) attached with `options`. */
function attachStaged(stack: Stack, options: StagedRolloutOptions): StagedRollout {
  const fn = testFunction(stack, 'Fn');
  const version = fn.currentVersion;
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
  const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', {
    alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE, deploymentGroupName: 'Group',
    application: new codedeploy.LambdaApplication(stack, 'App', { applicationName: 'App' }),
  });
  const machinery = StagedRollout.of(stack);
  machinery.attach({ alias, version, deploymentGroup, strategy: RolloutStrategy.staged(options) });
  return machinery;
}

describe('the synthesized stack', () => {
  test('the starter\'s GUARDRAILS_STAGED_FENCES names the mapping by configuration key; the grants name the mapping\'s ARN only', () => {
    const stack = testStack();
    const [jobs] = mappings(stack, 1);
    const machinery = attachStaged(stack, { fence: { consumers: [jobs] } });
    const template = Template.fromStack(stack).toJSON();
    const logicalId = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as never);

    // The environment: {"App/Group":["<the mapping's Ref>"]}.
    const env = template.Resources[logicalId(machinery.starterFunction)].Properties.Environment.Variables[STAGED_FENCES_ENV];
    // A Ref to the named application or deployment group is its name; the mapping's Ref is its UUID.
    const named = (ref: string): string => {
      if (ref === logicalId(jobs)) return 'MAPPING';
      const { Type, Properties } = template.Resources[ref];
      return Type === 'AWS::CodeDeploy::Application' ? Properties.ApplicationName : Properties.DeploymentGroupName;
    };
    const text = (env['Fn::Join'][1] as unknown[]).map((p: any) => (typeof p === 'string' ? p : named(p.Ref))).join('');
    expect(JSON.parse(text)).toEqual({ [aliasConfigKey('App', 'Group')]: ['MAPPING'] });
    // The functions without a fence know nothing of it.
    expect(template.Resources[logicalId(machinery.gateFunction)].Properties.Environment?.Variables?.[STAGED_FENCES_ENV]).toBeUndefined();

    // The grants: the starter, the gate and the safety net each read and update exactly the mapping.
    const arn = stack.resolve(jobs.eventSourceMappingArn);
    const granted = new Map<string, unknown[]>();
    for (const resource of Object.values(template.Resources) as any[]) {
      if (resource.Type !== 'AWS::IAM::Policy') continue;
      for (const statement of resource.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        if (!actions.some((a: string) => /EventSourceMapping/.test(a))) continue;
        expect(actions).toEqual(['lambda:GetEventSourceMapping', 'lambda:UpdateEventSourceMapping']);
        for (const role of resource.Properties.Roles) granted.set(role.Ref, [statement.Resource].flat());
      }
    }
    const roleOf = (f: lambda.Function) => stack.getLogicalId(f.role!.node.defaultChild as never);
    expect(new Set(granted.keys())).toEqual(new Set([machinery.starterFunction, machinery.gateFunction, machinery.safetyNetFunction].map(roleOf)));
    for (const resources of granted.values()) expect(resources).toEqual([arn]);
    // The schedule in the definition carries the fence's step.
    expect(JSON.stringify(template.Resources[logicalId(machinery.stateMachine)].Properties.DefinitionString)).toMatch(/fenceUntilStep[\\"]*:25\}/);
  });

  test('without a fence the starter has no GUARDRAILS_STAGED_FENCES and no function may touch a mapping', () => {
    const stack = testStack();
    attachStaged(stack, {});
    const text = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(text).not.toContain(STAGED_FENCES_ENV);
    expect(text).not.toContain('EventSourceMapping"');
    expect(text).not.toContain('lambda:GetEventSourceMapping');
  });
});
