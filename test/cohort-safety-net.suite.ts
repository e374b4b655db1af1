// The staged safety net's sticky-cohort part: an execution that ended without clearing its cohort item has it put
// back at 0 % on the current version, on dynalite (a real conditional put), and only while it is still this
// deployment's item; the handler does it on both kinds of event.
import { CodeDeployClient, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from './helpers/sdk-mock';
import { clearCohort, stagedCohortsFromEnv } from '../lambdas/staged/cohort-clear';
import { createSafetyNetHandler } from '../lambdas/staged/safety-net';
import { cohortStateOf, STAGED_COHORTS_ENV } from '../packages/runtime/src/contract/cohort';
import { StagedStartInput } from '../packages/runtime/src/contract/staged';
import { startDynalite, type LocalDynamo } from './helpers/dynalite';

const COHORTS = { 'App/Group': { tableName: 'cohorts', key: 'cohort-abc' } };
const item = (deploymentId: string, weight: number) => ({
  pk: { S: 'cohort-abc' }, weight: { N: String(weight) }, salt: { S: deploymentId }, canary_version: { S: '8' }, deployment_id: { S: deploymentId },
});

describe('clearing a cohort item', () => {
  let dynamo: LocalDynamo;
  let db: DynamoDBClient;
  beforeAll(async () => {
    dynamo = await startDynalite();
    db = dynamo.client();
    await dynamo.createTable('cohorts', 'pk');
  });
  afterAll(() => dynamo.stop());
  const read = async () => (await db.send(new GetItemCommand({ TableName: 'cohorts', Key: { pk: { S: 'cohort-abc' } }, ConsistentRead: true }))).Item as any;

  test('puts the deployment\'s item back at 0 % on the current version', async () => {
    await db.send(new PutItemCommand({ TableName: 'cohorts', Item: item('d-1', 25) }));
    expect(await clearCohort(db, COHORTS, 'App/Group', 'd-1', '7')).toBe('cleared');
    expect(cohortStateOf(await read())).toEqual({ weight: 0, salt: 'd-1', canaryVersion: '7', deploymentId: 'd-1' });
  });

  test('leaves a later deployment\'s item as it is (a late event), and creates none', async () => {
    await db.send(new PutItemCommand({ TableName: 'cohorts', Item: item('d-2', 5) }));
    expect(await clearCohort(db, COHORTS, 'App/Group', 'd-1', '7')).toBe('not-ours');
    expect(cohortStateOf(await read())).toMatchObject({ weight: 5, deploymentId: 'd-2' });
    await dynamo.createTable('empty', 'pk');
    expect(await clearCohort(db, { 'App/Group': { tableName: 'empty', key: 'cohort-abc' } }, 'App/Group', 'd-1', '7')).toBe('not-ours');
  });

  test('an alias without sticky cohorts has nothing to clear; a missing client or a bad environment is an error', async () => {
    expect(await clearCohort(undefined, COHORTS, 'App/Other', 'd-1', '7')).toBe('not-sticky');
    await expect(clearCohort(undefined, COHORTS, 'App/Group', 'd-1', '7')).rejects.toThrow('no DynamoDB client');
    expect(stagedCohortsFromEnv({ [STAGED_COHORTS_ENV]: JSON.stringify(COHORTS) })).toEqual(COHORTS);
    expect(stagedCohortsFromEnv({})).toEqual({});
    expect(() => stagedCohortsFromEnv({ [STAGED_COHORTS_ENV]: '[]' })).toThrow('GUARDRAILS_STAGED_COHORTS must be a JSON object, got: []');
  });

  test('the safety net clears it on an execution\'s end and on the deployment\'s failure', async () => {
    const codedeploy = mockClient(new CodeDeployClient({}));
    const lambdaClient = new LambdaClient({});
    const lambda = mockClient(lambdaClient);
    const sfnClient = new SFNClient({});
    const sfn = mockClient(sfnClient);
    const input: StagedStartInput = {
      deployment: { deploymentId: 'd-3', lifecycleEventHookExecutionId: 'hook-1' },
      target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
      configKey: 'App/Group', deadline: 0,
    };
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
    lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
    const net = createSafetyNetHandler({
      codedeploy: codedeploy as any, lambda: lambdaClient, sfn: sfnClient, stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Staged',
      dynamodb: db, cohorts: COHORTS, log: () => undefined,
    });
    await db.send(new PutItemCommand({ TableName: 'cohorts', Item: item('d-3', 50) }));
    const ended = { source: 'aws.states' as const, detail: { executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Staged:d-3', status: 'TIMED_OUT', input: JSON.stringify(input) } };
    expect(await net(ended)).toMatchObject({ cohort: 'cleared', reported: 'reported' });
    expect(cohortStateOf(await read())).toMatchObject({ weight: 0, canaryVersion: '7' });

    await db.send(new PutItemCommand({ TableName: 'cohorts', Item: item('d-3', 50) }));
    sfn.on(StopExecutionCommand).resolves({} as never);
    sfn.on(DescribeExecutionCommand).resolves({ input: JSON.stringify(input) } as never);
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { revision: { revisionType: 'AppSpecContent', appSpecContent: { content: JSON.stringify({
      version: 0.0, Resources: [{ answer: { Type: 'AWS::Lambda::Function', Properties: { Name: 'answer', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }],
    }) } } } } as never);
    expect(await net({ detail: { deploymentId: 'd-3', state: 'FAILURE' } })).toMatchObject({ stopped: true, cohort: 'cleared' });
    expect(cohortStateOf(await read())).toMatchObject({ weight: 0 });
  });

  test('a clear that fails does not stop the Failed report: the hook is reported first, then the error thrown for a retry', async () => {
    const codedeploy = mockClient(new CodeDeployClient({}));
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
    const lambdaClient = new LambdaClient({});
    mockClient(lambdaClient).on(GetAliasCommand).resolves({ FunctionVersion: '7' });
    const broken = { send: async () => { throw Object.assign(new Error('DynamoDB is down'), { name: 'InternalServerError' }); } } as unknown as DynamoDBClient;
    const net = createSafetyNetHandler({
      codedeploy: codedeploy as any, lambda: lambdaClient, sfn: new SFNClient({}), stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Staged',
      dynamodb: broken, cohorts: COHORTS, log: () => undefined,
    });
    const input = {
      deployment: { deploymentId: 'd-4', lifecycleEventHookExecutionId: 'hook-4' },
      target: { functionName: 'answer', alias: 'live', currentVersion: '7', targetVersion: '8' }, configKey: 'App/Group', deadline: 0,
    };
    const ended = { source: 'aws.states' as const, detail: { executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:Staged:d-4', status: 'FAILED', input: JSON.stringify(input) } };
    await expect(net(ended)).rejects.toThrow('DynamoDB is down');
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input))
      .toEqual([{ deploymentId: 'd-4', lifecycleEventHookExecutionId: 'hook-4', status: 'Failed' }]);
  });
});
