// The probe's per-run stop rules (#15 §3): `minTopicCoverage` and `maxParaphraseFlips`, which the staged
// schedule passes in a direct run's event for the step being judged. The engine runs with a stub invoker and the
// default embedder; the handler with Lambda and CloudWatch mocked at the SDK layer.
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { InvokeCommand, InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import { Invoker, ProbeReport, reportMetrics, runProbe } from '../lambdas/probe/engine';
import { createHookHandler } from '../lambdas/probe/hook';
import { GoldItem } from '../packages/runtime/src/contract/gold-set';
import { DEFAULT_PROBE_GATES, DEFAULT_REQUEST_TEMPLATE, ProbeConfig, ProbeStopRules } from '../packages/runtime/src/contract/probe';
import { coverage } from '../packages/runtime/src/probe';

const item = (id: string, topic: string | undefined, target: string): GoldItem => ({
  id, question: `What about ${id}?`, paraphrases: [`Tell me about ${id}.`, `Explain ${id}.`], target, ...(topic ? { topic } : {}),
});
/** Three topics, two questions each. */
const gold: GoldItem[] = [
  item('invoices', 'billing', 'Invoices are issued monthly and refunds settle within five business days.'),
  item('credits', 'billing', 'Credit notes cancel disputed invoices and freeze the customer balance automatically.'),
  item('tokens', 'auth', 'Access tokens expire hourly and rotate with the refresh token stored server side.'),
  item('mfa', 'auth', 'Multi factor enrolment requires a hardware key or an authenticator application.'),
  item('canary', 'deploy', 'A canary takes five percent of traffic for ten minutes before the next step.'),
  item('rollback', 'deploy', 'Rollback shifts every request back to the previous version within one minute.'),
];
const config: ProbeConfig = {
  requestTemplate: DEFAULT_REQUEST_TEMPLATE, answerPointer: '/answer', seeds: 2, concurrency: 4, invokeTimeoutMs: 1000,
  budgetMs: 60_000, metricNamespace: 'Test', gates: DEFAULT_PROBE_GATES,
};
const GATE_NAMES = ['complete', 'maxDeltaS', 'maxDeltaSDrift', 'minCoverage', 'maxLambdaFlips', 'maxSchemaViolations', 'maxInvokeErrors', 'latency'];

/** Which gold item and wording (0 the question, 1.. the paraphrases) a request asks. */
function asked(items: readonly GoldItem[], request: { question: string }): { item: GoldItem; text: number } {
  for (const it of items) {
    const text = [it.question, ...it.paraphrases].indexOf(request.question);
    if (text >= 0) return { item: it, text };
  }
  throw new Error(`not a gold question: ${request.question}`);
}

/** An invoker answering `answer(item, wording, seed, side)`, or the target itself when that returns undefined. */
const answering = (items: readonly GoldItem[], answer: (item: GoldItem, text: number, seed: number, side: string) => string | undefined = () => undefined): Invoker =>
  async (side, request: any) => {
    const { item: it, text } = asked(items, request);
    return { payload: JSON.stringify({ answer: answer(it, text, request.seed, side) ?? it.target }), latencyMs: 10, cold: false };
  };

const run = (invoke: Invoker, stopRules?: ProbeStopRules, options: { items?: readonly GoldItem[]; probe?: Partial<ProbeConfig> } = {}) => runProbe({
  gold: options.items ?? gold, config: { ...config, ...options.probe }, invoke, deadline: Infinity,
  functionName: 'svc', alias: 'live', versions: { new: '2', current: '1' }, stopRules,
});
const check = (report: ProbeReport, name: string) => report.gates.find((g) => g.name === name);

/** The first four words of the target: a poor answer, the same on every seed. */
const POOR = (target: string) => target.split(' ').slice(0, 4).join(' ');

describe('minTopicCoverage', () => {
  test('fails on the one topic whose answers are poor, naming it, while the median coverage overall passes', async () => {
    const report = await run(answering(gold, (it, _t, _s, side) => (side === 'new' && it.topic === 'billing' ? POOR(it.target) : undefined)), { minTopicCoverage: 0.7 });
    // Both billing questions answer with under half of their content words (every wording, every seed).
    const billing = [coverage(POOR(gold[0].target), gold[0].target), coverage(POOR(gold[1].target), gold[1].target)];
    expect(Math.max(...billing)).toBeLessThan(0.5);
    const low = (billing[0] + billing[1]) / 2; // the median of 6 samples of each: the mean of the two
    expect(report.topicCoverage).toEqual({ billing: low, auth: 1, deploy: 1 });
    expect(check(report, 'minCoverage')).toMatchObject({ passed: true, measured: 1 });
    expect(check(report, 'minTopicCoverage')).toEqual({
      name: 'minTopicCoverage', measured: low, threshold: 0.7, passed: false,
      reason: `coverage of topic "billing" ${Number(low.toFixed(3))} < 0.7 (lowest of 3 topics)`,
    });
    expect(report.verdict).toBe('fail');
    expect(report.reasons).toEqual([`minTopicCoverage: coverage of topic "billing" ${Number(low.toFixed(3))} < 0.7 (lowest of 3 topics)`]);
  });

  test('names every topic below the threshold, the lowest first', async () => {
    const report = await run(answering(gold, (it, _t, _s, side) => (side !== 'new' ? undefined
      : it.topic === 'billing' ? POOR(it.target) : it.topic === 'deploy' ? `${POOR(it.target)} ${it.target.split(' ').slice(4, 8).join(' ')}` : undefined)), { minTopicCoverage: 0.7 });
    const { billing, deploy } = report.topicCoverage;
    expect(billing).toBeLessThan(deploy);
    expect(deploy).toBeLessThan(0.7);
    expect(check(report, 'minTopicCoverage')!.reason).toBe(
      `coverage of topic "billing" ${Number(billing.toFixed(3))} < 0.7 (lowest of 3 topics; 2 of 3 topics below: "billing" ${Number(billing.toFixed(3))}, "deploy" ${Number(deploy.toFixed(3))})`);
  });

  test('passes when every topic is answered well', async () => {
    const report = await run(answering(gold), { minTopicCoverage: 0.7 });
    expect(report.topicCoverage).toEqual({ billing: 1, auth: 1, deploy: 1 });
    expect(check(report, 'minTopicCoverage')).toEqual({
      name: 'minTopicCoverage', measured: 1, threshold: 0.7, passed: true, reason: 'coverage of topics "billing", "auth", "deploy" 1 ≥ 0.7 (lowest of 3 topics)',
    });
    expect(report.verdict).toBe('pass');
  });

  test('counts a failed invocation as coverage 0 in its topic', async () => {
    const invoke = answering(gold);
    const report = await run(async (side, request: any, signal) => {
      if (side === 'new' && asked(gold, request).item.topic === 'auth') throw new Error('Rate exceeded');
      return invoke(side, request, signal);
    }, { minTopicCoverage: 0.5 }, { probe: { gates: { ...DEFAULT_PROBE_GATES, maxInvokeErrors: 100 } } });
    expect(report.topicCoverage).toEqual({ billing: 1, auth: 0, deploy: 1 });
    expect(check(report, 'minTopicCoverage')).toMatchObject({ measured: 0, passed: false, reason: 'coverage of topic "auth" 0 < 0.5 (lowest of 3 topics)' });
  });

  test('groups items without a topic as "(no topic)"', async () => {
    const items = [item('plain', undefined, 'Plain answers need no topic at all.'), ...gold.slice(0, 2)];
    const report = await run(answering(items, (it, _t, _s, side) => (side === 'new' && it.topic === undefined ? 'Nothing relevant here.' : undefined)),
      { minTopicCoverage: 0.7 }, { items });
    expect(report.topicCoverage).toEqual({ '(no topic)': 0, billing: 1 });
    expect(check(report, 'minTopicCoverage')).toMatchObject({ passed: false, measured: 0, reason: 'coverage of topic "(no topic)" 0 < 0.7 (lowest of 2 topics)' });
  });
});

describe('maxParaphraseFlips', () => {
  // ΔS of the new version over a wording's two seeds: the target on seed 0, something else on seed 1, i.e.
  // about [0, 1]: chaotic, where the current version's [0, 0] is convergent.
  const offOnSeed1 = (id: string, texts: number[]) => answering(gold, (it, text, seed, side) => (
    side === 'new' && it.id === id && texts.includes(text) && seed === 1 ? 'Something else entirely, about weather in spring.' : undefined));
  // The whole question flips as well: allow it, so that the stop rule alone decides.
  const lenient = { probe: { gates: { ...DEFAULT_PROBE_GATES, maxLambdaFlips: 10 } } };

  test('fails when two wordings of one question flip λ, naming the question and the wordings', async () => {
    const report = await run(offOnSeed1('tokens', [0, 2]), { maxParaphraseFlips: 1 }, lenient);
    expect(report.paraphraseFlips).toEqual([{ id: 'tokens', flipped: ['question', 'paraphrase 2'] }]);
    expect(check(report, 'maxParaphraseFlips')).toEqual({
      name: 'maxParaphraseFlips', measured: 2, threshold: 1, passed: false,
      reason: 'most wordings of one gold question whose λ flips 2 > 1 (tokens: question convergent → chaotic, paraphrase 2 convergent → chaotic)',
    });
    expect(report.verdict).toBe('fail');
    expect(report.reasons).toEqual([`maxParaphraseFlips: ${check(report, 'maxParaphraseFlips')!.reason}`]);
  });

  test('passes when only one wording flips', async () => {
    const report = await run(offOnSeed1('tokens', [1]), { maxParaphraseFlips: 1 }, lenient);
    expect(report.paraphraseFlips).toEqual([{ id: 'tokens', flipped: ['paraphrase 1'] }]);
    expect(check(report, 'maxParaphraseFlips')).toMatchObject({
      measured: 1, passed: true, reason: 'most wordings of one gold question whose λ flips 1 ≤ 1 (tokens: paraphrase 1 convergent → chaotic)',
    });
    expect(report.verdict).toBe('pass');
  });

  test('passes with no flips, and lists none', async () => {
    const report = await run(answering(gold), { maxParaphraseFlips: 0 });
    expect(report.paraphraseFlips).toEqual([]);
    expect(check(report, 'maxParaphraseFlips')).toEqual({
      name: 'maxParaphraseFlips', measured: 0, threshold: 0, passed: true, reason: 'most wordings of one gold question whose λ flips 0 ≤ 0',
    });
  });

  test('with one seed a wording has no λ state of its own: the rule is not judged, and says why', async () => {
    // One seed: every answer off target on the new side, on target on the current side. ΔS moves a lot, but a
    // single value per wording has no sequence to judge (lambdaState of one value is always convergent).
    const report = await run(answering(gold, (_i, _t, _s, side) => (side === 'new' ? 'Something else entirely.' : undefined)),
      { maxParaphraseFlips: 0 }, { probe: { seeds: 1 } });
    expect(report.paraphraseFlips).toEqual([]);
    expect(check(report, 'maxParaphraseFlips')).toEqual({
      name: 'maxParaphraseFlips', measured: null, threshold: 0, passed: null,
      reason: 'not judged: no wording has a λ state in both versions; per-wording λ needs ≥ 2 seeds (λ of a single value is always convergent)',
    });
  });
});

describe('without stop rules', () => {
  test('the report\'s gates are the gates alone, as before; each rule given adds its one check after them', async () => {
    const invoke = answering(gold);
    const none = await run(invoke);
    expect(none.gates.map((g) => g.name)).toEqual(GATE_NAMES);
    expect((await run(invoke, {})).gates.map((g) => g.name)).toEqual(GATE_NAMES);
    expect((await run(invoke, { maxParaphraseFlips: 1 })).gates.map((g) => g.name)).toEqual([...GATE_NAMES, 'maxParaphraseFlips']);
    const both = await run(invoke, { minTopicCoverage: 0.7, maxParaphraseFlips: 1 });
    expect(both.gates.map((g) => g.name)).toEqual([...GATE_NAMES, 'minTopicCoverage', 'maxParaphraseFlips']);
    // The topic coverage is reported either way; the metrics name the rules' thresholds only when given.
    expect(none.topicCoverage).toEqual({ billing: 1, auth: 1, deploy: 1 });
    expect(reportMetrics(none)).toContainEqual({ name: 'MinTopicCoverage', value: 1, unit: 'None', version: '2' });
    expect(reportMetrics(none).map((m) => m.name)).not.toContain('MinTopicCoverageThreshold');
    expect(reportMetrics(both)).toContainEqual({ name: 'MinTopicCoverageThreshold', value: 0.7, unit: 'None', version: '2' });
  });
});

describe('stopRules in a direct run', () => {
  const lambdaMock = mockClient(LambdaClient);
  const cloudwatchMock = mockClient(CloudWatchClient);
  const handler = createHookHandler({
    load: () => ({ config, gold }),
    lambda: new LambdaClient({}),
    codedeploy: new CodeDeployClient({}),
    cloudwatch: new CloudWatchClient({}),
    log: () => undefined,
  });
  const direct = { functionName: 'svc', alias: 'live', currentVersion: '1', targetVersion: '2' };

  beforeEach(() => {
    lambdaMock.reset();
    cloudwatchMock.reset();
    cloudwatchMock.on(PutMetricDataCommand).resolves({});
    lambdaMock.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => {
      const request = JSON.parse(Buffer.from(input.Payload as Uint8Array).toString('utf8'));
      const { item: it } = asked(gold, request);
      const answer = input.Qualifier === '2' && it.topic === 'deploy' ? POOR(it.target) : it.target;
      // Lambda's own Duration, the same for both versions: the latency judge has nothing to say.
      return { StatusCode: 200, Payload: Buffer.from(JSON.stringify({ answer })) as never, LogResult: Buffer.from('REPORT RequestId: r\tDuration: 20.00 ms').toString('base64') };
    });
  });

  test('judges the rules the event carries, in the answer and the metrics', async () => {
    const result = await handler({ ...direct, stopRules: { minTopicCoverage: 0.7, maxParaphraseFlips: 1 } });
    expect(result.status).toBe('Failed');
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]).toMatch(/^minTopicCoverage: coverage of topic "deploy" [\d.]+ < 0\.7 \(lowest of 3 topics\)$/);
    expect(result.report!.gates.map((g) => g.name)).toEqual([...GATE_NAMES, 'minTopicCoverage', 'maxParaphraseFlips']);
    expect(result.report!.gates.find((g) => g.name === 'maxParaphraseFlips')).toMatchObject({ measured: 0, passed: true });
    const published = cloudwatchMock.commandCalls(PutMetricDataCommand).flatMap((c) => c.args[0].input.MetricData!.map((d) => d.MetricName));
    expect(published).toEqual(expect.arrayContaining(['MinTopicCoverage', 'MinTopicCoverageThreshold', 'MaxParaphraseFlipsThreshold']));
  });

  test('null stop rules are none', async () => {
    const result = await handler({ ...direct, stopRules: null });
    expect(result.status).toBe('Succeeded');
    expect(result.report!.gates.map((g) => g.name)).toEqual(GATE_NAMES);
  });

  test.each([
    ['a coverage above 1', { minTopicCoverage: 1.5 }, 'stopRules.minTopicCoverage must be a number from 0 to 1, got: 1.5'],
    ['a negative coverage', { minTopicCoverage: -0.1 }, 'stopRules.minTopicCoverage must be a number from 0 to 1, got: -0.1'],
    ['a coverage as a string', { minTopicCoverage: '0.7' }, 'stopRules.minTopicCoverage must be a number from 0 to 1, got: "0.7"'],
    ['a negative flip count', { maxParaphraseFlips: -1 }, 'stopRules.maxParaphraseFlips must be an integer ≥ 0, got: -1'],
    ['a fractional flip count', { maxParaphraseFlips: 0.5 }, 'stopRules.maxParaphraseFlips must be an integer ≥ 0, got: 0.5'],
    ['a null rule', { maxParaphraseFlips: null }, 'stopRules.maxParaphraseFlips must be an integer ≥ 0, got: null'],
    ['an unknown rule', { minCoverage: 0.7 }, 'stopRules.minCoverage is not a stop rule (known: minTopicCoverage, maxParaphraseFlips), got: 0.7'],
    ['a string', 'strict', 'stopRules must be an object or null, got: "strict"'],
    ['an array', [0.7], 'stopRules must be an object or null, got: [0.7]'],
  ])('refuses %s, naming the field and the value, and invokes nothing', async (_what, stopRules, message) => {
    await expect(handler({ ...direct, stopRules } as never)).rejects.toThrow(message);
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(cloudwatchMock.commandCalls(PutMetricDataCommand)).toHaveLength(0);
  });
});
