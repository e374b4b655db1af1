// What a GuardedAlias wires on its rollouts' events: the notifications to its topic, and its rollback hooks.
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { alarmTo } from './machinery';
import { RolloutNotifications } from './notifications';
import { RollbackHooks } from './rollback-hooks';

/** One alias's rollout events. */
export interface RolloutEventsProps {
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  readonly fn: lambda.IFunction;
  readonly aliasName: string;
  readonly releaseId: string;
  readonly strategy: string;
  readonly thresholds: Record<string, number>;
  readonly alarms: cloudwatch.IAlarm[];
  readonly notifications?: sns.ITopic;
  readonly rollbackHooks?: lambda.IFunction[];
}

/** Wires the alias's notifications (if it has a topic) and its rollback hooks (if it has any). */
export function wireRolloutEvents(scope: Construct, props: RolloutEventsProps): void {
  if (props.notifications) {
    new RolloutNotifications(scope, 'Notifications', {
      topic: props.notifications, deploymentGroup: props.deploymentGroup, functionName: props.fn.functionName, aliasName: props.aliasName,
      releaseId: props.releaseId, strategy: props.strategy, thresholds: props.thresholds, alarms: props.alarms,
    });
  }
  if (props.rollbackHooks && props.rollbackHooks.length > 0) {
    const hooks = RollbackHooks.of(scope);
    hooks.attach({ scope, deploymentGroup: props.deploymentGroup, fn: props.fn, aliasName: props.aliasName, hooks: props.rollbackHooks });
    // A hook that may not have run is news for the people the alias's notifications go to.
    if (props.notifications) alarmTo(hooks.failedEventsAlarm, props.notifications);
  }
}
