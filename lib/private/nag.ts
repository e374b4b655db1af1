import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM4 finding for one AWS managed policy on `scope`, with the reason.
 * cdk-nag 3 reports IAM4 per policy, so the acknowledgement names the policy.
 */
export function acknowledgeManagedPolicy(scope: IConstruct, managedPolicyName: string, reason: string): void {
  Validations.of(scope).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${managedPolicyName}]`,
    reason,
  });
}

/**
 * Lets `reader` read the configuration of `fn`'s versions (GetFunctionConfiguration on `<fn>:*`: which versions a
 * deployment involves is known only at run time) and acknowledges cdk-nag's AwsSolutions-IAM5 finding on that
 * wildcard with `reason`.
 */
export function allowVersionConfigReads(reader: lambda.Function, fn: lambda.IFunction, reason: string): void {
  reader.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:GetFunctionConfiguration'], resources: [`${fn.functionArn}:*`] }));
  const cfn = fn.node.defaultChild;
  if (!(cfn instanceof lambda.CfnFunction)) return;
  Validations.of(reader).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::<${Stack.of(cfn).getLogicalId(cfn)}.Arn>:*]`,
    reason,
  });
}
