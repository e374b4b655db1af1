import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { GuardedAlias, GuardedAliasProps } from '../lib';
import { HANDLER_RUNTIME } from '../lib/private/runtime';
import { testStack } from './util';

interface Build {
  readonly code?: string;
  readonly memorySize?: number;
  readonly env?: Record<string, string>;
  readonly release?: GuardedAliasProps['release'];
}

/** Synthesises one guarded function and returns its template's function and version resources. */
function build(options: Build = {}) {
  const stack = testStack();
  const fn = new lambda.Function(stack, 'Fn', {
    runtime: HANDLER_RUNTIME,
    handler: 'index.handler',
    code: lambda.Code.fromInline(options.code ?? 'exports.handler = async () => 1;'),
    memorySize: options.memorySize,
    timeout: Duration.seconds(5),
    environment: options.env,
  });
  const ga = new GuardedAlias(stack, 'Guarded', { function: fn, release: options.release });
  const t = Template.fromStack(stack).toJSON();
  const [versionId, version] = Object.entries(t.Resources).find(([, r]: [string, any]) => r.Type === 'AWS::Lambda::Version') as [string, any];
  const fnResource = t.Resources[stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction)];
  return { stack, ga, fn: fnResource, version, versionId, releaseId: fnResource.Properties.Environment.Variables.RELEASE_ID as string };
}

function errorOf(release: unknown): string {
  try {
    build({ release: release as any });
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the release to be rejected');
}

describe('GuardedAlias release identity', () => {
  /** One synth of the default build, for the tests that only read it (a synth of a GuardedAlias is the costly part). */
  let base: ReturnType<typeof build>;
  beforeAll(() => { base = build(); });

  test('gives every version a RELEASE_ID that is stable while code and configuration are', () => {
    // Two separate builds: the second must come out the same.
    const a = build();
    const b = build();
    expect(a.releaseId).toMatch(/^rel-[0-9a-f]{12}$/);
    expect(b.releaseId).toBe(a.releaseId);
    expect(b.versionId).toBe(a.versionId);
  });

  test.each([
    ['the code', { code: 'exports.handler = async () => 2;' }],
    ['the memory', { memorySize: 512 }],
    ['another environment variable', { env: { FEATURE: 'on' } }],
  ])('changes RELEASE_ID, and so publishes a new version, when %s changes', (_what, change) => {
    const after = build(change);
    expect(after.releaseId).not.toBe(base.releaseId);
    expect(after.versionId).not.toBe(base.versionId);
  });

  test('carries the pins in the environment, the version\'s description and the function\'s tag', () => {
    const { fn, version, ga } = build({ release: { releaseId: 'r-2026.11.22', schemaRev: '7', indexHash: '0x9a77', modelTag: 'titan-v2' } });
    expect(fn.Properties.Environment.Variables).toEqual({ RELEASE_ID: 'r-2026.11.22', SCHEMA_REV: '7', INDEX_HASH: '0x9a77', MODEL_TAG: 'titan-v2' });
    expect(version.Properties.Description).toBe('release r-2026.11.22; SCHEMA_REV=7; INDEX_HASH=0x9a77; MODEL_TAG=titan-v2');
    expect(fn.Properties.Tags).toContainEqual({ Key: 'cdk-rollout-guardrails:release-id', Value: 'r-2026.11.22' });
    expect(ga.releaseId).toBe('r-2026.11.22');
  });

  test('publishes a new version when a pin changes', () => {
    expect(build({ release: { schemaRev: '7' } }).versionId).not.toBe(build({ release: { schemaRev: '8' } }).versionId);
  });

  test('tags only the function, not its role or log group, with the release', () => {
    const tagged = Object.values(Template.fromStack(base.stack).toJSON().Resources)
      .filter((r: any) => JSON.stringify(r.Properties?.Tags ?? []).includes('cdk-rollout-guardrails:release-id'))
      .map((r: any) => r.Type);
    expect(tagged).toEqual(['AWS::Lambda::Function']);
  });

  test.each([
    [{ schemaRev: 'v 7' }, 'release.schemaRev must be 1 to 128 letters, digits or . _ : / + = @ - (it travels in a header), got: "v 7"'],
    [{ modelTag: '' }, 'release.modelTag must be 1 to 128 letters, digits or . _ : / + = @ - (it travels in a header), got: ""'],
    [{ indexHash: 42 }, 'release.indexHash must be 1 to 128 letters, digits or . _ : / + = @ - (it travels in a header), got: 42'],
    [{ schemaRevision: '7' }, 'release.schemaRevision must be one of releaseId, schemaRev, indexHash, modelTag (unknown pin), got: "schemaRevision"'],
    ['7', 'release must be an object of release pins, got: "7"'],
  ])('rejects the release %j', (release, message) => {
    expect(errorOf(release)).toContain(message);
  });
});
