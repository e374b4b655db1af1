// The staged consumer fence's capping form (issue #15 §1, "cap queue concurrency per partition"): with
// `fence.maxConcurrency` the starter lowers each running SQS mapping's ScalingConfig.MaximumConcurrency instead of
// pausing it (LAM-16), remembers the value it found, and the gate or the safety net puts that value back (or removes
// the setting it added); a mapping of another source is paused as before.
import { CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { GetEventSourceMappingCommand, LambdaClient, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { GuardedAlias, RolloutStrategy, StagedRollout } from '../lib';
import { capConsumers, readsSqs, resumeConsumers } from '../lambdas/shared/consumers';
import { createStarterHandler, fencesFromEnvironment } from '../lambdas/staged/starter';
import { aliasConfigKey } from '../packages/runtime/src/contract/config-key';
import { decodeFenced, encodeFenced, STAGED_FENCES_ENV } from '../packages/runtime/src/contract/staged';
import { testFunction, testStack } from './util';

const lambdaClient = new LambdaClient({});
const lambdaMock = mockClient(lambdaClient);
const SQS = 'arn:aws:sqs:eu-west-1:123456789012:jobs';
const updates = () => lambdaMock.commandCalls(UpdateEventSourceMappingCommand).map((c) => c.args[0].input);

beforeEach(() => {
  lambdaMock.reset();
  lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'sqs-uncapped' }).resolves({ State: 'Enabled', EventSourceArn: SQS });
  lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'sqs-wide' }).resolves({ State: 'Enabled', EventSourceArn: SQS, ScalingConfig: { MaximumConcurrency: 50 } });
  lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'sqs-narrow' }).resolves({ State: 'Enabled', EventSourceArn: SQS, ScalingConfig: { MaximumConcurrency: 3 } });
  lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'sqs-off' }).resolves({ State: 'Disabled', EventSourceArn: SQS });
  lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'kinesis' }).resolves({ State: 'Enabled', EventSourceArn: 'arn:aws:kinesis:eu-west-1:123456789012:stream/clicks' });
  lambdaMock.on(UpdateEventSourceMappingCommand).resolves({});
});

describe('capping and restoring', () => {
  test('an entry says how to restore its mapping; a bare UUID was paused', () => {
    for (const consumer of [{ uuid: 'a' }, { uuid: 'b', capPrevious: null }, { uuid: 'c', capPrevious: 50 }]) expect(decodeFenced(encodeFenced(consumer))).toEqual(consumer);
    expect(encodeFenced({ uuid: 'b', capPrevious: null })).toBe('b@cap:none');
    expect([SQS, 'arn:aws-cn:sqs:cn-north-1:1:q', 'arn:aws:kinesis:eu-west-1:1:stream/s', undefined].map(readsSqs)).toEqual([true, true, false, false]);
  });

  test('caps each running SQS mapping above the cap, pauses another source, leaves the rest alone', async () => {
    const result = await capConsumers(lambdaClient, ['sqs-uncapped', 'sqs-wide', 'sqs-narrow', 'sqs-off', 'kinesis'], 5);
    expect(result.paused).toEqual(['sqs-uncapped@cap:none', 'sqs-wide@cap:50', 'kinesis']);
    expect(result.skipped).toEqual([
      { uuid: 'sqs-narrow', state: 'MaximumConcurrency 3 already at most 5' },
      { uuid: 'sqs-off', state: 'Disabled' },
    ]);
    expect(updates()).toEqual([
      { UUID: 'sqs-uncapped', ScalingConfig: { MaximumConcurrency: 5 } },
      { UUID: 'sqs-wide', ScalingConfig: { MaximumConcurrency: 5 } },
      { UUID: 'kinesis', Enabled: false },
    ]);
  });

  test('restores each as it was: the previous cap, no cap (an empty ScalingConfig), or running again', async () => {
    await resumeConsumers(lambdaClient, ['sqs-uncapped@cap:none', 'sqs-wide@cap:50', 'kinesis']);
    expect(updates()).toEqual([
      { UUID: 'sqs-uncapped', ScalingConfig: {} },
      { UUID: 'sqs-wide', ScalingConfig: { MaximumConcurrency: 50 } },
      { UUID: 'kinesis', Enabled: true },
    ]);
  });

  test('a failure part way restores what the call capped, then throws', async () => {
    lambdaMock.on(GetEventSourceMappingCommand, { UUID: 'sqs-wide' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const undone: string[] = [];
    await expect(capConsumers(lambdaClient, ['sqs-uncapped', 'sqs-wide'], 5, (fenced, how) => undone.push(`${fenced.join(',')} ${how}`))).rejects.toThrow('Rate exceeded');
    expect(updates()).toEqual([{ UUID: 'sqs-uncapped', ScalingConfig: { MaximumConcurrency: 5 } }, { UUID: 'sqs-uncapped', ScalingConfig: {} }]);
    expect(undone).toEqual(['sqs-uncapped@cap:none restored']);
  });
});

describe('the starter with a capping fence', () => {
  const codedeploy = mockClient(new CodeDeployClient({}));
  const sfnClient = new SFNClient({});
  const sfn = mockClient(sfnClient);
  test('caps before StartExecution and passes the entries that restore them as fenced', async () => {
    const revision = { revisionType: 'AppSpecContent' as const, appSpecContent: { sha256: 'f00d' } };
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', deploymentGroupName: 'Group', revision } });
    codedeploy.on(GetApplicationRevisionCommand).resolves({ revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify({
      version: 0.0, Resources: [{ Fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'demo-answer', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }],
    }) } } });
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Staged:d-1' });
    const fences = fencesFromEnvironment({ [STAGED_FENCES_ENV]: JSON.stringify({ [aliasConfigKey('App', 'Group')]: { consumers: ['sqs-uncapped', 'sqs-off'], maxConcurrency: 4 } }) });
    const starter = createStarterHandler({
      codedeploy: codedeploy as unknown as CodeDeployClient, sfn: sfnClient, lambda: lambdaClient, stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Staged',
      fences, log: () => undefined,
    });
    const result = await starter({ DeploymentId: 'd-1', LifecycleEventHookExecutionId: 'hook-1' });
    expect(result).toMatchObject({ started: true, fenced: ['sqs-uncapped@cap:none'] });
    expect(updates()).toEqual([{ UUID: 'sqs-uncapped', ScalingConfig: { MaximumConcurrency: 4 } }]);
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0].args[0].input.input!).fenced).toEqual(['sqs-uncapped@cap:none']);
    expect(() => fencesFromEnvironment({ [STAGED_FENCES_ENV]: JSON.stringify({ k: { consumers: 'x' } }) })).toThrow(/UUID arrays or \{ consumers, maxConcurrency \} objects/);
  });
});

describe('fence.maxConcurrency at synth', () => {
  test('the starter learns the cap with the mappings; out-of-range values are refused, naming the prop', () => {
    const stack = testStack();
    const consumer = testFunction(stack, 'Consumer');
    const jobs = consumer.addEventSourceMapping('Jobs', { eventSourceArn: new sqs.Queue(stack, 'Queue', { enforceSSL: true }).queueArn });
    new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), strategy: RolloutStrategy.staged({ fence: { consumers: [jobs], maxConcurrency: 4 } }) });
    const starter = StagedRollout.of(stack).starterFunction as lambda.Function;
    const env = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(starter.node.defaultChild as lambda.CfnFunction)].Properties.Environment.Variables;
    // The UUID is a deploy-time value (a Fn::Join in the template); the shape around it is the cap's.
    const text = JSON.stringify(env[STAGED_FENCES_ENV]).replace(/\\/g, '');
    expect(text).toMatch(/"consumers":\["",\{"Ref":"ConsumerJobs[0-9A-F]+"\},""\],"maxConcurrency":4\}/);
    for (const bad of [1, 1001, 2.5]) {
      expect(RolloutStrategy.staged({ fence: { consumers: [jobs], maxConcurrency: bad } }).validate())
        .toEqual([`strategy (staged) fence.maxConcurrency must be an integer from 2 to 1000, got: ${bad}`]);
    }
  });
});
