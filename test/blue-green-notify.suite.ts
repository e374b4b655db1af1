// The blue-green worker's notifications: the message it writes from the machine's records (composeNotification),
// and its publish, against aws-sdk-client-mock and against a local HTTP stand-in of SNS where time matters (a
// publish that hangs or stalls must give up within its deadline and answer the machine: the mock bypasses the
// SDK's HTTP layer, where those bounds live).
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from './helpers/sdk-mock';
import { composeNotification, NotifyEvent } from '../lambdas/blue-green/notification';
import { createWorkerHandler, publishClientConfig } from '../lambdas/blue-green/worker';
import { checkInvariants } from '../lambdas/blue-green/invariants';
import { decideHold } from '../lambdas/blue-green/hold-engine';
import { DEFAULT_STOP_RULES } from '../packages/runtime/src/contract/blue-green';
import { AwsStandIn } from './helpers/aws-standin';

const TARGET = { functionName: 'arn:aws:lambda:eu-west-1:123456789012:function:answer-fn', alias: 'live', currentVersion: '7', targetVersion: '8' };
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:releases';
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const base = {
  op: 'notify' as const, topicArn: TOPIC, deploymentId: 'd-ABC', deploymentGroup: 'Group', execution: 'arn:aws:states:eu-west-1:123456789012:execution:BlueGreen:d-ABC-AfterAllowTraffic',
  target: TARGET,
};
/** A breach of the 5xx rule at the hold's third minute, as the worker decided it. */
const breach = decideHold({
  observation: { source: 'metrics', traffic: { invocations: 1200, errors: 60 }, alarms: [] },
  rules: DEFAULT_STOP_RULES, now: T0 + 180_000, holdStartedAt: T0, holdEndsAt: T0 + 900_000, check: 31,
});
const event: NotifyEvent = { ...base, event: 'breach', phase: 'AfterAllowTraffic', breach };

describe('composeNotification', () => {
  test('a breach names the broken rule with its figures, the loop, and who rolls back to which version; the function by name', () => {
    expect(composeNotification(event)).toEqual({
      source: 'cdk-rollout-guardrails', event: 'blue-green-decision', strategy: 'blue-green', phase: 'after',
      deploymentId: 'd-ABC', deploymentGroup: 'Group', execution: base.execution,
      functionName: 'answer-fn', alias: 'live', currentVersion: '7', targetVersion: '8',
      decision: 'rolled-back', report: 'Failed', failedCheck: 'metrics',
      reasons: [
        'a stop rule broke (metrics check 31, 180 s into the hold): reported Failed, CodeDeploy rolls live back from version 8 to 7',
        'stop rule broken 180 s into the hold, rolling back: 5xx rate of the new version 5 % (60 of 1200) > 1 %',
      ],
      measurements: breach.rules, check: 31, elapsedSeconds: 180, holdSeconds: 900,
      rollback: { owner: 'CodeDeploy', from: '8', to: '7' },
    });
  });

  test('a failed check before the switch is the first that failed, in the order they run', () => {
    const invariants = checkInvariants({ SCHEMA_REV: 'v3' }, { SCHEMA_REV: 'v2' }, '8');
    const smoke = { kind: 'cdk-rollout-guardrails/blue-green/smoke' as const, passed: false, status: 'Failed', reasons: ['minCoverage: 0.4 < 0.7'], questions: 20 };
    const message = composeNotification({ ...base, event: 'failed', phase: 'BeforeAllowTraffic', invariants, smoke });
    expect(message).toMatchObject({ decision: 'failed', failedCheck: 'invariants', phase: 'before' });
    expect(message.reasons).toEqual([
      'the invariant check failed before the switch: the alias stays on version 7, nothing was paused; reporting Failed',
      'SCHEMA_REV: expected "v3", version 8 has "v2"',
    ]);
    // The smoke probe without a report is one check of its own, not judged gate by gate.
    expect(message.measurements.map((m) => [m.name, m.measured, m.passed])).toEqual([['invariant:SCHEMA_REV', 'v2', false], ['smoke', 'Failed', false]]);
  });

  test('an error of the hold (not a stop rule) says which state and why, and that CodeDeploy rolls back', () => {
    const message = composeNotification({ ...event, breach: { kind: 'cdk-rollout-guardrails/blue-green/error', error: 'Lambda.Unknown', cause: 'Watch failed' } });
    expect(message).toMatchObject({
      decision: 'error', measurements: [], rollback: { owner: 'CodeDeploy', from: '8', to: '7' },
      error: { State: 'HoldAndWatch', Error: 'Lambda.Unknown', Cause: 'Watch failed' },
      reasons: ['a step of the hold failed: reported Failed, CodeDeploy rolls live back from version 8 to 7', 'Lambda.Unknown: Watch failed'],
    });
    expect(message).not.toHaveProperty('failedCheck');
  });

  test('refuses an event it does not know, and a held notification without the hold\'s result, naming what is missing', () => {
    expect(() => composeNotification({ ...event, event: 'dance' } as never)).toThrow('expected a notification event passed, failed, held, breach or error, got: "dance"');
    expect(() => composeNotification({ ...event, event: 'held' })).toThrow('a held notification needs the hold\'s result (held)');
  });
});

function worker(sns: SNSClient, publishDeadlineMs?: number) {
  return createWorkerHandler({ lambda: new LambdaClient({}), cloudwatch: new CloudWatchClient({}), sns, publishDeadlineMs, log: () => undefined });
}

describe('the worker\'s notify (aws-sdk-client-mock)', () => {
  const sns = mockClient(SNSClient);
  afterEach(() => sns.reset());
  // The stand-in's tests below need the real client.
  afterAll(() => sns.restore());

  test('publishes the message it wrote to the alias\'s topic and records the message ID', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    expect(await worker(new SNSClient({}))(event)).toEqual({ kind: 'cdk-rollout-guardrails/blue-green/notification', published: true, messageId: 'm-1' });
    const [call] = sns.commandCalls(PublishCommand);
    expect(call.args[0].input.TopicArn).toBe(TOPIC);
    expect(JSON.parse(call.args[0].input.Message!)).toEqual(composeNotification(event));
  });

  test('a publish SNS refuses is recorded, not thrown: the machine goes on as if it had published', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('Topic does not exist'), { name: 'NotFoundException' }));
    expect(await worker(new SNSClient({}))(event)).toEqual({
      kind: 'cdk-rollout-guardrails/blue-green/notification', published: false, error: { Error: 'NotFoundException', Cause: 'Topic does not exist' },
    });
  });

  test('a message it cannot write is the machine\'s error (a bug in the records), not a silent skip', async () => {
    await expect(worker(new SNSClient({}))({ ...event, event: 'held' })).rejects.toThrow('a held notification needs the hold\'s result (held)');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});

describe('the worker\'s notify (a local HTTP stand-in of SNS)', () => {
  let standIn: AwsStandIn;
  let client: SNSClient;
  beforeAll(async () => {
    standIn = await AwsStandIn.start();
  });
  afterAll(async () => {
    client?.destroy();
    await standIn.close();
  });
  beforeEach(() => {
    standIn.reset();
    // The deployed configuration (publishClientConfig), with attempts of 200 ms instead of 5 s.
    client = new SNSClient({ ...publishClientConfig(200), endpoint: standIn.url, region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  });

  test('publishes through the SDK\'s HTTP layer: the Query request carries the topic and the message', async () => {
    standIn.on('Publish', () => ({ MessageId: 'from-stand-in' }));
    expect(await worker(client, 2_000)(event)).toMatchObject({ published: true, messageId: 'from-stand-in' });
    const [call] = standIn.callsOf('Publish');
    expect(call.input.TopicArn).toBe(TOPIC);
    expect(JSON.parse(call.input.Message)).toEqual(composeNotification(event));
  });

  test('a publish that never answers: each attempt is cut off, one retry, then recorded as not published', async () => {
    standIn.behave('Publish', 'hang');
    const started = Date.now();
    const record = await worker(client, 5_000)(event);
    const took = Date.now() - started;
    expect(record).toMatchObject({ published: false });
    expect(standIn.callsOf('Publish')).toHaveLength(2);
    // Two 200 ms attempts and the SDK's back-off between them, well before the 5 s deadline.
    expect(took).toBeLessThan(3_000);
  });

  test('a publish whose body never ends (no request timeout catches it) is given up at its deadline', async () => {
    standIn.behave('Publish', 'stall');
    const started = Date.now();
    const record = await worker(client, 800)(event);
    const took = Date.now() - started;
    expect(record).toMatchObject({ published: false });
    expect(took).toBeGreaterThanOrEqual(700);
    expect(took).toBeLessThan(2_500);
  });

  test('SNS\'s error answer is recorded with its code', async () => {
    standIn.behave('Publish', { error: 'AuthorizationError', status: 403, message: 'not authorized to publish' });
    expect(await worker(client, 2_000)(event)).toMatchObject({ published: false, error: { Cause: 'not authorized to publish' } });
    expect(standIn.callsOf('Publish')).toHaveLength(1);
  });
});
