// The invariant check before a blue-green switch, pure: the declared pins against the new version's
// environment (as GetFunctionConfiguration returns it). Every pin is judged; a mismatch or a missing pin fails
// with its name and both values.
import { DECISION_KIND } from 'cdk-rollout-guardrails-runtime/contract';

/** One pin as judged. `actual: null`: the new version has no such variable. */
export interface InvariantCheck {
  readonly name: string;
  readonly expected: string;
  readonly actual: string | null;
  readonly passed: boolean;
}

/** The structured record of the invariant check, in the state's output for later publishing. */
export interface InvariantDecision {
  readonly kind: `${typeof DECISION_KIND}/invariants`;
  readonly passed: boolean;
  /** One sentence per failed pin; on a pass, one sentence saying what was checked. */
  readonly reasons: string[];
  readonly checks: InvariantCheck[];
  /** The version whose environment was read. */
  readonly version: string;
}

/** Judges every declared pin, in name order, against `environment` (the new version's variables). */
export function checkInvariants(expected: Readonly<Record<string, string>>, environment: Readonly<Record<string, string>> | undefined, version: string): InvariantDecision {
  const env = environment ?? {};
  const checks: InvariantCheck[] = Object.keys(expected).sort().map((name) => {
    const actual = Object.prototype.hasOwnProperty.call(env, name) ? env[name] : null;
    return { name, expected: expected[name], actual, passed: actual === expected[name] };
  });
  const failed = checks.filter((c) => !c.passed);
  const reasons = failed.length > 0
    ? failed.map((c) => (c.actual === null
      ? `${c.name}: expected ${JSON.stringify(c.expected)}, version ${version} has no ${c.name}`
      : `${c.name}: expected ${JSON.stringify(c.expected)}, version ${version} has ${JSON.stringify(c.actual)}`))
    : [checks.length === 0 ? 'no invariants declared' : `version ${version} carries every pin: ${checks.map((c) => `${c.name}=${c.expected}`).join(', ')}`];
  return { kind: `${DECISION_KIND}/invariants`, passed: failed.length === 0, reasons, checks, version };
}
