// The ΔS probe as the warm gate's host: the real hook handler (lambdas/probe/hook.ts) with Lambda, CodeDeploy
// and CloudWatch mocked at the SDK layer, the real demo handler answering, a fake clock for the gate's waits;
// and DeltaSProbe._bind's environment, grants and timeout with a ProvisionedWarmup.
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import {
  DeleteProvisionedConcurrencyConfigCommand, GetAliasCommand, GetProvisionedConcurrencyConfigCommand, InvokeCommand, InvokeCommandInput,
  LambdaClient, PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import { createDemoHandler } from '../lambdas/demo-answer';
import { createHookHandler, HookResult, spreadQuestions } from '../lambdas/probe/hook';
import { parseGoldSet } from '../packages/runtime/src/probe';
import { DeltaSProbe, GoldSet, GuardrailsValidationError, ProvisionedWarmup } from '../lib';
import { PROBE_WARMUP_ENV, warmupForAlias } from '../packages/runtime/src/contract/probe';
import { testFunction, testStack } from './util';

const GOLD_FILE = path.join(__dirname, '..', 'bin', 'gold-set.jsonl');
const GOLD = parseGoldSet(fs.readFileSync(GOLD_FILE, 'utf8'));
const probeConstruct = new DeltaSProbe(testStack(), 'Probe', { goldSet: GoldSet.fromFile(GOLD_FILE) });

const lambdaMock = mockClient(LambdaClient);
const codedeployMock = mockClient(CodeDeployClient);
const cloudwatchMock = mockClient(CloudWatchClient);
const builds: Record<string, ReturnType<typeof createDemoHandler>> = {
  '7': createDemoHandler({ release: 'v7' }),
  '8': createDemoHandler({ release: 'v8' }),
};

let clock: number;
let logLines: string[];
/** Every Lambda call in order: the command's name, `Invoke:warm` for a warm ping, `Invoke:probe` for a probe call. */
let sequence: string[];

function appSpec(current: string, target: string): string {
  return JSON.stringify({ version: 0.0, Resources: [{ Answer: { Type: 'AWS::Lambda::Function', Properties: { Name: 'demo-answer', Alias: 'live', CurrentVersion: current, TargetVersion: target } } }] });
}

function hook(gold = GOLD.slice(0, 6)) {
  return createHookHandler({
    load: () => ({ config: probeConstruct._runtimeConfig, gold }),
    lambda: new LambdaClient({}),
    codedeploy: new CodeDeployClient({}),
    cloudwatch: new CloudWatchClient({}),
    log: (line) => { logLines.push(line); },
    now: () => clock,
    sleep: async (ms) => { clock += ms; },
  });
}

const event = { DeploymentId: 'd-1', LifecycleEventHookExecutionId: 'e-1' };
const context = (ms = 900_000) => ({ getRemainingTimeInMillis: () => ms });
const WARMUP = { 'demo-answer:live': { concurrency: 4, pings: 3, readyTimeoutSeconds: 60 } };
const reported = () => codedeployMock.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status);
const logged = (kind: string) => logLines.map((l) => JSON.parse(l)).filter((l) => l.report === kind);

beforeEach(() => {
  lambdaMock.reset();
  codedeployMock.reset();
  cloudwatchMock.reset();
  clock = 1_700_000_000_000;
  logLines = [];
  sequence = [];
  process.env[PROBE_WARMUP_ENV] = JSON.stringify(WARMUP);
  codedeployMock.on(GetDeploymentCommand).resolves({ deploymentInfo: { applicationName: 'App', revision: { revisionType: 'String', string: { content: appSpec('7', '8') } } } });
  codedeployMock.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  cloudwatchMock.on(PutMetricDataCommand).resolves({});
  const record = (name: string, answer: (input: any) => unknown) => lambdaMock.on(name === 'GetAlias' ? GetAliasCommand
    : name === 'GetProvisionedConcurrencyConfig' ? GetProvisionedConcurrencyConfigCommand
      : name === 'PutProvisionedConcurrencyConfig' ? PutProvisionedConcurrencyConfigCommand
        : DeleteProvisionedConcurrencyConfigCommand as any).callsFake(async (input: any) => { sequence.push(name); return answer(input); });
  record('GetAlias', () => ({ Name: 'live', FunctionVersion: '7' }));
  // The new version's own configuration (ProvisionedWarmup publishes it with the version): still allocating, then READY.
  let gets = 0;
  record('GetProvisionedConcurrencyConfig', () => {
    gets++;
    return gets <= 2 ? { Status: 'IN_PROGRESS', RequestedProvisionedConcurrentExecutions: 4 } : { Status: 'READY', RequestedProvisionedConcurrentExecutions: 4 };
  });
  // The gate never writes a configuration (PC-1, PC-2): a call to either is recorded, and the tests say none came.
  record('PutProvisionedConcurrencyConfig', () => ({ Status: 'IN_PROGRESS', RequestedProvisionedConcurrentExecutions: 4 }));
  record('DeleteProvisionedConcurrencyConfig', () => ({}));
  lambdaMock.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
    const request = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
    sequence.push(request['x-warm'] === true ? `Invoke:warm:${input.Qualifier}` : `Invoke:probe:${input.Qualifier}`);
    const payload = await builds[input.Qualifier!](request);
    return { StatusCode: 200, Payload: Buffer.from(JSON.stringify(payload)) as never, LogResult: Buffer.from('REPORT RequestId: r\tDuration: 20.00 ms').toString('base64') };
  });
});
afterEach(() => { delete process.env[PROBE_WARMUP_ENV]; });

describe('the probe hook with a warm gate', () => {
  test('BeforeAllowTraffic: warms the new version (wait for its own configuration to be READY, pings), then probes as usual; the report carries the gate\'s figures', async () => {
    const result: HookResult = await hook()(event, context());
    expect(result.status).toBe('Succeeded');
    expect(reported()).toEqual(['Succeeded']);
    // The phase from the alias, the gate on version 8, then the probe: no probe call before the pings.
    const firstProbe = sequence.findIndex((s) => s.startsWith('Invoke:probe'));
    expect(sequence.slice(0, firstProbe)).toEqual([
      'GetAlias', 'GetProvisionedConcurrencyConfig', 'GetProvisionedConcurrencyConfig', 'GetProvisionedConcurrencyConfig',
      'Invoke:warm:8', 'Invoke:warm:8', 'Invoke:warm:8',
    ]);
    expect(lambdaMock.commandCalls(GetProvisionedConcurrencyConfigCommand)[0].args[0].input).toEqual({ FunctionName: 'demo-answer', Qualifier: '8' });
    expect(lambdaMock.commandCalls(GetAliasCommand)[0].args[0].input).toEqual({ FunctionName: 'demo-answer', Name: 'live' });
    expect(sequence).not.toContain('PutProvisionedConcurrencyConfig');
    expect(sequence).not.toContain('DeleteProvisionedConcurrencyConfig');
    expect(result.warmGate).toEqual({
      phase: 'before', concurrency: 4, pings: 3, readyTimeoutSeconds: 60,
      ok: true, reasons: [], waitedMs: 10_000, status: 'READY', pingsSent: 3, pingsFailed: 0,
    });
    const gateLine = logged('cdk-rollout-guardrails/warm-gate');
    expect(gateLine).toEqual([{ report: 'cdk-rollout-guardrails/warm-gate', functionName: 'demo-answer', alias: 'live', version: '8', ...result.warmGate }]);
    const report = logged('cdk-rollout-guardrails/delta-s-probe');
    expect(report).toHaveLength(1);
    expect(report[0].warmGate).toEqual(result.warmGate);
    expect(report[0].verdict).toBe('pass');
    expect(report[0].plan.completed).toBe(report[0].plan.invocations);
  });

  test('a failed warm-up reports Failed with the gate\'s reasons and does not probe', async () => {
    lambdaMock.on(GetProvisionedConcurrencyConfigCommand).callsFake(async () => {
      sequence.push('GetProvisionedConcurrencyConfig');
      if (sequence.filter((x) => x === 'GetProvisionedConcurrencyConfig').length === 1) return { Status: 'IN_PROGRESS', RequestedProvisionedConcurrentExecutions: 4 };
      return { Status: 'FAILED', StatusReason: 'FUNCTION_ERROR_INIT_FAILURE', RequestedProvisionedConcurrentExecutions: 4 };
    });
    const result = await hook()(event, context());
    expect(result.status).toBe('Failed');
    expect(result.reasons).toEqual(['warm gate: provisioned concurrency on demo-answer:8 FAILED after 5 s: FUNCTION_ERROR_INIT_FAILURE']);
    expect(reported()).toEqual(['Failed']);
    expect(sequence.filter((s) => s.startsWith('Invoke'))).toEqual([]);
    expect(sequence).not.toContain('DeleteProvisionedConcurrencyConfig');
    expect(cloudwatchMock.commandCalls(PutMetricDataCommand)).toHaveLength(0);
    expect(logged('cdk-rollout-guardrails/delta-s-probe')).toHaveLength(0);
    expect(result.warmGate).toMatchObject({ phase: 'before', ok: false, status: 'FAILED' });
    // The hook's own line names the reasons CodeDeploy was given.
    expect(logLines.map((l) => JSON.parse(l)).find((l) => l.message === 'cdk-rollout-guardrails probe hook')).toMatchObject({ status: 'Failed', reasons: result.reasons });
  });

  test('a warm ping that errors fails the gate before any probe call', async () => {
    lambdaMock.on(InvokeCommand).callsFake(async () => {
      sequence.push('Invoke');
      return { StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('{"errorMessage":"Cannot find module"}') as never };
    });
    const result = await hook()(event, context());
    expect(result.status).toBe('Failed');
    expect(result.reasons).toEqual(['warm gate: warm pings: 3 of 3 to demo-answer:8 failed; the first: FunctionError Unhandled: {"errorMessage":"Cannot find module"}']);
    expect(sequence.filter((s) => s === 'Invoke')).toHaveLength(3);
  });

  test('AfterAllowTraffic (the alias points at the new version): nothing to warm or release, then probes', async () => {
    lambdaMock.on(GetAliasCommand).callsFake(async () => { sequence.push('GetAlias'); return { Name: 'live', FunctionVersion: '8' }; });
    const result = await hook()(event, context());
    expect(result.status).toBe('Succeeded');
    expect(result.warmGate).toEqual({ phase: 'after' });
    expect(sequence.filter((s) => !s.startsWith('Invoke:probe'))).toEqual(['GetAlias']);
    expect(sequence.filter((s) => s.startsWith('Invoke:probe')).length).toBeGreaterThan(0);
    expect(logged('cdk-rollout-guardrails/warm-gate')[0]).toMatchObject({ phase: 'after' });
    expect(reported()).toEqual(['Succeeded']);
  });

  test('an alias without a warm-up entry changes nothing: no GetAlias, no provisioned-concurrency call', async () => {
    process.env[PROBE_WARMUP_ENV] = JSON.stringify({ 'demo-answer:other': WARMUP['demo-answer:live'] });
    const result = await hook()(event, context());
    expect(result.status).toBe('Succeeded');
    expect(result.warmGate).toBeUndefined();
    expect(sequence.filter((s) => !s.startsWith('Invoke:probe'))).toEqual([]);
    delete process.env[PROBE_WARMUP_ENV];
    expect((await hook()(event, context())).warmGate).toBeUndefined();
    expect(sequence.filter((s) => !s.startsWith('Invoke:probe'))).toEqual([]);
    expect(logged('cdk-rollout-guardrails/delta-s-probe')[0]).not.toHaveProperty('warmGate');
  });

  test('a direct run never runs the warm gate', async () => {
    const result = await hook()({ functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' }, context());
    expect(result.status).toBe('Succeeded');
    expect(sequence.filter((s) => !s.startsWith('Invoke:probe'))).toEqual([]);
  });

  test('the probe\'s time counts from the end of the warm gate: a gate that used the hook\'s time leaves the probe none, and it fails as incomplete rather than outlive its function', async () => {
    let gets = 0;
    lambdaMock.on(GetProvisionedConcurrencyConfigCommand).callsFake(async () => {
      gets++;
      // READY only after 60 s of the hook's 90 s: with 20 s kept to report and 10 s for a last call, none is left.
      return clock - 1_700_000_000_000 >= 60_000 ? { Status: 'READY', RequestedProvisionedConcurrentExecutions: 4 } : { Status: 'IN_PROGRESS' };
    });
    const result = await hook()(event, context(90_000));
    expect(result.warmGate).toMatchObject({ ok: true, waitedMs: 60_000 });
    expect(result.status).toBe('Failed');
    expect(result.reasons[0]).toMatch(/^complete: only 0 of \d+ invocations ran before the time budget ran out$/);
    expect(sequence.filter((s) => s.startsWith('Invoke:probe'))).toEqual([]);
  });

  test('a broken warm-up entry fails the hook rather than let the version take traffic cold', async () => {
    process.env[PROBE_WARMUP_ENV] = JSON.stringify({ 'demo-answer:live': { concurrency: 0, pings: 1, readyTimeoutSeconds: 60 } });
    const result = await hook()(event, context());
    expect(result).toEqual({
      status: 'Failed',
      reasons: ['the probe could not run: the warm gate of demo-answer:live in GUARDRAILS_PROBE_WARMUP is not valid (concurrency ≥ 1, pings 0 to 100, readyTimeoutSeconds 1 to 900), got: {"concurrency":0,"pings":1,"readyTimeoutSeconds":60}'],
    });
  });
});

describe('warmupForAlias', () => {
  test('reads the alias\'s entry, or nothing', () => {
    expect(warmupForAlias('fn', 'live', JSON.stringify({ 'fn:live': { concurrency: 2, pings: 0, readyTimeoutSeconds: 30 } }))).toEqual({ concurrency: 2, pings: 0, readyTimeoutSeconds: 30 });
    expect(warmupForAlias('fn', 'live', JSON.stringify({ 'fn:other': { concurrency: 2, pings: 0, readyTimeoutSeconds: 30 } }))).toBeUndefined();
    expect(warmupForAlias('fn', 'live', undefined)).toBeUndefined();
  });
});

describe('a direct run with questionLimit', () => {
  test('asks only that many questions, spread across the sections, the same ones every time', async () => {
    const run = { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8', questionLimit: 20 };
    const result = await hook(GOLD)(run, context());
    expect(result.status).toBe('Succeeded');
    // 20 questions × 4 texts × 2 seeds × 2 versions
    expect(result.report?.plan).toMatchObject({ questions: 20, texts: 80, invocations: 320, completed: 320 });
    const asked = new Set(lambdaMock.commandCalls(InvokeCommand).map((c) => JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString('utf8')).question));
    const chosen = spreadQuestions(GOLD, 20);
    expect(asked).toEqual(new Set(chosen.flatMap((q) => [q.question, ...q.paraphrases])));
  });

  test('a questionLimit of null (the staged machine\'s first probe) asks every question', async () => {
    const result = await hook(GOLD)({ functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8', questionLimit: null }, context());
    expect(result.report?.plan).toMatchObject({ questions: GOLD.length, invocations: GOLD.reduce((n, q) => n + (1 + q.paraphrases.length) * 2 * 2, 0) });
  });

  test('refuses a questionLimit that is not a positive integer', async () => {
    for (const questionLimit of [0, 2.5, '20']) {
      await expect(hook()({ functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8', questionLimit } as never, context()))
        .rejects.toThrow(`questionLimit must be a positive integer, got: ${JSON.stringify(questionLimit)}`);
    }
  });
});

describe('spreadQuestions', () => {
  const sections = (items: readonly { target: string }[]) => new Set(items.map((q) => q.target));
  const allSections = [...sections(GOLD)];

  test('takes one question of every section before a second of any (18 sections in the demo gold set)', () => {
    expect(allSections).toHaveLength(18);
    const twenty = spreadQuestions(GOLD, 20);
    expect(twenty).toHaveLength(20);
    expect(sections(twenty).size).toBe(18);
    const perSection = allSections.map((t) => twenty.filter((q) => q.target === t).length);
    expect(Math.max(...perSection) - Math.min(...perSection)).toBe(1);
    const forty = spreadQuestions(GOLD, 40);
    const counts = allSections.map((t) => forty.filter((q) => q.target === t).length);
    // Two full rounds (36), then 4 of 18 sections evenly spaced: 0, 4, 9, 13.
    expect(counts.map((n, i) => (n === 3 ? i : -1)).filter((i) => i >= 0)).toEqual([0, 4, 9, 13]);
    expect(counts.filter((n) => n === 2)).toHaveLength(14);
  });

  test('a partial round takes evenly spaced sections, and the chosen keep the gold set\'s order', () => {
    const nine = spreadQuestions(GOLD, 9);
    expect(nine.map((q) => allSections.indexOf(q.target))).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    const indices = spreadQuestions(GOLD, 30).map((q) => GOLD.indexOf(q));
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
  });

  test('is deterministic, and a limit of the whole set or more takes every question', () => {
    expect(spreadQuestions(GOLD, 25)).toEqual(spreadQuestions(GOLD, 25));
    expect(spreadQuestions(GOLD, 54)).toEqual(GOLD);
    expect(spreadQuestions(GOLD, 500)).toEqual(GOLD);
    expect(spreadQuestions(GOLD, 1)).toEqual([GOLD[0]]);
  });
});

describe('DeltaSProbe._bind with a ProvisionedWarmup', () => {
  function bind(stack: Stack, readyTimeout?: Duration, probeProps: { budget?: Duration } = {}) {
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromFile(GOLD_FILE), ...probeProps });
    const fn = testFunction(stack);
    const version = fn.currentVersion;
    const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version });
    const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', { alias });
    const warmup = new ProvisionedWarmup(stack, 'Warmup', { alias, version, provisionedConcurrency: 4, readyTimeout });
    probe._bind({ scope: stack, function: fn, aliasName: 'live', version, controlVersion: '1', deploymentGroup, warmup });
    return { probe, fn, version, warmup };
  }
  const logicalId = (stack: Stack, c: { node: { defaultChild?: unknown } }) => stack.resolve((c.node.defaultChild as any).logicalId) as string;

  test('writes the alias\'s warm gate into the probe\'s environment, keyed <function name>:<alias>, and grants it', () => {
    const stack = testStack();
    const { probe, fn, version } = bind(stack, Duration.minutes(5));
    const t = Template.fromStack(stack).toJSON();
    const probeFn = t.Resources[logicalId(stack, probe.function)].Properties;
    expect(stack.resolve(probeFn.Environment.Variables.GUARDRAILS_PROBE_WARMUP)).toEqual({
      'Fn::Join': ['', ['{"', { Ref: logicalId(stack, fn) }, ':live":{"concurrency":4,"pings":4,"readyTimeoutSeconds":300}}']],
    });
    const policy = Object.values(t.Resources).find((r: any) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(logicalId(stack, probe.function.role as any))) as any;
    const statements = policy.Properties.PolicyDocument.Statement;
    const fnArn = { 'Fn::GetAtt': [logicalId(stack, fn), 'Arn'] };
    expect(statements).toContainEqual({
      Action: ['lambda:GetProvisionedConcurrencyConfig', 'lambda:InvokeFunction'],
      Effect: 'Allow',
      Resource: { Ref: logicalId(stack, version) },
    });
    expect(statements).toContainEqual({ Action: 'lambda:GetAlias', Effect: 'Allow', Resource: [fnArn, { 'Fn::Join': ['', [fnArn, ':live']] }] });
    expect(JSON.stringify(statements)).not.toContain(':*');
    // The timeout makes room for the gate before the probe: 300 s ready + 10 s calls + 10 s pings + 300 s budget + 10 s + 20 s.
    expect(probeFn.Timeout).toBe(650);
  });

  test('leaves the environment and the timeout alone without a warm-up', () => {
    const stack = testStack();
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromFile(GOLD_FILE) });
    const fnProps = Template.fromStack(stack).toJSON().Resources[logicalId(stack, probe.function)].Properties;
    expect(fnProps.Environment).toBeUndefined();
    expect(fnProps.Timeout).toBe(330);
  });

  test('refuses at synth a readyTimeout that, with the probe\'s own time, would not fit Lambda\'s 15 minutes, naming both', () => {
    let caught: unknown;
    try {
      bind(testStack(), Duration.minutes(10));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(GuardrailsValidationError);
    expect((caught as Error).message).toBe("DeltaSProbe 'TestStack/Probe' bound to 'TestStack' has 1 invalid prop:\n"
      + "  - warmup.readyTimeout must be at most 9 minutes 10 seconds with the probe 'TestStack/Probe': the hook runs the warm gate (readyTimeout, 10 seconds for its calls "
      + "and the probe's invokeTimeout 10 seconds for the warm pings), then the probe (budget 5 minutes, invokeTimeout 10 seconds for the last call, 20 seconds to report), "
      + "15 minutes 50 seconds in all, and Lambda stops a function after 15 minutes; lower readyTimeout or the probe's budget, got: 10 minutes");
    // With a shorter budget the same readyTimeout fits: 600 + 10 + 10 + 240 + 10 + 20 = 890 s.
    const stack = testStack();
    const { probe } = bind(stack, Duration.minutes(10), { budget: Duration.minutes(4) });
    expect(Template.fromStack(stack).toJSON().Resources[logicalId(stack, probe.function)].Properties.Timeout).toBe(890);
  });

  test('refuses the warm-up of another alias', () => {
    const stack = testStack();
    const probe = new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromFile(GOLD_FILE) });
    const fn = testFunction(stack);
    const other = testFunction(stack, 'Other');
    const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
    const otherAlias = new lambda.Alias(stack, 'OtherLive', { aliasName: 'live', version: other.currentVersion });
    const warmup = new ProvisionedWarmup(stack, 'Warmup', { alias: otherAlias, version: other.currentVersion, provisionedConcurrency: 1, readyTimeout: Duration.minutes(1) });
    const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', { alias });
    expect(() => probe._bind({ scope: stack, function: fn, aliasName: 'live', version: fn.currentVersion, controlVersion: '1', deploymentGroup, warmup })).toThrow(
      "warmup must be the ProvisionedWarmup of the alias 'live' and version 'TestStack/Fn/CurrentVersion' the probe is bound to, got: the ProvisionedWarmup at 'TestStack/Warmup' (alias 'live', version 'TestStack/Other/CurrentVersion')");
  });
});
