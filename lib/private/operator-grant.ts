// The least-privilege grant of the command line's live commands (docs/guides/operate.md) for one alias: each call the
// CLI makes, on this alias's resources only. A staged alias: status, pause, resume, promote and abort (the operator
// item); any other: status and abort (CodeDeploy's StopDeployment, register CD-20). STS GetCallerIdentity needs no
// permission (register STS-1).
import { ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { oneItem } from './small-table';

/** What the grant names: the alias's deployment group, its item in the operator table, the machine, its alarms. */
export interface OperateScope {
  readonly scope: Construct;
  readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup;
  readonly table: dynamodb.ITable;
  /** The alias's operator item key (its configuration key). */
  readonly key: string;
  readonly stateMachine: sfn.IStateMachine & { readonly stateMachineName: string };
  readonly alarmNames: readonly string[];
}

/**
 * What every alias's `status` and `abort` need: its resources' physical IDs in its own stack (CFN-6), the deployment
 * group's deployments (CD-19; `codedeploy` adds the strategy's own actions there) and the group's alarms, whose names
 * are read when the policy is synthesized so that alarms added after the grant are covered.
 */
function deploymentStatements(scope: Construct, deploymentGroup: codedeploy.ILambdaDeploymentGroup, codedeployActions: string[], alarmNames: () => readonly string[]): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const statements = [
    new iam.PolicyStatement({
      actions: ['cloudformation:DescribeStackResource'],
      resources: [stack.formatArn({ service: 'cloudformation', resource: 'stack', resourceName: `${stack.stackName}/*` })],
    }),
    new iam.PolicyStatement({
      actions: ['codedeploy:GetDeployment', 'codedeploy:GetDeploymentGroup', 'codedeploy:ListDeployments', ...codedeployActions],
      resources: [deploymentGroup.deploymentGroupArn],
    }),
  ];
  // Every GuardedAlias watches at least its gate alarm; a StagedRollout attached by hand may watch none.
  if (alarmNames().length > 0) {
    statements.push(new iam.PolicyStatement({
      actions: ['cloudwatch:DescribeAlarms'],
      resources: Lazy.uncachedList({ produce: () => alarmNames().map((name) => stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: name, arnFormat: ArnFormat.COLON_RESOURCE_NAME })) }),
    }));
  }
  return statements;
}

/** Each statement granted to `grantee`, one Grant. */
const granted = (grantee: iam.IGrantable, statements: iam.PolicyStatement[]) => statements.map((statement) => iam.Grant.addToPrincipal({
  grantee, actions: statement.actions, resourceArns: statement.resources, conditions: statement.conditions,
})).reduce((all, grant) => all.combine(grant));

/** The statements the CLI's status, pause, resume, promote and abort need for one staged alias, granted to `grantee`. */
export function grantOperate(grantee: iam.IGrantable, target: OperateScope): iam.Grant {
  return granted(grantee, [
    ...deploymentStatements(target.scope, target.deploymentGroup, [], () => target.alarmNames),
    // The execution named after the deployment, and its gate outputs (SFN-13, SFN-14).
    new iam.PolicyStatement({
      actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
      resources: [Stack.of(target.scope).formatArn({ service: 'states', resource: 'execution', resourceName: `${target.stateMachine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
    }),
    // The alias's own operator item only (DDB-4, DDB-8).
    oneItem(['dynamodb:GetItem', 'dynamodb:PutItem'], target.table, target.key),
  ]);
}

/**
 * The statements `status` and `abort` need for a blue-green, canary, linear or all-at-once alias, granted to
 * `grantee`: StopDeployment's resource is the deployment group, as for the reads (CodeDeploy's permissions reference).
 */
export function grantOperateDeployment(grantee: iam.IGrantable, target: { readonly scope: Construct; readonly deploymentGroup: codedeploy.ILambdaDeploymentGroup; readonly alarms: () => readonly cloudwatch.IAlarm[] }): iam.Grant {
  return granted(grantee, deploymentStatements(target.scope, target.deploymentGroup, ['codedeploy:StopDeployment'], () => target.alarms().map((alarm) => alarm.alarmName)));
}
