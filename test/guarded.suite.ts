// The blue-green and warm-up GuardedAlias suites, one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import { BlueGreenSwitch, DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy, StagedRollout, BlueGreenRolloutStrategy, RolloutKind } from '../lib';
import { testApp, testFunction, testStack } from './util';
import { expectSynthWarnings } from './helpers/console';
import { PROBE_WARMUP_ENV } from '../packages/runtime/src/contract/probe';

describe('guarded-blue-green', () => {
  const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));
  const ref = (stack: Stack, c: { node: { defaultChild?: unknown } }) => ({ Ref: stack.getLogicalId(c.node.defaultChild as any) });

  function definitionText(template: Template): string {
    const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine')) as any[];
    expect(machines).toHaveLength(1);
    const body = machines[0].Properties.DefinitionString;
    return typeof body === 'string' ? body : (body['Fn::Join'][1] as any[]).map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
  }

  describe('GuardedAlias with a blue-green strategy', () => {
    const stack = testStack();
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
    const ga = new GuardedAlias(stack, 'Answer', {
      function: testFunction(stack), probe,
      release: { schemaRev: 'v3', modelTag: 'm-7' },
      strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(20), invariants: { PROMPT_VER: '12' } }),
      warmup: { provisionedConcurrency: 2 },
    });
    // The probe's default concurrency cannot finish a hold run in its budget at one answer every 2 s: the library warns.
    const template = expectSynthWarnings(['cdk-rollout-guardrails:blueGreenProbeBudget'], () => Template.fromStack(stack));

    test('switches all at once, with the stack\'s blue-green hook before and after traffic moves', () => {
      template.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
      const hook = ref(stack, BlueGreenSwitch.of(stack).hookFunction);
      template.hasResource('AWS::Lambda::Alias', { UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: hook, AfterAllowTrafficHook: hook } } });
      // CodeDeploy's role may invoke the hook, and not the probe (the machine runs it).
      const role = stack.getLogicalId((ga.deploymentGroup.role!.node.defaultChild as any));
      const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } })).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      expect(statements).toEqual([expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [hook.Ref, 'Arn'] } })]);
      // No staged machinery: one state machine, the blue-green one.
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
    });

    test('checks the release pins and the declared invariants, and runs the warm gate, in the machine', () => {
      const text = definitionText(template);
      for (const pin of ['SCHEMA_REV', 'v3', 'MODEL_TAG', 'm-7', 'PROMPT_VER', '12']) expect(text).toContain(pin);
      expect(text).toMatch(/concurrency[\\"]*:2/);
    });

    test('watches the cold-start gate and the probe\'s ΔS alarm beside the gates', () => {
      const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as any;
      expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(3);
      expect(ga.strategy.toString()).toContain('hold and watch 20 minutes');
    });
  });

  describe('GuardedAlias blue-green validation', () => {
    test('rejects a hold-and-watch that cannot fit the hook hour, with the computed total', () => {
      const stack = testStack();
      expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(55) }) }))
        .toThrow(/holdAndWatch must fit CodeDeploy's 60-minute lifecycle hook limit with a 10-minute margin \(at most 50 minutes\), got: 55 minutes 59 seconds \(hold 55 minutes \+ a last check interval of 5 seconds \+ a last probe run of 45 seconds \+ the report's 9 seconds\)/);
    });

    test('rejects a configuration whose worst-case rollback is over 2 minutes, with the computed figure', () => {
      const stack = testStack();
      expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen({ probeBudget: Duration.minutes(1) }) }))
        // check interval 5 s + 2 × probe budget 60 s + the Failed report's 9 s + CodeDeploy's assumed rollbackShift 15 s = 149 s.
        .toThrow(/worst case 2 minutes 29 seconds \(ΔS, coverage or λ seen by the probe: check interval 5 seconds \+ 2 × probe budget 1 minute \+ the report's 9 seconds \+ rollbackShift 15 seconds = 2 minutes 29 seconds\)/);
    });

    test('rejects hooks of the user\'s beside it', () => {
      const stack = testStack();
      const pre = testFunction(stack, 'Pre');
      expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen(), preTrafficHook: pre }))
        .toThrow("preTrafficHook must be left out with a blue-green strategy (the stack's blue-green hook is both the BeforeAllowTraffic and the AfterAllowTraffic hook; CodeDeploy runs one hook per phase), got: the construct at 'TestStack/Pre'");
    });

    test('takes a warmup without a probe (the machine runs the warm gate) and notifies the topic of the deployment', () => {
      const stack = testStack();
      const topic = new sns.Topic(stack, 'Releases');
      new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen(), warmup: { provisionedConcurrency: 1 }, notifications: topic });
      const template = Template.fromStack(stack);
      // Provisioned concurrency lives on the published version, never on the alias.
      template.hasResourceProperties('AWS::Lambda::Version', { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 1 } });
      template.hasResourceProperties('AWS::Lambda::Alias', { ProvisionedConcurrencyConfig: Match.absent() });
      template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { state: ['START', 'SUCCESS', 'FAILURE', 'STOP'] } } });
    });

    test('adds no cdk-nag AwsSolutions finding of its own', () => {
      const app = testApp();
      const stack = testStack(app);
      const fn = testFunction(stack);
      Validations.of(fn).acknowledge({ id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', reason: 'test function: logs only' });
      new GuardedAlias(stack, 'Answer', { function: fn, probe: new DeltaSProbe(stack, 'Probe', { goldSet: GOLD }), strategy: RolloutStrategy.blueGreen(), warmup: { provisionedConcurrency: 1 } });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const assembly = expectSynthWarnings(['cdk-rollout-guardrails:blueGreenProbeBudget'], () => app.synth());
      const report = JSON.parse(fs.readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
      const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
      expect(nag.violations).toEqual([]);
      expect(nag.conclusion).toBe('success');
    });
  });

  void lambda;
});

describe('guarded-warmup', () => {
  const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));
  const id = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as any);

  function machineDefinition(template: Template): string {
    const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    return (machine.Properties.DefinitionString['Fn::Join'][1] as any[]).map((p) => (typeof p === 'string' ? p : p.Ref ?? `arn:${p['Fn::GetAtt'][0]}`)).join('');
  }

  describe('GuardedAlias warmup', () => {
    describe('with the default staged strategy', () => {
      const stack = testStack();
      const ga = new GuardedAlias(stack, 'Answer', { function: testFunction(stack), warmup: { provisionedConcurrency: 5 } });
      const template = Template.fromStack(stack);

      test('puts the provisioned concurrency on the published version (not the alias) and makes the version DESTROY', () => {
        template.hasResource('AWS::Lambda::Version', { DeletionPolicy: 'Delete', Properties: { ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 5 } } });
        expect(JSON.stringify(template.findResources('AWS::Lambda::Alias'))).not.toContain('ProvisionedConcurrencyConfig');
        expect(ga.warmup?.warmGate).toEqual({ concurrency: 5, pings: 5, readyTimeoutSeconds: 120 });
      });

      test('hands the warm gate to the state machine, run by the stack\'s warm function whose timeout covers the wait', () => {
        const warm = StagedRollout.of(stack).node.findChild('Warm') as lambda.Function;
        const definition = machineDefinition(template);
        expect(definition).toContain(`\\"warmup\\":{\\"functionArn\\":\\"arn:${id(stack, warm)}\\",\\"concurrency\\":5,\\"pings\\":5,\\"readyTimeoutSeconds\\":120}`);
        template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.warm', Timeout: 170 });
      });

      test('lets the warm function read the provisioned concurrency of exactly this version and ping it; nothing may write one', () => {
        const warm = StagedRollout.of(stack).node.findChild('Warm') as lambda.Function;
        const statements = (role: string) => Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))
          .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
        const versionArn = { Ref: stack.resolve((ga.version.node.defaultChild as lambda.CfnVersion).logicalId) };
        expect(statements(id(stack, warm.role!))).toContainEqual(expect.objectContaining({
          Action: ['lambda:GetProvisionedConcurrencyConfig', 'lambda:InvokeFunction'],
          Resource: versionArn,
        }));
        expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toMatch(/(Put|Delete)ProvisionedConcurrencyConfig/);
      });

      test('adds the cold-start gate (share ≤ 0.05 of the new release) to the alarms the deployment group watches and the machine reads', () => {
        expect(ga.coldStartAlarm).toBeDefined();
        const alarm = template.toJSON().Resources[id(stack, ga.coldStartAlarm!)].Properties;
        expect(alarm).toMatchObject({ Threshold: 0.05, ComparisonOperator: 'GreaterThanThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
        const cold = alarm.Metrics.find((m: any) => m.Id === 'cold');
        expect(cold.MetricStat.Metric).toMatchObject({ Namespace: 'RolloutGuardrails', MetricName: 'ColdStart' });
        expect(cold.MetricStat.Metric.Dimensions).toContainEqual({ Name: 'ReleaseId', Value: stack.resolve(ga.releaseId) });
        const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as any;
        expect(group.Properties.AlarmConfiguration.Alarms).toContainEqual({ Name: { Ref: id(stack, ga.coldStartAlarm!) } });
        expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(2);
        expect(machineDefinition(template)).toContain(id(stack, ga.coldStartAlarm!));
      });
    });

    test('with a canary strategy the probe runs the warm gate in its BeforeAllowTraffic hook', () => {
      const stack = testStack();
      const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
      const ga = new GuardedAlias(stack, 'Answer', {
        function: testFunction(stack), probe, strategy: RolloutStrategy.canary(10, Duration.minutes(5)),
        warmup: { autoScaling: { minCapacity: 2, maxCapacity: 20 } }, gates: { maxColdStartShare: 0.1 },
      });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
      template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 20 });
      const env = template.toJSON().Resources[id(stack, probe.function)].Properties.Environment.Variables[PROBE_WARMUP_ENV];
      expect(JSON.stringify(env)).toContain('\\"concurrency\\":2,\\"pings\\":2,\\"readyTimeoutSeconds\\":120');
      expect(template.toJSON().Resources[id(stack, ga.coldStartAlarm!)].Properties.Threshold).toBe(0.1);
      const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0] as any;
      expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(3);
    });

    test.each([
      [{ warmup: { provisionedConcurrency: 2 }, strategy: RolloutStrategy.canary(10, Duration.minutes(5)) },
        'warmup must be left out with canary unless a probe is set (the ΔS probe runs the warm gate in its BeforeAllowTraffic hook; the staged strategy runs it itself): set `probe`, or use RolloutStrategy.staged(), got: {"provisionedConcurrency":2}'],
      [{ gates: { maxColdStartShare: 0.05 } },
        'gates.maxColdStartShare must be left out without a warmup (it judges cold starts after the warm gate: set `warmup` too), got: 0.05'],
      [{ warmup: { provisionedConcurrency: 2 }, gates: { maxColdStartShare: 1.5 } },
        'gates.maxColdStartShare must be a number at least 0 and less than 1, got: 1.5'],
      [{ warmup: 5 as any }, 'warmup must be an object of ProvisionedWarmupOptions ({ provisionedConcurrency } or { autoScaling }), got: 5'],
    ])('rejects %j, saying why', (props, message) => {
      const stack = testStack();
      expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), ...props })).toThrow(message);
    });

    test('counts the cold-start gate among the 10 alarms CodeDeploy watches', () => {
      const stack = testStack();
      const alarms = Array.from({ length: 9 }, (_, i) => new cloudwatch.Alarm(stack, `A${i}`, { metric: new cloudwatch.Metric({ namespace: 'X', metricName: `m${i}` }), threshold: 1, evaluationPeriods: 1 }));
      expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), warmup: { provisionedConcurrency: 2 }, alarms }))
        .toThrow('alarms must be at most 8 alarms (CodeDeploy watches 10 per deployment group and the gate alarm and the cold-start gate take 2), got: 9 alarms');
    });

    test('adds no cdk-nag AwsSolutions finding of its own', () => {
      const app = testApp();
      const stack = testStack(app);
      const fn = testFunction(stack);
      new GuardedAlias(stack, 'Answer', { function: fn, warmup: { autoScaling: { minCapacity: 1, maxCapacity: 4 } } });
      // The function is the user's; its basic execution role is the user's to acknowledge.
      Validations.of(fn).acknowledge({
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'test function: logs only',
      });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const assembly = app.synth();
      const report = JSON.parse(require('fs').readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
      const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
      expect(nag.violations).toEqual([]);
      expect(nag.conclusion).toBe('success');
    });
  });
});

describe('blue-green-strategy', () => {
  describe('RolloutStrategy.blueGreen', () => {
    test('defaults to a 15-minute hold checked every 5 s, a 20-question smoke and the seed\'s stop rules', () => {
      const strategy = RolloutStrategy.blueGreen();
      expect(strategy).toBeInstanceOf(BlueGreenRolloutStrategy);
      expect(strategy.kind).toBe(RolloutKind.BLUE_GREEN);
      expect(strategy.validate()).toEqual([]);
      expect(strategy._config()).toEqual({
        holdSeconds: 900,
        checkIntervalSeconds: 5,
        metricDelaySeconds: 20,
        probeBudgetSeconds: 45,
        smokeQuestions: 20,
        stopRules: { maxDeltaSP95Drift: 0.15, minCoverage: 0.6, maxLambdaFlipRate: 0.2, max5xxRate: 0.01, minInvocations: 100 },
        invariants: {},
      });
      expect(strategy.toString()).toBe('blue-green: invariants, a 20-question smoke probe, then all at once; hold and watch 15 minutes (checks every 5 seconds), rolled back by CodeDeploy within 1 minute 59 seconds of a breach');
    });

    test('binds to CodeDeploy\'s all-at-once configuration: the checks run in the hooks around the switch', () => {
      expect(RolloutStrategy.blueGreen()._bindDeploymentConfig()).toBe(codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE);
      expect(RolloutStrategy.blueGreen().shiftDuration?.toSeconds()).toBe(0);
    });

    test('computes the default worst-case rollback at 119 s, under the seeds\' 2 minutes, CodeDeploy\'s rollback shift included', () => {
      const strategy = RolloutStrategy.blueGreen();
      // 5xx: 5 s interval + 60 s period + 20 s metric delay + 2 × 5 s reads + 9 s Failed report (2 attempts × 4 s + 1 s wait)
      // + 15 s assumed rollback shift by CodeDeploy.
      expect(strategy.rollbackTime?.onMetrics.toSeconds()).toBe(119);
      // Probe: 5 s interval + 2 × 45 s probe runs + 9 s report + 15 s shift.
      expect(strategy.rollbackTime?.onProbe.toSeconds()).toBe(119);
      // A gate alarm, for information only: 2 min to ALARM + 5 s + 2 × 5 s + 9 s + 15 s.
      expect(strategy.rollbackTime?.onAlarm.toSeconds()).toBe(159);
      expect(strategy.worstCaseRollback?.toSeconds()).toBe(119);
      // The assumption is the user's to set once measured; a longer one must still fit the 2 minutes.
      expect(RolloutStrategy.blueGreen({ rollbackShift: Duration.seconds(17) }).validate()).toHaveLength(1);
    });

    test.each([
      ['a shorter probe', { probeBudget: Duration.seconds(20) }, 119, 69],
      ['no metric delay', { metricDelay: Duration.seconds(0), probeBudget: Duration.seconds(30) }, 99, 89],
      ['exactly 2 minutes on both paths', { checkInterval: Duration.seconds(6) }, 120, 120],
      ['a measured rollback shift of 5 s', { rollbackShift: Duration.seconds(5), checkInterval: Duration.seconds(10) }, 114, 114],
    ])('computes both paths with %s', (_name, options, metrics, probe) => {
      const strategy = RolloutStrategy.blueGreen(options);
      expect([strategy.rollbackTime?.onMetrics.toSeconds(), strategy.rollbackTime?.onProbe.toSeconds()]).toEqual([metrics, probe]);
      expect(strategy.worstCaseRollback?.toSeconds()).toBe(Math.max(metrics, probe));
      expect(strategy.validate()).toEqual([]);
    });

    test('rejects a configuration that cannot roll back within 2 minutes, with the computed numbers', () => {
      expect(RolloutStrategy.blueGreen({ probeBudget: Duration.seconds(60) }).validate()).toEqual([
        'strategy (blueGreen) rollback must be within 2 minutes of a breach, got: worst case 2 minutes 29 seconds '
        + '(ΔS, coverage or λ seen by the probe: check interval 5 seconds + 2 × probe budget 1 minute + the report\'s 9 seconds + rollbackShift 15 seconds = 2 minutes 29 seconds); '
        + 'shorten checkInterval, probeBudget or metricDelay',
      ]);
      expect(RolloutStrategy.blueGreen({ checkInterval: Duration.seconds(30), metricDelay: Duration.seconds(30) }).validate()).toEqual([
        'strategy (blueGreen) rollback must be within 2 minutes of a breach, got: worst case 2 minutes 34 seconds '
        + '(5xx seen by the metrics: check interval 30 seconds + 60-second metric period + metric delay 30 seconds + 2 × 5-second reads + the report\'s 9 seconds + rollbackShift 15 seconds = 2 minutes 34 seconds; '
        + 'ΔS, coverage or λ seen by the probe: check interval 30 seconds + 2 × probe budget 45 seconds + the report\'s 9 seconds + rollbackShift 15 seconds = 2 minutes 24 seconds); '
        + 'shorten checkInterval, probeBudget or metricDelay',
      ]);
    });

    test('rejects a hold that cannot fit CodeDeploy\'s hook hour, with the computed total', () => {
      expect(RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(50) }).validate()).toEqual([
        'strategy (blueGreen) holdAndWatch must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), '
        + 'got: 50 minutes 59 seconds (hold 50 minutes + a last check interval of 5 seconds + a last probe run of 45 seconds + the report\'s 9 seconds); shorten holdAndWatch',
      ]);
      // The longest default hold: 50 min − (5 s + 45 s + 9 s).
      expect(RolloutStrategy.blueGreen({ holdAndWatch: Duration.seconds(49 * 60 + 1) }).validate()).toEqual([]);
      expect(RolloutStrategy.blueGreen({ holdAndWatch: Duration.seconds(49 * 60 + 2) }).validate()).toHaveLength(1);
      expect(RolloutStrategy.blueGreen({ holdAndWatch: Duration.minutes(30) }).afterHookDuration?.toSeconds()).toBe(1859);
    });

    test.each([
      ['a hold under a minute', { holdAndWatch: Duration.seconds(30) }, 'strategy (blueGreen) holdAndWatch must be whole seconds from 1 minute to 1 hour, got: 30 seconds'],
      ['a fractional interval', { checkInterval: Duration.millis(1500) }, 'strategy (blueGreen) checkInterval must be whole seconds from 1 second to 5 minutes, got: 1 second 500 millis'],
      ['a probe budget over Lambda\'s 15 minutes', { probeBudget: Duration.minutes(16) }, 'strategy (blueGreen) probeBudget must be whole seconds from 1 second to 15 minutes (Lambda\'s longest timeout), got: 16 minutes'],
      ['a metric delay over 10 minutes', { metricDelay: Duration.minutes(11) }, 'strategy (blueGreen) metricDelay must be whole seconds from 0 to 10 minutes, got: 11 minutes'],
      ['fewer than 20 smoke questions', { smokeQuestions: 10 }, 'strategy (blueGreen) smokeQuestions must be an integer from 20 to 40, got: 10'],
      ['more than 40 smoke questions', { smokeQuestions: 41 }, 'strategy (blueGreen) smokeQuestions must be an integer from 20 to 40, got: 41'],
      ['a coverage rule over 1', { stopRules: { minCoverage: 1.5 } }, 'strategy (blueGreen) stopRules.minCoverage must be a number at least 0 and at most 1, got: 1.5'],
      ['a 5xx rule of 100 %', { stopRules: { max5xxRate: 1 } }, 'strategy (blueGreen) stopRules.max5xxRate must be a number at least 0 and less than 1, got: 1'],
      ['a NaN drift rule', { stopRules: { maxDeltaSP95Drift: NaN } }, 'strategy (blueGreen) stopRules.maxDeltaSP95Drift must be a number at least 0 and at most 1, got: NaN'],
      ['an unknown stop rule', { stopRules: { maxP95: 2 } as object }, 'strategy (blueGreen) stopRules.maxP95 must be one of maxDeltaSP95Drift, minCoverage, maxLambdaFlipRate, max5xxRate, minInvocations (unknown stop rule), got: "maxP95"'],
      ['minInvocations of 0', { stopRules: { minInvocations: 0 } }, 'strategy (blueGreen) stopRules.minInvocations must be an integer from 1 to 1000000, got: 0'],
      ['an invariant that is not a variable name', { invariants: { 'schema-rev': 'v3' } }, 'strategy (blueGreen) invariants must be keyed by environment variable names (a letter, then letters, digits or "_"), got: "schema-rev"'],
      ['an empty invariant value', { invariants: { SCHEMA_REV: '' } }, 'strategy (blueGreen) invariants.SCHEMA_REV must be a non-empty string, got: ""'],
      ['a consumer that is not a mapping', { freezeConsumers: ['uuid-1' as unknown as lambda.IEventSourceMapping] }, 'strategy (blueGreen) freezeConsumers[0] must be a lambda.IEventSourceMapping, got: "uuid-1"'],
      ['a warm-up of 0 concurrency', { warmup: { concurrency: 0 } }, 'strategy (blueGreen) warmup.concurrency must be an integer from 1 to 10000, got: 0'],
    ])('fails on %s', (_name, options, message) => {
      expect(RolloutStrategy.blueGreen(options as never).validate()).toEqual([message]);
    });

    test('rejects a consumer listed twice', () => {
      const stack = testStack();
      const mapping = lambda.EventSourceMapping.fromEventSourceMappingId(stack, 'M', 'uuid-1');
      expect(RolloutStrategy.blueGreen({ freezeConsumers: [mapping, mapping] }).validate()).toEqual([
        'strategy (blueGreen) freezeConsumers[1] must be listed once, got: "TestStack/M"',
      ]);
    });

    test('reports every bad prop together, and leaves the computed checks until the props are valid', () => {
      const problems = RolloutStrategy.blueGreen({ holdAndWatch: Duration.hours(2), smokeQuestions: 5, stopRules: { minCoverage: -1 }, probeBudget: Duration.minutes(5) }).validate();
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).not.toContain('rollback must be');
    });

    test('carries the warm-up for the warm gate, defaults filled in', () => {
      expect(RolloutStrategy.blueGreen({ warmup: { concurrency: 5 } })._config().warmup).toEqual({ concurrency: 5, pings: 3, readyTimeoutSeconds: 300 });
    });

    test('says what it does in words, with paused consumers', () => {
      const stack = testStack();
      const mapping = lambda.EventSourceMapping.fromEventSourceMappingId(stack, 'M', 'uuid-1');
      expect(RolloutStrategy.blueGreen({ freezeConsumers: [mapping], holdAndWatch: Duration.minutes(30), smokeQuestions: 40 }).toString())
        .toBe('blue-green: invariants, a 40-question smoke probe and 1 paused consumer, then all at once; hold and watch 30 minutes (checks every 5 seconds), rolled back by CodeDeploy within 1 minute 59 seconds of a breach');
    });
  });
});
