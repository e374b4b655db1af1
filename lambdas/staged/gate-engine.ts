// The staged rollout's decision at each step, as one pure function: the probe's verdict, the live
// canary-vs-control metrics, the gate alarms' states, the failure count and the no-data policy come in;
// advance, hold or roll back goes out, with a reason for every gate. No AWS call, no clock: the gate
// function (index.ts) reads the inputs and the rehearsal (bench/rehearse.ts) simulates them.
import type { Check, QueueAgeConfig, StagedCacheHitRateConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { QueueAgeSeries, queueAgeChecks } from '../shared/queue-age';
import { ErrorClassesSeen, newErrorClassCheck } from './error-classes';
import { CacheTraffic, cacheHitRateCheck } from './cache-hit-rate';

/** What the engine decides. */
export type Decision = 'advance' | 'hold' | 'rollback';

/**
 * Which check this is: `check` before a shift (every gate), `bake` while the weight bakes (the alarms
 * only: a gate alarm in ALARM during the bake rolls back at once, without waiting for the next check).
 */
export type Phase = 'check' | 'bake';

/** An alarm's state as CloudWatch reports it. */
import type { AlarmState } from '../shared/alarms';
export type { AlarmState };

/** What to do when the canary has served too little traffic to compare it with the control. */
export interface NoDataPolicy {
  /** How long a step may wait for data, in seconds, re-checking every recheck interval. */
  readonly maxWaitSeconds: number;
  /** After the wait: `fail` rolls back, `pass` judges the step on the probe and alarms alone. */
  readonly then: 'fail' | 'pass';
  /** Fewest canary invocations in the window for the metric gates to judge. */
  readonly minInvocations: number;
}

/** Thresholds of the live metric gates (the same meaning as ReleaseGates' GateThresholds). */
export interface MetricThresholds {
  /** Largest error rate of the canary minus the control's, as a fraction. */
  readonly maxErrorRateDelta: number;
  /** Largest p95 duration of the canary over the control's. */
  readonly maxP95Ratio: number;
  /** Largest error rate of the canary, as a fraction. */
  readonly maxErrorRate: number;
}

/** One version's traffic in the window, read from AWS/Lambda by ExecutedVersion. */
export interface VersionTraffic {
  readonly invocations: number;
  readonly errors: number;
  /** p95 duration in milliseconds; undefined when CloudWatch returned no datapoint. */
  readonly p95Ms?: number;
}

/** The probe's verdict as the state machine passes it on; undefined when no probe is configured. */
export interface ProbeOutcome {
  readonly verdict: 'pass' | 'fail';
  readonly reasons: readonly string[];
}

/** Everything one decision is made from. */
export interface GateInput {
  readonly phase: Phase;
  /** The schedule, percent of traffic on the new version, strictly rising, ending at 100. */
  readonly steps: readonly number[];
  /** Index into `steps` of the shift this check guards (0: the shift from 0 % to steps[0]). */
  readonly stepIndex: number;
  /** Gate failures already counted at this step. */
  readonly failures: number;
  readonly maxFailuresPerStep: number;
  /** Seconds this step has already waited for data. */
  readonly noDataWaitedSeconds: number;
  readonly noData: NoDataPolicy;
  /** Seconds between re-checks of a held step. */
  readonly recheckSeconds: number;
  readonly thresholds: MetricThresholds;
  /** `undefined`: no probe configured. Ignored in the bake phase. */
  readonly probe?: ProbeOutcome;
  /** The canary's and the control's traffic over the last window; ignored in the bake phase and at 0 %. */
  readonly canary?: VersionTraffic;
  readonly control?: VersionTraffic;
  readonly alarms: ReadonlyArray<{ readonly name: string; readonly state: AlarmState }>;
  /** The queue-age gate's rule, and each queue's ages over the window; ignored in the bake phase and at 0 %. */
  readonly queueAge?: { readonly rule: QueueAgeConfig; readonly series: readonly QueueAgeSeries[] };
  /** The error classes each version showed in the window, where the `newErrorClass` stop rule is in force. */
  readonly errorClasses?: ErrorClassesSeen;
  /** The cache hit-rate gate's rule and each version's lookups and hits in the window, for an alias with it. */
  readonly cacheHitRate?: { readonly rule: StagedCacheHitRateConfig; readonly canary?: CacheTraffic; readonly control?: CacheTraffic };
  /** Seconds left before CodeDeploy's hook limit, less the margin kept to reset and report. */
  readonly secondsLeft: number;
  /** Seconds the rest of the schedule needs if this check advances (0 when it is the last). */
  readonly secondsToFinish: number;
  /** Seconds one hold costs: the recheck wait plus a probe run. */
  readonly secondsPerHold: number;
}

/** The engine's answer. */
export interface GateDecision {
  readonly decision: Decision;
  /** Why, in sentences a person reads; the first one is the headline. */
  readonly reasons: string[];
  readonly gates: Check[];
  /** Failures counted at this step after this check. */
  readonly failures: number;
  /** Seconds waited for data at this step after this check. */
  readonly noDataWaitedSeconds: number;
  /** Whether the step is waiting for data (a hold that is not a failure). */
  readonly waitingForData: boolean;
  /** The percentage on the new version before this check, and after it. */
  readonly weightBefore: number;
  readonly weightAfter: number;
}

const fmt = (x: number) => String(Number(x.toFixed(4)));
const pct = (x: number) => `${fmt(x * 100)} %`;

/** The percentage on the new version before the check of `stepIndex`. */
export function weightBefore(steps: readonly number[], stepIndex: number): number {
  return stepIndex === 0 ? 0 : steps[stepIndex - 1];
}

/** Judges the live metric gates; `null` when there is not enough data to judge. */
export function metricGates(input: Pick<GateInput, 'canary' | 'control' | 'thresholds' | 'noData'>): Check[] | null {
  const { canary, control, thresholds } = input;
  if (!canary || !control || canary.invocations < input.noData.minInvocations || control.invocations <= 0) return null;
  const canaryRate = canary.errors / canary.invocations;
  const controlRate = control.errors / control.invocations;
  const delta = canaryRate - controlRate;
  const checks: Check[] = [
    atMost('maxErrorRate', 'error rate of the new version', canaryRate, thresholds.maxErrorRate, pct),
    atMost('maxErrorRateDelta', 'error rate of the new version minus the control\'s', delta, thresholds.maxErrorRateDelta, pct),
  ];
  if (canary.p95Ms === undefined || control.p95Ms === undefined || control.p95Ms <= 0) {
    checks.push({ name: 'maxP95Ratio', measured: null, threshold: thresholds.maxP95Ratio, passed: null, reason: 'p95 ratio: no p95 datapoint for both versions' });
  } else {
    checks.push(atMost('maxP95Ratio', 'p95 of the new version over the control\'s', canary.p95Ms / control.p95Ms, thresholds.maxP95Ratio, fmt));
  }
  return checks;
}

function atMost(name: string, what: string, measured: number, threshold: number, show: (x: number) => string): Check {
  const passed = measured <= threshold + 1e-12;
  return { name, measured, threshold, passed, reason: `${what} ${show(measured)} ${passed ? '≤' : '>'} ${show(threshold)}` };
}

/**
 * Decides one check. In order:
 * 1. The gates are judged: the probe (check phase), each gate alarm (ALARM fails; INSUFFICIENT_DATA does
 *    not, since a gate alarm treats missing data as not breaching), and, once the new version serves traffic,
 *    the live metrics and each queue's age. In the bake phase only the alarms are judged.
 * 2. Bake phase: any alarm in ALARM rolls back at once; otherwise the bake goes on (`advance`).
 * 3. Any failed gate counts one failure at this step: at `maxFailuresPerStep` failures the step rolls back,
 *    below it the step holds and is checked again after a recheck.
 * 4. No failure but no data to compare (the canary served fewer than `noData.minInvocations`, or a queue
 *    reported its age for fewer than two minutes of the window): the step
 *    holds while it has waited less than `noData.maxWaitSeconds`; then `fail` rolls back and `pass` advances
 *    on the other gates. Missing data is never a silent pass.
 * 5. Before holding or advancing, time: if what the schedule still needs outlasts `secondsLeft`, roll back
 *    now rather than let CodeDeploy's hook time out with weight still on the new version.
 */
export function decide(input: GateInput): GateDecision {
  const before = weightBefore(input.steps, input.stepIndex);
  const target = input.steps[input.stepIndex];
  const gates: Check[] = [];
  const base = { failures: input.failures, noDataWaitedSeconds: input.noDataWaitedSeconds, waitingForData: false, weightBefore: before };

  for (const alarm of input.alarms) {
    gates.push({
      name: `alarm:${alarm.name}`,
      measured: alarm.state,
      threshold: 'OK',
      passed: alarm.state !== 'ALARM',
      reason: `alarm ${alarm.name} is ${alarm.state}`,
    });
  }

  if (input.phase === 'bake') {
    const firing = gates.filter((g) => g.passed === false);
    if (firing.length > 0) {
      return { ...base, decision: 'rollback', gates, weightAfter: 0, reasons: [`a gate alarm fired while ${before} % baked: ${firing.map((g) => g.reason).join('; ')}`] };
    }
    return { ...base, decision: 'advance', gates, weightAfter: before, reasons: [`${before} % baking, no gate alarm in ALARM`] };
  }

  if (input.probe === undefined) {
    gates.unshift({ name: 'probe', measured: null, threshold: 'pass', passed: null, reason: 'no ΔS probe configured' });
  } else {
    const passed = input.probe.verdict === 'pass';
    gates.unshift({
      name: 'probe',
      measured: input.probe.verdict,
      threshold: 'pass',
      passed,
      reason: passed ? 'ΔS probe passed' : `ΔS probe failed: ${input.probe.reasons.join('; ') || 'no reason given'}`,
    });
  }

  let noData = false;
  if (before > 0) {
    const metrics = metricGates(input);
    if (metrics === null) {
      noData = true;
      gates.push({
        name: 'metrics',
        measured: input.canary?.invocations ?? 0,
        threshold: input.noData.minInvocations,
        passed: null,
        reason: `no data: the new version served ${input.canary?.invocations ?? 0} invocations at ${before} % (fewer than ${input.noData.minInvocations}), or the control none`,
      });
    } else {
      gates.push(...metrics);
    }
    if (input.errorClasses) gates.push(newErrorClassCheck(input.errorClasses));
    if (input.cacheHitRate) {
      const cache = cacheHitRateCheck(input.cacheHitRate.canary, input.cacheHitRate.control, input.cacheHitRate.rule);
      if (cache.passed === null) noData = true;
      gates.push(cache);
    }
    if (input.queueAge) {
      const queues = queueAgeChecks(input.queueAge.series, input.queueAge.rule);
      if (queues.some((g) => g.passed === null)) noData = true;
      gates.push(...queues);
    }
  }

  const failed = gates.filter((g) => g.passed === false);
  const timeFor = (needed: number) => needed <= input.secondsLeft;
  const outOfTime = (needed: number, what: string): GateDecision => ({
    ...base,
    decision: 'rollback',
    gates,
    weightAfter: 0,
    reasons: [`out of time: ${what} needs ${needed} s, ${Math.max(0, Math.floor(input.secondsLeft))} s are left before CodeDeploy's hook limit`],
  });

  if (failed.length > 0) {
    const failures = input.failures + 1;
    const why = failed.map((g) => g.reason).join('; ');
    if (failures >= input.maxFailuresPerStep) {
      return {
        ...base, failures, decision: 'rollback', gates, weightAfter: 0,
        reasons: [`gates failed ${failures} of ${input.maxFailuresPerStep} times before ${target} %: ${why}`],
      };
    }
    const needed = input.secondsPerHold + input.secondsToFinish;
    if (!timeFor(needed)) return { ...outOfTime(needed, 're-checking and finishing the schedule'), failures };
    return {
      ...base, failures, decision: 'hold', gates, weightAfter: before,
      reasons: [`gates failed ${failures} of ${input.maxFailuresPerStep} times before ${target} %, holding at ${before} % to re-check: ${why}`],
    };
  }

  if (noData) {
    if (input.noDataWaitedSeconds < input.noData.maxWaitSeconds) {
      const waited = input.noDataWaitedSeconds + input.recheckSeconds;
      const needed = input.secondsPerHold + input.secondsToFinish;
      if (!timeFor(needed)) return outOfTime(needed, 'waiting for data and finishing the schedule');
      return {
        ...base, decision: 'hold', gates, weightAfter: before, waitingForData: true, noDataWaitedSeconds: waited,
        reasons: [`waiting for data at ${before} %: ${input.noDataWaitedSeconds} of ${input.noData.maxWaitSeconds} s waited, re-checking in ${input.recheckSeconds} s`],
      };
    }
    if (input.noData.then === 'fail') {
      return {
        ...base, decision: 'rollback', gates, weightAfter: 0,
        reasons: [`no data after waiting ${input.noDataWaitedSeconds} s at ${before} %, and the noData policy is fail`],
      };
    }
  }

  if (!timeFor(input.secondsToFinish)) return outOfTime(input.secondsToFinish, 'the rest of the schedule');
  const passedNote = noData ? ` (no data after ${input.noDataWaitedSeconds} s; the noData policy is pass)` : '';
  return {
    ...base, decision: 'advance', gates, weightAfter: target,
    reasons: [target === 100
      ? `every gate passed at ${before} %${passedNote}: report Succeeded, CodeDeploy shifts the rest`
      : `every gate passed${before > 0 ? ` at ${before} %` : ''}${passedNote}: shift to ${target} %`],
  };
}
