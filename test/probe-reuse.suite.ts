// Reusing the current version's answers within a deployment (DeltaSProbe reuseCurrentAnswers), at the engine:
// which current-version samples are still invoked, what is recorded, and the fallbacks (nothing recorded, an
// unreadable record, answers that differ from the record, no deployment id, no table).
import { AnswerStore, Invoker, latencySampleSize, questionFingerprint, RecordedQuestion, ReuseScope, runProbe, spreadPositions } from '../lambdas/probe/engine';
import { GoldItem } from '../packages/runtime/src/contract/gold-set';
import { DEFAULT_PROBE_GATES, DEFAULT_REQUEST_TEMPLATE, ProbeConfig } from '../packages/runtime/src/contract/probe';

const gold: GoldItem[] = Array.from({ length: 6 }, (_, i) => ({
  id: `q${i}`, question: `What is item ${i}?`, paraphrases: [`Explain item ${i}.`, `Describe item ${i}.`], target: `Item ${i} is the ${i}th thing in the corpus of things.`,
}));
const config: ProbeConfig = {
  requestTemplate: DEFAULT_REQUEST_TEMPLATE, answerPointer: '/answer', seeds: 2, concurrency: 4, invokeTimeoutMs: 1000,
  budgetMs: 60_000, metricNamespace: 'Test', gates: { ...DEFAULT_PROBE_GATES, latencyMinSamples: 5 }, reuseCurrentAnswers: true,
};
const scope: ReuseScope = { deploymentId: 'd-ABCDEFGHI', functionName: 'svc', alias: 'live', currentVersion: '7' };
/** 6 questions × 3 wordings × 2 seeds: 36 samples a version. */
const PER_SIDE = 36;

/** Answers its question's target (deterministic for a seed), and counts its calls per side. */
function service(answer: (request: any, side: string, call: number) => string = (r) => gold.find((g) => [g.question, ...g.paraphrases].includes(r.question))!.target) {
  const calls = { new: 0, current: 0 };
  const invoke: Invoker = async (side, request) => {
    calls[side]++;
    return { payload: JSON.stringify({ answer: answer(request, side, calls[side]) }), latencyMs: side === 'new' ? 20 : 21, cold: false };
  };
  return { calls, invoke };
}

/** The answer table in memory: what the DynamoDB store does, by scope. */
function memoryStore() {
  const items = new Map<string, RecordedQuestion>();
  const key = (s: ReuseScope, id: string) => JSON.stringify([s.deploymentId, s.functionName, s.alias, s.currentVersion, id]);
  const log = { reads: 0, writes: 0 };
  const store: AnswerStore = {
    async read(s, ids) {
      log.reads++;
      return ids.flatMap((id) => (items.has(key(s, id)) ? [items.get(key(s, id))!] : []));
    },
    async write(s, questions) {
      log.writes++;
      for (const q of questions) items.set(key(s, q.id), q);
      return { notStored: 0 };
    },
  };
  return { store, items, log };
}

const run = (invoke: Invoker, reuse?: Parameters<typeof runProbe>[0]['reuse'], probeConfig: ProbeConfig = config) => runProbe({
  gold, config: probeConfig, invoke, deadline: Date.now() + 60_000, functionName: 'svc', alias: 'live', versions: { new: '8', current: '7' }, reuse,
});

describe('how many current-version samples a reusing run still invokes', () => {
  test('at least the latency judge\'s minimum, at least one in four, at most all; spread over the whole run', () => {
    expect(latencySampleSize(80, 20)).toBe(20);
    expect(latencySampleSize(1600, 20)).toBe(400);
    expect(latencySampleSize(40, 20)).toBe(20);
    expect(latencySampleSize(12, 20)).toBe(12);
    expect([...spreadPositions(10, 4)]).toEqual([0, 2, 5, 7]);
    expect([...spreadPositions(3, 3)]).toEqual([0, 1, 2]);
  });
});

describe('reuseCurrentAnswers', () => {
  test('off: both versions are invoked for every sample and the report says nothing of reuse', async () => {
    const { calls, invoke } = service();
    const report = await run(invoke, undefined, { ...config, reuseCurrentAnswers: undefined });
    expect(calls).toEqual({ new: PER_SIDE, current: PER_SIDE });
    expect(report.reuse).toBeUndefined();
    expect(report.verdict).toBe('pass');
  });

  test('the deployment\'s first run invokes everything and records the current version\'s answers; the next reads them and invokes only the latency sample', async () => {
    const { store, items, log } = memoryStore();
    const first = service();
    const recording = await run(first.invoke, { store, scope });
    expect(first.calls).toEqual({ new: PER_SIDE, current: PER_SIDE });
    expect(recording.reuse).toMatchObject({ status: 'none-recorded', reused: 0, invoked: PER_SIDE, recorded: PER_SIDE });
    expect(items.size).toBe(6);
    expect(Object.keys([...items.values()][0].answers).sort()).toEqual(['0/0', '0/1', '1/0', '1/1', '2/0', '2/1']);

    const second = service();
    const reusing = await run(second.invoke, { store, scope });
    const sample = latencySampleSize(PER_SIDE, 5); // max(5, ceil(36 / 4)) = 9
    expect(second.calls).toEqual({ new: PER_SIDE, current: sample });
    expect(reusing.reuse).toMatchObject({ status: 'reused', reused: PER_SIDE - sample, invoked: sample, checked: sample, mismatches: 0, recorded: 0 });
    // Scored as before; the latency judge compares only the invoked current samples with the new version's.
    expect(reusing.verdict).toBe('pass');
    expect(reusing.gates.find((g) => g.name === 'complete')?.passed).toBe(true);
    expect(reusing.current.deltaSMedian).toBe(recording.current.deltaSMedian);
    expect(reusing.latencySamples.current).toHaveLength(sample);
    expect(reusing.latencySamples.new).toHaveLength(PER_SIDE);
    expect(log).toEqual({ reads: 2, writes: 1 });
  });

  test('another deployment, or another current version, finds nothing recorded', async () => {
    const { store } = memoryStore();
    await run(service().invoke, { store, scope });
    for (const other of [{ ...scope, deploymentId: 'd-OTHER0000' }, { ...scope, currentVersion: '6' }]) {
      const { calls, invoke } = service();
      expect((await run(invoke, { store, scope: other })).reuse?.status).toBe('none-recorded');
      expect(calls.current).toBe(PER_SIDE);
    }
  });

  test('a changed request template is not reused (each question\'s record carries its fingerprint)', async () => {
    const { store } = memoryStore();
    await run(service().invoke, { store, scope });
    const changed = { ...config, requestTemplate: { question: '{{question}}', seed: '{{seed}}', temperature: 0 } };
    expect(questionFingerprint(gold[0], changed.requestTemplate, '/answer')).not.toBe(questionFingerprint(gold[0], config.requestTemplate, '/answer'));
    const { calls, invoke } = service();
    expect((await run(invoke, { store, scope }, changed)).reuse?.status).toBe('none-recorded');
    expect(calls.current).toBe(PER_SIDE);
  });

  test('answers that differ from the record set it aside: every current-version sample is invoked, nothing recorded over it', async () => {
    const { store, items } = memoryStore();
    await run(service().invoke, { store, scope });
    const before = JSON.stringify([...items.values()]);
    // Not deterministic for a seed: the current version's answer changes with every call.
    const { calls, invoke } = service((r, side, call) => `${gold.find((g) => [g.question, ...g.paraphrases].includes(r.question))!.target}${side === 'current' ? ` (${call})` : ''}`);
    const report = await run(invoke, { store, scope });
    expect(calls).toEqual({ new: PER_SIDE, current: PER_SIDE });
    expect(report.reuse).toMatchObject({ status: 'nondeterministic', reused: 0, invoked: PER_SIDE, checked: 9, mismatches: 9, recorded: 0 });
    expect(report.reuse?.note).toMatch(/^9 of 9 re-asked samples answered differently from the record \(q0 wording 0 seed 0, .*, \.\.\.\): the function is not deterministic for a seed/);
    expect(JSON.stringify([...items.values()])).toBe(before);
    expect(report.gates.find((g) => g.name === 'complete')?.passed).toBe(true);
  });

  test('an unreadable record falls back to invoking the current version, never fails the run for it, and says so', async () => {
    const store: AnswerStore = {
      read: async () => { throw new Error('AccessDeniedException: not authorized to perform dynamodb:BatchGetItem'); },
      write: async () => { throw new Error('ResourceNotFoundException: table gone'); },
    };
    const { calls, invoke } = service();
    const report = await run(invoke, { store, scope });
    expect(calls).toEqual({ new: PER_SIDE, current: PER_SIDE });
    expect(report.verdict).toBe('pass');
    expect(report.reuse).toMatchObject({ status: 'unreadable', reused: 0, invoked: PER_SIDE, recorded: 0 });
    expect(report.reuse?.note).toBe('the recorded answers could not be read (AccessDeniedException: not authorized to perform dynamodb:BatchGetItem): the current version was invoked for every sample'
      + '; recording failed (ResourceNotFoundException: table gone), so later runs invoke the current version');
  });

  test('a record missing some answers (a failed call in the first run) is reused where it has them, and the gaps invoked and recorded', async () => {
    const { store, items } = memoryStore();
    // The first run: the current version fails on one paraphrase, so that answer is not recorded.
    const flaky: Invoker = async (side, request: any) => (side === 'current' && request.question === 'Explain item 3.' && request.seed === 1
      ? { functionError: 'Unhandled', payload: '{"errorMessage":"boom"}', latencyMs: 5, cold: false }
      : service().invoke(side, request, new AbortController().signal));
    expect((await run(flaky, { store, scope })).reuse).toMatchObject({ recorded: PER_SIDE - 1 });
    const { calls, invoke } = service();
    const report = await run(invoke, { store, scope });
    const sample = latencySampleSize(PER_SIDE, 5);
    expect(calls.current).toBe(sample + 1);
    expect(report.reuse).toMatchObject({ status: 'reused', reused: PER_SIDE - sample - 1, invoked: sample + 1, recorded: 1 });
    expect(Object.keys(items.get(JSON.stringify(['d-ABCDEFGHI', 'svc', 'live', '7', 'q3']))!.answers)).toContain('1/1');
  });

  test('without a deployment id or an answer table nothing is reused, and the report says why', async () => {
    for (const [reuse, status] of [[{ store: memoryStore().store }, 'no-deployment'], [{ scope }, 'no-table']] as const) {
      const { calls, invoke } = service();
      const report = await run(invoke, reuse);
      expect(calls.current).toBe(PER_SIDE);
      expect(report.reuse).toMatchObject({ status, reused: 0, invoked: PER_SIDE });
    }
  });
});
