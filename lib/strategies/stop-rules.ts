import type { StagedStopRule } from 'cdk-rollout-guardrails-runtime/contract';
import { PropProblems } from '../private/validation';

/**
 * Stop rules of a staged schedule: what the probe run at a step judges besides the probe's gates, from the field
 * guide's "Rollout stages and hard stops" (canary_release_serverless.md). A rule is in force from its step on: at
 * every probe run while the new version serves at least `fromStep` percent of the traffic (stops, once
 * introduced, stay). Where several rules are in force, each is judged at its strictest.
 */
export interface StepStopRules {
  /**
   * The weight (percent of traffic on the new version) from which the rules are in force: the probe run that
   * guards the shift beyond a step of at least this weight judges them. An integer from 1 to 99; some step of the
   * schedule below 100 must reach it, or the rules would never be judged.
   */
  readonly fromStep: number;
  /**
   * Smallest median coverage of the new version within any one topic of the gold set (the `topic` of its
   * questions; questions without one form one group). The seed's stop at 5 %: "coverage below 0.70 on any probe
   * topic". From 0 to 1.
   * @default - not judged by this rule
   */
  readonly minTopicCoverage?: number;
  /**
   * Most wordings (the question and each paraphrase) of any one gold question whose λ state may differ between
   * the versions. The seed's stop at 50 %: "λ flips on more than one paraphrase for any gold question", so 1.
   * An integer of 0 or more.
   * @default - not judged by this rule
   */
  readonly maxParaphraseFlips?: number;
  /**
   * Fail a check when the new version shows an error class the current version does not show in the same window:
   * a 5xx status code of a response (500 to 511 each its own class, others together) or a thrown error. The seed's
   * stop at 1 %: "a new 5xx class appears". Judged by the gate function from the functions' `withRelease`
   * telemetry (`ErrorsByClass`, in its default namespace); a function without it shows no class, and passes.
   * @default - not judged by this rule
   */
  readonly newErrorClass?: boolean;
}

/**
 * The seed's hard stops (canary_release_serverless.md): a new error class from 1 %, topic coverage from 5 %,
 * paraphrase flips from 50 %.
 */
export const DEFAULT_STOP_RULES: readonly StepStopRules[] = [
  { fromStep: 1, newErrorClass: true },
  { fromStep: 5, minTopicCoverage: 0.7 },
  { fromStep: 50, maxParaphraseFlips: 1 },
];

const RULE_KEYS: ReadonlyArray<keyof StepStopRules> = ['fromStep', 'minTopicCoverage', 'maxParaphraseFlips', 'newErrorClass'];

/**
 * The rules a schedule keeps: the default rules keep only those some step below 100 reaches (a schedule such as
 * 10 → 100 judges topic coverage at 10 % and no paraphrase rule); rules the user gave are kept as given (and
 * validated).
 */
export function stopRulesFor(given: readonly StepStopRules[] | undefined, steps: readonly number[]): StepStopRules[] {
  if (given !== undefined) return [...given];
  const highest = Math.max(0, ...steps.slice(0, -1));
  return DEFAULT_STOP_RULES.filter((rule) => rule.fromStep <= highest);
}

/** Validates the `stopRules` option against the schedule's steps, each problem naming the entry and the value. */
export function validateStopRules(problems: PropProblems, rules: unknown, steps: unknown): void {
  const prop = 'strategy (staged) stopRules';
  if (rules === undefined) return;
  if (!Array.isArray(rules)) {
    problems.add(prop, 'a list of { fromStep, minTopicCoverage?, maxParaphraseFlips?, newErrorClass? }', rules);
    return;
  }
  const below = Array.isArray(steps) ? steps.slice(0, -1).filter((s): s is number => typeof s === 'number') : undefined;
  rules.forEach((rule: unknown, i) => {
    const at = `${prop}[${i}]`;
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
      problems.add(at, 'an object { fromStep, minTopicCoverage?, maxParaphraseFlips?, newErrorClass? }', rule);
      return;
    }
    const r = rule as StepStopRules;
    for (const key of Object.keys(r)) {
      if (!RULE_KEYS.includes(key as keyof StepStopRules)) problems.add(`${at}.${key}`, `one of ${RULE_KEYS.join(', ')} (unknown key)`, key);
    }
    if (r.fromStep === undefined) problems.add(`${at}.fromStep`, 'an integer from 1 to 99 (required)', r.fromStep);
    else problems.integer(`${at}.fromStep`, r.fromStep, 1, 99);
    problems.number(`${at}.minTopicCoverage`, r.minTopicCoverage, { min: 0, max: 1 });
    problems.integer(`${at}.maxParaphraseFlips`, r.maxParaphraseFlips, 0, 1_000);
    if (r.newErrorClass !== undefined && typeof r.newErrorClass !== 'boolean') problems.add(`${at}.newErrorClass`, 'true or false', r.newErrorClass);
    if (r.minTopicCoverage === undefined && r.maxParaphraseFlips === undefined && r.newErrorClass !== true) {
      problems.add(at, 'a rule with minTopicCoverage, maxParaphraseFlips or newErrorClass: true (it judges nothing)', rule);
    }
    if (below && typeof r.fromStep === 'number' && below.length > 0 && r.fromStep > Math.max(...below)) {
      problems.add(`${at}.fromStep`, `at most the highest step below 100 (${Math.max(...below)} in ${JSON.stringify(steps)}), or the rule is never judged`, r.fromStep);
    }
  });
}

/** The schedule's rules as the state machine receives them. */
export function stopRulesConfig(rules: readonly StepStopRules[]): StagedStopRule[] {
  return rules.map((r) => ({
    fromStep: r.fromStep,
    ...(r.minTopicCoverage !== undefined ? { minTopicCoverage: r.minTopicCoverage } : {}),
    ...(r.maxParaphraseFlips !== undefined ? { maxParaphraseFlips: r.maxParaphraseFlips } : {}),
    ...(r.newErrorClass === true ? { newErrorClass: true } : {}),
  }));
}
