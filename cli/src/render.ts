// What the terminal shows: the configuration read from the assembly, the timeline of each scenario (step, weight,
// each gate's measured value against its threshold, the decision), the summary table, and what the model covers.
import type { Check } from '../../packages/runtime/src/contract/check';
import { INIT_FAILURE_SECONDS } from './warm';
import { trafficShape } from './codedeploy';
import type { GuardedAliasInfo } from './discover';
import type { ScenarioResult, TimelineEntry } from './result';
import { ROLLBACK_SHIFT_SECONDS } from './defaults';

export const clock = (s: number) => `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(Math.round(s % 60)).padStart(2, '0')}`;
const bar = (weight: number) => `▕${'█'.repeat(Math.round(weight / 10))}${'░'.repeat(10 - Math.round(weight / 10))}▏`;
const value = (v: Check['measured']) => (typeof v === 'number' ? String(Number(v.toFixed(4))) : String(v));

/** The configuration as read from the template, in a few lines. */
export function describeAlias(alias: GuardedAliasInfo): string[] {
  const lines = [`${alias.path} (stack ${alias.stack.name}): ${alias.strategy}, deployment group ${alias.deploymentGroup}, ${alias.deploymentConfigName}`];
  if (alias.strategy === 'staged') {
    const { schedule, thresholds, warmup, topicArn } = alias.config;
    lines.push(`  steps ${schedule.steps.join(' → ')} %, bake ${schedule.bakeSeconds} s, roll back after ${schedule.maxFailuresPerStep} failures at a step, recheck ${schedule.recheckSeconds} s, `
      + `no data: ${schedule.noData.then} below ${schedule.noData.minInvocations} invocations`);
    lines.push(`  gates: error-rate delta ≤ ${thresholds.maxErrorRateDelta}, p95 ratio ≤ ${thresholds.maxP95Ratio}, error rate ≤ ${thresholds.maxErrorRate}; alarms ${alias.config.alarmNames.join(', ') || 'none'}`);
    lines.push(`  warm-up: ${warmup ? `${warmup.concurrency} provisioned, ${warmup.pings} pings, READY within ${warmup.readyTimeoutSeconds} s` : 'none'}; notifications: ${topicArn ?? 'none'}`);
  } else if (alias.strategy === 'blue-green') {
    const c = alias.config;
    lines.push(`  hold ${c.holdSeconds} s, checks every ${c.checkIntervalSeconds} s, metric delay ${c.metricDelaySeconds} s, smoke ${c.smokeQuestions} questions; `
      + `stop rules: 5xx ≤ ${c.stopRules.max5xxRate} (from ${c.stopRules.minInvocations} invocations/min), ΔS p95 drift ≤ ${c.stopRules.maxDeltaSP95Drift}, coverage ≥ ${c.stopRules.minCoverage}, λ flips ≤ ${c.stopRules.maxLambdaFlipRate}`);
    lines.push(`  invariants: ${Object.keys(c.invariants).join(', ') || 'none'}; freeze ${c.freeze.length} consumer(s); warm-up: ${c.warmup ? `${c.warmup.concurrency} provisioned, READY within ${c.warmup.readyTimeoutSeconds} s` : 'none'}; notifications: ${c.topicArn ?? 'none'}`);
  } else {
    const shape = trafficShape(alias);
    lines.push(`  CodeDeploy shifts ${shape ? `${shape.steps.join(' → ')} %${shape.intervalSeconds > 0 ? `, ${shape.intervalSeconds / 60} min between shifts` : ''}` : '(unreadable)'}, watching the alarms ${alias.alarmNames.join(', ') || '(none)'}; rolls back on ALARM`);
  }
  if (alias.probe) {
    const g = alias.probe.config.gates;
    lines.push(`  ΔS probe ${alias.probe.logicalId}: ${alias.probe.gold.length} gold questions × ${alias.probe.config.seeds} seeds; ΔS ≤ ${g.maxDeltaS}, drift ≤ ${g.maxDeltaSDrift}, coverage ≥ ${g.minCoverage}, λ flips ≤ ${g.maxLambdaFlips}, latency p95 ratio ≤ ${g.maxLatencyP95Ratio}`);
  } else lines.push('  ΔS probe: none');
  return lines;
}

/** One timeline entry as printed. */
export function formatEntry(entry: TimelineEntry): string[] {
  const lines = [`  t+${clock(entry.at)} ${bar(entry.weight)} ${String(entry.weight).padStart(3)} %  ${entry.text}`];
  const width = Math.max(0, ...(entry.gates ?? []).map((g) => g.name.length));
  for (const gate of entry.gates ?? []) {
    const mark = gate.passed === null ? '·' : gate.passed ? '✓' : '✗';
    const note = gate.passed === null ? `(not judged: ${gate.reason})` : entry.assumed?.includes(gate.name) ? '(assumed: this alarm is not modelled)' : gate.name.startsWith('alarm') ? '(evaluated from the simulated traffic)' : '';
    lines.push(`      ${mark} ${gate.name.padEnd(width)} ${value(gate.measured).padStart(10)} vs ${String(gate.threshold ?? '-').padEnd(8)} ${note}`.trimEnd());
  }
  return lines;
}

const seconds = (from?: number, to?: number, assumed?: boolean) => (from === undefined || to === undefined ? '-' : `${Math.max(0, Math.round(to - from))} s${assumed ? '*' : ''}`);

/** The summary's rows, a header first, one per alias and scenario (the terminal's table and the HTML report's). */
export function summaryRows(results: readonly ScenarioResult[]): string[][] {
  return [
    ['alias', 'scenario', 'outcome', 'expected', 'time to detect', 'time to traffic off', 'notifications', ''],
    ...results.map((r) => [
      r.alias.path.replace(/\/Alias$/, ''), r.scenario.name, r.ending, r.expected,
      seconds(r.breachAt, r.detectedAt),
      r.maxWeight === 0 && r.outcome === 'rollback' ? 'never on' : seconds(r.breachAt, r.trafficOffAt, r.trafficOffAssumed),
      r.notifications.length === 0 ? 'none' : `${r.notifications.length}: ${[...new Set(r.notifications)].slice(0, 3).join('; ')}${new Set(r.notifications).size > 3 ? '; …' : ''}`,
      r.outcome === r.expected ? 'as expected' : 'NOT AS EXPECTED',
    ]),
  ];
}

/** The summary table, one row per alias and scenario. */
export function summaryTable(results: readonly ScenarioResult[]): string {
  const rows = summaryRows(results);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** What the rehearsal models and what it does not; the assumed figures, as assumptions. */
export function honestyNotes(results: readonly ScenarioResult[]): string[] {
  const assumed = [...new Set(results.flatMap((r) => r.assumptions))];
  return [
    'What this rehearsal is:',
    '  - real: the gate planner and engine, the hold engine, the invariant check, the warm gate and the ΔS probe engine of this',
    '    library decide every move, with the configuration read from your cloud assembly; the state machines\' retry and catch',
    '    rules (register SFN-1, SFN-11) and the hooks\' bounds for a hung call; CodeDeploy\'s shifts by your deployment',
    '    configuration, and your alarms\' metric math on the simulated traffic.',
    '  - simulated: the clock, your two versions (answers built from your gold set: the current version answers each question',
    '    with its target section, the new one drifts as the scenario says) and user traffic (seeded, per ExecutedVersion).',
    'What it does not model:',
    '  - CloudWatch alarms: those on the alias\'s AWS/Lambda metrics (the gate alarm, yours on the same metrics) are evaluated',
    '    minute by minute from the simulated traffic, their metric math included; any other alarm (the probe\'s ΔS, telemetry,',
    '    SQS) reads OK and is marked assumed. CodeDeploy\'s own alarm polling (interval undocumented: register CD-14) is',
    '    not modelled: an alarm acts when the machinery next reads it.',
    '  - real metric delay (register LAM-6): the staged gate and the alarms see each minute\'s traffic in full at once;',
    '    blue-green\'s hold reads the worker\'s own window, its metricDelay as configured.',
    '  - how long CodeDeploy takes to move traffic (its shifts and rollbacks are instant but for the assumed rollback shift);',
    '    the probe\'s own invocation errors; shadow as stage 0 (requireShadow: taken as passed); the queue-age gate (flat',
    '    queues); the cache hit-rate gate.',
    '  - canary, linear and all-at-once (CodeDeploy\'s own shapes): CodeDeploy\'s shifts and its rollback on a modelled alarm are',
    '    replayed; a hook that is not the library\'s probe is taken as Succeeded.',
    'Assumed figures (*):',
    `  - ${[...assumed, `a provisioned-concurrency configuration that never becomes READY reports FAILED after ${INIT_FAILURE_SECONDS} s`,
      `CodeDeploy's rollback shift: ${ROLLBACK_SHIFT_SECONDS} s`, 'each scenario\'s traffic, error rates and latency distributions'].filter((a, i, all) => all.indexOf(a) === i).join('\n  - ')}`,
  ];
}
