// Shared by the probe hook, the staged gate and the blue-green worker; esbuild bundles it into each.
import { MetricDataQuery } from '@aws-sdk/client-cloudwatch';

/** The function's name from a name or an ARN (qualified or not). */
export function functionNameOf(nameOrArn: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(nameOrArn);
  return arn ? arn[1] : nameOrArn.split(':')[0];
}

/**
 * One GetMetricData query of an AWS/Lambda metric of one version as served through an alias: by
 * `ExecutedVersion` under `Resource = <function>:<alias>`.
 */
export function executedVersionQuery(
  id: string,
  target: { readonly functionName: string; readonly alias: string },
  version: string,
  metric: string,
  stat: string,
  periodSeconds: number,
): MetricDataQuery {
  const fn = functionNameOf(target.functionName);
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: 'AWS/Lambda',
        MetricName: metric,
        Dimensions: [
          { Name: 'FunctionName', Value: fn },
          { Name: 'Resource', Value: `${fn}:${target.alias}` },
          { Name: 'ExecutedVersion', Value: version },
        ],
      },
      Period: periodSeconds,
      Stat: stat,
    },
    ReturnData: true,
  };
}
