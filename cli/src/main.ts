#!/usr/bin/env node
// cdk-rollout-guardrails: the command line. `rehearse` reads the user's cloud assembly (plain JSON, no aws-cdk-lib),
// finds every guarded alias, and replays each scenario on it in simulated time with the library's real decision code;
// nothing calls AWS. The live commands (`status`, `pause`, `resume`, `promote`, `abort`: cli/src/operate/) read the
// same assembly to find an alias, then operate its rollout in progress with the caller's AWS credentials.
import { readAssembly } from './assembly';
import { GuardedAliasInfo } from './discover';
import { byStrategy, selectAliases } from './select';
import { rehearseShape, shapeApplies } from './codedeploy';
import { CliInputError } from './errors';
import { OPERATE_COMMANDS, OperateCommandName } from './operate/args';
import { parseRehearse, RehearseOptions, USAGE } from './options';
import { describeAlias, formatEntry, honestyNotes, summaryTable } from './render';
import { rehearseBlueGreen } from './blue-green';
import { checkReportPath, writeReport } from './report';
import { ScenarioResult } from './result';
import { selectScenarios } from './scenarios';
import { rehearseStaged } from './staged';

/**
 * The notifications of a run with CodeDeploy's deployment state changes around the machinery's decisions, when a rule
 * forwards them to a topic (they come best-effort: register EB-3).
 */
function withDeploymentEvents(alias: GuardedAliasInfo, ran: Pick<ScenarioResult, 'notifications' | 'outcome'>): string[] {
  const states = alias.deploymentEvents?.states ?? [];
  const end = ran.outcome === 'promote' ? 'SUCCESS' : 'FAILURE';
  return [...(states.includes('START') ? ['deployment START'] : []), ...ran.notifications, ...(states.includes(end) ? [`deployment ${end}`] : [])];
}

/** Runs `rehearse`; returns the exit code (0: every scenario as expected, 1: not). */
export async function rehearse(options: RehearseOptions, print: (line: string) => void = (l) => console.log(l)): Promise<{ code: number; results: ScenarioResult[] }> {
  if (options.report !== undefined) checkReportPath(options.report);
  const scenarios = selectScenarios(options.scenarios);
  const unknown = Object.keys(options.expect).filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length > 0) throw new CliInputError(`--expect names scenario(s) not being rehearsed: ${unknown.join(', ')} (rehearsing: ${scenarios.map((s) => s.name).join(', ')})`);
  const { rehearsed, skipped } = selectAliases(readAssembly(options.app), options);
  for (const alias of skipped) print(`not rehearsed: ${alias.path}: its deployment configuration ${alias.deploymentConfigName} is not one the CLI can read`);
  const results: ScenarioResult[] = [];
  const applies = (alias: (typeof rehearsed)[number], scenario: (typeof scenarios)[number]) => (!scenario.strategies || (scenario.strategies as readonly string[]).includes(alias.strategy))
    && byStrategy(alias, () => true, () => true, (a) => shapeApplies(a, scenario));
  const total = rehearsed.reduce((n, alias) => n + scenarios.filter((s) => applies(alias, s)).length, 0);
  for (const alias of rehearsed) {
    describeAlias(alias).forEach(print);
    print('');
    for (const scenario of scenarios) {
      if (!applies(alias, scenario)) {
        if (options.scenarios.includes(scenario.name)) print(`  ${scenario.name}: does not apply to this ${alias.strategy} alias${scenario.strategies ? ` (${scenario.strategies.join(', ')} only)` : ' (no hook whose read could hang)'}; skipped\n`);
        continue;
      }
      if (!options.quiet) print(`[${results.length + 1}/${total}] ${alias.path} · ${scenario.name}: ${scenario.description}`);
      const onEntry = options.quiet ? undefined : (entry: Parameters<typeof formatEntry>[0]) => formatEntry(entry).forEach(print);
      const ran = await byStrategy(alias, (a) => rehearseStaged(a, scenario, onEntry), (a) => rehearseBlueGreen(a, scenario, onEntry), (a) => rehearseShape(a, scenario, onEntry));
      const result: ScenarioResult = { ...ran, notifications: withDeploymentEvents(alias, ran), expected: options.expect[scenario.name] ?? scenario.expect };
      results.push(result);
      if (!options.quiet) print(`  ⇒ ${result.ending}${result.outcome === result.expected ? '' : `, NOT the expected ${result.expected}`}\n`);
    }
  }
  print(summaryTable(results));
  print('* rests on an assumed figure (below).\n');
  honestyNotes(results).forEach(print);
  const failed = results.filter((r) => r.outcome !== r.expected);
  if (options.report !== undefined) {
    writeReport(options.report, results, options.app);
    print(`report written: ${options.report}`);
  }
  print(failed.length === 0 ? `\nevery scenario ended as expected (${results.length})` : `\n${failed.length} of ${results.length} scenario(s) did not end as expected: ${failed.map((r) => `${r.scenario.name} on ${r.alias.path}`).join(', ')}`);
  return { code: failed.length === 0 ? 0 : 1, results };
}

/** The command line's entry: exit 0 or 1 from `rehearse` or a live command, 2 for bad input, 3 for an AWS error (see USAGE). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    }
    if (OPERATE_COMMANDS.includes(command as OperateCommandName)) {
      if (args.includes('--help') || args.includes('-h')) {
        console.log(USAGE);
        return 0;
      }
      // Loaded on demand (a require the bundle keeps lazy): only the live commands evaluate the AWS SDK.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runOperate } = require('./operate') as typeof import('./operate');
      return await runOperate(command as OperateCommandName, args);
    }
    if (command !== 'rehearse') throw new CliInputError(`unknown command '${command}'\n\n${USAGE}`);
    return (await rehearse(parseRehearse(args))).code;
  } catch (error) {
    if (error instanceof CliInputError) {
      console.error(`cdk-rollout-guardrails: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (error) => {
    console.error(error);
    process.exitCode = 3;
  });
}
