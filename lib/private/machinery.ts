// Pieces the stack-wide machineries (StagedRollout, BlueGreenSwitch) build the same way.
import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledgeManagedPolicy } from './nag';
import { HANDLER_RUNTIME } from './runtime';

/** One of the library's own functions: a handler of a prebundled asset, on the library's runtime. */
export function machineryFunction(scope: Construct, id: string, props: {
  readonly code: lambda.Code;
  /** The bundle's export, e.g. `gate` for `index.gate`. */
  readonly handler: string;
  readonly description: string;
  readonly timeout: Duration;
}): lambda.Function {
  const fn = new lambda.Function(scope, id, {
    runtime: HANDLER_RUNTIME,
    handler: `index.${props.handler}`,
    code: props.code,
    memorySize: 256,
    timeout: props.timeout,
    description: props.description,
  });
  acknowledgeManagedPolicy(fn, 'service-role/AWSLambdaBasicExecutionRole', 'It only lets the function write its own CloudWatch Logs; its other permissions are scoped grants.');
  return fn;
}

/**
 * Lets `fn` act on the executions of `machine` (named after deployments that do not exist at synth, hence the
 * wildcard), and acknowledges cdk-nag's finding on that wildcard with `reason`.
 */
export function grantOnExecutions(fn: lambda.Function, machine: sfn.StateMachine, actions: string[], reason: string): void {
  const stack = Stack.of(machine);
  const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${machine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
  fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources: [executions] }));
  // cdk-nag names the finding after the ARN as synthesised: literal where the stack's environment is known.
  const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  Validations.of(fn).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:${literal(stack.partition, 'AWS::Partition')}:states:${literal(stack.region, 'AWS::Region')}:`
      + `${literal(stack.account, 'AWS::AccountId')}:execution:<${stack.getLogicalId(machine.node.defaultChild as sfn.CfnStateMachine)}.Name>:*]`,
    reason,
  });
}
