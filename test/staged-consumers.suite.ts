// The staged rollout's consumer suites (the queue-age gate and the fence cap), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import { CloudWatchClient, DescribeAlarmsCommand, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { LambdaClient, GetEventSourceMappingCommand, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { mockClient } from './helpers/sdk-mock';
import { CodeDeployClient, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedAlias, QueueAgeGate, ReleaseDashboard, RolloutStrategy, StagedRollout } from '../lib';
import { createGateHandler, GateEvent, planStep } from '../lambdas/staged/gate';
import { leastSquaresSlope, queueAgeChecks } from '../lambdas/shared/queue-age';
import { createWorkerHandler, queueWindow } from '../lambdas/blue-green/worker';
import { BlueGreenAliasConfig, DEFAULT_STOP_RULES as DEFAULT_BLUE_GREEN_STOP_RULES } from '../packages/runtime/src/contract/blue-green';
import { INITIAL_PROGRESS, StagedAliasConfig, decodeFenced, encodeFenced, STAGED_FENCES_ENV } from '../packages/runtime/src/contract/staged';
import { testFunction, testStack } from './util';
import { capConsumers, readsSqs, resumeConsumers } from '../lambdas/shared/consumers';
import { createStarterHandler, fencesFromEnvironment } from '../lambdas/staged/starter';
import { aliasConfigKey } from '../packages/runtime/src/contract/config-key';

describe('staged-queue-age', () => {
  // The queue-age gate (deploy_traffic_shaping.md: "Gates per step: … queue age slope ≤ 0"): each queue's
  // ApproximateAgeOfOldestMessage over the step's window (a blue-green hold's last minutes), one Maximum a minute,
  // judged by its least-squares slope.

  const RULE = { queueNames: ['orders'], maxSlopeSecondsPerMinute: 6, minAgeSeconds: 60 };
  const NOW = Date.UTC(2026, 0, 1, 12);
  const CONFIG: StagedAliasConfig = {
    schedule: {
      steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
      probeBudgetSeconds: 300, recheckSeconds: 60, canaryQuestions: 10, stopRules: [],
    },
    thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.25, maxErrorRate: 0.01 },
    alarmNames: [],
    queueAge: RULE,
  };
  const TRAFFIC = { canary: { invocations: 500, errors: 0, p95Ms: 100 }, control: { invocations: 5000, errors: 1, p95Ms: 100 } };
  const event = (overrides: Partial<GateEvent> = {}): GateEvent => ({
    deployment: { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1' },
    target: { functionName: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2' },
    config: CONFIG,
    deadline: NOW + 3_000_000,
    progress: { ...INITIAL_PROGRESS, stepIndex: 2 },
    probe: { status: 'Succeeded', reasons: [] },
    ...overrides,
  });

  describe('the queue-age judgement', () => {
    test('the least-squares slope of one value a minute', () => {
      expect(leastSquaresSlope([60, 120, 180, 240, 300])).toBeCloseTo(60);
      expect(leastSquaresSlope([100, 100, 100])).toBe(0);
      expect(leastSquaresSlope([300, 240, 180])).toBeCloseTo(-60);
      // Noise around a flat line: the fit, not the last step, is judged.
      expect(leastSquaresSlope([100, 110, 95, 108, 97])).toBeCloseTo(-0.8, 5);
    });

    test('a backlog that grows fails; a flat, falling or young one passes; fewer than two minutes are no data', () => {
      const judge = (ages: number[]) => queueAgeChecks([{ queueName: 'orders', ages }], RULE)[0];
      expect(judge([60, 120, 180, 240, 300])).toMatchObject({
        name: 'queueAge:orders', passed: false, threshold: 6,
        reason: 'queue age of orders: slope +60 s/min > 6 s/min over 5 min, oldest message 300 s',
      });
      expect(judge([120, 124, 119, 125, 121]).passed).toBe(true);
      expect(judge([400, 300, 200]).passed).toBe(true);
      expect(judge([2, 9, 20, 35, 50])).toMatchObject({ passed: true, reason: expect.stringMatching(/oldest message 50 s < 60 s, no backlog/) });
      expect(judge([300])).toMatchObject({ passed: null, measured: null, reason: expect.stringMatching(/no data \(1 one-minute datapoint of ApproximateAgeOfOldestMessage/) });
      expect(judge([])).toMatchObject({ passed: null });
    });
  });

  describe('the staged gate with queues', () => {
    test('a growing backlog fails the check like any gate: held, then rolled back', () => {
      const observed = { alarms: [], ...TRAFFIC, queues: [{ queueName: 'orders', ages: [60, 120, 180, 240, 300] }], now: NOW };
      const first = planStep(event(), observed);
      expect(first).toMatchObject({ decision: 'hold', next: 'recheck' });
      expect(first.reasons[0]).toContain('queue age of orders: slope +60 s/min > 6 s/min');
      const second = planStep(event({ progress: first.progress }), observed);
      expect(second).toMatchObject({ decision: 'rollback', next: 'rollback', weight: 0 });
    });

    test('is not judged before the new version serves traffic', () => {
      const out = planStep(event({ progress: INITIAL_PROGRESS }), { alarms: [], queues: [{ queueName: 'orders', ages: [60, 600] }], now: NOW });
      expect(out).toMatchObject({ decision: 'advance', next: 'shift', weight: 1 });
      expect(out.gates.map((g) => g.name)).not.toContain('queueAge:orders');
    });

    test('a queue without data follows the noData policy: pass says so, fail rolls back after the wait', () => {
      const quiet = { alarms: [], ...TRAFFIC, queues: [{ queueName: 'orders', ages: [] }], now: NOW };
      const passed = planStep(event(), quiet);
      expect(passed).toMatchObject({ decision: 'advance', next: 'shift' });
      expect(passed.reasons[0]).toContain('(no data after 0 s; the noData policy is pass)');
      const strict = { ...CONFIG, schedule: { ...CONFIG.schedule, noData: { maxWaitSeconds: 60, then: 'fail' as const, minInvocations: 10 } } };
      const waiting = planStep(event({ config: strict }), quiet);
      expect(waiting).toMatchObject({ decision: 'hold', next: 'recheck' });
      expect(planStep(event({ config: strict, progress: waiting.progress }), quiet)).toMatchObject({ decision: 'rollback' });
    });

    test('the gate function reads each queue\'s age with the traffic, one Maximum a minute over the bake just finished', async () => {
      const cloudwatch = mockClient(CloudWatchClient);
      cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
      const minute = (i: number) => new Date(NOW - (5 - i) * 60_000);
      cloudwatch.on(GetMetricDataCommand).resolves({
        MetricDataResults: [
          { Id: 'ci', Values: [400] }, { Id: 'ce', Values: [0] }, { Id: 'cp', Values: [100] },
          { Id: 'ki', Values: [8000] }, { Id: 'ke', Values: [2] }, { Id: 'kp', Values: [100] },
          // Out of order on purpose: the series is sorted by timestamp.
          { Id: 'q0', Timestamps: [minute(4), minute(0), minute(2), minute(1), minute(3)], Values: [300, 60, 180, 120, 240] },
        ],
      });
      const handler = createGateHandler({ cloudwatch: cloudwatch as unknown as CloudWatchClient, now: () => NOW, log: () => undefined });
      const out = await handler(event());
      expect(out.decision).toBe('hold');
      expect(out.gates.find((g) => g.name === 'queueAge:orders')).toMatchObject({ passed: false, measured: 60 });
      const input = cloudwatch.commandCalls(GetMetricDataCommand)[0].args[0].input;
      expect(input.StartTime).toEqual(new Date(NOW - 300_000));
      expect(input.EndTime).toEqual(new Date(NOW));
      expect(input.MetricDataQueries?.find((q) => q.Id === 'q0')).toEqual({
        Id: 'q0',
        MetricStat: {
          Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: 'orders' }] },
          Period: 60, Stat: 'Maximum', Unit: 'Seconds',
        },
        ReturnData: true,
      });
      cloudwatch.restore();
    });
  });

  describe('RolloutStrategy.staged queues', () => {
    test('writes each queue\'s name and the rule into the alias\'s configuration', () => {
      const stack = testStack();
      const queue = new sqs.Queue(stack, 'Orders');
      new GuardedAlias(stack, 'Answer', {
        function: testFunction(stack), strategy: RolloutStrategy.staged({ queues: [queue], queueAge: { maxSlope: 0, minAge: Duration.seconds(30) } }),
      });
      const [machine] = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine')) as any[];
      // The definition's text with its tokens named and the escaping of the embedded configuration taken out.
      const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
      const text = parts.map((p: any) => (typeof p === 'string' ? p : p['Fn::GetAtt'] ? `<${p['Fn::GetAtt'].join('.')}>` : `<${p.Ref}>`)).join('').replace(/\\/g, '');
      const queueId = stack.getLogicalId(queue.node.defaultChild as sqs.CfnQueue);
      expect(text).toContain(`"queueAge":{"queueNames":["<${queueId}.QueueName>"],"maxSlopeSecondsPerMinute":0,"minAgeSeconds":30}`);
    });

    test('the release dashboard graphs each queue\'s oldest message as the gate reads it', () => {
      const stack = testStack();
      const queue = new sqs.Queue(stack, 'Orders');
      new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.staged({ queues: [queue] }) });
      new GuardedAlias(stack, 'Plain', { function: testFunction(stack, 'PlainFn') });
      new ReleaseDashboard(stack, 'Dashboard');
      const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')) as any[];
      const body = JSON.stringify(dashboard.Properties.DashboardBody);
      // One queue widget, for the alias with queues: the SQS metric, one maximum a minute.
      expect(body.match(/Queue age: the oldest message/g)).toHaveLength(1);
      expect(body).toContain('\\"AWS/SQS\\",\\"ApproximateAgeOfOldestMessage\\",\\"QueueName\\",\\"');
      expect(body.replace(/\\/g, '')).toContain('Orders oldest message (s)","period":60,"stat":"Maximum"}');
    });

    test('defaults: a rise of 6 s a minute, judged from a minute old; no queues, no gate', () => {
      const stack = testStack();
      const queue = new sqs.Queue(stack, 'Orders');
      expect(RolloutStrategy.staged({ queues: [queue] })._queueAge()).toMatchObject({ maxSlopeSecondsPerMinute: 6, minAgeSeconds: 60 });
      expect(RolloutStrategy.staged()._queueAge()).toBeUndefined();
    });

    test('every bad queue option is reported together, naming the prop and the value', () => {
      const stack = testStack();
      const queue = new sqs.Queue(stack, 'Orders');
      expect(RolloutStrategy.staged({
        queues: [queue, queue, 'orders' as unknown as sqs.IQueue],
        queueAge: { maxSlope: -1, minAge: Duration.millis(1500), slope: 2 } as unknown as QueueAgeGate,
      }).validate()).toEqual([
        'strategy (staged) queues[1] must be listed once, got: "TestStack/Orders"',
        'strategy (staged) queues[2] must be an sqs.IQueue, got: "orders"',
        'strategy (staged) queueAge.slope must be maxSlope or minAge (unknown key), got: "slope"',
        'strategy (staged) queueAge.maxSlope must be a number at least 0 and at most 3600, got: -1',
        'strategy (staged) queueAge.minAge must be whole seconds, got: 1 second 500 millis',
      ]);
      expect(RolloutStrategy.staged({ queueAge: { maxSlope: 0 } }).validate())
        .toEqual(['strategy (staged) queueAge must be given with at least one queue in queues (there is nothing to judge), got: {"maxSlope":0}']);
      expect(RolloutStrategy.staged({ queues: queue as unknown as sqs.IQueue[] }).validate()[0]).toMatch(/^strategy \(staged\) queues must be an array of SQS queues, got: /);
    });
  });

  describe('the blue-green hold with queues', () => {
    const HOLD_START = NOW - 10 * 60_000;
    const BG_CONFIG: BlueGreenAliasConfig = {
      holdSeconds: 900, checkIntervalSeconds: 5, metricDelaySeconds: 20, probeBudgetSeconds: 45, smokeQuestions: 20,
      stopRules: DEFAULT_BLUE_GREEN_STOP_RULES, invariants: {}, freeze: [], alarmNames: [], queueAge: RULE,
    };
    const WATCH = { op: 'watch' as const, target: { functionName: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2' }, config: BG_CONFIG, holdStartedAt: HOLD_START, holdEndsAt: HOLD_START + 900_000, check: 3 };
    const cloudwatch = mockClient(CloudWatchClient);
    afterAll(() => cloudwatch.restore());
    const worker = () => createWorkerHandler({ lambda: new LambdaClient({}), cloudwatch: new CloudWatchClient({}), sns: new SNSClient({}), now: () => NOW + 30_000, log: () => undefined });

    test('fits the hold\'s last five whole minutes, never the time before the switch', () => {
      expect(queueWindow(NOW, HOLD_START)).toEqual({ start: NOW - 5 * 60_000, end: NOW });
      // Two minutes into the hold (it began at 10:30 past a minute): the whole minutes since.
      expect(queueWindow(NOW, NOW - 150_000)).toEqual({ start: NOW - 120_000, end: NOW });
    });

    test('a growing backlog breaks the rule at once; a queue with no datapoint is not judged', async () => {
      cloudwatch.reset();
      cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
      cloudwatch.on(GetMetricDataCommand).callsFake((input) => (input.MetricDataQueries[0].Id === 'q0'
        ? { MetricDataResults: [{ Id: 'q0', Timestamps: [0, 1, 2, 3, 4].map((i) => new Date(NOW - (5 - i) * 60_000)), Values: [100, 150, 200, 250, 300] }] }
        : { MetricDataResults: [{ Id: 'i', Values: [800] }, { Id: 'e', Values: [0] }] }));
      const breach = await worker()(WATCH);
      expect(breach).toMatchObject({ next: 'rollback' });
      expect((breach as { rules: Array<{ name: string; passed: boolean | null }> }).rules.find((r) => r.name === 'queueAge:orders')).toMatchObject({ passed: false, measured: 50 });
      const queueCall = cloudwatch.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input).find((i) => i.MetricDataQueries?.[0].Id === 'q0')!;
      expect(queueCall).toMatchObject({ StartTime: new Date(NOW - 5 * 60_000), EndTime: new Date(NOW), ScanBy: 'TimestampAscending' });

      cloudwatch.on(GetMetricDataCommand).callsFake((input) => (input.MetricDataQueries[0].Id === 'q0'
        ? { MetricDataResults: [{ Id: 'q0', Values: [] }] }
        : { MetricDataResults: [{ Id: 'i', Values: [800] }, { Id: 'e', Values: [0] }] }));
      const quiet = await worker()(WATCH);
      expect(quiet).toMatchObject({ next: 'continue' });
      expect((quiet as { rules: Array<{ name: string; passed: boolean | null }> }).rules.find((r) => r.name === 'queueAge:orders')).toMatchObject({ passed: null });
    });

    test('RolloutStrategy.blueGreen takes queues and queueAge, validated like the staged ones', () => {
      const stack = testStack();
      const queue = new sqs.Queue(stack, 'Orders');
      expect(RolloutStrategy.blueGreen({ queues: [queue], queueAge: { maxSlope: 2 } })._config().queueAge).toMatchObject({ maxSlopeSecondsPerMinute: 2, minAgeSeconds: 60 });
      expect(RolloutStrategy.blueGreen()._config().queueAge).toBeUndefined();
      expect(RolloutStrategy.blueGreen({ queues: [queue], queueAge: { maxSlope: -2 } }).validate())
        .toContain('strategy (blueGreen) queueAge.maxSlope must be a number at least 0 and at most 3600, got: -2');
    });
  });
});

describe('staged-fence-cap', () => {
  // The staged consumer fence's capping form (issue #15 §1, "cap queue concurrency per partition"): with
  // `fence.maxConcurrency` the starter lowers each running SQS mapping's ScalingConfig.MaximumConcurrency instead of
  // pausing it (LAM-16), remembers the value it found, and the gate or the safety net puts that value back (or removes
  // the setting it added); a mapping of another source is paused as before.
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
});
