// A direct run of the probe (outside any deployment): its event, checked, and the questions it asks.
import { LambdaAppSpecTarget, ProbeStopRules } from 'cdk-rollout-guardrails-runtime/contract';

/**
 * A direct run, outside any deployment: probe these versions and return the verdict, reporting to nobody
 * (a person checking a gold set, or a state machine probing before a staged step). The function may still
 * invoke only the versions it was granted. A direct run never runs the warm gate.
 */
export interface DirectRunEvent extends LambdaAppSpecTarget {
  /**
   * Ask only this many gold questions (a positive integer), chosen by `spreadQuestions`: deterministic and
   * spread across the gold set's sections. A quick smoke probe, e.g. 20 to 40 questions.
   * @default - every question
   */
  readonly questionLimit?: number | null;
  /**
   * The stop rules of the step being judged (the staged schedule's), judged beside the gates: each rule given
   * adds its check (`minTopicCoverage`, `maxParaphraseFlips`) to the report, and fails the verdict when broken.
   * @default - none (null, as for questionLimit, is none too)
   */
  readonly stopRules?: ProbeStopRules | null;
  /**
   * The CodeDeploy deployment this run belongs to (the staged machine passes its own): with the probe's
   * `reuseCurrentAnswers`, the scope under which the current version's answers are recorded and read back.
   * @default - none: nothing is reused or recorded
   */
  readonly deploymentId?: string | null;
}

/**
 * A direct run's `deploymentId`, checked: 1 to 128 letters, digits, `-` or `_` (CodeDeploy's are `d-` and 9
 * more), or null or absent (none). Anything else throws, naming the field and the value.
 */
export function deploymentIdOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(value)) {
    throw new Error(`deploymentId must be a CodeDeploy deployment id (letters, digits, - and _, at most 128) or null, got: ${JSON.stringify(value)}`);
  }
  return value;
}

const STOP_RULES: Record<keyof ProbeStopRules, { readonly ok: (x: unknown) => boolean; readonly must: string }> = {
  minTopicCoverage: { ok: (x) => typeof x === 'number' && x >= 0 && x <= 1, must: 'a number from 0 to 1' },
  maxParaphraseFlips: { ok: (x) => typeof x === 'number' && Number.isInteger(x) && x >= 0, must: 'an integer ≥ 0' },
};

/**
 * A direct run's `stopRules`, checked: an object of known rules with values in range, or null or absent
 * (none). Anything else throws, naming the field and the value.
 */
export function stopRulesOf(value: unknown): ProbeStopRules | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`stopRules must be an object or null, got: ${JSON.stringify(value)}`);
  }
  const rules: Record<string, number> = {};
  for (const [name, rule] of Object.entries(value)) {
    if (!Object.prototype.hasOwnProperty.call(STOP_RULES, name)) {
      throw new Error(`stopRules.${name} is not a stop rule (known: ${Object.keys(STOP_RULES).join(', ')}), got: ${JSON.stringify(rule)}`);
    }
    if (rule === undefined) continue;
    const { ok, must } = STOP_RULES[name as keyof ProbeStopRules];
    if (!ok(rule)) throw new Error(`stopRules.${name} must be ${must}, got: ${JSON.stringify(rule)}`);
    rules[name] = rule as number;
  }
  return rules;
}

export function isDirectRun(event: unknown): event is DirectRunEvent {
  if (typeof event !== 'object' || event === null || 'DeploymentId' in event) return false;
  const e = event as Record<string, unknown>;
  return ['functionName', 'alias', 'currentVersion', 'targetVersion'].every((k) => typeof e[k] === 'string' && e[k] !== '');
}

/**
 * At most `limit` gold questions, deterministic and spread across the gold set's sections. A section is the
 * set of questions with the same `target` text (the section that holds their answer), in order of first
 * appearance. Questions are taken round by round, the first remaining question of each section per round;
 * a last, partial round takes sections evenly spaced over the section order (for k of S sections, the
 * sections at floor(i × S / k), i = 0..k−1). The chosen questions keep their gold-set order.
 */
export function spreadQuestions<T extends { readonly target: string }>(gold: readonly T[], limit: number): T[] {
  if (limit >= gold.length) return [...gold];
  const sections = new Map<string, number[]>();
  gold.forEach((item, index) => {
    const members = sections.get(item.target);
    if (members) members.push(index);
    else sections.set(item.target, [index]);
  });
  const queues = [...sections.values()];
  const chosen: number[] = [];
  for (let round = 0; chosen.length < limit; round++) {
    const open = queues.filter((q) => q.length > round);
    const left = limit - chosen.length;
    if (open.length <= left) {
      for (const q of open) chosen.push(q[round]);
    } else {
      for (let i = 0; i < left; i++) chosen.push(open[Math.floor((i * open.length) / left)][round]);
    }
  }
  return chosen.sort((a, b) => a - b).map((i) => gold[i]);
}
