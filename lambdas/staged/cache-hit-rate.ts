// The seed's "cache hit does not regress more than five points after namespace split" (canary_release_serverless.md)
// as an opt-in staged gate: the new version's cache hit rate over the window against the current version's, each
// from the runtime's reportCacheLookup telemetry (CacheLookups and CacheHits by FunctionName, ReleaseId and
// Revision). The gate learns each version's release from its RELEASE_ID (GetFunctionConfiguration on the version).
import type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Check, RELEASE_ID_ENV, StagedCacheHitRateConfig, TELEMETRY_NAMESPACE } from 'cdk-rollout-guardrails-runtime/contract';

/** One version's cache lookups and hits over the window. */
export interface CacheTraffic {
  readonly lookups: number;
  readonly hits: number;
}

/** The release (RELEASE_ID) a version carries; undefined when it has none. */
export async function releaseIdOf(client: LambdaClient, functionName: string, version: string): Promise<string | undefined> {
  const configuration = await client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
  return configuration.Environment?.Variables?.[RELEASE_ID_ENV];
}

/** The two sums of one version (`side` c: new, k: current): `hcl`/`hch` and `hkl`/`hkh`. */
export function cacheQueries(functionName: string, side: 'c' | 'k', releaseId: string, version: string, periodSeconds: number): MetricDataQuery[] {
  return (['CacheLookups', 'CacheHits'] as const).map((metricName) => ({
    Id: `h${side}${metricName === 'CacheLookups' ? 'l' : 'h'}`,
    MetricStat: {
      Metric: {
        Namespace: TELEMETRY_NAMESPACE,
        MetricName: metricName,
        Dimensions: [{ Name: 'FunctionName', Value: functionName }, { Name: 'ReleaseId', Value: releaseId }, { Name: 'Revision', Value: version }],
      },
      Period: periodSeconds,
      Stat: 'Sum',
    },
    ReturnData: true,
  }));
}

/** A version's lookups and hits from a GetMetricData answer (no datapoint: none). */
export function cacheTrafficOf(side: 'c' | 'k', results: readonly MetricDataResult[] | undefined): CacheTraffic {
  const sum = (id: string) => (results?.find((r) => r.Id === id)?.Values ?? []).reduce((a, b) => a + b, 0);
  return { lookups: sum(`h${side}l`), hits: sum(`h${side}h`) };
}

const points = (x: number) => `${Number((x * 100).toFixed(2))} %`;

/**
 * The `cacheHitRate` check: the current version's hit rate minus the new version's, in percentage points, at most
 * `maxRegressionPoints`; not judged (`passed: null`, no data) while either version made fewer than `minLookups`.
 */
export function cacheHitRateCheck(canary: CacheTraffic | undefined, control: CacheTraffic | undefined, rule: StagedCacheHitRateConfig): Check {
  if (!canary || !control || canary.lookups < rule.minLookups || control.lookups < rule.minLookups) {
    return {
      name: 'cacheHitRate', measured: null, threshold: rule.maxRegressionPoints, passed: null,
      reason: `cache hit rate: no data (lookups in the window: new ${canary?.lookups ?? 'unknown'}, current ${control?.lookups ?? 'unknown'}; at least ${rule.minLookups} each to judge)`,
    };
  }
  const fresh = canary.hits / canary.lookups;
  const current = control.hits / control.lookups;
  const regression = (current - fresh) * 100;
  const passed = regression <= rule.maxRegressionPoints + 1e-9;
  return {
    name: 'cacheHitRate',
    measured: regression,
    threshold: rule.maxRegressionPoints,
    passed,
    reason: `cache hit rate of the new version ${points(fresh)} against the current ${points(current)}: ${Number(regression.toFixed(2))} points ${passed ? '≤' : '>'} ${rule.maxRegressionPoints}`,
  };
}
