import { App, Stack } from 'aws-cdk-lib';
import { DeltaSProbe, GoldSet } from '../lib';
import { pointerOfPath } from '../lib/probe/validate-props';

process.env.CDK_VALIDATION = 'false';

const GOLD = [
  JSON.stringify({ id: 'q1', question: 'What is a canary release?', paraphrases: ['Define a canary release.', 'What does a canary release mean?'], target: 'A canary release moves a small share of traffic first.' }),
].join('\n');

function probe(extra: Record<string, unknown>): DeltaSProbe {
  const stack = new Stack(new App(), 'S');
  return new DeltaSProbe(stack, 'Probe', { goldSet: GoldSet.fromJsonl(GOLD), ...extra } as any);
}

describe('DeltaSProbe answerPath: the library\'s one JSON path syntax (as ShadowIntegration\'s answerPath)', () => {
  test('is turned into the pointer the probe handler reads', () => {
    expect(probe({ answerPath: '$.data.items[0].text' }).config.answerPointer).toBe('/data/items/0/text');
    expect(probe({ answerPath: "$['a/b']['c~d']" }).config.answerPointer).toBe('/a~1b/c~0d');
    expect(probe({ answerPath: '$.list[2]' }).config.answerPointer).toBe('/list/2');
  });

  test('the default is the same answer as before ($.answer, /answer), and the deprecated answerPointer still works', () => {
    expect(probe({}).config.answerPointer).toBe('/answer');
    expect(pointerOfPath('$.answer')).toBe('/answer');
    expect(probe({ answerPointer: '/result/text' }).config.answerPointer).toBe('/result/text');
  });

  test('a path naming several values, or not a JSON path, is refused naming answerPath and the value', () => {
    expect(() => probe({ answerPath: '$.items[*].text' })).toThrow(/answerPath must be a JSON path to one value: \$, then \.name, \['name'\] or \[0\] steps, no \* or \.\., got: "\$\.items\[\*\]\.text"/);
    expect(() => probe({ answerPath: '/answer' })).toThrow(/answerPath must be a JSON path to one value.*got: "\/answer"/);
  });

  test('both at once are refused (they say the same thing)', () => {
    expect(() => probe({ answerPath: '$.answer', answerPointer: '/answer' }))
      .toThrow(/answerPointer must be left out when answerPath is set \(they say the same thing; answerPointer is deprecated\), got: "\/answer"/);
  });
});
