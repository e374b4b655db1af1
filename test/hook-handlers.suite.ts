// The three CodeDeploy hooks (the staged starter, the blue-green hook, the ΔS probe hook) with the SDK mocked
// at the client layer: what they gate, and that each reports in time whatever its calls do.
import {
  CodeDeployClient, DeploymentInfo, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetAliasCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from './helpers/sdk-mock';
import { createHookHandler as createBlueGreenHook } from '../lambdas/blue-green/hook';
import { createHookHandler as createProbeHook } from '../lambdas/probe/hook';
import { DEFAULT_HOOK_BOUNDS, hookBounds } from '../lambdas/shared/hook-clients';
import { createStarterHandler } from '../lambdas/staged/starter';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Machine';
const EVENT = { DeploymentId: 'd-HOOK', LifecycleEventHookExecutionId: 'hook-1' };
const APPSPEC = (current: string, target: string) => JSON.stringify({
  version: 0.0,
  Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'answer-fn', Alias: 'live', CurrentVersion: current, TargetVersion: target } } }],
});
/** Small bounds: the read budget 50 ms, no pause between report attempts worth waiting for. */
const BOUNDS = hookBounds({ readBudgetMs: 50, reportBackoffMs: 1 }, {});
const hang = () => new Promise<never>(() => undefined);
const later = <T>(ms: number, value: T) => () => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));
const named = (name: string) => Object.assign(new Error(name), { name });
/** A context with `ms` left before the function's timeout. */
const contextOf = (ms: number) => {
  const end = Date.now() + ms;
  return { getRemainingTimeInMillis: () => end - Date.now() };
};

const codedeploy = mockClient(CodeDeployClient);
const sfn = mockClient(SFNClient);
const lambda = mockClient(LambdaClient);
const cloudwatch = mockClient(CloudWatchClient);
let lines: string[];

function serve(info: Partial<DeploymentInfo> = {}, current = '7', target = '8') {
  codedeploy.on(GetDeploymentCommand).resolves({
    deploymentInfo: { applicationName: 'App', deploymentGroupName: 'Group', status: 'InProgress', creator: 'CloudFormation', revision: { revisionType: 'AppSpecContent', appSpecContent: { sha256: 'f00d' } }, ...info },
  });
  codedeploy.on(GetApplicationRevisionCommand).resolves({ revision: { appSpecContent: { content: APPSPEC(current, target) } } });
}
const statuses = () => codedeploy.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => {
  expect(c.args[0].input).toMatchObject({ deploymentId: 'd-HOOK', lifecycleEventHookExecutionId: 'hook-1' });
  return c.args[0].input.status;
});
const skipLines = () => lines.map((l) => JSON.parse(l)).filter((l) => l.skipped && l.reason);

beforeEach(() => {
  codedeploy.reset(); sfn.reset(); lambda.reset(); cloudwatch.reset();
  lines = [];
  codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:execution' });
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '7' });
});

/** The three hooks behind one signature: what each returns is checked per hook below. */
const HOOKS = {
  'staged starter': () => createStarterHandler({
    codedeploy: new CodeDeployClient({}), sfn: new SFNClient({}), stateMachineArn: MACHINE, log: (l) => lines.push(l), bounds: BOUNDS,
  }),
  'blue-green hook': () => createBlueGreenHook({
    codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), sfn: new SFNClient({}), stateMachineArn: MACHINE, log: (l) => lines.push(l), bounds: BOUNDS, beforeWaitMs: 0,
  }),
  'probe hook': () => createProbeHook({
    load: () => { throw new Error('the probe must not load its configuration for this deployment'); },
    lambda: new LambdaClient({}), codedeploy: new CodeDeployClient({}), cloudwatch: new CloudWatchClient({}), log: (l) => lines.push(l), bounds: BOUNDS,
  }),
} as Record<string, () => (event: typeof EVENT, context?: { getRemainingTimeInMillis(): number }) => Promise<any>>;
const nothingGated = () => {
  expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(0);
  expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
};

describe.each(Object.keys(HOOKS))('%s: deployments it does not gate', (name) => {
  const hook = HOOKS[name];

  test.each([['codeDeployRollback'], ['CloudFormationRollback']])('reports a rollback created by %s Succeeded at once, reading nothing more', async (creator) => {
    serve({ creator: creator as DeploymentInfo['creator'] });
    const result = await hook()(EVENT, contextOf(30_000));
    expect(result.skipped).toBe('rollback');
    expect(statuses()).toEqual(['Succeeded']);
    expect(codedeploy.commandCalls(GetApplicationRevisionCommand)).toHaveLength(0);
    nothingGated();
    expect(skipLines()).toEqual([expect.objectContaining({ deploymentId: 'd-HOOK', skipped: 'rollback', reason: `a rollback deployment (created by ${creator})` })]);
  });

  test('reports a deployment naming the one it rolls back Succeeded at once', async () => {
    serve({ creator: 'user', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-ORIGINAL' } });
    expect((await hook()(EVENT)).skipped).toBe('rollback');
    expect(statuses()).toEqual(['Succeeded']);
    nothingGated();
  });

  test('reports an AppSpec that keeps the version Succeeded at once', async () => {
    serve({}, '8', '8');
    expect((await hook()(EVENT)).skipped).toBe('unchanged');
    expect(statuses()).toEqual(['Succeeded']);
    nothingGated();
  });

  test('reports nothing to a deployment that is over, and gates nothing', async () => {
    serve({ status: 'Failed' });
    expect((await hook()(EVENT)).skipped).toBe('ended');
    expect(statuses()).toEqual([]);
    nothingGated();
  });

  test('reports Failed when GetDeployment hangs, at the read budget', async () => {
    codedeploy.on(GetDeploymentCommand).callsFake(hang);
    const started = Date.now();
    await hook()(EVENT, contextOf(30_000));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(statuses()).toEqual(['Failed']);
    nothingGated();
  });

  test('reports the status once when the report fails twice, and counts an already completed hook as reported', async () => {
    serve({ creator: 'codeDeployRollback' });
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejectsOnce(named('ThrottlingException')).rejectsOnce(named('InternalFailure')).resolves({});
    await hook()(EVENT);
    expect(statuses()).toEqual(['Succeeded', 'Succeeded', 'Succeeded']);
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(named('LifecycleEventAlreadyCompletedException'));
    await expect(hook()(EVENT)).resolves.toMatchObject({ skipped: 'rollback' });
  });
});

describe('staged starter: bounded', () => {
  const starter = (bounds = BOUNDS) => createStarterHandler({ codedeploy: new CodeDeployClient({}), sfn: new SFNClient({}), stateMachineArn: MACHINE, log: (l) => lines.push(l), bounds });

  test('reports Failed before its own timeout, and starts nothing after it has reported', async () => {
    serve();
    // The AppSpec arrives 150 ms in; the watchdog fires 50 ms in (10 s kept to report).
    codedeploy.on(GetApplicationRevisionCommand).callsFake(later(150, { revision: { appSpecContent: { content: APPSPEC('7', '8') } } }));
    const result = await starter(hookBounds({ reportBackoffMs: 1 }, {}))(EVENT, contextOf(DEFAULT_HOOK_BOUNDS.reserveMs + 50));
    expect(result).toEqual({ started: false, reason: 'the hook\'s own time is nearly out: 0 s spent, 10000 ms kept to report' });
    expect(statuses()).toEqual(['Failed']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  test('throws when no report got through, so that Lambda retries the invocation', async () => {
    sfn.on(StartExecutionCommand).rejects(named('StateMachineDoesNotExist'));
    serve();
    codedeploy.on(PutLifecycleEventHookExecutionStatusCommand).rejects(named('InternalFailure'));
    await expect(starter()(EVENT)).rejects.toThrow('could not report Failed for deployment d-HOOK: InternalFailure');
    expect(statuses()).toEqual(['Failed', 'Failed', 'Failed']);
  });
});

describe('blue-green hook: bounded', () => {
  test('reports Failed before its own timeout while GetAlias is slow, and starts no execution afterwards', async () => {
    serve();
    lambda.on(GetAliasCommand).callsFake(later(150, { FunctionVersion: '7' }));
    const hook = createBlueGreenHook({
      codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), sfn: new SFNClient({}), stateMachineArn: MACHINE, log: (l) => lines.push(l), bounds: hookBounds({ reportBackoffMs: 1 }, {}),
    });
    const result = await hook(EVENT, contextOf(DEFAULT_HOOK_BOUNDS.reserveMs + 50));
    expect(result).toMatchObject({ started: false, reason: expect.stringMatching(/^the hook's own time is nearly out/) });
    expect(statuses()).toEqual(['Failed']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(1);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });
});

describe('probe hook: bounded', () => {
  test('reports Failed when the AppSpec read outlasts the read budget, without loading or probing', async () => {
    serve();
    codedeploy.on(GetApplicationRevisionCommand).callsFake(hang);
    const result = await HOOKS['probe hook']()(EVENT, contextOf(330_000));
    expect(result).toEqual({ status: 'Failed', reasons: ['the probe could not run: the deployment could not be read within 50 ms'] });
    expect(statuses()).toEqual(['Failed']);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(0);
  });
});
