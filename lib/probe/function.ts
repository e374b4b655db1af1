// The ΔS probe's function: the hook CodeDeploy runs, with its configuration and gold set in its code asset,
// and the grants every probe needs whatever it is bound to (its metrics, its embedder).
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { acknowledgeGuard, logsEncryptedReason, NO_VPC_REASON } from '../private/guard';
import { acknowledgeManagedPolicy } from '../private/nag';
import { probeCode } from '../private/probe-asset';
import { HANDLER_RUNTIME } from '../private/runtime';
import { ProbeSettings } from './validate-props';
import { dropRedundantRoleDependency } from '../private/lint';

/** The probe function, `Function` in `scope`, that runs `timeoutSeconds` at most. */
export function probeFunction(scope: Construct, settings: ProbeSettings, options: { readonly memorySize?: number; readonly timeoutSeconds: number }): lambda.Function {
  const { config, gold } = settings;
  const invocations = 2 * config.seeds * gold.items.reduce((n, item) => n + 1 + item.paraphrases.length, 0);
  const fn = new lambda.Function(scope, 'Function', {
    runtime: HANDLER_RUNTIME,
    handler: 'index.handler',
    code: probeCode(JSON.stringify(config), gold.jsonl),
    memorySize: options.memorySize ?? 512,
    // The last call may start at the end of the budget and run its invokeTimeout; then the report.
    timeout: Duration.seconds(options.timeoutSeconds),
    // CodeDeploy invokes hooks asynchronously (CD-3): a crashed run is retried (LAM-5). A retry of a run that had
    // reported finds the hook already completed, which the hook takes as done (lambdas/shared/hook-kit.ts).
    retryAttempts: 2,
    // X-Ray traces each probe run (Lambda samples the first request a second and 5 % of the rest).
    tracing: lambda.Tracing.ACTIVE,
    description: `cdk-rollout-guardrails ΔS probe: ${gold.items.length} gold questions, ${invocations} invocations per run`,
  });
  dropRedundantRoleDependency(fn);
  acknowledgeManagedPolicy(fn, 'service-role/AWSLambdaBasicExecutionRole',
    'It only lets the probe write its own CloudWatch Logs (the JSON report); its other permissions are scoped grants.');
  // PutMetricData has no resource-level permissions; the condition keeps the probe to its own namespace.
  fn.addToRolePolicy(new iam.PolicyStatement({
    actions: ['cloudwatch:PutMetricData'],
    resources: ['*'],
    conditions: { StringEquals: { 'cloudwatch:namespace': config.metricNamespace } },
  }));
  if (config.embedder?.kind === 'bedrock') {
    const modelId = config.embedder.modelId;
    fn.addToRolePolicy(new iam.PolicyStatement({
      actions: ['bedrock:InvokeModel'],
      resources: [modelId.startsWith('arn:') ? modelId : Stack.of(scope).formatArn({ service: 'bedrock', account: '', resource: 'foundation-model', resourceName: modelId })],
    }));
  }
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
    reason: 'cloudwatch:PutMetricData supports no resource-level permissions; the statement is conditioned on the probe\'s own namespace (cloudwatch:namespace). '
      + 'xray:PutTraceSegments and xray:PutTelemetryRecords (active tracing) support no resource-level permissions either.',
  });
  acknowledgeGuard(fn, 'lambda_inside_vpc_check', NO_VPC_REASON);
  acknowledgeGuard(fn, 'cloudwatch_log_group_encrypted_check', logsEncryptedReason('The probe\'s log group (its JSON reports)'));
  return fn;
}
