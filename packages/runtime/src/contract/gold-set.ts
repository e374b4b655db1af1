import { GoldSetError } from '../probe/errors.js';

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

/** Bad lines listed in a gold set error's message; its `problems` hold every one. */
export const GOLD_SET_LISTED_LINES = 20;

/** One problem of a gold set: the 1-based line (0 for the file as a whole), the field if any, and what is wrong. */
export interface GoldSetProblem {
  readonly line: number;
  readonly field: string | undefined;
  readonly problem: string;
}

/**
 * The `GoldSetError` parseGoldSet throws: `problems` lists every problem found, in file order, and `line` and
 * `field` are the first one's. One problem reads as ever (`gold set line 3, field 'question': expected a
 * string, got number 42`); several are listed one bad line a row (a line's problems joined by "; "), the
 * first `GOLD_SET_LISTED_LINES` lines, with a count of the rest.
 */
export class GoldSetProblemsError extends GoldSetError {
  /** Every problem found, in file order. */
  public readonly problems: readonly GoldSetProblem[];

  constructor(problems: readonly GoldSetProblem[], options?: { cause?: unknown }) {
    const first = problems[0];
    super(first.line, first.field, first.problem, options);
    this.problems = problems;
    if (problems.length > 1) this.message = listProblems(problems);
  }
}

function listProblems(problems: readonly GoldSetProblem[]): string {
  const byLine = new Map<number, GoldSetProblem[]>();
  for (const p of problems) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p]);
  const rows = [...byLine].map(([line, ps]) => `  - line ${line}: ${ps.map((p) => (p.field === undefined ? p.problem : `field '${p.field}': ${p.problem}`)).join('; ')}`);
  const listed = rows.slice(0, GOLD_SET_LISTED_LINES);
  const restLines = rows.length - listed.length;
  const listedProblems = [...byLine.values()].slice(0, GOLD_SET_LISTED_LINES).reduce((n, ps) => n + ps.length, 0);
  const head = `gold set has ${problems.length} problems on ${byLine.size} line${byLine.size === 1 ? '' : 's'}:`;
  const tail = restLines > 0
    ? [`  - … and ${restLines} more bad line${restLines === 1 ? '' : 's'} (${problems.length - listedProblems} more problem${problems.length - listedProblems === 1 ? '' : 's'}, from line ${[...byLine.keys()][GOLD_SET_LISTED_LINES]}; the error's problems list every one)`]
    : [];
  return [head, ...listed, ...tail].join('\n');
}

/**
 * Parses a gold set in JSON Lines: one JSON object per line with `id` (a string, or an integer taken as its
 * decimal string), `question`, `paraphrases` (an array of at least 2 strings), `target` and optional
 * `topic`, all strings that are not blank. Other fields are ignored, so a gold set can carry notes; a
 * misspelt required field still fails as missing. Blank lines are skipped; a UTF-8 byte-order mark and
 * CRLF line ends are accepted. Rejected, with one `GoldSetError` (a `GoldSetProblemsError`) that lists every
 * problem of every line (its `problems`; the message lists the first 20 bad lines and counts the rest), each naming the 1-based
 * line (blank lines count, as in an editor) and the field: a line that is not a JSON object (field
 * undefined), a missing or blank field, a field of the wrong type, a paraphrase that repeats the question or
 * another paraphrase (field `paraphrases`, the message names the element), an `id` seen on an earlier line,
 * and a file with no items at all (line 0). The error's `line` and `field` are the first problem's.
 */
export function parseGoldSet(jsonl: string): GoldItem[] {
  const items: GoldItem[] = [];
  const problems: GoldSetProblem[] = [];
  const seen = new Map<string, number>();
  const lines = jsonl.replace(/^\uFEFF/, '').split(/\r?\n/);
  let firstCause: unknown;
  lines.forEach((text, index) => {
    const line = index + 1;
    if (text.trim() === '') return;
    const bad = (field: string | undefined, problem: string) => problems.push({ line, field, problem });
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      firstCause ??= cause;
      bad(undefined, `not valid JSON (${(cause as Error).message})`);
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      bad(undefined, `expected a JSON object, got ${describe(value)}`);
      return;
    }
    const before = problems.length;
    const record = value as Record<string, unknown>;
    const id = Number.isInteger(record.id) ? String(record.id) : requireText(record, 'id', bad);
    const question = requireText(record, 'question', bad);
    const paraphrases = requireParaphrases(record.paraphrases, question, bad);
    const target = requireText(record, 'target', bad);
    const topic = record.topic === undefined ? undefined : requireText(record, 'topic', bad);
    if (id !== undefined) {
      const earlier = seen.get(id);
      if (earlier !== undefined) bad('id', `duplicate id '${id}' (first on line ${earlier})`);
      else seen.set(id, line);
    }
    if (problems.length > before) return;
    items.push(topic === undefined
      ? { id: id!, question: question!, paraphrases: paraphrases!, target: target! }
      : { id: id!, question: question!, paraphrases: paraphrases!, target: target!, topic });
  });
  if (problems.length === 0 && items.length === 0) problems.push({ line: 0, field: undefined, problem: 'the gold set has no items' });
  if (problems.length > 0) throw new GoldSetProblemsError(problems, firstCause === undefined ? undefined : { cause: firstCause });
  return items;
}

type Bad = (field: string | undefined, problem: string) => void;

function requireText(record: Record<string, unknown>, field: string, bad: Bad): string | undefined {
  const value = record[field];
  if (value === undefined) bad(field, 'missing');
  else if (typeof value !== 'string') bad(field, `expected a string, got ${describe(value)}`);
  else if (value.trim() === '') bad(field, 'must not be blank');
  else return value;
  return undefined;
}

function requireParaphrases(value: unknown, question: string | undefined, bad: Bad): string[] | undefined {
  const field = 'paraphrases';
  if (value === undefined) return void bad(field, 'missing');
  if (!Array.isArray(value)) return void bad(field, `expected an array of strings, got ${describe(value)}`);
  if (value.length < 2) return void bad(field, `needs at least 2 paraphrases, got ${value.length}`);
  const known = new Set(question === undefined ? [] : [question.trim()]);
  let ok = true;
  value.forEach((paraphrase, i) => {
    if (typeof paraphrase !== 'string') bad(field, `element ${i}: expected a string, got ${describe(paraphrase)}`);
    else if (paraphrase.trim() === '') bad(field, `element ${i} must not be blank`);
    else if (known.has(paraphrase.trim())) bad(field, `element ${i} repeats the question or an earlier paraphrase`);
    else {
      known.add(paraphrase.trim());
      return;
    }
    ok = false;
  });
  return ok ? value as string[] : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? `a string` : `${typeof value} ${JSON.stringify(value)}`.slice(0, 60);
}
