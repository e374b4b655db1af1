// Replays a staged rollout (RolloutStrategy.staged()) of one alias, with the configuration its state machine's
// definition holds: the machine's loop (WarmUp → Probe → Gate → SetWeight, Bake and Recheck waits, ResetRouting),
// every move decided by the real gate planner (lambdas/staged/gate.ts planStep over gate-engine.ts), every probe
// run by the real ΔS probe engine, the warm gate by the real prewarm; simulated: the clock, the versions and the
// user traffic (simulate.ts). What it does not model is listed by render.ts's honesty notes.
import { planStep, ProbeResult } from '../../lambdas/staged/gate';
import { INITIAL_PROGRESS, newErrorClassAt, StagedAliasConfig, StagedExecutionInput, StagedProgress, STAGED_REPORT_RESERVE_SECONDS } from '../../packages/runtime/src/contract/staged';
import { PROBE_RUN_SECONDS, ROLLBACK_SHIFT_SECONDS, STEP_SECONDS } from './defaults';
import { hooksOf } from './codedeploy';
import type { GuardedAliasInfo } from './discover';
import { alarmStates, modelAlarms } from './alarms';
import { hungTask } from './hung';
import type { ScenarioResult, TimelineEntry } from './result';
import { behaviourAt, breachStart, Scenario } from './scenarios';
import { simulateProbe, simulateWindow } from './simulate';
import { rehearseWarmGate } from './warm';

type StagedAlias = Extract<GuardedAliasInfo, { strategy: 'staged' }>;

/** Rehearses one scenario on one staged alias. */
export async function rehearseStaged(alias: StagedAlias, scenario: Scenario, onEntry?: (e: TimelineEntry) => void): Promise<Omit<ScenarioResult, 'expected'>> {
  const config: StagedAliasConfig = alias.config;
  const { schedule } = config;
  const timeline: TimelineEntry[] = [];
  const notifications: string[] = [];
  const assumptions: string[] = [];
  const emit = (entry: TimelineEntry) => { timeline.push(entry); onEntry?.(entry); };
  
  const deadlineSeconds = 3600 - STAGED_REPORT_RESERVE_SECONDS;
  const execution: StagedExecutionInput = {
    deployment: { deploymentId: `rehearsal-${scenario.name}`, lifecycleEventHookExecutionId: 'rehearsal' },
    target: { functionName: alias.functionLogicalId, alias: alias.aliasName, currentVersion: 'current', targetVersion: 'new' },
    config, deadline: deadlineSeconds * 1000, fenced: [],
  };
  let now = STEP_SECONDS; // the starter hook starts the execution
  let weight = 0;
  // When each weight took effect, for the minutes the alarms judge.
  const weights: Array<{ from: number; weight: number }> = [{ from: 0, weight: 0 }];
  const alarms = modelAlarms(alias);
  const assumed = alarms.notModelled.map((name) => `alarm:${name}`);
  const minuteAt = (start: number) => simulateWindow(behaviourAt(scenario, clockOf(start + 30)), scenario.control, [...weights].reverse().find((w) => w.from <= start + 30)!.weight, 60);
  let maxWeight = 0;
  let firstTrafficAt: number | undefined;
  const clockOf = (t: number) => (scenario.clock === 'start' ? t : firstTrafficAt === undefined ? -1 : t - firstTrafficAt);
  const end = (rest: Pick<ScenarioResult, 'outcome' | 'ending'> & Partial<ScenarioResult>): Omit<ScenarioResult, 'expected'> => {
    const b = breachStart(scenario);
    // Users meet a breach no sooner than they meet the new version; one stopped before any traffic counts from the start.
    const breachAt = b === undefined ? undefined : scenario.clock === 'start' ? Math.max(b, firstTrafficAt ?? b) : firstTrafficAt === undefined ? undefined : firstTrafficAt + b;
    return { alias, scenario, maxWeight, notifications, seconds: now, timeline, assumptions, breachAt, ...rest };
  };

  if (config.shadowPromotion) {
    assumptions.push('the release passed shadow (requireShadow: its record is in DynamoDB, not in the assembly)');
    emit({ at: now, weight: 0, text: `stage 0: has release ${config.shadowPromotion.releaseId} passed shadow? its record is not in the assembly: taken as passed (assumed)` });
  }
  if (config.warmup) {
    const { result, seconds } = await rehearseWarmGate(scenario, config.warmup, now);
    now += seconds;
    emit({ at: now, weight: 0, text: `warm gate: ${result.ok ? `READY, ${result.pingsSent} warm pings answered → go on` : `${result.reasons[0]} → ROLL BACK (ReportWarmGateFailed)`}` });
    if (!result.ok) return end({ outcome: 'rollback', ending: 'stopped by the warm gate, before any traffic', detectedAt: now });
  }
  let progress: StagedProgress = INITIAL_PROGRESS;
  let probe: ProbeResult | undefined = alias.probe ? undefined : { status: 'NotConfigured', reasons: [] };
  let runProbe = alias.probe !== undefined;
  let ask = { questionLimit: null as number | null, stopRules: null as ReturnType<typeof planStep>['probeStopRules'] };
  if (alias.probe) assumptions.push(`a probe run takes ${PROBE_RUN_SECONDS} s (its budget: ${schedule.probeBudgetSeconds} s)`);
  // Approval steps: an operator's resume, given `approvalSeconds` after the wait begins (never when null).
  const approvalDelay = scenario.approvalSeconds === undefined ? 0 : scenario.approvalSeconds;
  if ((schedule.approvalSteps ?? []).length > 0) {
    assumptions.push(approvalDelay === null ? 'nobody approves the approval steps' : `an operator approves each approval step ${approvalDelay} s after its wait begins`);
  }
  let approval: { at: number; weight: number } | undefined;
  for (;;) {
    const behaviour = behaviourAt(scenario, clockOf(now));
    if (runProbe && alias.probe) {
      probe = await simulateProbe(alias.probe.gold, alias.probe.config, behaviour, scenario.control.latency, ask);
      now += PROBE_RUN_SECONDS;
    }
    const judged = progress.phase === 'check' && weight > 0;
    if (judged && scenario.hungRead) {
      const hung = hungTask(alias.stack, 'Gate', alias.machine.states.Gate ?? { Type: 'Task' });
      const breachAt = now;
      now += hung.seconds;
      emit({ at: now, weight, text: `Gate's CloudWatch read never answers: ${hung.attempts} attempts of ${hung.attemptSeconds} s (${hung.bound}), each ending ${hung.error}, with the Retry's waits → Catch → ${hung.next}` });
      now += STEP_SECONDS;
      emit({ at: now, weight: 0, text: 'ResetRoutingOnError clears AdditionalVersionWeights: all traffic on the old version; ReportFailedOnError reports Failed' });
      return end({ outcome: 'rollback', ending: `rolled back at ${weight} % (machine error)`, breachAt, detectedAt: now - STEP_SECONDS, trafficOffAt: now });
    }
    const window = judged ? simulateWindow(behaviour, scenario.control, weight, schedule.bakeSeconds) : undefined;
    const classes = window && newErrorClassAt(schedule.stopRules ?? [], weight)
      ? { canary: window.canary.errors > 0 ? ['500'] : [], control: ['500'] } : undefined;
    const queues = judged && config.queueAge ? config.queueAge.queueNames.map((queueName) => ({ queueName, ages: Array.from({ length: schedule.bakeSeconds / 60 }, () => 15) })) : undefined;
    const command = approval && approval.at <= now ? {
      deploymentId: execution.deployment.deploymentId, command: 'resume' as const, step: approval.weight, commandId: `approve-${approval.weight}`, requestedBy: 'the rehearsal', requestedAt: `+${approval.at} s`,
    } : undefined;
    const output = planStep({ ...execution, progress, probe }, { alarms: alarmStates(alarms, now, minuteAt), ...window, errorClasses: classes, queues, operator: { command }, now: now * 1000 });
    if (output.operator?.effect === 'awaiting-approval' && approval?.weight !== weight) {
      approval = { at: approvalDelay === null ? Infinity : now + approvalDelay, weight };
      emit({ at: now, weight, text: `approval step at ${weight} %: waiting for an operator's resume or promote (${approvalDelay === null ? 'nobody approves' : `approved ${approvalDelay} s later, assumed`})` });
    }
    if (output.notification) notifications.push(`${output.notification.event} ${output.decision} at ${'step' in output.notification ? output.notification.step : 0} %`);
    // A bake's slices, and an approval wait's rechecks after its first, are not news.
    const waitingAgain = output.next === 'bake' && output.operator?.effect === 'awaiting-approval' && approval?.weight === weight;
    if (!(progress.phase === 'bake' && output.next === 'bake') && !waitingAgain) {
      const what = progress.phase === 'bake' ? `bake at ${weight} % done` : `check before ${schedule.steps[progress.stepIndex]} %`;
      emit({ at: now, weight: output.next === 'rollback' ? weight : output.weight, text: `${what} → ${output.decision.toUpperCase()} (${output.next}): ${output.reasons[0] ?? ''}`, gates: progress.phase === 'check' || output.next === 'rollback' ? output.gates : undefined, assumed });
    }
    if (output.next === 'succeed') {
      now += STEP_SECONDS;
      weights.push({ from: now, weight: 100 });
      maxWeight = 100;
      emit({ at: now, weight: 100, text: 'HandBack, ReportSucceeded: CodeDeploy moves the rest of the traffic at once' });
      // The AfterAllowTraffic hook, when it is the probe: the whole gold set at 100 %; a Failed report rolls back.
      const after = alias.probe && hooksOf(alias).some((h) => h.phase === 'AfterAllowTraffic' && h.id === alias.probe!.logicalId) ? alias.probe : undefined;
      if (after) {
        const run = await simulateProbe(after.gold, after.config, behaviourAt(scenario, clockOf(now)), scenario.control.latency, { questionLimit: null, stopRules: null });
        now += PROBE_RUN_SECONDS;
        emit({ at: now, weight: 100, text: `AfterAllowTraffic: ΔS probe (${after.gold.length} gold questions) at 100 % → ${run.status === 'Succeeded' ? 'PASS' : `FAIL: ${run.reasons[0]}`}`, gates: run.report.gates });
        if (run.status !== 'Succeeded') {
          const detectedAt = now;
          now += ROLLBACK_SHIFT_SECONDS;
          assumptions.push(`CodeDeploy's rollback shift takes ${ROLLBACK_SHIFT_SECONDS} s (register CD-15)`);
          emit({ at: now, weight: 0, text: `the probe hook reported Failed: CodeDeploy rolls the alias back to the old version (rollback shift ${ROLLBACK_SHIFT_SECONDS} s, assumed)` });
          return end({ outcome: 'rollback', ending: 'rolled back at 100 % (AfterAllowTraffic probe)', detectedAt, trafficOffAt: now, trafficOffAssumed: true });
        }
      }
      return end({ outcome: 'promote', ending: 'reached 100 %' });
    }
    if (output.next === 'rollback') {
      const detectedAt = now;
      now += STEP_SECONDS;
      emit({ at: now, weight: 0, text: 'ResetRouting clears AdditionalVersionWeights, ReportFailed: CodeDeploy rolls the deployment back' });
      const at = schedule.steps[progress.stepIndex];
      return end({
        outcome: 'rollback', detectedAt, trafficOffAt: maxWeight > 0 ? now : undefined,
        ending: maxWeight === 0 ? `rolled back before any traffic (check before ${at} %)`
          : progress.phase === 'bake' ? `rolled back at ${weight} % (while it baked)` : `rolled back at ${weight} % (check before ${at} %)`,
      });
    }
    if (output.next === 'shift') {
      weight = output.weight;
      weights.push({ from: now, weight });
      maxWeight = Math.max(maxWeight, weight);
      firstTrafficAt ??= now;
    }
    now += output.waitSeconds;
    runProbe = alias.probe !== undefined && (output.next === 'recheck' || output.next === 'probe');
    ask = { questionLimit: output.probeQuestions, stopRules: output.probeStopRules };
    progress = output.progress;
  }
}
