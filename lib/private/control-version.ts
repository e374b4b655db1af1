import { CustomResource, Duration, Lazy, Names, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { handlerCode } from './assets';
import { acknowledgeGuard, logsEncryptedReason, NO_VPC_REASON } from './guard';
import { acknowledgeManagedPolicy } from './nag';
import { HANDLER_RUNTIME } from './runtime';
import { dropRedundantRoleDependency } from './lint';

const ID = 'ControlVersions';

/**
 * CloudFormation refuses a custom resource response over 4,096 bytes. One entry of the response is
 * `"<key>":"<version>",` (at most 8 + 10 + 6 bytes); the envelope takes about 400. Lambda versions above
 * ten digits do not occur.
 */
const MAX_ALIASES = Math.floor((4096 - 400) / 24);

interface Entry {
  readonly Key: string;
  readonly FunctionName: string;
  readonly AliasName: string;
  readonly TargetVersion: string;
}

/**
 * The stack's one `Custom::GuardrailsControlVersions` resource and its provider function
 * (lambdas/control-version): at each deployment it reads, for every GuardedAlias of the stack, the version
 * the alias serves before CloudFormation updates it, and returns them as attributes. One resource per
 * stack rather than one per alias keeps a GuardedAlias's cost to six resources.
 */
export class ControlVersions extends Construct {
  /** The stack's resource, created on first use. */
  public static of(scope: IConstruct): ControlVersions {
    const stack = Stack.of(scope);
    const existing = stack.node.tryFindChild(ID);
    if (existing instanceof ControlVersions) return existing;
    return new ControlVersions(stack, ID);
  }

  public readonly handler: lambda.Function;
  public readonly resource: CustomResource;
  private readonly entries: Entry[] = [];

  private constructor(scope: Construct, id: string) {
    super(scope, id);
    this.handler = new lambda.Function(this, 'Provider', {
      runtime: HANDLER_RUNTIME,
      handler: 'index.handler',
      code: handlerCode('control-version'),
      memorySize: 128,
      timeout: Duration.minutes(1),
      description: 'cdk-rollout-guardrails: reads which version each guarded alias serves before CloudFormation updates it',
      tracing: lambda.Tracing.ACTIVE,
    });
    dropRedundantRoleDependency(this.handler);
    Validations.of(this.handler).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions; the provider\'s other grant is lambda:GetAlias on each guarded alias.',
    });
    acknowledgeManagedPolicy(this.handler, 'service-role/AWSLambdaBasicExecutionRole',
      'It only lets the provider write its own CloudWatch Logs; its one other permission is lambda:GetAlias on each guarded alias.');
    acknowledgeGuard(this.handler, 'lambda_inside_vpc_check', NO_VPC_REASON);
    acknowledgeGuard(this.handler, 'cloudwatch_log_group_encrypted_check', logsEncryptedReason('The provider\'s log group (alias names and version numbers)'));
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.handler.functionArn,
      resourceType: 'Custom::GuardrailsControlVersions',
      properties: {
        // Every new version changes this list, so CloudFormation calls the provider on every deployment.
        Aliases: Lazy.any({ produce: () => this.entries }),
      },
    });
    this.node.addValidation({
      validate: () => this.entries.length > MAX_ALIASES
        ? [`a stack holds at most ${MAX_ALIASES} GuardedAliases (the control-version response must fit CloudFormation's 4,096 bytes), got: ${this.entries.length}`]
        : [],
    });
  }

  /**
   * Registers `alias` and returns its control version, a deploy-time string. `alias` is made to depend on
   * the resource, so that the read happens before CloudFormation updates the alias.
   */
  public controlVersionOf(alias: lambda.Alias, fn: lambda.IFunction, target: lambda.IVersion): string {
    const key = `V${Names.uniqueId(alias).slice(-8)}${this.entries.length}`;
    this.entries.push({ Key: key, FunctionName: fn.functionName, AliasName: alias.aliasName, TargetVersion: target.version });
    this.handler.addToRolePolicy(new iam.PolicyStatement({
      actions: ['lambda:GetAlias'],
      resources: [fn.functionArn, `${fn.functionArn}:${alias.aliasName}`],
    }));
    alias.node.addDependency(this.resource);
    return this.resource.getAttString(key);
  }
}
