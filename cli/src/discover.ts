// Finds every guarded alias of a synthesized stack and everything its rollout runs with, as synthesized: the
// alias (an AWS::Lambda::Alias with CloudFormation's CodeDeployLambdaAliasUpdate policy), its deployment group and
// deployment configuration, the staged or blue-green configuration the machinery wrote into its state machine's
// definition, the ΔS probe's configuration and gold set (the probe function's code asset), the warm-up and the
// notifications topic. Nothing is declared again by hand.
import * as fs from 'fs';
import * as path from 'path';
import { GoldItem, parseGoldSet } from '../../packages/runtime/src/contract/gold-set';
import { gatesForAlias, PROBE_GATE_OVERRIDES_ENV, ProbeConfig } from '../../packages/runtime/src/contract/probe';
import { StagedAliasConfig } from '../../packages/runtime/src/contract/staged';
import { BlueGreenAliasConfig } from '../../packages/runtime/src/contract/blue-green';
import { AssemblyStack, assetDirectory, cdkPath } from './assembly';
import { MachineDefinition, readMachine } from './definition';
import { CliInputError } from './errors';
import { logicalIdOf, resolveString } from './tokens';

/** The probe as synthesized: its configuration and gold set, read from the probe function's code asset. */
export interface ProbeAsset {
  readonly logicalId: string;
  readonly config: ProbeConfig;
  readonly gold: GoldItem[];
}

interface Common {
  readonly stack: AssemblyStack;
  /** The AWS::Lambda::Alias resource's logical ID. */
  readonly logicalId: string;
  /** The alias's construct path without `/Resource` (e.g. `Stack/Answer/Alias`). */
  readonly path: string;
  readonly aliasName: string;
  readonly functionLogicalId: string;
  readonly deploymentGroup: string;
  readonly deploymentConfigName: string;
  readonly alarmNames: string[];
  readonly machine?: MachineDefinition;
  readonly probe?: ProbeAsset;
  /**
   * The EventBridge rule that sends CodeDeploy's deployment state changes of this group to an SNS topic (GuardedAlias
   * `notifications`), with the states it forwards; absent without one.
   */
  readonly deploymentEvents?: { readonly topic: string; readonly states: string[] };
}

/** A guarded alias and the rollout it would get. */
export type GuardedAliasInfo =
  | (Common & { readonly strategy: 'staged'; readonly config: StagedAliasConfig; readonly machine: MachineDefinition })
  | (Common & { readonly strategy: 'blue-green'; readonly config: BlueGreenAliasConfig; readonly machine: MachineDefinition })
  | (Common & { readonly strategy: 'canary' | 'linear' | 'all-at-once' | 'custom' });

/** The shape of CodeDeploy's own traffic shifting, by deployment configuration name (predefined or a custom config's). */
function shapeOf(stack: AssemblyStack, configName: string): 'canary' | 'linear' | 'all-at-once' | 'custom' {
  const custom = stack.resources[logicalIdOf(configName) ?? ''];
  const type = (custom?.Properties?.TrafficRoutingConfig as { Type?: string } | undefined)?.Type;
  if (type === 'TimeBasedCanary' || /Canary/.test(configName)) return 'canary';
  if (type === 'TimeBasedLinear' || /Linear/.test(configName)) return 'linear';
  if (type === 'AllAtOnce' || /AllAtOnce/.test(configName)) return 'all-at-once';
  return 'custom';
}

function readProbe(stack: AssemblyStack, arn: string | undefined, target: { functionLogicalId: string; aliasName: string }, required = true): ProbeAsset | undefined {
  const logicalId = logicalIdOf(arn);
  if (!logicalId) return undefined;
  const dir = assetDirectory(stack, logicalId);
  const configFile = dir && path.join(dir, 'probe-config.json');
  const goldFile = dir && path.join(dir, 'gold-set.jsonl');
  if (!dir || !fs.existsSync(configFile!) || !fs.existsSync(goldFile!)) {
    if (!required) return undefined;
    throw new CliInputError(`${stack.templateFile}: the probe function ${logicalId}'s code asset ${dir ?? '(not found)'} has no probe-config.json and gold-set.jsonl (was the assembly copied without its asset.* folders?)`);
  }
  try {
    const config = JSON.parse(fs.readFileSync(configFile!, 'utf8')) as ProbeConfig;
    // The alias's own gate overrides, from the probe function's environment, as the probe applies them.
    const env = (stack.resources[logicalId]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const overrides = env[PROBE_GATE_OVERRIDES_ENV] === undefined ? undefined : resolveString(env[PROBE_GATE_OVERRIDES_ENV]);
    const gates = gatesForAlias(config.gates, target.functionLogicalId, target.aliasName, overrides);
    return { logicalId, config: { ...config, gates }, gold: parseGoldSet(fs.readFileSync(goldFile!, 'utf8')) };
  } catch (error) {
    throw new CliInputError(`${dir}: the probe's configuration or gold set could not be read: ${(error as Error).message}`);
  }
}

/** The rule forwarding the deployment group's state changes to an SNS topic, if the stack has one. */
function deploymentEventsOf(stack: AssemblyStack, groupId: string): Common['deploymentEvents'] {
  for (const rule of Object.values(stack.resources)) {
    if (rule.Type !== 'AWS::Events::Rule') continue;
    const detail = (rule.Properties?.EventPattern as { detail?: { deploymentGroup?: unknown[]; state?: string[] } } | undefined)?.detail;
    if (!detail?.deploymentGroup?.some((g) => logicalIdOf(resolveString(g)) === groupId)) continue;
    const target = ((rule.Properties?.Targets ?? []) as Array<{ Arn?: unknown }>).map((t) => logicalIdOf(resolveString(t.Arn)) ?? '').find((id) => stack.resources[id]?.Type === 'AWS::SNS::Topic');
    if (target) return { topic: target, states: detail.state ?? [] };
  }
  return undefined;
}

/** Every guarded alias of a stack, in template order. */
export function guardedAliases(stack: AssemblyStack): GuardedAliasInfo[] {
  const machines = Object.entries(stack.resources)
    .filter(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')
    .map(([id, r]) => readMachine(id, r, stack.templateFile));
  const found: GuardedAliasInfo[] = [];
  for (const [id, alias] of Object.entries(stack.resources)) {
    const policy = alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate as Record<string, unknown> | undefined;
    if (alias.Type !== 'AWS::Lambda::Alias' || !policy) continue;
    const key = `${resolveString(policy.ApplicationName)}/${resolveString(policy.DeploymentGroupName)}`;
    const groupId = logicalIdOf(resolveString(policy.DeploymentGroupName)) ?? '';
    const group = stack.resources[groupId]?.Properties ?? {};
    const configName = group.DeploymentConfigName === undefined ? 'CodeDeployDefault.LambdaAllAtOnce' : resolveString(group.DeploymentConfigName);
    const alarms = ((group.AlarmConfiguration as { Alarms?: Array<{ Name: unknown }> } | undefined)?.Alarms ?? []).map((a) => resolveString(a.Name));
    const common = {
      stack,
      logicalId: id,
      path: (cdkPath(stack, id) ?? `${stack.name}/${id}`).replace(/\/Resource$/, ''),
      aliasName: resolveString(alias.Properties?.Name),
      functionLogicalId: logicalIdOf(resolveString(alias.Properties?.FunctionName)) ?? '',
      deploymentGroup: groupId,
      deploymentConfigName: configName,
      alarmNames: alarms,
      deploymentEvents: deploymentEventsOf(stack, groupId),
    };
    const machine = machines.find((m) => m.configs[key] !== undefined);
    const config = machine?.configs[key];
    if (machine && config && 'schedule' in config) {
      const staged = config as unknown as StagedAliasConfig;
      found.push({ ...common, strategy: 'staged', config: staged, machine, probe: readProbe(stack, staged.probeFunctionArn, common) });
    } else if (machine && config && 'holdSeconds' in config) {
      const blueGreen = config as unknown as BlueGreenAliasConfig;
      found.push({ ...common, strategy: 'blue-green', config: blueGreen, machine, probe: readProbe(stack, blueGreen.probeFunctionArn, common) });
    } else {
      // CodeDeploy's own shapes: the probe, when one of the update policy's hooks is the library's probe function.
      const hooks = [policy.BeforeAllowTrafficHook, policy.AfterAllowTrafficHook].filter((h) => h !== undefined).map((h) => resolveString(h));
      const probe = hooks.map((h) => readProbe(stack, h, common, false)).find((p) => p !== undefined);
      found.push({ ...common, strategy: shapeOf(stack, configName), probe });
    }
  }
  return found;
}

/** Whether `wanted` (`--alias`) names this alias: its construct path, with or without the stack, or a prefix of it. */
export function aliasMatches(alias: GuardedAliasInfo, wanted: string): boolean {
  const p = wanted.replace(/^\/+|\/+$/g, '');
  const full = alias.path;
  const inStack = full.startsWith(`${alias.stack.name}/`) ? full.slice(alias.stack.name.length + 1) : full;
  return [full, inStack].some((candidate) => candidate === p || candidate.startsWith(`${p}/`));
}
