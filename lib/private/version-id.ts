import { AspectPriority, Aspects, CfnElement, IResolveContext, Lazy, Token } from 'aws-cdk-lib';

/**
 * The logical ID of a function's `currentVersion`, computed once per synthesis instead of at every reference.
 *
 * aws-cdk-lib names the version after a hash of the function's resolved configuration, and recomputes that hash
 * each time anything refers to the version: the version itself, the alias, each gate metric of the canary
 * version, the control-version entry, in each of a synth's three passes over the template. That is 18 hashes of
 * the whole function per GuardedAlias and synth, a fifth of a staged stack's synth time.
 *
 * Within a synthesis the hash cannot change, and aws-cdk-lib relies on that too (a reference found in the first
 * pass must name the resource the later passes write). So the value is kept from the synthesis's first pass,
 * the preparing one (`IResolveContext.preparing`, which runs after every aspect), and reused until the next
 * synthesis begins: an aspect on the version, which every synthesis invokes again before that pass, drops it.
 * A resolution that is not in a synthesis's passes computes afresh, except one made after a synthesis and before
 * the next (it gets that synthesis's value, as if nothing had changed since).
 *
 * It wraps the override aws-cdk-lib put on the version (`overrideLogicalId` keeps it in a private field, which
 * test/release-dashboard.suite.ts › 'version logical IDs' checks); if that is not a token, it leaves the
 * version alone.
 */
export function memoizeVersionLogicalId(version: CfnElement): void {
  if (MEMOIZED.has(version)) return;
  const computed = (version as unknown as { _logicalIdOverride?: unknown })._logicalIdOverride;
  if (typeof computed !== 'string' || !Token.isUnresolved(computed)) return;
  let synthesis = 0;
  let kept: { readonly synthesis: number; readonly value: string } | undefined;
  version.overrideLogicalId(Lazy.uncachedString({
    produce: (context: IResolveContext) => {
      if (kept?.synthesis === synthesis) return kept.value;
      const value = context.resolve(computed);
      if (context.preparing) kept = { synthesis, value };
      return value;
    },
  }));
  Aspects.of(version).add({ visit: () => { synthesis++; } }, { priority: AspectPriority.READONLY });
  MEMOIZED.add(version);
}

const MEMOIZED = new WeakSet<CfnElement>();
