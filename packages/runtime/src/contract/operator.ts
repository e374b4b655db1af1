/**
 * Operating a live staged rollout (the CLI's `pause`, `resume`, `promote` and `abort`): what the command line, the
 * constructs and the staged gate function share. Pure: no SDK, no aws-cdk-lib.
 *
 * Each stack with a staged rollout has one operator table. An alias's item (key: its configuration key,
 * `aliasConfigKey(application, deployment group)`) holds the latest command given for one CodeDeploy deployment.
 * The CLI writes it with a conditional put; the gate function reads it, strongly consistent, at every invocation (each
 * bake slice and each check) and acts only on a command for its own deployment. Nothing else writes the item, and a
 * command for an earlier deployment is never acted on: it needs no clearing.
 *
 * What each command does at the gate's next invocation:
 * - `pause`: no shift and no success while it is the latest command. The bake, the probes and the gates go on, and
 *   a breach still rolls back. A pause ends by `resume`, `promote` or `abort`, or when the rest of the schedule no
 *   longer fits before the hook's deadline: the rollout then rolls back (`pauseDeadline`).
 * - `resume`: ends a pause, and releases the approval step at its `step` (given ahead of time, it approves that
 *   step when the rollout gets there).
 * - `promote`: the remaining steps, bakes and probes are skipped, and the alias is handed to CodeDeploy's shift as at
 *   the end of the schedule. It does not overrule a rollback the gates decide at the same invocation.
 * - `abort`: routing back on the current version and Failed reported, as for a rollback.
 */

/** The operator table's partition key attribute (a string): the alias's configuration key. */
export const OPERATOR_TABLE_KEY = 'pk';

/** The item's attributes besides the key. */
export const OPERATOR_ATTRIBUTES = {
  /** The CodeDeploy deployment the command is for (S). */
  deploymentId: 'deployment_id',
  /** `pause`, `resume`, `promote` or `abort` (S). */
  command: 'command',
  /** The weight (percent) the rollout served when the command was given, as `status` showed it (N). */
  step: 'step',
  /** A unique id of this command (S): the audit line and the notification carry it. */
  commandId: 'command_id',
  /** Who gave it: the caller's ARN as STS reports it (S). */
  requestedBy: 'requested_by',
  /** When, as an ISO 8601 text (S). */
  requestedAt: 'requested_at',
  /** Why, in the operator's words; optional (S). */
  reason: 'reason',
} as const;

/**
 * The longest `reason` carried: the CLI refuses a longer one, and the gate cuts one it finds in the item (it is copied
 * into the gate's output, which Step Functions limits to 256 KiB, and into the notification: register SNS-1).
 */
export const OPERATOR_REASON_MAX = 500;

/** The commands an operator gives a live staged rollout. */
export const OPERATOR_COMMANDS = ['pause', 'resume', 'promote', 'abort'] as const;
export type OperatorCommandName = typeof OPERATOR_COMMANDS[number];

/** One command as the item holds it. */
export interface OperatorCommand {
  readonly deploymentId: string;
  readonly command: OperatorCommandName;
  readonly step: number;
  readonly commandId: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly reason?: string;
}

/** The operator part of a staged alias's configuration (`StagedAliasConfig.operator`), as the construct writes it. */
export interface StagedOperatorConfig {
  /** The stack's operator table. */
  readonly tableName: string;
  /** This alias's item key: its configuration key. */
  readonly key: string;
}

/** A DynamoDB attribute value of the two kinds the item uses. */
export type OperatorAttribute = { readonly S: string } | { readonly N: string };

/** The item of a command, in DynamoDB's attribute-value form, with its key. */
export function operatorItem(key: string, command: OperatorCommand): Record<string, OperatorAttribute> {
  return {
    [OPERATOR_TABLE_KEY]: { S: key },
    [OPERATOR_ATTRIBUTES.deploymentId]: { S: command.deploymentId },
    [OPERATOR_ATTRIBUTES.command]: { S: command.command },
    [OPERATOR_ATTRIBUTES.step]: { N: String(command.step) },
    [OPERATOR_ATTRIBUTES.commandId]: { S: command.commandId },
    [OPERATOR_ATTRIBUTES.requestedBy]: { S: command.requestedBy },
    [OPERATOR_ATTRIBUTES.requestedAt]: { S: command.requestedAt },
    ...(command.reason !== undefined && command.reason !== '' ? { [OPERATOR_ATTRIBUTES.reason]: { S: command.reason } } : {}),
  };
}

/**
 * The command an item holds, or undefined when there is none or the item is not one this contract wrote (a
 * malformed item is never acted on; `problem` says why, for the log).
 */
export function operatorCommandOf(item: Record<string, unknown> | undefined): { readonly command?: OperatorCommand; readonly problem?: string } {
  if (item === undefined) return {};
  const text = (name: string): string | undefined => {
    const value = item[name] as { S?: unknown } | undefined;
    return typeof value?.S === 'string' ? value.S : undefined;
  };
  const deploymentId = text(OPERATOR_ATTRIBUTES.deploymentId);
  const command = text(OPERATOR_ATTRIBUTES.command);
  const commandId = text(OPERATOR_ATTRIBUTES.commandId);
  const stepText = (item[OPERATOR_ATTRIBUTES.step] as { N?: unknown } | undefined)?.N;
  const step = typeof stepText === 'string' ? Number(stepText) : NaN;
  if (deploymentId === undefined || commandId === undefined) return { problem: 'the operator item has no deployment_id or command_id' };
  if (!OPERATOR_COMMANDS.includes(command as OperatorCommandName)) return { problem: `the operator item's command is ${JSON.stringify(command)}, not one of ${OPERATOR_COMMANDS.join(', ')}` };
  if (!Number.isFinite(step) || step < 0 || step > 100) return { problem: `the operator item's step is ${JSON.stringify(stepText)}, not a percent` };
  const reason = text(OPERATOR_ATTRIBUTES.reason);
  return {
    command: {
      deploymentId,
      command: command as OperatorCommandName,
      step,
      commandId,
      requestedBy: text(OPERATOR_ATTRIBUTES.requestedBy) ?? 'unknown',
      requestedAt: text(OPERATOR_ATTRIBUTES.requestedAt) ?? 'unknown',
      ...(reason !== undefined ? { reason: reason.length > OPERATOR_REASON_MAX ? `${reason.slice(0, OPERATOR_REASON_MAX)}…` : reason } : {}),
    },
  };
}

/** What the gate did with a command: the audit record in its output (`$.gate.operator`) and its notification. */
export type OperatorEffect = 'paused' | 'resumed' | 'promoted' | 'aborted' | 'awaiting-approval' | 'approved' | 'overruled'
  /** The item could not be read (register DDB-9): the shift waits, as for a pause, until it can be. */
  | 'unreadable';

/** The audit record of the gate's output and of the notification. */
export interface OperatorAudit {
  readonly command?: OperatorCommand;
  readonly effect: OperatorEffect;
  /** For a wait (pause or approval): epoch milliseconds after which the wait rolls back (the rest of the schedule no longer fits). */
  readonly waitDeadline?: number;
  readonly reason: string;
}
