// Runs the synthesised state machine definition itself, state by state, with a small interpreter of the
// Amazon States Language features it uses (Pass, Choice on IsPresent / StringEquals / BooleanEquals, Wait, Task with Parameters / ResultSelector /
// ResultPath / Catch, Succeed, Fail; the JSONata Init state is evaluated by the jsonata library). The gate Task runs the real planner (lambdas/staged/gate.ts); the
// probe and the AWS SDK integrations are stubs that record their calls. This checks the data flow of the
// definition (every path the states read exists when they read it), not only its shape. Retries are not
// simulated (their shape is tested in staged-rollout.suite.ts): a stubbed failure goes straight to the catch.
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { DeltaSProbe, GoldSet, ProvisionedWarmup, RolloutStrategy, ShadowIntegration, StagedRollout } from '../lib';
import { planStep } from '../lambdas/staged/gate';
import { planShadowStep } from '../lambdas/staged/shadow-gate';
import { DEFAULT_SHADOW_PROMOTION, judgeShadowPromotion, ShadowReleaseSummary } from '../packages/runtime/src/contract/shadow-promotion';
import { aliasConfigKey } from '../packages/runtime/src/contract/config-key';
import { StagedStartInput } from '../packages/runtime/src/contract/staged';
import * as path from 'path';
import { testFunction, testStack } from './util';
import { AwsRuleError, CodeDeployDeployment, LambdaModel } from './helpers/aws-model';
import { Run, run, stagedDefinition, TaskStub } from './helpers/staged-run';

type Json = any;

/**
 * Two staged aliases in one stack, one with the probe: the machine's Init selects each one's configuration
 * by the key the starter passes. Tokens in the definition become readable names (`Ref` → the resource's name or logical ID,
 * the gate function's ARN → GATE_FUNCTION, any other ARN → `arn:<logical ID>`).
 */
function build(): { states: Record<string, Json>; startAt: string } {
  const stack = testStack();
  const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl')) });
  for (const [id, withProbe] of [['Group', true], ['Plain', false]] as const) {
    const fn = testFunction(stack, `Fn${id}`);
    const version = fn.currentVersion;
    const alias = new lambda.Alias(stack, `Live${id}`, { aliasName: 'live', version });
    const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, id, {
      alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE, deploymentGroupName: id,
      application: new codedeploy.LambdaApplication(stack, `App${id}`, { applicationName: 'App' }),
    });
    StagedRollout.of(stack).attach({
      alias, version, deploymentGroup,
      probe: withProbe ? probe : undefined,
      notifications: withProbe ? new sns.Topic(stack, 'Releases') : undefined,
      warmup: withProbe ? new ProvisionedWarmup(stack, `Warmup${id}`, { alias, version, provisionedConcurrency: 3 }) : undefined,
      strategy: withProbe ? undefined : RolloutStrategy.staged({ steps: [10, 100] }),
    });
  }
  // A third alias whose release must have passed shadow first (stage 0).
  const fn = testFunction(stack, 'FnShadowed');
  const alias = new lambda.Alias(stack, 'LiveShadowed', { aliasName: 'live', version: fn.currentVersion });
  const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Shadowed', {
    alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE, deploymentGroupName: 'Shadowed',
    application: codedeploy.LambdaApplication.fromLambdaApplicationName(stack, 'AppShadowed', 'App'),
  });
  const shadowFn = testFunction(stack, 'ShadowFn');
  const shadow = new ShadowIntegration(stack, 'Mirror', {
    api: new apigwv2.HttpApi(stack, 'Http'), method: 'GET', path: '/answer', live: alias, sampleRate: 0.1, maxMirrorRps: 10,
    shadow: new lambda.Alias(stack, 'ShadowAlias', { aliasName: 'shadow', version: shadowFn.currentVersion }),
  });
  StagedRollout.of(stack).attach({
    alias, version: fn.currentVersion, deploymentGroup, strategy: RolloutStrategy.staged({ steps: [10, 100] }),
    requireShadow: { shadow }, releaseId: 'rel-candidate',
  });
  return stagedDefinition(stack);
}


const machine = build();
const INPUT: StagedStartInput = {
  deployment: { deploymentId: 'd-ABC123', lifecycleEventHookExecutionId: 'hook-1' },
  target: { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
  configKey: aliasConfigKey('App', 'Group'),
  deadline: 58 * 60_000,
};
const HEALTHY = { canary: { invocations: 1000, errors: 0, p95Ms: 100 }, control: { invocations: 9000, errors: 1, p95Ms: 100 } };

/** The AWS side of one deployment, in the offline model of the register's rules (test/helpers/aws-model.ts). */
function world(): { lambda: LambdaModel; deployment: CodeDeployDeployment } {
  const lambda = new LambdaModel('demo-answer', ['7', '8']).publishWithPc('7', 3).publishWithPc('8', 3).addAlias('live', '7');
  return { lambda, deployment: new CodeDeployDeployment(lambda, INPUT.target) };
}

/**
 * The AWS side: the gate is the real planner; the probe answers `probeStatus`; the alias's routing and the hook
 * reports go through the model, which refuses what AWS documents it refuses; other SDK calls succeed unless
 * `fail` says otherwise.
 */
function stubs(options: {
  probeStatus?: 'Succeeded' | 'Failed'; warm?: boolean; fail?: (state: string, params: Json) => boolean; aws?: ReturnType<typeof world>; shadow?: ShadowReleaseSummary;
} = {}): TaskStub {
  const aws = options.aws ?? world();
  return (state, resource, params, clock) => {
    if (options.fail?.(state, params)) throw Object.assign(new Error(`${state} failed`), { name: 'Lambda.ServiceException' });
    if (state === 'WarmUp') {
      return { Payload: options.warm === false
        ? { ok: false, reasons: ['warm gate: provisioned concurrency FAILED: FUNCTION_ERROR_INIT_FAILURE'], status: 'FAILED', waitedMs: 42_000 }
        : { ok: true, reasons: [], status: 'READY', waitedMs: 65_000 } };
    }
    if (resource === 'GATE_FUNCTION' && params.mode === 'shadow') {
      return planShadowStep(params, judgeShadowPromotion(options.shadow, params.config.shadowPromotion, params.config.shadowPromotion.releaseId));
    }
    if (resource === 'GATE_FUNCTION') return planStep(params, { alarms: [], ...HEALTHY, now: clock });
    if (resource === 'arn:aws:states:::lambda:invoke') return { Payload: { status: options.probeStatus ?? 'Succeeded', reasons: options.probeStatus === 'Failed' ? ['maxDeltaS: 0.6 > 0.45'] : [] } };
    try {
      if (resource.endsWith('aws-sdk:lambda:updateAlias')) return aws.lambda.updateAlias(params);
      if (resource.endsWith('aws-sdk:codedeploy:putLifecycleEventHookExecutionStatus')) return aws.deployment.report(params.LifecycleEventHookExecutionId, params.Status);
      if (/aws-sdk:lambda:(put|delete)ProvisionedConcurrencyConfig$/.test(resource)) throw new Error(`the machine must not write provisioned concurrency (${state})`);
    } catch (error) {
      // A Step Functions SDK integration names the error after the service.
      if (error instanceof AwsRuleError) throw Object.assign(new Error(error.message), { name: `${resource.includes(':lambda:') ? 'Lambda' : 'CodeDeploy'}.${error.name}` });
      throw error;
    }
    return {};
  };
}

const weightsSet = (r: Run) => r.calls.filter((c) => c.resource.endsWith('lambda:updateAlias')).map((c) => [c.state, c.params.RoutingConfig.AdditionalVersionWeights]);
const reports = (r: Run) => r.calls.filter((c) => c.resource.endsWith('putLifecycleEventHookExecutionStatus')).map((c) => c.params);

describe('the state machine, run', () => {
  test('a healthy version goes 1 → 5 → 25 → 50 %, hands the alias back as CodeDeploy left it, then reports Succeeded once', async () => {
    const aws = world();
    const result = await run(machine, INPUT, stubs({ aws }));
    expect(result).toMatchObject({ end: 'Succeed', endState: 'Succeeded' });
    expect(weightsSet(result)).toEqual([['SetWeight', { 8: 0.01 }], ['SetWeight', { 8: 0.05 }], ['SetWeight', { 8: 0.25 }], ['SetWeight', { 8: 0.5 }], ['HandBack', {}]]);
    // The hand-back is the state right before the report: the shortest time on the current version alone.
    expect(result.calls.slice(-2).map((c) => c.state)).toEqual(['HandBack', 'ReportSucceeded']);
    // CodeDeploy's all-at-once shift then finds the alias on the AppSpec's current version, nothing weighted (CD-6, CD-11, CD-12).
    expect(() => aws.deployment.shift()).not.toThrow();
    expect(aws.lambda.alias('live')).toEqual({ functionVersion: '8', weights: {} });
    // Both versions kept their own provisioned concurrency throughout: nothing was put or deleted (PC-1, PC-2).
    expect(aws.lambda.calls.map((c) => c.op).filter((op) => op !== 'UpdateAlias')).toEqual([]);
    expect(reports(result)).toEqual([{ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1', Status: 'Succeeded' }]);
    expect(result.calls.filter((c) => c.state === 'Probe')).toHaveLength(5);
    expect(result.calls.find((c) => c.state === 'Probe')!.params).toEqual({
      FunctionName: expect.stringMatching(/^arn:Probe/),
      Payload: { deploymentId: 'd-ABC123', functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8', questionLimit: null, stopRules: null },
    });
    // The whole gold set before the first shift (1 %), then the canary questions (k = 10) before 5, 25, 50 % and
    // before the report: 1 full run and 4 of 10 questions (the seeds' per-step k).
    expect(result.calls.filter((c) => c.state === 'Probe').map((c) => c.params.Payload.questionLimit)).toEqual([null, 10, 10, 10, 10]);
    // The default stop rules, each from its step on (the seed's hard stops): none before the first shift nor at
    // 1 %, topic coverage from 5 %, and the paraphrase flips too at 50 %.
    expect(result.calls.filter((c) => c.state === 'Probe').map((c) => c.params.Payload.stopRules)).toEqual([
      null, null, { minTopicCoverage: 0.7 }, { minTopicCoverage: 0.7 }, { minTopicCoverage: 0.7, maxParaphraseFlips: 1 },
    ]);
    expect(result.calls.find((c) => c.state === 'PublishShift')!.params.MetricData[0]).toMatchObject({ MetricName: 'TrafficWeight', Value: 1, Unit: 'Percent' });
  });

  test('a version whose probe fails is rolled back after the second failure, before any weight is set', async () => {
    const result = await run(machine, INPUT, stubs({ probeStatus: 'Failed' }));
    expect(result).toMatchObject({ end: 'Fail', endState: 'RolledBack', error: 'GateFailed' });
    expect(result.visited.filter((s) => s === 'Probe')).toHaveLength(2);
    expect(weightsSet(result)).toEqual([['ResetRouting', {}]]);
    expect(reports(result)).toEqual([expect.objectContaining({ Status: 'Failed' })]);
  });

  test('a Failed report CodeDeploy says already landed (an earlier attempt timed out after landing) ends rolled back, not errored', async () => {
    const aws = world();
    // The first attempt landed, but its answer never came back: the retry finds the hook completed (CD-2).
    aws.deployment.report('hook-1', 'Failed');
    const result = await run(machine, INPUT, stubs({ probeStatus: 'Failed', aws }));
    expect(result).toMatchObject({ end: 'Fail', endState: 'RolledBack', error: 'GateFailed' });
    expect(result.visited).not.toContain('Errored');
  });

  test('an error in a task resets the routing and reports Failed', async () => {
    const result = await run(machine, INPUT, stubs({ fail: (state, params) => state === 'SetWeight' && params.RoutingConfig.AdditionalVersionWeights['8'] === 0.25 }));
    expect(result).toMatchObject({ end: 'Fail', endState: 'Errored' });
    expect(weightsSet(result).slice(-2)).toEqual([['SetWeight', { 8: 0.25 }], ['ResetRoutingOnError', {}]]);
    expect(reports(result)).toEqual([expect.objectContaining({ Status: 'Failed' })]);
  });

  test('a gate function that fails resets the routing and reports Failed', async () => {
    let gates = 0;
    const result = await run(machine, INPUT, (state, resource, params, clock) => {
      if (state === 'Gate' && ++gates === 4) throw Object.assign(new Error('boom'), { name: 'Error' });
      return stubs()(state, resource, params, clock);
    });
    expect(result.visited.slice(-4)).toEqual(['ResetRoutingOnError', 'ClearCohortOnError?', 'ReportFailedOnError', 'Errored']);
    expect(reports(result)).toEqual([expect.objectContaining({ Status: 'Failed' })]);
  });

  test('publishes each decision that is news to the alias\'s topic, and goes on when a publish fails', async () => {
    const result = await run(machine, INPUT, stubs({ fail: (state) => state === 'Notify' && Math.random() < 2 }));
    expect(result).toMatchObject({ end: 'Succeed', endState: 'Succeeded' });
    const published = result.calls.filter((c) => c.state === 'Notify');
    // Four shifts and the final succeed; no bake slice.
    expect(published.map((c) => JSON.parse(c.params.Message)).map((m) => `${m.next} ${m.weight}`)).toEqual(['shift 1', 'shift 5', 'shift 25', 'shift 50', 'succeed 50']);
    expect(published[0].params.TopicArn).toMatch(/^Releases/);
    expect(JSON.parse(published[0].params.Message)).toMatchObject({ source: 'cdk-rollout-guardrails', event: 'gate-decision', deploymentId: 'd-ABC123', targetVersion: '8' });
  });

  test('warms the new version before the first probe and shift, and writes no provisioned concurrency itself', async () => {
    const result = await run(machine, INPUT, stubs());
    expect(result.visited.slice(0, 8)).toEqual(['Init', 'Configured', 'OpenCohort?', 'HasShadowGate', 'HasWarmup', 'WarmUp', 'Warm?', 'HasProbe']);
    const warmCall = result.calls.find((c) => c.state === 'WarmUp')!;
    expect(warmCall.params.FunctionName).toMatch(/^arn:StagedRolloutWarm/);
    expect(warmCall.params.Payload).toEqual({
      deployment: INPUT.deployment, target: INPUT.target,
      warmup: { functionArn: warmCall.params.FunctionName, concurrency: 3, pings: 3, readyTimeoutSeconds: 120 },
    });
    expect(Object.values(machine.states).map((st: Json) => st.Resource ?? '').filter((r: string) => /ProvisionedConcurrency/i.test(r))).toEqual([]);
  });

  test('a version that is not warm fails the deployment before any probe or weight', async () => {
    const result = await run(machine, INPUT, stubs({ warm: false }));
    expect(result).toMatchObject({ end: 'Fail', endState: 'WarmGateFailed', error: 'WarmGateFailed' });
    expect(result.visited).not.toContain('Probe');
    expect(weightsSet(result)).toEqual([]);
    expect(reports(result)).toEqual([{ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1', Status: 'Failed' }]);
  });

  test('a hand-back that fails resets the routing and reports Failed: CodeDeploy never shifts a weighted alias', async () => {
    const aws = world();
    const result = await run(machine, INPUT, stubs({ aws, fail: (state) => state === 'HandBack' }));
    expect(result).toMatchObject({ end: 'Fail', endState: 'Errored' });
    expect(reports(result)).toEqual([expect.objectContaining({ Status: 'Failed' })]);
    expect(aws.lambda.alias('live')).toEqual({ functionVersion: '7', weights: {} });
    expect(aws.deployment.rollback()).toBeUndefined();
  });

  test('a rollback finds the alias as the deployment found it: its rollback deployment passes the model\'s checks', async () => {
    const aws = world();
    const result = await run(machine, INPUT, stubs({ aws, probeStatus: 'Failed' }));
    expect(result.endState).toBe('RolledBack');
    expect(aws.deployment.status).toBe('Failed');
    expect(() => aws.deployment.rollback()).not.toThrow();
    expect(aws.lambda.alias('live')).toEqual({ functionVersion: '7', weights: {} });
  });

  test('the model is not a rubber stamp: the old end state (50 % left on the alias) fails CodeDeploy\'s shift', () => {
    const aws = world();
    aws.lambda.updateAlias({ Name: 'live', RoutingConfig: { AdditionalVersionWeights: { 8: 0.5 } } });
    expect(() => aws.deployment.shift()).toThrow(/still routes to .*CD-11/);
    expect(() => aws.lambda.updateAlias({ Name: 'live', FunctionVersion: '8' })).toThrow(/both the alias's FunctionVersion and an additional version/);
  });

  test('the other alias of the stack gets its own configuration: no probe, its own schedule', async () => {
    const result = await run(machine, { ...INPUT, configKey: aliasConfigKey('App', 'Plain') }, stubs());
    expect(result.end).toBe('Succeed');
    expect(result.visited).not.toContain('Probe');
    expect(result.visited).toContain('NoProbe');
    expect(weightsSet(result)).toEqual([['SetWeight', { 8: 0.1 }], ['HandBack', {}]]);
    expect(result.visited).not.toContain('Notify');
    expect(result.visited).not.toContain('WarmUp');
  });

  test('the consumers the starter fenced reach every Gate invocation, and an empty list without a fence', async () => {
    const fenced = await run(machine, { ...INPUT, fenced: ['uuid-a'] }, stubs());
    expect(fenced.end).toBe('Succeed');
    const gates = fenced.calls.filter((c) => c.state === 'Gate');
    expect(gates.length).toBeGreaterThan(1);
    for (const gate of gates) expect(gate.params.fenced).toEqual(['uuid-a']);
    const plain = await run(machine, INPUT, stubs());
    expect(plain.calls.filter((c) => c.state === 'Gate').map((c) => c.params.fenced)).toEqual(plain.calls.filter((c) => c.state === 'Gate').map(() => []));
  });

  test('a deployment group with no configuration in the definition resets the routing and reports Failed', async () => {
    const result = await run(machine, { ...INPUT, configKey: aliasConfigKey('App', 'Elsewhere') }, stubs());
    expect(result).toMatchObject({ end: 'Fail', endState: 'Errored' });
    expect(result.visited).toEqual(['Init', 'Configured', 'ResetRoutingOnError', 'ClearCohortOnError?', 'ReportFailedOnError', 'Errored']);
    expect(reports(result)).toEqual([{ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1', Status: 'Failed' }]);
  });
});

describe('stage 0: a release that must have passed shadow (requireShadow)', () => {
  const SHADOWED: StagedStartInput = { ...INPUT, configKey: aliasConfigKey('App', 'Shadowed') };
  const bins = Array.from({ length: 100 }, (_, i) => (i === 12 ? 400 : 0));
  const passed: ShadowReleaseSummary = {
    releaseId: 'rel-candidate', firstSeen: 0, lastSeen: 25 * 3600_000, replays: 400, scored: 400, shadowErrors: 0, shadowTimeouts: 0, liveErrors: 0, schemaViolations: 0, bins, expiresAt: 0,
  };

  test('the definition carries the requirement, with the seeds\' defaults, in the alias\'s configuration', () => {
    const init = machine.states[machine.startAt];
    const text = JSON.stringify(init.Output).replace(/\\/g, '');
    expect(text).toContain('rel-candidate');
    expect(text).toContain(`"windowSeconds":${DEFAULT_SHADOW_PROMOTION.windowSeconds}`);
  });

  test('a release never shadowed is refused before the warm-up, the probe and any shift: routing reset, Failed reported', async () => {
    const aws = world();
    const result = await run(machine, SHADOWED, stubs({ aws }));
    expect(result).toMatchObject({ end: 'Fail', endState: 'RolledBack' });
    expect(result.visited.slice(0, 6)).toEqual(['Init', 'Configured', 'OpenCohort?', 'HasShadowGate', 'ShadowGate', 'Notify?']);
    expect(result.calls.map((c) => c.state)).toEqual(['ShadowGate', 'ResetRouting', 'PublishRollback', 'ReportFailed']);
    expect(weightsSet(result)).toEqual([['ResetRouting', {}]]);
    expect(reports(result)).toEqual([{ DeploymentId: 'd-ABC123', LifecycleEventHookExecutionId: 'hook-1', Status: 'Failed' }]);
    const published = result.calls.find((c) => c.state === 'PublishRollback')!.params.MetricData;
    expect(published).toContainEqual(expect.objectContaining({ MetricName: 'ShadowPromotion', Value: 0 }));
  });

  test('a release shadowed for a day goes on to the schedule with the first gate\'s progress untouched', async () => {
    const result = await run(machine, SHADOWED, stubs({ shadow: passed }));
    expect(result).toMatchObject({ end: 'Succeed', endState: 'Succeeded' });
    expect(result.calls.map((c) => c.state).slice(0, 3)).toEqual(['ShadowGate', 'PublishShadowPassed', 'Gate']);
    expect(weightsSet(result)).toEqual([['SetWeight', { 8: 0.1 }], ['HandBack', {}]]);
    expect(result.calls.find((c) => c.state === 'Gate')!.params.progress).toEqual({ phase: 'check', stepIndex: 0, failures: 0, noDataWaitedSeconds: 0, bakeLeftSeconds: 0 });
  });

  test('an alias without the requirement never runs the shadow gate', async () => {
    const result = await run(machine, INPUT, stubs());
    expect(result.visited).not.toContain('ShadowGate');
    expect(result.visited).toContain('HasShadowGate');
  });
});
