// Which guarded aliases a rehearsal runs on (`--stack`, `--alias`), and which it cannot rehearse.
import { AssemblyStack } from './assembly';
import { aliasMatches, GuardedAliasInfo, guardedAliases } from './discover';
import { CliInputError } from './errors';
import { ShapeAlias, trafficShape } from './codedeploy';

/** An alias the CLI can rehearse: staged, blue-green, or a CodeDeploy shape whose percentages it can read. */
export type Rehearsable = GuardedAliasInfo;
const rehearsable = (a: GuardedAliasInfo) => a.strategy === 'staged' || a.strategy === 'blue-green' || trafficShape(a) !== undefined;

/** The aliases to rehearse and those skipped (CodeDeploy's own shapes); errors name the option that found nothing. */
export function selectAliases(stacks: readonly AssemblyStack[], options: { stacks: readonly string[]; aliases: readonly string[]; app: string }): { rehearsed: Rehearsable[]; skipped: GuardedAliasInfo[] } {
  let chosen = [...stacks];
  if (options.stacks.length > 0) {
    chosen = stacks.filter((s) => options.stacks.includes(s.name) || options.stacks.includes(s.artifactId));
    const missing = options.stacks.filter((name) => !stacks.some((s) => s.name === name || s.artifactId === name));
    if (missing.length > 0) throw new CliInputError(`--stack ${missing.join(', ')}: no such stack in ${options.app} (stacks: ${stacks.map((s) => s.name).join(', ') || 'none'})`);
  }
  let aliases = chosen.flatMap(guardedAliases);
  if (aliases.length === 0) {
    throw new CliInputError(`${options.stacks.length > 0 ? `--stack ${options.stacks.join(', ')}` : `--app ${options.app}`}: no guarded alias found (an AWS::Lambda::Alias with a CodeDeployLambdaAliasUpdate update policy) in stack(s) ${chosen.map((s) => s.name).join(', ') || 'none'}`);
  }
  if (options.aliases.length > 0) {
    const missing = options.aliases.filter((wanted) => !aliases.some((a) => aliasMatches(a, wanted)));
    if (missing.length > 0) throw new CliInputError(`--alias ${missing.join(', ')}: no such guarded alias (found: ${aliases.map((a) => a.path).join(', ')})`);
    aliases = aliases.filter((a) => options.aliases.some((wanted) => aliasMatches(a, wanted)));
  }
  const rehearsed = aliases.filter(rehearsable);
  const skipped = aliases.filter((a) => !rehearsable(a));
  if (rehearsed.length === 0) {
    throw new CliInputError(`${options.aliases.length > 0 ? `--alias ${options.aliases.join(', ')}` : `--app ${options.app}`}: the guarded aliases found use deployment configurations the CLI cannot read (${skipped.map((a) => `${a.path}: ${a.deploymentConfigName}`).join(', ')})`);
  }
  return { rehearsed, skipped };
}

/** Calls the engine of the alias's strategy. */
export function byStrategy<T>(
  alias: Rehearsable,
  staged: (a: Extract<Rehearsable, { strategy: 'staged' }>) => T,
  blueGreen: (a: Extract<Rehearsable, { strategy: 'blue-green' }>) => T,
  shape: (a: ShapeAlias) => T,
): T {
  return alias.strategy === 'staged' ? staged(alias) : alias.strategy === 'blue-green' ? blueGreen(alias) : shape(alias);
}
