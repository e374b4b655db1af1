// The invariant check before a blue-green switch, pure: the declared pins against the new version's
// environment (as GetFunctionConfiguration returns it). Every pin is judged; a mismatch or a missing pin fails
// with its name and both values.
import { Check, DECISION_KIND } from 'cdk-rollout-guardrails-runtime/contract';

/** The structured record of the invariant check, in the state's output for later publishing. */
export interface InvariantDecision {
  readonly kind: `${typeof DECISION_KIND}/invariants`;
  readonly passed: boolean;
  /** One sentence per failed pin; on a pass, one sentence saying what was checked. */
  readonly reasons: string[];
  /**
   * One check per pin, in name order: `invariant:<NAME>`, measured the new version's value (null: it has no such
   * variable), threshold the declared value.
   */
  readonly checks: Check[];
  /** The version whose environment was read. */
  readonly version: string;
}

/** Judges every declared pin, in name order, against `environment` (the new version's variables). */
export function checkInvariants(expected: Readonly<Record<string, string>>, environment: Readonly<Record<string, string>> | undefined, version: string): InvariantDecision {
  const env = environment ?? {};
  const checks: Check[] = Object.keys(expected).sort().map((name) => {
    const actual = Object.prototype.hasOwnProperty.call(env, name) ? env[name] : null;
    const want = JSON.stringify(expected[name]);
    const reason = actual === null ? `${name}: expected ${want}, version ${version} has no ${name}`
      : actual === expected[name] ? `${name}: version ${version} has ${want}` : `${name}: expected ${want}, version ${version} has ${JSON.stringify(actual)}`;
    return { name: `invariant:${name}`, measured: actual, threshold: expected[name], passed: actual === expected[name], reason };
  });
  const failed = checks.filter((c) => !c.passed);
  const reasons = failed.length > 0
    ? failed.map((c) => c.reason)
    : [checks.length === 0 ? 'no invariants declared' : `version ${version} carries every pin: ${checks.map((c) => `${c.name.slice('invariant:'.length)}=${c.threshold}`).join(', ')}`];
  return { kind: `${DECISION_KIND}/invariants`, passed: failed.length === 0, reasons, checks, version };
}
