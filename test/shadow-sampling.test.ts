import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';
import * as vm from 'vm';
import { sampleHash, shouldSample } from '../packages/runtime/src/shadow';

/**
 * The same sampling module, compiled by TypeScript and run in Node's own context, as Lambda runs it. Jest runs
 * tests in a VM context, where this hashing loop is about ten times slower than in Node; the accuracy tests
 * call shouldSample 1.2 million times, so they use this copy to keep the suite fast.
 */
function nodeContextSampling(): { shouldSample: typeof shouldSample } {
  const source = fs.readFileSync(path.join(__dirname, '..', 'packages', 'runtime', 'src', 'shadow', 'sampling.ts'), 'utf8');
  const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
  const moduleExports: Record<string, unknown> = {};
  vm.runInThisContext(`(function (exports) {${js}\n})`)(moduleExports);
  return moduleExports as { shouldSample: typeof shouldSample };
}

/** A UUID v4 from a seeded generator, so the test sees the same ids on every run. */
function seededUuids(count: number, seed: number): string[] {
  let state = seed >>> 0;
  const next = (): number => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0);
  };
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const hex = [next(), next(), next(), next()].map((n) => n.toString(16).padStart(8, '0')).join('');
    ids.push(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`);
  }
  return ids;
}

const N = 100_000;
const ID_KINDS: Record<string, () => string[]> = {
  'random UUIDs': () => seededUuids(N, 42),
  'sequential ids "req-<n>"': () => Array.from({ length: N }, (_, i) => `req-${i}`),
  'bare sequential numbers': () => Array.from({ length: N }, (_, i) => String(i + 1)),
  'ids sharing a long prefix, counting in hex': () => Array.from({ length: N }, (_, i) => `c0ffee00-aaaa-bbbb-cccc-${i.toString(16).padStart(12, '0')}`),
};

describe('shouldSample', () => {
  const inNode = nodeContextSampling();

  test('decides the same in Node\'s context as in the module the tests import', () => {
    const ids = seededUuids(1000, 5);
    expect(ids.map((id) => inNode.shouldSample(id, 0.37))).toEqual(ids.map((id) => shouldSample(id, 0.37)));
    expect(ids.filter((id) => shouldSample(id, 0.37)).length).toBeGreaterThan(300);
  });

  describe.each(Object.entries(ID_KINDS))('over 100,000 %s', (_kind, make) => {
    const ids = make();
    test.each([0.01, 0.05, 0.1, 0.25, 0.5, 0.9])('samples within ±0.5 percentage points of rate %p', (rate) => {
      const sampled = ids.filter((id) => inNode.shouldSample(id, rate)).length;
      expect(Math.abs(sampled / N - rate)).toBeLessThanOrEqual(0.005);
    });
  });

  test('gives the same decision for the same id every time, so a replay is sampled again', () => {
    const ids = seededUuids(2000, 7);
    const first = ids.map((id) => shouldSample(id, 0.3));
    const again = ids.map((id) => shouldSample(id, 0.3));
    expect(again).toEqual(first);
    // and in a fresh module instance (no hidden state)
    jest.isolateModules(() => {
      const fresh = require('../packages/runtime/src/shadow/sampling');
      expect(ids.map((id) => fresh.shouldSample(id, 0.3))).toEqual(first);
    });
  });

  test('only adds ids when the rate rises', () => {
    const ids = seededUuids(5000, 9);
    for (const id of ids) {
      if (shouldSample(id, 0.1)) expect(shouldSample(id, 0.2)).toBe(true);
    }
  });

  test('samples a numeric id as its decimal string', () => {
    for (let i = 0; i < 500; i++) expect(shouldSample(i, 0.3)).toBe(shouldSample(String(i), 0.3));
    expect(() => shouldSample({} as any, 0.3)).toThrow('shouldSample: requestId must be a string or a number, got: object');
  });

  test('samples everything at rate 1 and nothing at rate 0', () => {
    const ids = [...seededUuids(1000, 3), '', 'x'];
    expect(ids.every((id) => shouldSample(id, 1))).toBe(true);
    expect(ids.some((id) => shouldSample(id, 0))).toBe(false);
  });

  test('pins the hash, so decisions do not change between releases of the library', () => {
    expect([sampleHash('req-1'), sampleHash('req-2'), sampleHash('abc')]).toEqual([1216658960, 4249376621, 482950588]);
    expect([shouldSample('req-1', 0.3), shouldSample('abc', 0.3)]).toEqual([true, true]);
    expect(shouldSample('req-2', 0.9)).toBe(false);
  });

  test('spreads random bytes evenly over the hash range', () => {
    const buckets = new Array(16).fill(0);
    for (let i = 0; i < 16000; i++) buckets[sampleHash(randomBytes(12).toString('base64')) >>> 28]++;
    for (const count of buckets) expect(Math.abs(count - 1000)).toBeLessThan(200);
  });

  test.each([[-0.1], [1.5], [NaN]])('rejects rate %p with a RangeError that quotes it', (rate) => {
    expect(() => shouldSample('id', rate)).toThrow(`shouldSample: rate must be a number from 0 to 1, got: ${rate}`);
  });
});
