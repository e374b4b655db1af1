import * as fs from 'fs';
import * as path from 'path';
import { gzipSync } from 'zlib';
import { createDemoHandler } from '../lambdas/demo-answer';
import { parseJsonPath, shadowTap } from '../packages/runtime/src/shadow';
import { dispatch } from '../lambdas/mirror-dispatcher/dispatch';
import { TokenBucket } from '../lambdas/mirror-dispatcher/logic';
import { ShadowResult } from '../lambdas/mirror-dispatcher/store';

/** The demo's gold questions (bin/gold-set.jsonl), as users would ask them. */
const QUESTIONS: string[] = fs.readFileSync(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l).question);

function restEvent(requestId: string, q: string): any {
  return {
    resource: '/answer/mirrored', path: '/answer/mirrored', httpMethod: 'GET',
    headers: { Accept: 'application/json', Authorization: 'Bearer user-secret' },
    queryStringParameters: { q }, multiValueQueryStringParameters: { q: [q] }, pathParameters: null,
    requestContext: { requestId, stage: 'prod' }, body: null, isBase64Encoded: false,
  };
}

/** Live traffic through the tapped demo handler; returns what the users got and the log lines. */
async function liveTraffic(): Promise<{ answered: number; lines: string[] }> {
  const lines: string[] = [];
  const live = shadowTap(createDemoHandler({ release: 'live-1' }), { sampleRate: 1, routes: ['GET /answer/mirrored'], log: (l) => lines.push(l) });
  let answered = 0;
  for (const [i, q] of QUESTIONS.entries()) {
    const response: any = await live(restEvent(`user-${i}`, q), {});
    if (response.statusCode === 200) answered++;
  }
  return { answered, lines };
}

/** Replays the lines to a shadow running the given demo build, as the dispatcher does in Lambda. */
async function mirrorTo(drift: boolean, lines: string[]): Promise<{ results: ShadowResult[]; meanDeltaS: number }> {
  const shadow = createDemoHandler({ drift, release: drift ? 'shadow-drifted' : 'shadow' });
  const results: ShadowResult[] = [];
  const data = gzipSync(JSON.stringify({
    messageType: 'DATA_MESSAGE', logGroup: '/aws/lambda/demo', logStream: 's', subscriptionFilters: ['f'],
    logEvents: lines.map((message, i) => ({ id: String(i), timestamp: Date.now(), message: `2026-11-22T03:00:00.000Z\tr-${i}\tINFO\t${message}` })),
  })).toString('base64');
  const metrics = await dispatch({ awslogs: { data } }, {
    shadowName: 'Demo/ShadowAnswer', maxEventBytes: 200_000, redact: [], answerPath: parseJsonPath('$.answer'),
    shadowTimeoutMs: 5000, resultsTtlSeconds: 3600, maxInFlight: 4,
  }, {
    invoke: async (payload) => {
      const event = JSON.parse(payload);
      expect(event.headers['x-shadow']).toBe('true');
      expect(payload).not.toContain('user-secret');
      return { Payload: Buffer.from(JSON.stringify(await shadow(event))), ExecutedVersion: '2' };
    },
    store: { put: async (r) => { results.push(r); } },
    budget: new TokenBucket(1000, 1000, Date.now()),
    log: () => undefined,
  });
  return { results, meanDeltaS: metrics.deltaS.reduce((a, b) => a + b, 0) / metrics.deltaS.length };
}

describe('the demo mirrored end to end: tapped live handler → log lines → dispatcher → shadow build', () => {
  test('a shadow of the same build agrees on every answer (ΔS 0), whatever its release id says', async () => {
    const { answered, lines } = await liveTraffic();
    expect(answered).toBe(QUESTIONS.length);
    expect(lines).toHaveLength(QUESTIONS.length);
    const { results, meanDeltaS } = await mirrorTo(false, lines);
    expect(results).toHaveLength(QUESTIONS.length);
    expect(results.every((r) => r.outcome === 'scored' && r.delta_s === 0 && r.live_status === 200 && r.shadow_status === 200)).toBe(true);
    expect(meanDeltaS).toBe(0);
  });

  // What the mirror measures on the demo's drift (title-only retrieval, first-sentence answers): most answers
  // are a shortened right answer (ΔS 0.1 to 0.4), about one in six comes from a wrong section (ΔS ≥ 0.6). The
  // mean stays under the default 0.45 gate; the p95 gate (gates.maxP95DeltaS) is the one that sees it.
  test('a shadow of the drifted build: mean ΔS under the 0.45 gate, but a p95 in the risk band', async () => {
    const { lines } = await liveTraffic();
    const { results, meanDeltaS } = await mirrorTo(true, lines);
    expect(results).toHaveLength(QUESTIONS.length);
    const scores = results.map((r) => r.delta_s!).sort((a, b) => a - b);
    expect(meanDeltaS).toBeGreaterThan(0.25);
    expect(meanDeltaS).toBeLessThan(0.45);
    expect(scores[Math.ceil(0.95 * scores.length) - 1]).toBeGreaterThan(0.6);
    expect(scores.filter((d) => d >= 0.6).length).toBeGreaterThanOrEqual(5);
    expect(JSON.parse(results[0].shadow_output!).release).toBe('shadow-drifted');
  });
});
