// `status <stack>/<alias>`: the live rollout of one guarded alias, in the rehearsal's look: the deployment and its
// staged execution, the current step and weight, each gate's latest measured value against its threshold, the
// decision and its reasons, the operator state (paused, awaiting approval, the last command applied, a command not
// yet read), the time left before the hook's hour ends, and the alarms' states. `--watch` re-renders every interval
// until the execution ends.
import { STAGED_REPORT_RESERVE_SECONDS } from '../../../packages/runtime/src/contract/staged';
import type { Check } from '../../../packages/runtime/src/contract/check';
import type { OperatorAudit, OperatorCommand } from '../../../packages/runtime/src/contract/operator';
import { clock } from '../render';
import { OperateClients } from './aws';
import type { OperateOptions } from './args';
import {
  alarmStates, Deployed, deployedResources, DeploymentView, describeExecution, executionArnOf, ExecutionView, getDeployment, HistoryRead, IN_PROGRESS, liveDeployment,
  readHistory, readOperatorItem,
} from './rollout';
import { OperateTarget } from './target';

/** What the terminal and the clock are, for the tests. */
export interface OperateIo {
  readonly print: (line: string) => void;
  /** The error line of an AWS failure (stderr). */
  readonly error: (line: string) => void;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** Everything `status` read. */
export interface StatusView {
  readonly target: OperateTarget;
  readonly deployed: Deployed;
  readonly deployment?: DeploymentView;
  readonly last?: DeploymentView;
  readonly execution?: ExecutionView;
  readonly history?: HistoryRead;
  readonly item?: { readonly command?: OperatorCommand; readonly problem?: string };
  readonly alarms: Array<{ name: string; state: string }>;
  readonly now: number;
}

/** Reads what `status` shows. */
export async function readStatus(clients: OperateClients, target: OperateTarget, deployed: Deployed, options: Pick<OperateOptions, 'deployment'>, now: () => number, known?: string): Promise<StatusView> {
  // A deployment seen already (--watch) is read again by its ID, in progress or not.
  const reading = known === undefined ? liveDeployment(clients, deployed, options.deployment, true) : getDeployment(clients, known).then((d) => ({ deployment: d.view, last: undefined }));
  const [{ deployment, last }, alarms] = await Promise.all([reading, alarmStates(clients, deployed.alarmNames, deployed.composite)]);
  let execution: ExecutionView | undefined;
  let history: HistoryRead | undefined;
  let item: StatusView['item'];
  if (deployment && deployed.machineArn) {
    const arn = executionArnOf(deployed.machineArn, deployment.id);
    [execution, item] = await Promise.all([describeExecution(clients, arn), readOperatorItem(clients, deployed)]);
    if (execution) history = await readHistory(clients, arn);
  }
  return { target, deployed, deployment, last, execution, history, item, alarms, now: now() };
}

const iso = (at: number | Date | undefined) => (at === undefined ? '?' : new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const inMinutes = (ms: number) => {
  const s = Math.round(Math.abs(ms) / 1000);
  return ms <= 0 ? `${Math.floor(s / 60)} min ${s % 60} s ago` : `in ${Math.floor(s / 60)} min ${s % 60} s`;
};
const bar = (weight: number) => `▕${'█'.repeat(Math.round(weight / 10))}${'░'.repeat(10 - Math.round(weight / 10))}▏`;
const shown = (v: Check['measured']) => (typeof v === 'number' ? String(Number(v.toFixed(4))) : String(v));

/** Each gate's latest measured value against its threshold. */
export function gateLines(gates: readonly Check[]): string[] {
  const width = Math.max(0, ...gates.map((g) => g.name.length));
  return gates.map((g) => `      ${g.passed === null ? '·' : g.passed ? '✓' : '✗'} ${g.name.padEnd(width)} ${shown(g.measured).padStart(10)} vs ${String(g.threshold ?? '-').padEnd(8)} ${g.passed === null ? `(not judged: ${g.reason})` : ''}`.trimEnd());
}

/** Who gave a command, when, its id and reason, in one phrase. */
export const commandPhrase = (c: OperatorCommand) => `${c.command} by ${c.requestedBy} at ${c.requestedAt} (command ${c.commandId}${c.reason ? `, "${c.reason}"` : ''})`;

/** The operator state: what the latest gate output did with a command or an approval step, and a command it has not read yet. */
export function operatorLines(audit: OperatorAudit | undefined, item: StatusView['item'], deploymentId: string, now: number): string[] {
  const lines: string[] = [];
  const wait = audit?.waitDeadline === undefined ? '' : `; the wait rolls back at ${iso(audit.waitDeadline)} (${inMinutes(audit.waitDeadline - now)}) unless resumed, promoted or aborted`;
  if (audit?.effect === 'paused') lines.push(`  operator: PAUSED: ${audit.command ? commandPhrase(audit.command) : 'by a command'}${wait}`);
  else if (audit?.effect === 'awaiting-approval') lines.push(`  operator: AWAITING APPROVAL: give resume (or promote) to shift on${wait}`);
  else if (audit?.effect === 'unreadable') lines.push(`  operator: HELD: the gate could not read the operator item, and the shift waits until it can${wait}`);
  else if (audit) lines.push(`  operator: last command applied: ${audit.effect}${audit.command ? `, ${commandPhrase(audit.command)}` : ''}`);
  else lines.push('  operator: no command applied');
  if (audit?.reason) lines.push(`    ${audit.reason}`);
  const pending = item?.command;
  if (pending && pending.deploymentId === deploymentId && pending.commandId !== audit?.command?.commandId) {
    lines.push(`  not yet read by the gate: ${commandPhrase(pending)} (the gate reads it at each bake slice and check)`);
  }
  if (item?.problem) lines.push(`  the operator item is not one the gate acts on: ${item.problem}`);
  return lines;
}

/** The view as printed. */
export function renderStatus(view: StatusView): string[] {
  const { target, deployed, deployment, execution, now } = view;
  const lines = [`${target.alias.path} (stack ${target.stackName}): ${target.alias.strategy}, deployment group ${deployed.key}`];
  if (target.alias.strategy === 'staged') {
    const { steps, bakeSeconds, recheckSeconds, approvalSteps } = target.alias.config.schedule;
    lines.push(`  schedule: steps ${steps.join(' → ')} %, bake ${bakeSeconds} s, recheck ${recheckSeconds} s${approvalSteps?.length ? `; waits for approval (resume or promote) at ${approvalSteps.join(', ')} %` : ''}`);
  }
  if (!deployment) {
    lines.push(`  no rollout in progress${view.last ? `; the last deployment, ${view.last.id}, is ${view.last.status}${view.last.endTime ? ` (ended ${iso(view.last.endTime)})` : ''}` : ''}`);
  } else {
    lines.push(`  deployment ${deployment.id}: ${deployment.status}, created ${iso(deployment.createTime)}${deployment.creator ? ` by ${deployment.creator}` : ''}${deployment.error ? `; ${deployment.error}` : ''}`);
    if (target.alias.strategy !== 'staged') lines.push(`  (a ${target.alias.strategy} alias: CodeDeploy's deployment and the alarms are shown; steps, gates and operator commands are the staged strategy's)`);
    else if (!execution) lines.push(`  no staged execution ${executionArnOf(deployed.machineArn ?? '?', deployment.id)}: not started yet (the BeforeAllowTraffic hook starts it), or a deployment the starter does not gate`);
    else lines.push(...executionLines(view, execution, deployment.id, now));
  }
  lines.push(`  alarms: ${view.alarms.length === 0 ? 'none' : view.alarms.map((a) => `${a.name} ${a.state}`).join(', ')}`);
  return lines;
}

function executionLines(view: StatusView, execution: ExecutionView, deploymentId: string, now: number): string[] {
  const started = execution.startDate?.getTime() ?? now;
  const lines = [`  execution ${execution.arn}: ${execution.status}, started ${iso(started)}${execution.stopDate ? `, ended ${iso(execution.stopDate)}` : ''}`];
  const latest = view.history?.gates[0];
  const steps = view.target.alias.strategy === 'staged' ? view.target.alias.config.schedule.steps : [];
  if (!latest) lines.push('  no gate decision yet (warm-up or the first probe run)');
  else if (!latest.gate) lines.push(`  t+${clock((latest.at.getTime() - started) / 1000)} the latest gate decision's output is unknown (absent or truncated in the history)`);
  else {
    const g = latest.gate;
    const index = g.progress?.stepIndex;
    const step = index === undefined || steps[index] === undefined ? '' : `step ${index + 1} of ${steps.length} (${steps[index]} %), ${g.progress?.phase ?? '?'} phase; `;
    lines.push(`  t+${clock((latest.at.getTime() - started) / 1000)} ${bar(g.weight ?? 0)} ${String(g.weight ?? 0).padStart(3)} %  ${step}${g.decision ?? '?'} → ${g.next ?? '?'} (at ${iso(latest.at)})`);
    lines.push(...gateLines(g.gates ?? []));
    for (const reason of g.reasons ?? []) lines.push(`    ${reason}`);
    lines.push(...operatorLines(g.operator, view.item, deploymentId, now));
  }
  if (!latest?.gate) lines.push(...operatorLines(undefined, view.item, deploymentId, now));
  const deadline = execution.input?.deadline;
  if (execution.status === 'RUNNING' && typeof deadline === 'number') {
    lines.push(`  deadline ${iso(deadline)}, ${inMinutes(deadline - now)}: the hook's hour less the ${STAGED_REPORT_RESERVE_SECONDS} s reserve to report; nothing holds or advances after it`);
  }
  if (view.history?.ended) lines.push(`  ended ${view.history.ended.status}${view.history.ended.cause ? `: ${view.history.ended.cause}` : ''}`);
  return lines;
}

/** Runs `status` (with `--watch`, until the execution ends); returns the exit code. */
export async function status(clients: OperateClients, target: OperateTarget, options: OperateOptions, io: OperateIo): Promise<number> {
  const deployed = await deployedResources(clients, target);
  let known: string | undefined;
  for (;;) {
    const view = await readStatus(clients, target, deployed, options, io.now, known);
    known = view.deployment?.id;
    if (options.watch) io.print(`— ${iso(view.now)} —`);
    renderStatus(view).forEach(io.print);
    const inProgress = view.deployment !== undefined && (IN_PROGRESS as string[]).includes(view.deployment.status);
    const running = view.execution ? view.execution.status === 'RUNNING' : inProgress;
    if (!options.watch || !running) return 0;
    io.print('');
    await io.sleep(options.interval * 1000);
  }
}
