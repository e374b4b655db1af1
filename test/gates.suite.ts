// The release gates' stack-wide suites (partition, tracing, gates, the logs key), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import { Annotations, App, Duration, Environment, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DemoStack } from '../bin/demo-stack';
import { DeltaSProbe, GoldSet, GuardedAlias, IdempotencyTable, ReleaseDashboard, RolloutStrategy, ShadowIntegration, CanaryMetrics, DEFAULT_GATE_THRESHOLDS, MetricGate, ReleaseGates, worstCaseDetectionTime, StagedRollout } from '../lib';
import { testApp, testFunction, testStack } from './util';
import { ControlVersions } from '../lib/private/control-version';

describe('gates-partition', () => {
  /**
   * No ARN the library writes may name the `aws` partition outright: in AWS GovCloud (US) it is `aws-us-gov`, in
   * the China regions `aws-cn`. CDK renders the partition of a stack whose region it knows as a literal
   * (`arn:aws-cn:` in cn-north-1) and of an environment-agnostic stack as `{ Ref: AWS::Partition }`; a hard-coded
   * `arn:aws:` shows up as itself in either. (`arn:aws-cn:` and `arn:aws-us-gov:` do not contain `arn:aws:`.)
   */
  const ENVIRONMENTS: Array<[string, Environment | undefined]> = [
    ['environment-agnostic', undefined],
    ['China (Beijing)', { account: '123456789012', region: 'cn-north-1' }],
    ['AWS GovCloud (US-West)', { account: '123456789012', region: 'us-gov-west-1' }],
  ];

  const item = (id: string) => JSON.stringify({
    id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.`,
  });
  const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));

  /** Every construct of the library in one stack: staged and blue-green aliases with a probe, a shadow route, an idempotency table, a dashboard. */
  function everything(env: Environment | undefined): Stack {
    const stack = new Stack(testApp(), 'Everything', { env });
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
    Annotations.of(probe).acknowledgeWarning('cdk-rollout-guardrails:smallGoldSet', 'a two-question gold set is enough to synthesize');
    const stagedFn = testFunction(stack, 'StagedFn');
    const staged = new GuardedAlias(stack, 'Staged', {
      function: stagedFn, probe, warmup: { provisionedConcurrency: 1 }, strategy: RolloutStrategy.staged(),
    });
    new GuardedAlias(stack, 'BlueGreen', {
      function: testFunction(stack, 'BlueGreenFn'), probe, strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(10) }),
    });
    new GuardedAlias(stack, 'Canary', { function: testFunction(stack, 'CanaryFn'), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
    const api = new apigw.RestApi(stack, 'Api');
    new ShadowIntegration(stack, 'Mirror', {
      api, method: 'GET', path: '/answer', live: staged, shadow: testFunction(stack, 'Shadow'), sampleRate: 0.1, maxMirrorRps: 5,
    });
    new IdempotencyTable(stack, 'Idempotency').grant(stagedFn);
    new ReleaseDashboard(stack, 'Dashboard');
    return stack;
  }

  /** Where in the template `arn:aws:` occurs: the resource (or section) and the text around it. */
  function hardCodedPartitions(stack: Stack): string[] {
    const template = stackTemplate(stack);
    const found: string[] = [];
    for (const [section, body] of Object.entries(template)) {
      for (const [id, value] of Object.entries(body as Record<string, unknown>)) {
        const text = JSON.stringify(value);
        for (let at = text.indexOf('arn:aws:'); at >= 0; at = text.indexOf('arn:aws:', at + 1)) {
          found.push(`${section}.${id}: …${text.slice(Math.max(0, at - 40), at + 60)}…`);
        }
      }
    }
    return found;
  }

  /** The stack's template as `cdk synth` writes it. */
  function stackTemplate(stack: Stack): Record<string, unknown> {
    return (stack.node.root as App).synth().getStackByName(stack.stackName).template;
  }

  describe('no hard-coded partition', () => {
    test.each(ENVIRONMENTS)('in a stack of every construct, %s', (_, env) => {
      expect(hardCodedPartitions(everything(env))).toEqual([]);
    });

    test.each(ENVIRONMENTS)('in the example app, %s', (_, env) => {
      const stack = new DemoStack(testApp(), 'Demo', { env });
      expect(hardCodedPartitions(stack)).toEqual([]);
    });

    test('the check finds a hard-coded partition where there is one', () => {
      const stack = new Stack(testApp(), 'Planted', { env: ENVIRONMENTS[1][1] });
      testFunction(stack, 'Fn').addToRolePolicy(new iam.PolicyStatement({
        actions: ['states:StartExecution'], resources: ['arn:aws:states:cn-north-1:123456789012:stateMachine:x'],
      }));
      expect(hardCodedPartitions(stack)).toHaveLength(1);
    });
  });
});

describe('gates-tracing', () => {
  const item = (id: string) => JSON.stringify({
    id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.`,
  });
  const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));

  /** The library's own functions in one stack: the probe, the shadow dispatcher and the control-version provider. */
  function libraryFunctions(stack: Stack) {
    const fns = [testFunction(stack, 'Live'), testFunction(stack, 'Shadow')];
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
    Annotations.of(probe).acknowledgeWarning('cdk-rollout-guardrails:smallGoldSet', 'a two-question gold set is enough to synthesize');
    const guarded = new GuardedAlias(stack, 'Guarded', { function: fns[0], probe, strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
    const api = new apigw.RestApi(stack, 'Api');
    // The test's API is not the library's: its findings are the test's to acknowledge.
    for (const rule of ['APIG1', 'APIG2', 'APIG3', 'APIG4', 'APIG6', 'COG4']) {
      Validations.of(api).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason: 'the test\'s own bare REST API, only there to carry the shadow route' });
    }
    const mirror = new ShadowIntegration(stack, 'Mirror', {
      api, method: 'GET', path: '/answer', live: guarded, shadow: fns[1], sampleRate: 0.1, maxMirrorRps: 5,
    });
    return { userFunctions: fns, probe: probe.function, dispatcher: mirror.dispatcher, provider: ControlVersions.of(stack).handler };
  }

  function statementsOf(stack: Stack, fn: lambda.Function): any[] {
    const roleId = stack.getLogicalId(fn.role!.node.defaultChild as any);
    return (Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as any[])
      .filter((p) => p.Properties.Roles.some((r: any) => r.Ref === roleId))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  }

  describe('X-Ray active tracing of the library\'s functions', () => {
    const stack = testStack();
    const fns = libraryFunctions(stack);
    const resources = Template.fromStack(stack).toJSON().Resources;

    test.each(['probe', 'dispatcher', 'provider'] as const)('the %s runs with active tracing and may send its traces', (which) => {
      const fn = fns[which];
      expect(resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(statementsOf(stack, fn)).toContainEqual({ Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Effect: 'Allow', Resource: '*' });
    });

    test('leaves the user\'s functions\' tracing to the user', () => {
      for (const fn of fns.userFunctions) {
        expect(resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)].Properties.TracingConfig).toBeUndefined();
      }
    });
  });

  describe('X-Ray active tracing under cdk-nag', () => {
    test('opens no finding: the X-Ray wildcard is acknowledged on each of the library\'s functions, with its reason', () => {
      const app = testApp();
      const stack = testStack(app);
      const { userFunctions } = libraryFunctions(stack);
      for (const fn of userFunctions) {
        Validations.of(fn).acknowledge({
          id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason: 'test functions: logs only',
        });
      }
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const report = JSON.parse(fs.readFileSync(path.join(app.synth().directory, 'validation-report.json'), 'utf8'));
      const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
      expect(nag.violations).toEqual([]);
      expect(nag.conclusion).toBe('success');
      const wildcardAcks = nag.suppressedViolations
        .filter((v: any) => v.ruleName === 'AwsSolutions-IAM5[Resource::*]')
        .map((v: any) => [v.acknowledgedAt, v.reason]);
      for (const at of ['TestStack/Probe/Function', 'TestStack/Mirror/Dispatcher', 'TestStack/ControlVersions/Provider']) {
        const ack = wildcardAcks.find(([where]: [string]) => where === at);
        expect(ack).toBeDefined();
        expect(ack[1]).toContain('xray:PutTraceSegments');
      }
    });
  });
});

describe('release-gates', () => {
  /** One minute of Lambda metrics: undefined is a missing datapoint, as CloudWatch has none without traffic. */
  interface Minute { ae?: number; ai?: number; ce?: number; ci?: number }

  /**
   * Evaluates one of the gates' metric-math expressions for a single minute, with CloudWatch's semantics for
   * the functions they use: FILL(x, v) replaces a missing x, IF(c, a, b) picks per datapoint, and an
   * arithmetic on a missing value is missing.
   */
  function evaluate(expression: string, minute: Minute): number | undefined {
    const IF = (c: number | undefined, a: number | undefined, b: number | undefined) => (c === undefined ? undefined : c ? a : b);
    const FILL = (x: number | undefined, v: number) => (x === undefined ? v : x);
    const js = expression.replace(/\b(ae|ai|ce|ci)\b/g, (_, id) => `m.${id}`);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const result = new Function('IF', 'FILL', 'm', `return (${js});`)(IF, FILL, minute);
    return typeof result === 'number' && !Number.isNaN(result) ? result : undefined;
  }

  const metrics = new CanaryMetrics({ functionName: 'answer', aliasName: 'live', canaryVersion: '7' });
  const deltaExpr = metrics.errorRateDelta().expression;
  const controlExpr = metrics.controlErrorRate().expression;

  describe('the gates\' metric math', () => {
    test('error rate delta is canary minus control, with the control taken as alias totals minus the canary', () => {
      // 1000 requests, 100 on the canary with 2 errors; the other 900 with 1 error.
      const delta = evaluate(deltaExpr, { ai: 1000, ae: 3, ci: 100, ce: 2 })!;
      expect(delta).toBeCloseTo(2 / 100 - 1 / 900, 10);
      expect(evaluate(controlExpr, { ai: 1000, ae: 3, ci: 100, ce: 2 })).toBeCloseTo(1 / 900, 10);
    });

    test('error rate delta breaches the default gate by 0.05 percentage points, not before', () => {
      const control = { ai: 20000, ae: 20, ci: 10000 }; // control: 10 errors in 10000 = 0.1 %
      expect(evaluate(deltaExpr, { ...control, ce: 15, ae: 25 })!).toBeCloseTo(0.0005, 10); // 0.15 % vs 0.10 %: at the gate
      expect(evaluate(deltaExpr, { ...control, ce: 15, ae: 25 })! > DEFAULT_GATE_THRESHOLDS.maxErrorRateDelta).toBe(false);
      expect(evaluate(deltaExpr, { ...control, ce: 16, ae: 26 })! > DEFAULT_GATE_THRESHOLDS.maxErrorRateDelta).toBe(true);
    });

    test('a minute without canary data is a delta of at most 0, never a division by zero', () => {
      expect(evaluate(deltaExpr, { ai: 500, ae: 5 })).toBeCloseTo(-0.01, 10);
      expect(evaluate(deltaExpr, { ai: 500, ae: 0, ci: 0, ce: 0 })).toBe(0);
    });

    test('all traffic on the canary leaves the control at 0 rather than dividing by zero', () => {
      expect(evaluate(controlExpr, { ai: 100, ae: 4, ci: 100, ce: 4 })).toBe(0);
      expect(evaluate(deltaExpr, { ai: 100, ae: 4, ci: 100, ce: 4 })).toBeCloseTo(0.04, 10);
    });

    test('a minute with no traffic at all is 0, not missing and not breaching', () => {
      expect(evaluate(deltaExpr, {})).toBe(0);
    });

    test('the p95 ratio guards a control without data', () => {
      const ratio = metrics.p95Ratio().expression;
      const evalRatio = (canary?: number, control?: number) => {
        const IF = (c: boolean, a: number, b: number) => (c ? a : b);
        return new Function('IF', 'canary', 'control', `return (${ratio});`)(IF, canary, control);
      };
      expect(evalRatio(220, 200)).toBeCloseTo(1.1, 10);
      expect(evalRatio(220, 0)).toBe(0);
    });
  });

  describe('ReleaseGates', () => {
    test('renders one alarm for the three gates, its value the gate code: each gate\'s guarded metric above its threshold', () => {
      const stack = testStack();
      const gates = new ReleaseGates(stack, 'Gates', { metrics });
      const t = Template.fromStack(stack);
      const props = t.toJSON().Resources[stack.getLogicalId(gates.alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
      // Each gate judges only minutes with enough canary invocations (DEFAULT_MIN_INVOCATIONS_PER_MINUTE), as its own alarm did.
      const delta = `IF(FILL(ci, 0) >= 100 AND (FILL(ai, 0) - FILL(ci, 0)) >= 100, FILL(ce, 0) / FILL(ci, 0) - (${controlExpr}), 0)`;
      const p95 = 'IF(FILL(ci, 0) >= 100 AND FILL(control, 0) > 0, FILL(canary, 0) / FILL(control, 0), 0)';
      const rate = 'IF(FILL(ci, 0) >= 100, FILL(ce, 0) / FILL(ci, 0), 0)';
      expect(props.Metrics.find((m: any) => m.ReturnData !== false).Expression).toBe(`IF(${delta} > 0.0005, 1, 0) + IF(${p95} > 1.1, 2, 0) + IF(${rate} > 0.01, 4, 0)`);
      expect(props).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' });
      t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
      expect(gates.alarms).toEqual([gates.alarm]);
      expect(ReleaseGates.ALARM_COUNT).toBe(gates.alarms.length);
    });

    test('spells the gate codes out in the alarm\'s description (CloudWatch\'s notification carries it and the code), within 1,024 characters', () => {
      const stack = testStack();
      const gates = new ReleaseGates(stack, 'Gates', { metrics, thresholds: { maxErrorRate: 0.02, minInvocationsPerMinute: 50 } });
      const description: string = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(gates.alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties.AlarmDescription;
      expect(description).toContain('1 maxErrorRateDelta (error rate of the new version minus the control\'s > 0.0005), 2 maxP95Ratio (p95 duration of the new version > 1.1x the control\'s), 4 maxErrorRate (error rate of the new version > 0.02)');
      expect(description).toContain('at least 50 invocations');
      expect(description.length).toBeLessThanOrEqual(1024);
    });

    test('decodes gate codes: 1, 2 and 4, summed over the gates that breached', () => {
      expect([MetricGate.MAX_ERROR_RATE_DELTA, MetricGate.MAX_P95_RATIO, MetricGate.MAX_ERROR_RATE].map((g) => ReleaseGates.codeOf(g))).toEqual([1, 2, 4]);
      expect(ReleaseGates.gatesOf(0)).toEqual([]);
      expect(ReleaseGates.gatesOf(5)).toEqual([MetricGate.MAX_ERROR_RATE_DELTA, MetricGate.MAX_ERROR_RATE]);
      expect(ReleaseGates.gatesOf(7)).toHaveLength(3);
      expect(() => ReleaseGates.gatesOf(8)).toThrow(/an integer from 0 to 7, got: 8/);
    });

    test('writes thresholds in plain decimals, never in exponent form', () => {
      const stack = testStack();
      const gates = new ReleaseGates(stack, 'Gates', { metrics, thresholds: { maxErrorRateDelta: 0.0000001 } });
      expect(gates.metricGateCode().expression).toContain('> 0.0000001, 1, 0)');
      expect(gates.metricGateCode().expression).not.toMatch(/e-/);
    });

    test('graphs each gate on its own: 1 in a minute it breaches, else 0', () => {
      const stack = testStack();
      const gates = new ReleaseGates(stack, 'Gates', { metrics });
      const breach = gates.metricGateBreach(MetricGate.MAX_ERROR_RATE);
      expect(breach.expression).toBe('IF(IF(FILL(ci, 0) >= 100, FILL(ce, 0) / FILL(ci, 0), 0) > 0.01, 1, 0)');
      expect(Object.keys(breach.usingMetrics).sort()).toEqual(['ce', 'ci']);
    });

    test('keeps each alarm within CloudWatch\'s 10 metrics per alarm', () => {
      const stack = testStack();
      new ReleaseGates(stack, 'Gates', { metrics });
      for (const alarm of Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'))) {
        expect(alarm.Properties.Metrics.length).toBeLessThanOrEqual(10);
      }
    });

    test('reads the p95 of the canary by ExecutedVersion and of the control through the alias', () => {
      const stack = testStack();
      const gates = new ReleaseGates(stack, 'Gates', { metrics });
      const props = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(gates.alarm.node.defaultChild as cloudwatch.CfnAlarm)].Properties;
      const byId = Object.fromEntries(props.Metrics.filter((m: any) => m.MetricStat).map((m: any) => [m.Id, m.MetricStat]));
      expect(byId.canary.Stat).toBe('p95');
      expect(byId.canary.Metric.Dimensions).toEqual(expect.arrayContaining([{ Name: 'ExecutedVersion', Value: '7' }, { Name: 'Resource', Value: 'answer:live' }]));
      expect(byId.control.Metric.Dimensions).toEqual([{ Name: 'FunctionName', Value: 'answer' }, { Name: 'Resource', Value: 'answer:live' }]);
    });

    test('computes the worst-case detection time from the period and the datapoints to alarm', () => {
      expect(worstCaseDetectionTime().toSeconds()).toBe(120);
      expect(worstCaseDetectionTime(Duration.minutes(1), 2).toSeconds()).toBe(180);
      expect(worstCaseDetectionTime(Duration.minutes(5), 1).toSeconds()).toBe(360);
    });
  });
});

describe('logs-key', () => {
  // The machinery's log groups (its functions' and its state machine's, which log every state's input and
  // output at level ALL) take a KMS key, and its failure alarm reaches the alias's notifications topic.
  describe('logsKey', () => {
    test('encrypts every log group of the staged machinery and lets CloudWatch Logs use the key (CW-6)', () => {
      const stack = testStack();
      const key = new kms.Key(stack, 'LogsKey');
      new GuardedAlias(stack, 'A', { function: testFunction(stack), logsKey: key });
      const t = Template.fromStack(stack).toJSON();
      const groups = Object.entries(t.Resources).filter(([id, r]: [string, any]) => r.Type === 'AWS::Logs::LogGroup' && id.startsWith('StagedRollout')).map(([, r]) => r) as any[];
      expect(groups.length).toBeGreaterThanOrEqual(4); // the state machine's and the gate's, starter's and safety net's
      for (const g of groups) expect(g.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] });
      const statements = (t.Resources[stack.getLogicalId(key.node.defaultChild as kms.CfnKey)] as any).Properties.KeyPolicy.Statement;
      expect(statements).toContainEqual(expect.objectContaining({
        Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
        Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-west-1:123456789012:log-group:*' } },
      }));
    });

    test('one machinery, one key: a second alias asking for another key is refused, naming both', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), logsKey: new kms.Key(stack, 'K1') });
      expect(() => new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), logsKey: new kms.Key(stack, 'K2') }))
        .toThrow("StagedRollout of stack 'TestStack' was created with the logsKey 'TestStack/K1'; 'TestStack/B' asks for 'TestStack/K2'");
      // The same key is fine, and so is no key (the machinery keeps its own).
      expect(() => new GuardedAlias(stack, 'C', { function: testFunction(stack, 'FnC') })).not.toThrow();
      expect(StagedRollout.of(stack).logsKey?.node.path).toBe('TestStack/K1');
    });

    test('without a key the log groups use CloudWatch Logs\' own encryption, kept a year', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'A', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen() });
      const groups = Object.entries(Template.fromStack(stack).findResources('AWS::Logs::LogGroup')).filter(([id]) => id.startsWith('BlueGreenSwitch')).map(([, r]) => r) as any[];
      expect(groups.length).toBeGreaterThanOrEqual(3);
      for (const g of groups) {
        expect(g.Properties.KmsKeyId).toBeUndefined();
        expect(g.Properties.RetentionInDays).toBe(365);
      }
    });
  });

  describe('the machinery\'s failure alarm', () => {
    test('goes to each alias\'s notifications topic, once per topic', () => {
      const stack = testStack();
      const topic = new sns.Topic(stack, 'Releases');
      new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), notifications: topic });
      new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), notifications: topic });
      const alarm = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(StagedRollout.of(stack).failedEventsAlarm.node.defaultChild as any)];
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as any) }]);
    });
  });
});
