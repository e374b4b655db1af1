import { format } from 'util';

/**
 * aws-cdk-lib prints a stack's warning annotations (console.error) on every synth, as a validation report that
 * names each warning's acknowledgement id ("Acknowledge with 'Annotation::cdk-rollout-guardrails:smallGoldSet'").
 * A test whose stack warns on purpose, or cannot avoid a warning, captures that report and asserts on it here
 * instead of letting it reach the test output.
 */

/** The acknowledgement ids a printed validation report names, e.g. `cdk-rollout-guardrails:smallGoldSet`. */
export function warningIds(printed: string): string[] {
  return [...printed.matchAll(/Acknowledge with 'Annotation::([^']+)'/g)].map((m) => m[1]);
}

/** What each console.error call of `fn` printed, captured and not shown, with `fn`'s result. */
export function captureConsoleError<T>(fn: () => T): { result: T; printed: string[] } {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    const result = fn();
    return { result, printed: spy.mock.calls.map((args) => format(...args)) };
  } finally {
    spy.mockRestore();
  }
}

/** Each printed text's warnings, sorted and without repeats; a text that names none is kept whole (it is not a warning). */
function summarize(printed: string[]): { warnings: string[]; other: string[] } {
  return {
    warnings: [...new Set(printed.flatMap(warningIds))].sort(),
    other: printed.filter((p) => warningIds(p).length === 0),
  };
}

/**
 * Runs `synth` (anything that synthesizes: Template.fromStack, Annotations.fromStack, app.synth()) and expects
 * it to print exactly the warnings `expected` (acknowledgement ids, each at least once) and nothing else.
 * Returns what `synth` returned.
 */
export function expectSynthWarnings<T>(expected: string[], synth: () => T): T {
  const { result, printed } = captureConsoleError(synth);
  expect(summarize(printed)).toEqual({ warnings: [...new Set(expected)].sort(), other: [] });
  return result;
}

/**
 * Runs `synth` and returns, with its result, the acknowledgement id of every warning the printed reports name, in
 * print order and with repeats (one per warned resource): for a test that compares them with the warnings it found
 * another way (Annotations.findWarning). Fails if anything else was printed.
 */
export function captureSynthWarnings<T>(synth: () => T): { result: T; warnings: string[] } {
  const { result, printed } = captureConsoleError(synth);
  expect(printed.filter((p) => warningIds(p).length === 0)).toEqual([]);
  return { result, warnings: printed.flatMap(warningIds) };
}

/**
 * For a suite whose stacks all carry the same warnings (a two-question gold set, say): in each test of the
 * enclosing describe block (or file), console.error is captured, and what was printed must be validation reports
 * naming only the warnings `allowed`. A test that synthesizes nothing prints nothing, and passes.
 */
export function allowSynthWarningsInEachTest(allowed: string[]): void {
  let spy: jest.SpyInstance | undefined;
  beforeEach(() => {
    spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    const printed = spy!.mock.calls.map((args) => format(...args));
    spy!.mockRestore();
    const { warnings, other } = summarize(printed);
    expect({ warnings: warnings.filter((w) => !allowed.includes(w)), other }).toEqual({ warnings: [], other: [] });
  });
}
