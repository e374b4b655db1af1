// The shadow promotion's suites: the probe hook's stage 0 (first: its class mocks are restored in its afterAll, before the dynalite suite's real clients), then the record, the gate's stage 0 and the construct; one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient, GetItemCommand, AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetAliasCommand, InvokeCommand, InvokeCommandInput, LambdaClient, GetEventSourceMappingCommand, UpdateEventSourceMappingCommand, GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from './helpers/sdk-mock';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { deployedProbe } from './helpers/probe-fixture';
import { createDemoHandler } from '../lambdas/demo-answer';
import { DEFAULT_SHADOW_PROMOTION, SHADOW_PROMOTION_ENV, deltaSBin, deltaSBinAttribute, judgeShadowPromotion, medianDeltaS, ShadowPromotionConfig, ShadowReleaseSummary, shadowSummaryKey, summaryFromItem } from '../packages/runtime/src/contract/shadow-promotion';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy, ShadowIntegration, ShadowPromotion, StagedRollout } from '../lib';
import { createGateHandler, GateEvent } from '../lambdas/staged/gate';
import { createWorkerHandler } from '../lambdas/blue-green/worker';
import { BlueGreenAliasConfig, DEFAULT_STOP_RULES } from '../packages/runtime/src/contract/blue-green';
import { shadowVerdict } from '../lambdas/shared/shadow-promotion';
import { INITIAL_PROGRESS, StagedAliasConfig } from '../packages/runtime/src/contract/staged';
import { startDynalite, type LocalDynamo } from './helpers/dynalite';
import { testFunction, testStack } from './util';
import { expectSynthWarnings } from './helpers/console';

describe('shadow-promotion-probe', () => {
  // Stage 0 in the ΔS probe's BeforeAllowTraffic hook (canary, linear, allAtOnce with GuardedAlias requireShadow):
  // the real probe handler (lambdas/probe/index.ts, configured as the DeltaSProbe construct configures it) with the
  // SDK mocked at the client layer. The release's shadow record is read before the warm gate and the probe; a
  // refusal is reported Failed without probing and published to the alias's topic; the AfterAllowTraffic run and
  // an alias without the requirement never read it.
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
  afterAll(() => { remove(); for (const m of [lambda, codedeploy, cloudwatch, ddb, sns]) m.restore(); });

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
});

describe('shadow-promotion', () => {
  // Shadow as a rollout's stage 0 (issue #15 §2), the reading side: the judgement of a release's shadow record,
  // its read (against dynalite, and its request shape with the SDK mock), the staged gate function's stage-0 mode,
  // and GuardedAlias `requireShadow`: its wiring, its least-privilege read and its validation.
  const HOUR = 3600_000;
  const binsAt = (entries: Array<[number, number]>): number[] => {
    const bins = new Array(100).fill(0);
    for (const [bin, count] of entries) bins[bin] = count;
    return bins;
  };
  const GOOD: ShadowReleaseSummary = {
    releaseId: 'rel-v2', firstSeen: 0, lastSeen: 25 * HOUR, replays: 1000, scored: 1000, shadowErrors: 0, shadowTimeouts: 0, liveErrors: 0, schemaViolations: 0,
    bins: binsAt([[10, 600], [40, 300], [90, 100]]), expiresAt: 0,
  };
  const judge = (summary: ShadowReleaseSummary | undefined, settings = DEFAULT_SHADOW_PROMOTION) => judgeShadowPromotion(summary, settings, 'rel-v2');
  const failed = (summary: ShadowReleaseSummary | undefined) => judge(summary).checks.filter((c) => c.passed !== true).map((c) => c.name);

  describe('the judgement of a release\'s shadow record (the seeds\' defaults)', () => {
    test('bins ΔS by hundredths, clamped, and reads the median as the upper edge of its bin', () => {
      expect([0, 0.004, 0.01, 0.125, 0.599, 0.6, 1, 1.7, -1, Number.NaN].map(deltaSBin)).toEqual([0, 0, 1, 12, 59, 60, 99, 99, 0, 0]);
      expect(deltaSBinAttribute(7)).toBe('ds_07');
      expect(medianDeltaS(binsAt([[10, 600], [40, 300], [90, 100]]))).toBe(0.11);
      expect(medianDeltaS(binsAt([[10, 499], [70, 501]]))).toBe(0.71);
      expect(medianDeltaS(new Array(100).fill(0))).toBeUndefined();
    });

    test('passes a release shadowed for a day with a low median, no schema violation and no extra failure', () => {
      const verdict = judge(GOOD);
      expect(verdict.passed).toBe(true);
      expect(verdict.checks.map((c) => [c.name, c.measured, c.threshold, c.passed])).toEqual([
        ['shadow:window', '25 h', '24 h', true],
        ['shadow:medianDeltaS', 0.11, 0.6, true],
        ['shadow:schemaViolations', 0, 0, true],
        ['shadow:errorRateDelta', 0, 0.0005, true],
      ]);
      expect(verdict.summary).toMatch(/^release rel-v2 passed shadow/);
    });

    test('refuses a release never shadowed, with a sentence that says what to do', () => {
      const verdict = judge(undefined);
      expect(verdict.passed).toBe(false);
      expect(verdict.summary).toMatch(/no shadow replay of release rel-v2 was recorded: shadow it first/);
    });

    test('refuses on each of the seeds\' stops, one at a time', () => {
      expect(failed({ ...GOOD, lastSeen: 23 * HOUR })).toEqual(['shadow:window']);
      // A median of exactly 0.60 is a stop (the seed: "stop if ΔS median ≥ 0.60").
      expect(failed({ ...GOOD, bins: binsAt([[59, 600], [10, 400]]) })).toEqual(['shadow:medianDeltaS']);
      expect(failed({ ...GOOD, schemaViolations: 1 })).toEqual(['shadow:schemaViolations']);
      expect(failed({ ...GOOD, shadowTimeouts: 2 })).toEqual(['shadow:errorRateDelta']);
      // Errors the live version made on the same requests are not the shadow's fault.
      expect(failed({ ...GOOD, shadowErrors: 3, liveErrors: 3 })).toEqual([]);
      expect(failed({ ...GOOD, scored: 99, bins: binsAt([[10, 99]]) })).toEqual(['shadow:medianDeltaS']);
      expect(judge({ ...GOOD, scored: 99, bins: binsAt([[10, 99]]) }).summary).toMatch(/only 99 replays scored, fewer than 100/);
    });

    test('refuses a record past its TTL, which DynamoDB may still return before it deletes it', () => {
      const now = Date.UTC(2026, 10, 27);
      const verdict = judgeShadowPromotion({ ...GOOD, expiresAt: now / 1000 - 1 }, DEFAULT_SHADOW_PROMOTION, 'rel-v2', now);
      expect(verdict.passed).toBe(false);
      expect(verdict.summary).toMatch(/the shadow record of release rel-v2 expired at 2026-11-26T23:59:59\.000Z/);
      expect(judgeShadowPromotion({ ...GOOD, expiresAt: now / 1000 + 60 }, DEFAULT_SHADOW_PROMOTION, 'rel-v2', now).passed).toBe(true);
    });

    test('reads a summary item back, missing counters as 0', () => {
      const summary = summaryFromItem({ release_id: { S: 'rel-v2' }, first_seen: { N: '5' }, replays: { N: '3' }, ds_12: { N: '2' }, scored: { N: 'x' } });
      expect(summary).toMatchObject({ releaseId: 'rel-v2', firstSeen: 5, lastSeen: 0, replays: 3, scored: 0, schemaViolations: 0 });
      expect(summary!.bins[12]).toBe(2);
      expect(summaryFromItem(undefined)).toBeUndefined();
    });
  });

  const CONFIG: ShadowPromotionConfig = { ...DEFAULT_SHADOW_PROMOTION, table: 'shadow-results', releaseId: 'rel-v2' };

  describe('reading the record from DynamoDB (dynalite on loopback)', () => {
    let dynamo: LocalDynamo;
    let client: DynamoDBClient;
    beforeAll(async () => {
      dynamo = await startDynalite();
      client = dynamo.client();
      await dynamo.createTable('shadow-results', 'shadow_id');
    });
    afterAll(() => dynamo.stop());

    test('finds the release\'s own item and judges it; another release\'s item is not its record', async () => {
      const item: Record<string, AttributeValue> = {
        shadow_id: { S: shadowSummaryKey('rel-v2') }, release_id: { S: 'rel-v2' }, first_seen: { N: '0' }, last_seen: { N: String(25 * HOUR) },
        replays: { N: '1000' }, scored: { N: '1000' }, [deltaSBinAttribute(10)]: { N: '1000' },
      };
      await client.send(new PutItemCommand({ TableName: 'shadow-results', Item: item }));
      expect((await shadowVerdict(client, CONFIG)).passed).toBe(true);
      const other = await shadowVerdict(client, { ...CONFIG, releaseId: 'rel-v3' });
      expect(other.passed).toBe(false);
      expect(other.summary).toMatch(/no shadow replay of release rel-v3/);
    });

    test('refuses, naming the table and the error, when the record cannot be read', async () => {
      const verdict = await shadowVerdict(client, { ...CONFIG, table: 'no-such-table' });
      expect(verdict.passed).toBe(false);
      expect(verdict.checks).toEqual([expect.objectContaining({ name: 'shadow:record', passed: false })]);
      expect(verdict.summary).toMatch(/could not be read from table no-such-table: ResourceNotFoundException/);
    });
  });

  describe('the staged gate function\'s stage 0', () => {
    // Instances, not the classes: the dynalite suite above uses real clients in the same file.
    const ddb = mockClient(new DynamoDBClient({}));
    const lambdaMock = mockClient(new LambdaClient({}));
    const cloudwatch = mockClient(new CloudWatchClient({}));
    const config = {
      schedule: { steps: [1, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 }, probeBudgetSeconds: 0, recheckSeconds: 60, canaryQuestions: 10 },
      thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 }, alarmNames: [], topicArn: 'arn:aws:sns:eu-west-1:123456789012:releases',
      shadowPromotion: CONFIG,
    } as unknown as StagedAliasConfig;
    const event = (fenced: string[] = []): GateEvent => ({
      mode: 'shadow', deployment: { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1' },
      target: { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' }, config, deadline: Date.now() + HOUR, progress: INITIAL_PROGRESS, fenced,
    });
    const gate = () => createGateHandler({
      cloudwatch: cloudwatch as unknown as CloudWatchClient, lambda: lambdaMock as unknown as LambdaClient, dynamodb: ddb as unknown as DynamoDBClient, log: () => undefined,
    });
    beforeEach(() => { ddb.reset(); lambdaMock.reset(); cloudwatch.reset(); });

    test('reads the one item with a consistent read and, passed, starts the schedule where Init left it', async () => {
      const item = {
        release_id: { S: 'rel-v2' }, first_seen: { N: '0' }, last_seen: { N: String(25 * HOUR) }, replays: { N: '500' }, scored: { N: '500' }, ds_05: { N: '500' },
      };
      ddb.on(GetItemCommand).resolves({ Item: item });
      const out = await gate()(event());
      expect(ddb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: 'shadow-results', Key: { shadow_id: { S: 'release#rel-v2' } }, ConsistentRead: true });
      expect(out).toMatchObject({ next: 'start', decision: 'advance', weight: 0, progress: INITIAL_PROGRESS, probeQuestions: null, probeStopRules: null });
      expect(out.notification).toMatchObject({ event: 'shadow-promotion', strategy: 'staged', decision: 'promote', releaseId: 'rel-v2', reasons: [] });
      // Nothing reads the metrics or alarms for stage 0.
      expect(cloudwatch.calls()).toHaveLength(0);
    });

    test('refused, rolls back at weight 0 and resumes the consumers the starter fenced', async () => {
      ddb.on(GetItemCommand).resolves({});
      lambdaMock.on(GetEventSourceMappingCommand).resolves({ State: 'Disabled' });
      lambdaMock.on(UpdateEventSourceMappingCommand).resolves({});
      const out = await gate()(event(['uuid-1']));
      expect(out).toMatchObject({ next: 'rollback', decision: 'rollback', weight: 0, routing: { AdditionalVersionWeights: {} } });
      expect(out.reasons[0]).toMatch(/no shadow replay of release rel-v2/);
      expect(out.reasons[1]).toMatch(/consumer fence: resumed 1 event source mapping \(uuid-1\): the rollout rolls back/);
      expect(lambdaMock.commandCalls(UpdateEventSourceMappingCommand)[0].args[0].input).toMatchObject({ UUID: 'uuid-1', Enabled: true });
      expect(out.metricData).toContainEqual(expect.objectContaining({ MetricName: 'ShadowPromotion', Value: 0 }));
      expect(out.notification).toMatchObject({ decision: 'refuse' });
    });
  });

  describe('GuardedAlias requireShadow', () => {
    function shadowOf(stack: Stack, live?: lambda.Alias): ShadowIntegration {
      const shadowFn = testFunction(stack, 'ShadowFn');
      const liveFn = live ?? new lambda.Alias(stack, 'OtherLive', { aliasName: 'live', version: testFunction(stack, 'OtherFn').currentVersion });
      return new ShadowIntegration(stack, 'Mirror', {
        api: new apigwv2.HttpApi(stack, 'Http'), method: 'GET', path: '/answer', live: liveFn, sampleRate: 0.1, maxMirrorRps: 10,
        shadow: new lambda.Alias(stack, 'ShadowAlias', { aliasName: 'shadow', version: shadowFn.currentVersion }),
      });
    }
    const GOLD = GoldSet.fromJsonl(JSON.stringify({ id: 'a', question: 'What is a?', paraphrases: ['Explain a.', 'Describe a.'], target: 'a is a thing.' }));

    test('staged: the gate function may read this release\'s record and no other item', () => {
      const stack = testStack();
      const shadow = shadowOf(stack);
      new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), release: { releaseId: 'rel-v2' }, requireShadow: { shadow, window: Duration.hours(12) } });
      const t = Template.fromStack(stack);
      const gateRole = stack.getLogicalId(StagedRollout.of(stack).gateFunction.role!.node.defaultChild as any);
      const statements = Object.values(t.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === gateRole))
        .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      expect(statements).toContainEqual({
        Action: 'dynamodb:GetItem', Effect: 'Allow', Resource: { 'Fn::GetAtt': [stack.getLogicalId(shadow.resultsTable.node.defaultChild as any), 'Arn'] },
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['release#rel-v2'] } },
      });
      expect(JSON.stringify(t.toJSON()).replace(/\\/g, '')).toContain('"windowSeconds":43200');
    });

    test('blue-green: the worker may read this release\'s record; the requirement travels in the alias\'s configuration', () => {
      const stack = testStack();
      const shadow = shadowOf(stack);
      new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), release: { releaseId: 'rel-v2' }, strategy: RolloutStrategy.blueGreen(), requireShadow: { shadow } });
      const t = Template.fromStack(stack);
      const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement)
        .filter((st: any) => st.Action === 'dynamodb:GetItem');
      expect(statements).toHaveLength(1);
      expect(statements[0].Condition).toEqual({ 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['release#rel-v2'] } });
      expect(JSON.stringify(t.toJSON()).replace(/\\/g, '')).toContain('"shadowPromotion":{"table":');
    });

    test('canary with a probe: the probe\'s hook learns the requirement by function and alias, and may publish the decision', () => {
      const stack = testStack();
      const shadow = shadowOf(stack);
      const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
      new GuardedAlias(stack, 'Guarded', {
        function: testFunction(stack), release: { releaseId: 'rel-v2' }, probe, strategy: RolloutStrategy.canary(10, Duration.minutes(5)), requireShadow: { shadow, maxMedianDeltaS: 0.5 },
      });
      // The one-question gold set warns (smallGoldSet): captured and checked, not printed.
      const env = expectSynthWarnings(['cdk-rollout-guardrails:smallGoldSet'], () => Template.fromStack(stack))
        .findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { [SHADOW_PROMOTION_ENV]: Match.anyValue() } } } });
      const [fn] = Object.values(env) as any[];
      const text = JSON.stringify(fn.Properties.Environment.Variables[SHADOW_PROMOTION_ENV]).replace(/\\/g, '');
      expect(text).toContain(':live"');
      expect(text).toContain('"maxMedianDeltaS":0.5');
      expect(text).toContain('"releaseId":"rel-v2"');
    });

    test('the guide\'s worked example: the shadow mirrors the alias that requires it, so requireShadow() comes after the ShadowIntegration', () => {
      const build = (code: string, release: string) => {
        const stack = testStack();
        const answer = testFunction(stack, 'Answer', code);
        const live = new GuardedAlias(stack, 'Live', { function: answer, release: { releaseId: release } });
        const candidate = new lambda.Function(stack, 'Candidate', {
          runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({ v: 2 });'), environment: { RELEASE_ID: 'v2' },
        });
        const shadow = new ShadowIntegration(stack, 'ShadowAnswer', {
          api: new apigwv2.HttpApi(stack, 'Api'), method: 'GET', path: '/answer', live, shadow: candidate.currentVersion, sampleRate: 0.1, maxMirrorRps: 5,
        });
        return { stack, live, shadow };
      };
      // Step 1: v1 live, v2 in shadow; nothing required.
      const day1 = build('exports.handler = async () => ({ v: 1 });', 'v1');
      expect(JSON.stringify(Template.fromStack(day1.stack).toJSON()).replace(/\\/g, '').includes('"shadowPromotion":{')).toBe(false);
      // Step 2: v2 live under the shadow's release ID, required to have passed shadow.
      const day2 = build('exports.handler = async () => ({ v: 2 });', 'v2');
      day2.live.requireShadow({ shadow: day2.shadow });
      const text = JSON.stringify(Template.fromStack(day2.stack).toJSON()).replace(/\\/g, '');
      expect(text.includes('"shadowPromotion":{"table":')).toBe(true);
      expect(text.includes('"releaseId":"v2"')).toBe(true);
      expect(text.includes('release#v2')).toBe(true);
      expect(() => day2.live.requireShadow({ shadow: day2.shadow })).toThrow(/requireShadow is set already/);
    });

    test('refuses, naming each prop and value: no release ID, a bad threshold, a canary without a probe, not a ShadowIntegration', () => {
      const stack = testStack();
      const shadow = shadowOf(stack);
      const make = (id: string, props: Partial<ConstructorParameters<typeof GuardedAlias>[2]>, requireShadow: ShadowPromotion) => () =>
        new GuardedAlias(stack, id, { function: testFunction(stack, `Fn${id}`), requireShadow, ...props });
      expect(make('A', {}, { shadow })).toThrow(/release\.releaseId must be set with requireShadow/);
      expect(make('B', { release: { releaseId: 'r' } }, { shadow, maxMedianDeltaS: 1.5, window: Duration.seconds(5), minScored: 0 }))
        .toThrow(/requireShadow\.window must be from 1 minute to 30 days, got: "5 seconds"[\s\S]*requireShadow\.maxMedianDeltaS must be a number greater than 0 and at most 1, got: 1\.5[\s\S]*requireShadow\.minScored must be an integer from 1/);
      expect(make('C', { release: { releaseId: 'r' }, strategy: RolloutStrategy.canary(10, Duration.minutes(5)) }, { shadow }))
        .toThrow(/requireShadow must be left out with canary unless a probe is set/);
      expect(make('E', { release: { releaseId: 'r' } }, { shadow: 'mirror' as never })).toThrow(/requireShadow\.shadow must be a ShadowIntegration, got: "mirror"/);
    });
  });

  describe('the blue-green worker\'s stage 0 (with the invariants, before the switch)', () => {
    const ddb = mockClient(new DynamoDBClient({}));
    const lambdaClient = new LambdaClient({});
    const lambdaMock = mockClient(lambdaClient);
    const target = { functionName: 'answer-fn', alias: 'live', currentVersion: '7', targetVersion: '8' };
    const config: BlueGreenAliasConfig = {
      holdSeconds: 900, checkIntervalSeconds: 10, metricDelaySeconds: 20, probeBudgetSeconds: 45, smokeQuestions: 20,
      stopRules: DEFAULT_STOP_RULES, invariants: { SCHEMA_REV: 'v3' }, freeze: [], alarmNames: [], shadowPromotion: CONFIG,
    };
    const worker = () => createWorkerHandler({
      lambda: lambdaClient, cloudwatch: new CloudWatchClient({}), sns: new SNSClient({}), dynamodb: ddb as unknown as DynamoDBClient, log: () => undefined,
    });
    beforeEach(() => {
      ddb.reset();
      lambdaMock.reset();
      lambdaMock.on(GetFunctionConfigurationCommand).resolves({ Environment: { Variables: { SCHEMA_REV: 'v3' } } });
    });

    test('pins held but the release never shadowed: the check fails with the shadow checks beside the pins\'', async () => {
      ddb.on(GetItemCommand).resolves({});
      const decision = await worker()({ op: 'invariants', target, config });
      expect(decision).toMatchObject({ passed: false, reasons: [expect.stringMatching(/no shadow replay of release rel-v2/)] });
      expect((decision as any).checks.map((c: any) => c.name)).toEqual(['invariant:SCHEMA_REV', 'shadow:window']);
    });

    test('pins held and the release passed shadow: the check passes and says both', async () => {
      ddb.on(GetItemCommand).resolves({ Item: {
        release_id: { S: 'rel-v2' }, first_seen: { N: '0' }, last_seen: { N: String(25 * HOUR) }, replays: { N: '500' }, scored: { N: '500' }, ds_05: { N: '500' },
      } });
      const decision = await worker()({ op: 'invariants', target, config });
      expect(decision).toMatchObject({ passed: true });
      expect((decision as any).reasons).toEqual([expect.stringMatching(/carries every pin/), expect.stringMatching(/^release rel-v2 passed shadow/)]);
    });
  });
});
