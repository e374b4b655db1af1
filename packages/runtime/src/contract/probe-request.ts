// Shared by the DeltaSProbe construct (which validates and writes it at synth) and the probe handler
// (lambdas/probe, which esbuild bundles with it). It lives under lib/ because only dist/lib and
// dist/lambdas/runtime are published: the construct must be able to require it. It imports nothing.
/** Problems with a request template or an answer pointer, thrown at synth (the construct) and at cold start. */
export class ProbeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProbeConfigError';
  }
}

/**
 * Fills a request template: every string equal to `{{seed}}` becomes the seed as a number, and inside
 * every other string `{{question}}` and `{{seed}}` are replaced by the question and the seed. Keys are left
 * alone. The template is any JSON value; it is not modified.
 */
export function renderRequest(template: unknown, question: string, seed: number): unknown {
  if (typeof template === 'string') {
    if (template === '{{seed}}') return seed;
    return template.replace(/\{\{(question|seed)\}\}/g, (_, name: string) => (name === 'question' ? question : String(seed)));
  }
  if (Array.isArray(template)) return template.map((v) => renderRequest(v, question, seed));
  if (typeof template === 'object' && template !== null) {
    return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, renderRequest(v, question, seed)]));
  }
  return template;
}

/** Whether the template mentions `{{question}}` anywhere (a template without it would ask nothing). */
export function templateAsksQuestion(template: unknown): boolean {
  if (typeof template === 'string') return template.includes('{{question}}');
  if (Array.isArray(template)) return template.some(templateAsksQuestion);
  if (typeof template === 'object' && template !== null) return Object.values(template).some(templateAsksQuestion);
  return false;
}

/** The reference tokens of an RFC 6901 JSON pointer (`''` is the whole document); throws on a malformed one. */
export function parsePointer(pointer: string): string[] {
  if (typeof pointer !== 'string') throw new ProbeConfigError(`a JSON pointer is a string, got ${typeof pointer}`);
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new ProbeConfigError(`a JSON pointer is empty or starts with "/", got: ${JSON.stringify(pointer)}`);
  return pointer.slice(1).split('/').map((token) => {
    if (/~[^01]|~$/.test(token)) throw new ProbeConfigError(`"~" in a JSON pointer must be followed by 0 or 1, got: ${JSON.stringify(pointer)}`);
    return token.replace(/~1/g, '/').replace(/~0/g, '~');
  });
}

/** The value at `tokens` in `document`, or undefined when the path does not exist. */
export function resolvePointer(document: unknown, tokens: readonly string[]): unknown {
  let value: unknown = document;
  for (const token of tokens) {
    if (Array.isArray(value)) {
      if (!/^(0|[1-9]\d*)$/.test(token)) return undefined;
      value = value[Number(token)];
    } else if (typeof value === 'object' && value !== null && Object.prototype.hasOwnProperty.call(value, token)) {
      value = (value as Record<string, unknown>)[token];
    } else {
      return undefined;
    }
  }
  return value;
}

/** What a response payload yields: the answer, or why it breaks the schema. */
export type AnswerExtraction = { readonly answer: string } | { readonly violation: string };

/**
 * Reads the answer from a response payload: the payload must be JSON and hold a non-blank string at the
 * pointer; anything else is a schema violation, described in words.
 */
export function extractAnswer(payload: string, tokens: readonly string[], pointer: string): AnswerExtraction {
  let document: unknown;
  try {
    document = JSON.parse(payload);
  } catch {
    return { violation: `response is not JSON: ${JSON.stringify(payload.slice(0, 80))}` };
  }
  const value = resolvePointer(document, tokens);
  if (value === undefined) return { violation: `no value at ${pointer}` };
  if (typeof value !== 'string') return { violation: `value at ${pointer} is ${value === null ? 'null' : typeof value}, not a string` };
  if (value.trim() === '') return { violation: `value at ${pointer} is blank` };
  return { answer: value };
}
