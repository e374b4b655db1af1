// Runs the synthesised staged state machine definition itself, state by state, with a small interpreter of the
// Amazon States Language features it uses (Pass, Choice on IsPresent / StringEquals / BooleanEquals, Wait, Task with
// Parameters / ResultSelector / ResultPath / Catch, Succeed, Fail; the JSONata Init state is evaluated by the jsonata
// library). Tasks are answered by the caller's stub; retries are not simulated (a stubbed failure goes straight to
// the catch). Shared by test/staged-machine-run.suite.ts and test/cohort-staged.suite.ts.
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import jsonata from 'jsonata';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { StagedRollout } from '../../lib';
import type { StagedRolloutStrategy } from '../../lib/strategies/staged';
import { testFunction, testStack } from '../util';

type Json = any;

/**
 * The staged machine of `stack`, its tokens made readable: a `Ref` becomes the resource's name (a named application
 * or deployment group) or logical ID, the gate function's ARN GATE_FUNCTION, any other ARN `arn:<logical ID>`.
 */
export function stagedDefinition(stack: Stack): { states: Record<string, Json>; startAt: string } {
  const template = Template.fromStack(stack).toJSON();
  const machine = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'))[0] as Json;
  // A Ref to a named application or deployment group resolves to its name.
  const named = (logicalId: string) => {
    const { Type, Properties } = template.Resources[logicalId] ?? {};
    if (Type === 'AWS::CodeDeploy::Application') return Properties.ApplicationName;
    if (Type === 'AWS::CodeDeploy::DeploymentGroup') return Properties.DeploymentGroupName;
    return logicalId;
  };
  const parts = machine.Properties.DefinitionString['Fn::Join'][1] as unknown[];
  const text = (p: Json): string => {
    if (typeof p === 'string') return p;
    if (p.Ref === 'AWS::Partition') return 'aws';
    if (p.Ref) return named(p.Ref);
    const [logicalId] = p['Fn::GetAtt'];
    return logicalId.startsWith('StagedRolloutGate') ? 'GATE_FUNCTION' : `arn:${logicalId}`;
  };
  const definition = JSON.parse(parts.map(text).join(''));
  return { states: definition.States, startAt: definition.StartAt };
}

/** Evaluates every `{% … %}` string of a JSONata state's Output against `$states.input`. */
async function evaluateOutput(template: Json, input: Json): Promise<Json> {
  if (Array.isArray(template)) return Promise.all(template.map((t) => evaluateOutput(t, input)));
  if (typeof template === 'string') {
    const m = /^\{%(.*)%\}$/s.exec(template);
    return m ? jsonata(m[1]).evaluate({}, { states: { input } }).catch((e: any) => { throw new Error(`${e.code}: ${e.message} ${m[1].slice(0, 300)}`); }) : template;
  }
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template)) out[key] = await evaluateOutput(value, input);
  return out;
}

function get(data: Json, p: string): Json {
  if (p === '$') return data;
  if (!p.startsWith('$.')) throw new Error(`unsupported path ${p}`);
  let value = data;
  for (const key of p.slice(2).split('.')) {
    if (value === undefined || value === null || !(key in value)) throw Object.assign(new Error(`path ${p} not found`), { name: 'States.Runtime' });
    value = value[key];
  }
  return value;
}

function isPresent(data: Json, p: string): boolean {
  try {
    get(data, p);
    return true;
  } catch {
    return false;
  }
}

function resolve(template: Json, data: Json): Json {
  if (Array.isArray(template)) return template.map((t) => resolve(t, data));
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template)) {
    const intrinsic = /^States\.JsonToString\((\$[^)]*)\)$/.exec(value as string);
    if (key.endsWith('.$')) out[key.slice(0, -2)] = intrinsic ? JSON.stringify(get(data, intrinsic[1])) : get(data, value as string);
    else out[key] = resolve(value, data);
  }
  return out;
}

function place(input: Json, resultPath: string | null | undefined, result: Json): Json {
  if (resultPath === null) return input;
  if (resultPath === undefined || resultPath === '$') return result;
  const keys = resultPath.slice(2).split('.');
  const copy = JSON.parse(JSON.stringify(input));
  let at = copy;
  for (const key of keys.slice(0, -1)) at = at[key] ??= {};
  at[keys[keys.length - 1]] = result;
  return copy;
}

export interface Run {
  readonly end: 'Succeed' | 'Fail';
  readonly endState: string;
  readonly error?: string;
  readonly calls: Array<{ state: string; resource: string; params: Json }>;
  readonly visited: string[];
}

export type TaskStub = (state: string, resource: string, params: Json, clock: number) => Json;

export async function run(machine: { states: Record<string, Json>; startAt: string }, input: Json, task: TaskStub): Promise<Run> {
  let name = machine.startAt;
  let data = input;
  let clock = 0;
  const calls: Run['calls'] = [];
  const visited: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const state = machine.states[name];
    visited.push(name);
    switch (state.Type) {
      case 'Pass':
        if (state.QueryLanguage === 'JSONata') {
          data = await evaluateOutput(state.Output, data);
          name = state.Next;
          break;
        }
        data = place(data, state.ResultPath, state.Parameters ? resolve(state.Parameters, data) : state.Result ?? data);
        name = state.Next;
        break;
      case 'Choice': {
        const match = state.Choices.find((c: Json) => {
          if (c.IsPresent !== undefined) return isPresent(data, c.Variable) === c.IsPresent;
          if (c.BooleanEquals !== undefined) return get(data, c.Variable) === c.BooleanEquals;
          return get(data, c.Variable) === c.StringEquals;
        });
        name = match ? match.Next : state.Default;
        break;
      }
      case 'Wait':
        clock += get(data, state.SecondsPath) * 1000;
        name = state.Next;
        break;
      case 'Task': {
        try {
          const params = resolve(state.Parameters, data);
          calls.push({ state: name, resource: state.Resource, params });
          let result = task(name, state.Resource, params, clock);
          if (state.ResultSelector) result = resolve(state.ResultSelector, result);
          data = place(data, state.ResultPath, result);
          name = state.Next;
        } catch (error) {
          const errorName = (error as Error).name;
          const handler = (state.Catch ?? []).find((c: Json) => c.ErrorEquals.includes(errorName) || c.ErrorEquals.includes('States.ALL'));
          if (!handler) return { end: 'Fail', endState: name, error: errorName, calls, visited };
          data = place(data, handler.ResultPath, { Error: errorName, Cause: (error as Error).message });
          name = handler.Next;
        }
        break;
      }
      case 'Succeed':
        return { end: 'Succeed', endState: name, calls, visited };
      case 'Fail':
        return { end: 'Fail', endState: name, error: state.Error, calls, visited };
      default:
        throw new Error(`unsupported state type ${state.Type}`);
    }
  }
  throw new Error('the machine did not end within 1000 states');
}

/**
 * A test stack with one staged alias (application `App`, deployment group `Group`, the test function's alias `live`)
 * rolled out with `strategy`, and its machine's definition made readable (`stagedDefinition`).
 */
export function oneStagedAlias(strategy: StagedRolloutStrategy): { stack: Stack; machine: ReturnType<typeof stagedDefinition> } {
  const stack = testStack();
  const fn = testFunction(stack);
  const alias = new lambda.Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
  const deploymentGroup = new codedeploy.LambdaDeploymentGroup(stack, 'Group', {
    alias, deploymentConfig: codedeploy.LambdaDeploymentConfig.ALL_AT_ONCE, deploymentGroupName: 'Group',
    application: new codedeploy.LambdaApplication(stack, 'App', { applicationName: 'App' }),
  });
  StagedRollout.of(stack).attach({ alias, version: fn.currentVersion, deploymentGroup, strategy });
  return { stack, machine: stagedDefinition(stack) };
}
