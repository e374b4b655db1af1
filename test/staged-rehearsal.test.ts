import { formatEntry, loadGold, rehearse, SCENARIOS, summaryTable } from '../bench/rehearse';

const gold = loadGold();
const scenario = (name: string) => SCENARIOS.find((s) => s.name === name)!;
/** Each scenario's rehearsal, run once for the tests that read it (it is seeded: every run of a scenario is the same). */
const rehearsals = new Map<string, ReturnType<typeof rehearse>>();
const rehearsed = (name: string) => {
  if (!rehearsals.has(name)) rehearsals.set(name, rehearse(scenario(name), { gold }));
  return rehearsals.get(name)!;
};

describe('npm run rehearse', () => {
  test('takes the good version through every step and reports Succeeded for CodeDeploy to move the rest', async () => {
    const result = await rehearsed('good');
    expect(result).toMatchObject({ outcome: 'succeeded', maxWeight: 50, endedBefore: 100 });
    const shifts = result.timeline.filter((e) => e.output.next === 'shift').map((e) => e.output.weight);
    expect(shifts).toEqual([1, 5, 25, 50]);
    expect(result.timeline.every((e) => e.output.decision !== 'rollback')).toBe(true);
  });

  test('rolls the drifting version back before any user sees it: the probe fails twice before 1 %', async () => {
    const result = await rehearsed('ΔS drift');
    expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 0, endedBefore: 1, failedGates: ['probe'], checks: 2 });
    expect(result.reason).toMatch(/^gates failed 2 of 2 times before 1 %: ΔS probe failed: maxDeltaSDrift/);
  });

  test('rolls the slower version back at 1 %: the live p95 gate fails twice before 5 % while the probe passes', async () => {
    const result = await rehearsed('latency regression');
    expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 1, endedBefore: 5, failedGates: ['maxP95Ratio'] });
    const checks = result.timeline.filter((e) => e.phase === 'check');
    expect(checks.map((e) => e.output.decision)).toEqual(['advance', 'hold', 'rollback']);
    expect(checks.every((e) => e.probe?.status === 'Succeeded')).toBe(true);
  });

  test('rolls the erroring version back at 1 %: the live error-rate gates fail twice before 5 %', async () => {
    const result = await rehearsed('error spike');
    expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 1, endedBefore: 5 });
    expect(result.failedGates).toEqual(['maxErrorRate', 'maxErrorRateDelta']);
    expect(result.timeline.filter((e) => e.output.decision === 'hold')).toHaveLength(1);
  });

  test('topic-coverage: one topic unanswered passes the median gates, and is rolled back at 5 % by the topic stop rule', async () => {
    const result = await rehearsed('topic-coverage');
    expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 5, endedBefore: 25, failedGates: ['probe'] });
    const checks = result.timeline.filter((e) => e.phase === 'check');
    // Passed before 1 % (the whole gold set: median coverage and drift within their gates) and before 5 % (no
    // stop rule in force at 1 %); failed twice at 5 % on the topic rule alone.
    expect(checks.map((e) => e.output.decision)).toEqual(['advance', 'advance', 'hold', 'rollback']);
    expect(result.reason).toMatch(/ΔS probe failed: minTopicCoverage: coverage of topic "routing" 0 < 0\.7/);
    expect(result.reason).not.toMatch(/maxDeltaS|minCoverage:|maxLambdaFlips/);
  });

  test('paraphrase-flips: two paraphrases turning unstable at 50 % are rolled back there by the paraphrase stop rule', async () => {
    const result = await rehearsed('paraphrase-flips');
    expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 50, endedBefore: 100, failedGates: ['probe'] });
    expect(result.reason).toMatch(/maxParaphraseFlips: most wordings of one gold question whose λ flips 2 > 1 \(latency-judge: paraphrase 1 \w+ → \w+, paraphrase 2/);
    const probeFailures = result.timeline.filter((e) => e.phase === 'check' && e.probe?.status === 'Failed');
    expect(probeFailures.map((e) => e.weightBefore)).toEqual([50, 50]);
  });

  test('new-error-class: a 503 the current version never returns is rolled back at 1 %, the class named', async () => {
    const result = await rehearsed('new-error-class');
    expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 1, endedBefore: 5 });
    expect(result.failedGates).toContain('newErrorClass');
    const last = result.timeline[result.timeline.length - 1];
    expect(last.output.gates.find((g) => g.name === 'newErrorClass')?.reason).toMatch(/^new error class 503: shown by the new version, not by the current one/);
    // The good version's ordinary 500s are the current version's class too: the rule never fired on it.
    const good = await rehearsed('good');
    expect(good.timeline.flatMap((e) => e.output.gates).filter((g) => g.name === 'newErrorClass').every((g) => g.passed === true)).toBe(true);
  });

  test('queue-backlog: a consumer that falls behind at 5 % is rolled back there by the queue-age gate, and its capped consumers restored', async () => {
    const result = await rehearsed('queue-backlog');
    expect(result).toMatchObject({ outcome: 'rolled back', maxWeight: 5, endedBefore: 25, failedGates: ['queueAge:jobs'] });
    expect(result.reason).toMatch(/queue age of jobs: slope \+\d+(\.\d+)? s\/min > 6 s\/min over 5 min/);
    // The consumers capped below 25 % are restored with the rollback, by the gate's decision (as the gate function does).
    expect(result.fenceLifted).toEqual({ at: result.seconds, why: 'the rollout rolls back' });
    const last = result.timeline[result.timeline.length - 1];
    expect(formatEntry(last)).toContainEqual(expect.stringMatching(/↺ consumer fence: resumed 1 event source mapping \(jobs-consumer@cap:none\): the rollout rolls back/));
    expect(result.timeline.slice(0, -1).every((e) => !e.output.progress.fenceLifted)).toBe(true);
    // At 1 % the queue was healthy: judged, and young enough to pass.
    const atOne = result.timeline.find((e) => e.phase === 'check' && e.weightBefore === 1)!;
    expect(atOne.output.gates.find((g) => g.name === 'queueAge:jobs')).toMatchObject({ passed: true });
  });

  test('shadow-unpromoted: a release shadowed 9 hours of 24, with schema violations, is refused before any traffic or probe', async () => {
    const result = await rehearsed('shadow-unpromoted');
    expect(result).toMatchObject({ outcome: 'refused', maxWeight: 0, endedBefore: 1, probeRuns: 0, checks: 1, failedGates: ['shadow:window', 'shadow:schemaViolations'] });
    expect(result.reason).toMatch(/shadowed for 9 h only; it must be shadowed for 24 h/);
    const lines = formatEntry(result.timeline[0]);
    expect(lines[0]).toMatch(/0 %  stage 0: has the release passed shadow\?  → REFUSE/);
    expect(lines).toContainEqual(expect.stringMatching(/✓ shadow:medianDeltaS\s+measured 0\.18/));
    expect(summaryTable([result]).split('\n')[2]).toMatch(/^\| shadow-unpromoted \| refused \| 0 %\s+\| before 1 %/);
  });

  test('prints each gate with its measured value and threshold, and a summary table', async () => {
    const result = await rehearsed('error spike');
    const lines = result.timeline.flatMap(formatEntry);
    expect(lines.some((l) => /✗ maxErrorRate\s+measured 0\.\d+\s+threshold 0\.01/.test(l))).toBe(true);
    expect(lines[0]).toMatch(/t\+01:00 .* 0 %  check before 1 %  → ADVANCE: every gate passed: shift to 1 %/);
    const table = summaryTable([result]);
    expect(table.split('\n')[2]).toMatch(/^\| error spike \| rolled back \| 1 %\s+\| before 5 %/);
  });
});
