// The machinery's small DynamoDB tables (the cohort table, the operator table): one per stack, created on first use
// under the machinery, an item per alias keyed by a string `pk`, on demand, encrypted with DynamoDB's AWS owned key,
// without point-in-time recovery (each item is rewritten as a rollout runs: there is nothing to restore), and
// destroyed with the stack.
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { OPERATOR_TABLE_KEY, StagedOperatorConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { acknowledgeGuard } from './guard';

/** The operator table's construct ID under the staged machinery. */
export const OPERATOR_TABLE_ID = 'OperatorTable';

/** The table `id` under `scope`, created on first use; `holds` says what an item is, for the acknowledgements. */
export function smallTable(scope: Construct, id: string, partitionKey: string, holds: string): dynamodb.Table {
  const existing = scope.node.tryFindChild(id);
  if (existing) return existing as dynamodb.Table;
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.DEFAULT,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false },
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const noPitr = `The table holds one item per alias (${holds}), rewritten as each rollout runs: point-in-time recovery would restore nothing anyone needs.`;
  Validations.of(table).acknowledge({ id: 'AwsSolutions::AwsSolutions-DDB3', reason: noPitr });
  Validations.of(table).acknowledge({ id: 'cdk-validator-cfnguard::dynamodb_table_pitr_enabled_check', reason: noPitr });
  acknowledgeGuard(table, 'dynamodb_table_encrypted_kms_check', `Encrypted at rest with DynamoDB's AWS owned key (no KMS charge); it holds ${holds}.`);
  return table;
}

/** Items of one key only (dynamodb:LeadingKeys, DDB-4). */
export function oneItem(actions: string[], table: dynamodb.ITable, key: string): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions,
    resources: [table.tableArn],
    conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [key] } },
  });
}

/**
 * The operator part of a staged alias's configuration: the stack's operator table (created with the first staged
 * alias) and the alias's item key, its configuration key. The gate function reads the items (one GetItem grant on
 * the table, given once); only the operators the user grants write them (docs/guides/operate.md).
 */
export function operatorConfig(machinery: Construct, gate: iam.IGrantable, key: string): StagedOperatorConfig {
  const created = machinery.node.tryFindChild(OPERATOR_TABLE_ID) === undefined;
  const table = smallTable(machinery, OPERATOR_TABLE_ID, OPERATOR_TABLE_KEY, 'the latest command an operator gave its rollout');
  if (created) table.grant(gate, 'dynamodb:GetItem');
  return { tableName: table.tableName, key };
}
