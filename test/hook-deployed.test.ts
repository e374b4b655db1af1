// The three CodeDeploy hooks as deployed: the bundled assets (assets/<name>/index.js, `npm run bundle`),
// loaded with the environment their constructs set, their real SDK clients pointed with AWS_ENDPOINT_URL
// at a local stand-in for CodeDeploy, Step Functions, Lambda and CloudWatch (test/helpers/aws-standin.ts)
// that hangs, stalls, throttles or fails calls on purpose. The hooks' bounds are lowered through the
// GUARDRAILS_HOOK_* variables (which the constructs never set) so that each scenario takes well under a
// second or two; test/hook-kit.suite.ts checks the default bounds themselves.
import * as fs from 'fs';
import * as path from 'path';
import { DeltaSProbe, GoldSet } from '../lib';
import { probeCode } from '../lib/private/probe-asset';
import { createDemoHandler } from '../lambdas/demo-answer';
import { AwsStandIn } from './helpers/aws-standin';
import { testStack } from './util';

const ROOT = path.join(__dirname, '..');
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Machine';
const EVENT = { DeploymentId: 'd-STANDIN1', LifecycleEventHookExecutionId: 'hook-exec-1' };
/** The bounds every scenario runs with (milliseconds): small, so that a hang ends within a second or so. */
const SMALL_BOUNDS = {
  GUARDRAILS_HOOK_CONNECTION_TIMEOUT_MS: '300',
  GUARDRAILS_HOOK_REQUEST_TIMEOUT_MS: '300',
  GUARDRAILS_HOOK_CALL_TIMEOUT_MS: '1500',
  GUARDRAILS_HOOK_READ_BUDGET_MS: '400',
  GUARDRAILS_HOOK_REPORT_BUDGET_MS: '1500',
  GUARDRAILS_HOOK_REPORT_BACKOFF_MS: '20',
};
/** The functions' configured timeouts (lib/): the starter's and the blue-green hook's, the default probe's. */
const STARTER_TIMEOUT_MS = 30_000;
const BLUE_GREEN_HOOK_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 330_000;

/** A Lambda context whose clock runs from `ms` left, as the function's configured timeout gives it. */
function contextOf(ms: number) {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => end - Date.now() };
}

function appSpec(current: string, target: string, functionName = 'demo-answer'): string {
  return JSON.stringify({
    version: 0.0,
    Resources: [{ Fn: { Type: 'AWS::Lambda::Function', Properties: { Name: functionName, Alias: 'live', CurrentVersion: current, TargetVersion: target } } }],
  });
}

let standIn: AwsStandIn;
const savedEnv = { ...process.env };
const loaded: string[] = [];

/** Serves a deployment of demo-answer:live from `current` to `target`, with more deploymentInfo fields. */
function serveDeployment(more: Record<string, unknown> = {}, current = '7', target = '8') {
  const revision = { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'f00d' } };
  standIn.on('GetDeployment', (input) => ({
    deploymentInfo: { deploymentId: input.deploymentId, applicationName: 'App', deploymentGroupName: 'Group', status: 'InProgress', creator: 'CloudFormation', revision, ...more },
  }));
  standIn.on('GetApplicationRevision', (input) => ({
    applicationName: input.applicationName,
    revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'f00d', content: appSpec(current, target) } },
  }));
}

/** Requires a bundled asset as Lambda would load it: a fresh module registry, with `env` set first. */
function loadBundle<T>(file: string, env: Record<string, string>): T {
  Object.assign(process.env, SMALL_BOUNDS, env);
  let bundle: T | undefined;
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    bundle = require(file) as T;
  });
  loaded.push(file);
  return bundle!;
}

/** The statuses reported, one per PutLifecycleEventHookExecutionStatus request, and how each was answered. */
function reports() {
  return standIn.callsOf('PutLifecycleEventHookExecutionStatus').map((c) => {
    expect(c.input).toMatchObject({ deploymentId: EVENT.DeploymentId, lifecycleEventHookExecutionId: EVENT.LifecycleEventHookExecutionId });
    return `${c.input.status}:${c.answered}`;
  });
}

let logs: string[];
beforeAll(async () => {
  standIn = await AwsStandIn.start();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: standIn.url,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
});
afterAll(async () => {
  await standIn.close();
  for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
  Object.assign(process.env, savedEnv);
});
beforeEach(() => {
  standIn.reset();
  logs = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => { logs.push(String(line)); });
  jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

describe('the staged starter as deployed (assets/staged, index.start)', () => {
  type Start = (event: unknown, context?: unknown) => Promise<any>;
  let start: Start;
  beforeAll(() => {
    // StagedRollout sets STATE_MACHINE_ARN on the starter (lib/staged-rollout.ts).
    start = loadBundle<{ start: Start }>(path.join(ROOT, 'assets', 'staged', 'index.js'), { STATE_MACHINE_ARN: STATE_MACHINE }).start;
  });

  test('reads the deployment through the SDK and starts one execution named after it, reporting nothing itself', async () => {
    serveDeployment();
    const result = await start(EVENT, contextOf(STARTER_TIMEOUT_MS));
    expect(result).toEqual({ started: true, executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Machine:d-STANDIN1' });
    expect(standIn.calls.map((c) => c.operation)).toEqual(['GetDeployment', 'GetApplicationRevision', 'StartExecution']);
    const input = standIn.callsOf('StartExecution')[0].input;
    expect(input).toMatchObject({ stateMachineArn: STATE_MACHINE, name: 'd-STANDIN1' });
    expect(JSON.parse(input.input)).toMatchObject({ configKey: 'App/Group', target: { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' } });
    expect(reports()).toEqual([]);
  });

  test('reports Failed within the read budget when GetDeployment hangs, long before its 30 s timeout', async () => {
    standIn.behave('GetDeployment', 'hang');
    const started = Date.now();
    const result = await start(EVENT, contextOf(STARTER_TIMEOUT_MS));
    const reportedAt = standIn.callsOf('PutLifecycleEventHookExecutionStatus')[0].at - started;
    expect(result).toEqual({ started: false, reason: 'the deployment could not be read within 400 ms' });
    expect(reportedAt).toBeGreaterThanOrEqual(390);
    expect(reportedAt).toBeLessThan(1_500);
    expect(reports()).toEqual(['Failed:ok']);
    expect(standIn.callsOf('StartExecution')).toHaveLength(0);
  });

  test('reports Failed before its own timeout when a call hangs longer than the time it has left', async () => {
    standIn.behave('GetDeployment', 'hang');
    const started = Date.now();
    // 10.2 s left and 10 s kept to report: the watchdog gives up after 200 ms, before the read budget.
    const result = await start(EVENT, contextOf(10_200));
    expect(result.reason).toMatch(/^the hook's own time is nearly out: 0 s spent, 10000 ms kept to report$/);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(reports()).toEqual(['Failed:ok']);
  });

  test.each([['5xx' as const], ['throttle' as const]])('retries a StartExecution answered %s once, then reports Failed', async (behaviour) => {
    serveDeployment();
    standIn.behave('StartExecution', behaviour);
    const result = await start(EVENT, contextOf(STARTER_TIMEOUT_MS));
    expect(result.started).toBe(false);
    expect(standIn.callsOf('StartExecution').map((c) => c.answered)).toEqual([behaviour, behaviour]);
    expect(reports()).toEqual(['Failed:ok']);
  });

  test('cuts off a StartExecution that never answers after its request timeout, retried once, then reports Failed', async () => {
    serveDeployment();
    standIn.behave('StartExecution', 'hang');
    const started = Date.now();
    const result = await start(EVENT, contextOf(STARTER_TIMEOUT_MS));
    expect(result.started).toBe(false);
    expect(standIn.callsOf('StartExecution').map((c) => c.answered)).toEqual(['hang', 'hang']);
    expect(reports()).toEqual(['Failed:ok']);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  test('gives up a call whose answer stalls after its headers at the call deadline, and reports Failed', async () => {
    serveDeployment();
    standIn.behave('StartExecution', 'stall');
    const started = Date.now();
    const result = await start(EVENT, contextOf(STARTER_TIMEOUT_MS));
    expect(result).toEqual({ started: false, reason: 'StartExecutionCommand did not answer within 1500 ms' });
    expect(reports()).toEqual(['Failed:ok']);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  test('reports once when PutLifecycleEventHookExecutionStatus fails twice and then succeeds', async () => {
    serveDeployment({ creator: 'codeDeployRollback' });
    standIn.behave('PutLifecycleEventHookExecutionStatus', '5xx', '5xx', 'ok');
    const result = await start(EVENT, contextOf(STARTER_TIMEOUT_MS));
    expect(result).toMatchObject({ started: false, skipped: 'rollback' });
    // One status, Succeeded, tried three times: the SDK's two attempts, then the hook's second report.
    expect(reports()).toEqual(['Succeeded:5xx', 'Succeeded:5xx', 'Succeeded:ok']);
  });

  test.each([['codeDeployRollback'], ['CloudFormationRollback']])('reports a rollback created by %s Succeeded at once, starting nothing', async (creator) => {
    serveDeployment({ creator });
    const result = await start(EVENT, contextOf(STARTER_TIMEOUT_MS));
    expect(result).toEqual({ started: false, skipped: 'rollback', reason: `a rollback deployment (created by ${creator})` });
    expect(standIn.calls.map((c) => c.operation)).toEqual(['GetDeployment', 'PutLifecycleEventHookExecutionStatus']);
    expect(reports()).toEqual(['Succeeded:ok']);
    const line = logs.map((l) => JSON.parse(l)).find((l) => l.skipped);
    expect(line).toMatchObject({ message: 'cdk-rollout-guardrails staged: not gated, reporting Succeeded', skipped: 'rollback', deploymentId: 'd-STANDIN1' });
  });

  test('counts a status CodeDeploy already has as reported, and a second invocation starts no second execution', async () => {
    serveDeployment();
    standIn.behave('StartExecution', 'ok', { error: 'ExecutionAlreadyExists' });
    expect((await start(EVENT, contextOf(STARTER_TIMEOUT_MS))).started).toBe(true);
    expect(await start(EVENT, contextOf(STARTER_TIMEOUT_MS))).toEqual({ started: true, reason: 'already started' });
    expect(reports()).toEqual([]);
    serveDeployment({ rollbackInfo: { rollbackTriggeringDeploymentId: 'd-ORIGINAL' } });
    standIn.behave('PutLifecycleEventHookExecutionStatus', { error: 'LifecycleEventAlreadyCompletedException' });
    await expect(start(EVENT, contextOf(STARTER_TIMEOUT_MS))).resolves.toMatchObject({ skipped: 'rollback' });
    expect(reports()).toEqual(['Succeeded:LifecycleEventAlreadyCompletedException']);
  });
});

describe('the blue-green hook as deployed (assets/blue-green, index.hook)', () => {
  type Hook = (event: unknown, context?: unknown) => Promise<any>;
  let hook: Hook;
  beforeAll(() => {
    // BlueGreenSwitch sets STATE_MACHINE_ARN on the hook (lib/blue-green.ts).
    hook = loadBundle<{ hook: Hook }>(path.join(ROOT, 'assets', 'blue-green', 'index.js'), { STATE_MACHINE_ARN: STATE_MACHINE }).hook;
  });
  const aliasOn = (version: string) => standIn.on('GetAlias', (input) => ({ AliasArn: `arn:aws:lambda:us-east-1:123456789012:function:${input.FunctionName}:${input.Name}`, Name: input.Name, FunctionVersion: version }));

  test('before the switch: reads the alias and starts the BeforeAllowTraffic execution, reporting nothing itself', async () => {
    serveDeployment();
    aliasOn('7');
    const result = await hook(EVENT, contextOf(BLUE_GREEN_HOOK_TIMEOUT_MS));
    expect(result).toMatchObject({ phase: 'BeforeAllowTraffic', started: true });
    expect(standIn.calls.map((c) => c.operation)).toEqual(['GetDeployment', 'GetApplicationRevision', 'GetAlias', 'StartExecution']);
    expect(standIn.callsOf('GetAlias')[0].input).toEqual({ FunctionName: 'demo-answer', Name: 'live' });
    expect(standIn.callsOf('StartExecution')[0].input.name).toBe('d-STANDIN1-BeforeAllowTraffic');
    expect(reports()).toEqual([]);
  });

  test('reports Failed within the read budget when GetDeployment hangs', async () => {
    standIn.behave('GetDeployment', 'hang');
    const started = Date.now();
    const result = await hook(EVENT, contextOf(BLUE_GREEN_HOOK_TIMEOUT_MS));
    expect(result).toEqual({ started: false, reason: 'the deployment could not be read within 400 ms' });
    expect(standIn.callsOf('PutLifecycleEventHookExecutionStatus')[0].at - started).toBeLessThan(1_500);
    expect(reports()).toEqual(['Failed:ok']);
  });

  test('reports Failed before its own timeout when GetAlias hangs', async () => {
    serveDeployment();
    standIn.behave('GetAlias', 'hang');
    const result = await hook(EVENT, contextOf(10_600));
    expect(result.reason).toMatch(/^the hook's own time is nearly out/);
    expect(reports()).toEqual(['Failed:ok']);
    expect(standIn.callsOf('StartExecution')).toHaveLength(0);
  });

  test.each([['5xx' as const], ['throttle' as const]])('retries a StartExecution answered %s once, then reports Failed', async (behaviour) => {
    serveDeployment();
    aliasOn('7');
    standIn.behave('StartExecution', behaviour);
    const result = await hook(EVENT, contextOf(BLUE_GREEN_HOOK_TIMEOUT_MS));
    expect(result).toMatchObject({ phase: 'BeforeAllowTraffic', started: false });
    expect(standIn.callsOf('StartExecution').map((c) => c.answered)).toEqual([behaviour, behaviour]);
    expect(reports()).toEqual(['Failed:ok']);
  });

  test('reports once when PutLifecycleEventHookExecutionStatus fails twice and then succeeds', async () => {
    serveDeployment({ creator: 'CloudFormationRollback' });
    standIn.behave('PutLifecycleEventHookExecutionStatus', 'throttle', '5xx', 'ok');
    await hook(EVENT, contextOf(BLUE_GREEN_HOOK_TIMEOUT_MS));
    expect(reports()).toEqual(['Succeeded:throttle', 'Succeeded:5xx', 'Succeeded:ok']);
  });

  test.each([['codeDeployRollback'], ['CloudFormationRollback']])('reports a rollback created by %s Succeeded at once: no alias read, no execution', async (creator) => {
    serveDeployment({ creator });
    const result = await hook(EVENT, contextOf(BLUE_GREEN_HOOK_TIMEOUT_MS));
    expect(result).toMatchObject({ started: false, skipped: 'rollback' });
    expect(standIn.calls.map((c) => c.operation)).toEqual(['GetDeployment', 'PutLifecycleEventHookExecutionStatus']);
    expect(reports()).toEqual(['Succeeded:ok']);
  });

  test('reports a deployment whose AppSpec keeps the version Succeeded, without reading the alias', async () => {
    serveDeployment({}, '8', '8');
    const result = await hook(EVENT, contextOf(BLUE_GREEN_HOOK_TIMEOUT_MS));
    expect(result).toMatchObject({ started: false, skipped: 'unchanged' });
    expect(standIn.callsOf('GetAlias')).toHaveLength(0);
    expect(reports()).toEqual(['Succeeded:ok']);
  });
});

describe('the ΔS probe hook as deployed (the DeltaSProbe asset: assets/probe/index.js with its configuration beside it)', () => {
  type Handler = (event: unknown, context?: unknown) => Promise<any>;
  let handler: Handler;
  let assetDir: string;
  const builds: Record<string, ReturnType<typeof createDemoHandler>> = { 7: createDemoHandler({ release: 'v7' }), 8: createDemoHandler({ release: 'v8' }) };
  const invokes = () => standIn.callsOf('Invoke');

  beforeAll(() => {
    // A small probe: three gold questions, one seed. The asset is the one the construct stages (index.js,
    // probe-config.json and gold-set.jsonl side by side, in a temporary folder removed after the tests).
    const jsonl = fs.readFileSync(path.join(ROOT, 'bin', 'gold-set.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).slice(0, 3).join('\n');
    const probe = new DeltaSProbe(testStack(), 'Probe', { goldSet: GoldSet.fromJsonl(jsonl), seeds: 1 });
    assetDir = (probeCode(JSON.stringify(probe.config), probe.goldItems.map((item) => JSON.stringify(item)).join('\n')) as unknown as { path: string }).path;
    // The staged handler is the bundle itself; it is loaded from the package (where `@aws-sdk/*`, which the
    // Lambda runtime provides, resolves) and reads the configuration the construct staged beside it.
    const bundled = path.join(ROOT, 'assets', 'probe', 'index.js');
    expect(fs.readFileSync(path.join(assetDir, 'index.js')).equals(fs.readFileSync(bundled))).toBe(true);
    // The default probe sets no environment variable (gate overrides and warm gates only with aliases that have them).
    handler = loadBundle<{ handler: Handler }>(bundled, { GUARDRAILS_PROBE_DIR: assetDir }).handler;
  });
  afterAll(() => fs.rmSync(assetDir, { recursive: true, force: true }));

  function serveInvokes() {
    standIn.on('Invoke', async (input) => {
      const payload = await builds[input.Qualifier](JSON.parse(input.Payload));
      return { payload, logTail: 'REPORT RequestId: r-1\tDuration: 21.00 ms\tBilled Duration: 22 ms' };
    });
  }

  test('probes both versions through Lambda Invoke and reports Succeeded once', async () => {
    serveDeployment();
    serveInvokes();
    const result = await handler(EVENT, contextOf(PROBE_TIMEOUT_MS));
    expect(result.reasons).toEqual([]);
    expect(result.status).toBe('Succeeded');
    expect(new Set(invokes().map((c) => `${c.input.FunctionName}:${c.input.Qualifier}`))).toEqual(new Set(['demo-answer:7', 'demo-answer:8']));
    expect(standIn.callsOf('PutMetricData')).toHaveLength(1);
    expect(reports()).toEqual(['Succeeded:ok']);
  });

  test('reports Failed within the read budget when GetDeployment hangs, minutes before its 330 s timeout', async () => {
    standIn.behave('GetDeployment', 'hang');
    const started = Date.now();
    const result = await handler(EVENT, contextOf(PROBE_TIMEOUT_MS));
    expect(result).toEqual({ status: 'Failed', reasons: ['the probe could not run: the deployment could not be read within 400 ms'] });
    expect(standIn.callsOf('PutLifecycleEventHookExecutionStatus')[0].at - started).toBeLessThan(1_500);
    expect(reports()).toEqual(['Failed:ok']);
    expect(invokes()).toHaveLength(0);
  });

  test('reports once when PutLifecycleEventHookExecutionStatus fails twice and then succeeds', async () => {
    serveDeployment({ creator: 'codeDeployRollback' });
    standIn.behave('PutLifecycleEventHookExecutionStatus', '5xx', '5xx', 'ok');
    expect((await handler(EVENT, contextOf(PROBE_TIMEOUT_MS))).status).toBe('Succeeded');
    expect(reports()).toEqual(['Succeeded:5xx', 'Succeeded:5xx', 'Succeeded:ok']);
  });

  test.each([['codeDeployRollback'], ['CloudFormationRollback']])('reports a rollback created by %s Succeeded at once: no probe, no warm gate', async (creator) => {
    serveDeployment({ creator });
    serveInvokes();
    const result = await handler(EVENT, contextOf(PROBE_TIMEOUT_MS));
    expect(result).toEqual({ status: 'Succeeded', reasons: [], skipped: 'rollback' });
    expect(standIn.calls.map((c) => c.operation)).toEqual(['GetDeployment', 'PutLifecycleEventHookExecutionStatus']);
    expect(invokes()).toHaveLength(0);
    expect(reports()).toEqual(['Succeeded:ok']);
  });

  test('a direct run still probes and reports to nobody', async () => {
    serveInvokes();
    const result = await handler({ functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' }, contextOf(PROBE_TIMEOUT_MS));
    expect(result.status).toBe('Succeeded');
    expect(standIn.callsOf('GetDeployment')).toHaveLength(0);
    expect(reports()).toEqual([]);
  });
});
