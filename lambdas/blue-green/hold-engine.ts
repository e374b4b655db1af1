// The blue-green hold-and-watch decision, as one pure function: one check's observations in (the 5xx of the
// newest minute and the gate alarms, or one probe run's ΔS, coverage and λ), `continue`, `succeed` or
// `rollback` out, with every stop rule's measured value against its threshold and the reasons. No AWS call,
// no clock: the worker (worker.ts) reads the observations, the rehearsal (bench/rehearse-blue-green.ts)
// simulates them.
import { BlueGreenStopRuleConfig, Check, DECISION_KIND, QueueAgeConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { QueueAgeSeries, queueAgeChecks } from '../shared/queue-age';

/** What the hold does after this check. */
export type HoldNext = 'continue' | 'succeed' | 'rollback';

/** An alarm's state as CloudWatch reports it. */
import type { AlarmState } from '../shared/alarms';
export type { AlarmState };

/** The new version's traffic in the newest complete minute (AWS/Lambda by ExecutedVersion under the alias). */
export interface MinuteTraffic {
  readonly invocations: number;
  readonly errors: number;
  /** Epoch milliseconds of the minute's start, for the record. */
  readonly minuteStart?: number;
}

/**
 * One hold-and-watch probe run, as the machine hands it over. `Unavailable`: the run did not answer within its
 * budget, or failed to run at all.
 */
export interface ProbeObservation {
  readonly status: 'Succeeded' | 'Failed' | 'Unavailable' | string;
  readonly reasons?: readonly string[];
  /** The probe's report (lambdas/probe/engine.ts ProbeReport); only the fields read here. */
  readonly report?: {
    readonly new?: { readonly deltaSP95?: number | null; readonly coverageMedian?: number | null };
    readonly current?: { readonly deltaSP95?: number | null };
    readonly lambdaFlips?: ReadonlyArray<{ readonly id: string; readonly current: string; readonly new: string }>;
    /** All the flips, when `lambdaFlips` lists only the first few (a compact report). */
    readonly lambdaFlipCount?: number;
    readonly plan?: { readonly questions?: number };
  };
}

/** One check's observations: either the metrics branch's, or the probe branch's. */
export type HoldObservation =
  | {
    readonly source: 'metrics';
    readonly traffic?: MinuteTraffic;
    readonly alarms: ReadonlyArray<{ readonly name: string; readonly state: AlarmState }>;
    /** The queue-age gate's rule and each queue's ages over the hold's last minutes, for an alias with queues. */
    readonly queueAge?: { readonly rule: QueueAgeConfig; readonly series: readonly QueueAgeSeries[] };
  }
  | { readonly source: 'probe'; readonly probe: ProbeObservation };

/** Everything one decision is made from. */
export interface HoldInput {
  readonly observation: HoldObservation;
  readonly rules: BlueGreenStopRuleConfig;
  /** Epoch milliseconds: now, when the hold started, when it ends. */
  readonly now: number;
  readonly holdStartedAt: number;
  readonly holdEndsAt: number;
  /** This branch's check number, from 1. */
  readonly check: number;
}

/** The engine's answer: also the structured record of this check, in the state's output for later publishing. */
export interface HoldDecision {
  readonly kind: `${typeof DECISION_KIND}/check`;
  readonly source: 'metrics' | 'probe';
  readonly check: number;
  readonly next: HoldNext;
  /** Why, in sentences a person reads; the first one is the headline. */
  readonly reasons: string[];
  /** Every stop rule of this check as judged (`passed: null`: not judged, e.g. too little traffic, which is said, not passed). */
  readonly rules: Check[];
  readonly at: string;
  readonly elapsedSeconds: number;
  readonly holdSeconds: number;
}

const fmt = (x: number) => String(Number(x.toFixed(4)));
const pct = (x: number) => `${fmt(x * 100)} %`;
const EPS = 1e-12;

function finite(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/**
 * The metric rules: the 5xx rate of the newest minute, each gate alarm, and each queue's age (a queue with too few
 * datapoints is not judged, and says so, as a quiet minute's 5xx rate is not).
 */
export function metricRules(
  traffic: MinuteTraffic | undefined,
  alarms: ReadonlyArray<{ readonly name: string; readonly state: AlarmState }>,
  rules: BlueGreenStopRuleConfig,
  queueAge?: { readonly rule: QueueAgeConfig; readonly series: readonly QueueAgeSeries[] },
): Check[] {
  const checks: Check[] = [];
  const invocations = traffic?.invocations ?? 0;
  if (!traffic || invocations < rules.minInvocations) {
    checks.push({
      name: 'max5xxRate', measured: null, threshold: rules.max5xxRate, passed: null,
      reason: `5xx rate not judged: ${invocations} invocations of the new version in the minute read (fewer than ${rules.minInvocations})`,
    });
  } else {
    const rate = traffic.errors / invocations;
    const passed = rate <= rules.max5xxRate + EPS;
    checks.push({
      name: 'max5xxRate', measured: rate, threshold: rules.max5xxRate, passed,
      reason: `5xx rate of the new version ${pct(rate)} (${traffic.errors} of ${invocations}) ${passed ? '≤' : '>'} ${pct(rules.max5xxRate)}`,
    });
  }
  for (const alarm of alarms) {
    checks.push({ name: `alarm:${alarm.name}`, measured: alarm.state, threshold: 'OK', passed: alarm.state !== 'ALARM', reason: `alarm ${alarm.name} is ${alarm.state}` });
  }
  if (queueAge) checks.push(...queueAgeChecks(queueAge.series, queueAge.rule));
  return checks;
}

/**
 * The probe rules. A run that did not answer, or answered without the measurements (it could not run), breaks
 * the `probe` rule: ΔS, coverage and λ cannot be watched, and what cannot be watched is not passed.
 */
export function probeRules(probe: ProbeObservation, rules: BlueGreenStopRuleConfig): Check[] {
  const report = probe.report;
  const newP95 = report?.new?.deltaSP95;
  const currentP95 = report?.current?.deltaSP95;
  const coverage = report?.new?.coverageMedian;
  const questions = report?.plan?.questions;
  if (probe.status === 'Unavailable' || !finite(newP95) || !finite(currentP95) || !finite(coverage) || !finite(questions) || questions <= 0 || !Array.isArray(report?.lambdaFlips)) {
    const why = probe.reasons && probe.reasons.length > 0 ? probe.reasons.join('; ') : 'no measurements in its answer';
    return [{ name: 'probe', measured: probe.status, threshold: 'a probe report', passed: false, reason: `the ΔS probe gave no measurements: ${why}` }];
  }
  const drift = newP95 - currentP95;
  const flips = report!.lambdaFlips!;
  const flipCount = finite(report!.lambdaFlipCount) ? report!.lambdaFlipCount : flips.length;
  const flipRate = flipCount / questions;
  const driftPassed = drift <= rules.maxDeltaSP95Drift + EPS;
  const coveragePassed = coverage >= rules.minCoverage - EPS;
  const flipsPassed = flipRate <= rules.maxLambdaFlipRate + EPS;
  return [
    {
      name: 'maxDeltaSP95Drift', measured: drift, threshold: rules.maxDeltaSP95Drift, passed: driftPassed,
      reason: `ΔS p95 drift (new ${fmt(newP95)} − old ${fmt(currentP95)}) ${fmt(drift)} ${driftPassed ? '≤' : '>'} ${fmt(rules.maxDeltaSP95Drift)}`,
    },
    {
      name: 'minCoverage', measured: coverage, threshold: rules.minCoverage, passed: coveragePassed,
      reason: `median coverage of the new version ${fmt(coverage)} ${coveragePassed ? '≥' : '<'} ${fmt(rules.minCoverage)}`,
    },
    {
      name: 'maxLambdaFlipRate', measured: flipRate, threshold: rules.maxLambdaFlipRate, passed: flipsPassed,
      reason: `λ flip rate ${flipCount} of ${questions} = ${fmt(flipRate)} ${flipsPassed ? '≤' : '>'} ${fmt(rules.maxLambdaFlipRate)}`
        + (flips.length > 0 ? ` (${flips.slice(0, 3).map((f) => `${f.id}: ${f.current} → ${f.new}`).join(', ')}${flipCount > 3 ? ', ...' : ''})` : ''),
    },
  ];
}

/**
 * Decides one check. In order:
 * 1. The rules of this observation are judged: for the metrics, the 5xx rate (not judged below
 *    `minInvocations`, which is said) and each gate alarm (ALARM breaks it; INSUFFICIENT_DATA does not, since
 *    the gate alarms treat missing data as not breaching); for the probe, ΔS p95 drift, coverage and λ flip rate,
 *    or the `probe` rule itself when the run gave no measurements.
 * 2. Any broken rule: `rollback`, at once. The seed's stop rules say stop on a breach; one check is enough.
 * 3. Otherwise, once the hold has lasted `holdEndsAt − holdStartedAt`: `succeed`; before that: `continue`.
 */
export function decideHold(input: HoldInput): HoldDecision {
  const { observation, rules } = input;
  const checks = observation.source === 'metrics'
    ? metricRules(observation.traffic, observation.alarms, rules, observation.queueAge)
    : probeRules(observation.probe, rules);
  const elapsedSeconds = Math.max(0, Math.round((input.now - input.holdStartedAt) / 1000));
  const holdSeconds = Math.round((input.holdEndsAt - input.holdStartedAt) / 1000);
  const base = {
    kind: `${DECISION_KIND}/check` as const,
    source: observation.source,
    check: input.check,
    rules: checks,
    at: new Date(input.now).toISOString(),
    elapsedSeconds,
    holdSeconds,
  };
  const broken = checks.filter((c) => c.passed === false);
  if (broken.length > 0) {
    return { ...base, next: 'rollback', reasons: [`stop rule broken ${elapsedSeconds} s into the hold, rolling back: ${broken.map((c) => c.reason).join('; ')}`] };
  }
  const notJudged = checks.filter((c) => c.passed === null).map((c) => c.reason);
  if (input.now >= input.holdEndsAt) {
    return { ...base, next: 'succeed', reasons: [`held and watched ${elapsedSeconds} s of ${holdSeconds} s, no stop rule broken`, ...notJudged] };
  }
  return { ...base, next: 'continue', reasons: [`${elapsedSeconds} of ${holdSeconds} s held, no stop rule broken`, ...notJudged] };
}
