import { GoldSetError, parseGoldSet, ProbeError } from '../packages/runtime/src/probe';

const line = (fields: Record<string, unknown>) => JSON.stringify({
  id: 'q1', question: 'What is a canary?', paraphrases: ['Define a canary.', 'Explain canaries.'], target: 'A canary is…', ...fields,
});

/** Runs parseGoldSet and returns the GoldSetError it throws (failing the test if it does not). */
function rejection(jsonl: string): GoldSetError {
  try {
    parseGoldSet(jsonl);
  } catch (error) {
    expect(error).toBeInstanceOf(GoldSetError);
    return error as GoldSetError;
  }
  throw new Error('parseGoldSet accepted the file');
}

describe('parseGoldSet', () => {
  test('parses every line into an item, keeping the optional topic only when given', () => {
    const items = parseGoldSet([line({}), line({ id: 'q2', topic: 'rollout' })].join('\n'));
    expect(items).toEqual([
      { id: 'q1', question: 'What is a canary?', paraphrases: ['Define a canary.', 'Explain canaries.'], target: 'A canary is…' },
      { id: 'q2', question: 'What is a canary?', paraphrases: ['Define a canary.', 'Explain canaries.'], target: 'A canary is…', topic: 'rollout' },
    ]);
    expect('topic' in items[0]).toBe(false);
  });

  test('skips blank lines and accepts CRLF line ends and a byte-order mark', () => {
    const items = parseGoldSet(`\uFEFF${line({})}\r\n\r\n   \r\n${line({ id: 'q2' })}\r\n`);
    expect(items.map((item) => item.id)).toEqual(['q1', 'q2']);
  });

  test('names the 1-based line of a bad line, counting blank lines', () => {
    const error = rejection(`${line({})}\n\n${line({ id: 'q2', question: 42 })}`);
    expect(error.line).toBe(3);
    expect(error.field).toBe('question');
    expect(error.message).toBe("gold set line 3, field 'question': expected a string, got number 42");
  });

  test('rejects a line that is not JSON, with no field', () => {
    const error = rejection(`${line({})}\n{"id": "q2",`);
    expect(error.line).toBe(2);
    expect(error.field).toBeUndefined();
    expect(error.message).toMatch(/^gold set line 2: not valid JSON \(/);
  });

  test.each([
    ['an array', '[1, 2]'],
    ['null', 'null'],
    ['a string', '"q1"'],
  ])('rejects a line holding %s instead of an object', (what, text) => {
    const error = rejection(text);
    expect(error.line).toBe(1);
    expect(error.message).toBe(`gold set line 1: expected a JSON object, got ${what}`);
  });

  test.each(['id', 'question', 'paraphrases', 'target'])('rejects a line without %s', (field) => {
    const record = JSON.parse(line({}));
    delete record[field];
    const error = rejection(JSON.stringify(record));
    expect([error.line, error.field, error.message]).toEqual([1, field, `gold set line 1, field '${field}': missing`]);
  });

  test.each(['id', 'question', 'target', 'topic'])('rejects a blank %s', (field) => {
    const error = rejection(line({ [field]: '  ' }));
    expect([error.field, error.message]).toEqual([field, `gold set line 1, field '${field}': must not be blank`]);
  });

  test('takes an integer id as its decimal string, and rejects other non-string ids', () => {
    expect(parseGoldSet(line({ id: 7 }))[0].id).toBe('7');
    expect(rejection(line({ id: 7.5 })).message).toBe("gold set line 1, field 'id': expected a string, got number 7.5");
    expect(rejection(line({ id: true })).field).toBe('id');
  });

  test('an integer id and its string form are duplicates', () => {
    expect(rejection([line({ id: 7 }), line({ id: '7' })].join('\n')).message).toBe("gold set line 2, field 'id': duplicate id '7' (first on line 1)");
  });

  test('rejects fewer than 2 paraphrases', () => {
    const error = rejection(line({ paraphrases: ['Define a canary.'] }));
    expect([error.field, error.message]).toEqual(['paraphrases', "gold set line 1, field 'paraphrases': needs at least 2 paraphrases, got 1"]);
  });

  test('rejects paraphrases that are not an array', () => {
    expect(rejection(line({ paraphrases: 'Define a canary.' })).message).toBe("gold set line 1, field 'paraphrases': expected an array of strings, got a string");
  });

  test('names the element of a paraphrase that is not a string or is blank', () => {
    const notString = rejection(line({ paraphrases: ['Define a canary.', 3] }));
    expect([notString.field, notString.message]).toEqual(['paraphrases', "gold set line 1, field 'paraphrases': element 1: expected a string, got number 3"]);
    expect(rejection(line({ paraphrases: ['', 'Define a canary.'] })).message).toBe("gold set line 1, field 'paraphrases': element 0 must not be blank");
  });

  test('rejects a paraphrase that repeats the question or another paraphrase', () => {
    expect(rejection(line({ paraphrases: ['Define a canary.', 'What is a canary?'] })).message)
      .toBe("gold set line 1, field 'paraphrases': element 1 repeats the question or an earlier paraphrase");
    expect(rejection(line({ paraphrases: ['Define a canary.', ' Define a canary. ', 'x'] })).message).toContain('element 1 repeats');
  });

  test('ignores extra fields, but a misspelt required field still fails as missing', () => {
    expect(parseGoldSet(line({ notes: 'added after incident 12' }))[0]).not.toHaveProperty('notes');
    const record = JSON.parse(line({}));
    record.paraphrase = record.paraphrases;
    delete record.paraphrases;
    const error = rejection(JSON.stringify(record));
    expect([error.line, error.field, error.message]).toEqual([1, 'paraphrases', "gold set line 1, field 'paraphrases': missing"]);
  });

  test('rejects a duplicate id on the later line and names the first', () => {
    const error = rejection([line({}), line({ id: 'q2' }), line({})].join('\n'));
    expect([error.line, error.field]).toEqual([3, 'id']);
    expect(error.message).toBe("gold set line 3, field 'id': duplicate id 'q1' (first on line 1)");
  });

  test('rejects a file without items as line 0', () => {
    for (const text of ['', '\n  \n']) {
      const error = rejection(text);
      expect([error.line, error.field, error.message]).toEqual([0, undefined, 'gold set line 0: the gold set has no items']);
    }
  });

  test('its error belongs to the probe error hierarchy', () => {
    const error = rejection('{');
    expect(error).toBeInstanceOf(ProbeError);
    expect(error.name).toBe('GoldSetError');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });
});
