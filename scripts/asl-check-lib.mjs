// The core of scripts/check-asl.mjs: finds the Step Functions state machines of synthesized CloudFormation
// templates, rebuilds each definition with the template's intrinsic functions resolved to placeholder values,
// and validates it with asl-validator (an Amazon States Language validator nobody here wrote: JSON schemas of
// the states, JSONPath syntax, JSONata `{% %}` expressions compiled, transition targets, terminal states).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
/** asl-validator is CommonJS: `module.exports = function validator(definition, options)`. */
const aslValidator = require('asl-validator');
/** The JSONata asl-validator compiles with, to say why an expression it rejects does not compile. */
const jsonata = createRequire(require.resolve('asl-validator'))('jsonata');
/** Its ARN check (a Task's Resource). */
const { isArnFormatValid } = require('asl-validator/dist/src/checks/formats.js');

export const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';

export { definitionText, PLACEHOLDER, resolve, templateContext, Unresolvable } from './cfn-intrinsics.mjs';
import { definitionText, templateContext, Unresolvable } from './cfn-intrinsics.mjs';

/** How many states the definition has, nested ones (Parallel branches, Map item processors) included. */
export function countStates(definition) {
  let n = 0;
  const walk = (node) => {
    if (Array.isArray(node)) { node.forEach(walk); return; }
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'States' && v && typeof v === 'object' && !Array.isArray(v)) n += Object.keys(v).length;
      walk(v);
    }
  };
  walk(definition);
  return n;
}

/** The value at a JSON pointer (`/States/Init/Output`), or undefined. */
function atPointer(root, pointer) {
  let node = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** asl-validator's own schemas, compiled like it compiles them (but reporting all errors): to say why a state matches none of its types, and to judge catchers. */
let stateSchemas;
function stateSchemaValidator() {
  if (stateSchemas) return stateSchemas;
  const fromValidator = createRequire(require.resolve('asl-validator'));
  const Ajv = fromValidator('ajv').default;
  const addFormats = fromValidator('ajv-formats').default;
  const { registerAll } = fromValidator('asl-path-validator');
  const names = ['common', 'paths', 'jsonata', 'choice', 'fail', 'parallel', 'pass', 'base-state-machine', 'state-machine', 'state', 'succeed', 'task', 'wait', 'map', 'errors'];
  const ajv = new Ajv({ schemas: names.map((n) => require(`asl-validator/dist/src/schemas/${n}.json`)), allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('jsonata_string', (v) => jsonataProblem(v, { compileOnly: true }) === undefined);
  ajv.addFormat('maybe_jsonata_string', (v) => jsonataProblem(v, { compileOnly: true }) === undefined);
  registerAll(ajv);
  ajv.addFormat('asl_arn', isArnFormatValid);
  stateSchemas = ajv;
  return ajv;
}

/** The errors of `state` against the schema of its own Type (what asl-validator's "must match exactly one schema in oneOf" hides). */
function stateProblems(state) {
  const type = typeof state?.Type === 'string' ? state.Type.toLowerCase() : undefined;
  if (!type || !['choice', 'fail', 'parallel', 'pass', 'succeed', 'task', 'wait', 'map'].includes(type)) {
    return [`Type ${JSON.stringify(state?.Type)} is not one of Choice, Fail, Parallel, Pass, Succeed, Task, Wait, Map`];
  }
  const ajv = stateSchemaValidator();
  if (ajv.validate(`http://asl-validator.cloud/${type}.json#`, state)) return [];
  const telling = ['required', 'additionalProperties', 'format', 'enum', 'const', 'minItems', 'minimum', 'maximum', 'minLength', 'maxLength'];
  const lines = ajv.errors
    .filter((e) => telling.includes(e.keyword))
    .map((e) => `${e.instancePath || '(the state)'} ${e.message}${e.keyword === 'additionalProperties' ? ` ${JSON.stringify(e.params.additionalProperty)}` : ''}`);
  return [...new Set(lines)].slice(0, 6);
}

/** Each state of the definition, nested ones too, with its JSON pointer. */
function statesWithPointers(definition) {
  const found = [];
  const walk = (node, pointer) => {
    if (node === null || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      const at = `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (k === 'States' && v && typeof v === 'object' && !Array.isArray(v)) {
        for (const [name, state] of Object.entries(v)) found.push({ pointer: `${at}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`, state });
      }
      walk(v, at);
    }
  };
  walk(definition, '');
  return found;
}

/**
 * asl-validator 4.0.0 checks a catcher's ErrorEquals and Next only: its ResultPath (JSONPath), Output and
 * Assign (JSONata, or JSONPath payload templates) go unchecked. This judges them with asl-validator's own
 * schemas, as the same fields of a Pass state of the state's query language (a catcher may carry exactly
 * those: ResultPath and Assign with JSONPath, Output and Assign with JSONata).
 */
function catcherErrors(definition) {
  const ajv = stateSchemaValidator();
  const errors = [];
  for (const { pointer, state } of statesWithPointers(definition)) {
    if (!state || typeof state !== 'object' || !Array.isArray(state.Catch)) continue;
    const branch = state.QueryLanguage === 'JSONata' ? 1 : 0;
    state.Catch.forEach((catcher, i) => {
      if (!catcher || typeof catcher !== 'object') return;
      const fields = Object.fromEntries(Object.entries(catcher).filter(([k]) => !['ErrorEquals', 'Next', 'Comment'].includes(k)));
      if (Object.keys(fields).length === 0) return;
      const asPass = { Type: 'Pass', QueryLanguage: state.QueryLanguage ?? 'JSONPath', End: true, ...fields };
      if (ajv.validate(`http://asl-validator.cloud/pass.json#/oneOf/${branch}`, asPass)) return;
      const at = `${pointer}/Catch/${i}`;
      const telling = ajv.errors.filter((e) => ['additionalProperties', 'format', 'required', 'enum'].includes(e.keyword));
      const shown = new Set();
      for (const e of telling.length > 0 ? telling : ajv.errors) {
        const field = e.keyword === 'additionalProperties' ? `/${e.params.additionalProperty}` : e.instancePath;
        const why = e.keyword === 'additionalProperties'
          ? `a catcher of a ${asPass.QueryLanguage} state cannot have this field`
          : e.keyword === 'format' && typeof atPointer(asPass, e.instancePath) === 'string'
            ? jsonataProblem(atPointer(asPass, e.instancePath)) ?? `${JSON.stringify(atPointer(asPass, e.instancePath))} ${e.message}`
            : e.message;
        const line = `CATCHER_INVALID: ${at}${field} is invalid. ${why} (checked by check-asl: asl-validator does not check catchers' ${Object.keys(fields).join(', ')})`;
        if (!shown.has(line)) { shown.add(line); errors.push(line); }
      }
    });
  }
  return errors;
}

/** Why a JSONata expression (`{% ... %}`) does not compile, or undefined if it does. */
function jsonataProblem(value, { compileOnly = false } = {}) {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (!trimmed.startsWith('{%') && !trimmed.endsWith('%}')) return undefined;
  let expr = trimmed.startsWith('{%') ? trimmed.slice(2) : trimmed;
  expr = expr.endsWith('%}') ? expr.slice(0, -2) : expr;
  try {
    jsonata(expr);
  } catch (err) {
    return `JSONata ${err.code ?? 'error'} at ${err.position ?? '?'}: ${err.message}`;
  }
  if (!compileOnly && !/^\{% .+ %\}$/.test(value)) return 'the expression compiles, but asl-validator wants "{% <expression> %}" on one line with one space inside each delimiter (its pattern ^\\{% .+ %\\}$)';
  return undefined;
}

/**
 * Validates one definition text with asl-validator. Answers `{ states, errors }`, errors as strings,
 * asl-validator's own (`<Error code>: <message>`), each schema error that points at a JSONata string
 * followed by why that expression does not compile.
 */
export function validateDefinition(text) {
  let definition;
  try {
    definition = JSON.parse(text);
  } catch (err) {
    const at = Number(/position (\d+)/.exec(err.message)?.[1]);
    const near = Number.isFinite(at) ? ` near ${JSON.stringify(text.slice(Math.max(0, at - 60), at + 60))}` : '';
    return { states: 0, errors: [`the definition is not JSON: ${err.message}${near}`] };
  }
  if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
    return { states: 0, errors: [`the definition is ${JSON.stringify(definition)}, not a JSON object`] };
  }
  const states = countStates(definition);
  // asl-validator writes each state's effective QueryLanguage into it (the machine's, unless the state sets one).
  const result = aslValidator(definition, { checkPaths: true, checkArn: true });
  const errors = [];
  for (const e of result.errors) {
    errors.push(`${e['Error code']}: ${e.Message}`);
    const pointer = e.schemaError?.instancePath;
    if (pointer === undefined) continue;
    const at = atPointer(definition, pointer);
    const why = typeof at === 'string' ? [jsonataProblem(at)].filter(Boolean)
      // A state (an object with a Type under States) that matched none of the state schemas: say what its own type's schema wants.
      : at && typeof at === 'object' && 'Type' in at && /\/States\/[^/]+$/.test(pointer) ? stateProblems(at).map((p) => `${at.Type}: ${p}`)
        : [];
    for (const w of why) if (!errors.includes(`  ${pointer}: ${w}`)) errors.push(`  ${pointer}: ${w}`);
  }
  errors.push(...catcherErrors(definition));
  return { states, errors: [...new Set(errors)] };
}

/** The state machines of one template file: `{ logicalId, states, errors }` each. */
export function checkTemplate(file) {
  let template;
  try {
    template = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    return { error: `cannot read the template: ${err.message}`, machines: [] };
  }
  const ctx = templateContext(template, file);
  const machines = [];
  for (const [logicalId, resource] of Object.entries(template.Resources ?? {})) {
    if (resource?.Type !== STATE_MACHINE_TYPE) continue;
    let text;
    try {
      text = definitionText(resource, ctx);
    } catch (err) {
      if (!(err instanceof Unresolvable)) throw err;
      machines.push({ logicalId, states: 0, errors: [`cannot rebuild the definition: ${err.message}`] });
      continue;
    }
    machines.push({ logicalId, ...validateDefinition(text) });
  }
  return { machines };
}

/**
 * The template files to check: each argument that is a file, and every `*.template.json` under each argument
 * that is a directory (a cloud assembly and its nested assemblies; asset directories are skipped).
 */
export function findTemplates(args) {
  const found = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name.startsWith('asset.') || entry.name === 'node_modules') continue;
        walk(full);
      } else if (entry.name.endsWith('.template.json')) {
        found.push(full);
      }
    }
  };
  for (const arg of args) {
    if (statSync(arg).isDirectory()) walk(arg);
    else found.push(arg);
  }
  return [...new Set(found)];
}

/**
 * The check of scripts/check-asl.mjs, callable: judges every state machine of the templates under `argv`'s
 * paths (default cdk.out), writing each verdict through `log` and each problem through `error`, and returns the
 * exit status: 0 when every machine is valid, 1 on an invalid one or none at all (unless --allow-none), 2 on a
 * usage error.
 */
export function checkAsl(argv, log = console.log, error = console.error) {
  const allowNone = argv.includes('--allow-none');
  const unknown = argv.filter((a) => a.startsWith('-') && a !== '--allow-none');
  if (unknown.length > 0) {
    error(`asl-validator: unknown option(s) ${unknown.join(' ')}; usage: check-asl.mjs [--allow-none] [<cloud assembly dir or template file> ...]`);
    return 2;
  }
  const args = argv.filter((a) => !a.startsWith('-'));
  const inputs = args.length > 0 ? args : ['cdk.out'];
  const missing = inputs.filter((p) => !existsSync(p));
  if (missing.length > 0) {
    error(`asl-validator: no such file or directory: ${missing.join(', ')}${args.length === 0 ? ' (run `npm run synth` first)' : ''}`);
    return 2;
  }

  const files = findTemplates(inputs);
  let machines = 0;
  let failed = 0;
  for (const file of files) {
    const result = checkTemplate(file);
    if (result.error) {
      failed++;
      error(`asl-validator: ${file}: ${result.error}`);
      continue;
    }
    for (const m of result.machines) {
      machines++;
      if (m.errors.length === 0) {
        log(`asl-validator: ${file} ${m.logicalId}: valid (${m.states} states)`);
      } else {
        failed++;
        error(`asl-validator: ${file} ${m.logicalId}: INVALID, ${m.errors.filter((e) => !e.startsWith('  ')).length} error(s):`);
        for (const e of m.errors) error(`  ${e}`);
      }
    }
  }

  const scope = `${machines} state machine(s) in ${files.length} template(s)`;
  if (failed > 0) {
    error(`asl-validator: ${scope}, ${failed} invalid`);
    return 1;
  }
  if (machines === 0 && !allowNone) {
    error(`asl-validator: no state machine (AWS::StepFunctions::StateMachine) in ${files.length} template(s) under ${inputs.join(', ')}; nothing was checked (pass --allow-none if that is expected)`);
    return 1;
  }
  log(`asl-validator: ${scope}, no errors`);
  return 0;
}
