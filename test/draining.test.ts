// Draining (issue #15 §6): what a rollout does to the version it replaces, and so to the invocations and streams
// still running on it. AWS documents neither what a change of the alias does to running invocations nor what
// deleting a version does to them (docs/aws-behaviour.md LAM-9 to LAM-12); these tests pin what the library
// itself does: nothing it runs can delete, change or re-provision a version, the old version stays the alias's
// FunctionVersion until CodeDeploy's final shift, and only CloudFormation removes it, after the update.
import * as fs from 'fs';
import * as path from 'path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DeltaSProbe, GoldSet, GuardedAlias, GuardedAliasProps, RolloutStrategy } from '../lib';
import { resourcesOfType, testFunction, testStack } from './util';

type Json = any;
const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));

/** One GuardedAlias with provisioned concurrency (`warmup`) under one strategy, synthesized once. */
function synth(props: (stack: Stack) => Omit<GuardedAliasProps, 'function'>): { alias: GuardedAlias; template: Json } {
  const stack = testStack();
  const alias = new GuardedAlias(stack, 'X', { function: testFunction(stack), ...props(stack) });
  return { alias, template: Template.fromStack(stack).toJSON() };
}

const STACKS = {
  // The default strategy; auto-scaled warm-up, so the stack has a scalable target too.
  staged: synth(() => ({ warmup: { autoScaling: { minCapacity: 2, maxCapacity: 10 } } })),
  blueGreen: synth(() => ({ strategy: RolloutStrategy.blueGreen(), warmup: { provisionedConcurrency: 2 } })),
  // CodeDeploy's own canary; with warm-up it needs the probe, whose hook runs the warm gate.
  canary: synth((stack) => ({
    strategy: RolloutStrategy.canary(10, Duration.minutes(5)), warmup: { provisionedConcurrency: 2 },
    probe: new DeltaSProbe(stack, 'Probe', { goldSet: GOLD }),
  })),
};
const EACH = Object.entries(STACKS).map(([name, built]) => ({ name, ...built }));

/** The logical ID of the template's one resource of `type`. */
function onlyId(template: Json, type: string): string {
  const ids = resourcesOfType(template, type);
  expect(ids).toHaveLength(1);
  return ids[0];
}

function resources(template: Json, type: string): Json[] {
  return resourcesOfType(template, type).map((id) => template.Resources[id]);
}

/** Every action any role of the stack may take: inline and attached policies (managed policies by name, CD-17). */
function permissions(template: Json): { actions: string[]; notActions: number; managed: string[] } {
  const statements = (doc: Json): Json[] => [].concat(doc?.Statement ?? []);
  const documents = [
    ...resources(template, 'AWS::IAM::Policy').map((p) => p.Properties.PolicyDocument),
    ...resources(template, 'AWS::IAM::ManagedPolicy').map((p) => p.Properties.PolicyDocument),
    ...resources(template, 'AWS::IAM::Role').flatMap((r) => (r.Properties.Policies ?? []).map((p: Json) => p.PolicyDocument)),
  ];
  const allows = documents.flatMap(statements).filter((s) => s.Effect === 'Allow');
  const actions = allows.flatMap((s) => [].concat(s.Action ?? []));
  const managed = resources(template, 'AWS::IAM::Role').flatMap((r) => r.Properties.ManagedPolicyArns ?? [])
    .map((arn: Json) => JSON.stringify(arn).replace(/^.*:policy\/|".*$/g, ''));
  return { actions: [...new Set(actions)].sort(), notActions: allows.filter((s) => s.NotAction).length, managed: [...new Set(managed)].sort() };
}

/** The state machines' definitions, tokens as placeholders (the definition is a Fn::Join of strings and tokens). */
function definitions(template: Json): string[] {
  return resources(template, 'AWS::StepFunctions::StateMachine').map((m) => {
    const parts = m.Properties.DefinitionString['Fn::Join'][1] as Json[];
    return parts.map((p) => (typeof p === 'string' ? p : p.Ref === 'AWS::Partition' ? 'aws' : p.Ref ? `REF(${p.Ref})` : 'TOKEN')).join('');
  });
}

/** Every Task state of a definition, Parallel branches and Map processors included. */
function tasks(definition: string): Json[] {
  const found: Json[] = [];
  const walk = (states: Record<string, Json>) => {
    for (const state of Object.values(states)) {
      if (state.Type === 'Task') found.push(state);
      for (const branch of state.Branches ?? []) walk(branch.States);
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
      if (state.Iterator) walk(state.Iterator.States);
    }
  };
  walk(JSON.parse(definition).States);
  return found;
}

/** Lambda actions that leave a version, its configuration and its provisioned concurrency as they are. */
const HARMLESS_LAMBDA = /^lambda:(Get[A-Za-z]+|List[A-Za-z]+|InvokeFunction|InvokeWithResponseStream|UpdateAlias|UpdateEventSourceMapping)$/;

describe('no part of a rollout can delete, change or re-provision a version (LAM-9, LAM-12)', () => {
  test.each(EACH)('$name: no role may delete or publish a version, change a function, or put or delete provisioned concurrency or scaling', ({ template }) => {
    const { actions, notActions, managed } = permissions(template);
    expect(notActions).toBe(0);
    const lambda = actions.filter((a) => a.toLowerCase().startsWith('lambda:'));
    // Not vacuous: every strategy's machinery reads the alias.
    expect(lambda).toContain('lambda:GetAlias');
    expect(lambda.filter((a) => !HARMLESS_LAMBDA.test(a))).toEqual([]);
    expect(actions.filter((a) => a === '*' || /^(lambda|application-autoscaling):\*/i.test(a))).toEqual([]);
    // Scaling belongs to Application Auto Scaling's service-linked role, never to a role of the stack.
    expect(actions.filter((a) => /^application-autoscaling:/i.test(a) && !/^application-autoscaling:Describe/i.test(a))).toEqual([]);
    // The attached managed policies: logs only, and CodeDeploy's Lambda policy, whose Lambda actions are UpdateAlias,
    // GetAlias, GetProvisionedConcurrencyConfig and InvokeFunction on CodeDeployHook_* (CD-17).
    expect(managed).toEqual(['service-role/AWSCodeDeployRoleForLambdaLimited', 'service-role/AWSLambdaBasicExecutionRole']);
  });

  test.each(EACH)('$name: no state machine reaches Lambda but through lambda:invoke and UpdateAlias with RoutingConfig alone', ({ name, template }) => {
    const all = definitions(template).flatMap(tasks);
    const sdk = all.map((t) => String(t.Resource)).filter((r) => r.includes(':aws-sdk:'));
    expect(sdk.filter((r) => /:aws-sdk:(lambda|applicationautoscaling):/i.test(r) && !r.endsWith(':aws-sdk:lambda:updateAlias'))).toEqual([]);
    const updates = all.filter((t) => String(t.Resource).endsWith(':aws-sdk:lambda:updateAlias'));
    // The old version stays the alias's FunctionVersion until CodeDeploy's final shift: the machine writes weights only.
    for (const update of updates) {
      const keys = Object.keys(update.Arguments ?? update.Parameters).map((k) => k.replace(/\.\$$/, ''));
      expect(keys).toContain('RoutingConfig');
      // RevisionId is welcome (LAM-4); FunctionVersion, or anything else, is not.
      expect(keys.filter((k) => !['FunctionName', 'Name', 'RoutingConfig', 'RevisionId'].includes(k))).toEqual([]);
    }
    // Only the staged machine writes the alias (SetWeight, its resets and HandBack); blue-green's never does, and
    // a CodeDeploy canary has no machine at all.
    expect(updates.length > 0).toBe(name === 'staged');
    expect(resources(template, 'AWS::StepFunctions::StateMachine').length > 0).toBe(name !== 'canary');
  });

  test('the handlers call only Lambda reads, Invoke, UpdateAlias and UpdateEventSourceMapping, and no Application Auto Scaling', () => {
    const sources = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const file = path.join(dir, e.name);
      return e.isDirectory() ? sources(file) : /\.ts$/.test(e.name) ? [file] : [];
    });
    const files = [...sources(path.join(__dirname, '..', 'lambdas')), ...sources(path.join(__dirname, '..', 'packages', 'runtime', 'src'))];
    const text = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    const lambdaCommands = new Set(Object.keys(require('@aws-sdk/client-lambda')).filter((k) => k.endsWith('Command')));
    // Not vacuous: the client names the commands that would delete or re-provision a version.
    for (const c of ['DeleteFunctionCommand', 'DeleteProvisionedConcurrencyConfigCommand', 'PutProvisionedConcurrencyConfigCommand', 'PublishVersionCommand']) {
      expect(lambdaCommands.has(c)).toBe(true);
    }
    const used = [...new Set(text.match(/\b[A-Z][A-Za-z]+Command\b/g) ?? [])].filter((c) => lambdaCommands.has(c)).sort();
    expect(used).toEqual(expect.arrayContaining(['GetAliasCommand', 'InvokeCommand', 'UpdateAliasCommand']));
    expect(used.filter((c) => !/^(Get[A-Za-z]+|List[A-Za-z]+|Invoke|InvokeWithResponseStream|UpdateAlias|UpdateEventSourceMapping)Command$/.test(c))).toEqual([]);
    expect(text).not.toMatch(/@aws-sdk\/client-application-auto-scaling/);
  });
});

describe('the old version keeps serving, and keeps its provisioned concurrency, until CloudFormation removes it (LAM-10, LAM-12)', () => {
  test.each(EACH)('$name: provisioned concurrency lives and dies with its version (DESTROY), the alias has none and no weights, and any scaling targets the version', ({ name, alias, template }) => {
    const versionId = onlyId(template, 'AWS::Lambda::Version');
    const aliasId = onlyId(template, 'AWS::Lambda::Alias');
    expect(template.Resources[versionId].Properties.ProvisionedConcurrencyConfig).toEqual({ ProvisionedConcurrentExecutions: 2 });
    // Warm-up makes the version DESTROY: the superseded version goes, with its provisioned concurrency, when
    // CloudFormation removes it after the update, and not before (nothing else can delete it).
    expect(template.Resources[versionId]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    // An alias with a configuration of its own would lose it from the old version when CodeDeploy moves the alias
    // (PC-2); weights in the template would fight the rollout's own.
    expect(template.Resources[aliasId].Properties.ProvisionedConcurrencyConfig).toBeUndefined();
    expect(template.Resources[aliasId].Properties.RoutingConfig).toBeUndefined();
    for (const target of resources(template, 'AWS::ApplicationAutoScaling::ScalableTarget')) {
      expect(JSON.stringify(target.Properties.ResourceId)).toContain(JSON.stringify({ 'Fn::GetAtt': [versionId, 'Version'] }));
      expect(JSON.stringify(target.Properties.ResourceId)).not.toContain(alias.aliasName);
    }
    expect(resources(template, 'AWS::ApplicationAutoScaling::ScalableTarget')).toHaveLength(name === 'staged' ? 1 : 0);
  });

  test('a new release is a new version resource: the old one leaves the template, with no Retain, and the alias moves through CodeDeploy', () => {
    const release = (code: string) => {
      const stack = testStack();
      new GuardedAlias(stack, 'X', { function: testFunction(stack, 'Fn', code), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
      const template = Template.fromStack(stack).toJSON();
      return { template, versionId: onlyId(template, 'AWS::Lambda::Version'), aliasId: onlyId(template, 'AWS::Lambda::Alias') };
    };
    const before = release('exports.handler = async () => ({ release: 1 });');
    const after = release('exports.handler = async () => ({ release: 2 });');
    // CloudFormation does not update the old version (CFN-4): it is gone from the template, so CloudFormation deletes
    // it; Lambda refuses to delete a version the alias still references (LAM-12), which it does until the final shift.
    expect(after.versionId).not.toBe(before.versionId);
    expect(after.template.Resources[before.versionId]).toBeUndefined();
    // CDK's default removal policy for fn.currentVersion is DESTROY: no DeletionPolicy means CloudFormation's Delete.
    expect(before.template.Resources[before.versionId].DeletionPolicy ?? 'Delete').toBe('Delete');
    // The alias is updated, not replaced, and CodeDeploy (not CloudFormation) moves it to the new version (CFN-1).
    expect(after.aliasId).toBe(before.aliasId);
    expect(after.template.Resources[after.aliasId].Properties.FunctionVersion).toEqual({ 'Fn::GetAtt': [after.versionId, 'Version'] });
    expect(Object.keys(after.template.Resources[after.aliasId].UpdatePolicy)).toEqual(['CodeDeployLambdaAliasUpdate']);
  });

  test('blue-green: the default hold after the switch is at least 15 minutes, Lambda\'s longest invocation, before the deployment can end', () => {
    const [definition] = definitions(STACKS.blueGreen.template);
    const holds = [...definition.matchAll(/holdSeconds\\*"\s*:\s*(\d+)/g)].map((m) => Number(m[1]));
    expect(holds).toHaveLength(1);
    // Lambda runs an invocation for at most 15 minutes (LAM-10): at the default hold, an invocation that started on
    // the old version before the switch has reached its timeout before the hook can report Succeeded, and so before
    // CloudFormation can remove the old version (LAM-12).
    expect(holds[0]).toBeGreaterThanOrEqual(Duration.minutes(15).toSeconds());
  });
});

