// Stage 0 in the ΔS probe's BeforeAllowTraffic hook (canary, linear, allAtOnce with GuardedAlias requireShadow):
// the real probe handler (lambdas/probe/index.ts, configured as the DeltaSProbe construct configures it) with the
// SDK mocked at the client layer. The release's shadow record is read before the warm gate and the probe; a
// refusal is reported Failed without probing and published to the alias's topic; the AfterAllowTraffic run and
// an alias without the requirement never read it.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, InvokeCommand, InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { deployedProbe } from './helpers/probe-fixture';
import { createDemoHandler } from '../lambdas/demo-answer';
import { DEFAULT_SHADOW_PROMOTION, SHADOW_PROMOTION_ENV } from '../packages/runtime/src/contract/shadow-promotion';

// The demo's gold set, which the demo handler answers: the probe passes when it runs.
const { handler, remove } = deployedProbe('shadow-probe-');

const lambda = mockClient(LambdaClient);
const codedeploy = mockClient(CodeDeployClient);
const cloudwatch = mockClient(CloudWatchClient);
const ddb = mockClient(DynamoDBClient);
const sns = mockClient(SNSClient);
const build = createDemoHandler({ release: 'v' });
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:releases';
const HOUR = 3600_000;
const event = { DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'exec-1' };
const context = { getRemainingTimeInMillis: () => 300_000 };

function requirement(alias = 'live'): string {
  return JSON.stringify({ [`demo-answer:${alias}`]: { ...DEFAULT_SHADOW_PROMOTION, table: 'shadow-results', releaseId: 'rel-v2', topicArn: TOPIC } });
}

beforeEach(() => {
  for (const m of [lambda, codedeploy, cloudwatch, ddb, sns]) m.reset();
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  const revision = { revisionType: 'AppSpecContent' as const, appSpecContent: { sha256: 'f00d' } };
  const content = JSON.stringify({ version: 0.0, Resources: [{ Fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'demo-answer', Alias: 'live', CurrentVersion: '7', TargetVersion: '8' } } }] });
  codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', deploymentGroupName: 'Group', revision } });
  codedeploy.on(GetApplicationRevisionCommand).resolves({ revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'f00d', content } } });
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  cloudwatch.on(PutMetricDataCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
  lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => ({
    StatusCode: 200, Payload: Buffer.from(JSON.stringify(await build(JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'))))) as never,
    LogResult: Buffer.from('REPORT RequestId: r\tDuration: 20.00 ms\tBilled Duration: 20 ms').toString('base64'),
  }));
});
afterEach(() => {
  delete process.env[SHADOW_PROMOTION_ENV];
  jest.restoreAllMocks();
});
afterAll(remove);

const status = () => codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status);
const versionsInvoked = () => lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input.Qualifier);

test('BeforeAllowTraffic, never shadowed: Failed without probing, the refusal published with its checks', async () => {
  process.env[SHADOW_PROMOTION_ENV] = requirement();
  ddb.on(GetItemCommand).resolves({});
  const result = await handler(event, context);
  expect(result.status).toBe('Failed');
  expect(result.reasons[0]).toMatch(/^shadow: no shadow replay of release rel-v2 was recorded/);
  expect(status()).toEqual(['Failed']);
  expect(versionsInvoked()).toEqual([]);
  expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toMatchObject({ TableName: 'shadow-results', Key: { shadow_id: { S: 'release#rel-v2' } }, ConsistentRead: true });
  const message = JSON.parse(sns.commandCalls(PublishCommand)[0].args[0].input.Message!);
  expect(message).toMatchObject({ event: 'shadow-promotion', decision: 'refuse', deploymentId: 'd-ABC123', functionName: 'demo-answer', alias: 'live', releaseId: 'rel-v2' });
});

test('BeforeAllowTraffic, shadowed for a day: the probe runs and the hook reports its verdict', async () => {
  process.env[SHADOW_PROMOTION_ENV] = requirement();
  ddb.on(GetItemCommand).resolves({ Item: {
    release_id: { S: 'rel-v2' }, first_seen: { N: '0' }, last_seen: { N: String(25 * HOUR) }, replays: { N: '300' }, scored: { N: '300' }, ds_04: { N: '300' },
  } });
  const result = await handler(event, context);
  expect(result.status).toBe('Succeeded');
  expect(new Set(versionsInvoked())).toEqual(new Set(['7', '8']));
  expect(JSON.parse(sns.commandCalls(PublishCommand)[0].args[0].input.Message!)).toMatchObject({ decision: 'promote', reasons: [] });
});

test('AfterAllowTraffic (the alias on the new version) never reads the record', async () => {
  process.env[SHADOW_PROMOTION_ENV] = requirement();
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '8' });
  const result = await handler(event, context);
  expect(result.status).toBe('Succeeded');
  expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
});

test('an alias without the requirement reads neither the alias nor the record', async () => {
  process.env[SHADOW_PROMOTION_ENV] = requirement('other');
  const result = await handler(event, context);
  expect(result.status).toBe('Succeeded');
  expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(0);
  expect(ddb.commandCalls(GetItemCommand)).toHaveLength(0);
});
