import { GoldSetError, parseGoldSet } from '../packages/runtime/src/probe';
import { GOLD_SET_LISTED_LINES, GoldSetProblemsError } from '../packages/runtime/src/contract/gold-set';
import { DeltaSProbe, GoldSet, GuardrailsValidationError } from '../lib';
import { testStack } from './util';

const line = (fields: Record<string, unknown>) => JSON.stringify({
  id: 'q1', question: 'What is a canary?', paraphrases: ['Define a canary.', 'Explain canaries.'], target: 'A canary is…', ...fields,
});

function rejection(jsonl: string): GoldSetProblemsError {
  try {
    parseGoldSet(jsonl);
  } catch (error) {
    expect(error).toBeInstanceOf(GoldSetError);
    expect(error).toBeInstanceOf(GoldSetProblemsError);
    return error as GoldSetProblemsError;
  }
  throw new Error('parseGoldSet accepted the file');
}

describe('a gold set with several bad lines', () => {
  const jsonl = [
    line({}),
    '{"id": "q2",',
    '',
    line({ id: 'q3', question: 42, target: '  ' }),
    line({ id: 'q4', paraphrases: ['Define a canary.'] }),
    line({ id: 'q1' }),
    '[1, 2]',
    line({ id: 'q7' }),
  ].join('\n');

  test('reports every bad line, with its line number and what is wrong, in one error', () => {
    const error = rejection(jsonl);
    expect(error.name).toBe('GoldSetError');
    expect(error.message.split('\n')).toEqual([
      'gold set has 6 problems on 5 lines:',
      expect.stringMatching(/^ {2}- line 2: not valid JSON \(/),
      "  - line 4: field 'question': expected a string, got number 42; field 'target': must not be blank",
      "  - line 5: field 'paraphrases': needs at least 2 paraphrases, got 1",
      "  - line 6: field 'id': duplicate id 'q1' (first on line 1)",
      '  - line 7: expected a JSON object, got an array',
    ]);
    expect(error.problems.map((p) => [p.line, p.field])).toEqual([[2, undefined], [4, 'question'], [4, 'target'], [5, 'paraphrases'], [6, 'id'], [7, undefined]]);
    // line and field are the first problem's, as before
    expect([error.line, error.field]).toEqual([2, undefined]);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  test(`lists the first ${GOLD_SET_LISTED_LINES} bad lines and counts the rest; problems holds every one`, () => {
    const bad = Array.from({ length: 25 }, (_, i) => line({ id: `b${i}`, question: i }));
    bad[24] = line({ id: 'b24', question: 24, target: 7 });
    const error = rejection([line({}), ...bad].join('\n'));
    const rows = error.message.split('\n');
    expect(rows[0]).toBe('gold set has 26 problems on 25 lines:');
    expect(rows).toHaveLength(1 + GOLD_SET_LISTED_LINES + 1);
    expect(rows[1]).toBe("  - line 2: field 'question': expected a string, got number 0");
    expect(rows[GOLD_SET_LISTED_LINES]).toBe("  - line 21: field 'question': expected a string, got number 19");
    expect(rows[GOLD_SET_LISTED_LINES + 1]).toBe("  - … and 5 more bad lines (6 more problems, from line 22; the error's problems list every one)");
    expect(error.problems).toHaveLength(26);
  });

  test('one problem reads as it always did', () => {
    expect(rejection(`${line({})}\n\n${line({ id: 'q2', question: 42 })}`).message).toBe("gold set line 3, field 'question': expected a string, got number 42");
  });

  test('DeltaSProbe fails synth listing every bad line under its goldSet prop', () => {
    let error: unknown;
    try {
      new DeltaSProbe(testStack(), 'Probe', { goldSet: GoldSet.fromJsonl(jsonl) });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuardrailsValidationError);
    const lines = (error as Error).message.split('\n');
    expect(lines[0]).toBe("DeltaSProbe 'TestStack/Probe' has 1 invalid prop:");
    expect(lines[1]).toBe('  - goldSet must be a valid gold set, got: inline JSON Lines: gold set has 6 problems on 5 lines:');
    expect(lines.slice(2).map((l) => l.slice(0, 16))).toEqual(['      - line 2: ', '      - line 4: ', '      - line 5: ', '      - line 6: ', '      - line 7: ']);
  });
});
