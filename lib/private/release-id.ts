import { createHash } from 'crypto';
import { Lazy, Stack, Tags } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { RELEASE_ID_ENV } from 'cdk-rollout-guardrails-runtime/contract';
import { memoizeVersionLogicalId, perSynthesis } from './per-synthesis';


/**
 * A release ID that is stable while the function's code and configuration are: `rel-` and 12 hex digits of a
 * SHA-256 over the code (for an asset, its hash), handler, runtime, memory, timeout, architectures, layers,
 * ephemeral storage and every environment variable but RELEASE_ID itself (which would make it depend on
 * itself). Computed once per synthesis (`perSynthesis`), so configuration added after the GuardedAlias counts,
 * and a change between two synths gives the release ID a fresh synth would.
 */
export function defaultReleaseId(fn: lambda.Function): string {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  return perSynthesis(cfn, () => {
    const others = environmentOf(fn).filter(([k]) => k !== RELEASE_ID_ENV).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const material = Stack.of(fn).resolve({
      code: cfn.code, handler: cfn.handler, runtime: cfn.runtime, memorySize: cfn.memorySize, timeout: cfn.timeout,
      architectures: cfn.architectures, layers: cfn.layers, ephemeralStorage: cfn.ephemeralStorage, environment: others,
    });
    return `rel-${createHash('sha256').update(JSON.stringify(material)).digest('hex').slice(0, 12)}`;
  });
}

/**
 * The function's environment variables as set with `environment` and `addEnvironment`. Function keeps them
 * in private state; reading that (rather than the rendered property, which holds RELEASE_ID itself) is what
 * keeps the hash from depending on itself. test/release-dashboard.suite.ts › 'release-identity' fails if aws-cdk-lib changes it.
 */
function environmentOf(fn: lambda.Function): Array<[string, unknown]> {
  const state = (fn as unknown as { environment?: unknown }).environment as { get?: () => unknown } | undefined;
  if (!state) return [];
  const map = typeof state.get === 'function' ? state.get() : state;
  const entries: Array<[string, unknown]> = map instanceof Map ? [...map.entries()] : Object.entries(map as object);
  return entries.map(([key, entry]) => [key, (entry as { value?: unknown } | undefined)?.value ?? entry]);
}

/** A published version with its release identity. */
export interface ReleasedVersion {
  readonly releaseId: string;
  readonly version: lambda.Version;
  /** The pins other than RELEASE_ID, by environment variable. */
  readonly pins: Record<string, string>;
}

/**
 * Puts the release identity (`[prop, variable]` pairs with their values) into the function's environment before
 * its version is taken, so that every published version carries it (a changed pin is a changed configuration,
 * hence a new version); tags the function (Lambda tags functions only) and names the release in the version's
 * description.
 */
export function publishRelease(fn: lambda.Function, releaseId: string, identity: ReadonlyArray<[string, string | undefined]>): ReleasedVersion {
  const pins: Record<string, string> = {};
  for (const [variable, value] of [[RELEASE_ID_ENV, releaseId] as [string, string], ...identity]) {
    if (value === undefined) continue;
    fn.addEnvironment(variable, value);
    if (variable !== RELEASE_ID_ENV) pins[variable] = value;
  }
  const version = fn.currentVersion;
  memoizeVersionLogicalId(version.node.defaultChild as lambda.CfnVersion);
  Tags.of(fn).add('cdk-rollout-guardrails:release-id', releaseId, { includeResourceTypes: ['AWS::Lambda::Function'] });
  const cfnVersion = version.node.defaultChild as lambda.CfnVersion;
  const ownDescription = cfnVersion.description;
  cfnVersion.description = Lazy.uncachedString({
    produce: () => [ownDescription, `release ${Stack.of(fn).resolve(releaseId)}`, ...Object.entries(pins).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join('; '),
  });
  return { releaseId, version, pins };
}
