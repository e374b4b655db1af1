import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import type { ProvisionedWarmup } from '../provisioned-warmup';
import { acknowledgeGuard, GATE_ALARM_REASON } from './guard';

/** A gate alarm's own parts; the rest is the same for every gate. */
export interface GateAlarmProps {
  readonly metric: cloudwatch.IMetric;
  /** The alarm is in ALARM while the metric is above this (or at it, with `comparison` GREATER_THAN_OR_EQUAL_TO_THRESHOLD). */
  readonly threshold: number;
  /** @default GREATER_THAN_THRESHOLD */
  readonly comparison?: cloudwatch.ComparisonOperator;
  /** Breaching datapoints, out of as many periods, that put the alarm in ALARM. */
  readonly datapoints: number;
  readonly description: string;
}

/**
 * The one way this library makes a gate alarm: above (or at) the threshold for `datapoints` periods in a row, missing
 * data never breaching (a quiet alias is judged by the no-data policy, not by its alarm), no alarm actions
 * (CodeDeploy polls it; cfn-guard's action check is acknowledged with the reason).
 */
export function gateAlarm(scope: Construct, id: string, props: GateAlarmProps): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric: props.metric,
    threshold: props.threshold,
    comparisonOperator: props.comparison ?? cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: props.datapoints,
    datapointsToAlarm: props.datapoints,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: props.description,
  });
  acknowledgeGuard(alarm, 'cloudwatch_alarm_action_check', GATE_ALARM_REASON);
  return alarm;
}

/** The cold-start gate: the new release's cold-start share (withRelease telemetry, warm pings excluded) in a minute. */
export function coldStartGate(scope: Construct, warmup: ProvisionedWarmup, releaseId: string, threshold: number): cloudwatch.Alarm {
  return gateAlarm(scope, 'ColdStartShare', {
    metric: warmup.metricColdStartShare(releaseId, { period: Duration.minutes(1) }), threshold, datapoints: 1,
    description: `cdk-rollout-guardrails cold-start gate of ${scope.node.path}: the new release's cold-start share (withRelease telemetry, warm pings excluded) > ${threshold}`,
  });
}
