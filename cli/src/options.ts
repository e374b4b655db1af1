// The command line: `cdk-rollout-guardrails rehearse [--app cdk.out] [--stack NAME] [--alias PATH]
// [--scenario NAME|FILE ...] [--expect name=promote|rollback,...] [--report out.html] [--quiet]`, and the usage of
// every command (the live commands' arguments: operate/args.ts).
import { CliInputError } from './errors';
import type { Expectation } from './scenarios';

/** The parsed options of `rehearse`. */
export interface RehearseOptions {
  readonly app: string;
  readonly stacks: string[];
  readonly aliases: string[];
  readonly scenarios: string[];
  readonly expect: Record<string, Expectation>;
  readonly report?: string;
  /** Only the summary and the notes, without each scenario's timeline. */
  readonly quiet: boolean;
}

export const USAGE = `usage: cdk-rollout-guardrails rehearse [--app cdk.out] [--stack NAME] [--alias PATH]
         [--scenario NAME|FILE.json ...] [--expect good=promote,error-spike=rollback] [--quiet]
         [--report out.html]

       cdk-rollout-guardrails status <stack>/<alias> [--app cdk.out] [--deployment ID] [--watch [--interval SECONDS]]
       cdk-rollout-guardrails pause|resume|promote|abort <stack>/<alias> [--app cdk.out] [--deployment ID]
         [--reason TEXT] [--wait [--timeout SECONDS]]

rehearse replays each guarded alias's rollout, as synthesized in the cloud assembly, offline and in simulated time,
with the library's real decision code; --report also writes it as one self-contained HTML page. Exit code 0: every
scenario ended as expected; 1: one did not; 2: bad input.

status shows the rollout in progress of one alias (<stack>: the stack's name in the assembly; <alias>: the alias's
construct path or a prefix of it): deployment, step and weight, each gate against its threshold, the decision, the
operator state, the time left and the alarms; --watch re-renders every --interval seconds (15) until it ends.
pause, resume, promote and abort give a staged rollout in progress a command, which its gate applies at its next
invocation (docs/guides/operate.md); --wait waits up to --timeout seconds (180) until it does. They call AWS with
your credentials and region (the SDK's default chain). Exit code 0: done, or the same command given already;
1: no rollout in progress, the rollout has ended, or the command was not applied (overruled, or not within
--timeout); 2: bad input; 3: an AWS call failed (its name, the error's name and message are printed).`;

function parseExpect(text: string, into: Record<string, Expectation>): void {
  for (const pair of text.split(',').filter((p) => p.trim() !== '')) {
    const [name, want, ...rest] = pair.split('=').map((s) => s.trim());
    if (!name || rest.length > 0 || (want !== 'promote' && want !== 'rollback')) {
      throw new CliInputError(`--expect ${text}: each entry must be <scenario>=promote or <scenario>=rollback, got '${pair}'`);
    }
    into[name] = want;
  }
}

/** Parses `rehearse`'s arguments (after the command word). */
export function parseRehearse(args: readonly string[]): RehearseOptions {
  let app = 'cdk.out';
  let report: string | undefined;
  let quiet = false;
  const stacks: string[] = [];
  const aliases: string[] = [];
  const scenarios: string[] = [];
  const expect: Record<string, Expectation> = {};
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].startsWith('--') && args[i].includes('=') ? [args[i].slice(0, args[i].indexOf('=')), args[i].slice(args[i].indexOf('=') + 1)] : [args[i], undefined];
    const takeValue = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new CliInputError(`${flag} needs a value\n\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--app': app = takeValue(); break;
      case '--stack': stacks.push(takeValue()); break;
      case '--alias': aliases.push(takeValue()); break;
      case '--scenario':
      case '--scenarios': {
        scenarios.push(...takeValue().split(',').filter(Boolean));
        // More names may follow without repeating the option: `--scenario good error-spike`.
        while (inline === undefined && i + 1 < args.length && !args[i + 1].startsWith('--')) scenarios.push(...args[++i].split(',').filter(Boolean));
        break;
      }
      case '--expect': parseExpect(takeValue(), expect); break;
      case '--report': report = takeValue(); break;
      case '--quiet': quiet = true; break;
      default: throw new CliInputError(`unknown option '${args[i]}'\n\n${USAGE}`);
    }
  }
  return { app, stacks, aliases, scenarios, expect, report, quiet };
}
