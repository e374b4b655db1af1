// The live commands' arguments: `status <stack>/<alias> [--app cdk.out] [--deployment ID] [--watch [--interval S]]`
// and `pause|resume|promote|abort <stack>/<alias> [--app cdk.out] [--deployment ID] [--reason TEXT] [--wait
// [--timeout S]]`. Every refusal names the option or value.
import { OPERATOR_COMMANDS, OperatorCommandName } from '../../../packages/runtime/src/contract/operator';
import { CliInputError } from '../errors';

export type OperateCommandName = 'status' | OperatorCommandName;
export const OPERATE_COMMANDS: readonly OperateCommandName[] = ['status', ...OPERATOR_COMMANDS];

/** The parsed options of a live command. */
export interface OperateOptions {
  readonly command: OperateCommandName;
  /** `<stack>/<alias>`. */
  readonly target: string;
  readonly app: string;
  readonly deployment?: string;
  readonly reason?: string;
  /** status: re-render every `interval` seconds until the execution ends. */
  readonly watch: boolean;
  readonly interval: number;
  /** A command: wait up to `timeout` seconds until the gate applies it. */
  readonly wait: boolean;
  readonly timeout: number;
}

export const DEFAULT_INTERVAL_SECONDS = 15;
export const DEFAULT_TIMEOUT_SECONDS = 180;
/** The longest reason kept in the item and the audit. */
export const MAX_REASON_LENGTH = 500;

const VALUED = ['--app', '--deployment', '--reason', '--interval', '--timeout'] as const;
const ALLOWED: Record<'status' | 'command', readonly string[]> = {
  status: ['--app', '--deployment', '--watch', '--interval'],
  command: ['--app', '--deployment', '--reason', '--wait', '--timeout'],
};

function seconds(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw new CliInputError(`${flag} ${text}: must be a number of seconds from ${min} to ${max}`);
  return n;
}

/** Parses a live command's arguments (after the command word). */
export function parseOperate(command: OperateCommandName, args: readonly string[], usage: string): OperateOptions {
  const allowed = ALLOWED[command === 'status' ? 'status' : 'command'];
  const values: Record<string, string> = {};
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (!allowed.includes(flag)) {
      const elsewhere = (command === 'status' ? ALLOWED.command : ALLOWED.status).includes(flag);
      throw new CliInputError(`${command}: unknown option '${arg}'${elsewhere ? ` (${flag} is an option of ${command === 'status' ? 'pause, resume, promote and abort' : 'status'})` : ''}\n\n${usage}`);
    }
    if ((VALUED as readonly string[]).includes(flag)) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new CliInputError(`${flag} needs a value\n\n${usage}`);
      values[flag] = value;
    } else if (eq > 0) throw new CliInputError(`${flag} takes no value, got '${arg}'`);
    else flags.add(flag);
  }
  if (positional.length === 0) throw new CliInputError(`${command}: missing target <stack>/<alias> (the stack's name in the cloud assembly and the alias's construct path or a prefix of it)\n\n${usage}`);
  if (positional.length > 1) throw new CliInputError(`${command}: one target <stack>/<alias> expected, got ${positional.map((p) => `'${p}'`).join(', ')}`);
  if (values['--interval'] !== undefined && !flags.has('--watch')) throw new CliInputError('--interval needs --watch');
  if (values['--timeout'] !== undefined && !flags.has('--wait')) throw new CliInputError('--timeout needs --wait');
  const reason = values['--reason'];
  if (reason !== undefined && reason.length > MAX_REASON_LENGTH) throw new CliInputError(`--reason: at most ${MAX_REASON_LENGTH} characters, got ${reason.length}`);
  const deployment = values['--deployment'];
  if (deployment !== undefined && !/^d-[A-Za-z0-9]+$/.test(deployment)) throw new CliInputError(`--deployment ${deployment}: not a CodeDeploy deployment ID (d- and letters or digits, e.g. d-ABCDEF123)`);
  return {
    command,
    target: positional[0],
    app: values['--app'] ?? 'cdk.out',
    deployment,
    reason: reason === undefined || reason.trim() === '' ? undefined : reason.trim(),
    watch: flags.has('--watch'),
    interval: values['--interval'] === undefined ? DEFAULT_INTERVAL_SECONDS : seconds('--interval', values['--interval'], 1, 3600),
    wait: flags.has('--wait'),
    timeout: values['--timeout'] === undefined ? DEFAULT_TIMEOUT_SECONDS : seconds('--timeout', values['--timeout'], 1, 3600),
  };
}
