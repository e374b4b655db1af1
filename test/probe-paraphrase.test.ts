import * as fs from 'fs';
import * as path from 'path';
import { deltaSPairs, parseGoldSet } from '../lambdas/runtime/probe';

// The promise of HashedNgramEmbedder: paraphrases of one question score clearly lower ΔS than unrelated
// questions. Shown on the demo gold set (bin/gold-set.jsonl, 18 questions × 3 paraphrases) with the
// default embedder. Measured when written (see docs-draft/probe.md):
//   question vs its own paraphrases (54 pairs):      median 0.379, p90 0.653, max 0.843
//   question vs other questions (153 pairs):         min 0.551, p10 0.966, median 1.000
//   question vs other items' paraphrases (918 pairs): min 0.542, p10 0.964, median 1.000
//   17 of 18 questions are closer to every one of their paraphrases than to anything of another item;
//   the exception is automatic-rollback, whose "roll back automatically" shares only "roll"/"back" stems.
// The thresholds below leave a little room under those figures, so a change to the embedder that erodes
// the margin fails here.
const gold = parseGoldSet(fs.readFileSync(path.join(__dirname, '..', 'bin', 'gold-set.jsonl'), 'utf8'));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

describe('HashedNgramEmbedder on the demo gold set', () => {
  let paraphrase: number[][];
  let unrelated: number[][];

  beforeAll(async () => {
    paraphrase = await Promise.all(gold.map((item) => deltaSPairs(item.paraphrases.map((p) => [item.question, p] as const))));
    unrelated = await Promise.all(gold.map((item, i) => deltaSPairs(gold.flatMap((other, j) => (j === i
      ? []
      : [other.question, ...other.paraphrases].map((text) => [item.question, text] as const))))));
  });

  test('paraphrases score a median ΔS under the 0.45 gate; unrelated questions a median near 1', () => {
    expect(median(paraphrase.flat())).toBeLessThan(0.40);
    expect(median(unrelated.flat())).toBeGreaterThan(0.95);
  });

  test('the median margin between unrelated and paraphrase ΔS is at least 0.55', () => {
    expect(median(unrelated.flat()) - median(paraphrase.flat())).toBeGreaterThanOrEqual(0.55);
  });

  test('no paraphrase is as far as 0.90, and no unrelated text is closer than 0.50', () => {
    expect(Math.max(...paraphrase.flat())).toBeLessThan(0.9);
    expect(Math.min(...unrelated.flat())).toBeGreaterThan(0.5);
  });

  test('at least 17 of 18 questions are closer to all their paraphrases than to any other item', () => {
    const separated = gold.filter((_, i) => Math.max(...paraphrase[i]) < Math.min(...unrelated[i]));
    expect(separated.length).toBeGreaterThanOrEqual(17);
  });
});
