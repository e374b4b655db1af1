// The staged strategy's construct suites (nag, alias, strategy, stop rules), one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations, Duration } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Match, Template, Annotations } from 'aws-cdk-lib/assertions';
import { DeltaSProbe, GoldSet, StagedRollout, GuardedAlias, RolloutKind, RolloutStrategy, NoDataAction, StagedRolloutStrategy, StepStopRules } from '../lib';
import { FEATURE_FLAGS, testFunction, testStack } from './util';
import { expectSynthWarnings } from './helpers/console';
import { planStep } from '../lambdas/staged/gate';
import { INITIAL_PROGRESS, StagedAliasConfig, stopRulesAt } from '../packages/runtime/src/contract/staged';

describe('staged-nag', () => {
  test.each([
    ['in a stack with an environment', true],
    ['in an environment-agnostic stack', false],
  ])('the staged rollout\'s own resources pass cdk-nag\'s AwsSolutions pack %s, each acknowledgement with its reason', (_name, withEnv) => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'staged-nag-'));
    const app = new App({ context: FEATURE_FLAGS, outdir });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const stack = withEnv ? testStack(app) : new Stack(app, 'TestStack');
    const fn = testFunction(stack);
    const version = fn.currentVersion;
    const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
    const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', { alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE });
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl')) });
    StagedRollout.of(stack).attach({ alias, version, deploymentGroup, probe, wirePreHook: false });
    // The test's own function and deployment group break rules of their own; only the staged resources are judged.
    try {
      app.synth();
    } catch {
      // read below
    }
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((p: any) => p.pluginName === 'AwsSolutions');
    const mine = (v: any) => (v.violatingConstructs ?? []).some((c: any) => c.constructPath.startsWith('TestStack/StagedRollout/'));
    expect(nag.violations.filter(mine).map((v: any) => v.ruleName)).toEqual([]);
    const acknowledged = nag.suppressedViolations.filter((v: any) => String(v.acknowledgedAt).startsWith('TestStack/StagedRollout'));
    expect(acknowledged.map((v: any) => v.ruleName.replace(/\[.*\]$/, '')).sort()).toEqual([
      'AwsSolutions-DDB3',
      'AwsSolutions-IAM4', 'AwsSolutions-IAM4', 'AwsSolutions-IAM4',
      'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5', 'AwsSolutions-IAM5',
    ]);
    // Which construct acknowledges what: the basic execution role of each of the three functions; the wildcard
    // of the gate's reads, of the state machine's metric, log-delivery and trace writes, and of the starter's and
    // the safety net's X-Ray writes (active tracing: PutTraceSegments/PutTelemetryRecords take no resource);
    // the machine's invocations of the probe and the gate; the safety net's actions on the machine's executions.
    const id = (c: any) => stack.getLogicalId(c.node.defaultChild);
    const staged = StagedRollout.of(stack);
    const arn = withEnv ? 'arn:aws:states:eu-west-1:123456789012' : 'arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>';
    const basic = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
    expect(acknowledged.map((v: any) => `${v.acknowledgedAt} ${v.ruleName}`).sort()).toEqual([
      `TestStack/StagedRollout/Gate ${basic}`,
      'TestStack/StagedRollout/Gate AwsSolutions-IAM5[Resource::*]',
      `TestStack/StagedRollout/SafetyNet ${basic}`,
      'TestStack/StagedRollout/SafetyNet AwsSolutions-IAM5[Resource::*]',
      `TestStack/StagedRollout/SafetyNet AwsSolutions-IAM5[Resource::${arn}:execution:<${id(staged.stateMachine)}.Name>:*]`,
      'TestStack/StagedRollout/OperatorTable AwsSolutions-DDB3',
      `TestStack/StagedRollout/Starter ${basic}`,
      'TestStack/StagedRollout/Starter AwsSolutions-IAM5[Resource::*]',
      'TestStack/StagedRollout/StateMachine AwsSolutions-IAM5[Resource::*]',
      `TestStack/StagedRollout/StateMachine AwsSolutions-IAM5[Resource::<${id(probe.function)}.Arn>:*]`,
      `TestStack/StagedRollout/StateMachine AwsSolutions-IAM5[Resource::<${id(staged.gateFunction)}.Arn>:*]`,
    ].sort());
    for (const fnId of ['Starter', 'SafetyNet']) {
      expect(acknowledged.find((v: any) => v.acknowledgedAt === `TestStack/StagedRollout/${fnId}` && v.ruleName === 'AwsSolutions-IAM5[Resource::*]').reason).toMatch(/X-Ray/);
    }
    for (const v of acknowledged) expect(v.reason.length).toBeGreaterThan(20);
  });

  test('attach() leaves the deployment group\'s hook to the caller when wirePreHook is false', () => {
    const stack = testStack();
    const fn = testFunction(stack);
    const version = fn.currentVersion;
    const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
    const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', { alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE });
    const starter = StagedRollout.of(stack).attach({ alias, version, deploymentGroup, wirePreHook: false });
    expect(() => deploymentGroup.addPreHook(starter)).not.toThrow();
    const other = testFunction(stack, 'Other');
    expect(() => deploymentGroup.addPreHook(other)).toThrow();
  });
});

describe('staged-guarded-alias', () => {
  const item = (id: string) => JSON.stringify({ id, question: `What is ${id}?`, paraphrases: [`Explain ${id}.`, `Describe ${id}.`], target: `${id} is a thing.` });
  const GOLD = GoldSet.fromJsonl([item('alpha'), item('beta')].join('\n'));

  describe('GuardedAlias with a staged strategy', () => {
    test('deploys all at once through CodeDeploy, with the stack\'s starter as the BeforeAllowTraffic hook', () => {
      const stack = testStack();
      const ga = new GuardedAlias(stack, 'Guarded', { function: testFunction(stack), strategy: RolloutStrategy.staged() });
      expect(ga.strategy.kind).toBe(RolloutKind.STAGED);
      const t = Template.fromStack(stack);
      t.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', { DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce' });
      const starter = StagedRollout.of(stack).starterFunction;
      t.hasResource('AWS::Lambda::Alias', {
        UpdatePolicy: { CodeDeployLambdaAliasUpdate: { BeforeAllowTrafficHook: { Ref: stack.getLogicalId(starter.node.defaultChild as any) } } },
      });
      t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
      // CodeDeploy's shared role may invoke the starter by its ARN, and nothing broader.
      const policy = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('RolloutGuardrailsDeploymentRole') } }))[0] as any;
      expect(policy.Properties.PolicyDocument.Statement).toEqual([
        { Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: { 'Fn::GetAtt': [stack.getLogicalId(starter.node.defaultChild as any), 'Arn'] } },
      ]);
    });

    test('shares one state machine, starter and safety net between the staged aliases of a stack', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'A', { function: testFunction(stack, 'FnA'), strategy: RolloutStrategy.staged() });
      new GuardedAlias(stack, 'B', { function: testFunction(stack, 'FnB'), strategy: RolloutStrategy.staged({ steps: [5, 50, 100] }) });
      const t = Template.fromStack(stack);
      t.resourceCountIs('AWS::StepFunctions::StateMachine', 1);
      // One machinery, whatever the number of aliases: its two rules (deployments that fail or stop; its own
      // executions that end FAILED/TIMED_OUT/ABORTED), both to the one safety net, and one dead-letter queue.
      t.resourceCountIs('AWS::Events::Rule', 2);
      const staged = StagedRollout.of(stack);
      const safetyNet = stack.getLogicalId(staged.safetyNetFunction.node.defaultChild as any);
      const rules = [staged.safetyNetRule, staged.executionEndRule].map((r) => t.toJSON().Resources[stack.getLogicalId(r.node.defaultChild as any)].Properties);
      for (const rule of rules) expect(rule.Targets).toEqual([expect.objectContaining({ Arn: { 'Fn::GetAtt': [safetyNet, 'Arn'] } })]);
      // The safety-net rule matches both aliases' deployment groups; the other, the machine's own executions.
      expect(rules[0].EventPattern.detail.deploymentGroup).toHaveLength(2);
      expect(rules[1].EventPattern).toMatchObject({ source: ['aws.states'], detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'] } });
      // The two released functions, the one gate, starter and safety net, and the control-version provider.
      t.resourceCountIs('AWS::Lambda::Function', 2 + 3 + 1);
      t.resourceCountIs('AWS::SQS::Queue', 1);
      t.resourceCountIs('AWS::SSM::Parameter', 0);
    });

    test('keeps the probe as the AfterAllowTraffic hook and hands it to the machine for each step', () => {
      const stack = testStack();
      const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
      new GuardedAlias(stack, 'Guarded', {
        function: testFunction(stack),
        probe,
        strategy: RolloutStrategy.staged({ probeBudget: Duration.seconds(probe.function.timeout!.toSeconds()) }),
      });
      const starter = StagedRollout.of(stack).starterFunction;
      // A two-question gold set: the probe warns.
      expectSynthWarnings(['cdk-rollout-guardrails:smallGoldSet'], () => Template.fromStack(stack)).hasResource('AWS::Lambda::Alias', {
        UpdatePolicy: {
          CodeDeployLambdaAliasUpdate: {
            BeforeAllowTrafficHook: { Ref: stack.getLogicalId(starter.node.defaultChild as any) },
            AfterAllowTrafficHook: { Ref: stack.getLogicalId(probe.function.node.defaultChild as any) },
          },
        },
      });
    });

    test('rejects a preTrafficHook, whose phase the staged starter takes', () => {
      const stack = testStack();
      expect(() => new GuardedAlias(stack, 'Guarded', {
        function: testFunction(stack),
        strategy: RolloutStrategy.staged(),
        preTrafficHook: testFunction(stack, 'Pre'),
      })).toThrow("preTrafficHook must be left out with a staged strategy (its BeforeAllowTraffic hook starts the staged rollout; CodeDeploy runs one hook per phase: use postTrafficHook, or canary/linear), got: the construct at 'TestStack/Pre'");
    });

    test('reports a bad schedule with the other props\' problems', () => {
      const stack = testStack();
      expect(() => new GuardedAlias(stack, 'Guarded', {
        function: testFunction(stack),
        aliasName: '',
        strategy: RolloutStrategy.staged({ steps: [1, 5, 3] }),
      })).toThrow(/has 3 invalid props:[\s\S]*aliasName must be[\s\S]*steps must be strictly rising[\s\S]*steps must be a schedule ending at 100/);
    });
  });
});

describe('staged-strategy', () => {
  describe('RolloutStrategy.staged', () => {
    test('defaults to 1 → 5 → 25 → 50 → 100 % with a 5-minute bake, 2 failures per step and noData judged on the probe and alarms after the bake (low traffic)', () => {
      const strategy = RolloutStrategy.staged();
      expect(strategy.kind).toBe(RolloutKind.STAGED);
      expect(strategy.validate()).toEqual([]);
      expect(strategy._schedule()).toEqual({
        steps: [1, 5, 25, 50, 100],
        bakeSeconds: 300,
        maxFailuresPerStep: 2,
        noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
        probeBudgetSeconds: 330,
        recheckSeconds: 60,
        canaryQuestions: 10,
        stopRules: [{ fromStep: 1, newErrorClass: true }, { fromStep: 5, minTopicCoverage: 0.7 }, { fromStep: 50, maxParaphraseFlips: 1 }],
      });
      expect(strategy.toString()).toBe('staged 1 → 5 → 25 → 50 → 100 %, 5 minutes bake per step, rolled back after 2 failed gates at one step');
    });

    test('computes the default schedule at 47.5 minutes: 4 × (5.5-minute probe + 5-minute bake) + a last probe', () => {
      expect(RolloutStrategy.staged().scheduleDuration?.toSeconds()).toBe(2850);
    });

    test('exposes the worst-case time to roll back after a breach', () => {
      const strategy = RolloutStrategy.staged();
      // Alarm during a bake: 2 min to ALARM + 1 min watch interval + 30 s reset.
      expect(strategy.rollbackTime?.onAlarm.toSeconds()).toBe(210);
      // Seen at the next check (5 min bake + 5.5 min probe), failed again after 1 min + 5.5 min probe, then reset.
      expect(strategy.rollbackTime?.onGateCheck.toSeconds()).toBe(17 * 60 + 30);
      expect(strategy.worstCaseRollbackTime?.toSeconds()).toBe(1050);
      expect(RolloutStrategy.staged({ maxFailuresPerStep: 1, bake: Duration.minutes(1), probeBudget: Duration.seconds(30) }).worstCaseRollbackTime?.toSeconds()).toBe(210);
    });

    test('binds to CodeDeploy\'s all-at-once configuration: the schedule runs inside the hook', () => {
      expect(RolloutStrategy.staged()._bindDeploymentConfig()).toBe(codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE);
      expect(RolloutStrategy.staged().shiftDuration?.toSeconds()).toBe(0);
    });

    test.each([
      ['fails when steps fall', [1, 5, 3, 100], 'strategy (staged) steps must be strictly rising, got: [1,5,3,100]'],
      ['fails when a step repeats', [1, 5, 5, 100], 'strategy (staged) steps must be strictly rising, got: [1,5,5,100]'],
      ['fails when steps do not end at 100', [1, 5, 25, 50], 'strategy (staged) steps must be a schedule ending at 100, got: [1,5,25,50]'],
      ['fails on a fractional step', [1, 2.5, 100], 'strategy (staged) steps must be integers from 1 to 100, got: [1,2.5,100]'],
      ['fails on a step of 0', [0, 50, 100], 'strategy (staged) steps must be integers from 1 to 100, got: [0,50,100]'],
      ['fails on a step over 100', [50, 150], 'strategy (staged) steps must be integers from 1 to 100, got: [50,150]'],
      ['fails on a lone 100 (that is allAtOnce)', [100], 'strategy (staged) steps must be at least two steps, the last 100, got: [100]'],
    ])('%s', (_name, steps, message) => {
      expect(RolloutStrategy.staged({ steps }).validate()).toEqual([message]);
    });

    test.each([
      ['fails on a bake of seconds', { bake: Duration.seconds(90) }, 'strategy (staged) bake must be whole minutes, at least 1, got: 1 minute 30 seconds'],
      ['fails on maxFailuresPerStep of 0', { maxFailuresPerStep: 0 }, 'strategy (staged) maxFailuresPerStep must be an integer from 1 to 10, got: 0'],
      ['fails on an unknown noData action', { noData: { then: 'ignore' as NoDataAction } }, 'strategy (staged) noData.then must be "fail" or "pass", got: "ignore"'],
      ['fails on a noData wait of seconds', { noData: { maxWait: Duration.seconds(30) } }, 'strategy (staged) noData.maxWait must be whole minutes, at least 0, got: 30 seconds'],
      ['fails on noData.minInvocations of 0', { noData: { minInvocations: 0 } }, 'strategy (staged) noData.minInvocations must be an integer from 1 to 1000000, got: 0'],
      ['fails on canaryQuestions of 0', { canaryQuestions: 0 }, 'strategy (staged) canaryQuestions must be an integer from 1 to 10000, got: 0'],
      ['fails on fractional canaryQuestions', { canaryQuestions: 2.5 }, 'strategy (staged) canaryQuestions must be an integer from 1 to 10000, got: 2.5'],
      // Two steps, so that the schedule still fits the hour at this budget (the hour is judged beside the budget's range).
      ['fails on a probe budget over Lambda\'s 15 minutes', { steps: [50, 100], probeBudget: Duration.minutes(16) }, 'strategy (staged) probeBudget must be from 1 second to 15 minutes (Lambda\'s longest timeout), got: 16 minutes'],
    ])('%s', (_name, options, message) => {
      expect(RolloutStrategy.staged(options).validate()).toEqual([message]);
    });

    test('fails when the schedule outlasts the hook limit less the margin, giving the computed duration', () => {
      const strategy = RolloutStrategy.staged({ bake: Duration.minutes(10) });
      expect(strategy.validate()).toEqual([
        'strategy (staged) schedule must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), '
        + 'got: 67 minutes 30 seconds (4 steps below 100 × (probe budget 5 minutes 30 seconds + bake 10 minutes) + a last probe of 5 minutes 30 seconds); shorten bake or probeBudget, or use fewer steps',
      ]);
    });

    test('accepts a schedule of exactly 50 minutes and gives its duration in seconds when it is not whole minutes', () => {
      expect(RolloutStrategy.staged({ steps: [10, 100], bake: Duration.minutes(40), probeBudget: Duration.minutes(5) }).validate()).toEqual([]);
      expect(RolloutStrategy.staged({ steps: [10, 100], bake: Duration.minutes(50), probeBudget: Duration.seconds(90) }).validate()[0])
        .toContain('got: 53 minutes (1 step below 100 × (probe budget 1 minute 30 seconds + bake 50 minutes) + a last probe of 1 minute 30 seconds)');
    });

    test('reports every bad prop together', () => {
      // Falling and not ending at 100 are two problems of the steps, each reported.
      expect(RolloutStrategy.staged({ steps: [5, 1], bake: Duration.seconds(10), maxFailuresPerStep: 11 }).validate()).toHaveLength(4);
    });

    test('counts every step\'s longest wait for data in the hour: the default schedule with a 1-minute noData wait no longer fits', () => {
      expect(RolloutStrategy.staged().scheduleDuration?.toSeconds()).toBe(4 * (330 + 300) + 330);
      const waiting = RolloutStrategy.staged({ noData: { maxWait: Duration.minutes(1), then: NoDataAction.FAIL } });
      expect(waiting.scheduleDuration?.toSeconds()).toBe(4 * (330 + 300 + 60) + 330);
      expect(waiting.validate()).toEqual([
        'strategy (staged) schedule must fit CodeDeploy\'s 60-minute lifecycle hook limit with a 10-minute margin (at most 50 minutes), '
        + 'got: 51 minutes 30 seconds (4 steps below 100 × (probe budget 5 minutes 30 seconds + bake 5 minutes + noData.maxWait 1 minute) + a last probe of 5 minutes 30 seconds); shorten bake or probeBudget, or use fewer steps',
      ]);
    });
  });
});

describe('staged-stop-rules', () => {
  // The seed's per-stage hard stops (canary_release_serverless.md, "Rollout stages and hard stops") as the staged
  // schedule's stop rules: each in force from its step on, judged by the probe run at that weight.

  describe('RolloutStrategy.staged stopRules', () => {
    test('default to the seed\'s: a new error class from 1 %, topic coverage ≥ 0.70 from 5 %, at most one paraphrase flip per question from 50 %', () => {
      const seed = [{ fromStep: 1, newErrorClass: true }, { fromStep: 5, minTopicCoverage: 0.7 }, { fromStep: 50, maxParaphraseFlips: 1 }];
      expect(StagedRolloutStrategy.DEFAULT_STOP_RULES).toEqual(seed);
      expect(RolloutStrategy.staged().stopRules).toEqual(StagedRolloutStrategy.DEFAULT_STOP_RULES);
      expect(RolloutStrategy.staged()._schedule().stopRules).toEqual(seed);
    });

    test('keep only the default rules some step below 100 reaches', () => {
      expect(RolloutStrategy.staged({ steps: [10, 100] }).stopRules).toEqual([{ fromStep: 1, newErrorClass: true }, { fromStep: 5, minTopicCoverage: 0.7 }]);
      expect(RolloutStrategy.staged({ steps: [1, 100] }).stopRules).toEqual([{ fromStep: 1, newErrorClass: true }]);
      expect(RolloutStrategy.staged({ steps: [10, 60, 100] }).stopRules).toHaveLength(3);
    });

    test('a list given replaces the defaults; [] turns them off', () => {
      const rules: StepStopRules[] = [{ fromStep: 1, minTopicCoverage: 0.8, maxParaphraseFlips: 0 }];
      expect(RolloutStrategy.staged({ stopRules: rules })._schedule().stopRules).toEqual(rules);
      expect(RolloutStrategy.staged({ stopRules: [] })._schedule().stopRules).toEqual([]);
      expect(RolloutStrategy.staged({ stopRules: rules }).validate()).toEqual([]);
    });

    test('every bad rule is reported together, naming the entry, the field and the value', () => {
      const problems = RolloutStrategy.staged({
        steps: [1, 5, 25, 100],
        stopRules: [
          { fromStep: 0, minTopicCoverage: 1.5 },
          { fromStep: 5, maxParaphraseFlips: -1 },
          { fromStep: 5, maxParaphraseFlips: 0.5 },
          { fromStep: 5 },
          { fromStep: 50, minTopicCoverage: 0.7 },
          { fromStep: 5, minTopicCoverage: 0.7, maxFlips: 1 } as unknown as StepStopRules,
          { minTopicCoverage: 0.7 } as unknown as StepStopRules,
          'often' as unknown as StepStopRules,
        ],
      }).validate();
      expect(problems).toEqual([
        'strategy (staged) stopRules[0].fromStep must be an integer from 1 to 99, got: 0',
        'strategy (staged) stopRules[0].minTopicCoverage must be a number at least 0 and at most 1, got: 1.5',
        'strategy (staged) stopRules[1].maxParaphraseFlips must be an integer from 0 to 1000, got: -1',
        'strategy (staged) stopRules[2].maxParaphraseFlips must be an integer from 0 to 1000, got: 0.5',
        'strategy (staged) stopRules[3] must be a rule with minTopicCoverage, maxParaphraseFlips or newErrorClass: true (it judges nothing), got: {"fromStep":5}',
        'strategy (staged) stopRules[4].fromStep must be at most the highest step below 100 (25 in [1,5,25,100]), or the rule is never judged, got: 50',
        'strategy (staged) stopRules[5].maxFlips must be one of fromStep, minTopicCoverage, maxParaphraseFlips, newErrorClass (unknown key), got: "maxFlips"',
        'strategy (staged) stopRules[6].fromStep must be an integer from 1 to 99 (required), got: undefined',
        'strategy (staged) stopRules[7] must be an object { fromStep, minTopicCoverage?, maxParaphraseFlips?, newErrorClass? }, got: "often"',
      ]);
      expect(RolloutStrategy.staged({ stopRules: 'strict' as unknown as StepStopRules[] }).validate())
        .toEqual(['strategy (staged) stopRules must be a list of { fromStep, minTopicCoverage?, maxParaphraseFlips?, newErrorClass? }, got: "strict"']);
    });
  });

  test('probe rules given for an alias without a probe draw a warning naming them; the defaults and the gate\'s own rule do not', () => {
    const stack = testStack();
    new GuardedAlias(stack, 'Given', { function: testFunction(stack, 'GivenFn'), strategy: RolloutStrategy.staged({ stopRules: [{ fromStep: 5, minTopicCoverage: 0.8 }] }) });
    new GuardedAlias(stack, 'Defaults', { function: testFunction(stack, 'DefaultsFn') });
    new GuardedAlias(stack, 'GateOnly', { function: testFunction(stack, 'GateOnlyFn'), strategy: RolloutStrategy.staged({ stopRules: [{ fromStep: 1, newErrorClass: true }] }) });
    const warnings = expectSynthWarnings(['cdk-rollout-guardrails:stopRulesWithoutProbe'], () => Annotations.fromStack(stack)).findWarning('*', Match.stringLikeRegexp('stopRulesWithoutProbe'));
    expect(warnings.map((w) => w.id)).toEqual(['/TestStack/Given/Alias']);
    expect(JSON.stringify(warnings[0].entry.data)).toContain('minTopicCoverage or maxParaphraseFlips');
  });

  describe('the rules a probe run judges at a weight', () => {
    const rules = [{ fromStep: 5, minTopicCoverage: 0.7 }, { fromStep: 25, minTopicCoverage: 0.8 }, { fromStep: 50, maxParaphraseFlips: 1 }, { fromStep: 50, maxParaphraseFlips: 2 }];

    test('are those in force there, each at its strictest; none before the first rule\'s step', () => {
      expect(stopRulesAt(rules, 0)).toBeNull();
      expect(stopRulesAt(rules, 1)).toBeNull();
      expect(stopRulesAt(rules, 5)).toEqual({ minTopicCoverage: 0.7 });
      expect(stopRulesAt(rules, 25)).toEqual({ minTopicCoverage: 0.8 });
      expect(stopRulesAt(rules, 50)).toEqual({ minTopicCoverage: 0.8, maxParaphraseFlips: 1 });
      expect(stopRulesAt([], 50)).toBeNull();
    });

    test('the gate function hands the next probe the rules of the weight its decision leaves', () => {
      const config: StagedAliasConfig = {
        schedule: {
          steps: [1, 5, 25, 50, 100], bakeSeconds: 60, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 },
          probeBudgetSeconds: 60, recheckSeconds: 60, canaryQuestions: 10, stopRules: RolloutStrategy.staged()._schedule().stopRules,
        },
        thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.25, maxErrorRate: 0.01 },
        alarmNames: [],
      };
      // The machine's walk through a healthy rollout: each 'probe' decision (the end of a bake) is followed by a
      // probe run at the weight it leaves, with the rules it names.
      let now = Date.UTC(2026, 0, 1, 12);
      let progress = INITIAL_PROGRESS;
      const probed: Array<[number, unknown]> = [];
      for (let i = 0; i < 100; i++) {
        const out = planStep({
          deployment: { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1' },
          target: { functionName: 'fn', alias: 'live', currentVersion: '1', targetVersion: '2' },
          config,
          deadline: now + 3_600_000,
          progress,
          probe: { status: 'Succeeded', reasons: [] },
        }, { alarms: [], canary: { invocations: 500, errors: 0, p95Ms: 100 }, control: { invocations: 5000, errors: 1, p95Ms: 100 }, now });
        if (out.next === 'probe') probed.push([out.weight, out.probeStopRules]);
        if (out.next === 'succeed' || out.next === 'rollback') break;
        now += out.waitSeconds * 1000 + (out.next === 'probe' ? 60_000 : 0);
        progress = out.progress;
      }
      expect(probed).toEqual([
        [1, null],
        [5, { minTopicCoverage: 0.7 }],
        [25, { minTopicCoverage: 0.7 }],
        [50, { minTopicCoverage: 0.7, maxParaphraseFlips: 1 }],
      ]);
    });
  });
});
