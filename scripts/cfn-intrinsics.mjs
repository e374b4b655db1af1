// CloudFormation intrinsic functions resolved to placeholder values, so that a synthesized template's state
// machine definition can be rebuilt as CloudFormation would hand it to Step Functions (scripts/asl-check-lib.mjs).
import { basename } from 'node:path';

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

export class Unresolvable extends Error {}

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
