// A task whose AWS read never answers, replayed on the state machine's own control flow: each attempt ends at the
// task's TimeoutSeconds (States.Timeout) or, without one, at its Lambda function's Timeout (the function's error,
// which States.TaskFailed matches: register SFN-1); the task's Retry rules (their defaults from register SFN-11)
// decide the attempts and waits; then its Catch (or its Parallel's) takes over.
import { AssemblyStack } from './assembly';
import { AslState } from './definition';
import { logicalIdOf, resolveString } from './tokens';

/** How a hung task plays out. */
export interface HungTask {
  /** Seconds from the task's start until its Catch takes over. */
  readonly seconds: number;
  readonly attempts: number;
  /** Each attempt's bound, and where it came from. */
  readonly attemptSeconds: number;
  readonly bound: string;
  /** The error each attempt ends with. */
  readonly error: string;
  /** The state the Catch goes to, or the enclosing Parallel's catch when the task has none. */
  readonly next: string;
}

/** The Lambda function's Timeout for a task invoking it (3 s, Lambda's default, when the template sets none). */
function functionTimeout(stack: AssemblyStack, state: AslState & { Resource?: unknown; Parameters?: Record<string, unknown>; Arguments?: Record<string, unknown> }): number | undefined {
  const target = [state.Resource, state.Parameters?.FunctionName, state.Arguments?.FunctionName].map((v) => (typeof v === 'string' ? v : undefined)).find((v) => v && !v.startsWith('arn:'));
  const fn = stack.resources[logicalIdOf(target ? resolveString(target) : undefined) ?? ''];
  if (fn?.Type !== 'AWS::Lambda::Function') return undefined;
  return typeof fn.Properties?.Timeout === 'number' ? fn.Properties.Timeout : 3;
}

/** Replays `state` (named `name`) with its read hung; `fallback` is the state a Parallel's catch goes to, if any. */
export function hungTask(stack: AssemblyStack, name: string, state: AslState, fallback?: string): HungTask {
  const fromTask = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
  const fromFunction = functionTimeout(stack, state as never);
  const attemptSeconds = fromTask ?? fromFunction ?? 60;
  const bound = fromTask !== undefined ? `${name}'s TimeoutSeconds ${fromTask}`
    : fromFunction !== undefined ? `the function's Timeout ${fromFunction} s` : 'an assumed 60 s (no timeout found)';
  const error = fromTask !== undefined ? 'States.Timeout' : 'Sandbox.Timedout';
  const matches = (errors: readonly string[]) => errors.includes(error) || errors.includes('States.ALL') || (error !== 'States.Timeout' && errors.includes('States.TaskFailed'));
  const retry = (state.Retry ?? []).find((r) => matches(r.ErrorEquals));
  const retries = retry ? retry.MaxAttempts ?? 3 : 0;
  let seconds = attemptSeconds;
  for (let i = 0; i < retries; i++) seconds += (retry?.IntervalSeconds ?? 1) * (retry?.BackoffRate ?? 2) ** i + attemptSeconds;
  const next = (state.Catch ?? []).find((c) => matches(c.ErrorEquals))?.Next ?? fallback ?? '(the execution fails)';
  return { seconds, attempts: retries + 1, attemptSeconds, bound, error, next };
}
