import { GoldSetError } from './errors';

/** One gold question: what the probe asks, in several wordings, and the section that holds the answer. */
export interface GoldItem {
  /** Unique within the file. */
  readonly id: string;
  /** The question as a user would ask it. */
  readonly question: string;
  /** At least two other wordings of the same question. */
  readonly paraphrases: readonly string[];
  /** The text of the section that holds the expected answer (what ΔS and coverage are measured against). */
  readonly target: string;
  /** Optional grouping (coverage and ΔS can be reported per topic). */
  readonly topic?: string;
}

/**
 * Parses a gold set in JSON Lines: one JSON object per line with `id` (a string, or an integer taken as its
 * decimal string), `question`, `paraphrases` (an array of at least 2 strings), `target` and optional
 * `topic`, all strings that are not blank. Other fields are ignored, so a gold set can carry notes; a
 * misspelt required field still fails as missing. Blank lines are skipped; a UTF-8 byte-order mark and
 * CRLF line ends are accepted. Rejected, with a `GoldSetError` that names the 1-based line (blank lines
 * count, as in an editor) and the field: a line that is not a JSON object (field undefined), a missing or
 * blank field, a field of the wrong type, a paraphrase that repeats the question or another paraphrase
 * (field `paraphrases`, the message names the element), an `id` seen on an earlier line, and a file with
 * no items at all (line 0).
 */
export function parseGoldSet(jsonl: string): GoldItem[] {
  const items: GoldItem[] = [];
  const seen = new Map<string, number>();
  const lines = jsonl.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new GoldSetError(line, undefined, `not valid JSON (${(cause as Error).message})`, { cause });
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new GoldSetError(line, undefined, `expected a JSON object, got ${describe(value)}`);
    }
    const record = value as Record<string, unknown>;
    const id = Number.isInteger(record.id) ? String(record.id) : requireText(record, 'id', line);
    const question = requireText(record, 'question', line);
    const paraphrases = requireParaphrases(record.paraphrases, question, line);
    const target = requireText(record, 'target', line);
    const topic = record.topic === undefined ? undefined : requireText(record, 'topic', line);
    const earlier = seen.get(id);
    if (earlier !== undefined) throw new GoldSetError(line, 'id', `duplicate id '${id}' (first on line ${earlier})`);
    seen.set(id, line);
    items.push(topic === undefined ? { id, question, paraphrases, target } : { id, question, paraphrases, target, topic });
  });
  if (items.length === 0) throw new GoldSetError(0, undefined, 'the gold set has no items');
  return items;
}

function requireText(record: Record<string, unknown>, field: string, line: number): string {
  const value = record[field];
  if (value === undefined) throw new GoldSetError(line, field, 'missing');
  if (typeof value !== 'string') throw new GoldSetError(line, field, `expected a string, got ${describe(value)}`);
  if (value.trim() === '') throw new GoldSetError(line, field, 'must not be blank');
  return value;
}

function requireParaphrases(value: unknown, question: string, line: number): string[] {
  if (value === undefined) throw new GoldSetError(line, 'paraphrases', 'missing');
  if (!Array.isArray(value)) throw new GoldSetError(line, 'paraphrases', `expected an array of strings, got ${describe(value)}`);
  if (value.length < 2) throw new GoldSetError(line, 'paraphrases', `needs at least 2 paraphrases, got ${value.length}`);
  const known = new Set([question.trim()]);
  return value.map((paraphrase, i) => {
    const field = 'paraphrases';
    if (typeof paraphrase !== 'string') throw new GoldSetError(line, field, `element ${i}: expected a string, got ${describe(paraphrase)}`);
    if (paraphrase.trim() === '') throw new GoldSetError(line, field, `element ${i} must not be blank`);
    if (known.has(paraphrase.trim())) throw new GoldSetError(line, field, `element ${i} repeats the question or an earlier paraphrase`);
    known.add(paraphrase.trim());
    return paraphrase;
  });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `a string` : `${typeof value} ${JSON.stringify(value)}`.slice(0, 60);
}
