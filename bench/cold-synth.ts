// One `cdk synth` as a user's app runs it: a fresh process that loads aws-cdk-lib and the compiled library
// (dist/, as installed from npm), builds a stack of 30 guarded functions and synthesises it once. Run by
// bench/resources.ts in child processes, one per pattern and round; prints the milliseconds from before the
// first require to the end of the synth.
//
// Everything is required after the clock starts (an `import` would be hoisted above it).
/* eslint-disable @typescript-eslint/no-require-imports */
const started = process.hrtime.bigint();
process.env.CDK_VALIDATION = 'false';
const { App, Duration, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda') as typeof import('aws-cdk-lib/aws-lambda');

const pattern = process.argv[2];
const functions = Number(process.argv[3] ?? 30);
const app = new App({ context: require('../cdk.json').context });
const stack = new Stack(app, 'Scale', { env: { account: '123456789012', region: 'eu-west-1' } });
const fn = (i: number) => new lambda.Function(stack, `Fn${i}`, {
  runtime: lambda.Runtime.NODEJS_20_X, handler: 'index.handler', code: lambda.Code.fromInline(`exports.handler = async () => ${i};`),
});

if (pattern === 'staged' || pattern === 'canary') {
  const { GuardedAlias, RolloutStrategy } = require('../dist/lib') as typeof import('../lib');
  for (let i = 0; i < functions; i++) {
    new GuardedAlias(stack, `Guarded${i}`, { function: fn(i), strategy: pattern === 'canary' ? RolloutStrategy.canary(10, Duration.minutes(5)) : undefined });
  }
} else if (pattern === 'hand-written') {
  // The pattern of bench/scale-stacks.ts handWrittenStack. Its metric math is the library's CanaryMetrics, loaded
  // on its own: the code a hand-written stack would hold itself, not the library.
  const cloudwatch = require('aws-cdk-lib/aws-cloudwatch') as typeof import('aws-cdk-lib/aws-cloudwatch');
  const codedeploy = require('aws-cdk-lib/aws-codedeploy') as typeof import('aws-cdk-lib/aws-codedeploy');
  const { CanaryMetrics } = require('../dist/lib/canary-metrics') as typeof import('../lib/canary-metrics');
  for (let i = 0; i < functions; i++) {
    const f = fn(i);
    const alias = new lambda.Alias(stack, `Alias${i}`, { aliasName: 'live', version: f.currentVersion });
    const metrics = new CanaryMetrics({ functionName: f.functionName, aliasName: 'live', canaryVersion: f.currentVersion.version });
    const alarm = (id: string, metric: import('aws-cdk-lib/aws-cloudwatch').IMetric, threshold: number) => new cloudwatch.Alarm(stack, `${id}${i}`, {
      metric, threshold, evaluationPeriods: 1, treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new codedeploy.LambdaDeploymentGroup(stack, `DeploymentGroup${i}`, {
      alias,
      deploymentConfig: codedeploy.LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      alarms: [alarm('ErrorRateDelta', metrics.errorRateDelta(), 0.0005), alarm('P95Ratio', metrics.p95Ratio(), 1.1), alarm('ErrorRate', metrics.canaryErrorRate(), 0.01)],
    });
  }
} else {
  throw new Error(`bench/cold-synth.ts: the pattern must be staged, canary or hand-written, got: ${pattern}`);
}
app.synth();
console.log(Number(process.hrtime.bigint() - started) / 1e6);
