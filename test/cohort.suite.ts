import { execFileSync } from 'child_process';
import { buildSync } from 'esbuild';
import * as path from 'path';
import {
  canaryPin, cohortBucket, CohortArgumentError, cohortSalt, COHORT_BUCKETS, inCanaryCohort, routeFor,
  type CanaryPinOptions, type CohortRequest, type PinRejection,
} from '../packages/runtime/src';

const N = 200_000;
const STEPS = [1, 5, 25, 50] as const;
const SALT = cohortSalt({ alias: 'answer:live', rollout: '42' });
const SECRET = 'synthetic-canary-secret-0001';

/** Ids as real systems make them: sequential user ids, which a weak hash would leave in clumps. */
const ids = Array.from({ length: N }, (_, i) => `user-${String(i).padStart(7, '0')}`);

/** Each id's bucket, one SHA-256 each; a step's cohort is the ids under its threshold (checked below against inCanaryCohort). */
const buckets = ids.map((id) => cohortBucket(id, SALT));
const cohorts = new Map<number, boolean[]>(STEPS.map((w) => [w, buckets.map((b) => b < w * 100)]));

const share = (members: boolean[]): number => (100 * members.filter(Boolean).length) / members.length;

describe('cohort shares over 200,000 ids', () => {
  test.each(STEPS)('step %p %% meets its share within ±1 percentage point', (weight) => {
    const measured = share(cohorts.get(weight)!);
    expect(Math.abs(measured - weight)).toBeLessThanOrEqual(1);
    // Report the figure (the statistical spread at 200,000 ids is 0.02 to 0.11 points).
    expect(Math.abs(measured - weight)).toBeLessThan(0.5);
  });

  test('the public helper agrees: inCanaryCohort at each step is the bucket under its threshold (20,000 ids)', () => {
    for (const w of STEPS) {
      const sample = ids.slice(0, 20_000);
      expect(sample.map((id) => inCanaryCohort(id, w, { salt: SALT }))).toEqual(cohorts.get(w)!.slice(0, 20_000));
    }
  });

  test('buckets spread evenly: each hundredth of the range holds 1 % of the ids (±15 %)', () => {
    const counts = new Array<number>(100).fill(0);
    for (const b of buckets.slice(0, 100_000)) counts[Math.floor(b / 100)]++;
    for (const count of counts) expect(Math.abs(count - 1000)).toBeLessThan(150);
  });

  test('0 % is nobody and 100 % is everybody', () => {
    expect(ids.slice(0, 5000).some((id) => inCanaryCohort(id, 0, { salt: SALT }))).toBe(false);
    expect(ids.slice(0, 5000).every((id) => inCanaryCohort(id, 100, { salt: SALT }))).toBe(true);
  });
});

describe('each step is a superset of the last', () => {
  test('every id in the cohort at a step is in it at every later step', () => {
    for (let s = 0; s < STEPS.length - 1; s++) {
      const now = cohorts.get(STEPS[s])!;
      for (const later of STEPS.slice(s + 1)) {
        const then = cohorts.get(later)!;
        const dropped = ids.filter((_, i) => now[i] && !then[i]);
        expect(dropped).toEqual([]);
      }
    }
  });

  test('weights between the steps keep the order too (monotone threshold)', () => {
    const sample = ids.slice(0, 1000);
    let previous = sample.map(() => false);
    for (const w of [0, 0.01, 0.5, 0.99, ...Array.from({ length: 100 }, (_, k) => k + 1)]) {
      const current = sample.map((id) => inCanaryCohort(id, w, { salt: SALT }));
      expect(previous.every((was, i) => !was || current[i])).toBe(true);
      previous = current;
    }
  });
});

describe('stickiness', () => {
  test('the same id always gets the same answer, call after call', () => {
    // One comparison of the whole sample (an expect per call, 8,000 of them, cost more than the hashing).
    const sample = ids.slice(0, 2000);
    const first = sample.map((id) => cohortBucket(id, SALT));
    expect(sample.map((id) => [1, 2, 3].map(() => cohortBucket(id, SALT)))).toEqual(first.map((b) => [b, b, b]));
    expect(sample.map((id) => inCanaryCohort(id, 25, { salt: SALT }))).toEqual(first.map((b) => b < 2500));
  });

  test('pinned vectors: the specification, computed independently (Python hashlib), gives these buckets', () => {
    // bucket = floor(u32be(sha256(utf8("cohort-v1\n" + salt + "\n" + id))[0..4]) * 10000 / 2^32)
    expect(cohortBucket('user-1')).toBe(6245);
    expect(cohortBucket('user-1', 'answer:live#42')).toBe(8863);
    expect(cohortBucket('tenant-acme', 'answer:live#42')).toBe(5235);
    expect(cohortBucket('42', 'answer:live#43')).toBe(5588);
    expect(cohortBucket('Zoë-über-用户', 'answer:live#42')).toBe(2994);
    expect(cohortBucket('😀')).toBe(7356);
  });

  test('another process (a restart) computes the same buckets', () => {
    const sample = ids.filter((_, i) => i % 997 === 0);
    // The module's source, bundled by esbuild for a plain node process (ts-node's TypeScript took about 3 s to load).
    const { outputFiles: [bundle] } = buildSync({
      entryPoints: [path.join(__dirname, '..', 'packages', 'runtime', 'src', 'cohort', 'index.ts')],
      bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false,
    });
    const script = [
      `const { cohortBucket } = ((module) => { ${bundle.text}\n return module.exports; })({ exports: {} });`,
      `const ids = ${JSON.stringify(sample)};`,
      `process.stdout.write(JSON.stringify(ids.map((id) => cohortBucket(id, ${JSON.stringify(SALT)}))));`,
    ].join('\n');
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(sample.map((id) => cohortBucket(id, SALT)));
  });

  test('a routing decision does not depend on Math.random or the clock', () => {
    const random = jest.spyOn(Math, 'random').mockImplementation(() => { throw new Error('Math.random called'); });
    const now = jest.spyOn(Date, 'now').mockImplementation(() => { throw new Error('Date.now called'); });
    try {
      const decision = routeFor({ headers: {} }, { weight: 25, salt: SALT, stableId: 'user-0000001' });
      expect(decision).toEqual(routeFor({ headers: {} }, { weight: 25, salt: SALT, stableId: 'user-0000001' }));
    } finally {
      random.mockRestore();
      now.mockRestore();
    }
  });
});

describe('the salt', () => {
  test('another salt re-draws the cohort: about w² of the ids are in both (independent draws)', () => {
    const other = cohortSalt({ alias: 'answer:live', rollout: '43' });
    const sample = ids.slice(0, 100_000);
    const a = sample.map((id) => inCanaryCohort(id, 5, { salt: SALT }));
    const b = sample.map((id) => inCanaryCohort(id, 5, { salt: other }));
    const both = (100 * a.filter((x, i) => x && b[i]).length) / sample.length;
    expect(share(b)).toBeCloseTo(5, 0);
    expect(both).toBeGreaterThan(0.15);
    expect(both).toBeLessThan(0.35); // 5 % of 5 % = 0.25 %; the same cohort would give 5 %
  });

  test('cohortSalt is <alias>#<rollout>, and no two inputs share a salt', () => {
    expect(SALT).toBe('answer:live#42');
    expect(() => cohortSalt({ alias: 'a#b', rollout: 'c' })).toThrow(/alias must be a non-empty string without a line break or "#", got: "a#b"/);
    expect(() => cohortSalt({ alias: 'answer:live', rollout: '' })).toThrow(/rollout .* got: ""/);
  });

  test('the salt is part of the hash, not the id: salt "a" with id "b\\nc" is refused rather than confused', () => {
    expect(() => cohortBucket('c', 'a\nb')).toThrow(CohortArgumentError);
    expect(cohortBucket('b\nc', 'a')).not.toBe(cohortBucket('c', 'a\nb'.replace('\n', '')));
  });
});

describe('the canary pin', () => {
  const pin: CanaryPinOptions = { secrets: [SECRET] };

  test('an allowed caller (shared secret) reaches the new version at weight 0', () => {
    const request = { headers: { 'X-Release': 'canary', 'X-Release-Token': SECRET } };
    expect(canaryPin(request, pin)).toEqual({ status: 'pinned', via: 'secret' });
    expect(routeFor(request, { weight: 0, salt: SALT, stableId: 'user-0000001', pin })).toEqual({ route: 'canary', reason: 'pinned', pinRejected: false });
  });

  test('an allowed IAM principal reaches the new version (REST API and HTTP API request contexts)', () => {
    const options: CanaryPinOptions = { allowedCallers: ['arn:aws:iam::123456789012:user/prober', 'arn:aws:sts::123456789012:assumed-role/synthetic-canary/*'] };
    const rest = { headers: { 'x-release': 'canary' }, requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:user/prober' } } };
    const http = { headers: { 'x-release': 'canary' }, requestContext: { authorizer: { iam: { userArn: 'arn:aws:sts::123456789012:assumed-role/synthetic-canary/run-7' } } } };
    expect(canaryPin(rest, options)).toEqual({ status: 'pinned', via: 'caller' });
    expect(canaryPin(http, options)).toEqual({ status: 'pinned', via: 'caller' });
    expect(routeFor(http, { weight: 0, stableId: () => undefined, pin: options }).route).toBe('canary');
  });

  test('a verifier can allow a caller; one that throws refuses', () => {
    const request = { headers: { 'X-Release': 'canary' }, requestContext: { authorizer: { lambda: { role: 'prober' } } } };
    const allowed = (r: CohortRequest) => (r.requestContext as any)?.authorizer?.lambda?.role === 'prober';
    expect(canaryPin(request, { verify: allowed })).toEqual({ status: 'pinned', via: 'verify' });
    expect(canaryPin(request, { verify: () => { throw new Error('boom'); } })).toEqual({ status: 'rejected', reason: 'verify-threw' });
  });

  test('a pin from a caller not allowed is ignored and counted', () => {
    const rejected: PinRejection[] = [];
    const options: CanaryPinOptions = {
      secrets: [SECRET], allowedCallers: ['arn:aws:iam::123456789012:user/prober'], onRejected: (r) => rejected.push(r),
    };
    const cases: CohortRequest[] = [
      { headers: { 'X-Release': 'canary' } },
      { headers: { 'X-Release': 'canary', 'X-Release-Token': 'wrong-secret-of-the-same-size' } },
      { headers: { 'X-Release': 'canary', 'X-Release-Token': SECRET.slice(0, -1) } },
      { headers: { 'X-Release': 'canary', 'X-Release-Token': `${SECRET}x` } },
      { headers: { 'X-Release': 'canary' }, requestContext: { identity: { userArn: 'arn:aws:iam::123456789012:user/intruder' } } },
    ];
    for (const request of cases) {
      expect(routeFor(request, { weight: 0, salt: SALT, stableId: 'user-0000001', pin: options })).toEqual({
        route: 'control', reason: 'control', bucket: cohortBucket('user-0000001', SALT), pinRejected: true,
      });
    }
    expect(rejected.map((r) => r.reason)).toEqual(['no-credential', 'wrong-secret', 'wrong-secret', 'wrong-secret', 'caller-not-allowed']);
    expect(rejected[4].caller).toBe('arn:aws:iam::123456789012:user/intruder');
  });

  test('without pin options every pin is refused, and the cohort still decides', () => {
    const inCohort = ids.find((id) => inCanaryCohort(id, 50, { salt: SALT }))!;
    const decision = routeFor({ headers: { 'X-Release': 'canary' } }, { weight: 50, salt: SALT, stableId: inCohort });
    expect(decision).toMatchObject({ route: 'canary', reason: 'cohort', pinRejected: true });
    expect(canaryPin({ headers: { 'X-Release': 'canary' } })).toEqual({ status: 'rejected', reason: 'pins-not-configured' });
  });

  test('the header name matches in any case, in headers and in multiValueHeaders; the value too', () => {
    for (const name of ['X-Release', 'x-release', 'X-RELEASE', 'x-ReLeAsE']) {
      expect(canaryPin({ headers: { [name]: 'canary', 'x-release-token': SECRET } }, pin).status).toBe('pinned');
    }
    expect(canaryPin({ headers: { 'X-Release': ' Canary ', 'X-RELEASE-TOKEN': SECRET } }, pin).status).toBe('pinned');
    expect(canaryPin({ multiValueHeaders: { 'X-Release': ['canary'], 'X-Release-Token': [SECRET] } }, pin).status).toBe('pinned');
  });

  test('other X-Release values are not pins (no rejection counted)', () => {
    const onRejected = jest.fn();
    expect(canaryPin({ headers: { 'X-Release': 'rel-41' } }, { secrets: SECRET, onRejected })).toEqual({ status: 'none' });
    expect(canaryPin({ headers: {} }, { secrets: SECRET, onRejected })).toEqual({ status: 'none' });
    expect(onRejected).not.toHaveBeenCalled();
  });

  test('options that would let anybody pin, or nobody, are refused', () => {
    const request = { headers: { 'X-Release': 'canary' } };
    expect(() => canaryPin(request, {})).toThrow(/at least one of secrets, allowedCallers or verify/);
    expect(() => canaryPin(request, { secrets: [''] })).toThrow(/options.secrets\[0\] must be a string of at least 16 characters, got: ""/);
    expect(() => canaryPin(request, { secrets: 'short' })).toThrow(/got: "short"/);
    expect(() => canaryPin(request, { allowedCallers: ['*'] })).toThrow(/options.allowedCallers\[0\] must be an IAM principal ARN/);
    expect(() => canaryPin(request, { allowedCallers: ['arn:aws:iam::*:user/x'] })).toThrow(/at most one "\*", at its end/);
  });
});

describe('routeFor', () => {
  test('follows the cohort: in it → canary (cohort), out of it → control (control), with the bucket', () => {
    for (const id of ids.slice(0, 500)) {
      const bucket = cohortBucket(id, SALT);
      const decision = routeFor({ headers: {} }, { weight: 25, salt: SALT, stableId: id });
      expect(decision).toEqual(bucket < 2500
        ? { route: 'canary', reason: 'cohort', bucket, pinRejected: false }
        : { route: 'control', reason: 'control', bucket, pinRejected: false });
    }
  });

  test('reads the id from the request; a request without one stays on the old version', () => {
    const tenant = (r: CohortRequest) => r.headers?.['x-tenant-id'];
    expect(routeFor({ headers: { 'x-tenant-id': 'acme' } }, { weight: 100, stableId: tenant })).toMatchObject({ route: 'canary', reason: 'cohort' });
    expect(routeFor({ headers: {} }, { weight: 100, stableId: tenant })).toEqual({ route: 'control', reason: 'no-stable-id', pinRejected: false });
    expect(routeFor({ headers: {} }, { weight: 100, stableId: () => 7 }).bucket).toBe(cohortBucket('7'));
  });
});

describe('bad input is refused, naming the argument and the value', () => {
  test.each([
    ['an empty id', () => cohortBucket(''), 'stableId', '""'],
    ['a blank id', () => inCanaryCohort('  ', 5), 'stableId', '"  "'],
    ['a missing id', () => cohortBucket(undefined as unknown as string), 'stableId', 'undefined'],
    ['a numeric id', () => cohortBucket(42 as unknown as string), 'stableId', '42'],
    ['a weight over 100', () => inCanaryCohort('u', 101), 'weightPercent', '101'],
    ['a negative weight', () => inCanaryCohort('u', -1), 'weightPercent', '-1'],
    ['a NaN weight', () => inCanaryCohort('u', Number.NaN), 'weightPercent', 'NaN'],
    ['an infinite weight', () => inCanaryCohort('u', Infinity), 'weightPercent', 'Infinity'],
    ['a weight given as a string', () => inCanaryCohort('u', '5' as unknown as number), 'weightPercent', '"5"'],
    ['a salt with a line break', () => inCanaryCohort('u', 5, { salt: 'a\nb' }), 'options.salt', '"a\\nb"'],
    ['routeFor with a NaN weight', () => routeFor({ headers: {} }, { weight: Number.NaN, stableId: 'u' }), 'options.weight', 'NaN'],
    ['routeFor with an empty id', () => routeFor({ headers: {} }, { weight: 5, stableId: '' }), 'options.stableId', '""'],
  ])('%s', (_name, call, argument, shownValue) => {
    let error: unknown;
    try {
      call();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CohortArgumentError);
    expect((error as CohortArgumentError).argument).toBe(argument);
    expect((error as Error).message).toContain(`${argument} must be`);
    expect((error as Error).message).toContain(`got: ${shownValue}`);
  });

  test('the bucket range is [0, 10000)', () => {
    expect(COHORT_BUCKETS).toBe(10_000);
    const unsalted = ids.slice(0, 50_000).map((id) => cohortBucket(id));
    expect(Math.min(...unsalted)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...unsalted)).toBeLessThan(10_000);
    expect(unsalted.every(Number.isInteger)).toBe(true);
  });
});
