// The draining and notification suites, one describe() per former file: each test file that loads aws-cdk-lib costs about a second of `npm test` (issue #14 §7), so suites of one area share a file.
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template, Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DeltaSProbe, GoldSet, GuardedAlias, GuardedAliasProps, RolloutStrategy, BlueGreenSwitch, StagedRollout } from '../lib';
import { resourcesOfType, testFunction, testStack } from './util';
import { GateEvent, planStep } from '../lambdas/staged/gate';
import { INITIAL_PROGRESS, StagedAliasConfig } from '../packages/runtime/src/contract/staged';

describe('draining', () => {
  // Draining (issue #15 §6): what a rollout does to the version it replaces, and so to the invocations and streams
  // still running on it. AWS documents neither what a change of the alias does to running invocations nor what
  // deleting a version does to them (docs/aws-behaviour.md LAM-9 to LAM-12); these tests pin what the library
  // itself does: nothing it runs can delete, change or re-provision a version, the old version stays the alias's
  // FunctionVersion until CodeDeploy's final shift, and only CloudFormation removes it, after the update.
  type Json = any;
  const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));

  /** One GuardedAlias with provisioned concurrency (`warmup`) under one strategy, synthesized once. */
  function synth(props: (stack: Stack) => Omit<GuardedAliasProps, 'function'>): { alias: GuardedAlias; template: Json } {
    const stack = testStack();
    const alias = new GuardedAlias(stack, 'X', { function: testFunction(stack), ...props(stack) });
    return { alias, template: Template.fromStack(stack).toJSON() };
  }

  const STACKS = {
    // The default strategy; auto-scaled warm-up, so the stack has a scalable target too.
    staged: synth(() => ({ warmup: { autoScaling: { minCapacity: 2, maxCapacity: 10 } } })),
    blueGreen: synth(() => ({ strategy: RolloutStrategy.blueGreen(), warmup: { provisionedConcurrency: 2 } })),
    // CodeDeploy's own canary; with warm-up it needs the probe, whose hook runs the warm gate.
    canary: synth((stack) => ({
      strategy: RolloutStrategy.canary(10, Duration.minutes(5)), warmup: { provisionedConcurrency: 2 },
      probe: new DeltaSProbe(stack, 'Probe', { goldSet: GOLD }),
    })),
  };
  const EACH = Object.entries(STACKS).map(([name, built]) => ({ name, ...built }));

  /** The logical ID of the template's one resource of `type`. */
  function onlyId(template: Json, type: string): string {
    const ids = resourcesOfType(template, type);
    expect(ids).toHaveLength(1);
    return ids[0];
  }

  function resources(template: Json, type: string): Json[] {
    return resourcesOfType(template, type).map((id) => template.Resources[id]);
  }

  /** Every action any role of the stack may take: inline and attached policies (managed policies by name, CD-17). */
  function permissions(template: Json): { actions: string[]; notActions: number; managed: string[] } {
    const statements = (doc: Json): Json[] => [].concat(doc?.Statement ?? []);
    const documents = [
      ...resources(template, 'AWS::IAM::Policy').map((p) => p.Properties.PolicyDocument),
      ...resources(template, 'AWS::IAM::ManagedPolicy').map((p) => p.Properties.PolicyDocument),
      ...resources(template, 'AWS::IAM::Role').flatMap((r) => (r.Properties.Policies ?? []).map((p: Json) => p.PolicyDocument)),
    ];
    const allows = documents.flatMap(statements).filter((s) => s.Effect === 'Allow');
    const actions = allows.flatMap((s) => [].concat(s.Action ?? []));
    const managed = resources(template, 'AWS::IAM::Role').flatMap((r) => r.Properties.ManagedPolicyArns ?? [])
      .map((arn: Json) => JSON.stringify(arn).replace(/^.*:policy\/|".*$/g, ''));
    return { actions: [...new Set(actions)].sort(), notActions: allows.filter((s) => s.NotAction).length, managed: [...new Set(managed)].sort() };
  }

  /** The state machines' definitions, tokens as placeholders (the definition is a Fn::Join of strings and tokens). */
  function definitions(template: Json): string[] {
    return resources(template, 'AWS::StepFunctions::StateMachine').map((m) => {
      const parts = m.Properties.DefinitionString['Fn::Join'][1] as Json[];
      return parts.map((p) => (typeof p === 'string' ? p : p.Ref === 'AWS::Partition' ? 'aws' : p.Ref ? `REF(${p.Ref})` : 'TOKEN')).join('');
    });
  }

  /** Every Task state of a definition, Parallel branches and Map processors included. */
  function tasks(definition: string): Json[] {
    const found: Json[] = [];
    const walk = (states: Record<string, Json>) => {
      for (const state of Object.values(states)) {
        if (state.Type === 'Task') found.push(state);
        for (const branch of state.Branches ?? []) walk(branch.States);
        if (state.ItemProcessor) walk(state.ItemProcessor.States);
        if (state.Iterator) walk(state.Iterator.States);
      }
    };
    walk(JSON.parse(definition).States);
    return found;
  }

  /** Lambda actions that leave a version, its configuration and its provisioned concurrency as they are. */
  const HARMLESS_LAMBDA = /^lambda:(Get[A-Za-z]+|List[A-Za-z]+|InvokeFunction|InvokeWithResponseStream|UpdateAlias|UpdateEventSourceMapping)$/;

  describe('no part of a rollout can delete, change or re-provision a version (LAM-9, LAM-12)', () => {
    test.each(EACH)('$name: no role may delete or publish a version, change a function, or put or delete provisioned concurrency or scaling', ({ template }) => {
      const { actions, notActions, managed } = permissions(template);
      expect(notActions).toBe(0);
      const lambda = actions.filter((a) => a.toLowerCase().startsWith('lambda:'));
      // Not vacuous: every strategy's machinery reads the alias.
      expect(lambda).toContain('lambda:GetAlias');
      expect(lambda.filter((a) => !HARMLESS_LAMBDA.test(a))).toEqual([]);
      expect(actions.filter((a) => a === '*' || /^(lambda|application-autoscaling):\*/i.test(a))).toEqual([]);
      // Scaling belongs to Application Auto Scaling's service-linked role, never to a role of the stack.
      expect(actions.filter((a) => /^application-autoscaling:/i.test(a) && !/^application-autoscaling:Describe/i.test(a))).toEqual([]);
      // The attached managed policies: logs only, and CodeDeploy's Lambda policy, whose Lambda actions are UpdateAlias,
      // GetAlias, GetProvisionedConcurrencyConfig and InvokeFunction on CodeDeployHook_* (CD-17).
      expect(managed).toEqual(['service-role/AWSCodeDeployRoleForLambdaLimited', 'service-role/AWSLambdaBasicExecutionRole']);
    });

    test.each(EACH)('$name: no state machine reaches Lambda but through lambda:invoke and UpdateAlias with RoutingConfig alone', ({ name, template }) => {
      const all = definitions(template).flatMap(tasks);
      const sdk = all.map((t) => String(t.Resource)).filter((r) => r.includes(':aws-sdk:'));
      expect(sdk.filter((r) => /:aws-sdk:(lambda|applicationautoscaling):/i.test(r) && !r.endsWith(':aws-sdk:lambda:updateAlias'))).toEqual([]);
      const updates = all.filter((t) => String(t.Resource).endsWith(':aws-sdk:lambda:updateAlias'));
      // The old version stays the alias's FunctionVersion until CodeDeploy's final shift: the machine writes weights only.
      for (const update of updates) {
        const keys = Object.keys(update.Arguments ?? update.Parameters).map((k) => k.replace(/\.\$$/, ''));
        expect(keys).toContain('RoutingConfig');
        // RevisionId is welcome (LAM-4); FunctionVersion, or anything else, is not.
        expect(keys.filter((k) => !['FunctionName', 'Name', 'RoutingConfig', 'RevisionId'].includes(k))).toEqual([]);
      }
      // Only the staged machine writes the alias (SetWeight, its resets and HandBack); blue-green's never does, and
      // a CodeDeploy canary has no machine at all.
      expect(updates.length > 0).toBe(name === 'staged');
      expect(resources(template, 'AWS::StepFunctions::StateMachine').length > 0).toBe(name !== 'canary');
    });

    test('the handlers call only Lambda reads, Invoke, UpdateAlias and UpdateEventSourceMapping, and no Application Auto Scaling', () => {
      const sources = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const file = path.join(dir, e.name);
        return e.isDirectory() ? sources(file) : /\.ts$/.test(e.name) ? [file] : [];
      });
      const files = [...sources(path.join(__dirname, '..', 'lambdas')), ...sources(path.join(__dirname, '..', 'packages', 'runtime', 'src'))];
      const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
      const lambdaCommands = new Set(Object.keys(require('@aws-sdk/client-lambda')).filter((k) => k.endsWith('Command')));
      // Not vacuous: the client names the commands that would delete or re-provision a version.
      for (const c of ['DeleteFunctionCommand', 'DeleteProvisionedConcurrencyConfigCommand', 'PutProvisionedConcurrencyConfigCommand', 'PublishVersionCommand']) {
        expect(lambdaCommands.has(c)).toBe(true);
      }
      const used = [...new Set(text.match(/\b[A-Z][A-Za-z]+Command\b/g) ?? [])].filter((c) => lambdaCommands.has(c)).sort();
      expect(used).toEqual(expect.arrayContaining(['GetAliasCommand', 'InvokeCommand', 'UpdateAliasCommand']));
      expect(used.filter((c) => !/^(Get[A-Za-z]+|List[A-Za-z]+|Invoke|InvokeWithResponseStream|UpdateAlias|UpdateEventSourceMapping)Command$/.test(c))).toEqual([]);
      expect(text).not.toMatch(/@aws-sdk\/client-application-auto-scaling/);
    });
  });

  describe('the old version keeps serving, and keeps its provisioned concurrency, until CloudFormation removes it (LAM-10, LAM-12)', () => {
    test.each(EACH)('$name: provisioned concurrency lives and dies with its version (DESTROY), the alias has none and no weights, and any scaling targets the version', ({ name, alias, template }) => {
      const versionId = onlyId(template, 'AWS::Lambda::Version');
      const aliasId = onlyId(template, 'AWS::Lambda::Alias');
      expect(template.Resources[versionId].Properties.ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 2 });
      // Warm-up makes the version DESTROY: the superseded version goes, with its provisioned concurrency, when
      // CloudFormation removes it after the update, and not before (nothing else can delete it).
      expect(template.Resources[versionId]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      // An alias with a configuration of its own would lose it from the old version when CodeDeploy moves the alias
      // (PC-2); weights in the template would fight the rollout's own.
      expect(template.Resources[aliasId].Properties.ProvisionedConcurrencyConfig).toBeUndefined();
      expect(template.Resources[aliasId].Properties.RoutingConfig).toBeUndefined();
      for (const target of resources(template, 'AWS::ApplicationAutoScaling::ScalableTarget')) {
        expect(JSON.stringify(target.Properties.ResourceId)).toContain(JSON.stringify({ 'Fn::GetAtt': [versionId, 'Version'] }));
        expect(JSON.stringify(target.Properties.ResourceId)).not.toContain(alias.aliasName);
      }
      expect(resources(template, 'AWS::ApplicationAutoScaling::ScalableTarget')).toHaveLength(name === 'staged' ? 1 : 0);
    });

    test('a new release is a new version resource: the old one leaves the template, with no Retain, and the alias moves through CodeDeploy', () => {
      const release = (code: string) => {
        const stack = testStack();
        new GuardedAlias(stack, 'X', { function: testFunction(stack, 'Fn', code), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
        const template = Template.fromStack(stack).toJSON();
        return { template, versionId: onlyId(template, 'AWS::Lambda::Version'), aliasId: onlyId(template, 'AWS::Lambda::Alias') };
      };
      const before = release('exports.handler = async () => ({ release: 1 });');
      const after = release('exports.handler = async () => ({ release: 2 });');
      // CloudFormation does not update the old version (CFN-4): it is gone from the template, so CloudFormation deletes
      // it; Lambda refuses to delete a version the alias still references (LAM-12), which it does until the final shift.
      expect(after.versionId).not.toBe(before.versionId);
      expect(after.template.Resources[before.versionId]).toBeUndefined();
      // CDK's default removal policy for fn.currentVersion is DESTROY: no DeletionPolicy means CloudFormation's Delete.
      expect(before.template.Resources[before.versionId].DeletionPolicy ?? 'Delete').toBe('Delete');
      // The alias is updated, not replaced, and CodeDeploy (not CloudFormation) moves it to the new version (CFN-1).
      expect(after.aliasId).toBe(before.aliasId);
      expect(after.template.Resources[after.aliasId].Properties.FunctionVersion).toEqual({ 'Fn::GetAtt': [after.versionId, 'Version'] });
      expect(Object.keys(after.template.Resources[after.aliasId].UpdatePolicy)).toEqual(['CodeDeployLambdaAliasUpdate']);
    });

    test('blue-green: the default hold after the switch is at least 15 minutes, Lambda\'s longest invocation, before the deployment can end', () => {
      const [definition] = definitions(STACKS.blueGreen.template);
      const holds = [...definition.matchAll(/holdSeconds\\*"\s*:\s*(\d+)/g)].map((m) => Number(m[1]));
      expect(holds).toHaveLength(1);
      // Lambda runs an invocation for at most 15 minutes (LAM-10): at the default hold, an invocation that started on
      // the old version before the switch has reached its timeout before the hook can report Succeeded, and so before
      // CloudFormation can remove the old version (LAM-12).
      expect(holds[0]).toBeGreaterThanOrEqual(Duration.minutes(15).toSeconds());
    });
  });
});

describe('notifications', () => {
  function withTopic(strategy?: RolloutStrategy) {
    const stack = testStack();
    const topic = new sns.Topic(stack, 'Releases');
    const ga = new GuardedAlias(stack, 'Answer', { function: testFunction(stack), notifications: topic, strategy, gates: { maxP95Ratio: 1.2 } });
    return { stack, topic, ga, template: Template.fromStack(stack) };
  }

  const ref = (stack: any, construct: any) => ({ Ref: stack.getLogicalId(construct.node.defaultChild) });

  describe('GuardedAlias notifications', () => {
    test('forward this deployment group\'s start, success, failure and stop to the topic as JSON with the thresholds in force', () => {
      const { stack, topic, ga, template } = withTopic();
      const rules = template.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { detail: { state: ['START', 'SUCCESS', 'FAILURE', 'STOP'] } } },
      });
      expect(Object.keys(rules)).toHaveLength(1);
      const rule = Object.values(rules)[0] as any;
      expect(rule.Properties.EventPattern).toEqual({
        'source': ['aws.codedeploy'],
        'detail-type': ['CodeDeploy Deployment State-change Notification'],
        'detail': {
          application: [{ Ref: expect.any(String) }],
          deploymentGroup: [ref(stack, ga.deploymentGroup)],
          state: ['START', 'SUCCESS', 'FAILURE', 'STOP'],
        },
      });
      const target = rule.Properties.Targets[0];
      expect(target.Arn).toEqual(ref(stack, topic));
      expect(target.InputTransformer.InputPathsMap).toEqual({
        'detail-state': '$.detail.state', 'detail-deploymentId': '$.detail.deploymentId',
        'detail-application': '$.detail.application', 'detail-deploymentGroup': '$.detail.deploymentGroup', 'time': '$.time',
      });
      // The template, with the stack's tokens filled in and each placeholder replaced by its JSON value (as
      // EventBridge does in a JSON template), is the message subscribers get.
      const values: Record<string, string> = { 'detail-state': 'FAILURE', 'detail-deploymentId': 'd-ABC', 'detail-application': 'app', 'detail-deploymentGroup': 'group', 'time': '2026-11-22T05:00:00Z' };
      const text = (target.InputTransformer.InputTemplate['Fn::Join'][1] as any[]).map((p) => (typeof p === 'string' ? p : 'fn-name')).join('')
        .replace(/<([a-zA-Z-]+)>/g, (_m, name: string) => JSON.stringify(values[name]));
      expect(JSON.parse(text)).toEqual({
        source: 'cdk-rollout-guardrails', event: 'deployment', state: 'FAILURE',
        strategy: 'staged 1 → 5 → 25 → 50 → 100 %, 5 minutes bake per step, rolled back after 2 failed gates at one step',
        deploymentId: 'd-ABC', application: 'app', deploymentGroup: 'group', functionName: 'fn-name', alias: 'live',
        releaseId: expect.stringMatching(/^rel-[0-9a-f]{12}$/), time: '2026-11-22T05:00:00Z',
        thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.2, maxErrorRate: 0.01 },
      });
      // EventBridge may publish to the topic.
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })]) },
      });
    });

    test('publish every gate alarm\'s ALARM and OK (CloudWatch\'s message carries the datapoints and the threshold)', () => {
      const { stack, topic, ga, template } = withTopic();
      expect(ga.gates.alarms).toHaveLength(1);
      for (const alarm of ga.gates.alarms) {
        const props = template.toJSON().Resources[stack.getLogicalId(alarm.node.defaultChild as any)].Properties;
        expect(props.AlarmActions).toEqual([ref(stack, topic)]);
        expect(props.OKActions).toEqual([ref(stack, topic)]);
      }
    });

    test('with the staged default, put the topic in the alias\'s machine configuration and let the machine publish to it', () => {
      const { stack, topic, template } = withTopic();
      const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0] as any;
      const parts = machine.Properties.DefinitionString['Fn::Join'][1] as any[];
      const topicAt = parts.findIndex((p) => p?.Ref === stack.getLogicalId(topic.node.defaultChild as any));
      expect(topicAt).toBeGreaterThan(0);
      expect(parts[topicAt - 1]).toMatch(/topicArn\\*":\\*"$/);
      const role = stack.getLogicalId(StagedRollout.of(stack).stateMachine.role.node.defaultChild as any);
      const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))
        .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: ref(stack, topic) }));
    });

    test('with a canary strategy, forward the deployment events and the alarms without any state machine', () => {
      const { template } = withTopic(RolloutStrategy.canary(10, Duration.minutes(5)));
      template.resourceCountIs('AWS::StepFunctions::StateMachine', 0);
      template.resourceCountIs('AWS::Events::Rule', 1);
    });

    test('reject a value that is not a topic, naming the prop', () => {
      const stack = testStack();
      expect(() => new GuardedAlias(stack, 'Answer', { function: testFunction(stack), notifications: 'arn:aws:sns:eu-west-1:123456789012:releases' as any }))
        .toThrow("notifications must be an SNS topic (sns.ITopic), got: \"arn:aws:sns:eu-west-1:123456789012:releases\"");
    });

    test('cost no resource without a topic', () => {
      const stack = testStack();
      new GuardedAlias(stack, 'Answer', { function: testFunction(stack) });
      const template = Template.fromStack(stack);
      // The staged machinery's two rules only: its safety net's (deployments that fail or stop) and its
      // executions that end FAILED/TIMED_OUT/ABORTED; no rule forwards deployment events to a topic.
      const staged = StagedRollout.of(stack);
      expect(Object.keys(template.findResources('AWS::Events::Rule')).sort()).toEqual(
        [staged.safetyNetRule, staged.executionEndRule].map((r) => stack.getLogicalId(r.node.defaultChild as events.CfnRule)).sort());
      template.resourceCountIs('AWS::SNS::Topic', 0);
      for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[]) expect(alarm.Properties.AlarmActions).toBeUndefined();
    });
  });

  describe('staged gate decisions as notifications', () => {
    const CONFIG: StagedAliasConfig = {
      schedule: { steps: [1, 5, 25, 50, 100], bakeSeconds: 300, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 300, then: 'fail', minInvocations: 10 }, probeBudgetSeconds: 300, recheckSeconds: 60, canaryQuestions: 10, stopRules: [] },
      thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 },
      alarmNames: ['Errors'],
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:releases',
    };
    const NOW = Date.UTC(2026, 0, 1, 12);
    const event = (overrides: Partial<GateEvent> = {}): GateEvent => ({
      deployment: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1' },
      target: { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
      config: CONFIG,
      deadline: NOW + 58 * 60_000,
      progress: INITIAL_PROGRESS,
      probe: null,
      ...overrides,
    });
    const OK = [{ name: 'Errors', state: 'OK' as const }];

    test('a shift carries the step, the weight and every gate\'s measured value and threshold', () => {
      const out = planStep(event(), { alarms: OK, now: NOW });
      expect(out.next).toBe('shift');
      expect(out.notification).toEqual({
        source: 'cdk-rollout-guardrails', event: 'gate-decision', strategy: 'staged', deploymentId: 'd-ABC123',
        functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8',
        step: 1, weight: 1, decision: 'advance', next: 'shift', reasons: out.reasons,
        gates: out.gates.map(({ name, measured, threshold, passed }) => ({ name, measured, threshold, passed })),
      });
      expect(out.notification!.gates.length).toBeGreaterThan(0);
    });

    test('a rollback on a second breach at one step names the failing gate with its value and threshold', () => {
      const check = { phase: 'check' as const, stepIndex: 2, failures: 1, noDataWaitedSeconds: 0, bakeLeftSeconds: 0 };
      const out = planStep(event({ progress: check }), {
        alarms: OK, now: NOW,
        canary: { invocations: 1000, errors: 80, p95Ms: 100 }, control: { invocations: 3000, errors: 3, p95Ms: 100 },
      });
      expect(out.notification).toMatchObject({ decision: 'rollback', next: 'rollback', step: 25, weight: 0 });
      const failed = out.notification!.gates.filter((g) => g.passed === false);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((g) => typeof g.measured === 'number' && typeof g.threshold === 'number')).toBe(true);
    });

    test('a bake slice that changes nothing is not news, and an alias without a topic gets no notification', () => {
      const bake = { phase: 'bake' as const, stepIndex: 1, failures: 0, noDataWaitedSeconds: 0, bakeLeftSeconds: 120 };
      const calm = { canary: { invocations: 1000, errors: 0, p95Ms: 100 }, control: { invocations: 3000, errors: 1, p95Ms: 100 } };
      expect(planStep(event({ progress: bake }), { alarms: OK, now: NOW, ...calm })).toMatchObject({ next: 'bake' });
      expect(planStep(event({ progress: bake }), { alarms: OK, now: NOW, ...calm }).notification).toBeUndefined();
      const { topicArn: _t, ...noTopic } = CONFIG;
      expect(planStep(event({ config: noTopic }), { alarms: OK, now: NOW }).notification).toBeUndefined();
    });
  });

  describe('GuardedAlias blue-green notifications', () => {
    test('put the topic in the alias\'s blue-green configuration and let the blue-green worker publish to it', () => {
      const { stack, topic, ga, template } = withTopic(RolloutStrategy.blueGreen());
      // One machine, the blue-green one; its definition holds the topic in the alias's configuration.
      const machines = template.findResources('AWS::StepFunctions::StateMachine');
      expect(Object.keys(machines)).toEqual([stack.getLogicalId(BlueGreenSwitch.of(stack).stateMachine.node.defaultChild as any)]);
      const parts = (Object.values(machines)[0] as any).Properties.DefinitionString['Fn::Join'][1] as any[];
      const topicAt = parts.findIndex((p) => p?.Ref === stack.getLogicalId(topic.node.defaultChild as any));
      expect(topicAt).toBeGreaterThan(0);
      expect(parts[topicAt - 1]).toMatch(/topicArn\\*":\\*"$/);
      expect(stack.resolve(BlueGreenSwitch.of(stack)._configOf(ga.deploymentGroup)?.topicArn)).toEqual(ref(stack, topic));
      // The blue-green worker (which writes and publishes the machine's notifications) may publish to the topic.
      const role = stack.getLogicalId(BlueGreenSwitch.of(stack).workerFunction.role!.node.defaultChild as any);
      const statements = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } }))
        .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: ref(stack, topic) }));
      // The deployment events go to the topic as with every strategy.
      template.hasResourceProperties('AWS::Events::Rule', { EventPattern: { detail: { state: ['START', 'SUCCESS', 'FAILURE', 'STOP'] } } });
    });

    test('without a topic, the blue-green machine may publish nowhere', () => {
      const stack = testStack();
      const ga = new GuardedAlias(stack, 'Answer', { function: testFunction(stack), strategy: RolloutStrategy.blueGreen() });
      const template = Template.fromStack(stack);
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
      expect(statements.filter((s: any) => [s.Action].flat().includes('sns:Publish'))).toEqual([]);
      const config = BlueGreenSwitch.of(stack)._configOf(ga.deploymentGroup);
      expect(config).toBeDefined();
      expect(config!.topicArn).toBeUndefined();
    });
  });
});
