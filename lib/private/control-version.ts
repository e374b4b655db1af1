import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { handlerCode } from './assets';
import { acknowledgeManagedPolicy } from './nag';
import { HANDLER_RUNTIME } from './runtime';

const PROVIDER_ID = 'ControlVersionProvider';

/**
 * The stack's one provider of `Custom::GuardrailsControlVersion`, the custom resource that tells the gate
 * alarms which version is the control of a rollout (lambdas/control-version).
 */
export class ControlVersionProvider extends Construct {
  /** The provider of `scope`'s stack, created on first use. */
  public static of(scope: Construct): ControlVersionProvider {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(PROVIDER_ID);
    if (existing instanceof ControlVersionProvider) return existing;
    return new ControlVersionProvider(stack, PROVIDER_ID);
  }

  public readonly handler: lambda.Function;

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.handler = new lambda.Function(this, 'Handler', {
      runtime: HANDLER_RUNTIME,
      handler: 'index.handler',
      code: handlerCode('control-version'),
      memorySize: 128,
      timeout: Duration.seconds(30),
      description: 'cdk-rollout-guardrails: reads which version an alias serves before CloudFormation updates it',
    });
    acknowledgeManagedPolicy(this.handler, 'service-role/AWSLambdaBasicExecutionRole',
      'It only lets the provider write its own CloudWatch Logs; its one other permission is lambda:GetAlias on each guarded alias.');
  }

  /**
   * The version `alias` serves before this deployment updates it, as a deploy-time string.
   * The alias must depend on the returned resource, so that the read happens before the update.
   */
  public controlVersion(scope: Construct, id: string, fn: lambda.IFunction, aliasName: string, target: lambda.IVersion): CustomResource {
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['lambda:GetAlias'],
      resources: [fn.functionArn, `${fn.functionArn}:${aliasName}`],
    }));
    return new CustomResource(scope, id, {
      serviceToken: this.handler.functionArn,
      resourceType: 'Custom::GuardrailsControlVersion',
      properties: {
        FunctionName: fn.functionName,
        AliasName: aliasName,
        // A new version changes this property, so CloudFormation calls the provider on every deployment.
        TargetVersion: target.version,
      },
    });
  }
}
