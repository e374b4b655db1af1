// An operator's commands to a live staged rollout (the CLI's pause, resume, promote and abort; the contract's
// operator.ts says what each does) and the schedule's approval steps, applied to the gate engine's plan.
// `readOperatorCommand` is the AWS edge: a strongly consistent GetItem of the alias's item (register DDB-9).
// `operatorStep` is pure.
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { OPERATOR_TABLE_KEY, OperatorAudit, OperatorCommand, operatorCommandOf, StagedExecutionInput, StagedNext, StagedProgress } from 'cdk-rollout-guardrails-runtime/contract';
import { Decision, weightBefore } from './gate-engine';

/** What the gate read of the alias's operator item. */
export interface OperatorRead {
  /** The latest command, when it is for this deployment. */
  readonly command?: OperatorCommand;
  /** Why the item could not be read (the read failed): not the same as no command (register DDB-9). */
  readonly unreadable?: string;
}

/** The alias's latest command, for this deployment only; none for no item (or a malformed one, logged); a failed read says so. */
export async function readOperatorCommand(client: DynamoDBClient, event: StagedExecutionInput, log: (line: string) => void): Promise<OperatorRead> {
  const config = event.config.operator;
  if (!config) return {};
  const { GetItemCommand } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  let item: Record<string, unknown> | undefined;
  try {
    const out = await client.send(new GetItemCommand({ TableName: config.tableName, Key: { [OPERATOR_TABLE_KEY]: { S: config.key } }, ConsistentRead: true }));
    item = out.Item as Record<string, unknown> | undefined;
  } catch (error) {
    const unreadable = `${(error as Error).name}: ${(error as Error).message}`;
    log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: the operator item could not be read; no shift until it can be', deploymentId: event.deployment.deploymentId, error: unreadable }));
    return { unreadable };
  }
  const { command, problem } = operatorCommandOf(item);
  if (problem) log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: the operator item was ignored', deploymentId: event.deployment.deploymentId, problem }));
  return command?.deploymentId === event.deployment.deploymentId ? { command } : {};
}

/** What the gate engine planned (and what the operator layer may turn it into). */
export interface Plan {
  readonly next: StagedNext;
  readonly decision: Decision;
  readonly reasons: string[];
  readonly progress: StagedProgress;
  readonly waitSeconds: number;
  readonly weight: number;
}

/** The plan after the operator's command, with the audit record and whether it is news (to notify). */
export interface OperatedPlan extends Plan {
  readonly audit?: OperatorAudit;
  readonly announce: boolean;
}

function who(command: OperatorCommand): string {
  return `${command.command} by ${command.requestedBy} at ${command.requestedAt} (command ${command.commandId}${command.reason ? `: ${command.reason}` : ''})`;
}

/**
 * Applies the alias's latest command (`read.command`, already known to be for this deployment) and the approval steps
 * to the engine's plan (an item that could not be read, `read.unreadable`, holds the shift as a pause would):
 * - a rollback the gates decided stands; a new promote or pause at the same invocation is recorded as overruled;
 * - abort rolls back; promote succeeds at the current weight (the remaining steps skipped);
 * - pause, or an approval step not yet released by a resume given at that weight, turns a shift or a success
 *   into a wait of `recheckSeconds` at the current weight (the gate judges again after it; the probe's result
 *   stands), for as long as the rest of the schedule still fits before the deadline; then it rolls back.
 * Bakes, probes and holds go on unchanged whatever the command.
 * `secondsToFinish`: what the rest of the schedule needs from the current check (gate.ts `secondsToFinish`).
 */
export function operatorStep(event: StagedExecutionInput & { readonly progress: StagedProgress }, read: OperatorRead, plan: Plan, now: number, secondsToFinish: number): OperatedPlan {
  const { schedule } = event.config;
  const { command, unreadable } = read;
  const current = weightBefore(schedule.steps, event.progress.stepIndex);
  const fresh = command !== undefined && command.commandId !== event.progress.operatorCommandId;
  const seen = (progress: StagedProgress): StagedProgress => (command ? { ...progress, operatorCommandId: command.commandId } : progress);

  if (plan.next === 'rollback') {
    if (!command || !fresh) return { ...plan, announce: false };
    const overruled = command.command === 'promote' || command.command === 'pause';
    return {
      ...plan,
      progress: seen(plan.progress),
      audit: {
        command,
        effect: overruled ? 'overruled' : command.command === 'abort' ? 'aborted' : 'resumed',
        reason: overruled ? `${who(command)} not carried out: the gates decided a rollback at the same check` : `${who(command)}; the gates rolled back at the same check`,
      },
      announce: true,
    };
  }
  if (command?.command === 'abort') {
    const reason = `aborted: ${who(command)}`;
    return { next: 'rollback', decision: 'rollback', reasons: [reason], progress: seen(plan.progress), waitSeconds: 0, weight: 0, audit: { command, effect: 'aborted', reason }, announce: true };
  }
  if (command?.command === 'promote') {
    const reason = `promoted at ${current} %: ${who(command)}; the remaining steps are skipped and CodeDeploy shifts the rest`;
    return { next: 'succeed', decision: 'advance', reasons: [reason], progress: seen(plan.progress), waitSeconds: 0, weight: current, audit: { command, effect: 'promoted', reason }, announce: true };
  }

  const moving = plan.next === 'shift' || plan.next === 'succeed';
  // An item that could not be read might hold a pause: the shift waits as for one (DDB-9).
  const paused = command?.command === 'pause' || unreadable !== undefined;
  const approvalStep = event.progress.phase === 'check' && (schedule.approvalSteps ?? []).includes(current);
  const approved = command?.command === 'resume' && command.step === current;
  if (moving && (paused || (approvalStep && !approved))) {
    const waitDeadline = event.deadline - secondsToFinish * 1000;
    const what = unreadable !== undefined ? `held at ${current} %: the operator item could not be read (${unreadable})`
      : paused ? `paused at ${current} % (${who(command!)})` : `waiting at ${current} % for an operator's approval (resume or promote)`;
    const effect = unreadable !== undefined ? 'unreadable' : paused ? 'paused' : 'awaiting-approval';
    if (now + schedule.recheckSeconds * 1000 > waitDeadline) {
      const reason = `${what} until the rest of the schedule (${secondsToFinish} s) no longer fits before CodeDeploy's hook limit: rolled back`;
      return { next: 'rollback', decision: 'rollback', reasons: [reason], progress: seen(plan.progress), waitSeconds: 0, weight: 0, audit: { command, effect, waitDeadline, reason }, announce: true };
    }
    const reason = `${what}; the gates passed and the shift waits; it rolls back if still waiting at ${new Date(waitDeadline).toISOString()}`;
    const firstWait = unreadable !== undefined ? false : paused ? fresh : event.progress.approvalAt !== current;
    return {
      next: 'bake',
      decision: 'hold',
      reasons: [reason, ...plan.reasons],
      // The check is made again after the wait, at the same step, with the same probe result.
      progress: { ...seen(event.progress), ...(approvalStep && !paused ? { approvalAt: current } : {}) },
      waitSeconds: schedule.recheckSeconds,
      weight: current,
      audit: { ...(command ? { command } : {}), effect, waitDeadline, reason },
      announce: firstWait,
    };
  }
  if (!command) return { ...plan, announce: false };
  const effect = approvalStep && approved && moving ? 'approved' : paused ? 'paused' : 'resumed';
  const reason = effect === 'approved' ? `approved at ${current} %: ${who(command)}`
    : effect === 'paused' ? `paused: ${who(command)}; the bake and the gates go on, the next shift waits`
      : `resumed: ${who(command)}`;
  return { ...plan, progress: seen(plan.progress), audit: { command, effect, reason }, announce: fresh || effect === 'approved' };
}
