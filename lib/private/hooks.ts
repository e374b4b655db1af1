import { Annotations, Lazy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { StackRolloutResources } from './stack-resources';

/** The environment variable through which a hook learns the ARN of the version it is there to test. */
export const TARGET_VERSION_ENV = 'GUARDRAILS_TARGET_VERSION_ARN';

/**
 * Lets CodeDeploy's role invoke exactly `hook` (its ARN: CodeDeploy invokes a hook by the name in the alias's
 * update policy). The one grant every lifecycle hook gets, whoever made it.
 */
export function allowCodeDeployToInvoke(serviceRole: iam.IRole, hook: lambda.IFunction): void {
  iam.Grant.addToPrincipal({ grantee: serviceRole, actions: ['lambda:InvokeFunction'], resourceArns: [hook.functionArn] });
}

/** What a user's hook is wired to. */
export interface HookTarget {
  /** The GuardedAlias, for messages. */
  readonly owner: IConstruct;
  readonly version: lambda.IVersion;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  readonly serviceRole: iam.IRole;
}

const HOOK_TARGETS = new WeakMap<lambda.Function, IConstruct>();

/**
 * Wires a user's hook: it tests the new version, so it may invoke exactly that version, and may read and report
 * on its deployment; CodeDeploy's role may invoke exactly the hook. A `lambda.Function` hook also learns the
 * version's ARN from TARGET_VERSION_ENV, unless it serves another alias too (then it is warned to read the
 * deployment instead).
 */
export function wireUserHook(target: HookTarget, hook: lambda.IFunction): void {
  target.version.grantInvoke(hook);
  iam.Grant.addToPrincipal({
    grantee: hook,
    actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'],
    resourceArns: [target.deploymentGroup.deploymentGroupArn],
  });
  allowCodeDeployToInvoke(target.serviceRole, hook);
  if (hook instanceof lambda.Function) {
    const owner = HOOK_TARGETS.get(hook);
    if (owner && owner !== target.owner) {
      Annotations.of(target.owner).addWarningV2('cdk-rollout-guardrails:sharedHook',
        `hook '${hook.node.path}' also serves '${owner.node.path}', so its ${TARGET_VERSION_ENV} points there; read the target version from the deployment (codedeploy:GetDeployment) instead`);
    } else {
      HOOK_TARGETS.set(hook, target.owner);
      hook.addEnvironment(TARGET_VERSION_ENV, target.version.functionArn);
    }
  }
}

/**
 * The alias's deployment group in the stack's CodeDeploy application, rolling back on failure, stop and alarm, and
 * the alias's update policy naming it and the hooks (`hooks()` is read at synth, so hooks set later count). The
 * hooks go into the update policy rather than through the deployment group's addPreHook(), which would also let
 * the shared CodeDeploy role invoke every version of each hook (`<hook>:*`).
 */
export function deploymentGroupFor(scope: Construct, alias: lambda.Alias, deploymentConfig: codedeploy.ILambdaDeploymentConfig,
  alarms: cloudwatch.IAlarm[], hooks: () => { readonly pre?: lambda.IFunction; readonly post?: lambda.IFunction }): codedeploy.LambdaDeploymentGroup {
  const shared = StackRolloutResources.of(Stack.of(scope));
  const group = new codedeploy.LambdaDeploymentGroup(scope, 'DeploymentGroup', {
    application: shared.application, role: shared.serviceRole, alias, deploymentConfig,
    alarms: [...alarms], autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
  });
  const cfnAlias = alias.node.defaultChild as lambda.CfnAlias;
  cfnAlias.cfnOptions.updatePolicy = {
    ...cfnAlias.cfnOptions.updatePolicy,
    codeDeployLambdaAliasUpdate: {
      applicationName: shared.application.applicationName,
      deploymentGroupName: group.deploymentGroupName,
      beforeAllowTrafficHook: Lazy.uncachedString({ produce: () => hooks().pre?.functionName }),
      afterAllowTrafficHook: Lazy.uncachedString({ produce: () => hooks().post?.functionName }),
    },
  };
  return group;
}
