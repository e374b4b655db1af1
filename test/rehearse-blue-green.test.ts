import { loadGold, summaryTable } from '../bench/rehearse';
import { BLUE_GREEN_SCENARIOS, BLUE_GREEN_STRATEGY, formatBlueGreenEntry, rehearseBlueGreen } from '../bench/rehearse-blue-green';

const gold = loadGold();
const scenario = (name: string) => BLUE_GREEN_SCENARIOS.find((s) => s.name === name)!;

describe('npm run rehearse: blue-green', () => {
  test('switches the good version after invariants, smoke and freeze, holds and watches it 15 minutes, and keeps it', async () => {
    const result = await rehearseBlueGreen(scenario('blue-green good'), { gold });
    expect(result).toMatchObject({ outcome: 'held', switchedAt: 32, brokenRules: [], metricChecks: 83, probeRuns: 23 });
    expect(result.timeline.slice(0, 4).map((e) => e.step)).toEqual(['invariants', 'smoke', 'freeze', 'switch']);
    expect(result.timeline[0].text).toBe('✓ version 8 carries every pin: INDEX_HASH=idx-42, SCHEMA_REV=v3');
    expect(result.timeline[1].text).toBe('✓ ΔS probe on 20 gold questions: Succeeded');
    expect(result.timeline.some((e) => e.step === 'flip')).toBe(false);
    expect(result.timeline[result.timeline.length - 1]).toMatchObject({ step: 'resume', weight: 100, text: '1 consumer resumed (jobs); Succeeded reported: version 8 stays' });
    // The hold lasted its 900 s, both loops' last checks saying succeed.
    expect(result.timeline.filter((e) => e.text.includes('→ SUCCEED')).map((e) => e.step)).toEqual(['metrics', 'probe']);
    expect(result.seconds - result.switchedAt!).toBeGreaterThanOrEqual(900);
  });

  test('flips the version whose answers drift after the switch back within the worst-case rollback, on the probe\'s stop rules', async () => {
    const result = await rehearseBlueGreen(scenario('blue-green drift after switch'), { gold });
    expect(result).toMatchObject({ outcome: 'flipped back', brokenRules: ['maxDeltaSP95Drift', 'minCoverage'], breachAt: 392, flippedAt: 433, secondsToFlip: 41 });
    expect(result.secondsToFlip!).toBeLessThanOrEqual(BLUE_GREEN_STRATEGY.worstCaseRollback!.toSeconds());
    expect(result.reason).toMatch(/^stop rule broken 400 s into the hold, flipping back: ΔS p95 drift \(new 0\.4011 − old 0\) 0\.4011 > 0\.15; median coverage of the new version 0\.5 < 0\.6$/);
    // Before the drift every probe run held; the smoke passed (the drift came after the switch).
    const probes = result.timeline.filter((e) => e.step === 'probe');
    expect(probes.slice(0, -1).every((e) => e.text.includes('→ CONTINUE'))).toBe(true);
    expect(result.timeline.slice(-2).map((e) => [e.step, e.weight])).toEqual([['flip', 0], ['resume', 0]]);
  });

  test('prints each broken rule with its measured value and threshold, and a row in the summary table', async () => {
    const result = await rehearseBlueGreen(scenario('blue-green drift after switch'), { gold });
    const lines = result.timeline.flatMap(formatBlueGreenEntry);
    expect(lines.some((l) => /✗ maxDeltaSP95Drift\s+measured 0\.4011\s+threshold 0\.15/.test(l))).toBe(true);
    expect(lines.some((l) => /✓ maxLambdaFlipRate\s+measured 0\.15\s+threshold 0\.2\s+λ flip rate 3 of 20/.test(l))).toBe(true);
    expect(lines.find((l) => l.includes('UpdateAlias'))).toMatch(/t\+07:13 .*  0 %  flip\s+UpdateAlias → version 7 \(the old one\), routing cleared: 41 s after the breach began \(worst case 109 s\)$/);
    const table = summaryTable([result]).split('\n');
    expect(table[2]).toMatch(/^\| blue-green drift after switch \| flipped back \| 100 %\s+\| flipped back in 41 s \| 47\s+\| 11\s+\| 07:14\s+\| maxDeltaSP95Drift, minCoverage \|$/);
  });
});
