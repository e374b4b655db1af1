// The stacks bench:resources measures, built with whichever copy of the library the caller gives: the TypeScript
// source in-process (bench/scale-stacks.ts), the compiled dist/ in a cold process (bench/cold-synth.ts). Nothing of
// the library is loaded here (but the functions' runtime), so that a cold process loads only what its pattern uses.
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as Library from '../lib';
import { HANDLER_RUNTIME } from '../lib/private/runtime';

/** The parts of the library the GuardedAlias stacks use. */
export type GuardedLibrary = Pick<typeof Library, 'GuardedAlias' | 'RolloutStrategy'>;
/** The parts the hand-written stack uses: the metric math and the thresholds a hand-written stack would hold itself. */
export type HandWrittenLibrary = Pick<typeof Library, 'CanaryMetrics' | 'DEFAULT_GATE_THRESHOLDS'>;

function newStack(): Stack {
  const app = new App({ context: require('../cdk.json').context });
  return new Stack(app, 'Scale', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function fn(stack: Stack, i: number): lambda.Function {
  return new lambda.Function(stack, `Fn${i}`, {
    runtime: HANDLER_RUNTIME,
    handler: 'index.handler',
    code: lambda.Code.fromInline(`exports.handler = async () => ${i};`),
  });
}

/** `functions` functions, each released through a GuardedAlias with its default (staged) strategy. */
export function guardedAliasStack(lib: GuardedLibrary, functions: number): Stack {
  const stack = newStack();
  for (let i = 0; i < functions; i++) new lib.GuardedAlias(stack, `Guarded${i}`, { function: fn(stack, i) });
  return stack;
}

/** The same with CodeDeploy's own 10 % canary for 5 minutes: no staged machinery. */
export function guardedCanaryStack(lib: GuardedLibrary, functions: number): Stack {
  const stack = newStack();
  for (let i = 0; i < functions; i++) {
    new lib.GuardedAlias(stack, `Guarded${i}`, { function: fn(stack, i), strategy: lib.RolloutStrategy.canary(10, Duration.minutes(5)) });
  }
  return stack;
}

/**
 * The hand-written CDK pattern: per function, a version, an alias and a `LambdaDeploymentGroup` left to
 * create its own application and service role, watching three gate alarms, one per gate (what a hand-written
 * stack does: it has no gate code to merge them).
 */
export function handWrittenStack(lib: HandWrittenLibrary, functions: number): Stack {
  const stack = newStack();
  const thresholds = lib.DEFAULT_GATE_THRESHOLDS;
  for (let i = 0; i < functions; i++) {
    const f = fn(stack, i);
    const alias = new lambda.Alias(stack, `Alias${i}`, { aliasName: 'live', version: f.currentVersion });
    const metrics = new lib.CanaryMetrics({ functionName: f.functionName, aliasName: 'live', canaryVersion: f.currentVersion.version });
    const alarm = (id: string, metric: cloudwatch.IMetric, threshold: number) => new cloudwatch.Alarm(stack, `${id}${i}`, {
      metric, threshold, evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new codedeploy.LambdaDeploymentGroup(stack, `DeploymentGroup${i}`, {
      alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [
        alarm('ErrorRateDelta', metrics.errorRateDelta(), thresholds.maxErrorRateDelta),
        alarm('P95Ratio', metrics.p95Ratio(), thresholds.maxP95Ratio),
        alarm('ErrorRate', metrics.canaryErrorRate(), thresholds.maxErrorRate),
      ],
    });
  }
  return stack;
}
