// Replays CodeDeploy's own traffic shapes (canary, linear, all-at-once) on one alias, as its deployment group and
// update policy declare them: the BeforeAllowTraffic hook (the ΔS probe's warm gate and probe run, when the hook is
// the library's probe), CodeDeploy's shifts at the configuration's percentages and intervals (register CD-6) with
// the deployment group's alarms evaluated each minute (alarms.ts), a rollback on ALARM (CD-15, DEPLOYMENT_STOP_ON_ALARM),
// then the AfterAllowTraffic hook's probe at 100 %. A hook's read that never answers is replayed on the hooks' own
// bounds (lambdas/shared/hook-clients.ts hookTimeline). CodeDeploy's alarm polling interval is not documented
// (CD-14): the rehearsal assumes it reads the alarms once a minute, and says so.
import { DEFAULT_HOOK_BOUNDS, hookTimeline } from '../../lambdas/shared/hook-clients';
import { PROBE_WARMUP_ENV, warmupForAlias } from '../../packages/runtime/src/contract/probe';
import { alarmStates, modelAlarms } from './alarms';
import { PROBE_RUN_SECONDS, ROLLBACK_SHIFT_SECONDS, STEP_SECONDS } from './defaults';
import type { GuardedAliasInfo } from './discover';
import type { ScenarioResult, TimelineEntry } from './result';
import { behaviourAt, breachStart, Scenario } from './scenarios';
import { simulateProbe, simulateWindow } from './simulate';
import { logicalIdOf, resolveString } from './tokens';
import { rehearseWarmGate } from './warm';

export type ShapeAlias = Extract<GuardedAliasInfo, { strategy: 'canary' | 'linear' | 'all-at-once' | 'custom' }>;

/** The percentages CodeDeploy moves the alias to, and the minutes between two shifts; undefined for a shape it cannot read. */
export function trafficShape(alias: ShapeAlias): { steps: number[]; intervalSeconds: number } | undefined {
  const custom = alias.stack.resources[logicalIdOf(alias.deploymentConfigName) ?? '']?.Properties?.TrafficRoutingConfig as
    { Type?: string; TimeBasedCanary?: { CanaryPercentage: number; CanaryInterval: number }; TimeBasedLinear?: { LinearPercentage: number; LinearInterval: number } } | undefined;
  const canary = custom?.TimeBasedCanary ? [custom.TimeBasedCanary.CanaryPercentage, custom.TimeBasedCanary.CanaryInterval]
    : /Canary(\d+)Percent(\d+)Minutes?$/.exec(alias.deploymentConfigName)?.slice(1).map(Number);
  if (canary) return { steps: [canary[0], 100], intervalSeconds: canary[1] * 60 };
  const linear = custom?.TimeBasedLinear ? [custom.TimeBasedLinear.LinearPercentage, custom.TimeBasedLinear.LinearInterval]
    : /Linear(\d+)PercentEvery(\d+)Minutes?$/.exec(alias.deploymentConfigName)?.slice(1).map(Number);
  if (linear) return { steps: [...Array.from({ length: Math.ceil(100 / linear[0]) - 1 }, (_, i) => (i + 1) * linear[0]), 100], intervalSeconds: linear[1] * 60 };
  if (alias.strategy === 'all-at-once' || custom?.Type === 'AllAtOnce') return { steps: [100], intervalSeconds: 0 };
  return undefined;
}

/** The alias's update-policy hooks: their logical IDs and each function's Timeout in seconds. */
export function hooksOf(alias: GuardedAliasInfo): Array<{ phase: 'BeforeAllowTraffic' | 'AfterAllowTraffic'; id: string; timeout: number }> {
  const policy = alias.stack.resources[alias.logicalId]?.UpdatePolicy?.CodeDeployLambdaAliasUpdate as Record<string, unknown>;
  return (['BeforeAllowTraffic', 'AfterAllowTraffic'] as const).flatMap((phase) => {
    const id = logicalIdOf(policy?.[`${phase}Hook`] === undefined ? undefined : resolveString(policy[`${phase}Hook`]));
    const fn = id ? alias.stack.resources[id] : undefined;
    return id && fn ? [{ phase, id, timeout: typeof fn.Properties?.Timeout === 'number' ? fn.Properties.Timeout : 3 }] : [];
  });
}

/** Whether a scenario can be replayed on this alias: a hung hook read needs a hook. */
export function shapeApplies(alias: ShapeAlias, scenario: Scenario): boolean {
  return !scenario.hungRead || hooksOf(alias).length > 0;
}

/** Rehearses one scenario on an alias that CodeDeploy shifts by its own configuration. */
export async function rehearseShape(alias: ShapeAlias, scenario: Scenario, onEntry?: (e: TimelineEntry) => void): Promise<Omit<ScenarioResult, 'expected'>> {
  const shape = trafficShape(alias)!;
  const timeline: TimelineEntry[] = [];
  const assumptions = [`CodeDeploy reads the deployment group's alarms once a minute (register CD-14: not documented)`, `CodeDeploy's rollback shift takes ${ROLLBACK_SHIFT_SECONDS} s (register CD-15)`];
  const emit = (entry: TimelineEntry) => { timeline.push(entry); onEntry?.(entry); };
  const hooks = hooksOf(alias);
  const probeHook = (phase: string) => (alias.probe && hooks.some((h) => h.phase === phase && h.id === alias.probe!.logicalId) ? alias.probe : undefined);
  const alarms = modelAlarms(alias);
  const assumed = alarms.notModelled.map((name) => `alarm:${name}`);
  const weights: Array<{ from: number; weight: number }> = [{ from: 0, weight: 0 }];
  let now = STEP_SECONDS;
  let firstTrafficAt: number | undefined;
  const clockOf = (t: number) => (scenario.clock === 'start' ? t : firstTrafficAt === undefined ? -1 : t - firstTrafficAt);
  const weightAt = (t: number) => [...weights].reverse().find((w) => w.from <= t)!.weight;
  const minuteAt = (start: number) => simulateWindow(behaviourAt(scenario, clockOf(start + 30)), scenario.control, weightAt(start + 30), 60);
  const end = (rest: Pick<ScenarioResult, 'outcome' | 'ending'> & Partial<ScenarioResult>): Omit<ScenarioResult, 'expected'> => {
    const b = breachStart(scenario);
    const breachAt = b === undefined ? undefined : scenario.clock === 'start' ? Math.max(b, firstTrafficAt ?? b) : firstTrafficAt === undefined ? undefined : firstTrafficAt + b;
    return { alias, scenario, maxWeight: Math.max(...weights.map((w) => w.weight)), notifications: [], seconds: now, timeline, assumptions, breachAt, ...rest };
  };
  const rollBack = (why: string, detectedAt: number) => {
    const weight = weightAt(now);
    now += ROLLBACK_SHIFT_SECONDS;
    weights.push({ from: now, weight: 0 });
    emit({ at: now, weight: 0, text: `${why}: CodeDeploy rolls the alias back to the old version (rollback shift ${ROLLBACK_SHIFT_SECONDS} s, assumed)` });
    return end({ outcome: 'rollback', ending: weight === 0 ? 'stopped before any traffic' : `rolled back at ${weight} %`, detectedAt, trafficOffAt: weight === 0 ? undefined : now, trafficOffAssumed: true });
  };
  const runHook = async (phase: 'BeforeAllowTraffic' | 'AfterAllowTraffic'): Promise<string | undefined> => {
    const hook = hooks.find((h) => h.phase === phase);
    if (!hook) return undefined;
    if (scenario.hungRead) {
      const t = hookTimeline(DEFAULT_HOOK_BOUNDS, hook.timeout * 1000);
      now += t.reportedByMs / 1000;
      emit({ at: now, weight: weightAt(now), text: `${phase} hook ${hook.id}: its read of the deployment never answers; given up after ${t.readsGivenUpMs / 1000} s, Failed reported by ${t.reportedByMs / 1000} s (the hooks' bounds)` });
      return 'the hook reported Failed';
    }
    const probe = probeHook(phase);
    if (!probe) {
      emit({ at: now, weight: weightAt(now), text: `${phase} hook ${hook.id}: not the library's probe; taken as Succeeded (not modelled)` });
      return undefined;
    }
    const env = (alias.stack.resources[probe.logicalId]?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const warmup = phase === 'BeforeAllowTraffic' ? warmupForAlias(alias.functionLogicalId, alias.aliasName, env[PROBE_WARMUP_ENV] === undefined ? undefined : resolveString(env[PROBE_WARMUP_ENV])) : undefined;
    if (warmup) {
      const { result, seconds } = await rehearseWarmGate(scenario, warmup, now);
      now += seconds;
      emit({ at: now, weight: 0, text: `warm gate → ${result.ok ? `PASS: READY, ${result.pingsSent} warm pings answered` : `FAIL: ${result.reasons[0]}`}` });
      if (!result.ok) return 'the warm gate failed';
    }
    const run = await simulateProbe(probe.gold, probe.config, behaviourAt(scenario, clockOf(now)), scenario.control.latency, { questionLimit: null, stopRules: null });
    now += PROBE_RUN_SECONDS;
    emit({ at: now, weight: weightAt(now), text: `${phase}: ΔS probe (${probe.gold.length} gold questions) → ${run.status === 'Succeeded' ? 'PASS' : `FAIL: ${run.reasons[0]}`}`, gates: run.report.gates });
    return run.status === 'Succeeded' ? undefined : 'the probe hook reported Failed';
  };

  const before = await runHook('BeforeAllowTraffic');
  if (before) return rollBack(before, now);
  for (const [i, step] of shape.steps.entries()) {
    firstTrafficAt ??= now;
    weights.push({ from: now, weight: step });
    emit({ at: now, weight: step, text: `CodeDeploy shifts ${step} % to the new version${i < shape.steps.length - 1 ? `, then waits ${shape.intervalSeconds / 60} min` : ''}` });
    if (i === shape.steps.length - 1) break;
    for (let waited = 60; waited <= shape.intervalSeconds; waited += 60) {
      const states = alarmStates(alarms, now + waited, minuteAt);
      const firing = states.filter((s) => s.state === 'ALARM');
      if (firing.length > 0 || waited === shape.intervalSeconds) {
        const gates = states.map((s) => ({ name: `alarm:${s.name}`, measured: s.state, threshold: 'OK', passed: s.state === 'OK', reason: '' }));
        emit({ at: now + waited, weight: step, text: `alarms after ${waited / 60} min at ${step} % → ${firing.length > 0 ? 'ALARM: CodeDeploy stops the deployment' : 'all OK'}`, gates, assumed });
      }
      if (firing.length > 0) {
        now += waited;
        return rollBack(`alarm ${firing.map((f) => f.name).join(', ')} in ALARM`, now);
      }
    }
    now += shape.intervalSeconds;
  }
  const after = await runHook('AfterAllowTraffic');
  if (after) return rollBack(after, now);
  return end({ outcome: 'promote', ending: 'reached 100 %' });
}
