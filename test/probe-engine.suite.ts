import { AppSpecError, parseLambdaAppSpec } from '../packages/runtime/src/contract/appspec';
import { collectSamples, Invoker, judge, planSamples, reportMetrics, runProbe, Sample, scoreVersion } from '../lambdas/probe/engine';
import { functionNameOf } from '../lambdas/shared/lambda-metrics';
import { mapBounded, TimeoutError, withTimeout } from '../lambdas/probe/pool';
import { GoldItem } from '../packages/runtime/src/probe';
import { DEFAULT_PROBE_GATES, DEFAULT_REQUEST_TEMPLATE, ProbeConfig } from '../packages/runtime/src/contract/probe';
import { extractAnswer, parsePointer, renderRequest, resolvePointer } from '../packages/runtime/src/contract/probe-request';

const gold: GoldItem[] = [
  { id: 'a', question: 'What is alpha?', paraphrases: ['Explain alpha.', 'Describe alpha.'], target: 'Alpha is the first letter of the Greek alphabet.' },
  { id: 'b', question: 'What is beta?', paraphrases: ['Explain beta.', 'Describe beta.'], target: 'Beta tests a release with real users before it ships.' },
];
const config: ProbeConfig = {
  requestTemplate: DEFAULT_REQUEST_TEMPLATE, answerPointer: '/answer', seeds: 2, concurrency: 4, invokeTimeoutMs: 1000,
  budgetMs: 60_000, metricNamespace: 'Test', gates: DEFAULT_PROBE_GATES,
};
const targetOf = (request: any) => gold.find((g) => [g.question, ...g.paraphrases].includes(request.question))!.target;
const answering = (answer: (request: any, side: string) => unknown, latency = 10): Invoker => async (side, request) => ({
  payload: JSON.stringify(answer(request, side)), latencyMs: latency, cold: false,
});

describe('request templates and answer pointers', () => {
  test('fills {{question}} inside strings and turns a bare {{seed}} into a number, leaving the template as it was', () => {
    const template = { input: { text: 'Q: {{question}} (seed {{seed}})', seed: '{{seed}}' }, tags: ['{{question}}'], n: 1 };
    expect(renderRequest(template, 'Why?', 3)).toEqual({ input: { text: 'Q: Why? (seed 3)', seed: 3 }, tags: ['Why?'], n: 1 });
    expect(template.input.seed).toBe('{{seed}}');
  });

  test('resolves RFC 6901 pointers, with ~1 for "/" and ~0 for "~", into objects and arrays', () => {
    const doc = { 'a/b': { 'c~d': ['zero', 'one'] } };
    expect(resolvePointer(doc, parsePointer('/a~1b/c~0d/1'))).toBe('one');
    expect(resolvePointer(doc, parsePointer('/a~1b/c~0d/01'))).toBeUndefined();
    expect(resolvePointer(doc, parsePointer('/missing'))).toBeUndefined();
    expect(resolvePointer('whole', parsePointer(''))).toBe('whole');
  });

  test('calls a response without a non-blank string at the pointer a schema violation, and says which', () => {
    const tokens = parsePointer('/answer');
    expect(extractAnswer('{"answer":"yes"}', tokens, '/answer')).toEqual({ answer: 'yes' });
    expect(extractAnswer('<html>', tokens, '/answer')).toEqual({ violation: 'response is not JSON: "<html>"' });
    expect(extractAnswer('{"text":"yes"}', tokens, '/answer')).toEqual({ violation: 'no value at /answer' });
    expect(extractAnswer('{"answer":42}', tokens, '/answer')).toEqual({ violation: 'value at /answer is number, not a string' });
    expect(extractAnswer('{"answer":null}', tokens, '/answer')).toEqual({ violation: 'value at /answer is null, not a string' });
    expect(extractAnswer('{"answer":"  "}', tokens, '/answer')).toEqual({ violation: 'value at /answer is blank' });
  });
});

describe('the deployment\'s AppSpec', () => {
  test('reads CloudFormation\'s capitalised JSON', () => {
    const content = JSON.stringify({ version: 0.0, Resources: [{ fn: { Type: 'AWS::Lambda::Function', Properties: { Name: 'svc', Alias: 'live', CurrentVersion: '3', TargetVersion: '4' } } }] });
    expect(parseLambdaAppSpec(content)).toEqual({ functionName: 'svc', alias: 'live', currentVersion: '3', targetVersion: '4' });
  });

  test('reads the lower-case JSON and YAML that AWS documents', () => {
    const json = JSON.stringify({ version: 0.0, resources: [{ fn: { type: 'AWS::Lambda::Function', properties: { name: 'svc', alias: 'live', currentversion: 3, targetversion: 4 } } }] });
    expect(parseLambdaAppSpec(json)).toEqual({ functionName: 'svc', alias: 'live', currentVersion: '3', targetVersion: '4' });
    const yaml = "version: 0.0\nresources:\n  - fn:\n      type: \"AWS::Lambda::Function\"\n      properties:\n        name: 'svc' # the function\n        alias: live\n        currentversion: 3\n        targetversion: 4\n";
    expect(parseLambdaAppSpec(yaml)).toEqual({ functionName: 'svc', alias: 'live', currentVersion: '3', targetVersion: '4' });
  });

  test('rejects an AppSpec without exactly one function, or without its versions', () => {
    const fn = (props: object) => ({ f: { Type: 'AWS::Lambda::Function', Properties: props } });
    const full = { Name: 'svc', Alias: 'live', CurrentVersion: '3', TargetVersion: '4' };
    expect(() => parseLambdaAppSpec(JSON.stringify({ Resources: [fn(full), fn(full)] }))).toThrow('expected one AWS::Lambda::Function resource in the AppSpec, found 2');
    expect(() => parseLambdaAppSpec(JSON.stringify({ Resources: [fn({ Name: 'svc', Alias: 'live' })] }))).toThrow("the AppSpec's Lambda resource lacks currentversion, targetversion");
    expect(() => parseLambdaAppSpec('')).toThrow(AppSpecError);
    expect(() => parseLambdaAppSpec('{not json')).toThrow(/^the AppSpec content is not valid JSON/);
  });

  test('takes a function name from a name or an ARN for the metric dimension', () => {
    expect(functionNameOf('arn:aws:lambda:eu-west-1:123456789012:function:svc')).toBe('svc');
    expect(functionNameOf('arn:aws:lambda:eu-west-1:123456789012:function:svc:7')).toBe('svc');
    expect(functionNameOf('svc')).toBe('svc');
  });
});

describe('bounded concurrency and timeouts', () => {
  test('never has more than the limit in flight, and returns results in item order', async () => {
    let inFlight = 0;
    let most = 0;
    const results = await mapBounded([5, 1, 4, 2, 3, 0], 2, async (ms) => {
      most = Math.max(most, ++inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return ms * 10;
    });
    expect(most).toBe(2);
    expect(results).toEqual([50, 10, 40, 20, 30, 0]);
  });

  test('starts nothing more once told to stop', async () => {
    let started = 0;
    const results = await mapBounded([1, 2, 3, 4, 5], 1, async (x) => { started++; return x; }, () => started >= 2);
    expect(results).toEqual([1, 2, undefined, undefined, undefined]);
  });

  test('cuts a call off at its timeout and aborts its signal', async () => {
    let signal: AbortSignal | undefined;
    await expect(withTimeout(20, (s) => { signal = s; return new Promise(() => undefined); })).rejects.toThrow(new TimeoutError(20));
    expect(signal!.aborted).toBe(true);
  });
});

describe('collecting, scoring and judging', () => {
  test('plans question and paraphrases × seeds, alternating new and current', () => {
    const plan = planSamples(gold, 2);
    expect(plan).toHaveLength(2 * 3 * 2 * 2);
    expect(plan.slice(0, 4)).toEqual([
      { item: 0, text: 0, seed: 0, side: 'new' }, { item: 0, text: 0, seed: 0, side: 'current' },
      { item: 0, text: 0, seed: 1, side: 'new' }, { item: 0, text: 0, seed: 1, side: 'current' },
    ]);
  });

  test('records failed calls, function errors and timeouts on their samples instead of throwing', async () => {
    const invoke: Invoker = async (side, request: any) => {
      if (request.seed === 1 && side === 'new') return new Promise(() => undefined);
      if (request.question.startsWith('Explain')) throw new Error('Rate exceeded');
      if (request.question.startsWith('Describe')) return { payload: '{"errorMessage":"boom"}', functionError: 'Unhandled', latencyMs: 3, cold: false };
      return { payload: JSON.stringify({ answer: targetOf(request) }), latencyMs: 3, cold: false };
    };
    const { samples, complete } = await collectSamples({ gold, config: { ...config, invokeTimeoutMs: 30 }, invoke, deadline: Infinity });
    expect(complete).toBe(true);
    const first = samples.filter((s) => s.item === 0);
    expect(first.find((s) => s.text === 0 && s.seed === 1 && s.side === 'new')!.error).toBe('timed out after 30 ms');
    expect(first.find((s) => s.text === 1 && s.seed === 0)!.error).toBe('Rate exceeded');
    expect(first.find((s) => s.text === 2 && s.seed === 0)!.error).toBe('function error Unhandled: {"errorMessage":"boom"}');
    expect(first.find((s) => s.text === 0 && s.seed === 0 && s.side === 'new')!.answer).toBe(gold[0].target);
  });

  test('stops at the deadline and fails the "complete" gate', async () => {
    let now = 0;
    const invoke: Invoker = async (_, request: any) => { now += 10; return { payload: JSON.stringify({ answer: targetOf(request) }), latencyMs: 1, cold: false }; };
    const report = await runProbe({
      gold, config: { ...config, concurrency: 1 }, invoke, deadline: 50, now: () => now,
      functionName: 'svc', alias: 'live', versions: { new: '2', current: '1' },
    });
    expect(report.plan).toMatchObject({ invocations: 24, completed: 5 });
    expect(report.verdict).toBe('fail');
    expect(report.reasons).toContain('complete: only 5 of 24 invocations ran before the time budget ran out');
  });

  test('scores a failed invocation as ΔS 1 and coverage 0, and counts it', async () => {
    const samples: Sample[] = [
      { item: 0, text: 0, seed: 0, side: 'new', answer: gold[0].target, latencyMs: 5, cold: true },
      { item: 0, text: 1, seed: 0, side: 'new', error: 'Rate exceeded' },
      { item: 0, text: 2, seed: 0, side: 'new', violation: 'no value at /answer', latencyMs: 5, cold: false },
    ];
    const stats = await scoreVersion(gold, samples, 'new', '2');
    expect(stats).toMatchObject({ deltaSMedian: 1, coverageMedian: 0, invokeErrors: 1, schemaViolations: 1, coldStarts: 1, answers: 1 });
    expect(stats.warmLatencies).toEqual([5]);
    expect(stats.lambdaStates.a).toBe('chaotic');
  });

  test('passes a coverage exactly at the threshold, and counts λ flips by question', async () => {
    const base = { version: '1', answers: 1, deltaSMedian: 0.3, deltaSP95: 0.5, coverageMedian: 0.7, schemaViolations: 0, invokeErrors: 0, questionDeltaS: {}, topicCoverage: {}, wordingLambdaStates: {}, warmLatencies: [], coldStarts: 0 };
    const fresh = { ...base, version: '2', deltaSMedian: 0.33, lambdaStates: { a: 'convergent', b: 'recursive' } as const };
    const current = { ...base, lambdaStates: { a: 'convergent', b: 'convergent' } as const };
    const judged = judge(gold, fresh, current, DEFAULT_PROBE_GATES, true, 24, 24);
    const byGate = Object.fromEntries(judged.gates.map((g) => [g.name, g]));
    expect(byGate.minCoverage.passed).toBe(true);
    expect(byGate.maxDeltaSDrift).toMatchObject({ passed: true, reason: 'ΔS drift (new median − current median) 0.03 ≤ 0.03' });
    expect(byGate.maxLambdaFlips).toMatchObject({ passed: false, measured: 1, reason: 'λ flips 1 > 0 (b: convergent → recursive)' });
    expect(byGate.latency).toMatchObject({ passed: true, reason: 'latency judge insufficient-data: needs at least 20 warm latency samples per version, got 0 new and 0 current (not blocking)' });
    const strict = judge(gold, fresh, current, { ...DEFAULT_PROBE_GATES, requireLatencyVerdict: true }, true, 24, 24);
    expect(strict.gates.find((g) => g.name === 'latency')!.passed).toBe(false);
  });

  test('passes two versions that answer alike, and fails a version that answers off target, with its reasons', async () => {
    const run = (invoke: Invoker) => runProbe({ gold, config, invoke, deadline: Infinity, functionName: 'svc', alias: 'live', versions: { new: '2', current: '1' } });
    const same = await run(answering((request) => ({ answer: targetOf(request) })));
    expect(same.verdict).toBe('pass');
    expect(same.reasons).toEqual([]);
    const off = await run(answering((request, side) => ({ answer: side === 'new' ? 'Something else entirely.' : targetOf(request) })));
    expect(off.verdict).toBe('fail');
    expect(off.reasons).toEqual([
      'maxDeltaS: median ΔS of the new version 1.004 > 0.45',
      'maxDeltaSDrift: ΔS drift (new median − current median) 1.004 > 0.03',
      'minCoverage: median coverage of the new version 0 < 0.7',
    ]);
  });

  test('publishes each version under its own Version, leaving out values that are not finite', async () => {
    const report = await runProbe({
      gold, config, deadline: Infinity, functionName: 'svc', alias: 'live', versions: { new: '2', current: '1' },
      invoke: answering((request) => ({ answer: targetOf(request) })),
    });
    const metrics = reportMetrics(report);
    expect(metrics).toContainEqual({ name: 'DeltaSMedian', value: 0, unit: 'None', version: '2' });
    expect(metrics).toContainEqual({ name: 'DeltaSMedian', value: 0, unit: 'None', version: '1' });
    expect(metrics).toContainEqual({ name: 'MinCoverageThreshold', value: 0.7, unit: 'None', version: '2' });
    expect(metrics).toContainEqual({ name: 'ProbePassed', value: 1, unit: 'None', version: '2' });
    // 24 invocations give 12 warm samples per version: too few for the judge, so no p-value to publish.
    expect(metrics.find((m) => m.name === 'LatencyMannWhitneyP')).toBeUndefined();
    expect(metrics.every((m) => Number.isFinite(m.value))).toBe(true);
  });
});
