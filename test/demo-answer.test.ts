import * as fs from 'fs';
import * as path from 'path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { answerQuestion, DemoAnswer, DemoRequestError, handler, MAX_QUESTION_LENGTH, nearestSection } from '../lambdas/demo-answer';
import { CORPUS } from '../lambdas/demo-answer/corpus';
import { coverage, deltaS, parseGoldSet } from '../lambdas/runtime/probe';

const goldSet = parseGoldSet(fs.readFileSync(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'), 'utf8'));

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

  test('the gold set has one line per corpus section, 3 paraphrases each, the section text as target', () => {
    expect(goldSet.map((item) => item.id)).toEqual(CORPUS.map((s) => s.id));
    for (const item of goldSet) {
      expect(item.paraphrases).toHaveLength(3);
      expect(item.target).toBe(CORPUS.find((s) => s.id === item.id)!.text);
    }
  });

  test('every gold question and paraphrase (72 texts) gets its target section', () => {
    const misses = goldSet.flatMap((item) => [item.question, ...item.paraphrases]
      .map((text) => ({ text, expected: item.id, got: nearestSection(text).id }))
      .filter((r) => r.got !== r.expected));
    expect(misses).toEqual([]);
  });

  test('so the demo meets the probe gates on its own gold set: ΔS(answer, target) 0 and coverage 1', async () => {
    for (const item of goldSet) {
      const { answer } = answerQuestion(item.paraphrases[0]);
      expect(await deltaS(answer, item.target)).toBe(0);
      expect(coverage(answer, item.target)).toBe(1);
    }
  });
});
