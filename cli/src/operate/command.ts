// `pause`, `resume`, `promote` and `abort`: one command for the staged rollout in progress, written to the alias's
// operator item (packages/runtime/src/contract/operator.ts) with a conditional put, so that giving the same command
// twice at the same step is a no-op. The gate function reads the item at its next invocation and acts on it;
// `--wait` polls the execution's history until a gate output names this command, or the rollout ends.
import { randomUUID } from 'crypto';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { OPERATOR_ATTRIBUTES, OPERATOR_TABLE_KEY, OperatorCommand, OperatorCommandName, operatorItem } from '../../../packages/runtime/src/contract/operator';
import { CliInputError } from '../errors';
import { call, OperateClients } from './aws';
import type { OperateOptions } from './args';
import { Deployed, deployedResources, describeExecution, executionArnOf, ExecutionView, GateEvent, liveDeployment, readHistory, readOperatorItem } from './rollout';
import { commandPhrase, OperateIo } from './status';
import { OperateTarget } from './target';

/** Seconds between two reads of the history while `--wait` waits. */
export const WAIT_POLL_SECONDS = 2;
/** How far before the put `--wait` reads the history back, for a clock that is not CloudFormation's. */
const CLOCK_SKEW_MS = 60_000;

/** The audit line of a command: who, what, for which deployment and execution, its id. */
export function auditLine(c: OperatorCommand, target: OperateTarget, executionArn: string, what = 'gave'): string {
  return `audit: ${c.requestedBy} ${what} ${c.command} to ${target.alias.path} at ${c.step} % (deployment ${c.deploymentId}, execution ${executionArn}): `
    + `command ${c.commandId} at ${c.requestedAt}${c.reason ? `, reason "${c.reason}"` : ''}`;
}

/** The conditional put: written unless the item already holds this command, for this deployment, at this step. */
async function put(clients: OperateClients, deployed: Deployed, command: OperatorCommand): Promise<boolean> {
  try {
    await call(clients, `DynamoDB PutItem (${deployed.table})`, (o) => clients.dynamodb.send(new PutItemCommand({
      TableName: deployed.table,
      Item: operatorItem(deployed.key, command),
      ConditionExpression: 'attribute_not_exists(#pk) OR #d <> :d OR #c <> :c OR #s <> :s',
      ExpressionAttributeNames: { '#pk': OPERATOR_TABLE_KEY, '#d': OPERATOR_ATTRIBUTES.deploymentId, '#c': OPERATOR_ATTRIBUTES.command, '#s': OPERATOR_ATTRIBUTES.step },
      ExpressionAttributeValues: { ':d': { S: command.deploymentId }, ':c': { S: command.command }, ':s': { N: String(command.step) } },
    }), o), ['ConditionalCheckFailedException']);
    return true;
  } catch {
    return false; // only ConditionalCheckFailedException gets here
  }
}

/** What the gate did with the command, as said after the put or the wait; the exit code. */
function applied(event: GateEvent, command: OperatorCommand, ended: string | undefined, io: OperateIo): number {
  const audit = event.gate!.operator!;
  io.print(`applied: the gate's decision at ${event.at.toISOString()}: ${audit.effect} (${audit.reason})`);
  if (audit.waitDeadline !== undefined) io.print(`  the wait rolls back at ${new Date(audit.waitDeadline).toISOString()} unless resumed, promoted or aborted`);
  if (ended) io.print(`the rollout ended ${ended}, by this ${command.command}`);
  if (audit.effect === 'overruled') {
    io.print(`the ${command.command} was overruled: the gates decided otherwise at the same invocation`);
    return 1;
  }
  return 0;
}

/** The gate output that applied `commandId`, among those read. */
const ours = (gates: readonly GateEvent[], commandId: string) => gates.find((g) => g.gate?.operator?.command?.commandId === commandId);

/** Polls the history until the gate applies the command, the rollout ends, or `--timeout` passes. */
async function waitFor(clients: OperateClients, arn: string, command: OperatorCommand, putAt: number, options: OperateOptions, io: OperateIo): Promise<number> {
  io.print(`waiting up to ${options.timeout} s for the gate to apply command ${command.commandId}…`);
  const until = putAt + options.timeout * 1000;
  for (;;) {
    const history = await readHistory(clients, arn, new Date(putAt - CLOCK_SKEW_MS));
    const found = ours(history.gates, command.commandId);
    if (found) return applied(found, command, history.ended?.status, io);
    if (history.ended) {
      io.print(`the rollout ended ${history.ended.status}${history.ended.cause ? ` (${history.ended.cause})` : ''} before the gate applied the ${command.command}: it took no effect`);
      return 1;
    }
    if (io.now() >= until) {
      io.print(`not applied within ${options.timeout} s: the command stays given, and the gate acts on it at its next read of the item (status shows when)`);
      return 1;
    }
    await io.sleep(Math.min(WAIT_POLL_SECONDS * 1000, Math.max(0, until - io.now())));
  }
}

/** The execution a command is for: the deployment in progress must have a RUNNING staged execution. */
async function runningExecution(clients: OperateClients, target: OperateTarget, deployed: Deployed, options: OperateOptions, io: OperateIo): Promise<{ deploymentId: string; execution: ExecutionView } | number> {
  const { deployment } = await liveDeployment(clients, deployed, options.deployment, false);
  if (!deployment) {
    io.print(`${target.alias.path}: no rollout is in progress on deployment group ${deployed.key}: nothing to ${options.command}`);
    return 1;
  }
  const arn = executionArnOf(deployed.machineArn!, deployment.id);
  const execution = await describeExecution(clients, arn);
  if (!execution) {
    io.print(`${target.alias.path}: deployment ${deployment.id} is ${deployment.status}, but it has no staged execution (${arn}): not started yet (the BeforeAllowTraffic hook starts it), or a deployment the starter does not gate (a rollback, or nothing to shift); nothing to ${options.command}`);
    return 1;
  }
  if (execution.status !== 'RUNNING') {
    io.print(`${target.alias.path}: the rollout has ended (${execution.status}): execution ${arn} of deployment ${deployment.id}; nothing to ${options.command}`);
    return 1;
  }
  return { deploymentId: deployment.id, execution };
}

/** Runs pause, resume, promote or abort; returns the exit code. */
export async function operate(clients: OperateClients, target: OperateTarget, options: OperateOptions, io: OperateIo): Promise<number> {
  const name = options.command as OperatorCommandName;
  const deployed = await deployedResources(clients, target);
  if (!deployed.table || !deployed.machineArn) {
    throw new CliInputError(`${name} ${target.alias.path}: the alias's staged configuration in ${options.app} has no operator table (synthesized by a version of the library before the operator commands); deploy it with this version first`);
  }
  const running = await runningExecution(clients, target, deployed, options, io);
  if (typeof running === 'number') return running;
  const { deploymentId, execution } = running;
  const [history, identity] = await Promise.all([
    readHistory(clients, execution.arn),
    call(clients, 'STS GetCallerIdentity', (o) => clients.sts.send(new GetCallerIdentityCommand({}), o)),
  ]);
  const putAt = io.now();
  const command: OperatorCommand = {
    deploymentId, command: name, step: history.gates[0]?.gate?.weight ?? 0, commandId: randomUUID(),
    requestedBy: identity.Arn ?? 'unknown', requestedAt: new Date(putAt).toISOString(), ...(options.reason ? { reason: options.reason } : {}),
  };
  if (!(await put(clients, deployed, command))) {
    // Refused by the condition: what the item holds is read back, not assumed (register DDB-8).
    const held = await readOperatorItem(clients, deployed);
    const given = held.command;
    if (given && given.deploymentId === deploymentId && given.command === name && given.step === command.step) {
      io.print(`already given: ${commandPhrase(given)}, for deployment ${deploymentId} at ${given.step} %; not written again`);
      io.print(auditLine(given, target, execution.arn));
      return 0;
    }
    io.print(`not written: the put's condition refused it, and the item holds ${given ? commandPhrase(given) : held.problem ?? 'nothing'}`);
    return 1;
  }
  io.print(auditLine(command, target, execution.arn));
  const after = await describeExecution(clients, execution.arn);
  if (after?.status !== 'RUNNING') {
    const since = await readHistory(clients, execution.arn, new Date(putAt - CLOCK_SKEW_MS));
    const found = ours(since.gates, command.commandId);
    if (found) return applied(found, command, after?.status, io);
    io.print(`the rollout ended (${after?.status ?? 'execution not found'}) while the ${name} was being given: it took no effect (the item is for deployment ${deploymentId} only, and is never acted on again)`);
    return 1;
  }
  if (!options.wait) {
    const staged = target.alias.strategy === 'staged' ? target.alias.config.schedule : undefined;
    io.print(`given: the gate acts on it at its next invocation (each bake slice and check${staged ? `, every ${staged.recheckSeconds} s at most` : ''}); status shows when it is applied, or give --wait`);
    return 0;
  }
  return waitFor(clients, execution.arn, command, putAt, options, io);
}
