// What the live commands read from AWS: the alias's resources' physical names (CloudFormation), the deployment in
// progress (CodeDeploy), the staged execution named after it and its latest gate output (Step Functions), the
// operator item (DynamoDB) and the alarms (CloudWatch). Every call goes through `call` (bounded, named on error).
import { DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DeploymentStatus, GetDeploymentCommand, GetDeploymentGroupCommand, ListDeploymentsCommand, RollbackInfo } from '@aws-sdk/client-codedeploy';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeExecutionCommand, GetExecutionHistoryCommand, HistoryEvent } from '@aws-sdk/client-sfn';
import type { Check } from '../../../packages/runtime/src/contract/check';
import { aliasConfigKey } from '../../../packages/runtime/src/contract/config-key';
import { OPERATOR_TABLE_KEY, OperatorAudit, OperatorCommand, operatorCommandOf } from '../../../packages/runtime/src/contract/operator';
import type { StagedProgress, StagedStartInput } from '../../../packages/runtime/src/contract/staged';
import { CliInputError } from '../errors';
import { AwsCallError, call, errorName, OperateClients } from './aws';
import { OperateTarget } from './target';

/** The alias's resources as deployed. */
export interface Deployed {
  readonly application: string;
  readonly deploymentGroup: string;
  /** The operator item's key: `<application>/<deployment group>`. */
  readonly key: string;
  readonly machineArn?: string;
  readonly table?: string;
  readonly alarmNames: string[];
  /** Whether one of them is a composite alarm (DescribeAlarms then asks for composite alarms too, which needs the permission on `*`). */
  readonly composite: boolean;
}

/** A state machine's ARN, which SFN-13 turns into an execution's (register CFN-6). */
const MACHINE_ARN = /^arn:[\w-]+:states:[\w-]+:\d{12}:stateMachine:[^:]+$/;

/**
 * The physical name of a template's resource (a name the template gives literally is kept), checked for its shape
 * since no page says that PhysicalResourceId is the Ref value (register CFN-6): a state machine's ARN, else a name.
 */
async function physicalName(clients: OperateClients, target: OperateTarget, logicalIdOrName: string): Promise<string> {
  if (target.alias.stack.resources[logicalIdOrName] === undefined) return logicalIdOrName;
  const what = `CloudFormation DescribeStackResource (${target.stackName} ${logicalIdOrName})`;
  const answer = await call(clients, what, (o) => clients.cloudformation.send(
    new DescribeStackResourceCommand({ StackName: target.stackName, LogicalResourceId: logicalIdOrName }), o));
  const id = answer.StackResourceDetail?.PhysicalResourceId ?? '';
  const status = answer.StackResourceDetail?.ResourceStatus ?? 'unknown';
  const machine = target.alias.stack.resources[logicalIdOrName].Type === 'AWS::StepFunctions::StateMachine';
  const problem = id === '' ? 'no PhysicalResourceId' : status.startsWith('DELETE_') ? `status ${status}`
    : machine && !MACHINE_ARN.test(id) ? 'not a state machine ARN' : !machine && id.startsWith('arn:') ? 'an ARN, not a name' : undefined;
  if (problem) throw new AwsCallError(what, 'UnexpectedAnswer', `${logicalIdOrName} came back as ${JSON.stringify(id)} (status ${status}): ${problem}; is the stack deployed from this cloud assembly?`);
  return id;
}

/** Looks up the physical names of the alias's resources (in parallel). */
export async function deployedResources(clients: OperateClients, target: OperateTarget): Promise<Deployed> {
  const name = (id: string | undefined) => (id === undefined ? Promise.resolve(undefined) : physicalName(clients, target, id));
  const [application, deploymentGroup, machineArn, table, ...alarmNames] = await Promise.all([
    name(target.application), name(target.deploymentGroup), name(target.machine), name(target.operatorTable), ...target.alarms.map(name),
  ]);
  const composite = target.alarms.some((id) => target.alias.stack.resources[id]?.Type === 'AWS::CloudWatch::CompositeAlarm');
  return { application: application!, deploymentGroup: deploymentGroup!, key: aliasConfigKey(application!, deploymentGroup!), machineArn, table, alarmNames: alarmNames as string[], composite };
}

/** A CodeDeploy deployment, as the commands show it. */
export interface DeploymentView {
  readonly id: string;
  readonly status: string;
  readonly createTime?: Date;
  readonly endTime?: Date;
  readonly creator?: string;
  readonly error?: string;
}

/** The statuses of a deployment in progress. */
export const IN_PROGRESS: DeploymentStatus[] = ['Created', 'Queued', 'InProgress', 'Baking', 'Ready'];

export async function getDeployment(clients: OperateClients, id: string, expected: string[] = []): Promise<{ view: DeploymentView; application?: string; group?: string; rollback?: RollbackInfo }> {
  const info = (await call(clients, `CodeDeploy GetDeployment (${id})`, (o) => clients.codedeploy.send(new GetDeploymentCommand({ deploymentId: id }), o), expected)).deploymentInfo;
  return {
    view: { id, status: info?.status ?? 'unknown', createTime: info?.createTime, endTime: info?.completeTime, creator: info?.creator, error: info?.errorInformation?.message },
    application: info?.applicationName,
    group: info?.deploymentGroupName,
    rollback: info?.rollbackInfo,
  };
}

/**
 * The deployment in progress on the alias's deployment group (`wanted`: `--deployment`, which must be it), or none;
 * with `last`, the group's last attempted deployment when none is in progress. Every status that is not final is
 * asked for, every page followed (register CD-19); a group allows one at a time (CD-18), and several are named, not
 * guessed between.
 */
export async function liveDeployment(clients: OperateClients, deployed: Deployed, wanted: string | undefined, last: boolean): Promise<{ deployment?: DeploymentView; last?: DeploymentView }> {
  const ids = await inProgressIds(clients, deployed);
  if (wanted !== undefined && !ids.includes(wanted)) {
    const found = await wantedDeployment(clients, deployed, wanted);
    throw new CliInputError(`--deployment ${wanted}: that deployment is ${found.view.status}, not the one in progress (${ids.length > 0 ? `in progress: ${ids.join(', ')}` : 'none is in progress'})`);
  }
  const id = wanted ?? onlyOne(deployed, ids);
  if (id !== undefined) return { deployment: (await getDeployment(clients, id)).view };
  if (!last) return {};
  const attempted = await lastAttempted(clients, deployed);
  return attempted?.deploymentId ? { last: { id: attempted.deploymentId, status: attempted.status ?? 'unknown', createTime: attempted.createTime, endTime: attempted.endTime } } : {};
}

/** The IDs of the group's deployments in progress: every status that is not final, every page (register CD-19). */
export async function inProgressIds(clients: OperateClients, deployed: Deployed): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 20; page++) {
    const listed = await call(clients, 'CodeDeploy ListDeployments', (o) => clients.codedeploy.send(new ListDeploymentsCommand({
      applicationName: deployed.application, deploymentGroupName: deployed.deploymentGroup, includeOnlyStatuses: IN_PROGRESS, nextToken,
    }), o));
    ids.push(...(listed.deployments ?? []));
    nextToken = listed.nextToken;
    if (!nextToken) break;
  }
  return ids;
}

/** The one deployment in progress, or none; several are named, not guessed between (CD-18). */
export function onlyOne(deployed: Deployed, ids: readonly string[]): string | undefined {
  if (ids.length > 1) throw new CliInputError(`${deployed.key}: ${ids.length} deployments are in progress (${ids.join(', ')}), where CodeDeploy allows one per deployment group; give --deployment ID`);
  return ids[0];
}

/** `--deployment`'s deployment, which must exist and be of this alias's deployment group. */
export async function wantedDeployment(clients: OperateClients, deployed: Deployed, wanted: string): Promise<Awaited<ReturnType<typeof getDeployment>>> {
  let found: Awaited<ReturnType<typeof getDeployment>>;
  try {
    found = await getDeployment(clients, wanted, ['DeploymentDoesNotExistException', 'InvalidDeploymentIdException']);
  } catch (error) {
    throw new CliInputError(`--deployment ${wanted}: no such deployment (${(error as Error).message})`);
  }
  if (found.application !== deployed.application || found.group !== deployed.deploymentGroup) {
    throw new CliInputError(`--deployment ${wanted}: that deployment is ${found.view.status} of ${found.application}/${found.group}, not of this alias's deployment group ${deployed.key}`);
  }
  return found;
}

/** The group's last attempted deployment, as GetDeploymentGroup has it. */
export async function lastAttempted(clients: OperateClients, deployed: Deployed) {
  const group = await call(clients, 'CodeDeploy GetDeploymentGroup', (o) => clients.codedeploy.send(new GetDeploymentGroupCommand({
    applicationName: deployed.application, deploymentGroupName: deployed.deploymentGroup,
  }), o));
  return group.deploymentGroupInfo?.lastAttemptedDeployment;
}

/** The staged execution of a deployment: the starter names it after the deployment (lambdas/staged/starter.ts). */
export const executionArnOf = (machineArn: string, deploymentId: string) => `${machineArn.replace(':stateMachine:', ':execution:')}:${deploymentId}`;

/** An execution as the commands show it. */
export interface ExecutionView {
  readonly arn: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED, PENDING_REDRIVE. */
  readonly status: string;
  readonly input?: Partial<StagedStartInput>;
  readonly startDate?: Date;
  readonly stopDate?: Date;
}

/** The execution, or undefined when it does not exist (the deployment's hook has not started it yet). */
export async function describeExecution(clients: OperateClients, arn: string): Promise<ExecutionView | undefined> {
  try {
    const answer = await call(clients, 'Step Functions DescribeExecution', (o) => clients.sfn.send(new DescribeExecutionCommand({ executionArn: arn }), o), ['ExecutionDoesNotExist']);
    let input: Partial<StagedStartInput> | undefined;
    try {
      input = answer.input ? JSON.parse(answer.input) : undefined;
    } catch {
      input = undefined;
    }
    return { arn, status: answer.status ?? 'unknown', input, startDate: answer.startDate, stopDate: answer.stopDate };
  } catch (error) {
    if (errorName(error) === 'ExecutionDoesNotExist') return undefined;
    throw error;
  }
}

/** What the CLI reads of the gate function's output (lambdas/staged/gate.ts GateOutput), kept by the machine at `$.gate`. */
export interface GateRead {
  readonly next?: string;
  readonly decision?: string;
  readonly reasons?: string[];
  readonly gates?: Check[];
  readonly weight?: number;
  readonly progress?: Partial<StagedProgress>;
  readonly operator?: OperatorAudit;
}

/** One gate output of the history and when the Gate state exited; `gate` undefined: its output was absent or truncated (not parsed). */
export interface GateEvent {
  readonly at: Date;
  readonly gate?: GateRead;
}

/** The history read back to a point: the gate outputs (newest first) and the execution's end, if it ended. */
export interface HistoryRead {
  readonly gates: GateEvent[];
  readonly ended?: { readonly status: string; readonly at: Date; readonly cause?: string };
}

const ENDINGS: Record<string, string> = { ExecutionSucceeded: 'SUCCEEDED', ExecutionFailed: 'FAILED', ExecutionAborted: 'ABORTED', ExecutionTimedOut: 'TIMED_OUT' };
/** The history's pages read at the most (of 100 events each). */
export const HISTORY_PAGES = 5;

/** The gate output of a Gate state's exit (`{ gate: undefined }` when it is not readable); undefined for any other event. */
function gateOf(event: HistoryEvent): { gate?: GateRead } | undefined {
  const details = event.stateExitedEventDetails;
  if (event.type !== 'TaskStateExited' || details?.name !== 'Gate') return undefined;
  // An absent or truncated output is unknown, never parsed in part (register SFN-14).
  if (!details.output || details.outputDetails?.truncated === true) return {};
  try {
    const gate = (JSON.parse(details.output) as { gate?: GateRead }).gate;
    return gate && typeof gate === 'object' ? { gate } : {};
  } catch {
    return {};
  }
}

/**
 * Reads the history newest first: with `since`, every gate output from then on; without, up to the latest gate
 * output. Bounded to HISTORY_PAGES pages.
 */
export async function readHistory(clients: OperateClients, arn: string, since?: Date): Promise<HistoryRead> {
  const gates: GateEvent[] = [];
  let ended: HistoryRead['ended'];
  let nextToken: string | undefined;
  for (let page = 0; page < HISTORY_PAGES; page++) {
    const answer = await call(clients, 'Step Functions GetExecutionHistory', (o) => clients.sfn.send(new GetExecutionHistoryCommand({
      executionArn: arn, reverseOrder: true, maxResults: 100, includeExecutionData: true, nextToken,
    }), o));
    for (const event of answer.events ?? []) {
      const at = event.timestamp ?? new Date(0);
      if (since !== undefined && at.getTime() < since.getTime()) return { gates, ended };
      if (ENDINGS[event.type ?? ''] && !ended) {
        const failed = event.executionFailedEventDetails ?? event.executionAbortedEventDetails ?? event.executionTimedOutEventDetails;
        ended = { status: ENDINGS[event.type!], at, cause: failed?.cause ?? failed?.error };
      }
      const exit = gateOf(event);
      if (exit) {
        gates.push({ at, ...exit });
        if (since === undefined) return { gates, ended };
      }
    }
    nextToken = answer.nextToken;
    if (!nextToken) break;
  }
  return { gates, ended };
}

/** The latest command of the operator item (strongly consistent), for any deployment; `problem` for a malformed item. */
export async function readOperatorItem(clients: OperateClients, deployed: Deployed): Promise<{ command?: OperatorCommand; problem?: string }> {
  if (!deployed.table) return {};
  const answer = await call(clients, `DynamoDB GetItem (${deployed.table})`, (o) => clients.dynamodb.send(new GetItemCommand({
    TableName: deployed.table, Key: { [OPERATOR_TABLE_KEY]: { S: deployed.key } }, ConsistentRead: true,
  }), o));
  return operatorCommandOf(answer.Item);
}

/**
 * The alarms' states by name (`not found` for an alarm CloudWatch does not know, or a composite one not asked for).
 * Composite alarms are asked for only when the template has one: CloudWatch returns them only to a caller whose
 * cloudwatch:DescribeAlarms is granted on `*` (its API reference).
 */
export async function alarmStates(clients: OperateClients, names: readonly string[], composite = false): Promise<Array<{ name: string; state: string }>> {
  if (names.length === 0) return [];
  const states = new Map<string, string>();
  for (let i = 0; i < names.length; i += 100) {
    const answer = await call(clients, 'CloudWatch DescribeAlarms', (o) => clients.cloudwatch.send(new DescribeAlarmsCommand({
      AlarmNames: names.slice(i, i + 100), AlarmTypes: composite ? ['MetricAlarm', 'CompositeAlarm'] : ['MetricAlarm'], MaxRecords: 100,
    }), o));
    for (const alarm of [...(answer.MetricAlarms ?? []), ...(answer.CompositeAlarms ?? [])]) if (alarm.AlarmName) states.set(alarm.AlarmName, alarm.StateValue ?? 'unknown');
  }
  return names.map((name) => ({ name, state: states.get(name) ?? 'not found' }));
}
