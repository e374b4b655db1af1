// Rollout notifications of one GuardedAlias: CodeDeploy's deployment state changes (start, success,
// failure, stop) through an EventBridge rule, and the gate alarms' state changes through alarm actions, both
// to the alias's SNS topic as JSON. The staged state machine publishes its gate decisions itself (see
// StagedRollout's `notifications`).
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { NOTIFICATION_SOURCE } from 'cdk-rollout-guardrails-runtime/contract';

/** CodeDeploy's deployment states the rule forwards: a rollout started, succeeded, failed (rolled back) or was stopped. */
export const DEPLOYMENT_STATES = ['START', 'SUCCESS', 'FAILURE', 'STOP'];

export interface RolloutNotificationsProps {
  readonly topic: sns.ITopic;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  readonly functionName: string;
  readonly aliasName: string;
  /** The release the deployment ships (RELEASE_ID). */
  readonly releaseId: string;
  /** A description of the strategy, e.g. `staged 1 → 5 → 25 → 50 → 100 %, …`. */
  readonly strategy: string;
  /** The thresholds in force, carried in every deployment message. */
  readonly thresholds: Record<string, number>;
  /** Alarms whose ALARM and OK transitions are published (CloudWatch's own JSON: values, threshold, reason). */
  readonly alarms: cloudwatch.IAlarm[];
}

/**
 * Wires one alias's notifications. The deployment messages are JSON:
 * `{ source, event: 'deployment', state: START | SUCCESS | FAILURE | STOP, strategy, deploymentId, application,
 * deploymentGroup, functionName, alias, releaseId, time, thresholds }`; a gate alarm's message is CloudWatch's alarm notification (its `Trigger`
 * holds the threshold, its `NewStateReason` the datapoints that crossed it). The three metric gates share one
 * alarm whose value is a gate code, so the datapoint in `NewStateReason` names the gates that breached (1 error
 * rate delta, 2 p95 ratio, 4 error rate, summed: `ReleaseGates.gatesOf()`), and `AlarmDescription` spells the
 * codes out with their thresholds (docs/aws-behaviour.md CW-10).
 */
export class RolloutNotifications extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RolloutNotificationsProps) {
    super(scope, id);
    const group = props.deploymentGroup;
    this.rule = new events.Rule(this, 'DeploymentEvents', {
      description: 'cdk-rollout-guardrails: deployment started, succeeded, failed or stopped, to the alias\'s notifications topic',
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: {
          application: [group.application.applicationName],
          deploymentGroup: [group.deploymentGroupName],
          state: DEPLOYMENT_STATES,
        },
      },
    });
    this.rule.addTarget(new targets.SnsTopic(props.topic, {
      message: events.RuleTargetInput.fromObject({
        source: NOTIFICATION_SOURCE,
        event: 'deployment',
        state: events.EventField.fromPath('$.detail.state'),
        strategy: props.strategy,
        deploymentId: events.EventField.fromPath('$.detail.deploymentId'),
        application: events.EventField.fromPath('$.detail.application'),
        deploymentGroup: events.EventField.fromPath('$.detail.deploymentGroup'),
        functionName: props.functionName,
        alias: props.aliasName,
        releaseId: props.releaseId,
        time: events.EventField.time,
        thresholds: props.thresholds,
      }),
    }));
    const action = new cwActions.SnsAction(props.topic);
    for (const alarm of props.alarms) {
      if (alarm instanceof cloudwatch.Alarm) {
        alarm.addAlarmAction(action);
        alarm.addOkAction(action);
      }
    }
  }
}
