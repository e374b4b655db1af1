// The gates' traffic under sticky cohorts (StagedAliasConfig.cohort). The live alias stays on the current version,
// and every request of the cohort enters through it and is forwarded to the canary alias (the runtime's
// stickyCohorts wrapper): one invocation of the live alias and one of the canary alias, or a throttle of the canary
// alias, and the wrapper throws when the forward fails, so the live alias counts the failure as an error too.
// - The new version: the canary alias's Invocations and Errors (Resource = <function>:<canary alias>, by
//   ExecutedVersion, LAM-3), with its Throttles (by Resource alone: a throttled call ran no version) counted as both.
// - The current version: the live alias's less the canary alias's (what the forwards added to it).
// - p95 of both from the runtime's release telemetry (`Latency` by FunctionName, ReleaseId and Revision), recorded by
//   the version that served the request: the live alias's own Duration includes each forward's wait.
import type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { StagedExecutionInput, TELEMETRY_NAMESPACE } from 'cdk-rollout-guardrails-runtime/contract';
import { executedVersionQuery, functionNameOf } from '../shared/lambda-metrics';
import type { VersionTraffic } from './gate-engine';

/** The p95 of one version's `Latency` telemetry under its release. */
function latencyQuery(id: string, functionName: string, releaseId: string, version: string, periodSeconds: number): MetricDataQuery {
  return {
    Id: id,
    MetricStat: {
      Metric: {
        Namespace: TELEMETRY_NAMESPACE,
        MetricName: 'Latency',
        Dimensions: [{ Name: 'FunctionName', Value: functionName }, { Name: 'ReleaseId', Value: releaseId }, { Name: 'Revision', Value: version }],
      },
      Period: periodSeconds,
      Stat: 'p95',
    },
    ReturnData: true,
  };
}

/**
 * The queries of one window: `ci`, `ce`, `ct` (the canary alias), `li`, `le` (the live alias), and `cp`, `kp` (each
 * version's p95, for a version whose release is known: `releases` is [new, current]).
 */
export function cohortTrafficQueries(event: StagedExecutionInput, periodSeconds: number, releases: ReadonlyArray<string | undefined>): MetricDataQuery[] {
  const cohort = event.config.cohort!;
  const { target } = event;
  const fn = functionNameOf(target.functionName);
  const canary = { functionName: target.functionName, alias: cohort.canaryAlias };
  const queries: MetricDataQuery[] = [
    executedVersionQuery('ci', canary, target.targetVersion, 'Invocations', 'Sum', periodSeconds),
    executedVersionQuery('ce', canary, target.targetVersion, 'Errors', 'Sum', periodSeconds),
    {
      Id: 'ct',
      MetricStat: {
        Metric: { Namespace: 'AWS/Lambda', MetricName: 'Throttles', Dimensions: [{ Name: 'FunctionName', Value: fn }, { Name: 'Resource', Value: `${fn}:${cohort.canaryAlias}` }] },
        Period: periodSeconds,
        Stat: 'Sum',
      },
      ReturnData: true,
    },
    executedVersionQuery('li', target, target.currentVersion, 'Invocations', 'Sum', periodSeconds),
    executedVersionQuery('le', target, target.currentVersion, 'Errors', 'Sum', periodSeconds),
  ];
  if (releases[0]) queries.push(latencyQuery('cp', fn, releases[0], target.targetVersion, periodSeconds));
  if (releases[1]) queries.push(latencyQuery('kp', fn, releases[1], target.currentVersion, periodSeconds));
  return queries;
}

/**
 * Each version's traffic from the answer: undefined for a side with no datapoint at all (no data). The current
 * version's counts never go below zero (the two aliases' datapoints can straddle a period's edge).
 */
export function cohortTraffic(results: readonly MetricDataResult[] | undefined): { canary?: VersionTraffic; control?: VersionTraffic } {
  const value = (id: string) => results?.find((r) => r.Id === id)?.Values?.[0];
  const [ci, ce, ct, li, le] = ['ci', 'ce', 'ct', 'li', 'le'].map(value);
  const canary: VersionTraffic | undefined = ci === undefined && ct === undefined
    ? undefined
    : { invocations: (ci ?? 0) + (ct ?? 0), errors: (ce ?? 0) + (ct ?? 0), p95Ms: value('cp') };
  const control: VersionTraffic | undefined = li === undefined
    ? undefined
    : {
      invocations: Math.max(0, li - (ci ?? 0) - (ct ?? 0)),
      errors: Math.max(0, (le ?? 0) - (ce ?? 0) - (ct ?? 0)),
      p95Ms: value('kp'),
    };
  return { canary, control };
}
