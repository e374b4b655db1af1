// The core of scripts/check-asl.mjs: finds the Step Functions state machines of synthesized CloudFormation
// templates, rebuilds each definition with the template's intrinsic functions resolved to placeholder values,
// and validates it with asl-validator (an Amazon States Language validator nobody here wrote: JSON schemas of
// the states, JSONPath syntax, JSONata `{% %}` expressions compiled, transition targets, terminal states).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';

const require = createRequire(import.meta.url);
/** asl-validator is CommonJS: `module.exports = function validator(definition, options)`. */
const aslValidator = require('asl-validator');
/** The JSONata asl-validator compiles with, to say why an expression it rejects does not compile. */
const jsonata = createRequire(require.resolve('asl-validator'))('jsonata');
/** Its ARN check (a Task's Resource). */
const { isArnFormatValid } = require('asl-validator/dist/src/checks/formats.js');

export const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';

/** The placeholder environment every intrinsic function resolves in. */
export const PLACEHOLDER = { partition: 'aws', region: 'us-east-1', account: '123456789012', urlSuffix: 'amazonaws.com' };

/**
 * A placeholder goes where the template has a token: often inside a JSON string literal, sometimes inside a
 * JSONata expression inside that string. It must not be able to end either, whatever the logical ID.
 */
function placeholder(text) {
  if (/["\\\u0000-\u001f]/.test(text)) throw new Error(`internal: placeholder ${JSON.stringify(text)} would break the JSON it is put in`);
  return text;
}

/** ARN (and Ref) shapes by resource type; `id` is the logical ID, standing for the physical name. */
function arnOf(type, id) {
  const { partition: p, region: r, account: a } = PLACEHOLDER;
  switch (type) {
    case 'AWS::Lambda::Function': return `arn:${p}:lambda:${r}:${a}:function:${id}`;
    case 'AWS::Lambda::Alias': return `arn:${p}:lambda:${r}:${a}:function:${id}Function:${id}`;
    case 'AWS::Lambda::Version': return `arn:${p}:lambda:${r}:${a}:function:${id}Function:1`;
    case 'AWS::Lambda::LayerVersion': return `arn:${p}:lambda:${r}:${a}:layer:${id}:1`;
    case 'AWS::Lambda::EventSourceMapping': return `arn:${p}:lambda:${r}:${a}:event-source-mapping:${id}`;
    case 'AWS::StepFunctions::StateMachine': return `arn:${p}:states:${r}:${a}:stateMachine:${id}`;
    case 'AWS::StepFunctions::Activity': return `arn:${p}:states:${r}:${a}:activity:${id}`;
    case 'AWS::SNS::Topic': return `arn:${p}:sns:${r}:${a}:${id}`;
    case 'AWS::SQS::Queue': return `arn:${p}:sqs:${r}:${a}:${id}`;
    case 'AWS::CloudWatch::Alarm': return `arn:${p}:cloudwatch:${r}:${a}:alarm:${id}`;
    case 'AWS::CloudWatch::CompositeAlarm': return `arn:${p}:cloudwatch:${r}:${a}:alarm:${id}`;
    case 'AWS::CodeDeploy::Application': return `arn:${p}:codedeploy:${r}:${a}:application:${id}`;
    case 'AWS::CodeDeploy::DeploymentGroup': return `arn:${p}:codedeploy:${r}:${a}:deploymentgroup:${id}App/${id}`;
    case 'AWS::DynamoDB::Table': return `arn:${p}:dynamodb:${r}:${a}:table/${id}`;
    case 'AWS::IAM::Role': return `arn:${p}:iam::${a}:role/${id}`;
    case 'AWS::IAM::ManagedPolicy': return `arn:${p}:iam::${a}:policy/${id}`;
    case 'AWS::Logs::LogGroup': return `arn:${p}:logs:${r}:${a}:log-group:${id}:*`;
    case 'AWS::KMS::Key': return `arn:${p}:kms:${r}:${a}:key/00000000-0000-0000-0000-000000000000`;
    case 'AWS::S3::Bucket': return `arn:${p}:s3:::${id.toLowerCase()}`;
    case 'AWS::Events::EventBus': return `arn:${p}:events:${r}:${a}:event-bus/${id}`;
    case 'AWS::Events::Rule': return `arn:${p}:events:${r}:${a}:rule/${id}`;
    case 'AWS::SecretsManager::Secret': return `arn:${p}:secretsmanager:${r}:${a}:secret:${id}-AbCdEf`;
    case 'AWS::SSM::Parameter': return `arn:${p}:ssm:${r}:${a}:parameter/${id}`;
    case 'AWS::ApiGateway::RestApi': return `arn:${p}:apigateway:${r}::/restapis/${id.toLowerCase().slice(0, 10)}`;
    default: {
      // AWS::Service::Thing → arn:aws:service:region:account:thing/id
      const [, service = 'unknown', kind = 'resource'] = String(type).split('::');
      return `arn:${p}:${service.toLowerCase()}:${r}:${a}:${kind.toLowerCase()}/${id}`;
    }
  }
}

/** What `Ref` answers for a resource of `type` (a name, an ID, a URL or an ARN, as CloudFormation documents). */
function refOf(type, id) {
  const { region: r, account: a } = PLACEHOLDER;
  switch (type) {
    // The brief's choice for functions: an ARN, which every API that takes a function name also accepts.
    case 'AWS::Lambda::Function':
    case 'AWS::Lambda::Alias':
    case 'AWS::Lambda::Version':
    case 'AWS::Lambda::LayerVersion':
    case 'AWS::StepFunctions::StateMachine':
    case 'AWS::StepFunctions::Activity':
    case 'AWS::SNS::Topic':
    case 'AWS::IAM::ManagedPolicy':
    case 'AWS::SecretsManager::Secret':
      return arnOf(type, id);
    case 'AWS::SQS::Queue': return `https://sqs.${r}.${PLACEHOLDER.urlSuffix}/${a}/${id}`;
    case 'AWS::Lambda::EventSourceMapping': return '00000000-0000-4000-8000-000000000000';
    case 'AWS::KMS::Key': return '00000000-0000-0000-0000-000000000000';
    case 'AWS::S3::Bucket': return id.toLowerCase();
    case 'AWS::ApiGateway::RestApi': return id.toLowerCase().slice(0, 10);
    // Names: alarms, deployment groups, applications, tables, log groups, roles, rules, parameters, ...
    default: return id;
  }
}

/** A plausible value of `Fn::GetAtt [id, attribute]`. */
function attributeOf(type, id, attribute) {
  if (type === 'AWS::Lambda::Version' && attribute === 'Version') return '1';
  if (/Arn$/.test(attribute)) return arnOf(type, id);
  if (/Name$/.test(attribute)) return id;
  if (/Url$|URL$/.test(attribute)) return refOf('AWS::SQS::Queue', id);
  if (/Id$/.test(attribute)) return `${id}Id`;
  return `${id}-${attribute.replace(/[^A-Za-z0-9.-]/g, '')}`;
}

/** The value of a pseudo parameter, or undefined if `name` is not one. */
function pseudoParameter(name, ctx) {
  const { partition: p, region: r, account: a } = PLACEHOLDER;
  switch (name) {
    case 'AWS::Partition': return p;
    case 'AWS::Region': return r;
    case 'AWS::AccountId': return a;
    case 'AWS::URLSuffix': return PLACEHOLDER.urlSuffix;
    case 'AWS::StackName': return ctx.stackName;
    case 'AWS::StackId': return `arn:${p}:cloudformation:${r}:${a}:stack/${ctx.stackName}/00000000-0000-4000-8000-000000000000`;
    case 'AWS::NotificationARNs': return [];
    default: return undefined;
  }
}

/** The context intrinsic functions resolve in: the template and its stack's (placeholder) name. */
export function templateContext(template, file = 'Stack.template.json') {
  const stackName = basename(file).replace(/(\.nested)?\.template\.json$/, '').replace(/[^A-Za-z0-9-]/g, '-') || 'Stack';
  return { template, stackName, conditions: new Map() };
}

class Unresolvable extends Error {}

function resolveRef(name, ctx) {
  const pseudo = pseudoParameter(name, ctx);
  if (pseudo !== undefined) return pseudo;
  if (name === 'AWS::NoValue') throw new Unresolvable('Ref AWS::NoValue where a value is needed');
  const resource = ctx.template.Resources?.[name];
  if (resource) return placeholder(refOf(resource.Type, name));
  const parameter = ctx.template.Parameters?.[name];
  if (parameter) {
    if (parameter.Default !== undefined) return parameter.Type?.startsWith('List<') || parameter.Type === 'CommaDelimitedList' ? String(parameter.Default).split(',') : String(parameter.Default);
    return placeholder(name);
  }
  throw new Unresolvable(`Ref to ${name}, which is neither a resource, a parameter nor a pseudo parameter of the template`);
}

function resolveGetAtt(id, attribute, ctx) {
  const resource = ctx.template.Resources?.[id];
  if (!resource) throw new Unresolvable(`Fn::GetAtt of ${id}.${attribute}: no such resource in the template`);
  return placeholder(attributeOf(resource.Type, id, String(attribute)));
}

function asString(value, what) {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Unresolvable(`${what} resolved to ${JSON.stringify(value)}, not a string`);
}

function evaluateCondition(name, ctx) {
  if (ctx.conditions.has(name)) return ctx.conditions.get(name);
  const body = ctx.template.Conditions?.[name];
  if (body === undefined) throw new Unresolvable(`Condition ${name} is not in the template`);
  ctx.conditions.set(name, false); // a cycle reads false rather than recursing forever
  const value = Boolean(resolve(body, ctx));
  ctx.conditions.set(name, value);
  return value;
}

/**
 * The value of `node` with every intrinsic function resolved (Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select,
 * Fn::Split, Fn::If and the condition functions, Fn::FindInMap, Fn::ImportValue, Fn::Base64, Fn::GetAZs).
 * Throws on an intrinsic it cannot resolve, naming it.
 */
export function resolve(node, ctx) {
  if (Array.isArray(node)) return node.map((n) => resolve(n, ctx));
  if (node === null || typeof node !== 'object') return node;
  const keys = Object.keys(node);
  if (keys.length === 1 && (keys[0] === 'Ref' || keys[0] === 'Condition' || keys[0].startsWith('Fn::'))) {
    const [fn] = keys;
    const arg = node[fn];
    switch (fn) {
      case 'Ref': return resolveRef(asString(arg, 'Ref'), ctx);
      case 'Condition': return evaluateCondition(asString(arg, 'Condition'), ctx);
      case 'Fn::GetAtt': {
        const [id, ...rest] = typeof arg === 'string' ? arg.split('.') : resolve(arg, ctx);
        return resolveGetAtt(id, rest.join('.'), ctx);
      }
      case 'Fn::Join': {
        const [delimiter, list] = arg;
        const items = resolve(list, ctx);
        if (!Array.isArray(items)) throw new Unresolvable(`Fn::Join of ${JSON.stringify(list)}, not a list`);
        return items.map((item, i) => asString(item, `Fn::Join part ${i}`)).join(delimiter);
      }
      case 'Fn::Sub': {
        const [text, variables = {}] = typeof arg === 'string' ? [arg, {}] : arg;
        return asString(text, 'Fn::Sub').replace(/\$\{(!?)([^}]*)\}/g, (whole, bang, name) => {
          if (bang) return `\${${name}}`;
          const key = name.trim();
          if (Object.prototype.hasOwnProperty.call(variables, key)) return asString(resolve(variables[key], ctx), `Fn::Sub variable ${key}`);
          const dot = key.indexOf('.');
          if (dot > 0 && !key.startsWith('AWS::')) return resolveGetAtt(key.slice(0, dot), key.slice(dot + 1), ctx);
          return asString(resolveRef(key, ctx), `\${${key}}`);
        });
      }
      case 'Fn::Select': {
        const [index, list] = arg;
        const items = resolve(list, ctx);
        const i = Number(resolve(index, ctx));
        if (!Array.isArray(items) || !(i >= 0 && i < items.length)) throw new Unresolvable(`Fn::Select ${i} of ${JSON.stringify(items)}`);
        return items[i];
      }
      case 'Fn::Split': {
        const [delimiter, text] = arg;
        return asString(resolve(text, ctx), 'Fn::Split').split(delimiter);
      }
      case 'Fn::If': {
        const [condition, whenTrue, whenFalse] = arg;
        return resolve(evaluateCondition(condition, ctx) ? whenTrue : whenFalse, ctx);
      }
      case 'Fn::Equals': {
        const [a, b] = resolve(arg, ctx);
        return JSON.stringify(a) === JSON.stringify(b);
      }
      case 'Fn::Not': return !resolve(arg[0], ctx);
      case 'Fn::And': return arg.every((c) => Boolean(resolve(c, ctx)));
      case 'Fn::Or': return arg.some((c) => Boolean(resolve(c, ctx)));
      case 'Fn::FindInMap': {
        const [map, top, second] = resolve(arg, ctx);
        const value = ctx.template.Mappings?.[map]?.[top]?.[second];
        if (value === undefined) throw new Unresolvable(`Fn::FindInMap ${map}.${top}.${second}: not in the template's Mappings`);
        return value;
      }
      case 'Fn::ImportValue': return placeholder(`imported-${asString(resolve(arg, ctx), 'Fn::ImportValue').replace(/[^A-Za-z0-9-]/g, '-')}`);
      case 'Fn::Base64': return Buffer.from(asString(resolve(arg, ctx), 'Fn::Base64')).toString('base64');
      case 'Fn::GetAZs': return ['a', 'b', 'c'].map((z) => `${PLACEHOLDER.region}${z}`);
      default: throw new Unresolvable(`${fn} is not an intrinsic function this check resolves`);
    }
  }
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = resolve(v, ctx);
  return out;
}

/**
 * The definition text of a state machine resource as CloudFormation would hand it to Step Functions:
 * `DefinitionString` (a string or an intrinsic building one) or `Definition` (an object), with
 * `DefinitionSubstitutions` applied. Throws (Unresolvable) if it cannot be rebuilt.
 */
export function definitionText(resource, ctx) {
  const props = resource.Properties ?? {};
  let text;
  if (props.DefinitionString !== undefined) {
    text = asString(resolve(props.DefinitionString, ctx), 'DefinitionString');
  } else if (props.Definition !== undefined) {
    text = JSON.stringify(resolve(props.Definition, ctx));
  } else if (props.DefinitionS3Location !== undefined) {
    throw new Unresolvable('the definition is in S3 (DefinitionS3Location), which this check cannot read');
  } else {
    throw new Unresolvable('no DefinitionString, Definition or DefinitionS3Location');
  }
  const substitutions = resolve(props.DefinitionSubstitutions ?? {}, ctx);
  return text.replace(/\$\{([^}]+)\}/g, (whole, key) => (Object.prototype.hasOwnProperty.call(substitutions, key)
    ? asString(substitutions[key], `DefinitionSubstitutions.${key}`)
    : whole));
}

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
