// The shared hook kit (lambdas/shared/hook-clients.ts, hook-kit.ts): which deployments are gated, the
// bounds and what they promise, the bounded clients, and the retried status report.
import {
  CodeDeployClient, DeploymentInfo, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { mockClient } from './helpers/sdk-mock';
import {
  DEFAULT_HOOK_BOUNDS, HOOK_BOUNDS_ENV, hookBounds, hookClient, HookCallTimeoutError, hookTimeline, withDeadline,
} from '../lambdas/shared/hook-clients';
import { readDeployment, ReportError, reportStatus, screenDeployment } from '../lambdas/shared/hook-kit';

const TARGET = { functionName: 'answer-fn', alias: 'live', currentVersion: '7', targetVersion: '8' };
const EVENT = { DeploymentId: 'd-KIT', LifecycleEventHookExecutionId: 'hook-1' };
const named = (name: string) => Object.assign(new Error(name), { name });
const hang = () => new Promise<never>(() => undefined);

describe('screenDeployment', () => {
  test.each([['codeDeployRollback'], ['CloudFormationRollback']])('does not gate a rollback created by %s, and says so', (creator) => {
    expect(screenDeployment({ creator: creator as DeploymentInfo['creator'], status: 'InProgress' }, TARGET))
      .toEqual({ gate: false, kind: 'rollback', reason: `a rollback deployment (created by ${creator})`, report: true });
  });

  test('does not gate a deployment that names the deployment it rolls back, whoever created it', () => {
    expect(screenDeployment({ creator: 'user', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-ORIGINAL' } }))
      .toMatchObject({ gate: false, kind: 'rollback', reason: 'a rollback deployment (of d-ORIGINAL)', report: true });
  });

  test('gates the deployment that was rolled back (its rollbackInfo names the rollback, not a trigger)', () => {
    expect(screenDeployment({ creator: 'CloudFormation', status: 'InProgress', rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK' } }, TARGET)).toEqual({ gate: true });
  });

  test('does not gate an AppSpec whose current version is its target version', () => {
    expect(screenDeployment({ creator: 'CloudFormation' }, { ...TARGET, currentVersion: '8' }))
      .toEqual({ gate: false, kind: 'unchanged', reason: 'the AppSpec moves answer-fn:live to the version it is on (8)', report: true });
  });

  test.each([['Succeeded'], ['Failed'], ['Stopped']])('neither gates nor reports to a deployment that is over (%s)', (status) => {
    expect(screenDeployment({ creator: 'CloudFormation', status: status as DeploymentInfo['status'] }, TARGET)).toMatchObject({ gate: false, kind: 'ended', report: false });
  });

  test('gates a deployment of CloudFormation, a user or CodeDeploy that moves to a new version', () => {
    for (const creator of ['CloudFormation', 'user', 'CodeDeploy', undefined] as const) {
      expect(screenDeployment({ creator, status: 'InProgress' }, TARGET)).toEqual({ gate: true });
    }
    expect(screenDeployment({ creator: 'CloudFormation' })).toEqual({ gate: true });
  });
});

describe('readDeployment', () => {
  const codedeploy = mockClient(CodeDeployClient);
  beforeEach(() => codedeploy.reset());

  test('screens a rollback on GetDeployment alone, without reading its AppSpec', async () => {
    codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { creator: 'codeDeployRollback', applicationName: 'App', revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'f00d' } } } });
    const read = await readDeployment(new CodeDeployClient({}), 'd-KIT');
    expect(read.screen).toMatchObject({ gate: false, kind: 'rollback' });
    expect(read.target).toBeUndefined();
    expect(codedeploy.calls()).toHaveLength(1);
  });
});

describe('the bounds', () => {
  test('by default: 3 s to connect, 10 s for an answer, 2 attempts, 25 s per call, 60 s to read the deployment, 25 s to report', () => {
    expect(hookBounds({}, {})).toEqual(DEFAULT_HOOK_BOUNDS);
    expect(DEFAULT_HOOK_BOUNDS).toMatchObject({
      connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000, maxAttempts: 2, callTimeoutMs: 25_000, readBudgetMs: 60_000, reportBudgetMs: 25_000, reportAttempts: 3,
    });
  });

  test('a hung call is noticed within 30 s and a hook whose reads hang has reported within 90 s, before its timeout', () => {
    // The hooks' configured timeouts: the staged starter and the blue-green hook (30 s, lib/), the default
    // DeltaSProbe (330 s, 20 s kept to report), Lambda's longest (900 s).
    for (const [timeoutMs, reserveMs] of [[30_000, DEFAULT_HOOK_BOUNDS.reserveMs], [330_000, 20_000], [900_000, 20_000]]) {
      const line = hookTimeline({ ...DEFAULT_HOOK_BOUNDS, reserveMs }, timeoutMs);
      expect(line.callNoticedMs).toBeLessThanOrEqual(30_000);
      expect(line.readsGivenUpMs).toBeLessThanOrEqual(60_000);
      expect(line.reportedByMs).toBeLessThanOrEqual(90_000);
      expect(line.reportedBeforeTimeoutMs).toBeLessThan(timeoutMs);
      expect(line.reportedByMs).toBeLessThanOrEqual(line.reportedBeforeTimeoutMs);
    }
    expect(hookTimeline(DEFAULT_HOOK_BOUNDS, 330_000)).toEqual({ callNoticedMs: 25_000, readsGivenUpMs: 60_000, reportedByMs: 85_000, reportedBeforeTimeoutMs: 329_000 });
    // The starter's 30 s: the watchdog gives up after 20 s and the report is over by 29 s.
    expect(hookTimeline(DEFAULT_HOOK_BOUNDS, 30_000)).toEqual({ callNoticedMs: 25_000, readsGivenUpMs: 20_000, reportedByMs: 29_000, reportedBeforeTimeoutMs: 29_000 });
    // Even without the call deadline, the client's own settings give up within 30 s: 2 attempts × 10 s + one back-off.
    expect(hookTimeline({ ...DEFAULT_HOOK_BOUNDS, callTimeoutMs: Number.POSITIVE_INFINITY }, 330_000).callNoticedMs).toBeLessThanOrEqual(30_000);
  });

  test('the environment can lower a bound, never raise it, and a value that is not a number is ignored', () => {
    const env = { [HOOK_BOUNDS_ENV.readBudgetMs!]: '250', [HOOK_BOUNDS_ENV.callTimeoutMs!]: '999999', [HOOK_BOUNDS_ENV.requestTimeoutMs!]: 'soon' };
    expect(hookBounds({}, env)).toEqual({ ...DEFAULT_HOOK_BOUNDS, readBudgetMs: 250 });
    expect(hookBounds({ reportAttempts: 0, maxAttempts: 0 }, {})).toMatchObject({ reportAttempts: 1, maxAttempts: 1 });
  });
});

describe('hookClient', () => {
  test('builds a client with a request handler that throws on its timeouts and a bounded retry count', async () => {
    const client = hookClient(CodeDeployClient, { bounds: DEFAULT_HOOK_BOUNDS });
    expect(await client.config.maxAttempts()).toBe(2);
    const handler = client.config.requestHandler;
    expect(handler).toBeInstanceOf(NodeHttpHandler);
    expect(await (handler as unknown as { configProvider: Promise<Record<string, unknown>> }).configProvider).toMatchObject({ connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true });
  });

  test('cuts off a call that does not answer at the call deadline, whatever the SDK does', async () => {
    const lambda = mockClient(LambdaClient);
    try {
      lambda.on(GetAliasCommand).callsFake(hang);
      const client = hookClient(LambdaClient, { bounds: hookBounds({ callTimeoutMs: 50 }, {}) });
      const started = Date.now();
      await expect(client.send(new GetAliasCommand({ FunctionName: 'f', Name: 'live' }))).rejects.toThrow(new HookCallTimeoutError('GetAliasCommand', 50));
      expect(Date.now() - started).toBeLessThan(1_000);
      // The call's signal, aborted at the deadline, reached the SDK.
      const options = (lambda.send.getCall(0).args as unknown[])[1] as { abortSignal: AbortSignal };
      expect(options.abortSignal.aborted).toBe(true);
    } finally {
      lambda.restore();
    }
  });

  test('leaves a caller-bounded Invoke with its own signal to that signal, without a request timeout', async () => {
    const lambda = mockClient(LambdaClient);
    try {
      lambda.on(InvokeCommand).callsFake(() => new Promise((resolve) => setTimeout(() => resolve({ StatusCode: 200 }), 120)));
      const client = hookClient(LambdaClient, { bounds: hookBounds({ callTimeoutMs: 50 }, {}), callerBounded: ['InvokeCommand'] });
      const signal = new AbortController().signal;
      await expect(client.send(new InvokeCommand({ FunctionName: 'f', Qualifier: '8' }), { abortSignal: signal })).resolves.toEqual({ StatusCode: 200 });
      expect((lambda.send.getCall(0).args as unknown[])[1]).toEqual({ requestTimeout: 0, abortSignal: signal });
      // Without a signal of its own, an Invoke is bounded like any call.
      await expect(client.send(new InvokeCommand({ FunctionName: 'f', Qualifier: '8' }))).rejects.toThrow('InvokeCommand did not answer within 50 ms');
    } finally {
      lambda.restore();
    }
  });

  test('withDeadline passes on the parent\'s abort and settles at once', async () => {
    const parent = new AbortController();
    const running = withDeadline(10_000, parent.signal, () => new Error('late'), () => hang());
    parent.abort(named('Watchdog'));
    await expect(running).rejects.toThrow('Watchdog');
  });
});

describe('reportStatus', () => {
  const codedeploy = mockClient(CodeDeployClient);
  let lines: string[];
  beforeEach(() => { codedeploy.reset(); lines = []; });
  const options = (more = {}) => ({ hook: 'kit', log: (l: string) => lines.push(l), bounds: hookBounds({ reportBackoffMs: 1 }, {}), ...more });
  const statuses = () => codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status);

  test('retries a failed report, and reports one status', async () => {
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejectsOnce(named('ThrottlingException')).rejectsOnce(named('InternalFailure')).resolves({});
    await expect(reportStatus(new CodeDeployClient({}), EVENT, 'Failed', options())).resolves.toBe('reported');
    expect(statuses()).toEqual(['Failed', 'Failed', 'Failed']);
    expect(codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0].args[0].input).toEqual({ deploymentId: 'd-KIT', lifecycleEventHookExecutionId: 'hook-1', status: 'Failed' });
  });

  test.each([['LifecycleEventAlreadyCompletedException'], ['DeploymentAlreadyCompletedException']])('counts %s as done, without retrying', async (name) => {
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(named(name));
    await expect(reportStatus(new CodeDeployClient({}), EVENT, 'Succeeded', options())).resolves.toBe('already-reported');
    expect(statuses()).toEqual(['Succeeded']);
    expect(JSON.parse(lines[0]).message).toBe('cdk-rollout-guardrails kit: the status was reported already');
  });

  test('gives up after its attempts with a ReportError naming the last failure', async () => {
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(named('AccessDeniedException'));
    const error = await reportStatus(new CodeDeployClient({}), EVENT, 'Failed', options()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReportError);
    expect(error).toMatchObject({ message: 'could not report Failed for deployment d-KIT: AccessDeniedException', attempts: 3, cause: { name: 'AccessDeniedException' } });
    expect(statuses()).toHaveLength(3);
  });

  test('shares its budget between its attempts, so that a hanging attempt leaves time for the next', async () => {
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).callsFakeOnce(hang).callsFakeOnce(hang).resolves({});
    const started = Date.now();
    await expect(reportStatus(new CodeDeployClient({}), EVENT, 'Succeeded', options({ bounds: hookBounds({ reportBudgetMs: 600, reportBackoffMs: 1 }, {}) }))).resolves.toBe('reported');
    expect(statuses()).toHaveLength(3);
    expect(Date.now() - started).toBeLessThan(600);
  });

  test('is over by its deadline (before the function\'s timeout) even with budget left', async () => {
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).callsFake(hang);
    const started = Date.now();
    await expect(reportStatus(new CodeDeployClient({}), EVENT, 'Failed', options({ deadline: started + 150 }))).rejects.toThrow(ReportError);
    expect(Date.now() - started).toBeLessThan(500);
  });
});
