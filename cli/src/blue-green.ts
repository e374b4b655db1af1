// Replays a blue-green rollout (RolloutStrategy.blueGreen()) of one alias with the configuration its state
// machine's definition holds: BeforeAllowTraffic (the real invariant check against the new version's environment
// as the template gives it, the real warm gate, a real ΔS probe smoke run, the freeze), CodeDeploy's all-at-once
// switch, then the hold's two loops interleaved in simulated time, each decision the real hold engine's
// (lambdas/blue-green/hold-engine.ts) on the worker's own metric window. A breach reports Failed; CodeDeploy's
// rollback then moves the alias back, after an assumed rollback shift (defaults.ts).
import { decideHold, HoldDecision } from '../../lambdas/blue-green/hold-engine';
import { checkInvariants } from '../../lambdas/blue-green/invariants';
import { metricWindow } from '../../lambdas/blue-green/worker';
import { PROBE_RUN_SECONDS, ROLLBACK_SHIFT_SECONDS, STEP_SECONDS } from './defaults';
import type { GuardedAliasInfo } from './discover';
import { alarmStates, modelAlarms } from './alarms';
import { allStates } from './definition';
import { hungTask } from './hung';
import type { ScenarioResult, TimelineEntry } from './result';
import { behaviourAt, breachStart, Scenario } from './scenarios';
import { simulateProbe, simulateWindow } from './simulate';
import { resolveString } from './tokens';
import { rehearseWarmGate } from './warm';

type BlueGreenAlias = Extract<GuardedAliasInfo, { strategy: 'blue-green' }>;

/** The new version's environment as the template declares it (tokens as names). */
function environmentOf(alias: BlueGreenAlias): Record<string, string> {
  const variables = (alias.stack.resources[alias.functionLogicalId]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, resolveString(v)]));
}

/** Rehearses one scenario on one blue-green alias. */
export async function rehearseBlueGreen(alias: BlueGreenAlias, scenario: Scenario, onEntry?: (e: TimelineEntry) => void): Promise<Omit<ScenarioResult, 'expected'>> {
  const config = alias.config;
  const timeline: TimelineEntry[] = [];
  const notifications: string[] = [];
  const assumptions = [`CodeDeploy's rollback shift takes ${ROLLBACK_SHIFT_SECONDS} s (the strategy's rollbackShift default; register CD-15)`];
  const emit = (entry: TimelineEntry) => { timeline.push(entry); onEntry?.(entry); };
  const notify = (decision: string) => { if (config.topicArn) notifications.push(`blue-green-decision ${decision}`); };
  let now = STEP_SECONDS;
  let switchedAt: number | undefined;
  const clockOf = (t: number) => (scenario.clock === 'start' ? t : switchedAt === undefined ? -1 : t - switchedAt);
  const end = (rest: Pick<ScenarioResult, 'outcome' | 'ending'> & Partial<ScenarioResult>): Omit<ScenarioResult, 'expected'> => {
    const b = breachStart(scenario);
    const breachAt = b === undefined ? undefined : scenario.clock === 'start' ? Math.max(b, switchedAt ?? b) : switchedAt === undefined ? undefined : switchedAt + b;
    return { alias, scenario, maxWeight: switchedAt === undefined ? 0 : 100, notifications, seconds: now, timeline, assumptions, breachAt, ...rest };
  };
  const before = (what: string) => {
    notify('failed');
    return end({ outcome: 'rollback', ending: `stopped before the switch (${what})`, detectedAt: now });
  };

  if (config.shadowPromotion) {
    assumptions.push('the release passed shadow (requireShadow: its record is in DynamoDB, not in the assembly)');
    emit({ at: now, weight: 0, text: `stage 0: has release ${config.shadowPromotion.releaseId} passed shadow? its record is not in the assembly: taken as passed (assumed)` });
  }
  const invariants = checkInvariants(config.invariants, environmentOf(alias), 'new');
  emit({ at: now, weight: 0, text: `invariants → ${invariants.passed ? 'PASS' : 'FAIL'}: ${invariants.reasons[0]}`, gates: invariants.checks });
  if (!invariants.passed) return before('invariants');
  if (config.warmup) {
    const { result, seconds } = await rehearseWarmGate(scenario, config.warmup, now);
    now += seconds;
    emit({ at: now, weight: 0, text: `warm gate → ${result.ok ? `PASS: READY, ${result.pingsSent} warm pings answered` : `FAIL: ${result.reasons[0]}`}` });
    if (!result.ok) return before('warm gate');
  }
  const questions = alias.probe ? Math.min(config.smokeQuestions, alias.probe.gold.length) : 0;
  const probeNow = () => simulateProbe(alias.probe!.gold, alias.probe!.config, behaviourAt(scenario, clockOf(now)), scenario.control.latency, { questionLimit: config.smokeQuestions, stopRules: null });
  if (alias.probe) {
    const smoke = await probeNow();
    now += Math.min(PROBE_RUN_SECONDS, config.probeBudgetSeconds);
    emit({ at: now, weight: 0, text: `smoke probe (${questions} gold questions) → ${smoke.status === 'Succeeded' ? 'PASS' : `FAIL: ${smoke.reasons[0]}`}`, gates: smoke.report.gates });
    if (smoke.status !== 'Succeeded') return before('smoke probe');
  }
  now += STEP_SECONDS;
  notify('passed');
  emit({ at: now, weight: 0, text: `freeze: ${config.freeze.length} consumer(s) paused across the switch` });
  switchedAt = now;
  emit({ at: now, weight: 100, text: 'CodeDeploy switches the alias to the new version, all at once; AfterAllowTraffic starts the hold' });

  const holdEndsAt = switchedAt + config.holdSeconds;
  const alarms = modelAlarms(alias);
  const assumed = alarms.notModelled.map((name) => `alarm:${name}`);
  const minuteAt = (start: number) => simulateWindow(behaviourAt(scenario, clockOf(start + 30)), scenario.control, start + 30 >= switchedAt! ? 100 : 0, 60);
  const decide = (observation: Parameters<typeof decideHold>[0]['observation'], at: number, check: number) => decideHold({
    observation, rules: config.stopRules, now: at * 1000, holdStartedAt: switchedAt! * 1000, holdEndsAt: holdEndsAt * 1000, check,
  });
  const rollBack = (at: number, why: string) => {
    const detectedAt = at;
    const reportedAt = at + STEP_SECONDS;
    now = reportedAt + ROLLBACK_SHIFT_SECONDS;
    notify('rolled-back');
    emit({ at: reportedAt, weight: 100, text: `RollBack: Failed reported (${why}); the consumers resume beside it` });
    emit({ at: now, weight: 0, text: `CodeDeploy's rollback points the alias back at the old version (rollback shift ${ROLLBACK_SHIFT_SECONDS} s, assumed)` });
    return end({ outcome: 'rollback', ending: `rolled back ${Math.round(at - switchedAt!)} s after the switch`, detectedAt, trafficOffAt: now, trafficOffAssumed: true });
  };
  if (scenario.hungRead) {
    const hung = hungTask(alias.stack, 'Watch', allStates(alias.machine.states).Watch ?? { Type: 'Task' }, 'RollBack');
    const at = switchedAt + hung.seconds;
    emit({ at, weight: 100, text: `Watch's metric read never answers: ${hung.attempts} attempt(s) of ${hung.attemptSeconds} s (${hung.bound}), ending ${hung.error} → the hold's catch → ${hung.next}` });
    return { ...rollBack(at, 'the metric watch failed'), breachAt: switchedAt };
  }
  let metricAt = switchedAt;
  let probeAt = switchedAt;
  let metricChecks = 0;
  let probeRuns = 0;
  let metricDone = false;
  let probeDone = alias.probe === undefined;
  let lastMinute = -1;
  for (;;) {
    const metricDecisionAt = metricAt + STEP_SECONDS;
    const probeDecisionAt = probeAt + Math.min(PROBE_RUN_SECONDS, config.probeBudgetSeconds) + STEP_SECONDS;
    let decision: HoldDecision;
    let at: number;
    if (!metricDone && (probeDone || metricDecisionAt <= probeDecisionAt)) {
      at = metricDecisionAt;
      const window = metricWindow(metricAt * 1000, config.metricDelaySeconds);
      const start = window.start / 1000;
      const seconds = Math.max(0, Math.min(60, start + 60 - switchedAt));
      const traffic = simulateWindow(behaviourAt(scenario, clockOf(start + 30)), scenario.control, 100, seconds).canary;
      decision = decide({ source: 'metrics', traffic: { invocations: traffic.invocations, errors: traffic.errors, minuteStart: window.start }, alarms: alarmStates(alarms, at, minuteAt) }, at, ++metricChecks);
      metricAt = at + config.checkIntervalSeconds;
      if (decision.next === 'succeed') metricDone = true;
      const minute = Math.floor((at - switchedAt) / 60);
      if (decision.next !== 'continue' || minute !== lastMinute) {
        lastMinute = minute;
        emit({ at, weight: 100, text: `metric check #${decision.check} → ${decision.next.toUpperCase()}: ${decision.reasons[0]}`, gates: decision.rules, assumed });
      }
    } else if (!probeDone) {
      at = probeDecisionAt;
      now = probeAt;
      const run = await probeNow();
      decision = decide({ source: 'probe', probe: { status: run.status, reasons: run.reasons, report: run.report } }, at, ++probeRuns);
      probeAt = at + config.checkIntervalSeconds;
      if (decision.next === 'succeed') probeDone = true;
      emit({ at, weight: 100, text: `probe run #${decision.check} → ${decision.next.toUpperCase()}: ${decision.reasons[0]}`, gates: decision.rules });
    } else break;
    if (decision.next === 'rollback') return rollBack(at, `${decision.source} check #${decision.check}`);
  }
  now = Math.max(metricAt, probeAt) - config.checkIntervalSeconds + STEP_SECONDS;
  notify('held');
  emit({ at: now, weight: 100, text: `held ${config.holdSeconds} s without a breach: consumers resumed, Succeeded reported, the new version stays` });
  return end({ outcome: 'promote', ending: `held ${Math.round(config.holdSeconds / 60)} min, kept` });
}
