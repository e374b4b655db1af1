// The seed's stop at 1 %: "a new 5xx class appears" (canary_release_serverless.md). The runtime's withRelease
// telemetry counts each failed invocation under its error class (`ErrorsByClass` by function, revision and class:
// packages/runtime/src/contract/telemetry.ts); the gate reads every class's sum for the new version over the window,
// and for the current version over the window and the hour before it (CONTROL_BASELINE_SECONDS), and fails the
// check on a class the new version shows and the current one does not. The hour keeps a rare class of the current
// version (one 500 an hour) from passing for new when a window of equal traffic (at 50 %) happened to miss it.
import type { MetricDataQuery, MetricDataResult } from '@aws-sdk/client-cloudwatch';
import { Check, ERROR_CLASSES, TELEMETRY_NAMESPACE } from 'cdk-rollout-guardrails-runtime/contract';

/** The error classes each version showed in the window (a sum above 0). */
export interface ErrorClassesSeen {
  readonly canary: readonly string[];
  readonly control: readonly string[];
}

/** How far back before the window the current version's classes count: an hour. */
export const CONTROL_BASELINE_SECONDS = 3600;

/**
 * The GetMetricData queries of one version's error classes, one sum each over `periodSeconds`: `xc<i>` for the new
 * version (`side` c), `xk<i>` for the current one (k).
 */
export function errorClassQueries(functionName: string, side: 'c' | 'k', version: string, periodSeconds: number): MetricDataQuery[] {
  return ERROR_CLASSES.map((errorClass, i) => ({
    Id: `x${side}${i}`,
    MetricStat: {
      Metric: {
        Namespace: TELEMETRY_NAMESPACE,
        MetricName: 'ErrorsByClass',
        Dimensions: [
          { Name: 'FunctionName', Value: functionName },
          { Name: 'Revision', Value: version },
          { Name: 'ErrorClass', Value: errorClass },
        ],
      },
      Period: periodSeconds,
      Stat: 'Sum',
    },
    ReturnData: true,
  }));
}

/** The classes one version showed (a sum above 0), from a GetMetricData answer to its `errorClassQueries`. */
export function errorClassesOf(side: 'c' | 'k', results: readonly MetricDataResult[] | undefined): string[] {
  return ERROR_CLASSES.filter((_, i) => (results?.find((r) => r.Id === `x${side}${i}`)?.Values ?? []).some((v) => v > 0));
}

/** The `newErrorClass` check: passes when every class the new version showed, the current one showed too. */
export function newErrorClassCheck(seen: ErrorClassesSeen): Check {
  const fresh = seen.canary.filter((c) => !seen.control.includes(c));
  const shown = (classes: readonly string[]) => (classes.length > 0 ? classes.join(', ') : 'none');
  return {
    name: 'newErrorClass',
    measured: fresh.length,
    threshold: 0,
    passed: fresh.length === 0,
    reason: fresh.length === 0
      ? `no new error class: the new version showed ${shown(seen.canary)}, the current version ${shown(seen.control)}`
      : `new error class${fresh.length === 1 ? '' : 'es'} ${fresh.join(', ')}: shown by the new version, not by the current one in the window and the hour before (it showed ${shown(seen.control)})`,
  };
}
