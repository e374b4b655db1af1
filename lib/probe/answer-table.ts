// The probe's answer table (`reuseCurrentAnswers`): the current version's answers of each deployment, one item
// per gold question, kept for the rollout and deleted by DynamoDB's TTL after it. Only the probe reads and writes it.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PROBE_ANSWERS_ATTR, PROBE_ANSWERS_TABLE_ENV } from 'cdk-rollout-guardrails-runtime/contract';
import { acknowledgeGuard } from '../private/guard';

/** The item actions the probe uses on its answer table, and no others: batched reads and puts. */
export const PROBE_ANSWER_TABLE_ACTIONS: readonly string[] = ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem'];

/**
 * Creates the answer table `AnswerTable` in `scope` and lets `fn` (the probe) read and put its items only, naming
 * it in the function's environment. On-demand (a rollout writes a few hundred items and reads them a few times),
 * encrypted with DynamoDB's AWS owned key (DDB-2), TTL on `expiresAt`, destroyed with the stack: it holds nothing
 * that outlives a rollout, so it has neither point-in-time recovery nor deletion protection.
 */
export function answerTable(scope: Construct, fn: lambda.Function): dynamodb.Table {
  const table = new dynamodb.Table(scope, 'AnswerTable', {
    partitionKey: { name: PROBE_ANSWERS_ATTR.key, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    timeToLiveAttribute: PROBE_ANSWERS_ATTR.expiresAt,
    encryption: dynamodb.TableEncryption.DEFAULT,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  iam.Grant.addToPrincipal({ grantee: fn, actions: [...PROBE_ANSWER_TABLE_ACTIONS], resourceArns: [table.tableArn] });
  fn.addEnvironment(PROBE_ANSWERS_TABLE_ENV, table.tableName);
  const why = 'A scratch table: the current version\'s probe answers of one rollout, which expire after 3 hours and are recorded again by the next rollout\'s first probe run.';
  const noPitr = `${why} Point-in-time recovery would restore nothing anyone needs.`;
  Validations.of(table).acknowledge({ id: 'AwsSolutions::AwsSolutions-DDB3', reason: noPitr });
  // CT.DYNAMODB.PR.1, by the name the cfn-guard plugin reports (see acknowledgeGuard).
  Validations.of(table).acknowledge({ id: 'cdk-validator-cfnguard::dynamodb_table_pitr_enabled_check', reason: noPitr });
  acknowledgeGuard(table, 'dynamodb_table_encrypted_kms_check', 'Encrypted at rest with DynamoDB\'s AWS owned key (no KMS charge); the answers are the function\'s own replies to the gold set, '
    + 'which its log already holds under the same account\'s control.');
  return table;
}
