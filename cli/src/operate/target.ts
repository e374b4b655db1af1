// Which alias a live command is for (`<stack>/<alias>`), and what of it the cloud assembly tells: the deployed
// stack's name, the logical IDs of the alias's CodeDeploy application and deployment group, of its state machine and
// of its operator table, and its alarms. The physical names are CloudFormation's to give (resources.ts).
import * as fs from 'fs';
import * as path from 'path';
import { AssemblyStack, readAssembly } from '../assembly';
import { aliasMatches, GuardedAliasInfo, guardedAliases } from '../discover';
import { CliInputError } from '../errors';
import { logicalIdOf, resolveString } from '../tokens';

/** The alias a live command is for, as the assembly has it. */
export interface OperateTarget {
  readonly alias: GuardedAliasInfo;
  /** The deployed CloudFormation stack's name (the manifest's `stackName`, else the artifact ID). */
  readonly stackName: string;
  /** The CodeDeploy application and deployment group: logical IDs, or names when the template names them. */
  readonly application: string;
  readonly deploymentGroup: string;
  /** The staged state machine's logical ID; absent for other strategies. */
  readonly machine?: string;
  /** The operator table's logical ID (or name); absent without one (a configuration from before the operator commands). */
  readonly operatorTable?: string;
  /** The alarms the rollout watches: the deployment group's and the staged gate's, logical IDs or names. */
  readonly alarms: string[];
}

/** The deployed stack's name: what `cdk deploy` names it (the manifest's stackName), else the artifact ID. */
export function deployedStackName(stack: AssemblyStack): string {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(stack.directory, 'manifest.json'), 'utf8')) as { artifacts?: Record<string, { properties?: { stackName?: unknown } }> };
    const name = manifest.artifacts?.[stack.artifactId]?.properties?.stackName;
    return typeof name === 'string' && name !== '' ? name : stack.artifactId;
  } catch {
    return stack.artifactId;
  }
}

/** The stack and the alias path a target names: the longest stack name (or artifact ID) it starts with. */
function splitTarget(stacks: readonly AssemblyStack[], target: string, app: string): { stack: AssemblyStack; aliasPath: string }[] {
  const trimmed = target.replace(/^\/+|\/+$/g, '');
  const found = stacks.flatMap((stack) => [stack.name, stack.artifactId]
    .filter((name, i, all) => all.indexOf(name) === i && (trimmed === name || trimmed.startsWith(`${name}/`)))
    .map((name) => ({ stack, aliasPath: trimmed.slice(name.length + 1), length: name.length })));
  if (found.length === 0) {
    throw new CliInputError(`${target}: no such stack in ${app} (stacks: ${stacks.map((s) => s.name).join(', ') || 'none'}); the target is <stack>/<alias path>`);
  }
  const longest = Math.max(...found.map((f) => f.length));
  return found.filter((f) => f.length === longest);
}

/**
 * Resolves `<stack>/<alias>`: the alias's construct path or a prefix of it, after the stack's name. Refuses a target
 * that names no guarded alias, or several (listing them); with `stagedOnly` (pause, resume, promote), an alias of another
 * strategy, saying why.
 */
export function resolveTarget(app: string, target: string, stagedOnly: boolean, command: string): OperateTarget {
  const stacks = readAssembly(app);
  const split = splitTarget(stacks, target, app);
  const aliases = split.flatMap(({ stack }) => guardedAliases(stack));
  const matching = split.flatMap(({ stack, aliasPath }) => guardedAliases(stack).filter((a) => aliasPath === '' || aliasMatches(a, aliasPath)));
  if (matching.length === 0) {
    throw new CliInputError(`${target}: no such guarded alias in stack ${split[0].stack.name} (found: ${aliases.map((a) => a.path).join(', ') || 'none'})`);
  }
  if (matching.length > 1) {
    throw new CliInputError(`${target} is ambiguous: it names ${matching.length} guarded aliases; give one of: ${matching.map((a) => a.path).join(', ')}`);
  }
  const alias = matching[0];
  if (stagedOnly && alias.strategy !== 'staged') {
    const why = alias.strategy === 'blue-green'
      ? 'ending or extending a blue-green hold early is not built, and CodeDeploy has no pause or promote for a Lambda deployment'
      : 'CodeDeploy has no pause, resume or promote for a Lambda deployment (its ContinueDeployment reroutes a blue/green deployment\'s instances, not a Lambda alias)';
    throw new CliInputError(`${command} ${alias.path}: this alias's strategy is ${alias.strategy}; ${command} operates staged rollouts only: ${why}. abort works (CodeDeploy StopDeployment with rollback), and status shows any guarded alias`);
  }
  const policy = (alias.stack.resources[alias.logicalId]?.UpdatePolicy?.CodeDeployLambdaAliasUpdate ?? {}) as Record<string, unknown>;
  const name = (value: unknown) => logicalIdOf(resolveString(value)) ?? '';
  const staged = alias.strategy === 'staged' ? alias : undefined;
  const tableRef = staged?.config.operator?.tableName;
  return {
    alias,
    stackName: deployedStackName(alias.stack),
    application: name(policy.ApplicationName),
    deploymentGroup: alias.deploymentGroup || name(policy.DeploymentGroupName),
    machine: staged?.machine.logicalId,
    operatorTable: tableRef === undefined ? undefined : logicalIdOf(tableRef),
    alarms: [...new Set([...alias.alarmNames, ...(staged?.config.alarmNames ?? [])])],
  };
}
