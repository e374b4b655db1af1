import { App, Stack } from 'aws-cdk-lib';
import * as library from '../lib';
import * as builders from './scale-builders';

/** CloudFormation's limit of resources per stack. */
export const STACK_RESOURCE_LIMIT = 500;


export interface ScaleFigures {
  readonly functions: number;
  readonly total: number;
  readonly perFunction: number;
  /** Resources for rolling out, per function: everything but the released functions' own (function, role, log group). */
  readonly rolloutPerFunction: number;
  readonly byType: Record<string, number>;
  /** The template's size, in bytes of JSON without indentation (CloudFormation takes at most 1 MB from S3). */
  readonly templateBytes: number;
}

/** CloudFormation's largest template, uploaded through S3: 1 MB. */
export const TEMPLATE_SIZE_LIMIT = 1_000_000;

/** `functions` functions, each released through a GuardedAlias with its default (staged) strategy. */
export const guardedAliasStack = (functions: number): Stack => builders.guardedAliasStack(library, functions);
/** The same with CodeDeploy's own 10 % canary for 5 minutes: no staged machinery. */
export const guardedCanaryStack = (functions: number): Stack => builders.guardedCanaryStack(library, functions);
/** The hand-written CDK pattern (bench/scale-builders.ts). */
export const handWrittenStack = (functions: number): Stack => builders.handWrittenStack(library, functions);

/** Counts the resources of `stack`'s template. */
export function figures(stack: Stack, functions: number): ScaleFigures {
  const template = (App.of(stack) as App).synth().getStackByName(stack.stackName).template;
  const resources: Record<string, { Type: string; Properties?: any }> = template.Resources;
  const byType: Record<string, number> = {};
  let own = 0;
  for (const [logicalId, r] of Object.entries(resources)) {
    byType[r.Type] = (byType[r.Type] ?? 0) + 1;
    // The released functions are Fn0, Fn1, ...: their Function, ServiceRole and LogGroup are not rollout cost.
    if (/^Fn\d+(ServiceRole|LogGroup)?[0-9A-F]{8}$/.test(logicalId)) own++;
  }
  const total = Object.keys(resources).length;
  return { functions, total, perFunction: total / functions, rolloutPerFunction: (total - own) / functions, byType, templateBytes: JSON.stringify(template).length };
}

/** Synth timings of several builders, taken in turns. */
export interface SynthTimings {
  /** Seconds per function for each builder: the median of its rounds. */
  readonly perFunction: number[];
  /** Seconds per function for each builder in each round (`rounds[r][b]`). */
  readonly rounds: number[][];
}

/**
 * Seconds to build and synthesise a stack of `functions` functions, per function, for each builder: `runs`
 * rounds, each timing every builder once in turn (so that load from elsewhere on the machine falls on all of
 * them alike), after one untimed round (which pays for loading and JIT-compiling aws-cdk-lib and this library).
 */
export function synthSecondsPerFunction(builds: ReadonlyArray<(n: number) => Stack>, functions: number, runs = 5): SynthTimings {
  for (const build of builds) figures(build(functions), functions);
  const rounds: number[][] = [];
  for (let r = 0; r < runs; r++) {
    rounds.push(builds.map((build) => {
      const started = process.hrtime.bigint();
      figures(build(functions), functions);
      return Number(process.hrtime.bigint() - started) / 1e9 / functions;
    }));
  }
  return { perFunction: builds.map((_, i) => median(rounds.map((round) => round[i]))), rounds };
}

/** The middle value (the upper of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** The most functions one stack holds under CloudFormation's limit, found by doubling then bisecting. */
export function maxFunctionsPerStack(build: (n: number) => Stack): number {
  const fits = (n: number) => {
    try {
      return figures(build(n), n).total <= STACK_RESOURCE_LIMIT;
    } catch (e) {
      // aws-cdk-lib refuses to synthesise a stack past the limit.
      if (/TooManyResourcesInStack|greater than allowed maximum/.test(String((e as Error).message))) return false;
      throw e;
    }
  };
  let lo = 1;
  let hi = 2;
  while (fits(hi)) { lo = hi; hi *= 2; }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid; else hi = mid;
  }
  return lo;
}

