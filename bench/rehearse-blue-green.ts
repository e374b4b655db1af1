// The blue-green part of `npm run rehearse`: RolloutStrategy.blueGreen()'s defaults, offline. Before the switch the
// real invariant checker reads the new version's pins and the real ΔS probe (lambdas/probe/engine.ts) asks the
// demo service (lambdas/demo-answer) 20 gold questions chosen as the probe's questionLimit chooses them; after the
// switch the state machine's two hold-and-watch loops are replayed in simulated time, each decision taken by the
// real hold engine (lambdas/blue-green/hold-engine.ts): the metric loop on the newest complete minute of
// simulated user traffic (the worker's own window), the probe loop on real probe runs.
//
// Simulated, and only this: the clock (a probe run counts 30 s, a read 1 s, the Failed report 1 s), the invocation
// latencies (deterministic per question), the user traffic (20 requests a second, seeded), and CodeDeploy's
// rollback. The machine never writes the alias: a breach reports Failed to CodeDeploy at once, and CodeDeploy's
// automatic rollback (a new deployment) moves the alias back to the old version. How long that takes AWS does not
// document; the rehearsal counts the strategy's `rollbackShift` for it, the same assumption the worst-case
// rollback counts, so the time to traffic off printed here is only as true as that assumption.
import { decideHold, HoldDecision, MinuteTraffic, ProbeObservation } from '../lambdas/blue-green/hold-engine';
import { checkInvariants, InvariantDecision } from '../lambdas/blue-green/invariants';
import { metricWindow } from '../lambdas/blue-green/worker';
import { Invoker, runProbe } from '../lambdas/probe/engine';
import { spreadQuestions } from '../lambdas/probe/hook';
import { GoldItem } from '../packages/runtime/src/contract/gold-set';
import { REPORT_BOUND_SECONDS } from '../packages/runtime/src/contract/blue-green';
import { RolloutStrategy } from '../lib/rollout-strategy';
import { demoBuild, REHEARSAL_EMBEDDER } from './rehearsal-memo';
import { mulberry32 } from './prng';
import { DEFAULT_PROBE_CONFIG } from './probe-defaults';

/** A simulated new version, switched to all at once. */
export interface BlueGreenScenario {
  readonly name: string;
  readonly story: string;
  /** Seconds after the switch from which the new version answers as the drifted build. */
  readonly driftAfterSeconds?: number;
  /** Seconds after the switch from which `userErrorRate` of user requests fail (0.02 % before, as the old version). */
  readonly errorsAfterSeconds?: number;
  readonly userErrorRate?: number;
}

export const BLUE_GREEN_SCENARIOS: readonly BlueGreenScenario[] = [
  { name: 'blue-green good', story: 'the same answers, as reliable: held and watched 15 minutes' },
  {
    name: 'blue-green drift after switch',
    story: 'passes invariants and smoke, then its answers drift 6 minutes after the switch (a stale index swapped in behind it)',
    driftAfterSeconds: 360,
  },
];

/** The defaults the rehearsal runs: RolloutStrategy.blueGreen()'s. */
export const BLUE_GREEN_STRATEGY = RolloutStrategy.blueGreen();
const CONFIG = BLUE_GREEN_STRATEGY._config();
/** The release pins the demo's versions carry, declared as invariants. */
const PINS = { SCHEMA_REV: 'v3', INDEX_HASH: 'idx-42' };

/** Simulated seconds: one probe run (under the 45 s probeBudget), one worker read or judgement, one Failed report that lands. */
const PROBE_SECONDS = 30;
const READ_SECONDS = 1;
const REPORT_SECONDS = 1;
/** CodeDeploy's rollback, from the Failed report to the alias on the old version: the strategy's assumption. */
const ROLLBACK_SHIFT_SECONDS = BLUE_GREEN_STRATEGY.rollbackShift.toSeconds();
const REQUESTS_PER_SECOND = 20;

/** One line of the blue-green timeline. */
export interface BlueGreenEntry {
  /** Simulated seconds since the BeforeAllowTraffic hook started. */
  readonly at: number;
  readonly step: 'invariants' | 'smoke' | 'freeze' | 'switch' | 'metrics' | 'probe' | 'report' | 'resume' | 'rollback';
  /** Percent of traffic on the new version after this step. */
  readonly weight: number;
  readonly text: string;
  readonly decision?: HoldDecision | InvariantDecision;
}

/** How a blue-green rehearsal ended. */
export interface BlueGreenRehearsal {
  readonly kind: 'blue-green';
  readonly scenario: BlueGreenScenario;
  readonly outcome: 'held' | 'rolled back' | 'failed before the switch';
  readonly switchedAt?: number;
  /** When the breach began (the drift or the errors). */
  readonly breachAt?: number;
  /** When the Failed report landed (CodeDeploy's rollback starts), and how long after the breach began. */
  readonly reportedAt?: number;
  readonly secondsToReport?: number;
  /**
   * When CodeDeploy's rollback had the alias back on the old version (the report + the assumed `rollbackShift`),
   * and how long after the breach began: the figure the worst-case rollback bounds.
   */
  readonly trafficOffAt?: number;
  readonly secondsToTrafficOff?: number;
  readonly brokenRules: string[];
  readonly reason: string;
  readonly seconds: number;
  readonly metricChecks: number;
  readonly probeRuns: number;
  readonly timeline: BlueGreenEntry[];
}

function latencyOf(question: string): number {
  return 20 + (question.length % 12);
}

/** One real probe run of `questions` against the new version (drifted or not) and the old one. */
async function probeRun(gold: readonly GoldItem[], drifted: boolean): Promise<ProbeObservation> {
  const builds = { new: demoBuild({ release: 'new', drift: drifted }), current: demoBuild({ release: 'current' }) };
  const invoke: Invoker = async (side, request) => {
    const question = String((request as { question?: unknown }).question ?? '');
    const response = await builds[side](request as never);
    return { payload: JSON.stringify(response), latencyMs: latencyOf(question), cold: false };
  };
  const report = await runProbe({
    gold, config: DEFAULT_PROBE_CONFIG, invoke, deadline: Number.POSITIVE_INFINITY,
    functionName: 'demo-answer', alias: 'live', versions: { new: '8', current: '7' },
    embedder: REHEARSAL_EMBEDDER,
  });
  return { status: report.verdict === 'pass' ? 'Succeeded' : 'Failed', reasons: report.reasons, report };
}

/** User traffic of the new version in one minute `[start, start + 60 s)`, simulated seconds. */
function minuteTraffic(scenario: BlueGreenScenario, switchedAt: number, start: number, rng: () => number): MinuteTraffic {
  let invocations = 0;
  let errors = 0;
  const errorsFrom = scenario.errorsAfterSeconds === undefined ? Number.POSITIVE_INFINITY : switchedAt + scenario.errorsAfterSeconds;
  for (let second = start; second < start + 60; second++) {
    if (second < switchedAt) continue;
    const rate = second >= errorsFrom ? scenario.userErrorRate ?? 0.03 : 0.0002;
    for (let i = 0; i < REQUESTS_PER_SECOND; i++) {
      invocations++;
      if (rng() < rate) errors++;
    }
  }
  return { invocations, errors, minuteStart: start * 1000 };
}

const mmss = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(Math.round(s % 60)).padStart(2, '0')}`;

/**
 * Rehearses one scenario: BeforeAllowTraffic (invariants, smoke, freeze), the switch, then the two hold loops
 * interleaved in simulated time until both succeed or one breaks a stop rule: then the machine reports Failed at
 * once (the consumers resumed beside it) and CodeDeploy's rollback moves the alias back after `rollbackShift`.
 */
export async function rehearseBlueGreen(scenario: BlueGreenScenario, options: { gold: readonly GoldItem[]; seed?: number; onEntry?: (entry: BlueGreenEntry) => void }): Promise<BlueGreenRehearsal> {
  const rng = mulberry32(options.seed ?? 11);
  const questions = spreadQuestions(options.gold, CONFIG.smokeQuestions);
  const timeline: BlueGreenEntry[] = [];
  const emit = (entry: BlueGreenEntry) => {
    timeline.push(entry);
    options.onEntry?.(entry);
  };
  const result = (rest: Omit<BlueGreenRehearsal, 'kind' | 'scenario' | 'timeline'>): BlueGreenRehearsal => ({ kind: 'blue-green', scenario, timeline, ...rest });
  let now = 0;

  // BeforeAllowTraffic.
  const invariants = checkInvariants({ ...PINS, ...CONFIG.invariants }, { ...PINS, RELEASE_ID: 'rel-new' }, '8');
  now += READ_SECONDS;
  emit({ at: now, step: 'invariants', weight: 0, text: `${invariants.passed ? '✓' : '✗'} ${invariants.reasons.join('; ')}`, decision: invariants });
  const smoke = await probeRun(questions, false);
  now += PROBE_SECONDS;
  emit({ at: now, step: 'smoke', weight: 0, text: `${smoke.status === 'Succeeded' ? '✓' : '✗'} ΔS probe on ${questions.length} gold questions: ${smoke.status}${smoke.reasons?.length ? ` (${smoke.reasons.join('; ')})` : ''}` });
  if (!invariants.passed || smoke.status !== 'Succeeded') {
    return result({ outcome: 'failed before the switch', brokenRules: [], reason: invariants.passed ? 'smoke probe failed' : invariants.reasons[0], seconds: now, metricChecks: 0, probeRuns: 1 });
  }
  now += READ_SECONDS;
  emit({ at: now, step: 'freeze', weight: 0, text: '1 consumer paused (jobs), remembered for the resume' });
  const switchedAt = now;
  emit({ at: now, step: 'switch', weight: 100, text: 'CodeDeploy points the alias at version 8, all at once; AfterAllowTraffic starts the hold' });

  // AfterAllowTraffic: the two loops.
  const holdEndsAt = switchedAt + CONFIG.holdSeconds;
  const decide = (observation: Parameters<typeof decideHold>[0]['observation'], at: number, check: number) => decideHold({
    observation, rules: CONFIG.stopRules, now: at * 1000, holdStartedAt: switchedAt * 1000, holdEndsAt: holdEndsAt * 1000, check,
  });
  let metricAt = switchedAt; // when the next read starts
  let probeAt = switchedAt;
  let metricChecks = 0;
  let probeRuns = 1;
  let metricDone = false;
  let probeDone = false;
  let lastMinuteShown = -1;
  for (;;) {
    // The loop whose next decision comes first goes next.
    const metricDecisionAt = metricAt + READ_SECONDS;
    const probeDecisionAt = probeAt + PROBE_SECONDS + READ_SECONDS;
    let decision: HoldDecision;
    let at: number;
    if (!metricDone && (probeDone || metricDecisionAt <= probeDecisionAt)) {
      at = metricDecisionAt;
      const window = metricWindow(metricAt * 1000, CONFIG.metricDelaySeconds);
      decision = decide({ source: 'metrics', traffic: minuteTraffic(scenario, switchedAt, window.start / 1000, rng), alarms: [] }, at, ++metricChecks);
      metricAt = at + CONFIG.checkIntervalSeconds;
      if (decision.next === 'succeed') metricDone = true;
      const minute = Math.floor((at - switchedAt) / 60);
      if (decision.next !== 'continue' || minute !== lastMinuteShown) {
        lastMinuteShown = minute;
        emit({ at, step: 'metrics', weight: 100, text: `metric check #${decision.check} → ${decision.next.toUpperCase()}: ${decision.reasons[0]}`, decision });
      }
    } else if (!probeDone) {
      at = probeDecisionAt;
      const drifted = scenario.driftAfterSeconds !== undefined && probeAt >= switchedAt + scenario.driftAfterSeconds;
      decision = decide({ source: 'probe', probe: await probeRun(questions, drifted) }, at, probeRuns++);
      probeAt = at + CONFIG.checkIntervalSeconds;
      if (decision.next === 'succeed') probeDone = true;
      emit({ at, step: 'probe', weight: 100, text: `probe run #${decision.check} → ${decision.next.toUpperCase()}: ${decision.reasons[0]}`, decision });
    } else {
      break;
    }
    if (decision.next === 'rollback') {
      // The machine's RollBack: the Failed report first thing, the resume beside it; the alias is CodeDeploy's to move.
      const worst = BLUE_GREEN_STRATEGY.worstCaseRollback!.toSeconds();
      const reportedAt = at + REPORT_SECONDS;
      const trafficOffAt = reportedAt + ROLLBACK_SHIFT_SECONDS;
      const breachAt = switchedAt + (scenario.driftAfterSeconds ?? scenario.errorsAfterSeconds ?? 0);
      emit({
        at: reportedAt, step: 'report', weight: 100,
        text: `PutLifecycleEventHookExecutionStatus Failed: ${reportedAt - breachAt} s after the breach began (at most ${worst - ROLLBACK_SHIFT_SECONDS} s: `
          + `detection + the report's ${REPORT_BOUND_SECONDS} s); CodeDeploy starts its rollback, the alias still on version 8`,
      });
      emit({ at: at + READ_SECONDS, step: 'resume', weight: 100, text: '1 consumer resumed (jobs), beside the report' });
      emit({
        at: trafficOffAt, step: 'rollback', weight: 0,
        text: `CodeDeploy's rollback points the alias back at version 7 (the old one), rollbackShift ${ROLLBACK_SHIFT_SECONDS} s assumed: `
          + `traffic off ${trafficOffAt - breachAt} s after the breach began (worst case ${worst} s)`,
      });
      return result({
        outcome: 'rolled back', switchedAt, breachAt, reportedAt, secondsToReport: reportedAt - breachAt, trafficOffAt, secondsToTrafficOff: trafficOffAt - breachAt,
        brokenRules: decision.rules.filter((r) => r.passed === false).map((r) => r.name), reason: decision.reasons[0],
        seconds: trafficOffAt, metricChecks, probeRuns: probeRuns - 1,
      });
    }
  }
  const endedAt = Math.max(metricAt, probeAt) - CONFIG.checkIntervalSeconds;
  emit({ at: endedAt + READ_SECONDS, step: 'resume', weight: 100, text: '1 consumer resumed (jobs); Succeeded reported: version 8 stays' });
  return result({ outcome: 'held', switchedAt, brokenRules: [], reason: `held and watched ${CONFIG.holdSeconds} s, no stop rule broken`, seconds: endedAt + READ_SECONDS, metricChecks, probeRuns: probeRuns - 1 });
}

const bar = (weight: number) => `▕${'█'.repeat(Math.round(weight / 5))}${'░'.repeat(20 - Math.round(weight / 5))}▏`;

/** One timeline entry as the rehearsal prints it; a breaking check also prints each rule, measured against its threshold. */
export function formatBlueGreenEntry(entry: BlueGreenEntry): string[] {
  const lines = [`  t+${mmss(entry.at)}  ${bar(entry.weight)} ${String(entry.weight).padStart(3)} %  ${entry.step.padEnd(10)} ${entry.text}`];
  const decision = entry.decision as HoldDecision | undefined;
  // Each rule, measured against its threshold: on the first probe run (what is watched) and on a breach (why it rolls back).
  if (decision?.kind === 'cdk-rollout-guardrails/blue-green/check' && (decision.next === 'rollback' || (decision.source === 'probe' && decision.check === 1))) {
    for (const rule of decision.rules) {
      const mark = rule.passed === null ? '·' : rule.passed ? '✓' : '✗';
      const measured = typeof rule.measured === 'number' ? Number(rule.measured.toFixed(4)) : rule.measured;
      lines.push(`             ${mark} ${rule.name.padEnd(18)} measured ${String(measured).padEnd(10)} threshold ${String(rule.threshold).padEnd(8)} ${rule.reason}`);
    }
  }
  return lines;
}

/** The row of a blue-green rehearsal in the rehearsal's summary table (the staged columns). */
export function blueGreenRow(r: BlueGreenRehearsal): string[] {
  return [
    r.scenario.name,
    r.outcome,
    r.outcome === 'failed before the switch' ? '0 %' : '100 %',
    r.outcome === 'held' ? 'held → stays at 100 %' : r.outcome === 'rolled back' ? `reported in ${r.secondsToReport} s, traffic off in ${r.secondsToTrafficOff} s` : 'before the switch',
    String(r.metricChecks + r.probeRuns),
    String(r.probeRuns + 1),
    mmss(r.seconds),
    r.brokenRules.join(', ') || '-',
  ];
}
