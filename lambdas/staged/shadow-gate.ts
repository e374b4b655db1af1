// The staged machine's stage 0 (GuardedAlias `requireShadow`): before the warm-up, the first probe and any
// shift, the gate function judges the release's shadow record. Passed: `start` (the machine goes on to the
// warm-up and the first probe with the gate's progress untouched). Refused: `rollback` at weight 0, which the
// machine's rollback path turns into a reset of the (untouched) routing, the published decision and Failed.
import { INITIAL_PROGRESS, ShadowPromotionVerdict } from 'cdk-rollout-guardrails-runtime/contract';
import { functionNameOf } from '../shared/lambda-metrics';
import { shadowNotification } from '../shared/shadow-promotion';
import type { GateEvent, GateOutput, MetricDatum } from './gate';

/** Plans the machine's move after the shadow check. Pure. */
export function planShadowStep(event: GateEvent, verdict: ShadowPromotionVerdict): GateOutput {
  const config = event.config.shadowPromotion!;
  const functionName = functionNameOf(event.target.functionName);
  const dimensions = [{ Name: 'FunctionName', Value: functionName }, { Name: 'Alias', Value: event.target.alias }];
  const reasons = verdict.passed ? [verdict.summary] : verdict.checks.filter((c) => c.passed !== true).map((c) => c.reason);
  return {
    next: verdict.passed ? 'start' : 'rollback',
    decision: verdict.passed ? 'advance' : 'rollback',
    reasons,
    gates: verdict.checks,
    // The first real gate starts where the machine's Init left it: at the first step, nothing counted.
    progress: event.progress ?? INITIAL_PROGRESS,
    routing: { AdditionalVersionWeights: {} },
    weight: 0,
    waitSeconds: 0,
    probeQuestions: null,
    probeStopRules: null,
    metricData: [
      { MetricName: 'TrafficWeight', Value: 0, Unit: 'Percent', Dimensions: dimensions },
      { MetricName: 'ShadowPromotion', Value: verdict.passed ? 1 : 0, Unit: 'None', Dimensions: dimensions },
      ...verdict.checks.filter((c) => c.passed !== null).map((c): MetricDatum => ({
        MetricName: 'GatePassed', Value: c.passed ? 1 : 0, Unit: 'None', Dimensions: [...dimensions, { Name: 'Gate', Value: c.name }],
      })),
    ],
    ...(event.config.topicArn !== undefined ? {
      notification: shadowNotification(verdict, config, {
        strategy: 'staged', deploymentId: event.deployment.deploymentId, functionName, alias: event.target.alias,
      }),
    } : {}),
  };
}
