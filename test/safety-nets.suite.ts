// The safety nets on an execution that ends without reporting (SFN-2, SFN-6), and on late events (EB-4): the staged
// net resets the routing of that deployment only and reports Failed; the blue-green hook reports Failed and resumes
// what the execution paused. No hook waits out CodeDeploy's hour.
import {
  CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, LambdaClient, UpdateAliasCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from './helpers/sdk-mock';
import { createHookHandler } from '../lambdas/blue-green/hook';
import { createSafetyNetHandler } from '../lambdas/staged/safety-net';
import { StagedStartInput } from '../packages/runtime/src/contract/staged';

const codedeploy = mockClient(CodeDeployClient);
const lambda = mockClient(LambdaClient);
const sfn = mockClient(SFNClient);
const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Staged';
const net = () => createSafetyNetHandler({
  codedeploy: codedeploy as unknown as CodeDeployClient, lambda: lambda as unknown as LambdaClient, sfn: sfn as unknown as SFNClient,
  stateMachineArn: SM, log: () => undefined,
});
const INPUT: StagedStartInput = {
  deployment: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1' },
  target: { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
  configKey: 'App/Group',
  deadline: 0,
};
const ended = (status: string, input: string | null = JSON.stringify(INPUT)) => ({
  source: 'aws.states' as const,
  'detail-type': 'Step Functions Execution Status Change',
  detail: { executionArn: `${SM.replace(':stateMachine:', ':execution:')}:d-ABC123`, stateMachineArn: SM, status, input },
});

beforeEach(() => {
  codedeploy.reset(); lambda.reset(); sfn.reset();
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  lambda.on(UpdateAliasCommand).resolves({});
});

describe('staged safety net: an execution that ended without success', () => {
  test.each(['FAILED', 'TIMED_OUT', 'ABORTED'])('%s: clears the deployment\'s weight and reports Failed for its hook', async (status) => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: { 8: 0.25 } } });
    const result = await net()(ended(status));
    expect(result).toEqual({ stopped: false, cleared: { 8: 0.25 }, reported: 'reported' });
    expect(lambda.commandCalls(UpdateAliasCommand)[0].args[0].input).toEqual({ FunctionName: 'demo-answer', Name: 'live', RoutingConfig: { AdditionalVersionWeights: {} } });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input))
      .toEqual([{ deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1', status: 'Failed' }]);
  });

  test('a machine that had reported already (its Fail states report first): the refused report is fine, nothing else changes', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(Object.assign(new Error('already completed'), { name: 'LifecycleEventAlreadyCompletedException' }));
    expect(await net()(ended('FAILED'))).toEqual({ stopped: false, cleared: {}, reported: 'already-reported' });
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  test('reads the input with DescribeExecution when the event does not carry it', async () => {
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(INPUT) } as never);
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: { 8: 0.05 } } });
    expect(await net()(ended('TIMED_OUT', null))).toMatchObject({ cleared: { 8: 0.05 }, reported: 'reported' });
    expect(sfn.commandCalls(DescribeExecutionCommand)).toHaveLength(1);
  });

  test('a report that does not get through throws, so that Lambda and EventBridge retry it (and the DLQ keeps it)', async () => {
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    await expect(net()(ended('FAILED'))).rejects.toThrow(/could not report Failed for deployment d-ABC123/);
  }, 15_000);

  test('an event without a staged input is refused with what it got', async () => {
    await expect(net()(ended('FAILED', '{"x":1}'))).rejects.toThrow('has no staged input (deployment, target): {"x":1}');
  });
});

describe('staged safety net: only this deployment\'s weights', () => {
  test('a late event of an earlier deployment leaves the next deployment\'s weight on the alias alone', async () => {
    // The next deployment (version 9) is shifting; the event is the end of the one that targeted 8.
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7', RoutingConfig: { AdditionalVersionWeights: { 9: 0.05 } } });
    expect(await net()(ended('ABORTED'))).toMatchObject({ cleared: {} });
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);

    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', deploymentGroupName: 'Group', revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'f00d' } } } });
    codedeploy.on(GetApplicationRevisionCommand).resolves({
      revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify({ version: 0.0, Resources: [{ Fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'demo-answer', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }] }) } },
    });
    sfn.on(StopExecutionCommand).rejects(Object.assign(new Error('no such execution'), { name: 'ExecutionDoesNotExist' }));
    expect(await net()({ detail: { deploymentId: 'd-ABC123', state: 'FAILURE' } })).toEqual({ stopped: false, cleared: {} });
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });
});

describe('blue-green hook as safety net: an execution that ended without success', () => {
  const BG = 'arn:aws:states:eu-west-1:123456789012:stateMachine:BlueGreen';
  const hook = () => createHookHandler({
    codedeploy: codedeploy as unknown as CodeDeployClient, lambda: lambda as unknown as LambdaClient, sfn: sfn as unknown as SFNClient,
    stateMachineArn: BG, log: () => undefined,
  });
  const input = (phase: 'BeforeAllowTraffic' | 'AfterAllowTraffic', frozen?: string[]) => JSON.stringify({
    deploymentId: 'd-BG1', lifecycleEventHookExecutionId: `hook-${phase}`, applicationName: 'App', deploymentGroupName: 'Group',
    phase, target: INPUT.target, startedAt: 0, ...(frozen ? { frozen } : {}),
  });
  const event = (status: string, text: string) => ({ source: 'aws.states' as const, detail: { executionArn: `${BG.replace(':stateMachine:', ':execution:')}:d-BG1-x`, status, input: text } });

  test('AfterAllowTraffic that TIMED_OUT: reports Failed for its hook (CodeDeploy rolls back) and resumes what it paused; never writes the alias', async () => {
    lambda.on(UpdateEventSourceMappingCommand).resolves({});
    const result = await hook()(event('TIMED_OUT', input('AfterAllowTraffic', ['uuid-1', 'uuid-2'])));
    expect(result).toEqual({ stopped: [], resumed: ['uuid-1', 'uuid-2'], reported: 'reported' });
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input))
      .toEqual([{ deploymentId: 'd-BG1', lifecycleEventHookExecutionId: 'hook-AfterAllowTraffic', status: 'Failed' }]);
    expect(lambda.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input)).toEqual([{ UUID: 'uuid-1', Enabled: true }, { UUID: 'uuid-2', Enabled: true }]);
    expect(lambda.commandCalls(UpdateAliasCommand)).toHaveLength(0);
  });

  test('a machine that had reported already: the refused report is fine', async () => {
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(Object.assign(new Error('done'), { name: 'LifecycleEventAlreadyCompletedException' }));
    expect(await hook()(event('FAILED', input('BeforeAllowTraffic')))).toEqual({ stopped: [], resumed: [], reported: 'already-reported' });
  });

  test('an event without a blue-green input is refused with what it got', async () => {
    await expect(hook()(event('ABORTED', '{"y":2}'))).rejects.toThrow('has no blue-green input (deploymentId, lifecycleEventHookExecutionId): {"y":2}');
  });
});
