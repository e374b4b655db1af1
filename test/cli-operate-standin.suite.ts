// The live commands through the real SDK clients and their HTTP layer: CloudFormation, CodeDeploy, Step Functions,
// CloudWatch and STS answered by the local AWS stand-in (AWS_ENDPOINT_URL), DynamoDB by dynalite
// (AWS_ENDPOINT_URL_DYNAMODB), which evaluates the put's condition for real. The cloud assembly is a small hand-written
// one (a staged alias, its CodeDeploy application and group, its state machine with the configuration, its operator
// table; and a canary alias, whose abort is CodeDeploy's StopDeployment): the discovery on synthesized stacks is test/cli-operate.suite.ts's. Also: a rollout that ends while a
// command is given, and calls that never answer (each is cut off, the CLI exits 3 naming the call).
import * as fs from 'fs';
import * as path from 'path';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { OPERATOR_TABLE_KEY, operatorCommandOf } from '../packages/runtime/src/contract/operator';
import type { StagedExecutionInput } from '../packages/runtime/src/contract/staged';
import { runOperate } from '../cli/src/operate';
import { readOperatorCommand } from '../lambdas/staged/operator';
import type { CallBounds } from '../cli/src/operate/aws';
import { AwsStandIn } from './helpers/aws-standin';
import { type LocalDynamo, startDynalite } from './helpers/dynalite';
import { tempDir } from './helpers/temp-dir';

const temp = tempDir('cli-operate-standin-');
const MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:ShopStaged';
const DEPLOYMENT = 'd-STANDIN01';
const EXECUTION_ARN = `arn:aws:states:us-east-1:123456789012:execution:ShopStaged:${DEPLOYMENT}`;
const KEY = 'shop-app/shop-group';
const CALLER = 'arn:aws:sts::123456789012:assumed-role/Operator/alice';
const BOUNDS: CallBounds = { connectionTimeoutMs: 500, requestTimeoutMs: 200, maxAttempts: 2, callTimeoutMs: 1_000 };

/** A cloud assembly with one staged alias: `Shop/Checkout/Alias`, its configuration as the construct writes it. */
function writeAssembly(dir: string): string {
  const config = {
    schedule: { steps: [10, 50, 100], bakeSeconds: 180, maxFailuresPerStep: 2, noData: { maxWaitSeconds: 0, then: 'pass', minInvocations: 10 }, probeBudgetSeconds: 0, recheckSeconds: 60, canaryQuestions: 10, stopRules: [] },
    thresholds: { maxErrorRateDelta: 0.01, maxP95Ratio: 1.2, maxErrorRate: 0.05 },
    alarmNames: ['GateAlarm'],
    operator: { tableName: 'OperatorTable', key: 'App/Group' },
  };
  const definition = { StartAt: 'Init', States: { Init: { Type: 'Pass', QueryLanguage: 'JSONata', Output: `{% $lookup(${JSON.stringify({ 'App/Group': config })}, $states.input.configKey) %}`, End: true } } };
  const resources = {
    Fn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } },
    Alias: {
      Type: 'AWS::Lambda::Alias', Properties: { Name: 'live', FunctionName: { Ref: 'Fn' }, FunctionVersion: '7' },
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: { ApplicationName: { Ref: 'App' }, DeploymentGroupName: { Ref: 'Group' } } },
      Metadata: { 'aws:cdk:path': 'Shop/Checkout/Alias/Resource' },
    },
    App: { Type: 'AWS::CodeDeploy::Application', Properties: { ComputePlatform: 'Lambda' } },
    Group: { Type: 'AWS::CodeDeploy::DeploymentGroup', Properties: { ApplicationName: { Ref: 'App' }, DeploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce', AlarmConfiguration: { Alarms: [{ Name: { Ref: 'GateAlarm' } }] } } },
    GateAlarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
    Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { Definition: definition } },
    OperatorTable: { Type: 'AWS::DynamoDB::Table', Properties: {} },
    // A canary alias: CodeDeploy's own shape, whose abort is CodeDeploy's StopDeployment.
    ReportsFn: { Type: 'AWS::Lambda::Function', Properties: { Handler: 'index.handler' } },
    ReportsAlias: {
      Type: 'AWS::Lambda::Alias', Properties: { Name: 'live', FunctionName: { Ref: 'ReportsFn' }, FunctionVersion: '3' },
      UpdatePolicy: { CodeDeployLambdaAliasUpdate: { ApplicationName: { Ref: 'App' }, DeploymentGroupName: { Ref: 'ReportsGroup' } } },
      Metadata: { 'aws:cdk:path': 'Shop/Reports/Alias/Resource' },
    },
    ReportsGroup: { Type: 'AWS::CodeDeploy::DeploymentGroup', Properties: { ApplicationName: { Ref: 'App' }, DeploymentConfigName: 'CodeDeployDefault.LambdaCanary10Percent5Minutes' } },
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({
    version: '48.0.0', artifacts: { Shop: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Shop.template.json', stackName: 'shop-prod' } } },
  }));
  fs.writeFileSync(path.join(dir, 'Shop.template.json'), JSON.stringify({ Resources: resources }));
  return dir;
}

let standIn: AwsStandIn;
let dynamo: LocalDynamo;
let table: string;
let app: string;
const saved = { ...process.env };

beforeAll(async () => {
  [standIn, dynamo] = await Promise.all([AwsStandIn.start(), startDynalite()]);
  table = await dynamo.createTable(`operator-${process.pid}`, OPERATOR_TABLE_KEY);
  app = writeAssembly(path.join(temp.dir, 'cdk.out'));
});
afterAll(async () => {
  await Promise.all([standIn?.close(), dynamo?.stop()]);
  temp.remove();
});
afterEach(() => {
  process.env = { ...saved };
});

const secs = (ms: number) => ms / 1000;
/** A Gate state's exit in the history, with the gate output the machine keeps at `$.gate`. */
const gateExit = (at: number, gate: Record<string, unknown>) => ({
  id: 1, type: 'TaskStateExited', timestamp: secs(at), stateExitedEventDetails: { name: 'Gate', output: JSON.stringify({ target: {}, gate }) },
});

/** The stand-in's answers for a rollout at 50 % with one gate output; `execution` gives DescribeExecution's statuses in turn. */
function rollout(options: { executions?: string[]; history?: () => unknown[] | Promise<unknown[]> } = {}): void {
  standIn.reset();
  const physical: Record<string, string> = { App: 'shop-app', Group: 'shop-group', Machine: MACHINE_ARN, OperatorTable: table, GateAlarm: 'shop-gate-alarm' };
  standIn.on('DescribeStackResource', (input) => ({
    StackResourceDetail: { StackName: input.StackName, LogicalResourceId: input.LogicalResourceId, PhysicalResourceId: physical[input.LogicalResourceId], ResourceType: 'x', ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
  }));
  standIn.on('GetCallerIdentity', () => ({ Arn: CALLER, UserId: 'AROA:alice', Account: '123456789012' }));
  standIn.on('ListDeployments', () => ({ deployments: [DEPLOYMENT] }));
  standIn.on('GetDeployment', () => ({ deploymentInfo: { deploymentId: DEPLOYMENT, applicationName: 'shop-app', deploymentGroupName: 'shop-group', status: 'InProgress', createTime: secs(Date.now() - 600_000), creator: 'user' } }));
  const statuses = [...(options.executions ?? ['RUNNING'])];
  standIn.on('DescribeExecution', () => ({
    executionArn: EXECUTION_ARN, stateMachineArn: MACHINE_ARN, status: statuses.length > 1 ? statuses.shift() : statuses[0], startDate: secs(Date.now() - 500_000),
    input: JSON.stringify({ deployment: { deploymentId: DEPLOYMENT }, configKey: KEY, deadline: Date.now() + 1_800_000 }),
  }));
  standIn.on('GetExecutionHistory', async () => ({
    events: options.history ? await options.history() : [gateExit(Date.now() - 30_000, {
      next: 'bake', decision: 'advance', reasons: ['50 % baking, no gate alarm in ALARM'], weight: 50, progress: { phase: 'bake', stepIndex: 1 },
      gates: [{ name: 'alarm:shop-gate-alarm', measured: 'OK', threshold: 'OK', passed: true, reason: 'alarm shop-gate-alarm is OK' }],
    })],
  }));
  standIn.on('DescribeAlarms', () => ({ MetricAlarms: [{ AlarmName: 'shop-gate-alarm', StateValue: 'OK' }] }));
}

async function cli(command: 'status' | 'pause' | 'resume' | 'promote' | 'abort', ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: standIn.url, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local',
  });
  const out: string[] = [];
  const err: string[] = [];
  const code = await runOperate(command, [...args, '--app', app], { bounds: BOUNDS, io: { print: (l) => out.push(l), error: (l) => err.push(l), sleep: async () => undefined } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const item = async () => operatorCommandOf((await dynamo.client().send(new GetItemCommand({ TableName: table, Key: { [OPERATOR_TABLE_KEY]: { S: KEY } }, ConsistentRead: true }))).Item).command;

test('status reads every service through its protocol: the physical names in the deployed stack, the deployment, the gate output, the alarms', async () => {
  rollout();
  const { code, out } = await cli('status', 'Shop/Checkout');
  expect(code).toBe(0);
  expect(out).toContain('Shop/Checkout/Alias (stack shop-prod): staged, deployment group shop-app/shop-group');
  expect(out).toContain(`deployment ${DEPLOYMENT}: InProgress`);
  expect(out).toContain(`execution ${EXECUTION_ARN}: RUNNING`);
  expect(out).toMatch(/▕█████░░░░░▏ {2}50 % {2}step 2 of 3 \(50 %\), bake phase; advance → bake/);
  expect(out).toContain('✓ alarm:shop-gate-alarm         OK vs OK');
  expect(out).toContain('alarms: shop-gate-alarm OK');
  expect(standIn.callsOf('DescribeStackResource').map((c) => [c.input.StackName, c.input.LogicalResourceId]).sort()).toEqual(
    [['shop-prod', 'App'], ['shop-prod', 'GateAlarm'], ['shop-prod', 'Group'], ['shop-prod', 'Machine'], ['shop-prod', 'OperatorTable']]);
  expect(standIn.callsOf('ListDeployments')[0].input).toMatchObject({ applicationName: 'shop-app', deploymentGroupName: 'shop-group', includeOnlyStatuses: ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'] });
  expect(standIn.callsOf('GetExecutionHistory')[0].input).toMatchObject({ executionArn: EXECUTION_ARN, reverseOrder: true, includeExecutionData: true });
});

test('pause writes the item on dynalite, where the gate\'s reader finds it; the same pause again is refused by the condition and leaves it; resume, and resume at another step, overwrite it', async () => {
  rollout();
  const first = await cli('pause', 'Shop/Checkout', '--reason', 'checking a dashboard');
  expect(first.code).toBe(0);
  const written = await item();
  expect(written).toMatchObject({ deploymentId: DEPLOYMENT, command: 'pause', step: 50, requestedBy: CALLER, reason: 'checking a dashboard' });
  expect(first.out).toContain(`audit: ${CALLER} gave pause to Shop/Checkout/Alias at 50 % (deployment ${DEPLOYMENT}, execution ${EXECUTION_ARN}): command ${written!.commandId}`);
  const again = await cli('pause', 'Shop/Checkout');
  expect(again.code).toBe(0);
  expect(again.out).toContain(`already given: pause by ${CALLER} at ${written!.requestedAt} (command ${written!.commandId}`);
  expect(await item()).toEqual(written);
  // The staged gate's own reader (strongly consistent, by the alias's key) finds the command the CLI put (DDB-9).
  const gateEvent = { deployment: { deploymentId: DEPLOYMENT }, config: { operator: { tableName: table, key: KEY } } } as unknown as StagedExecutionInput;
  expect(await readOperatorCommand(dynamo.client(), gateEvent, () => undefined)).toEqual({ command: written });
  expect((await cli('resume', 'Shop/Checkout')).code).toBe(0);
  expect(await item()).toMatchObject({ command: 'resume', step: 50 });
  // The same command at another step is another command.
  rollout({ history: () => [gateExit(Date.now(), { next: 'bake', decision: 'advance', reasons: [], weight: 10, gates: [] })] });
  expect((await cli('resume', 'Shop/Checkout')).out).toContain('gave resume to Shop/Checkout/Alias at 10 %');
  expect(await item()).toMatchObject({ command: 'resume', step: 10 });
});

test('--wait: the gate\'s output naming the command (read back from dynalite) is reported, with its effect', async () => {
  let polls = 0;
  rollout({
    history: async () => {
      const given = ++polls > 2 ? await item() : undefined; // the first reads (before the put, then two polls) see no decision on it
      return given?.command === 'promote'
        ? [gateExit(Date.now(), { next: 'succeed', decision: 'advance', reasons: ['promoted'], weight: 50, gates: [], operator: { command: given, effect: 'promoted', reason: 'the operator promoted at 50 %' } })]
        : [gateExit(Date.now() - 5_000, { next: 'bake', decision: 'advance', reasons: [], weight: 50, gates: [] })];
    },
  });
  const { code, out } = await cli('promote', 'Shop/Checkout', '--wait', '--timeout', '30');
  expect(out).toContain('applied: the gate\'s decision at');
  expect(out).toContain('promoted (the operator promoted at 50 %)');
  expect(code).toBe(0);
});

test('a rollout that ends while the command is given: RUNNING before the put, SUCCEEDED after; exit 1, no effect', async () => {
  rollout({ executions: ['RUNNING', 'SUCCEEDED'] });
  const { code, out } = await cli('abort', 'Shop/Checkout');
  expect(code).toBe(1);
  expect(out).toContain('the rollout ended (SUCCEEDED) while the abort was being given: it took no effect');
  expect(await item()).toMatchObject({ command: 'abort', deploymentId: DEPLOYMENT });
});

test('abort of a canary alias: StopDeployment with autoRollbackEnabled through the real client; --wait reads the rollback CodeDeploy names to its success', async () => {
  rollout();
  const physical: Record<string, string> = { App: 'shop-app', ReportsGroup: 'reports-group' };
  standIn.on('DescribeStackResource', (input) => ({
    StackResourceDetail: { StackName: input.StackName, LogicalResourceId: input.LogicalResourceId, PhysicalResourceId: physical[input.LogicalResourceId], ResourceType: 'x', ResourceStatus: 'UPDATE_COMPLETE', LastUpdatedTimestamp: new Date(0) },
  }));
  standIn.on('ListDeployments', () => ({ deployments: ['d-REPORTS01'] }));
  standIn.on('GetDeployment', (input) => {
    const stopped = standIn.callsOf('StopDeployment').length > 0;
    const base = { applicationName: 'shop-app', deploymentGroupName: 'reports-group', creator: 'user' };
    if (input.deploymentId === 'd-ROLLBACK1') return { deploymentInfo: { ...base, deploymentId: 'd-ROLLBACK1', status: 'Succeeded', creator: 'codeDeployRollback', rollbackInfo: { rollbackTriggeringDeploymentId: 'd-REPORTS01' } } };
    return { deploymentInfo: { ...base, deploymentId: 'd-REPORTS01', status: stopped ? 'Stopped' : 'InProgress', ...(stopped ? { rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK1' } } : {}) } };
  });
  const before = await item();
  const { code, out, err } = await cli('abort', 'Shop/Reports', '--wait', '--reason', 'bad canary');
  expect({ code, err }).toEqual({ code: 0, err: '' });
  expect(standIn.callsOf('StopDeployment').map((c) => c.input)).toEqual([{ deploymentId: 'd-REPORTS01', autoRollbackEnabled: true }]);
  expect(out).toContain('audit: arn:aws:sts::123456789012:assumed-role/Operator/alice gave abort to Shop/Reports/Alias (deployment d-REPORTS01, CodeDeploy StopDeployment with autoRollbackEnabled, answered Pending "stand-in: stopping")');
  expect(out).toContain('rolled back: deployment d-REPORTS01 is Stopped, and CodeDeploy\'s rollback d-ROLLBACK1 Succeeded');
  expect(standIn.callsOf('ListDeployments')[0].input).toMatchObject({ applicationName: 'shop-app', deploymentGroupName: 'reports-group' });
  expect(standIn.calls.some((c) => c.service === 'sfn')).toBe(false);
  expect(await item()).toEqual(before);
});

test('a call that never answers is cut off by the request timeout; one that sends its headers and stalls, by the call deadline: exit 3 naming the call', async () => {
  rollout();
  // status asks CloudWatch (which hangs) beside CodeDeploy; pause never asks CloudWatch, and its DescribeExecution stalls.
  standIn.behave('DescribeAlarms', 'hang').behave('DescribeExecution', 'stall');
  const started = Date.now();
  const [hung, stalled] = await Promise.all([cli('status', 'Shop/Checkout'), cli('pause', 'Shop/Checkout')]);
  expect(hung.code).toBe(3);
  expect(hung.err).toMatch(/^cdk-rollout-guardrails: CloudWatch DescribeAlarms failed: TimeoutError: /);
  expect(hung.err).not.toContain('no answer within'); // the request timeout, not the deadline
  expect(standIn.callsOf('DescribeAlarms')).toHaveLength(BOUNDS.maxAttempts);
  expect(stalled).toMatchObject({ code: 3, err: `cdk-rollout-guardrails: Step Functions DescribeExecution failed: TimeoutError: no answer within ${BOUNDS.callTimeoutMs / 1000} s` });
  expect(Date.now() - started).toBeLessThan(3_000);
});
