import { Stack } from 'aws-cdk-lib';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeManagedPolicy } from './nag';

const ID = 'RolloutGuardrails';

/**
 * What every GuardedAlias in a stack shares: one CodeDeploy application, one service role, and one custom
 * deployment configuration per distinct shape. Sharing keeps the per-function cost low (a stack holds
 * 500 resources) and custom configurations few (they are limited per account).
 */
export class StackRolloutResources extends Construct {
  /** The stack's shared resources, created on first use. */
  public static of(stack: Stack): StackRolloutResources {
    const existing = stack.node.tryFindChild(ID);
    if (existing instanceof StackRolloutResources) return existing;
    return new StackRolloutResources(stack, ID);
  }

  public readonly application: codedeploy.LambdaApplication;
  public readonly serviceRole: iam.Role;
  private readonly configs = new Map<string, codedeploy.ILambdaDeploymentConfig>();
  private readonly configScope: Construct;

  private constructor(scope: Stack, id: string) {
    super(scope, id);
    this.application = new codedeploy.LambdaApplication(this, 'Application');
    // Each deployment group adds AWSCodeDeployRoleForLambdaLimited and the invoke grants of its hooks.
    this.serviceRole = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('codedeploy.amazonaws.com'),
      description: 'CodeDeploy service role shared by every GuardedAlias in this stack',
    });
    acknowledgeManagedPolicy(this.serviceRole, 'service-role/AWSCodeDeployRoleForLambdaLimited',
      'The AWS-maintained policy CodeDeploy documents for Lambda deployments: update and read aliases, read alarms, invoke CodeDeployHook_* functions; hooks are granted to this role one by one.');
    this.configScope = new Construct(this, 'DeploymentConfigs');
  }

  /** The custom deployment configuration of one shape, created once per stack. */
  public deploymentConfig(shape: string, create: (scope: Construct, id: string) => codedeploy.ILambdaDeploymentConfig): codedeploy.ILambdaDeploymentConfig {
    let config = this.configs.get(shape);
    if (!config) {
      config = create(this.configScope, shape.replace(/[^A-Za-z0-9]/g, '-'));
      this.configs.set(shape, config);
    }
    return config;
  }
}
