// npm run rehearse: the staged schedule, offline, before it runs in AWS. The real gate function's planner
// (lambdas/staged/gate.ts, over the real gate engine) walks the default schedule the way the state machine
// does; before each check the real ΔS probe (lambdas/probe/engine.ts) asks the demo service (lambdas/demo-answer)
// in-process what the machine's Probe task would pass it: the whole gold set (bin/gold-set.jsonl) before the first
// shift, the canary questions after, with the stop rules in force at the weight (the gate function's
// probeQuestions and probeStopRules); between checks, live traffic is simulated per version.
//
// What is simulated, and only this: the clock (probe runs and waits take simulated time), the invocation
// latencies (deterministic per question, as in test/probe-e2e.suite.ts: in-process timings are noise), and the
// user traffic the CloudWatch metrics would show (20 requests a second, split by the weight, with a seeded
// random generator). Answers, ΔS, coverage, λ, the latency judge and every decision are the real code's.
import * as fs from 'fs';
import * as path from 'path';
import { Invoker, runProbe } from '../lambdas/probe/engine';
import { spreadQuestions } from '../lambdas/probe/hook';
import { ProbeStopRules } from '../packages/runtime/src/contract/probe';
import { GoldItem, parseGoldSet } from '../packages/runtime/src/contract/gold-set';
import { percentile } from '../packages/runtime/src/probe/latency';
import { GateOutput, planStep, ProbeResult } from '../lambdas/staged/gate';
import { VersionTraffic } from '../lambdas/staged/gate-engine';
import { DEFAULT_GATE_THRESHOLDS } from '../lib/release-gates';
import { RolloutStrategy } from '../lib/rollout-strategy';
import { INITIAL_PROGRESS, newErrorClassAt, StagedAliasConfig, StagedExecutionInput, StagedProgress } from '../packages/runtime/src/contract/staged';
import { ErrorClassesSeen } from '../lambdas/staged/error-classes';
import { planShadowStep } from '../lambdas/staged/shadow-gate';
import { fenceLiftReason, withFenceLifted } from '../lambdas/staged/fence-lift';
import { encodeFenced } from '../packages/runtime/src/contract/staged';
import { DEFAULT_SHADOW_PROMOTION, judgeShadowPromotion } from '../packages/runtime/src/contract/shadow-promotion';
import { demoBuild, REHEARSAL_EMBEDDER } from './rehearsal-memo';
import { Scenario, SCENARIOS } from './rehearsal-scenarios';
import { mulberry32 } from './prng';
import { formatCohortRehearsal, rehearseStickyCohorts } from './rehearse-cohorts';
import { DEFAULT_PROBE_CONFIG } from './probe-defaults';
import {
  BLUE_GREEN_SCENARIOS, BLUE_GREEN_STRATEGY, BlueGreenRehearsal, blueGreenRow, formatBlueGreenEntry, rehearseBlueGreen,
} from './rehearse-blue-green';

export type { Scenario };
export { SCENARIOS };

/** The queue-age gate's defaults (RolloutStrategy.staged({ queues })) on the rehearsal's one queue. */
const QUEUE_AGE = { queueNames: ['jobs'], maxSlopeSecondsPerMinute: 6, minAgeSeconds: 60 };

/**
 * The `jobs` queue's oldest-message age over a window of `minutes` ending at `now` seconds: a healthy consumer
 * keeps it at 10 to 25 s; a backlog that began at `since` adds 40 s a minute from then.
 */
function queueAges(rng: () => number, minutes: number, now: number, since: number | undefined): number[] {
  return Array.from({ length: minutes }, (_, i) => {
    const at = now - (minutes - 1 - i) * 60;
    const backlog = since === undefined || at < since ? 0 : ((at - since) / 60) * 40;
    return Math.round(10 + 15 * rng() + backlog);
  });
}

/** What the new version answers where it has no answer: nothing of the expected section. */
const OFF_TOPIC = 'Sorry, nothing in the index answers that question.';

/** The staged defaults: RolloutStrategy.staged()'s schedule and ReleaseGates' thresholds. */
export const REHEARSAL_CONFIG: StagedAliasConfig = {
  schedule: RolloutStrategy.staged()._schedule(),
  thresholds: DEFAULT_GATE_THRESHOLDS,
  alarmNames: [],
  probeFunctionArn: 'rehearsal:probe',
};

/** Simulated time one probe run takes (the demo's gold set runs in well under its 5-minute budget). */
const PROBE_SECONDS = 60;
/** Simulated user traffic on the alias. */
const REQUESTS_PER_SECOND = 20;
const HOOK_SECONDS = 3600 - 120;

/** One line of the timeline. */
export interface TimelineEntry {
  /** Stage 0: the shadow check before anything else (an alias with `requireShadow`). */
  readonly stage0?: boolean;
  /** Simulated seconds since the hook started. */
  readonly at: number;
  readonly step: number;
  readonly phase: StagedProgress['phase'];
  readonly weightBefore: number;
  readonly output: GateOutput;
  readonly probe?: ProbeResult;
}

/** How a rehearsal ended. */
export interface RehearsalResult {
  readonly scenario: Scenario;
  /** `refused`: stage 0 found that the release had not passed shadow; nothing ran and no user saw it. */
  readonly outcome: 'succeeded' | 'rolled back' | 'refused';
  /** The highest weight users saw on the new version. */
  readonly maxWeight: number;
  /** The step (percent) whose check ended it: 100 for success. */
  readonly endedBefore: number;
  /** The gates that failed at the last check. */
  readonly failedGates: string[];
  readonly reason: string;
  readonly seconds: number;
  readonly checks: number;
  readonly probeRuns: number;
  readonly timeline: TimelineEntry[];
  /** With a consumer fence: when it lifted (simulated seconds) and why; undefined while it held to the end. */
  readonly fenceLifted?: { readonly at: number; readonly why: string };
}

const random = mulberry32;

/** Deterministic latency of one request, as test/probe-e2e.suite.ts simulates it: 20 to 31 ms by question length. */
function latencyOf(question: string, factor: number): number {
  return (20 + (question.length % 12)) * factor;
}

const GOLD_FILE = path.join(__dirname, '..', 'bin', 'gold-set.jsonl');

/** Loads the demo's gold set. */
export function loadGold(file: string = GOLD_FILE): GoldItem[] {
  return parseGoldSet(fs.readFileSync(file, 'utf8'));
}

/** What the machine's Probe task passes the probe: the gate function's last word on how many questions and which stop rules. */
interface ProbeAsk {
  readonly weight: number;
  readonly questionLimit: number | null;
  readonly stopRules: ProbeStopRules | null;
}

/** Runs the real probe against the scenario's version and the current one, returning what the machine stores. */
async function probe(scenario: Scenario, gold: readonly GoldItem[], ask: ProbeAsk): Promise<ProbeResult> {
  const builds = {
    new: demoBuild({ release: `new-${scenario.name}`, drift: scenario.drift }),
    current: demoBuild({ release: 'current' }),
  };
  const forgotten = new Set(gold.filter((g) => g.topic !== undefined && g.topic === scenario.forgetsTopic).flatMap((g) => [g.question, ...g.paraphrases]));
  const unstable = scenario.unstableParaphrases;
  const unstableTexts = new Set(unstable && ask.weight >= unstable.fromWeight ? gold.filter((g) => g.id === unstable.id).flatMap((g) => g.paraphrases.slice(0, 2)) : []);
  const invoke: Invoker = async (side, request) => {
    const { question: asked, seed } = request as { question?: unknown; seed?: unknown };
    const question = String(asked ?? '');
    const offTopic = side === 'new' && (forgotten.has(question) || (unstableTexts.has(question) && Number(seed) === 1));
    const response = offTopic ? { answer: OFF_TOPIC } : await builds[side](request as never);
    return { payload: JSON.stringify(response), latencyMs: latencyOf(question, side === 'new' ? scenario.latencyFactor : 1), cold: false };
  };
  const report = await runProbe({
    gold: ask.questionLimit === null ? gold : spreadQuestions(gold, ask.questionLimit),
    config: DEFAULT_PROBE_CONFIG, invoke, deadline: Number.POSITIVE_INFINITY,
    functionName: 'demo-answer', alias: 'live', versions: { new: '8', current: '7' },
    stopRules: ask.stopRules ?? undefined,
    embedder: REHEARSAL_EMBEDDER,
  });
  return { status: report.verdict === 'pass' ? 'Succeeded' : 'Failed', reasons: report.reasons };
}

/** User traffic over `seconds` at `weight` % on the new version, as CloudWatch would sum it per ExecutedVersion. */
function traffic(scenario: Scenario, gold: readonly GoldItem[], weight: number, seconds: number, rng: () => number): { canary: VersionTraffic; control: VersionTraffic; errorClasses: ErrorClassesSeen } {
  const total = Math.round(REQUESTS_PER_SECOND * seconds);
  const sides = {
    canary: { n: 0, errors: 0, latencies: [] as number[], classes: new Set<string>() },
    control: { n: 0, errors: 0, latencies: [] as number[], classes: new Set<string>() },
  };
  for (let i = 0; i < total; i++) {
    const canary = rng() * 100 < weight;
    const side = canary ? sides.canary : sides.control;
    const question = gold[Math.floor(rng() * gold.length)].question;
    side.n++;
    // Both versions' ordinary failures answer 500; the scenario's new class, its own status.
    if (rng() < (canary ? scenario.userErrorRate : 0.0002)) {
      side.errors++;
      side.classes.add('500');
    } else if (canary && scenario.newErrorClass && rng() < scenario.newErrorClass.rate) {
      side.errors++;
      side.classes.add(scenario.newErrorClass.status);
    }
    // ±10 % jitter around the question's latency.
    side.latencies.push(latencyOf(question, canary ? scenario.latencyFactor : 1) * (0.9 + 0.2 * rng()));
  }
  const summary = (s: typeof sides.canary): VersionTraffic => ({
    invocations: s.n, errors: s.errors, p95Ms: s.latencies.length > 0 ? percentile(s.latencies, 0.95) : undefined,
  });
  // The current version's classes over the window and the hour before it: at 20 requests a second and 0.02 %, its
  // 500s (about 14 an hour) are always among them.
  return { canary: summary(sides.canary), control: summary(sides.control), errorClasses: { canary: [...sides.canary.classes], control: [...new Set(['500', ...sides.control.classes])] } };
}

/**
 * Rehearses one scenario: the state machine's loop (HasProbe → Probe → Gate → Route, Bake and Recheck
 * waits) with the real planner deciding every move.
 */
export async function rehearse(scenario: Scenario, options: { gold?: readonly GoldItem[]; onEntry?: (entry: TimelineEntry) => void; seed?: number } = {}): Promise<RehearsalResult> {
  const gold = options.gold ?? loadGold();
  const rng = random(options.seed ?? 7);
  const execution: StagedExecutionInput = {
    deployment: { deploymentId: `rehearsal-${scenario.name}`, lifecycleEventHookExecutionId: 'rehearsal' },
    target: { functionName: 'demo-answer', alias: 'live', currentVersion: '7', targetVersion: '8' },
    config: {
      ...REHEARSAL_CONFIG,
      ...(scenario.queueBacklogFrom !== undefined ? { queueAge: QUEUE_AGE } : {}),
      ...(scenario.fence ? { schedule: { ...REHEARSAL_CONFIG.schedule, fenceUntilStep: scenario.fence.untilStep } } : {}),
    },
    deadline: HOOK_SECONDS * 1000,
    // As the starter leaves it: the jobs consumer capped, its entry saying how to restore it (it had no cap of its own).
    ...(scenario.fence ? { fenced: [encodeFenced({ uuid: 'jobs-consumer', capPrevious: null })] } : {}),
  };
  let fenceLifted: RehearsalResult['fenceLifted'];
  const steps = REHEARSAL_CONFIG.schedule.steps;
  let now = 0;
  let weight = 0;
  let maxWeight = 0;
  let progress: StagedProgress = INITIAL_PROGRESS;
  let probeResult: ProbeResult | undefined;
  let probeRuns = 0;
  let checks = 0;
  const timeline: TimelineEntry[] = [];
  let runProbe = true;
  let backlogSince: number | undefined;
  // As the machine's Init state leaves it: the whole gold set and no stop rule before the first shift.
  let ask: ProbeAsk = { weight: 0, questionLimit: null, stopRules: null };
  if (scenario.shadowRecord) {
    // Stage 0, as the machine runs it first with requireShadow: the gate function judges the release's record.
    const requirement = { ...DEFAULT_SHADOW_PROMOTION, table: 'shadow-results', releaseId: scenario.shadowRecord.releaseId };
    const shadowEvent = { ...execution, config: { ...execution.config, shadowPromotion: requirement }, progress, mode: 'shadow' as const };
    const output = planShadowStep(shadowEvent, judgeShadowPromotion(scenario.shadowRecord, requirement, requirement.releaseId));
    const entry: TimelineEntry = { stage0: true, at: now, step: 0, phase: 'check', weightBefore: 0, output };
    timeline.push(entry);
    options.onEntry?.(entry);
    checks++;
    if (output.next === 'rollback') {
      return {
        scenario, outcome: 'refused', maxWeight: 0, endedBefore: steps[0], failedGates: output.gates.filter((g) => g.passed === false).map((g) => g.name),
        reason: output.reasons[0], seconds: now, checks, probeRuns, timeline,
      };
    }
  }
  for (;;) {
    if (runProbe) {
      probeResult = await probe(scenario, gold, ask);
      probeRuns++;
      now += PROBE_SECONDS;
    }
    // CloudWatch's window: the last bake of user traffic at the weight in force.
    const judged = progress.phase === 'check' && weight > 0;
    const { errorClasses, ...window } = judged ? traffic(scenario, gold, weight, REHEARSAL_CONFIG.schedule.bakeSeconds, rng) : { errorClasses: undefined };
    if (scenario.queueBacklogFrom !== undefined && weight >= scenario.queueBacklogFrom) backlogSince ??= now;
    const queues = judged && execution.config.queueAge
      ? [{ queueName: 'jobs', ages: queueAges(rng, REHEARSAL_CONFIG.schedule.bakeSeconds / 60, now, backlogSince) }]
      : undefined;
    // The gate function reads the error classes where a stop rule in force at this weight judges them.
    const classes = newErrorClassAt(execution.config.schedule.stopRules, weight) ? errorClasses : undefined;
    const planned = planStep({ ...execution, progress, probe: probeResult }, { alarms: [], ...window, queues, errorClasses: classes, now: now * 1000 });
    // The gate function restores the fenced consumers at this decision if it lifts the fence (fence-lift.ts).
    const why = fenceLiftReason({ ...execution, progress, probe: probeResult }, planned);
    if (why !== undefined) fenceLifted = { at: now, why };
    const output = why === undefined ? planned : withFenceLifted(planned, execution.fenced ?? [], why);
    if (progress.phase === 'check') checks++;
    const entry: TimelineEntry = {
      at: now, step: progress.stepIndex, phase: progress.phase, weightBefore: weight, output,
      probe: progress.phase === 'check' ? probeResult : undefined,
    };
    timeline.push(entry);
    options.onEntry?.(entry);
    if (output.next === 'succeed' || output.next === 'rollback') {
      const failed = output.gates.filter((g) => g.passed === false).map((g) => g.name);
      return {
        scenario,
        outcome: output.next === 'succeed' ? 'succeeded' : 'rolled back',
        maxWeight,
        endedBefore: output.next === 'succeed' ? 100 : steps[progress.stepIndex] ?? 100,
        failedGates: failed,
        reason: output.reasons[0],
        seconds: now,
        checks,
        probeRuns,
        timeline,
        fenceLifted,
      };
    }
    if (output.next === 'shift') {
      weight = output.weight;
      maxWeight = Math.max(maxWeight, weight);
    }
    now += output.waitSeconds;
    runProbe = output.next === 'recheck' || output.next === 'probe';
    ask = { weight, questionLimit: output.probeQuestions, stopRules: output.probeStopRules };
    progress = output.progress;
  }
}

const clock = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(Math.round(s % 60)).padStart(2, '0')}`;
const bar = (weight: number) => `▕${'█'.repeat(Math.round(weight / 5))}${'░'.repeat(20 - Math.round(weight / 5))}▏`;

/** One timeline line as the rehearsal prints it: step, weight, each gate's measured value and threshold, the decision. */
export function formatEntry(entry: TimelineEntry): string[] {
  const { output } = entry;
  if (entry.phase === 'bake' && output.next === 'bake') return [];
  const what = entry.stage0 ? 'stage 0: has the release passed shadow?' : entry.phase === 'bake' ? 'bake done' : `check before ${REHEARSAL_CONFIG.schedule.steps[entry.step]} %`;
  const decision = entry.stage0 ? (output.next === 'start' ? 'PROMOTE' : 'REFUSE') : output.decision.toUpperCase();
  const lines = [`  t+${clock(entry.at)}  ${bar(entry.weightBefore)} ${String(entry.weightBefore).padStart(3)} %  ${what}  → ${decision}: ${output.reasons[0]}`];
  const fence = output.reasons.find((r) => r.startsWith('consumer fence:'));
  if (fence) lines.push(`             ↺ ${fence}`);
  if (entry.phase === 'check') {
    for (const gate of output.gates) {
      const mark = gate.passed === null ? '·' : gate.passed ? '✓' : '✗';
      const measured = typeof gate.measured === 'number' ? Number(gate.measured.toFixed(4)) : gate.measured;
      lines.push(`             ${mark} ${gate.name.padEnd(23)} measured ${String(measured).padEnd(10)} threshold ${String(gate.threshold).padEnd(8)} ${gate.reason}`);
    }
  }
  return lines;
}

/** The summary table: the staged scenarios, and the blue-green ones (bench/rehearse-blue-green.ts) in the same columns. */
export function summaryTable(results: ReadonlyArray<RehearsalResult | BlueGreenRehearsal>): string {
  const rows = [
    ['scenario', 'outcome', 'max weight', 'ended at', 'checks', 'probe runs', 'sim. time', 'failed gates'],
    ...results.map((r) => ('kind' in r ? blueGreenRow(r) : [
      r.scenario.name, r.outcome, `${r.maxWeight} %`, r.outcome === 'succeeded' ? 'Succeeded → 100 %' : `before ${r.endedBefore} %`,
      String(r.checks), String(r.probeRuns), clock(r.seconds), r.failedGates.join(', ') || '-',
    ])),
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

async function main(): Promise<void> {
  const gold = loadGold();
  const { steps, bakeSeconds, maxFailuresPerStep } = REHEARSAL_CONFIG.schedule;
  console.log(`Rehearsal of RolloutStrategy.staged(): steps ${steps.join(' → ')} %, bake ${bakeSeconds / 60} min, roll back after ${maxFailuresPerStep} failures at one step.`);
  console.log(`The real gate engine and ΔS probe (${gold.length} gold questions) against simulated versions of the demo service; user traffic ${REQUESTS_PER_SECOND} req/s, simulated.\n`);
  const results: Array<RehearsalResult | BlueGreenRehearsal> = [];
  const total = SCENARIOS.length + BLUE_GREEN_SCENARIOS.length;
  for (const [i, scenario] of SCENARIOS.entries()) {
    console.log(`[${i + 1}/${total}] ${scenario.name}: ${scenario.story}`);
    const started = Date.now();
    const result = await rehearse(scenario, { gold, onEntry: (entry) => formatEntry(entry).forEach((l) => console.log(l)) });
    console.log(`  ⇒ ${result.outcome.toUpperCase()} after ${clock(result.seconds)} simulated (${Date.now() - started} ms real)\n`);
    results.push(result);
  }
  console.log(`Rehearsal of RolloutStrategy.blueGreen(): ${BLUE_GREEN_STRATEGY.toString()}.`);
  console.log('The real invariant checker, ΔS probe and hold engine against simulated versions of the demo service, switched all at once.\n');
  for (const [i, scenario] of BLUE_GREEN_SCENARIOS.entries()) {
    console.log(`[${SCENARIOS.length + i + 1}/${total}] ${scenario.name}: ${scenario.story}`);
    const started = Date.now();
    const result = await rehearseBlueGreen(scenario, { gold, onEntry: (entry) => formatBlueGreenEntry(entry).forEach((l) => console.log(l)) });
    console.log(`  ⇒ ${result.outcome.toUpperCase()} after ${clock(result.seconds)} simulated (${Date.now() - started} ms real)\n`);
    results.push(result);
  }
  console.log(`Rehearsal of RolloutStrategy.staged({ stickyCohorts: {} }): sticky-cohorts, the cohorts across the steps.`);
  console.log('The real gate planner and the runtime\'s stickyCohorts forwarder in both versions; the cohort item, the Invoke and the users simulated.');
  const started = Date.now();
  formatCohortRehearsal(await rehearseStickyCohorts()).forEach((l) => console.log(l));
  console.log(`  (${Date.now() - started} ms real)\n`);
  console.log(summaryTable(results));
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
