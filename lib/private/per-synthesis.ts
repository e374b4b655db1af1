import { Aspects, CfnElement, IResolveContext, Lazy, Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * A string computed once per synthesis, not at each resolution: `produce` runs at the synthesis's first pass,
 * the preparing one (`IResolveContext.preparing`, which finds the references and runs after every aspect), and
 * its value is reused until the next synthesis begins. An aspect on `scope` (a leaf is cheapest), which every
 * synthesis invokes again before its preparing pass, marks the start. A resolution that is not in a synthesis's
 * passes computes afresh, except one made after a synthesis and before the next, which gets that synthesis's
 * value (as if nothing had changed since).
 *
 * For values derived from a construct's configuration, which cannot change within a synthesis (aws-cdk-lib
 * relies on that too: a reference found in the first pass must name what the later passes write), and which
 * are costly or must not go stale across synths.
 */
export function perSynthesis(scope: IConstruct, produce: (context: IResolveContext) => string): string {
  let synthesis = 0;
  let kept: { readonly synthesis: number; readonly value: string } | undefined;
  // Priority 0, first on its node: it only marks the start, and an aspect added while aspects run (with a lower
  // priority than one already invoked on a node) would make aws-cdk-lib refuse the synth.
  Aspects.of(scope).add({ visit: (node) => { if (node === scope) synthesis++; } }, { priority: FIRST });
  return Lazy.uncachedString({
    produce: (context: IResolveContext) => {
      if (kept?.synthesis === synthesis) return kept.value;
      const value = produce(context);
      if (context.preparing) kept = { synthesis, value };
      return value;
    },
  });
}

/**
 * The logical ID of a function's `currentVersion`, computed once per synthesis instead of at every reference.
 *
 * aws-cdk-lib names the version after a hash of the function's resolved configuration, and recomputes that hash
 * each time anything refers to the version: the version itself, the alias, each gate metric of the canary
 * version, the control-version entry, in each of a synth's three passes over the template. That is 18 hashes of
 * the whole function per GuardedAlias and synth, a fifth of a staged stack's synth time.
 *
 * It wraps the override aws-cdk-lib put on the version (`overrideLogicalId` keeps it in a private field, which
 * test/release-dashboard.suite.ts › 'version logical IDs' checks); if that is not a token, it leaves the
 * version alone.
 */
export function memoizeVersionLogicalId(version: CfnElement): void {
  if (MEMOIZED.has(version)) return;
  const computed = (version as unknown as { _logicalIdOverride?: unknown })._logicalIdOverride;
  if (typeof computed !== 'string' || !Token.isUnresolved(computed)) return;
  version.overrideLogicalId(perSynthesis(version, (context) => context.resolve(computed)));
  MEMOIZED.add(version);
}

const MEMOIZED = new WeakSet<CfnElement>();
/** Before aws-cdk-lib's lowest named priority (`AspectPriority.MUTATING`, 200). */
const FIRST = 0;
