// The live commands' entry (status, pause, resume, promote, abort): parses the arguments, finds the alias in the
// cloud assembly, runs the command against AWS with the caller's credentials, and turns an AWS error into exit 3.
// main.ts loads this module only for these commands, so that `rehearse` never evaluates the AWS SDK.
import { USAGE } from '../options';
import { OperateCommandName, parseOperate } from './args';
import { AwsCallError, CallBounds, makeClients, OperateClients } from './aws';
import { operate } from './command';
import { OperateIo, status } from './status';
import { stopRollout } from './stop';
import { resolveTarget } from './target';

/** What a test may replace: the clients (or only their bounds), the terminal and the clock. */
export interface OperateDeps {
  readonly clients?: OperateClients;
  readonly bounds?: CallBounds;
  readonly io?: Partial<OperateIo>;
}

/**
 * Runs a live command; returns its exit code: 0 done (or given already; a non-staged alias's deployment stopped
 * already), 1 the rollout has ended or is not there, or the command was not applied (--wait), 3 an AWS call failed. Bad input throws a CliInputError (main.ts: exit 2).
 */
export async function runOperate(command: OperateCommandName, args: readonly string[], deps: OperateDeps = {}): Promise<number> {
  const options = parseOperate(command, args, USAGE);
  // abort works for every strategy (a non-staged alias's through CodeDeploy's StopDeployment); pause, resume and promote are staged only.
  const target = resolveTarget(options.app, options.target, command !== 'status' && command !== 'abort', command);
  const io: OperateIo = {
    print: (line) => console.log(line),
    error: (line) => console.error(line),
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    ...deps.io,
  };
  const clients = deps.clients ?? makeClients(deps.bounds);
  try {
    if (command === 'status') return await status(clients, target, options, io);
    return target.alias.strategy === 'staged' ? await operate(clients, target, options, io) : await stopRollout(clients, target, options, io);
  } catch (error) {
    if (!(error instanceof AwsCallError)) throw error;
    io.error(`cdk-rollout-guardrails: ${error.message}`);
    return 3;
  } finally {
    if (!deps.clients) clients.destroy();
  }
}
