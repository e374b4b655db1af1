import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { PropProblems } from '../private/validation';

/**
 * The early-step consumer fence of a staged rollout (deploy_traffic_shaping.md: "During 1–25 % steps: pause heavy
 * batch, only allow user-facing flows; cap queue concurrency per partition"). The starter pauses the named event
 * source mappings before the first shift (or, with `maxConcurrency`, caps each SQS mapping's maximum concurrency),
 * each only if it runs (a mapping disabled by someone else is skipped and stays disabled); the gate restores
 * exactly those once the new version is to serve `untilStep` percent, or when the rollout succeeds or rolls back;
 * the safety net restores them when an execution fails, times out or is stopped.
 */
export interface ConsumerFence {
  /** The event source mappings paused while the weight is below `untilStep`: at least one, each listed once. */
  readonly consumers: lambda.IEventSourceMapping[];
  /**
   * The step (a percent of the schedule's steps) from which the consumers run again: they are resumed before the
   * weight is set to it. An integer from 2 to 100 that is one of the steps.
   * @default 25, or the schedule's first step above 25 when 25 is not a step
   */
  readonly untilStep?: number;
  /**
   * Cap rather than pause: each SQS mapping's `ScalingConfig.MaximumConcurrency` is lowered to this (an integer
   * from 2 to 1000, Lambda's range) while the fence holds, and set back to its own value (or removed, if it had none)
   * when it lifts. A mapping already at or below it is left alone; a mapping of another source, which has no such
   * setting, is paused.
   * @default - pause the mappings
   */
  readonly maxConcurrency?: number;
}

/** The step the fence lifts at: `untilStep`, else 25, else the first step above 25; undefined without one. */
export function fenceUntilStep(fence: ConsumerFence | undefined, steps: readonly number[]): number | undefined {
  if (fence === undefined) return undefined;
  if (fence.untilStep !== undefined) return fence.untilStep;
  if (steps.includes(25)) return 25;
  return steps.find((s) => typeof s === 'number' && s >= 25);
}

/** Validates `fence`, each problem naming the prop and the value. */
export function validateFence(problems: PropProblems, prefix: string, fence: unknown, steps: unknown): void {
  if (fence === undefined) return;
  if (typeof fence !== 'object' || fence === null || Array.isArray(fence)) {
    problems.add(`${prefix} fence`, 'an object { consumers, untilStep? }', fence);
    return;
  }
  const f = fence as ConsumerFence;
  for (const key of Object.keys(f)) {
    if (key !== 'consumers' && key !== 'untilStep' && key !== 'maxConcurrency') problems.add(`${prefix} fence.${key}`, 'consumers, untilStep or maxConcurrency (unknown key)', key);
  }
  const consumers = f.consumers as unknown;
  if (!Array.isArray(consumers) || consumers.length === 0) {
    problems.add(`${prefix} fence.consumers`, 'an array of at least one event source mapping', consumers);
  } else {
    consumers.forEach((c, i) => {
      if (typeof c !== 'object' || c === null || typeof (c as lambda.IEventSourceMapping).eventSourceMappingId !== 'string') {
        problems.add(`${prefix} fence.consumers[${i}]`, 'a lambda.IEventSourceMapping', String(c));
      } else if (consumers.indexOf(c) !== i) {
        problems.add(`${prefix} fence.consumers[${i}]`, 'listed once', (c as lambda.IEventSourceMapping).node?.path ?? String(c));
      }
    });
  }
  problems.integer(`${prefix} fence.maxConcurrency`, f.maxConcurrency, 2, 1000);
  const until = f.untilStep as unknown;
  if (until !== undefined) {
    if (typeof until !== 'number' || !Number.isInteger(until) || until < 2 || until > 100) {
      problems.add(`${prefix} fence.untilStep`, 'an integer from 2 to 100', until);
    } else if (Array.isArray(steps) && !steps.includes(until)) {
      problems.add(`${prefix} fence.untilStep`, `one of the steps (${steps.map(String).join(', ')})`, until);
    }
  }
}
