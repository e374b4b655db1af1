// Every permission a hook or a machine needs for a deployment exists before CloudFormation updates the alias,
// whose update starts the deployment (CFN-1, CFN-3). The grants scoped to the new version change with every
// deployment, so each policy that names the version must be ordered before the alias: by a dependency of the
// alias, direct or through the resources it depends on (a Ref or GetAtt anywhere in it, its update policy
// included, or a DependsOn), as cfn-lint and CloudFormation read a template.
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as path from 'path';
import { DeltaSProbe, GoldSet, GuardedAlias, RolloutStrategy } from '../lib';
import { testFunction, testStack } from './util';
import { allowSynthWarningsInEachTest } from './helpers/console';

type Json = any;
const GOLD = GoldSet.fromFile(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'));

/** The logical IDs a resource names: Ref, GetAtt, and Refs inside Fn::Sub strings, anywhere in it, and its DependsOn. */
function named(resource: Json): Set<string> {
  const out = new Set<string>([resource.DependsOn ?? []].flat());
  const walk = (v: Json): void => {
    if (Array.isArray(v)) { v.forEach(walk); return; }
    if (v === null || typeof v !== 'object') return;
    if (typeof v.Ref === 'string') out.add(v.Ref);
    if (Array.isArray(v['Fn::GetAtt'])) out.add(v['Fn::GetAtt'][0]);
    if (typeof v['Fn::GetAtt'] === 'string') out.add(v['Fn::GetAtt'].split('.')[0]);
    for (const x of Object.values(v)) walk(x);
  };
  walk({ p: resource.Properties, u: resource.UpdatePolicy });
  return out;
}

function closure(resources: Record<string, Json>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const id = stack.pop()!;
    for (const dep of named(resources[id] ?? {})) {
      if (resources[dep] && !seen.has(dep)) { seen.add(dep); stack.push(dep); }
    }
  }
  return seen;
}

function check(build: (stack: Stack) => GuardedAlias) {
  const stack = testStack();
  const guarded = build(stack);
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
  const aliasId = stack.resolve((guarded.alias.node.defaultChild as lambda.CfnAlias).logicalId) as string;
  const versionId = stack.resolve((guarded.version.node.defaultChild as lambda.CfnVersion).logicalId) as string;
  const before = closure(resources, aliasId);
  const onVersion = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && named(r).has(versionId))
    .map(([id]) => id);
  return { before, onVersion, resources, aliasId };
}

describe('grants are in place before the alias update starts the deployment', () => {
  // The blue-green case's probe cannot finish a hold run in its budget at one answer every 2 s: the library warns.
  allowSynthWarningsInEachTest(['cdk-rollout-guardrails:blueGreenProbeBudget']);
  const probe = (stack: Stack) => new DeltaSProbe(stack, 'Probe', { goldSet: GOLD });
  test.each([
    ['staged with a probe and a warm-up', (s: Stack) => new GuardedAlias(s, 'A', { function: testFunction(s), probe: probe(s), warmup: { provisionedConcurrency: 2 } })],
    ['canary with a probe and a warm-up', (s: Stack) => new GuardedAlias(s, 'A', { function: testFunction(s), probe: probe(s), warmup: { provisionedConcurrency: 2 }, strategy: RolloutStrategy.canary(10, Duration.minutes(5)) })],
    ['blue-green with a probe and a warm-up', (s: Stack) => new GuardedAlias(s, 'A', { function: testFunction(s), probe: probe(s), warmup: { provisionedConcurrency: 2 }, strategy: RolloutStrategy.blueGreen() })],
  ])('%s: every policy naming the new version is ordered before the alias', (_name, build) => {
    const { before, onVersion, resources, aliasId } = check(build);
    // The warm gate's, the probe's and (blue-green) the worker's grants name the version (with a canary the probe
    // runs the warm gate: one policy).
    expect(onVersion.length).toBeGreaterThanOrEqual(1);
    for (const id of onVersion) expect({ policy: id, orderedBeforeAlias: before.has(id) }).toEqual({ policy: id, orderedBeforeAlias: true });
    // And the alias's DependsOn repeats nothing a reference already says (cfn-lint W3005).
    const alias = resources[aliasId];
    const refs = named({ Properties: alias.Properties, UpdatePolicy: alias.UpdatePolicy });
    expect([alias.DependsOn ?? []].flat().filter((dep: string) => refs.has(dep))).toEqual([]);
  });

  test('the check is not empty: a policy outside the alias\'s dependencies is found', () => {
    const { before, resources, aliasId } = check((s) => new GuardedAlias(s, 'A', { function: testFunction(s), warmup: { provisionedConcurrency: 2 } }));
    // The staged safety net runs after a failure, not for the deployment to start: its policy is not before the alias.
    const net = Object.keys(resources).find((id) => id.startsWith('StagedRolloutSafetyNetServiceRoleDefaultPolicy'))!;
    expect(net).toBeDefined();
    expect(before.has(net)).toBe(false);
    expect(before.size).toBeGreaterThan(0);
    expect(resources[aliasId].Type).toBe('AWS::Lambda::Alias');
  });
});
