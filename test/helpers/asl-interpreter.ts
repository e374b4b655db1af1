// A small interpreter of the JSONata Amazon States Language the blue-green machine's definition uses (Pass,
// Choice, Wait, Task with Arguments / Output / Assign / Catch / Retry / TimeoutSeconds, Parallel with Arguments /
// Output / Assign / Catch, Succeed with Output, Fail), every `{% %}` evaluated by the jsonata library,
// `$states.context` holding the execution's ID and input and the current state's name. As the States Language
// says: a Parallel's output is the array of its branches' outputs, a failing branch fails the Parallel (the
// other branches stop: their calls after the failure are dropped), a branch sees only its own states and a copy
// of the outer variables, and a JSONata catcher without Output passes the error output on. Retriers are applied
// in order (the first whose ErrorEquals matches; MaxAttempts 3, IntervalSeconds 1 and BackoffRate 2 by
// default), a task that outlasts its TimeoutSeconds fails with States.Timeout at that moment. Time is
// simulated: Wait states, tasks and retry intervals advance the clock; each branch of a Parallel has its own
// clock from the Parallel's start (branches run one after the other, which changes nothing since they share no
// state). Tasks are answered by the caller's stub.
import jsonata from 'jsonata';

type Json = any;

/** One attempt of a Task: when it started and ended (simulated ms), and the error it failed with, if it did. */
export interface Call {
  readonly state: string;
  readonly resource: string;
  readonly args: Json;
  readonly at: number;
  end?: number;
  error?: string;
  /** What the stub says the call sent on (its result's `__published`), e.g. the messages a worker published. */
  published?: Json[];
}
export interface Run {
  readonly end: 'Succeed' | 'Fail';
  readonly endState: string;
  readonly error?: string;
  readonly cause?: string;
  readonly output?: Json;
  readonly calls: Call[];
  readonly visited: string[];
  readonly outputs: Record<string, Json[]>;
}
export interface Trace { calls: Call[]; visited: string[]; outputs: Record<string, Json[]> }
export class TaskError extends Error {
  /** `tookMs`: how long the failed attempt ran before it failed. */
  constructor(name: string, message: string, readonly tookMs = 0) {
    super(message);
    this.name = name;
  }
}
export type Stub = (state: string, resource: string, args: Json, clock: number) => Promise<Json>;

/** Each `{% %}` expression compiled once for the suite: the runs evaluate the same few hundred over and over. */
const compiled = new Map<string, ReturnType<typeof jsonata>>();
function compile(expression: string): ReturnType<typeof jsonata> {
  let c = compiled.get(expression);
  if (!c) compiled.set(expression, c = jsonata(expression));
  return c;
}

export async function evaluate(template: Json, bindings: Record<string, Json>): Promise<Json> {
  if (Array.isArray(template)) return Promise.all(template.map((t) => evaluate(t, bindings)));
  if (typeof template === 'string') {
    const m = /^\{%(.*)%\}$/s.exec(template);
    if (!m) return template;
    return compile(m[1]).evaluate({}, bindings).catch((e: Json) => {
      throw new Error(`${e.code}: ${e.message} in ${m[1].slice(0, 200)}`);
    });
  }
  if (template === null || typeof template !== 'object') return template;
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template)) {
    const v = await evaluate(value, bindings);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Whether a retrier's or catcher's ErrorEquals matches the error `name`. */
const matches = (errorEquals: string[], name: string) => errorEquals.includes(name) || errorEquals.includes('States.ALL');

type Ended = { end: 'Succeed' | 'Fail'; endState: string; error?: string; cause?: string; output?: Json; clock: number };

/**
 * Runs the states `all` (the machine's top-level states, or one branch's: a branch sees only its own) from
 * `startAt` with `input` and variables `vars`, from `start` ms.
 */
export async function runStates(all: Record<string, Json>, startAt: string, input: Json, vars: Record<string, Json>, context: Json, stub: Stub, trace: Trace, start: number): Promise<Ended> {
  let name = startAt;
  let data = input;
  let clock = start;
  const bind = (extra: Json = {}) => ({ ...vars, parse: (s: string) => JSON.parse(s), states: { input: data, context: { ...context, State: { Name: name } }, ...extra } });
  const assign = async (state: Json, extra: Json = {}) => {
    if (!state.Assign) return;
    const values = await evaluate(state.Assign, bind(extra));
    Object.assign(vars, values);
    for (const key of Object.keys(state.Assign)) if (!(key in values)) vars[key] = null;
  };
  const record = (state: string, output: Json) => (trace.outputs[state] ??= []).push(output);
  /** A catcher's transition: its Output, or (JSONata, no Output) the error output itself; then its Assign. */
  const caught = async (handler: Json, errorOutput: Json) => {
    const output = handler.Output !== undefined ? await evaluate(handler.Output, bind({ errorOutput })) : errorOutput;
    await assign(handler, { errorOutput });
    record(name, output);
    data = output;
    name = handler.Next;
  };
  for (let i = 0; i < 5000; i++) {
    const state = all[name];
    if (state === undefined) throw new Error(`no state ${name} here (a transition cannot leave its branch)`);
    trace.visited.push(name);
    const goTo = async (next: string, output: Json) => {
      record(name, output);
      data = output;
      name = next;
    };
    switch (state.Type) {
      case 'Pass': {
        const output = state.Output !== undefined ? await evaluate(state.Output, bind()) : data;
        await assign(state);
        await goTo(state.Next, output);
        break;
      }
      case 'Choice': {
        let next = state.Default;
        for (const choice of state.Choices) {
          if (await evaluate(choice.Condition, bind())) {
            next = choice.Next;
            break;
          }
        }
        if (next === undefined) return { end: 'Fail', endState: name, error: 'States.NoChoiceMatched', cause: name, clock };
        await assign(state);
        await goTo(next, data);
        break;
      }
      case 'Wait':
        clock += Number(await evaluate(state.Seconds, bind())) * 1000;
        await goTo(state.Next, data);
        break;
      case 'Task': {
        const timeout = state.TimeoutSeconds === undefined ? undefined : Number(await evaluate(state.TimeoutSeconds, bind()));
        const retriesUsed: number[] = (state.Retry ?? []).map(() => 0);
        for (;;) {
          const args = await evaluate(state.Arguments, bind());
          const call: Call = { state: name, resource: state.Resource, args, at: clock };
          trace.calls.push(call);
          let result: Json;
          let failure: TaskError | undefined;
          try {
            result = await stub(name, state.Resource, args, clock);
            const took = result?.__tookMs ?? 1000;
            if (result?.__published) call.published = result.__published;
            if (timeout !== undefined && took > timeout * 1000) {
              // Step Functions fails the attempt when its time is up, whatever the call does afterwards.
              failure = new TaskError('States.Timeout', `${name} took longer than ${timeout} s`, timeout * 1000);
            } else {
              clock += took;
            }
          } catch (error) {
            if (!(error instanceof TaskError)) throw error;
            failure = error;
          }
          if (failure === undefined) {
            call.end = clock;
            const output = state.Output !== undefined ? await evaluate(state.Output, bind({ result })) : result;
            await assign(state, { result });
            await goTo(state.Next, output);
            break;
          }
          clock += failure.tookMs;
          call.end = clock;
          call.error = failure.name;
          // The first retrier that matches decides; once its attempts are used up, the catchers.
          const r = (state.Retry ?? []).findIndex((retrier: Json) => matches(retrier.ErrorEquals, failure!.name));
          if (r >= 0) {
            const retrier = state.Retry[r];
            if (retriesUsed[r] < (retrier.MaxAttempts ?? 3)) {
              clock += (retrier.IntervalSeconds ?? 1) * 1000 * (retrier.BackoffRate ?? 2) ** retriesUsed[r];
              retriesUsed[r]++;
              continue;
            }
          }
          const handler = (state.Catch ?? []).find((c: Json) => matches(c.ErrorEquals, failure!.name));
          if (!handler) return { end: 'Fail', endState: name, error: failure.name, cause: failure.message, clock };
          await caught(handler, { Error: failure.name, Cause: failure.message });
          break;
        }
        break;
      }
      case 'Parallel': {
        // Without Arguments, each branch's input is the Parallel's input.
        const args = state.Arguments !== undefined ? await evaluate(state.Arguments, bind()) : data;
        // Each branch from the same start, on its own clock and with its own copy of the variables.
        const traces: Trace[] = state.Branches.map(() => ({ calls: [], visited: [], outputs: trace.outputs }));
        const results: Ended[] = [];
        for (const [b, branch] of state.Branches.entries()) {
          results.push(await runStates(branch.States, branch.StartAt, args, { ...vars }, context, stub, traces[b], clock));
        }
        trace.visited.push(...traces.flatMap((t) => t.visited));
        const failed = results.filter((r) => r.end === 'Fail').sort((x, y) => x.clock - y.clock)[0];
        // A failed branch stops the others: what they would have called after it did not happen.
        trace.calls.push(...traces.flatMap((t) => t.calls).filter((c) => !failed || c.at <= failed.clock).sort((x, y) => x.at - y.at));
        if (failed) {
          clock = failed.clock;
          const handler = (state.Catch ?? []).find((c: Json) => matches(c.ErrorEquals, failed.error!));
          if (!handler) return { ...failed, endState: name, clock };
          await caught(handler, { Error: failed.error, Cause: failed.cause });
        } else {
          clock = Math.max(...results.map((r) => r.clock));
          // The Parallel's result: the array of its branches' outputs, in branch order.
          const result = results.map((r) => r.output);
          const output = state.Output !== undefined ? await evaluate(state.Output, bind({ result })) : result;
          await assign(state, { result });
          await goTo(state.Next, output);
        }
        break;
      }
      case 'Succeed': {
        const output = state.Output !== undefined ? await evaluate(state.Output, bind()) : data;
        record(name, output);
        return { end: 'Succeed', endState: name, output, clock };
      }
      case 'Fail':
        return { end: 'Fail', endState: name, error: await evaluate(state.Error, bind()), cause: await evaluate(state.Cause, bind()), clock };
      default:
        throw new Error(`unsupported state type ${state.Type}`);
    }
  }
  throw new Error('the machine did not end within 5000 states');
}

