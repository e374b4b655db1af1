import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { IDEMPOTENCY_TABLE_ACTIONS, IdempotencyTable } from '../lib/idempotency-table';
import { HANDLER_RUNTIME } from '../lib/private/runtime';
import { expectSynthWarnings } from './helpers/console';
import { TEST_APP_PROPS } from './util';

function stack(): Stack {
  const app = new App({ ...TEST_APP_PROPS, context: require('../cdk.json').context });
  return new Stack(app, 'Stack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

function fn(scope: Stack, id = 'Fn'): lambda.Function {
  return new lambda.Function(scope, id, { runtime: HANDLER_RUNTIME, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
}

function tableLogicalId(template: Template): string {
  const ids = Object.keys(template.findResources('AWS::DynamoDB::Table'));
  expect(ids).toHaveLength(1);
  return ids[0];
}

describe('IdempotencyTable', () => {
  test('creates an on-demand table keyed by id with TTL on expiration, point-in-time recovery and deletion protection', () => {
    const s = stack();
    new IdempotencyTable(s, 'Idem');
    const template = Template.fromStack(s);

    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      // SSEEnabled false is how CloudFormation spells "encrypted with the AWS owned key".
      SSESpecification: { SSEEnabled: false },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('defaults to the AWS owned key, not the AWS managed aws/dynamodb key: no KMS key, no KMS charge, no KMS permission to grant', () => {
    const s = stack();
    const idem = new IdempotencyTable(s, 'Idem');
    idem.grant(fn(s));
    const template = Template.fromStack(s);
    const table = template.toJSON().Resources[tableLogicalId(template)];
    // TableEncryption.AWS_MANAGED would render { SSEEnabled: true } (KMS with aws/dynamodb, no key id).
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: false });
    expect(idem.table.encryptionKey).toBeUndefined();
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('kms:');
  });

  test('encrypts with a customer managed key when one is given', () => {
    const s = stack();
    const key = new kms.Key(s, 'Key');
    new IdempotencyTable(s, 'Idem', { encryptionKey: key });

    Template.fromStack(s).hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [s.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] } },
    });
  });

  test('honours removalPolicy, deletionProtection and pointInTimeRecovery when set', () => {
    const s = stack();
    new IdempotencyTable(s, 'Idem', { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false, pointInTimeRecovery: false, tableName: 'orders-idempotency' });
    const template = Template.fromStack(s);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'orders-idempotency',
      DeletionProtectionEnabled: false,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });

  test('grant gives the function only the item actions the runtime uses, on this table only', () => {
    const s = stack();
    const idem = new IdempotencyTable(s, 'Idem');
    const f = fn(s);
    idem.grant(f);
    const template = Template.fromStack(s);
    const tableId = tableLogicalId(template);

    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap((p) => (p as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{
      Effect: 'Allow',
      Action: [...IDEMPOTENCY_TABLE_ACTIONS].sort(),
      Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
    }]);
    expect([...IDEMPOTENCY_TABLE_ACTIONS].sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  test('grant puts the table name and the ttl in seconds in the function\'s environment', () => {
    const s = stack();
    const idem = new IdempotencyTable(s, 'Idem');
    idem.grant(fn(s));
    const template = Template.fromStack(s);

    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { GUARDRAILS_IDEMPOTENCY_TABLE: { Ref: tableLogicalId(template) }, GUARDRAILS_IDEMPOTENCY_TTL_SECONDS: '172800' } },
    });
  });

  test('grant sets the environment of a SingletonFunction too', () => {
    const s = stack();
    const single = new lambda.SingletonFunction(s, 'Single', {
      uuid: '0f6b3c3e-2c55-4b2a-9d8e-2f0c4b1d7a11', runtime: HANDLER_RUNTIME, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;'),
    });
    new IdempotencyTable(s, 'Idem').grant(single);

    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GUARDRAILS_IDEMPOTENCY_TTL_SECONDS: '172800' }) },
    });
  });

  test('grant also lets the function use the customer managed key', () => {
    const s = stack();
    const key = new kms.Key(s, 'Key');
    new IdempotencyTable(s, 'Idem', { encryptionKey: key }).grant(fn(s));

    Template.fromStack(s).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Action: Match.arrayWith(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey*']),
          Resource: { 'Fn::GetAtt': [s.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] },
        })]),
      },
    });
  });

  test('metricDedupeHits sums the table\'s ConditionalCheckFailedRequests', () => {
    const s = stack();
    const idem = new IdempotencyTable(s, 'Idem');
    const metric = idem.metricDedupeHits({ period: Duration.minutes(1) });

    expect(metric.namespace).toBe('AWS/DynamoDB');
    expect(metric.metricName).toBe('ConditionalCheckFailedRequests');
    expect(metric.statistic).toBe('Sum');
    expect(metric.period.toMinutes()).toBe(1);
    expect(s.resolve(metric.dimensions)).toEqual({ TableName: { Ref: tableLogicalId(Template.fromStack(s)) } });
  });

  test('keeps records for releaseWindow + 24 h by default', () => {
    const s = stack();
    const idem = new IdempotencyTable(s, 'Idem', { releaseWindow: Duration.hours(6) });
    idem.grant(fn(s));

    expect(idem.ttl.toHours()).toBe(30);
    Template.fromStack(s).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ GUARDRAILS_IDEMPOTENCY_TTL_SECONDS: String(30 * 3600) }) },
    });
  });

  test('rejects a ttl shorter than releaseWindow + 24 h, naming both', () => {
    const s = stack();
    expect(() => new IdempotencyTable(s, 'Idem', { releaseWindow: Duration.hours(2), ttl: Duration.hours(25) })).toThrow(
      'ttl must be at least releaseWindow + 24 h = 26 h (releaseWindow is 2 h), got: 25 h',
    );
  });

  test('accepts a ttl of exactly releaseWindow + 24 h', () => {
    const s = stack();
    expect(new IdempotencyTable(s, 'Idem', { releaseWindow: Duration.hours(2), ttl: Duration.hours(26) }).ttl.toHours()).toBe(26);
  });

  test('uses an existing table instead of creating one, and grants on it', () => {
    const s = stack();
    const existing = new dynamodb.Table(s, 'Existing', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
    });
    const idem = new IdempotencyTable(s, 'Idem', { table: existing });
    idem.grant(fn(s));
    const template = Template.fromStack(s);

    expect(idem.table).toBe(existing);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Resource: { 'Fn::GetAtt': [s.getLogicalId(existing.node.defaultChild as dynamodb.CfnTable), 'Arn'] } })] },
    });
  });

  test('reports every prop that does not apply to an existing table, together', () => {
    const s = stack();
    const existing = new dynamodb.Table(s, 'Existing', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'expiration' });
    let message = '';
    try {
      new IdempotencyTable(s, 'Idem', { table: existing, tableName: 'x-table', removalPolicy: RemovalPolicy.DESTROY });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('IdempotencyTable Stack/Idem has 2 invalid props');
    expect(message).toContain('tableName applies only to a table created here; it cannot be set together with table (Stack/Existing)');
    expect(message).toContain('removalPolicy applies only to a table created here');
  });

  test('rejects an existing table whose partition key is not id (string)', () => {
    const s = stack();
    const wrong = new dynamodb.Table(s, 'Wrong', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    expect(() => new IdempotencyTable(s, 'Idem', { table: wrong })).toThrow("table must be a table whose partition key is 'id' (string), got: partition key 'pk' (S)");
  });

  test('rejects an existing table with a sort key', () => {
    const s = stack();
    const sorted = new dynamodb.Table(s, 'Sorted', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING } });
    expect(() => new IdempotencyTable(s, 'Idem', { table: sorted })).toThrow("table must be a table without a sort key, got: sort key 'sk'");
  });

  test('warns when an existing table has no TTL on expiration', () => {
    const s = stack();
    const noTtl = new dynamodb.Table(s, 'NoTtl', { partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING } });
    new IdempotencyTable(s, 'Idem', { table: noTtl });
    expectSynthWarnings(['cdk-rollout-guardrails:idempotency-ttl'], () => Annotations.fromStack(s)).hasWarning('/Stack/Idem', Match.stringLikeRegexp("has no TTL on 'expiration'"));
  });

  test('fromTableAttributes grants on the named table', () => {
    const s = stack();
    const idem = IdempotencyTable.fromTableAttributes(s, 'Imported', { tableName: 'shared-idempotency', ttl: Duration.days(3) });
    idem.grant(fn(s));
    const template = Template.fromStack(s);

    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [Match.objectLike({ Resource: 'arn:aws:dynamodb:eu-west-1:123456789012:table/shared-idempotency' })] },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { GUARDRAILS_IDEMPOTENCY_TABLE: 'shared-idempotency', GUARDRAILS_IDEMPOTENCY_TTL_SECONDS: String(3 * 86400) } },
    });
  });

  test('warns, and still grants, when the function\'s environment cannot be set', () => {
    const s = stack();
    const imported = lambda.Function.fromFunctionAttributes(s, 'Imported', {
      functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:other',
      role: new iam.Role(s, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }),
    });
    const grant = new IdempotencyTable(s, 'Idem').grant(imported);

    expect(grant.success).toBe(true);
    expectSynthWarnings(['cdk-rollout-guardrails:idempotency-env'], () => Annotations.fromStack(s)).hasWarning('/Stack/Imported', Match.stringLikeRegexp('cannot set the environment'));
    Template.fromStack(s).resourceCountIs('AWS::IAM::Policy', 1);
  });
});
