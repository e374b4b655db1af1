// The answer schema ShadowIntegration's `answerSchema` sets: compiled by the dispatcher at cold start and checked
// by the constructs at synth with this same code (bundled on its own into assets/answer-schema-check/index.js,
// see scripts/bundle.mjs), so a schema synth accepts is one the dispatcher compiles with the same options.
import Ajv from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { DISPATCHER_ENV, MAX_ANSWER_SCHEMA_BYTES } from 'cdk-rollout-guardrails-runtime/contract';

/** The dispatcher's environment variable holding the schema's JSON (the contract's, kept here for the dispatcher). */
export const ANSWER_SCHEMA_ENV = DISPATCHER_ENV.answerSchema;
export { MAX_ANSWER_SCHEMA_BYTES };

/** Longest violation text kept on a result row: the first errors say what is wrong, the rest is noise. */
const MAX_VIOLATION_CHARS = 1000;

/**
 * Ajv 8's default class validates JSON Schema draft-07. Unknown keywords are refused (a misspelt `requird`
 * would otherwise check nothing), and so are formats, which need ajv-formats the dispatcher does not carry:
 * refusing says so at synth rather than skipping the check at run time. The type and tuple lints stay off:
 * they judge how a schema is written, not whether it can check an answer.
 */
function ajv(): Ajv {
  return new Ajv({ strictSchema: true, strictTypes: false, strictTuples: false, strictRequired: false, allErrors: false, logger: false });
}

/** Checks one answer body; returns undefined when it conforms, else what is wrong (a body that is not JSON breaks it). */
export type AnswerCheck = (body: string | null) => string | undefined;

/** Compiles the schema; throws (ajv's message) when it is not a schema ajv can compile. */
export function compileAnswerSchema(schema: unknown): AnswerCheck {
  const validate: ValidateFunction = ajv().compile(schema as object);
  return (body) => {
    if (body === null || body === '') return 'the body is empty, not JSON';
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return `the body is not JSON (${(error as Error).message})`.slice(0, MAX_VIOLATION_CHARS);
    }
    if (validate(parsed)) return undefined;
    return describeErrors(validate.errors ?? []).slice(0, MAX_VIOLATION_CHARS);
  };
}

function describeErrors(errors: readonly ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`).join('; ') || 'the body does not match the schema';
}

/**
 * What is wrong with a schema given at synth, as phrases to follow `answerSchema: `; none when it compiles and
 * fits the environment. Only plain JSON is checked here (the constructs refuse tokens before).
 */
export function answerSchemaProblems(schema: unknown): string[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return [`must be a JSON Schema object (draft-07), got ${schema === null ? 'null' : Array.isArray(schema) ? 'an array' : typeof schema}`];
  }
  const problems: string[] = [];
  let json: string;
  try {
    json = JSON.stringify(schema);
  } catch (error) {
    return [`must be plain JSON (${(error as Error).message})`];
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > MAX_ANSWER_SCHEMA_BYTES) {
    problems.push(`its JSON is ${bytes} bytes, over the ${MAX_ANSWER_SCHEMA_BYTES}-byte cap: it travels in the dispatcher's environment, `
      + 'and Lambda allows 4 KB of environment variables in all (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html)');
  }
  if (!sameJson(schema, JSON.parse(json))) {
    problems.push('must be plain JSON (functions, undefined or non-finite numbers would be lost on the way to the dispatcher)');
  }
  try {
    compileAnswerSchema(JSON.parse(json));
  } catch (error) {
    problems.push(`is not a JSON Schema ajv 8 compiles (draft-07, no formats): ${(error as Error).message}`);
  }
  return problems;
}

/** Whether the value survives a JSON round trip unchanged (no undefined members, functions or NaN dropped or nulled). */
function sameJson(given: unknown, parsed: unknown): boolean {
  if (typeof given === 'number') return Number.isFinite(given) && given === parsed;
  if (given === null || typeof given === 'string' || typeof given === 'boolean') return given === parsed;
  if (Array.isArray(given)) return Array.isArray(parsed) && given.length === parsed.length && given.every((v, i) => sameJson(v, parsed[i]));
  if (typeof given === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(given))) {
    const keys = Object.keys(given as object);
    const p = parsed as Record<string, unknown>;
    return typeof parsed === 'object' && parsed !== null && keys.length === Object.keys(p).length
      && keys.every((k) => sameJson((given as Record<string, unknown>)[k], p[k]));
  }
  return false;
}
