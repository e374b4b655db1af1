import { decide, GateInput, metricGates } from '../lambdas/staged/gate-engine';

const STEPS = [1, 5, 25, 50, 100];
const healthy = { invocations: 1000, errors: 1, p95Ms: 100 };

/** A check before the shift to 25 % (5 % baked), every gate passing, plenty of time. */
function input(overrides: Partial<GateInput> = {}): GateInput {
  return {
    phase: 'check',
    steps: STEPS,
    stepIndex: 2,
    failures: 0,
    maxFailuresPerStep: 2,
    noDataWaitedSeconds: 0,
    noData: { maxWaitSeconds: 300, then: 'fail', minInvocations: 10 },
    recheckSeconds: 60,
    thresholds: { maxErrorRateDelta: 0.0005, maxP95Ratio: 1.1, maxErrorRate: 0.01 },
    probe: { verdict: 'pass', reasons: [] },
    canary: { invocations: 1000, errors: 1, p95Ms: 104 },
    control: healthy,
    alarms: [{ name: 'MaxErrorRate', state: 'OK' }],
    secondsLeft: 3000,
    secondsToFinish: 1200,
    secondsPerHold: 360,
    ...overrides,
  };
}

describe('gate engine', () => {
  const table: Array<[string, Partial<GateInput>, 'advance' | 'hold' | 'rollback', RegExp, number | null]> = [
    ['advances when every gate passes', {}, 'advance', /every gate passed at 5 %: shift to 25 %/, null],
    ['advances from 0 % on the probe and alarms alone (no traffic to compare yet)', { stepIndex: 0, canary: undefined, control: undefined }, 'advance', /shift to 1 %/, null],
    ['reports the last check as Succeeded for CodeDeploy to shift the rest', { stepIndex: 4, secondsToFinish: 0 }, 'advance', /report Succeeded, CodeDeploy shifts the rest/, null],
    ['holds on a first probe failure', { probe: { verdict: 'fail', reasons: ['maxDeltaS: median ΔS 0.6 > 0.45'] } }, 'hold', /failed 1 of 2 times before 25 %, holding at 5 %.*median ΔS 0.6 > 0.45/, 1],
    ['rolls back on the second probe failure at one step', { failures: 1, probe: { verdict: 'fail', reasons: ['ΔS'] } }, 'rollback', /failed 2 of 2 times before 25 %/, 2],
    ['rolls back at once when maxFailuresPerStep is 1', { maxFailuresPerStep: 1, probe: { verdict: 'fail', reasons: ['ΔS'] } }, 'rollback', /failed 1 of 1 times/, 1],
    ['holds when the canary error rate exceeds the gate', { canary: { invocations: 1000, errors: 20, p95Ms: 100 } }, 'hold', /error rate of the new version 2 % > 1 %/, 1],
    ['holds when the error rate delta exceeds 0.05 pp', { canary: { invocations: 1000, errors: 2, p95Ms: 100 } }, 'hold', /minus the control's 0.1 % > 0.05 %/, 1],
    ['holds when p95 is over 1.10× the control', { canary: { invocations: 1000, errors: 1, p95Ms: 130 } }, 'hold', /p95 of the new version over the control's 1.3 > 1.1/, 1],
    ['holds when a gate alarm is in ALARM', { alarms: [{ name: 'MaxP95Ratio', state: 'ALARM' }] }, 'hold', /alarm MaxP95Ratio is ALARM/, 1],
    ['does not count an alarm in INSUFFICIENT_DATA as a failure', { alarms: [{ name: 'MaxP95Ratio', state: 'INSUFFICIENT_DATA' }] }, 'advance', /shift to 25 %/, 0],
    ['waits for data when the canary served too few invocations', { canary: { invocations: 3, errors: 0, p95Ms: 90 } }, 'hold', /waiting for data at 5 %: 0 of 300 s waited, re-checking in 60 s/, 0],
    ['does not pass a step on missing metrics', { canary: undefined }, 'hold', /waiting for data/, 0],
    ['rolls back when the data never comes and noData is fail', { canary: { invocations: 0, errors: 0 }, noDataWaitedSeconds: 300 }, 'rollback', /no data after waiting 300 s at 5 %, and the noData policy is fail/, 0],
    ['advances when the data never comes and noData is pass', { canary: { invocations: 0, errors: 0 }, noDataWaitedSeconds: 300, noData: { maxWaitSeconds: 300, then: 'pass', minInvocations: 10 } }, 'advance', /no data after 300 s; the noData policy is pass/, 0],
    ['counts a failure before waiting for data', { canary: { invocations: 2, errors: 0 }, probe: { verdict: 'fail', reasons: ['coverage'] } }, 'hold', /gates failed 1 of 2/, 1],
    ['rolls back instead of holding when the hold would outlast the hook limit', { probe: { verdict: 'fail', reasons: ['ΔS'] }, secondsLeft: 1000 }, 'rollback', /out of time: re-checking and finishing the schedule needs 1560 s, 1000 s are left/, 1],
    ['rolls back instead of advancing when the rest of the schedule would outlast the hook limit', { secondsLeft: 1100 }, 'rollback', /out of time: the rest of the schedule needs 1200 s/, null],
    ['rolls back instead of waiting for data when out of time', { canary: undefined, secondsLeft: 1400 }, 'rollback', /out of time: waiting for data/, null],
    ['keeps baking while no alarm fires', { phase: 'bake', probe: { verdict: 'fail', reasons: ['ignored in the bake'] } }, 'advance', /5 % baking, no gate alarm in ALARM/, null],
    ['rolls back at once when a gate alarm fires during the bake', { phase: 'bake', alarms: [{ name: 'MaxErrorRate', state: 'ALARM' }] }, 'rollback', /a gate alarm fired while 5 % baked: alarm MaxErrorRate is ALARM/, 0],
  ];

  test.each(table)('%s', (_name, overrides, decision, reason, failures) => {
    const result = decide(input(overrides));
    expect(result.decision).toBe(decision);
    expect(result.reasons[0]).toMatch(reason);
    if (failures !== null) expect(result.failures).toBe(failures);
  });

  test('moves the weight to the step on advance, keeps it on hold and clears it on rollback', () => {
    expect(decide(input()).weightAfter).toBe(25);
    expect(decide(input({ probe: { verdict: 'fail', reasons: [] } })).weightAfter).toBe(5);
    expect(decide(input({ failures: 1, probe: { verdict: 'fail', reasons: [] } })).weightAfter).toBe(0);
  });

  test('a waiting step adds one recheck to the time waited and says it is waiting', () => {
    const result = decide(input({ canary: undefined, noDataWaitedSeconds: 120 }));
    expect(result).toMatchObject({ decision: 'hold', waitingForData: true, noDataWaitedSeconds: 180, failures: 0 });
  });

  test('reports every gate with its measured value and threshold', () => {
    const gates = decide(input()).gates;
    expect(gates.map((g) => g.name)).toEqual(['probe', 'alarm:MaxErrorRate', 'maxErrorRate', 'maxErrorRateDelta', 'maxP95Ratio']);
    expect(gates.find((g) => g.name === 'maxP95Ratio')).toMatchObject({ measured: 1.04, threshold: 1.1, passed: true });
  });

  test('says when no probe is configured rather than claiming it passed', () => {
    const probe = decide(input({ probe: undefined })).gates[0];
    expect(probe).toMatchObject({ name: 'probe', passed: null, reason: 'no ΔS probe configured' });
  });

  test('metric gates need a p95 of both versions to judge latency', () => {
    const checks = metricGates({ ...input(), canary: { invocations: 100, errors: 0 } })!;
    expect(checks.find((c) => c.name === 'maxP95Ratio')).toMatchObject({ passed: null });
  });
});
