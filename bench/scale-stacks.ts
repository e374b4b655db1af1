import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { CanaryMetrics, DEFAULT_GATE_THRESHOLDS, GuardedAlias, RolloutStrategy } from '../lib';
import { HANDLER_RUNTIME } from '../lib/private/runtime';

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

function newStack(): { app: App; stack: Stack } {
  const app = new App({ context: require('../cdk.json').context });
  const stack = new Stack(app, 'Scale', { env: { account: '123456789012', region: 'eu-west-1' } });
  return { app, stack };
}

function fn(stack: Stack, i: number): lambda.Function {
  return new lambda.Function(stack, `Fn${i}`, {
    runtime: HANDLER_RUNTIME,
    handler: 'index.handler',
    code: lambda.Code.fromInline(`exports.handler = async () => ${i};`),
  });
}

/** `functions` functions, each released through a GuardedAlias with its default (staged) strategy. */
export function guardedAliasStack(functions: number): Stack {
  const { stack } = newStack();
  for (let i = 0; i < functions; i++) new GuardedAlias(stack, `Guarded${i}`, { function: fn(stack, i) });
  return stack;
}

/** The same with CodeDeploy's own 10 % canary for 5 minutes: no staged machinery. */
export function guardedCanaryStack(functions: number): Stack {
  const { stack } = newStack();
  for (let i = 0; i < functions; i++) {
    new GuardedAlias(stack, `Guarded${i}`, { function: fn(stack, i), strategy: RolloutStrategy.canary(10, Duration.minutes(5)) });
  }
  return stack;
}

/**
 * The hand-written CDK pattern: per function, a version, an alias and a `LambdaDeploymentGroup` left to
 * create its own application and service role, watching three gate alarms, one per gate (what a hand-written
 * stack does: it has no gate code to merge them).
 */
export function handWrittenStack(functions: number): Stack {
  const { stack } = newStack();
  for (let i = 0; i < functions; i++) {
    const f = fn(stack, i);
    const alias = new lambda.Alias(stack, `Alias${i}`, { aliasName: 'live', version: f.currentVersion });
    const metrics = new CanaryMetrics({ functionName: f.functionName, aliasName: 'live', canaryVersion: f.currentVersion.version });
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number) => new cloudwatch.Alarm(stack, `${id}${i}`, {
      metric, threshold, evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new codedeploy.LambdaDeploymentGroup(stack, `DeploymentGroup${i}`, {
      alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [
        alarm('ErrorRateDelta', metrics.errorRateDelta(), DEFAULT_GATE_THRESHOLDS.maxErrorRateDelta),
        alarm('P95Ratio', metrics.p95Ratio(), DEFAULT_GATE_THRESHOLDS.maxP95Ratio),
        alarm('ErrorRate', metrics.canaryErrorRate(), DEFAULT_GATE_THRESHOLDS.maxErrorRate),
      ],
    });
  }
  return stack;
}

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

