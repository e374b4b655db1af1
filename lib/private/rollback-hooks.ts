// The rollback hooks of a stack's GuardedAliases (`rollbackHooks`): one function per stack, and per alias with
// hooks one EventBridge rule on its deployment group's FAILURE and STOP. The function reads which version was
// rolled out and its release at run time (lambdas/rollback-hooks), so the hooks learn the release that failed
// even when the stack has been rolled back by the time the event arrives.
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, IConstruct } from 'constructs';
import type { RollbackHooksInput } from 'cdk-rollout-guardrails-runtime/contract';
import { handlerCode } from './assets';
import { failedEvents, machineryFunction } from './machinery';
import { allowVersionConfigReads } from './nag';

const ID = 'RollbackHooks';
/** The CodeDeploy states of a rollout that did not complete: failed (rolled back) or stopped. */
export const ROLLBACK_STATES = ['FAILURE', 'STOP'];

/** What one alias's rollback hooks need. */
export interface RollbackHooksTarget {
  readonly scope: Construct;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  readonly fn: lambda.IFunction;
  readonly aliasName: string;
  readonly hooks: lambda.IFunction[];
}

/** The stack's rollback-hooks function and its dead-letter queue. */
export class RollbackHooks extends Construct {
  /** The stack's RollbackHooks, created on first use. */
  public static of(scope: IConstruct): RollbackHooks {
    const stack = Stack.of(scope);
    return (stack.node.tryFindChild(ID) as RollbackHooks | undefined) ?? new RollbackHooks(stack, ID);
  }

  public readonly function: lambda.Function;
  public readonly failedEvents: sqs.Queue;
  /** ALARM on the first event the function could not process after its retries (a hook that may not have run). */
  public readonly failedEventsAlarm: cloudwatch.Alarm;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    const lost = failedEvents(this, 'rollback hooks');
    this.failedEvents = lost.queue;
    this.failedEventsAlarm = lost.alarm;
    this.function = machineryFunction(this, 'Function', {
      code: handlerCode('rollback-hooks'),
      handler: 'handler',
      description: 'cdk-rollout-guardrails rollback hooks: on a deployment\'s FAILURE or STOP, invoke the alias\'s rollbackHooks with the rolled-back release and its cache namespace',
      timeout: Duration.minutes(1),
      async: { retryAttempts: 2, deadLetterQueue: lost.queue },
    });
  }

  /**
   * Wires one alias: a rule on its deployment group's FAILURE and STOP, to the function with the alias and its
   * hooks; grants reading the group's deployments and AppSpec, the function's versions' configuration (the version
   * rolled out is known only from the deployment) and invoking the hooks.
   */
  public attach(target: RollbackHooksTarget): events.Rule {
    const group = target.deploymentGroup;
    const rule = new events.Rule(target.scope, 'RollbackHooks', {
      description: 'cdk-rollout-guardrails: a deployment of this alias failed or was stopped; run its rollbackHooks',
      eventPattern: {
        source: ['aws.codedeploy'],
        detailType: ['CodeDeploy Deployment State-change Notification'],
        detail: { application: [group.application.applicationName], deploymentGroup: [group.deploymentGroupName], state: ROLLBACK_STATES },
      },
    });
    const input: Record<keyof RollbackHooksInput, unknown> = {
      deploymentId: events.EventField.fromPath('$.detail.deploymentId'),
      state: events.EventField.fromPath('$.detail.state'),
      functionName: target.fn.functionName,
      alias: target.aliasName,
      hooks: target.hooks.map((h) => h.functionArn),
    };
    rule.addTarget(new targets.LambdaFunction(this.function, { event: events.RuleTargetInput.fromObject(input), retryAttempts: 4, deadLetterQueue: this.failedEvents }));
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetDeployment'], resources: [group.deploymentGroupArn] }));
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['codedeploy:GetApplicationRevision'], resources: [group.application.applicationArn] }));
    allowVersionConfigReads(this.function, target.fn, 'The version a failed deployment rolled out is known only from the deployment at run time: reading the configuration (RELEASE_ID) of this function\'s versions, nothing else.');
    // The unqualified functions only, as the handler invokes them (grantInvoke would add `:*`).
    this.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: target.hooks.map((h) => h.functionArn) }));
    return rule;
  }
}
