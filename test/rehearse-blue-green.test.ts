import { loadGold, summaryTable } from '../bench/rehearse';
import { BLUE_GREEN_SCENARIOS, BLUE_GREEN_STRATEGY, formatBlueGreenEntry, rehearseBlueGreen } from '../bench/rehearse-blue-green';
import { REPORT_BOUND_SECONDS } from '../packages/runtime/src/contract/blue-green';

const gold = loadGold();
const scenario = (name: string) => BLUE_GREEN_SCENARIOS.find((s) => s.name === name)!;
/** Each scenario's rehearsal, run once for the tests that read it (it is seeded: every run of a scenario is the same). */
const rehearsals = new Map<string, ReturnType<typeof rehearseBlueGreen>>();
const rehearsed = (name: string) => {
  if (!rehearsals.has(name)) rehearsals.set(name, rehearseBlueGreen(scenario(name), { gold }));
  return rehearsals.get(name)!;
};

describe('npm run rehearse: blue-green', () => {
  test('switches the good version after invariants, smoke and freeze, holds and watches it 15 minutes, and keeps it', async () => {
    const result = await rehearsed('blue-green good');
    // A read every 5 s (checkInterval) and a probe run every 36 s (30 s run, 1 s judgement, 5 s wait), as the machine's run.
    expect(result).toMatchObject({ outcome: 'held', switchedAt: 32, brokenRules: [], metricChecks: 151, probeRuns: 26 });
    expect(result.timeline.slice(0, 4).map((e) => e.step)).toEqual(['invariants', 'smoke', 'freeze', 'switch']);
    expect(result.timeline[0].text).toBe('✓ version 8 carries every pin: INDEX_HASH=idx-42, SCHEMA_REV=v3');
    expect(result.timeline[1].text).toBe('✓ ΔS probe on 20 gold questions: Succeeded');
    expect(result.timeline.some((e) => e.step === 'report' || e.step === 'rollback')).toBe(false);
    expect(result.timeline[result.timeline.length - 1]).toMatchObject({ step: 'resume', weight: 100, text: '1 consumer resumed (jobs); Succeeded reported: version 8 stays' });
    // The hold lasted its 900 s, both loops' last checks saying succeed.
    expect(result.timeline.filter((e) => e.text.includes('→ SUCCEED')).map((e) => e.step)).toEqual(['metrics', 'probe']);
    expect(result.seconds - result.switchedAt!).toBeGreaterThanOrEqual(900);
  });

  test('rolls back the version whose answers drift after the switch: Failed reported at once, traffic off after CodeDeploy\'s assumed rollback shift, within the worst-case rollback', async () => {
    const result = await rehearsed('blue-green drift after switch');
    const worst = BLUE_GREEN_STRATEGY.worstCaseRollback!.toSeconds();
    const shift = BLUE_GREEN_STRATEGY.rollbackShift.toSeconds();
    expect([worst, shift]).toEqual([119, 15]);
    expect(result).toMatchObject({
      outcome: 'rolled back', brokenRules: ['maxDeltaSP95Drift', 'minCoverage'], breachAt: 392,
      reportedAt: 424, secondsToReport: 32, trafficOffAt: 439, secondsToTrafficOff: 47,
    });
    // The report within the worst case less the shift; the traffic off one assumed shift later, within the worst case.
    expect(result.secondsToReport!).toBeLessThanOrEqual(worst - shift);
    expect(result.secondsToTrafficOff).toBe(result.secondsToReport! + shift);
    expect(result.secondsToTrafficOff!).toBeLessThanOrEqual(worst);
    expect(result.reason).toMatch(/^stop rule broken 391 s into the hold, rolling back: ΔS p95 drift \(new 0\.4011 − old 0\) 0\.4011 > 0\.15; median coverage of the new version 0\.5 < 0\.6$/);
    // Before the drift every probe run held; the smoke passed (the drift came after the switch).
    const probes = result.timeline.filter((e) => e.step === 'probe');
    expect(probes.slice(0, -1).every((e) => e.text.includes('→ CONTINUE'))).toBe(true);
    // The report and the resume beside it leave the traffic on version 8; CodeDeploy's rollback takes it off. Nothing says UpdateAlias.
    expect(result.timeline.slice(-3).map((e) => [e.step, e.at, e.weight])).toEqual([['report', 424, 100], ['resume', 424, 100], ['rollback', 439, 0]]);
    expect(result.timeline.some((e) => e.text.includes('UpdateAlias'))).toBe(false);
    expect(result.seconds).toBe(439);
  });

  test('prints each broken rule with its measured value and threshold, the time to the report and to traffic off, and a row in the summary table', async () => {
    const result = await rehearsed('blue-green drift after switch');
    const lines = result.timeline.flatMap(formatBlueGreenEntry);
    expect(lines.some((l) => /✗ maxDeltaSP95Drift\s+measured 0\.4011\s+threshold 0\.15/.test(l))).toBe(true);
    expect(lines.some((l) => /✓ maxLambdaFlipRate\s+measured 0\.15\s+threshold 0\.2\s+λ flip rate 3 of 20/.test(l))).toBe(true);
    expect(lines.find((l) => l.includes('  report '))).toMatch(new RegExp(
      `t\\+07:04 .*100 %  report\\s+PutLifecycleEventHookExecutionStatus Failed: 32 s after the breach began \\(at most 104 s: detection \\+ the report's ${REPORT_BOUND_SECONDS} s\\); CodeDeploy starts its rollback, the alias still on version 8$`));
    expect(lines.find((l) => l.includes('  rollback '))).toMatch(
      /t\+07:19 .*  0 %  rollback\s+CodeDeploy's rollback points the alias back at version 7 \(the old one\), rollbackShift 15 s assumed: traffic off 47 s after the breach began \(worst case 119 s\)$/);
    const table = summaryTable([result]).split('\n');
    expect(table[2]).toMatch(/^\| blue-green drift after switch \| rolled back \| 100 %\s+\| reported in 32 s, traffic off in 47 s \| 77\s+\| 12\s+\| 07:19\s+\| maxDeltaSP95Drift, minCoverage \|$/);
  });
});
