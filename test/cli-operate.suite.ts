// The live commands (status, pause, resume, promote, abort) against SDK mocks, on the user's stack as synthesized
// (test/helpers/cli-assemblies.ts: a staged, a blue-green, a canary and a linear alias): the alias and its resources
// found in the assembly, the calls made and their inputs (the put's condition exactly), each command, giving one twice,
// a wrong deployment, an ended execution, AWS errors (exit 3), bad input (exit 2), --wait, and status as printed.
import { mockClient } from './helpers/sdk-mock';
import { CloudFormationClient, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, GetDeploymentCommand, GetDeploymentGroupCommand, ListDeploymentsCommand, StopDeploymentCommand } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, GetExecutionHistoryCommand } from '@aws-sdk/client-sfn';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { OperatorCommand, operatorCommandOf, operatorItem } from '../packages/runtime/src/contract/operator';
import { main } from '../cli/src/main';
import { runOperate } from '../cli/src/operate';
import { resolveTarget } from '../cli/src/operate/target';
import { allStates, AslState } from '../cli/src/definition';
import { synthUserApp, tempDir, USER_STACK } from './helpers/cli-assemblies';

const temp = tempDir('cli-operate-');
const saved = { ...process.env };
let app: string;
beforeAll(() => {
  Object.assign(process.env, { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' });
  app = synthUserApp(temp.dir);
});
afterAll(() => {
  process.env = saved;
  temp.remove();
});

const cfn = mockClient(CloudFormationClient);
const codedeploy = mockClient(CodeDeployClient);
const sfn = mockClient(SFNClient);
const dynamodb = mockClient(DynamoDBClient);
const cloudwatch = mockClient(CloudWatchClient);
const sts = mockClient(STSClient);

const NOW = Date.parse('2026-11-27T06:00:00Z');
const DEPLOYMENT = 'd-CHECKOUT1';
const MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ShopStaged';
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:ShopStaged:${DEPLOYMENT}`;
const KEY = 'shop-app/checkout-group';
const CALLER = 'arn:aws:sts::123456789012:assumed-role/Operator/alice';
const CHECKOUT = `${USER_STACK}/CheckoutRelease`;

/** The physical name CloudFormation gives each logical ID of the stack. */
function physical(logicalId: string): string {
  if (logicalId.startsWith('RolloutGuardrailsApplication')) return 'shop-app';
  if (logicalId.startsWith('CheckoutReleaseDeploymentGroup')) return 'checkout-group';
  if (logicalId.startsWith('StagedRolloutStateMachine')) return MACHINE_ARN;
  if (logicalId.startsWith('StagedRolloutOperatorTable')) return 'shop-operator';
  return `${logicalId.replace(/[0-9A-F]{8}$/, '')}-physical`;
}

/** A Gate state's exit, its output the machine's state with the gate output at `gate`. */
const gateExit = (at: number, gate: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  id: 9, type: 'TaskStateExited' as const, timestamp: new Date(at), stateExitedEventDetails: { name: 'Gate', output: JSON.stringify({ gate }), ...more },
});
const BAKING = { next: 'bake', decision: 'advance', reasons: ['50 % baking, no gate alarm in ALARM'], weight: 50, progress: { phase: 'bake', stepIndex: 1 }, gates: [
  { name: 'alarm:checkout-gates', measured: 'OK', threshold: 'OK', passed: true, reason: 'ok' },
  { name: 'errorRate', measured: 0.00123456, threshold: 0.05, passed: true, reason: 'ok' },
  { name: 'p95Ratio', measured: null, threshold: 1.2, passed: null, reason: 'too little traffic' },
] };

beforeEach(() => {
  for (const mock of [cfn, codedeploy, sfn, dynamodb, cloudwatch, sts]) mock.reset();
  cfn.on(DescribeStackResourceCommand).callsFake((input) => ({ StackResourceDetail: { PhysicalResourceId: physical(input.LogicalResourceId), ResourceStatus: 'UPDATE_COMPLETE' } }));
  codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [DEPLOYMENT] });
  codedeploy.on(GetDeploymentCommand).resolves({ deploymentInfo: { deploymentId: DEPLOYMENT, applicationName: 'shop-app', deploymentGroupName: 'checkout-group', status: 'InProgress', createTime: new Date(NOW - 600_000), creator: 'user' } });
  sfn.on(DescribeExecutionCommand).resolves({ executionArn: EXECUTION_ARN, status: 'RUNNING', startDate: new Date(NOW - 540_000), input: JSON.stringify({ deadline: NOW + 2_400_000 }) } as never);
  sfn.on(GetExecutionHistoryCommand).resolves({ events: [gateExit(NOW - 30_000, BAKING)] });
  dynamodb.on(PutItemCommand).resolves({});
  dynamodb.on(GetItemCommand).resolves({});
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [{ AlarmName: 'CheckoutReleaseGatesAlarm-physical', StateValue: 'OK' }, { AlarmName: 'CheckoutReleaseProbeDeltaS-physical', StateValue: 'ALARM' }] });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER });
});

/** Runs a live command with a fixed clock and no real sleep; `clock` advances by each sleep. */
async function cli(command: 'status' | 'pause' | 'resume' | 'promote' | 'abort', ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const sleeps: number[] = [];
  let now = NOW;
  const code = await runOperate(command, [...args, '--app', app], {
    io: { print: (l) => out.push(l), error: (l) => err.push(l), now: () => now, sleep: async (ms) => { sleeps.push(ms); now += ms; } },
  });
  return { code, out: out.join('\n'), err: err.join('\n'), sleeps };
}

/** The command line's entry, for exit 2: stderr's text. */
async function viaMain(...args: string[]): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  const spy = jest.spyOn(console, 'error').mockImplementation((line: string) => { errors.push(line); });
  const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    return { code: await main([...args, '--app', app]), stderr: errors.join('\n') };
  } finally {
    spy.mockRestore();
    log.mockRestore();
  }
}

const putInput = () => dynamodb.commandCalls(PutItemCommand).at(-1)?.args[0].input;
const written = (): OperatorCommand => operatorCommandOf(putInput()!.Item as never).command!;

describe('the alias in the cloud assembly', () => {
  test('a staged alias: its application, group, machine, operator table and alarms, by logical ID; the deployed stack name', () => {
    const target = resolveTarget(app, CHECKOUT, true, 'pause');
    const { resources } = target.alias.stack;
    expect(target).toMatchObject({ stackName: USER_STACK, alias: { path: `${USER_STACK}/CheckoutRelease/Alias`, strategy: 'staged' } });
    expect([target.application, target.deploymentGroup, target.machine, target.operatorTable].map((id) => resources[id!]?.Type)).toEqual(
      ['AWS::CodeDeploy::Application', 'AWS::CodeDeploy::DeploymentGroup', 'AWS::StepFunctions::StateMachine', 'AWS::DynamoDB::Table']);
    expect(target.alarms.map((id) => resources[id]?.Type)).toEqual(['AWS::CloudWatch::Alarm', 'AWS::CloudWatch::Alarm']);
    expect(resolveTarget(app, `/${USER_STACK}/CheckoutRelease/Alias/`, true, 'pause').alias.path).toBe(target.alias.path);
  });

  test('the synthesized machine\'s Gate state keeps the gate function\'s own result at $.gate of its output, where status reads it (register SFN-14)', () => {
    const { machine } = resolveTarget(app, CHECKOUT, true, 'pause').alias as { machine: { states: Record<string, AslState> } };
    const gate = allStates(machine.states).Gate as AslState & Record<string, unknown>;
    expect(gate).toMatchObject({ Type: 'Task', ResultPath: '$.gate', Resource: expect.stringMatching(/^StagedRolloutGate\w+\.Arn$/) });
    expect([gate.OutputPath, gate.ResultSelector, gate.Output]).toEqual([undefined, undefined, undefined]);
  });

  test('bad input: exit 2, one line naming the option or value', async () => {
    const refused = async (...args: string[]) => {
      const r = await viaMain(...args);
      expect(r.code).toBe(2);
      return r.stderr.split('\n')[0].replace('cdk-rollout-guardrails: ', '');
    };
    expect(await refused('status')).toBe('status: missing target <stack>/<alias> (the stack\'s name in the cloud assembly and the alias\'s construct path or a prefix of it)');
    expect(await refused('pause', CHECKOUT, '--watch')).toBe('pause: unknown option \'--watch\' (--watch is an option of status)');
    expect(await refused('status', CHECKOUT, '--force')).toBe('status: unknown option \'--force\'');
    expect(await refused('status', 'Nowhere/Checkout')).toBe(`Nowhere/Checkout: no such stack in ${app} (stacks: ${USER_STACK}, Plain); the target is <stack>/<alias path>`);
    expect(await refused('status', `${USER_STACK}/Cart`)).toMatch(new RegExp(`^${USER_STACK}/Cart: no such guarded alias in stack ${USER_STACK} \\(found: ${USER_STACK}/CheckoutRelease/Alias, `));
    expect(await refused('status', USER_STACK)).toBe(`${USER_STACK} is ambiguous: it names 4 guarded aliases; give one of: ${['Checkout', 'Search', 'Reports', 'Feed'].map((a) => `${USER_STACK}/${a}Release/Alias`).join(', ')}`);
    const works = 'abort works (CodeDeploy StopDeployment with rollback), and status shows any guarded alias';
    expect(await refused('promote', `${USER_STACK}/SearchRelease`)).toBe(`promote ${USER_STACK}/SearchRelease/Alias: this alias's strategy is blue-green; promote operates staged rollouts only: ending or extending a blue-green hold early is not built, and CodeDeploy has no pause or promote for a Lambda deployment. ${works}`);
    for (const [command, alias, strategy] of [['pause', 'ReportsRelease', 'canary'], ['resume', 'FeedRelease', 'linear'], ['promote', 'ReportsRelease', 'canary'], ['resume', 'SearchRelease', 'blue-green']]) {
      expect(await refused(command, `${USER_STACK}/${alias}`)).toMatch(new RegExp(`^${command} ${USER_STACK}/${alias}/Alias: this alias's strategy is ${strategy}; ${command} operates staged rollouts only: .*Lambda deployment.*\\. abort works`));
    }
    expect(await refused('pause', `${USER_STACK}/FeedRelease`)).toContain('CodeDeploy has no pause, resume or promote for a Lambda deployment (its ContinueDeployment reroutes a blue/green deployment\'s instances, not a Lambda alias)');
    expect(await refused('status', CHECKOUT, '--watch', '--interval', '0')).toBe('--interval 0: must be a number of seconds from 1 to 3600');
    expect(await refused('status', CHECKOUT, '--interval', '5')).toBe('--interval needs --watch');
    expect(await refused('abort', CHECKOUT, '--wait', '--timeout=soon')).toBe('--timeout soon: must be a number of seconds from 1 to 3600');
    expect(await refused('resume', CHECKOUT, '--deployment', '42')).toBe('--deployment 42: not a CodeDeploy deployment ID (d- and letters or digits, e.g. d-ABCDEF123)');
    expect(await refused('pause', CHECKOUT, '--reason')).toBe('--reason needs a value');
    // The reason is copied into the audit record and the notification (register SNS-1): bounded before anything is written.
    expect(await refused('pause', CHECKOUT, '--reason', 'x'.repeat(501))).toBe('--reason: at most 500 characters, got 501');
    expect(cfn.calls()).toHaveLength(0);
    expect((await viaMain('promote', '--help')).code).toBe(0);
  });

  test('--deployment that is not the one in progress is named with its status; several in progress are named, not guessed', async () => {
    codedeploy.on(GetDeploymentCommand, { deploymentId: 'd-OLD000001' }).resolves({ deploymentInfo: { status: 'Succeeded', applicationName: 'shop-app', deploymentGroupName: 'checkout-group' } });
    expect(await viaMain('pause', CHECKOUT, '--deployment', 'd-OLD000001')).toEqual({
      code: 2, stderr: `cdk-rollout-guardrails: --deployment d-OLD000001: that deployment is Succeeded, not the one in progress (in progress: ${DEPLOYMENT})`,
    });
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [DEPLOYMENT], nextToken: 'page-2' }).on(ListDeploymentsCommand, { nextToken: 'page-2' }).resolves({ deployments: ['d-SECOND001'] });
    expect((await viaMain('status', CHECKOUT)).stderr).toBe(`cdk-rollout-guardrails: ${KEY}: 2 deployments are in progress (${DEPLOYMENT}, d-SECOND001), where CodeDeploy allows one per deployment group; give --deployment ID`);
    expect(codedeploy.commandCalls(ListDeploymentsCommand)[0].args[0].input).toEqual({
      applicationName: 'shop-app', deploymentGroupName: 'checkout-group', includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'],
    });
    expect(dynamodb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});

describe('pause, resume, promote, abort', () => {
  test.each(['pause', 'resume', 'promote', 'abort'] as const)('%s writes the item for the deployment at the current weight, conditionally, and prints the audit line', async (command) => {
    const { code, out } = await cli(command, CHECKOUT, '--reason', ' p95 looks odd ');
    expect(code).toBe(0);
    const c = written();
    expect(c).toEqual({ deploymentId: DEPLOYMENT, command, step: 50, commandId: expect.stringMatching(/^[0-9a-f-]{36}$/), requestedBy: CALLER, requestedAt: '2026-11-27T06:00:00.000Z', reason: 'p95 looks odd' });
    expect(putInput()).toEqual({
      TableName: 'shop-operator', Item: operatorItem(KEY, c),
      ConditionExpression: 'attribute_not_exists(#pk) OR #d <> :d OR #c <> :c OR #s <> :s',
      ExpressionAttributeNames: { '#pk': 'pk', '#d': 'deployment_id', '#c': 'command', '#s': 'step' },
      ExpressionAttributeValues: { ':d': { S: DEPLOYMENT }, ':c': { S: command }, ':s': { N: '50' } },
    });
    expect(out.split('\n')).toEqual([
      `audit: ${CALLER} gave ${command} to ${CHECKOUT}/Alias at 50 % (deployment ${DEPLOYMENT}, execution ${EXECUTION_ARN}): command ${c.commandId} at 2026-11-27T06:00:00.000Z, reason "p95 looks odd"`,
      expect.stringMatching(/^given: the gate acts on it at its next invocation \(each bake slice and check, every \d+ s at most\)/),
    ]);
    expect(sfn.commandCalls(DescribeExecutionCommand).map((call) => call.args[0].input.executionArn)).toEqual([EXECUTION_ARN, EXECUTION_ARN]);
  });

  test('the same command again: the put is refused, the item read back holds it: "already given", exit 0; another command in it: not written, exit 1', async () => {
    const first: OperatorCommand = { deploymentId: DEPLOYMENT, command: 'pause', step: 50, commandId: 'c-first', requestedBy: 'arn:bob', requestedAt: '2026-11-27T05:58:00.000Z' };
    dynamodb.on(PutItemCommand).rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));
    dynamodb.on(GetItemCommand).resolves({ Item: operatorItem(KEY, first) as never });
    const again = await cli('pause', CHECKOUT);
    expect(again.code).toBe(0);
    expect(again.out).toContain('already given: pause by arn:bob at 2026-11-27T05:58:00.000Z (command c-first), for deployment d-CHECKOUT1 at 50 %; not written again');
    expect(again.out).toContain('audit: arn:bob gave pause to');
    expect(dynamodb.commandCalls(GetItemCommand)[0].args[0].input).toEqual({ TableName: 'shop-operator', Key: { pk: { S: KEY } }, ConsistentRead: true });
    dynamodb.on(GetItemCommand).resolves({ Item: operatorItem(KEY, { ...first, command: 'resume' }) as never });
    expect(await cli('pause', CHECKOUT)).toMatchObject({ code: 1, out: expect.stringContaining('not written: the put\'s condition refused it, and the item holds resume by arn:bob') });
  });

  test('no rollout, no execution, an ended one: exit 1 and nothing written', async () => {
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
    expect(await cli('pause', CHECKOUT)).toMatchObject({ code: 1, out: `${CHECKOUT}/Alias: no rollout is in progress on deployment group ${KEY}: nothing to pause` });
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [DEPLOYMENT] });
    sfn.on(DescribeExecutionCommand).rejects(Object.assign(new Error('Execution Does Not Exist'), { name: 'ExecutionDoesNotExist' }));
    expect((await cli('abort', CHECKOUT)).out).toMatch(/has no staged execution \(.*\): not started yet .*, or a deployment the starter does not gate/);
    for (const status of ['SUCCEEDED', 'FAILED', 'PENDING_REDRIVE']) {
      sfn.on(DescribeExecutionCommand).resolves({ status } as never);
      expect(await cli('promote', CHECKOUT)).toMatchObject({ code: 1, out: `${CHECKOUT}/Alias: the rollout has ended (${status}): execution ${EXECUTION_ARN} of deployment ${DEPLOYMENT}; nothing to promote` });
    }
    expect(dynamodb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  test('an AWS error: exit 3 with the call, the error\'s name and message; a physical ID of the wrong shape too', async () => {
    cfn.on(DescribeStackResourceCommand).rejects(Object.assign(new Error('User: alice is not authorized to perform: cloudformation:DescribeStackResource'), { name: 'AccessDenied' }));
    const denied = await cli('pause', CHECKOUT);
    expect(denied.code).toBe(3);
    expect(denied.err).toMatch(/^cdk-rollout-guardrails: CloudFormation DescribeStackResource \(ShopRelease \w+\) failed: AccessDenied: User: alice is not authorized/);
    cfn.on(DescribeStackResourceCommand).callsFake((input) => ({ StackResourceDetail: { PhysicalResourceId: physical(input.LogicalResourceId).replace(MACHINE_ARN, 'ShopStaged'), ResourceStatus: 'UPDATE_COMPLETE' } }));
    expect((await cli('status', CHECKOUT)).err).toMatch(/StagedRolloutStateMachine\w+ came back as "ShopStaged" \(status UPDATE_COMPLETE\): not a state machine ARN/);
  });
});

describe('abort of a blue-green, canary or linear alias: CodeDeploy StopDeployment with rollback (register CD-20)', () => {
  const REPORTS = `${USER_STACK}/ReportsRelease`;
  const STOPPED = 'd-REPORTS01';
  const ROLLBACK = 'd-ROLLBACK1';
  const GROUP = { applicationName: 'shop-app', deploymentGroupName: 'ReportsReleaseDeploymentGroup-physical' };
  const info = (deploymentId: string, status: string, more: Record<string, unknown> = {}) => ({ deploymentInfo: { deploymentId, ...GROUP, status, creator: 'user', ...more } });
  beforeEach(() => {
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [STOPPED] });
    codedeploy.on(GetDeploymentCommand).resolves(info(STOPPED, 'InProgress') as never);
    codedeploy.on(StopDeploymentCommand).resolves({ status: 'Pending', statusMessage: 'Stopping' });
  });

  test.each([['ReportsRelease', 'canary'], ['FeedRelease', 'linear'], ['SearchRelease', 'blue-green']])('%s (%s): StopDeployment on the deployment in progress, autoRollbackEnabled; the audit line; no item written', async (alias) => {
    const group = `${alias}DeploymentGroup-physical`;
    codedeploy.on(GetDeploymentCommand).resolves(info(STOPPED, 'InProgress', { deploymentGroupName: group }) as never);
    const { code, out } = await cli('abort', `${USER_STACK}/${alias}`, '--reason', 'errors on EU');
    expect(code).toBe(0);
    expect(codedeploy.commandCalls(StopDeploymentCommand).map((c) => c.args[0].input)).toEqual([{ deploymentId: STOPPED, autoRollbackEnabled: true }]);
    expect(codedeploy.commandCalls(ListDeploymentsCommand)[0].args[0].input).toEqual({ applicationName: 'shop-app', deploymentGroupName: group, includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'] });
    expect(out.split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^audit: ${CALLER} gave abort to ${USER_STACK}/${alias}/Alias \\(deployment ${STOPPED}, CodeDeploy StopDeployment with autoRollbackEnabled, answered Pending "Stopping"\\): command [0-9a-f-]{36} at 2026-11-27T06:00:00.000Z, reason "errors on EU"$`)),
      'stopping: CodeDeploy ends the deployment and rolls the alias back by a new deployment; status shows it, or give --wait',
    ]);
    expect(dynamodb.calls()).toHaveLength(0);
    expect(sfn.calls()).toHaveLength(0);
  });

  test('twice: the stopped deployment, or CodeDeploy\'s rollback of it, is never stopped again (exit 0); one that ended otherwise: exit 1', async () => {
    // Nothing in progress: the group's last attempted deployment is the stopped one.
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
    codedeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { lastAttemptedDeployment: { deploymentId: STOPPED, status: 'Stopped' } } });
    codedeploy.on(GetDeploymentCommand, { deploymentId: STOPPED }).resolves(info(STOPPED, 'Stopped', { completeTime: new Date(NOW - 60_000), rollbackInfo: { rollbackDeploymentId: ROLLBACK } }) as never);
    codedeploy.on(GetDeploymentCommand, { deploymentId: ROLLBACK }).resolves(info(ROLLBACK, 'Succeeded', { creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: STOPPED } }) as never);
    expect(await cli('abort', REPORTS)).toEqual(expect.objectContaining({ code: 0, out: [
      `already ended: deployment ${STOPPED} is Stopped (ended 2026-11-27T05:59:00Z); not stopped again`, `  CodeDeploy's rollback: deployment ${ROLLBACK}, Succeeded`].join('\n') }));
    // The rollback in progress: named, not stopped; the same with --deployment of the stopped one.
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [ROLLBACK] });
    codedeploy.on(GetDeploymentCommand, { deploymentId: ROLLBACK }).resolves(info(ROLLBACK, 'InProgress', { creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: STOPPED } }) as never);
    const rolling = await cli('abort', REPORTS);
    expect(rolling.code).toBe(0);
    expect(rolling.out).toContain(`deployment ${ROLLBACK} (InProgress) is CodeDeploy's rollback of deployment ${STOPPED}: not stopped (stopping it would leave the alias where it is)`);
    expect(rolling.out).toContain(`CodeDeploy's rollback: deployment ${ROLLBACK}, InProgress`);
    expect((await cli('abort', REPORTS, '--deployment', STOPPED)).code).toBe(0);
    // Failed with CodeDeploy's rollback (which status a stopped Lambda deployment shows is undocumented): ended, exit 0.
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
    codedeploy.on(GetDeploymentCommand, { deploymentId: STOPPED }).resolves(info(STOPPED, 'Failed', { rollbackInfo: { rollbackDeploymentId: ROLLBACK } }) as never);
    expect(await cli('abort', REPORTS)).toMatchObject({ code: 0, out: expect.stringContaining(`already ended: deployment ${STOPPED} is Failed; not stopped again`) });
    // A deployment that ended by itself with no rollback: nothing to abort.
    codedeploy.on(GetDeploymentCommand, { deploymentId: STOPPED }).resolves(info(STOPPED, 'Succeeded') as never);
    expect(await cli('abort', REPORTS)).toMatchObject({ code: 1, out: `${REPORTS}/Alias: deployment ${STOPPED} ended Succeeded: nothing to abort` });
    codedeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: {} });
    expect(await cli('abort', REPORTS)).toMatchObject({ code: 1, out: expect.stringContaining('and it has no deployment yet: nothing to abort') });
    expect(codedeploy.commandCalls(StopDeploymentCommand)).toHaveLength(0);
    // Completed between the read and the stop: read again, and said.
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [STOPPED] });
    let reads = 0;
    codedeploy.on(GetDeploymentCommand, { deploymentId: STOPPED }).callsFake(() => info(STOPPED, ++reads === 1 ? 'InProgress' : 'Failed'));
    codedeploy.on(StopDeploymentCommand).rejects(Object.assign(new Error('The deployment is already complete'), { name: 'DeploymentAlreadyCompletedException' }));
    expect(await cli('abort', REPORTS)).toMatchObject({ code: 1, out: expect.stringContaining(`completed before the stop reached it (DeploymentAlreadyCompletedException)\n${REPORTS}/Alias: deployment ${STOPPED} ended Failed`) });
  });

  test('--wait polls GetDeployment until the deployment has ended and its rollback Succeeded; a failed rollback or --timeout: exit 1', async () => {
    let reads = 0;
    codedeploy.on(GetDeploymentCommand, { deploymentId: STOPPED }).callsFake(() => (++reads <= 2 ? info(STOPPED, 'InProgress') : info(STOPPED, 'Stopped', { rollbackInfo: { rollbackDeploymentId: ROLLBACK } })));
    codedeploy.on(GetDeploymentCommand, { deploymentId: ROLLBACK }).resolvesOnce(info(ROLLBACK, 'InProgress') as never).resolves(info(ROLLBACK, 'Succeeded', { completeTime: new Date(NOW + 20_000) }) as never);
    const done = await cli('abort', REPORTS, '--wait');
    expect(done.code).toBe(0);
    expect(done.out).toContain(`rolled back: deployment ${STOPPED} is Stopped, and CodeDeploy's rollback ${ROLLBACK} Succeeded at 2026-11-27T06:00:20Z`);
    expect(done.sleeps).toEqual([5000, 5000]);
    codedeploy.on(GetDeploymentCommand, { deploymentId: STOPPED }).resolves(info(STOPPED, 'Stopped', { rollbackInfo: { rollbackDeploymentId: ROLLBACK } }) as never);
    codedeploy.on(GetDeploymentCommand, { deploymentId: ROLLBACK }).resolves(info(ROLLBACK, 'Failed', { errorInformation: { message: 'alias mismatch' } }) as never);
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
    codedeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { lastAttemptedDeployment: { deploymentId: STOPPED } } });
    expect(await cli('abort', REPORTS, '--wait')).toMatchObject({ code: 1, out: expect.stringContaining(`the rollback ${ROLLBACK} of deployment ${STOPPED} ended Failed (alias mismatch): the alias may not be back on its previous version; check it`) });
    codedeploy.on(GetDeploymentCommand, { deploymentId: STOPPED }).resolves(info(STOPPED, 'Stopped', { rollbackInfo: { rollbackMessage: 'rollback pending' } }) as never);
    const late = await cli('abort', REPORTS, '--wait', '--timeout', '8');
    expect(late).toMatchObject({ code: 1, out: expect.stringContaining(`not rolled back within 8 s: deployment ${STOPPED} is Stopped, and names no rollback deployment yet (rollback pending)`) });
    expect(late.sleeps).toEqual([5000, 3000]);
  });
});

describe('--wait', () => {
  const applying = (effect: string, after = 2) => {
    let reads = 0;
    sfn.on(GetExecutionHistoryCommand).callsFake(() => {
      const given = ++reads > after ? written() : undefined;
      return { events: given ? [gateExit(NOW + 4_000, { ...BAKING, operator: { command: given, effect, reason: `the operator's ${given.command}` } })] : [gateExit(NOW - 30_000, BAKING)] };
    });
  };

  test('polls every 2 s until a gate output names the command: its effect; overruled: exit 1', async () => {
    applying('paused');
    const paused = await cli('pause', CHECKOUT, '--wait');
    expect(paused.code).toBe(0);
    expect(paused.out).toContain('applied: the gate\'s decision at 2026-11-27T06:00:04.000Z: paused (the operator\'s pause)');
    expect(paused.sleeps).toEqual([2000]);
    applying('overruled');
    expect(await cli('promote', CHECKOUT, '--wait')).toMatchObject({ code: 1, out: expect.stringContaining('the promote was overruled') });
  });

  test('not applied within --timeout, or the rollout ends first: exit 1', async () => {
    applying('paused', 1_000);
    const late = await cli('pause', CHECKOUT, '--wait', '--timeout', '7');
    expect(late).toMatchObject({ code: 1, out: expect.stringContaining('not applied within 7 s') });
    expect(late.sleeps).toEqual([2000, 2000, 2000, 1000]);
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 10, type: 'ExecutionFailed', timestamp: new Date(NOW + 1_000), executionFailedEventDetails: { error: 'RolledBack', cause: 'a gate alarm fired' } }, gateExit(NOW - 30_000, BAKING)] });
    expect(await cli('promote', CHECKOUT, '--wait')).toMatchObject({ code: 1, out: expect.stringContaining('the rollout ended FAILED (a gate alarm fired) before the gate applied the promote: it took no effect') });
  });
});

describe('status', () => {
  test('prints the deployment, the step and weight, each gate, the operator state, a command not yet read, the deadline and the alarms', async () => {
    const pause: OperatorCommand = { deploymentId: DEPLOYMENT, command: 'pause', step: 50, commandId: 'c-pause', requestedBy: 'arn:bob', requestedAt: '2026-11-27T05:55:00.000Z', reason: 'dashboards' };
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [gateExit(NOW - 30_000, { ...BAKING, operator: { command: pause, effect: 'paused', waitDeadline: NOW + 900_000, reason: 'paused at 50 % by the operator' } })] });
    dynamodb.on(GetItemCommand).resolves({ Item: operatorItem(KEY, { ...pause, command: 'resume', commandId: 'c-resume', requestedAt: '2026-11-27T05:59:30.000Z', reason: undefined }) as never });
    const { code, out } = await cli('status', CHECKOUT);
    expect(code).toBe(0);
    expect(out.split('\n')).toEqual([
      `${CHECKOUT}/Alias (stack ${USER_STACK}): staged, deployment group ${KEY}`,
      '  schedule: steps 10 → 50 → 100 %, bake 180 s, recheck 60 s',
      `  deployment ${DEPLOYMENT}: InProgress, created 2026-11-27T05:50:00Z by user`,
      `  execution ${EXECUTION_ARN}: RUNNING, started 2026-11-27T05:51:00Z`,
      '  t+08:30 ▕█████░░░░░▏  50 %  step 2 of 3 (50 %), bake phase; advance → bake (at 2026-11-27T05:59:30Z)',
      '      ✓ alarm:checkout-gates         OK vs OK',
      '      ✓ errorRate                0.0012 vs 0.05',
      '      · p95Ratio                   null vs 1.2      (not judged: too little traffic)',
      '    50 % baking, no gate alarm in ALARM',
      '  operator: PAUSED: pause by arn:bob at 2026-11-27T05:55:00.000Z (command c-pause, "dashboards"); the wait rolls back at 2026-11-27T06:15:00Z (in 15 min 0 s) unless resumed, promoted or aborted',
      '    paused at 50 % by the operator',
      '  not yet read by the gate: resume by arn:bob at 2026-11-27T05:59:30.000Z (command c-resume) (the gate reads it at each bake slice and check)',
      '  deadline 2026-11-27T06:40:00Z, in 40 min 0 s: the hook\'s hour less the 120 s reserve to report; nothing holds or advances after it',
      '  alarms: CheckoutReleaseGatesAlarm-physical OK, CheckoutReleaseProbeDeltaS-physical ALARM',
    ]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0].args[0].input).toEqual({ executionArn: EXECUTION_ARN, reverseOrder: true, maxResults: 100, includeExecutionData: true, nextToken: undefined });
    expect(cloudwatch.commandCalls(DescribeAlarmsCommand)[0].args[0].input).toMatchObject({ AlarmNames: ['CheckoutReleaseGatesAlarm-physical', 'CheckoutReleaseProbeDeltaS-physical'], AlarmTypes: ['MetricAlarm'] });
  });

  test('an approval step\'s wait, an operator item the gate could not read, and a command applied', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [gateExit(NOW, { ...BAKING, operator: { effect: 'awaiting-approval', waitDeadline: NOW + 90_000, reason: 'waiting at 50 % for an operator\'s approval' } })] });
    expect((await cli('status', CHECKOUT)).out).toContain('  operator: AWAITING APPROVAL: give resume (or promote) to shift on; the wait rolls back at 2026-11-27T06:01:30Z (in 1 min 30 s) unless resumed, promoted or aborted\n    waiting at 50 % for an operator\'s approval\n');
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [gateExit(NOW, { ...BAKING, operator: { effect: 'unreadable', waitDeadline: NOW + 90_000, reason: 'ProvisionedThroughputExceededException: slow down' } })] });
    expect((await cli('status', CHECKOUT)).out).toContain('  operator: HELD: the gate could not read the operator item, and the shift waits until it can; the wait rolls back at 2026-11-27T06:01:30Z');
    const resume: OperatorCommand = { deploymentId: DEPLOYMENT, command: 'resume', step: 50, commandId: 'c-r', requestedBy: 'arn:bob', requestedAt: '2026-11-27T05:59:00.000Z' };
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [gateExit(NOW, { ...BAKING, operator: { command: resume, effect: 'approved', reason: 'approved at 50 %' } })] });
    dynamodb.on(GetItemCommand).resolves({ Item: operatorItem(KEY, resume) as never });
    const { out } = await cli('status', CHECKOUT);
    expect(out).toContain('  operator: last command applied: approved, resume by arn:bob at 2026-11-27T05:59:00.000Z (command c-r)\n');
    expect(out).not.toContain('not yet read');
  });

  test('the newest Gate exit is read, across pages; a truncated one is unknown, not parsed', async () => {
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [{ id: 12, type: 'WaitStateExited', timestamp: new Date(NOW) }], nextToken: 'older' })
      .on(GetExecutionHistoryCommand, { nextToken: 'older' }).resolves({ events: [gateExit(NOW - 60_000, BAKING), gateExit(NOW - 120_000, { ...BAKING, weight: 10 })] });
    expect((await cli('status', CHECKOUT)).out).toContain('50 %  step 2 of 3');
    sfn.on(GetExecutionHistoryCommand).resolves({ events: [gateExit(NOW - 60_000, BAKING, { outputDetails: { truncated: true } })] });
    expect((await cli('status', CHECKOUT)).out).toContain('t+08:00 the latest gate decision\'s output is unknown (absent or truncated in the history)');
  });

  test('no rollout in progress: the group\'s last deployment; a canary alias: the deployment and the alarms', async () => {
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [] });
    codedeploy.on(GetDeploymentGroupCommand).resolves({ deploymentGroupInfo: { lastAttemptedDeployment: { deploymentId: 'd-LAST00001', status: 'Succeeded', endTime: new Date(NOW - 86_400_000) } } });
    expect((await cli('status', CHECKOUT)).out.split('\n')[2]).toBe('  no rollout in progress; the last deployment, d-LAST00001, is Succeeded (ended 2026-11-26T06:00:00Z)');
    codedeploy.on(ListDeploymentsCommand).resolves({ deployments: [DEPLOYMENT] });
    const canary = await cli('status', `${USER_STACK}/ReportsRelease`);
    expect(canary.out).toContain('(a canary alias: CodeDeploy\'s deployment and the alarms are shown; steps, gates and operator commands are the staged strategy\'s)');
    expect(sfn.calls()).toHaveLength(0);
  });

  test('--watch re-renders every interval until the execution ends', async () => {
    sfn.on(DescribeExecutionCommand).resolvesOnce({ status: 'RUNNING' } as never).resolvesOnce({ status: 'RUNNING' } as never).resolves({ status: 'SUCCEEDED' } as never);
    const watched = await cli('status', CHECKOUT, '--watch', '--interval', '5');
    expect(watched.code).toBe(0);
    expect(watched.sleeps).toEqual([5000, 5000]);
    expect(watched.out.match(/^— .* —$/gm)).toEqual(['— 2026-11-27T06:00:00Z —', '— 2026-11-27T06:00:05Z —', '— 2026-11-27T06:00:10Z —']);
    expect(codedeploy.commandCalls(GetDeploymentCommand).map((c) => c.args[0].input.deploymentId)).toEqual([DEPLOYMENT, DEPLOYMENT, DEPLOYMENT]);
  });
});
