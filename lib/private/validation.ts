import { Duration, Token } from 'aws-cdk-lib';

/** Every problem found in one construct's props, reported together so that one synth shows them all. */
export class PropProblems {
  private readonly problems: string[] = [];

  /** Records that `prop` must be `expectation`; `value` is quoted back to the person who wrote it. */
  public add(prop: string, expectation: string, value: unknown): void {
    this.problems.push(`${prop} must be ${expectation}, got: ${show(value)}`);
  }

  /** Records a problem in the caller's own words. */
  public addMessage(message: string): void {
    this.problems.push(message);
  }

  public addAll(messages: readonly string[]): void {
    this.problems.push(...messages);
  }

  public get messages(): readonly string[] {
    return this.problems;
  }

  /** A number that is finite and in [min, max] (either bound may be open); tokens are left to deploy time. */
  public number(prop: string, value: number | undefined, range: NumberRange): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || !inRange(value, range)) {
      this.add(prop, describeRange(range), value);
    }
  }

  public integer(prop: string, value: number | undefined, min: number, max: number): void {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.add(prop, `an integer from ${min} to ${max}`, value);
    }
  }

  /** Throws one error listing every problem, if there are any. */
  public throwIfAny(what: string): void {
    if (this.problems.length === 0) return;
    const count = this.problems.length === 1 ? '1 invalid prop' : `${this.problems.length} invalid props`;
    throw new GuardrailsValidationError(`${what} has ${count}:\n${this.problems.map((p) => `  - ${p}`).join('\n')}`, this.problems);
  }
}

/** Marks a GuardrailsValidationError, also across two copies of the library in one app. */
const VALIDATION_ERROR_SYMBOL = Symbol.for('cdk-rollout-guardrails.GuardrailsValidationError');

/**
 * Thrown at synth when props are invalid; `problems` lists each one on its own.
 *
 * A TypeScript class: `instanceof` works as before. It is not part of the jsii API (a jsii class cannot extend
 * `Error`, which other languages bind to their own exception types), as aws-cdk-lib keeps its `ValidationError`
 * out of it: other languages see the error's message, and test for it with `GuardrailsErrors.isValidationError()`.
 * @jsii ignore
 */
export class GuardrailsValidationError extends Error {
  constructor(message: string, public readonly problems: readonly string[]) {
    super(message);
    this.name = 'GuardrailsValidationError';
    Object.defineProperty(this, VALIDATION_ERROR_SYMBOL, { value: true });
  }
}

/** Tests for the library's errors, in every language (the error classes themselves are TypeScript-only). */
export class GuardrailsErrors {
  /** Whether `x` is the error the library throws at synth for invalid props (a GuardrailsValidationError). */
  public static isValidationError(x: any): x is GuardrailsValidationError {
    return x !== null && typeof x === 'object' && VALIDATION_ERROR_SYMBOL in x;
  }

  /** The problems of a GuardrailsValidationError, one per invalid prop (none for any other value). */
  public static validationProblems(x: any): string[] {
    return GuardrailsErrors.isValidationError(x) ? [...x.problems] : [];
  }

  private constructor() {}
}

export interface NumberRange {
  readonly min?: number;
  readonly max?: number;
  /** Whether `min` itself is allowed. @default true */
  readonly minInclusive?: boolean;
  /** Whether `max` itself is allowed. @default true */
  readonly maxInclusive?: boolean;
}

function inRange(value: number, r: NumberRange): boolean {
  if (r.min !== undefined && (r.minInclusive === false ? value <= r.min : value < r.min)) return false;
  if (r.max !== undefined && (r.maxInclusive === false ? value >= r.max : value > r.max)) return false;
  return true;
}

function describeRange(r: NumberRange): string {
  const lo = r.min === undefined ? undefined : `${r.minInclusive === false ? 'greater than' : 'at least'} ${r.min}`;
  const hi = r.max === undefined ? undefined : `${r.maxInclusive === false ? 'less than' : 'at most'} ${r.max}`;
  return `a number ${[lo, hi].filter(Boolean).join(' and ')}`;
}

/** A value already described in words, shown as it is rather than quoted. */
export class Described {
  constructor(public readonly text: string) {}
}

/** Quotes a prop value the way its author wrote it. */
export function show(value: unknown): string {
  if (value instanceof Described) return value.text;
  if (value instanceof Duration) return Token.isUnresolved(value) ? '<token>' : value.toHumanString();
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
