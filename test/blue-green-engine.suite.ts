import { decideHold, HoldInput, ProbeObservation } from '../lambdas/blue-green/hold-engine';
import { checkInvariants } from '../lambdas/blue-green/invariants';
import { DEFAULT_STOP_RULES } from '../packages/runtime/src/contract/blue-green';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const END = START + 15 * 60_000;

function probe(newP95: number, currentP95: number, coverage: number, flips: number, questions = 20): ProbeObservation {
  return {
    status: 'Succeeded',
    reasons: [],
    report: {
      new: { deltaSP95: newP95, coverageMedian: coverage },
      current: { deltaSP95: currentP95 },
      lambdaFlips: Array.from({ length: flips }, (_, i) => ({ id: `q${i}`, current: 'convergent', new: 'recursive' })),
      plan: { questions },
    },
  };
}

function input(observation: HoldInput['observation'], now = START + 60_000): HoldInput {
  return { observation, rules: DEFAULT_STOP_RULES, now, holdStartedAt: START, holdEndsAt: END, check: 3 };
}

const OK_ALARM = [{ name: 'Gates', state: 'OK' as const }];

describe('hold engine: decideHold', () => {
  test.each<[string, HoldInput['observation'], 'continue' | 'rollback', string | null]>([
    ['continues on a healthy minute', { source: 'metrics', traffic: { invocations: 1000, errors: 5 }, alarms: OK_ALARM }, 'continue', null],
    ['continues at exactly 1 % 5xx (the rule is > 1 %)', { source: 'metrics', traffic: { invocations: 1000, errors: 10 }, alarms: [] }, 'continue', null],
    ['rolls back above 1 % 5xx', { source: 'metrics', traffic: { invocations: 1000, errors: 11 }, alarms: [] }, 'rollback',
      'max5xxRate: 5xx rate of the new version 1.1 % (11 of 1000) > 1 %'],
    ['does not judge 5xx below minInvocations, and says so', { source: 'metrics', traffic: { invocations: 99, errors: 50 }, alarms: [] }, 'continue', null],
    ['does not judge 5xx without traffic', { source: 'metrics', alarms: [] }, 'continue', null],
    ['rolls back on a gate alarm in ALARM', { source: 'metrics', traffic: { invocations: 1000, errors: 0 }, alarms: [{ name: 'Gates', state: 'ALARM' }] }, 'rollback',
      'alarm:Gates: alarm Gates is ALARM'],
    ['continues on INSUFFICIENT_DATA (gate alarms treat missing data as not breaching)', { source: 'metrics', traffic: { invocations: 1000, errors: 0 }, alarms: [{ name: 'Gates', state: 'INSUFFICIENT_DATA' }] }, 'continue', null],
    ['continues on a probe within every stop rule', { source: 'probe', probe: probe(0.40, 0.30, 0.75, 2) }, 'continue', null],
    ['continues at exactly the thresholds (drift 0.15, coverage 0.60, 4 of 20 flips)', { source: 'probe', probe: probe(0.45, 0.30, 0.6, 4) }, 'continue', null],
    ['rolls back on ΔS p95 drift above 0.15', { source: 'probe', probe: probe(0.62, 0.30, 0.9, 0) }, 'rollback',
      'maxDeltaSP95Drift: ΔS p95 drift (new 0.62 − old 0.3) 0.32 > 0.15'],
    ['rolls back on coverage below 0.60', { source: 'probe', probe: probe(0.3, 0.3, 0.45, 0) }, 'rollback',
      'minCoverage: median coverage of the new version 0.45 < 0.6'],
    ['rolls back on a λ flip rate above 0.20', { source: 'probe', probe: probe(0.3, 0.3, 0.9, 5) }, 'rollback',
      'maxLambdaFlipRate: λ flip rate 5 of 20 = 0.25 > 0.2 (q0: convergent → recursive, q1: convergent → recursive, q2: convergent → recursive, ...)'],
    ['rolls back when the probe did not answer in its budget', { source: 'probe', probe: { status: 'Unavailable', reasons: ['States.Timeout: no answer within 45 s'] } }, 'rollback',
      'probe: the ΔS probe gave no measurements: States.Timeout: no answer within 45 s'],
    ['rolls back when the probe answered without a report', { source: 'probe', probe: { status: 'Failed', reasons: ['the probe could not run: denied'] } }, 'rollback',
      'probe: the ΔS probe gave no measurements: the probe could not run: denied'],
  ])('%s', (_name, observation, next, brokenRule) => {
    const decision = decideHold(input(observation));
    expect(decision.next).toBe(next);
    const broken = decision.rules.filter((r) => r.passed === false).map((r) => `${r.name}: ${r.reason}`);
    expect(broken).toEqual(brokenRule === null ? [] : [brokenRule]);
    if (next === 'rollback') expect(decision.reasons[0]).toMatch(/^stop rule broken 60 s into the hold, rolling back: /);
  });

  test('judges the stop rules from the probe report, not the probe\'s own (stricter) verdict', () => {
    // The probe fails its acceptance gates (drift 0.05 > 0.03, coverage 0.65 < 0.70) but no stop rule breaks.
    const failedVerdict = { ...probe(0.35, 0.30, 0.65, 1), status: 'Failed', reasons: ['maxDeltaSDrift: 0.05 > 0.03'] };
    expect(decideHold(input({ source: 'probe', probe: failedVerdict })).next).toBe('continue');
  });

  test('succeeds once the hold has run its length with no breach, and still rolls back on a breach at the end', () => {
    const healthy = decideHold(input({ source: 'metrics', traffic: { invocations: 500, errors: 0 }, alarms: [] }, END));
    expect(healthy).toMatchObject({ next: 'succeed', elapsedSeconds: 900, holdSeconds: 900 });
    expect(healthy.reasons[0]).toBe('held and watched 900 s of 900 s, no stop rule broken');
    expect(decideHold(input({ source: 'probe', probe: probe(0.9, 0.3, 0.9, 0) }, END)).next).toBe('rollback');
  });

  test('writes each check as a structured record: kind, source, every rule measured against its threshold', () => {
    const decision = decideHold(input({ source: 'metrics', traffic: { invocations: 40, errors: 1 }, alarms: OK_ALARM }));
    expect(decision).toEqual({
      kind: 'cdk-rollout-guardrails/blue-green/check',
      source: 'metrics',
      check: 3,
      next: 'continue',
      reasons: ['60 of 900 s held, no stop rule broken', '5xx rate not judged: 40 invocations of the new version in the minute read (fewer than 100)'],
      rules: [
        { name: 'max5xxRate', measured: null, threshold: 0.01, passed: null, reason: '5xx rate not judged: 40 invocations of the new version in the minute read (fewer than 100)' },
        { name: 'alarm:Gates', measured: 'OK', threshold: 'OK', passed: true, reason: 'alarm Gates is OK' },
      ],
      at: '2026-01-01T12:01:00.000Z',
      elapsedSeconds: 60,
      holdSeconds: 900,
    });
    expect(JSON.parse(JSON.stringify(decision))).toEqual(decision);
  });

  test('takes custom stop rules', () => {
    const strict = { ...DEFAULT_STOP_RULES, max5xxRate: 0.001, minInvocations: 10 };
    expect(decideHold({ ...input({ source: 'metrics', traffic: { invocations: 20, errors: 1 }, alarms: [] }), rules: strict }).next).toBe('rollback');
  });
});

describe('invariant checker: checkInvariants', () => {
  test.each<[string, Record<string, string>, Record<string, string> | undefined, boolean, string[]]>([
    ['passes when every pin matches', { SCHEMA_REV: 'v3', INDEX_HASH: 'abc' }, { SCHEMA_REV: 'v3', INDEX_HASH: 'abc', OTHER: 'x' }, true,
      ['version 8 carries every pin: INDEX_HASH=abc, SCHEMA_REV=v3']],
    ['names the pin and both values on a mismatch', { SCHEMA_REV: 'v3' }, { SCHEMA_REV: 'v2' }, false, ['SCHEMA_REV: expected "v3", version 8 has "v2"']],
    ['fails a missing pin, saying it is missing', { MODEL_TAG: 'm-7' }, { SCHEMA_REV: 'v3' }, false, ['MODEL_TAG: expected "m-7", version 8 has no MODEL_TAG']],
    ['fails every pin of a version without an environment', { PROMPT_VER: '12', EMBED_SCHEMA: 'e2' }, undefined, false,
      ['EMBED_SCHEMA: expected "e2", version 8 has no EMBED_SCHEMA', 'PROMPT_VER: expected "12", version 8 has no PROMPT_VER']],
    ['is case-sensitive in values', { MODEL_TAG: 'Claude' }, { MODEL_TAG: 'claude' }, false, ['MODEL_TAG: expected "Claude", version 8 has "claude"']],
    ['passes with nothing declared', {}, { SCHEMA_REV: 'v3' }, true, ['no invariants declared']],
  ])('%s', (_name, expected, environment, passed, reasons) => {
    const decision = checkInvariants(expected, environment, '8');
    expect(decision.passed).toBe(passed);
    expect(decision.reasons).toEqual(reasons);
    expect(decision.kind).toBe('cdk-rollout-guardrails/blue-green/invariants');
  });

  test('records each pin as a check: the version\'s value measured against the declared one', () => {
    expect(checkInvariants({ SCHEMA_REV: 'v3', INDEX_HASH: 'abc' }, { SCHEMA_REV: 'v3' }, '8').checks).toEqual([
      { name: 'invariant:INDEX_HASH', measured: null, threshold: 'abc', passed: false, reason: 'INDEX_HASH: expected "abc", version 8 has no INDEX_HASH' },
      { name: 'invariant:SCHEMA_REV', measured: 'v3', threshold: 'v3', passed: true, reason: 'SCHEMA_REV: version 8 has "v3"' },
    ]);
  });
});
