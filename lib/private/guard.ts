import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The AWS Control Tower proactive controls (cfn-guard rules of @cdklabs/cdk-validator-cfnguard) the library's
 * own resources are acknowledged for, by the rule name the plugin reports.
 */
export type GuardRule =
  | 'lambda_inside_vpc_check' // CT.LAMBDA.PR.3
  | 'lambda_function_public_access_prohibited_check' // CT.LAMBDA.PR.2
  | 'cloudwatch_alarm_action_check' // CT.CLOUDWATCH.PR.1
  | 'cloudwatch_log_group_retention_period_check' // CT.CLOUDWATCH.PR.2
  | 'cloudwatch_log_group_encrypted_check' // CT.CLOUDWATCH.PR.3
  | 'dynamodb_table_encrypted_kms_check' // CT.DYNAMODB.PR.2
  | 'sqs_dlq_check' // CT.SQS.PR.1
  | 'api_gw_v2_authorization_type_configured_check'; // CT.APIGATEWAY.PR.5

/**
 * Acknowledges a cfn-guard (Control Tower) finding on `scope` and everything under it, with the reason. CDK
 * namespaces a plugin's findings by the plugin's name, `cdk-validator-cfnguard`. (cfn-guard's own
 * `Metadata.guard.SuppressedRules` is not read by the bundled Control Tower rules.)
 */
export function acknowledgeGuard(scope: IConstruct, rule: GuardRule, reason: string): void {
  Validations.of(scope).acknowledge({ id: `cdk-validator-cfnguard::${rule}`, reason });
}

/** Why none of the library's functions runs in a VPC. */
export const NO_VPC_REASON = 'The library\'s functions call only AWS service APIs (Lambda, CodeDeploy, CloudWatch, Step Functions, DynamoDB, SNS) and reach no '
  + 'private resource; a VPC would add NAT or interface endpoints and nothing else. The library takes no VPC.';

/** Why a gate alarm needs no action of its own. */
export const GATE_ALARM_REASON = 'A release gate: CodeDeploy\'s deployment group (and the staged machine) watch it and roll back while it is in ALARM; '
  + 'that is its action. With GuardedAlias notifications its ALARM and OK also go to the topic.';

/** Why a function's log group, created by Lambda's CDK-managed default, has no KMS key of its own. */
export function logsEncryptedReason(what: string): string {
  return `${what}: encrypted at rest with CloudWatch Logs' own key. GuardedAlias logsKey covers the stack's rollout machinery only; this log group takes no key.`;
}
