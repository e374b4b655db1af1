// What travels between a state machine's states stays far under Step Functions' 256 KiB (SFN-4) whatever the
// gold set's size: the probe's direct-run answer is compact, and the hold judges a compact report the same way.
import { compactReport, COMPACT_LIST_LIMIT } from '../lambdas/probe/hook';
import { ProbeReport } from '../lambdas/probe/engine';
import { probeRules } from '../lambdas/blue-green/hold-engine';

const SFN_PAYLOAD_LIMIT = 262_144;

/** A report as a 5,000-question gold set would make it: 40,000 warm samples a version, 1,000 λ flips. */
function hugeReport(questions = 5_000, flips = 1_000): ProbeReport {
  const samples = Array.from({ length: questions * 8 }, (_, i) => 20 + (i % 97) / 10);
  const stats = { deltaSMedian: 0.2, deltaSP95: 0.3, coverageMedian: 0.8, schemaViolations: 0, invokeErrors: 0, answered: questions * 8 } as any;
  return {
    report: 'cdk-rollout-guardrails/delta-s-probe', verdict: 'fail', reasons: ['maxLambdaFlips: 1000 > 0'],
    functionName: 'answer', alias: 'live', versions: { new: '8', current: '7' },
    plan: { questions, texts: questions * 4, seeds: 2, invocations: questions * 16, completed: questions * 16 },
    gates: [{ name: 'maxLambdaFlips', measured: flips, threshold: 0, passed: false, reason: 'too many' } as any],
    new: stats, current: stats, deltaSDrift: 0.01,
    lambdaFlips: Array.from({ length: flips }, (_, i) => ({ id: `question-${i}`, current: 'convergent', new: 'chaotic' } as any)),
    topicCoverage: { billing: 0.8, '(no topic)': 0.7 },
    paraphraseFlips: Array.from({ length: flips }, (_, i) => ({ id: `question-${i}`, flipped: ['question', 'paraphrase 2'] })),
    latency: {} as any,
    latencySamples: { new: samples, current: samples },
    worstQuestions: Array.from({ length: 5 }, (_, i) => ({ id: `q${i}`, newDeltaS: 0.9, currentDeltaS: 0.1 })),
    examples: Array.from({ length: 200 }, (_, i) => ({ side: 'new', id: `q${i}`, problem: 'x'.repeat(200) } as any)),
    elapsedMs: 1,
  };
}

describe('payloads between states', () => {
  test('the whole report of a large gold set would not fit; its compact form does, with every count whole', () => {
    const report = hugeReport();
    expect(JSON.stringify(report).length).toBeGreaterThan(SFN_PAYLOAD_LIMIT);
    const compact = compactReport(report);
    const size = JSON.stringify({ status: 'Failed', reasons: report.reasons, report: compact }).length;
    expect(size).toBeLessThan(SFN_PAYLOAD_LIMIT / 8);
    expect(compact).not.toHaveProperty('latencySamples');
    expect(compact.lambdaFlips).toHaveLength(COMPACT_LIST_LIMIT);
    expect(compact.lambdaFlipCount).toBe(1_000);
    expect(compact.paraphraseFlips).toHaveLength(COMPACT_LIST_LIMIT);
    expect(compact.paraphraseFlipCount).toBe(1_000);
    expect(compact.exampleCount).toBe(200);
    expect(compact.plan).toEqual(report.plan);
  });

  test('the hold judges the λ flip rate on the whole count, not the cut list', () => {
    const compact = compactReport(hugeReport(5_000, 1_000));
    const rules = { maxDeltaSP95Drift: 0.15, minCoverage: 0.6, maxLambdaFlipRate: 0.1, max5xxRate: 0.01, minInvocations: 100 };
    const flip = probeRules({ status: 'Failed', report: compact as any }, rules).find((c) => c.name === 'maxLambdaFlipRate')!;
    // 1,000 of 5,000 = 0.2 > 0.1 (the 20 listed alone would read 0.004 and pass).
    expect(flip).toMatchObject({ measured: 0.2, passed: false });
    expect(flip.reason).toMatch(/^λ flip rate 1000 of 5000 = 0\.2 > 0\.1/);
  });
});
