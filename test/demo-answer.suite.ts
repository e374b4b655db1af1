import * as fs from 'fs';
import * as path from 'path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { answerQuestion, createDemoHandler, DemoAnswer, DemoRequestError, firstSentence, handler, MAX_QUESTION_LENGTH, nearestSection } from '../lambdas/demo-answer';
import { CORPUS } from '../lambdas/demo-answer/corpus';
import { coverage, deltaS, deltaSPairs, parseGoldSet } from '../packages/runtime/src/probe';

const HELD_OUT: ReadonlyArray<readonly [string, string]> = [
  ['canary-release', 'Why would I expose only a few users to a new build first?'],
  ['canary-release', 'Is a canary just a small slice of traffic on the new version?'],
  ['lambda-alias', 'How do I point callers at a stable name instead of a version number?'],
  ['lambda-alias', 'What are AdditionalVersionWeights used for?'],
  ['staged-rollout', 'Why does the rollout go 1, 5, 25, 50 and then 100 percent?'],
  ['staged-rollout', 'Does the whole schedule need to finish within an hour?'],
  ['automatic-rollback', 'Who resets the weight when a gate alarm fires?'],
  ['automatic-rollback', 'Does CloudFormation roll the stack back when the deployment fails?'],
  ['delta-s', 'What is the median drift gate on the gold set?'],
  ['delta-s', 'Which cosine similarity formula is used for semantic drift?'],
  ['lambda-state', 'What makes a question chaotic rather than divergent?'],
  ['lambda-state', 'When is a λ flip counted?'],
  ['coverage', 'Which fraction of the expected words must an answer keep?'],
  ['coverage', 'Why can an answer sound right and still fail coverage?'],
  ['gold-set', 'How many probe questions should I write?'],
  ['gold-set', 'What happens when a JSON Lines line is malformed?'],
  ['provisioned-concurrency', 'What does the warm gate wait for?'],
  ['provisioned-concurrency', 'Are warm pings counted in the latency SLO?'],
  ['cold-start', 'Why is tail latency worse right after a deploy?'],
  ['cold-start', 'What share of cold starts is tolerated after warm-up?'],
  ['shadow-traffic', 'Can I replay real requests to the new version without users seeing the answers?'],
  ['shadow-traffic', 'What feeds the mirror dispatcher?'],
  ['idempotency', 'Will a retry during a rollout run the payment twice?'],
  ['idempotency', 'How long are request keys kept in DynamoDB?'],
  ['codedeploy-hooks', 'What must a BeforeAllowTraffic function report?'],
  ['codedeploy-hooks', 'What happens if a hook never calls PutLifecycleEventHookExecutionStatus?'],
  ['release-gates', 'Which thresholds does CodeDeploy watch as alarms?'],
  ['release-gates', 'How do I know which threshold stopped the rollout from the alarm name?'],
  ['latency-judge', 'Is the new version judged slower with a statistical test?'],
  ['latency-judge', 'What does the judge say when there are too few samples?'],
  ['blue-green', 'Can I move all traffic at once and keep the old version for a fast rollback?'],
  ['blue-green', 'How quickly should an all-at-once switch roll back?'],
  ['release-dashboard', 'Where can I see the traffic weight over time?'],
  ['release-dashboard', 'Is there a graph of canary against control errors?'],
  ['safety-net', 'What cleans up alias weights after someone stops a deployment?'],
  ['safety-net', 'Which EventBridge events are listened to after a failed deployment?'],
];

const GOLD = fs.readFileSync(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'), 'utf8');
const goldSet = parseGoldSet(GOLD);
/** Each gold item's corpus section: the extra `section` field, which parseGoldSet ignores. */
const sectionOf = new Map<string, string>(GOLD.trim().split('\n').map((line) => {
  const { id, section } = JSON.parse(line);
  return [String(id), section];
}));

function restEvent(overrides: Partial<APIGatewayProxyEvent>): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    path: '/answer',
    resource: '/answer',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' } as APIGatewayProxyEvent['requestContext'],
    ...overrides,
  };
}

async function rest(overrides: Partial<APIGatewayProxyEvent>): Promise<{ statusCode: number; headers: Record<string, unknown>; body: any }> {
  const result = (await handler(restEvent(overrides))) as APIGatewayProxyResult;
  return { statusCode: result.statusCode, headers: result.headers as Record<string, unknown>, body: JSON.parse(result.body) };
}

const withRelease = async <T>(release: string | undefined, fn: () => Promise<T>): Promise<T> => {
  const saved = process.env.RELEASE_ID;
  if (release === undefined) delete process.env.RELEASE_ID;
  else process.env.RELEASE_ID = release;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.RELEASE_ID;
    else process.env.RELEASE_ID = saved;
  }
};

describe('demo-answer handler over API Gateway (REST, v1 proxy events)', () => {
  test('answers GET ?q= with the nearest section as JSON, tagged with RELEASE_ID', async () => {
    const response = await withRelease('v42', () => rest({ queryStringParameters: { q: 'What is a canary release?' } }));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.body).toEqual({
      answer: CORPUS.find((s) => s.id === 'canary-release')!.text,
      sectionId: 'canary-release',
      release: 'v42',
    });
  });

  test('answers POST {"question"} and reports a null release when RELEASE_ID is unset', async () => {
    const response = await withRelease(undefined, () => rest({ httpMethod: 'POST', body: JSON.stringify({ question: 'How does provisioned concurrency warm up a new version?' }) }));
    expect(response.statusCode).toBe(200);
    expect(response.body.sectionId).toBe('provisioned-concurrency');
    expect(response.body.release).toBeNull();
  });

  test('decodes a base64-encoded POST body', async () => {
    const body = Buffer.from(JSON.stringify({ question: 'What is shadow traffic?' })).toString('base64');
    const response = await rest({ httpMethod: 'POST', body, isBase64Encoded: true });
    expect(response.body.sectionId).toBe('shadow-traffic');
  });

  test('reads a GET question from the multi-value query string when the single-value map is absent', async () => {
    const response = await rest({ multiValueQueryStringParameters: { q: ['What is a cold start?'] } });
    expect(response.body.sectionId).toBe('cold-start');
  });

  test.each([
    ['GET without q', { queryStringParameters: null }, 'missing question: send {"question": "..."} or GET ?q=...'],
    ['GET with a blank q', { queryStringParameters: { q: '   ' } }, 'question must not be empty'],
    ['POST without a body', { httpMethod: 'POST', body: null }, 'missing request body: send {"question": "..."}'],
    ['POST with invalid JSON', { httpMethod: 'POST', body: '{"question": ' }, 'request body is not valid JSON: send {"question": "..."}'],
    ['POST with a JSON array', { httpMethod: 'POST', body: '["What is a canary?"]' }, 'request body must be a JSON object: send {"question": "..."}'],
    ['POST without question', { httpMethod: 'POST', body: '{"q": "What is a canary?"}' }, 'missing question: send {"question": "..."} or GET ?q=...'],
    ['POST with an empty question', { httpMethod: 'POST', body: '{"question": ""}' }, 'question must not be empty'],
    ['POST with a numeric question', { httpMethod: 'POST', body: '{"question": 7}' }, 'question must be a string, got number'],
    ['POST with an over-long question', { httpMethod: 'POST', body: JSON.stringify({ question: 'x'.repeat(MAX_QUESTION_LENGTH + 1) }) }, `question is ${MAX_QUESTION_LENGTH + 1} characters long; the limit is 2000`],
  ] as const)('returns 400 with a JSON error for %s', async (_, overrides, message) => {
    const response = await rest(overrides as Partial<APIGatewayProxyEvent>);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.body).toEqual({ error: message });
  });

  test('accepts a question of exactly the maximum length', async () => {
    expect((await rest({ queryStringParameters: { q: `canary ${'x'.repeat(MAX_QUESTION_LENGTH - 7)}` } })).statusCode).toBe(200);
  });

  test('returns 405 with an Allow header for other methods', async () => {
    const response = await rest({ httpMethod: 'DELETE' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.Allow).toBe('GET, POST');
    expect(response.body.error).toBe('method DELETE is not allowed; use GET ?q=... or POST {"question": "..."}');
  });
});

describe('demo-answer handler, direct invocation and warm pings', () => {
  test('answers a direct {question, seed} invocation with the bare answer object', async () => {
    const answer = await withRelease('v7', () => handler({ question: 'What does ΔS measure?', seed: 1 }));
    expect(answer).toEqual({ answer: CORPUS.find((s) => s.id === 'delta-s')!.text, sectionId: 'delta-s', release: 'v7' });
  });

  test('gives the same answer whatever the seed: the demo is deterministic', async () => {
    const answers = await Promise.all([0, 1, 2, 99].map((seed) => handler({ question: 'How do releases roll back automatically?', seed })));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect((answers[0] as DemoAnswer).sectionId).toBe('automatic-rollback');
  });

  test('throws DemoRequestError for a direct invocation without a usable question', async () => {
    await expect(handler({ seed: 1 })).rejects.toThrow(DemoRequestError);
    await expect(handler({ question: '' })).rejects.toThrow('question must not be empty');
    await expect(handler({ question: ['a'] })).rejects.toThrow('question must be a string, got object');
  });

  test('answers a warm ping at once with {warm: true}, for the boolean and the string flag', async () => {
    expect(await handler({ 'x-warm': true })).toEqual({ warm: true });
    expect(await handler({ 'x-warm': 'true' })).toEqual({ warm: true });
  });

  test('a warm ping does no work: it answers even with a question it would reject', async () => {
    expect(await handler({ 'x-warm': true, question: '' } as never)).toEqual({ warm: true });
  });

  test('x-warm: false is not a warm ping', async () => {
    await expect(handler({ 'x-warm': false } as never)).rejects.toThrow('missing question');
  });
});

describe('demo-answer corpus and gold set', () => {
  test('the corpus has 12 to 20 sections with unique ids', () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(12);
    expect(CORPUS.length).toBeLessThanOrEqual(20);
    expect(new Set(CORPUS.map((s) => s.id)).size).toBe(CORPUS.length);
  });

  test('the gold set has 3 questions per corpus section in corpus order, 3 paraphrases each, the section text as target', () => {
    expect(goldSet).toHaveLength(54);
    expect(goldSet.map((item) => sectionOf.get(item.id))).toEqual(CORPUS.flatMap((s) => [s.id, s.id, s.id]));
    for (const item of goldSet) {
      expect(item.paraphrases).toHaveLength(3);
      expect(item.target).toBe(CORPUS.find((s) => s.id === sectionOf.get(item.id))!.text);
    }
  });

  test('every gold question and paraphrase (216 texts) gets its target section', () => {
    const misses = goldSet.flatMap((item) => [item.question, ...item.paraphrases]
      .map((text) => ({ text, expected: sectionOf.get(item.id), got: nearestSection(text).id }))
      .filter((r) => r.got !== r.expected));
    expect(misses).toEqual([]);
  });

  // Written after the embedder and the gold set were settled, and never tuned against: how the demo does on
  // questions it has not seen. Measured 33 of 36. The 3 misses share no words with their section:
  // "expose only a few users to a new build" (canary-release), "run the payment twice" (idempotency),
  // "an all-at-once switch" (blue-green).
  test('answers at least 33 of 36 held-out questions from their intended section', () => {
    const hits = HELD_OUT.filter(([id, question]) => nearestSection(question).id === id);
    expect(hits.length).toBeGreaterThanOrEqual(33);
  });

  test('so the demo meets the probe gates on its own gold set: ΔS(answer, target) 0 and coverage 1', async () => {
    for (const item of goldSet) {
      const { answer } = answerQuestion(item.paraphrases[0]);
      expect(await deltaS(answer, item.target)).toBe(0);
      expect(coverage(answer, item.target)).toBe(1);
    }
  });
});

describe('the drifted build of the demo (DEMO_DRIFT=1)', () => {
  // Measured on the 54-item gold set (216 texts × 2 seeds): normal build ΔS median 0, coverage median 1;
  // drifted build ΔS median 0.288, coverage median 0.45, 14 of 54 questions change λ state.
  test('answers from the section whose title is nearest, with its first sentence only', () => {
    const answer = answerQuestion('What does ΔS measure?', { drift: true });
    expect(answer.sectionId).toBe('delta-s');
    expect(answer.answer).toBe('ΔS measures semantic drift between two texts as one minus the cosine similarity of their unit normalised embeddings.');
  });

  test('is selected by DEMO_DRIFT=1 in the environment, and by nothing else', async () => {
    const saved = process.env.DEMO_DRIFT;
    try {
      process.env.DEMO_DRIFT = '1';
      const drifted = (await handler({ question: 'What is a canary release?' })) as DemoAnswer;
      process.env.DEMO_DRIFT = 'true';
      const normal = (await handler({ question: 'What is a canary release?' })) as DemoAnswer;
      expect(drifted.answer).toBe(firstSentence(normal.answer));
      expect(normal.answer).toBe(CORPUS.find((s) => s.id === 'canary-release')!.text);
    } finally {
      if (saved === undefined) delete process.env.DEMO_DRIFT;
      else process.env.DEMO_DRIFT = saved;
    }
  });

  test('keeps a ΔS median under the 0.45 gate but drops median coverage under 0.70 on the gold set', async () => {
    const drifted = goldSet.flatMap((item) => [item.question, ...item.paraphrases].map((text) => [answerQuestion(text, { drift: true }).answer, item.target] as const));
    const distances = await deltaSPairs(drifted);
    const coverages = drifted.map(([answer, target]) => coverage(answer, target));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    expect(median(distances)).toBeGreaterThan(0.25);
    expect(median(distances)).toBeLessThan(0.45);
    expect(median(coverages)).toBeLessThan(0.5);
  });

  test('a handler made for one build ignores the environment', async () => {
    const saved = process.env.DEMO_DRIFT;
    process.env.DEMO_DRIFT = '1';
    try {
      const answer = (await createDemoHandler({ release: 'v1' })({ question: 'What is a canary release?' })) as DemoAnswer;
      expect(answer).toEqual({ answer: CORPUS.find((s) => s.id === 'canary-release')!.text, sectionId: 'canary-release', release: 'v1' });
    } finally {
      if (saved === undefined) delete process.env.DEMO_DRIFT;
      else process.env.DEMO_DRIFT = saved;
    }
  });
});
