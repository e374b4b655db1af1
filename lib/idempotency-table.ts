import { Annotations, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { ATTR, IDEMPOTENCY_TABLE_ENV, IDEMPOTENCY_TTL_ENV } from 'cdk-rollout-guardrails-runtime/contract';
import { acknowledgeGuard } from './private/guard';
import { Described, PropProblems } from './private/validation';

/**
 * The seeds keep idempotency records for at least the release window plus 24 hours, so that a retry arriving
 * after the rollout's last step is still recognised.
 */
export const IDEMPOTENCY_TTL_MARGIN = Duration.hours(24);

/**
 * The item actions `makeIdempotent` uses, and no others: a conditional PutItem claims a key and stores the
 * result, a consistent GetItem reads the record where the failed claim did not return it, a conditional
 * DeleteItem releases a failed call's claim.
 */
export const IDEMPOTENCY_TABLE_ACTIONS: readonly string[] = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'];

/** An idempotency table, as functions and other constructs consume it. */
export interface IIdempotencyTable extends IConstruct {
  /** The DynamoDB table holding the records (partition key `id`, string; TTL attribute `expiration`). */
  readonly table: dynamodb.ITable;
  /** How long a completed record is kept; the runtime writes `expiration` this far ahead. */
  readonly ttl: Duration;
  /** Lets `fn` use the table from `makeIdempotent` and tells it the table's name and the ttl through its environment. */
  grant(fn: lambda.IFunction): iam.Grant;
  /** Claims that found the key taken: duplicates answered from the store, plus calls that met one in progress. */
  metricDedupeHits(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** Properties of `IdempotencyTable`. */
export interface IdempotencyTableProps {
  /**
   * An existing table to use instead of creating one. It must have the partition key `id` (string) and should
   * have TTL enabled on `expiration`; the other table props do not apply to it.
   * @default - a table is created for you
   */
  readonly table?: dynamodb.ITable;
  /**
   * The name of the created table.
   * @default - CloudFormation generates a name
   */
  readonly tableName?: string;
  /**
   * A customer managed KMS key to encrypt the created table with; `grant(fn)` then also lets `fn` use the key.
   * @default - DynamoDB's AWS owned key (no charge, no key policy to manage); not the AWS managed `aws/dynamodb`
   * key, for the reasons in the class documentation
   * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * How long a release stays open to retries: from its first traffic shift until the old version stops
   * serving. Records are kept at least this long plus 24 hours.
   * @default Duration.hours(24)
   */
  readonly releaseWindow?: Duration;
  /**
   * How long a completed record counts (and stays in the table until DynamoDB's TTL deletes it, which can lag
   * by a day or two). Must be at least `releaseWindow` + 24 h.
   * @default - releaseWindow + 24 h (48 h with the default release window)
   * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/TTL.html
   */
  readonly ttl?: Duration;
  /**
   * Point-in-time recovery for the created table.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Deletion protection for the created table.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * What happens to the created table when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Attributes of an existing idempotency table, for `IdempotencyTable.fromTableAttributes`. */
export interface IdempotencyTableAttributes {
  /** The table's name (or give `tableArn`). @default - taken from tableArn */
  readonly tableName?: string;
  /** The table's ARN (or give `tableName`). @default - built from tableName in this stack's account and region */
  readonly tableArn?: string;
  /** The table's customer managed key, if it has one. @default - an AWS owned or AWS managed key */
  readonly encryptionKey?: kms.IKey;
  /** How long records are kept. @default - releaseWindow + 24 h */
  readonly ttl?: Duration;
  /** The release window the ttl must cover. @default Duration.hours(24) */
  readonly releaseWindow?: Duration;
}

/**
 * The DynamoDB table behind the runtime's `makeIdempotent`: partition key `id`, TTL on `expiration`,
 * on-demand billing, point-in-time recovery, encrypted, deletion-protected and retained by default.
 *
 * Encryption at rest. DynamoDB encrypts every table; the choice is the key. The created table uses DynamoDB's
 * AWS owned key unless `encryptionKey` gives a customer managed one. It does not default to the AWS managed key
 * (`aws/dynamodb`, TableEncryption.AWS_MANAGED): AWS documents the AWS owned key as "no additional charge" and
 * the AWS managed key as "AWS KMS charges apply". DynamoDB calls KMS for the managed key once per client
 * connection with active traffic every 5 minutes, so the charge grows with the number of connections, and each
 * Lambda execution environment holds its own; a new connection also waits for DynamoDB to fetch the key from
 * KMS, and `makeIdempotent`'s claim sits on the user path exactly when a rollout starts a fleet of new, cold
 * environments. In exchange the AWS managed key gives only visibility (its key policy can be read, not changed;
 * its use shows in CloudTrail); it restricts nobody beyond the table's own IAM permissions and cannot be revoked
 * or shared across accounts. Whoever needs control over the key (revocation, key policy, audit) needs a
 * customer managed key, which `encryptionKey` takes, and pays KMS for it knowingly.
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html
 * @see https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/encryption.howitworks.html
 */
export class IdempotencyTable extends Construct implements IIdempotencyTable {
  /**
   * How long idempotency records are kept beyond the release window (24 hours), so that a retry arriving after
   * the rollout's last step is still recognised.
   */
  public static readonly TTL_MARGIN: Duration = IDEMPOTENCY_TTL_MARGIN;
  /** The item actions `makeIdempotent` uses, and no others (GetItem, PutItem, DeleteItem); a copy of the list `grant()` gives. */
  public static readonly TABLE_ACTIONS: string[] = [...IDEMPOTENCY_TABLE_ACTIONS];

  /** Uses an existing table, by name or ARN. */
  public static fromTableAttributes(scope: Construct, id: string, attrs: IdempotencyTableAttributes): IdempotencyTable {
    const holder = new Construct(scope, id);
    const table = dynamodb.Table.fromTableAttributes(holder, 'Table', {
      tableName: attrs.tableName,
      tableArn: attrs.tableArn,
      encryptionKey: attrs.encryptionKey,
    });
    return new IdempotencyTable(holder, 'Resource', { table, ttl: attrs.ttl, releaseWindow: attrs.releaseWindow });
  }

  public readonly table: dynamodb.ITable;
  public readonly ttl: Duration;
  /** The release window the ttl covers. */
  public readonly releaseWindow: Duration;

  constructor(scope: Construct, id: string, props: IdempotencyTableProps = {}) {
    super(scope, id);
    const problems = new PropProblems();
    this.releaseWindow = props.releaseWindow ?? Duration.hours(24);
    this.ttl = props.ttl ?? this.releaseWindow.plus(IDEMPOTENCY_TTL_MARGIN);
    checkTtl(problems, this.ttl, this.releaseWindow);

    if (props.table) {
      const ignored = (['tableName', 'encryptionKey', 'pointInTimeRecovery', 'deletionProtection', 'removalPolicy'] as const)
        .filter((prop) => props[prop] !== undefined);
      for (const prop of ignored) {
        problems.addMessage(`${prop} applies only to a table created here; it cannot be set together with table (${props.table.node.path})`);
      }
      checkExistingTable(this, problems, props.table);
    }
    if (props.tableName !== undefined && !Token.isUnresolved(props.tableName) && !/^[A-Za-z0-9_.-]{3,255}$/.test(props.tableName)) {
      problems.add('tableName', '3 to 255 letters, digits, _ - or .', props.tableName);
    }
    problems.throwIfAny(`IdempotencyTable ${this.node.path}`);

    this.table = props.table ?? new dynamodb.Table(this, 'Table', {
      tableName: props.tableName,
      partitionKey: { name: ATTR.key, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: ATTR.expiration,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.DEFAULT,
      encryptionKey: props.encryptionKey,
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    if (!props.table && !props.encryptionKey) {
      acknowledgeGuard(this.table, 'dynamodb_table_encrypted_kms_check', 'Encrypted at rest with DynamoDB\'s AWS owned key, by choice (see IdempotencyTable: '
        + 'the AWS managed key costs KMS calls on the user path and controls nothing more); encryptionKey takes a customer managed key.');
    }
  }

  /**
   * Lets `fn` claim, read, store and release records in this table (item actions on this table's ARN only, and
   * the customer managed key if there is one), and sets GUARDRAILS_IDEMPOTENCY_TABLE and
   * GUARDRAILS_IDEMPOTENCY_TTL_SECONDS in its environment, which `makeIdempotent` reads by default.
   */
  public grant(fn: lambda.IFunction): iam.Grant {
    let grant = iam.Grant.addToPrincipal({
      grantee: fn,
      actions: [...IDEMPOTENCY_TABLE_ACTIONS],
      resourceArns: [this.table.tableArn],
    });
    if (this.table.encryptionKey) grant = grant.combine(this.table.encryptionKey.grantEncryptDecrypt(fn));

    // lambda.Function and lambda.SingletonFunction can take environment variables; imported functions, aliases
    // and versions cannot.
    const withEnv = fn as lambda.IFunction & { addEnvironment?: (key: string, value: string) => unknown };
    if (typeof withEnv.addEnvironment === 'function') {
      withEnv.addEnvironment(IDEMPOTENCY_TABLE_ENV, this.table.tableName);
      withEnv.addEnvironment(IDEMPOTENCY_TTL_ENV, ttlSecondsText(this.ttl));
    } else {
      Annotations.of(fn).addWarningV2('cdk-rollout-guardrails:idempotency-env',
        `IdempotencyTable.grant cannot set the environment of ${fn.node.path} (only a lambda.Function or SingletonFunction of this app has an environment to set); ` +
        `pass options.table (and expiresAfter) to makeIdempotent, or set ${IDEMPOTENCY_TABLE_ENV} and ${IDEMPOTENCY_TTL_ENV} yourself`);
    }
    return grant;
  }

  /**
   * Claims that found the key taken (DynamoDB's ConditionalCheckFailedRequests on this table, summed): each is
   * a duplicate answered from the store or a call that met the key in progress. The seeds' `dedupe_hits`.
   */
  public metricDedupeHits(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.table.metricConditionalCheckFailedRequests({ statistic: cloudwatch.Stats.SUM, label: 'Idempotency dedupe hits', ...props });
  }
}

function checkTtl(problems: PropProblems, ttl: Duration, releaseWindow: Duration): void {
  const ttlSeconds = ttl.toSeconds();
  const windowSeconds = releaseWindow.toSeconds();
  if (Token.isUnresolved(ttlSeconds) || Token.isUnresolved(windowSeconds)) return;
  const minimum = releaseWindow.plus(IDEMPOTENCY_TTL_MARGIN);
  if (ttlSeconds < minimum.toSeconds()) {
    problems.addMessage(`ttl must be at least releaseWindow + 24 h = ${hours(minimum)} (releaseWindow is ${hours(releaseWindow)}), got: ${hours(ttl)}`);
  }
}

function checkExistingTable(scope: Construct, problems: PropProblems, table: dynamodb.ITable): void {
  if (!(table instanceof dynamodb.Table)) return; // imported: its schema is not known at synth
  const schema = table.schemaV2();
  const key = schema.partitionKeys.length === 1 ? schema.partitionKeys[0] : undefined;
  if (key?.name !== ATTR.key || key?.type !== dynamodb.AttributeType.STRING) {
    const got = schema.partitionKeys.map((k) => `'${k.name}' (${k.type})`).join(' + ');
    problems.add('table', `a table whose partition key is '${ATTR.key}' (string)`, new Described(`partition key ${got}`));
  }
  if (schema.sortKeys.length > 0) {
    problems.add('table', 'a table without a sort key', new Described(`sort key ${schema.sortKeys.map((k) => `'${k.name}'`).join(' + ')}`));
  }
  const ttlSpec = (table.node.defaultChild as dynamodb.CfnTable | undefined)?.timeToLiveSpecification as dynamodb.CfnTable.TimeToLiveSpecificationProperty | undefined;
  if (!ttlSpec || ttlSpec.attributeName !== ATTR.expiration) {
    Annotations.of(scope).addWarningV2('cdk-rollout-guardrails:idempotency-ttl',
      `table ${table.node.path} has no TTL on '${ATTR.expiration}': expired records are still ignored, but DynamoDB will not delete them`);
  }
}

/** A duration in the unit people set these in: whole hours where it is whole hours, else minutes or seconds. */
function hours(d: Duration): string {
  const seconds = d.toSeconds();
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

function ttlSecondsText(ttl: Duration): string {
  const seconds = ttl.toSeconds();
  return Token.isUnresolved(seconds) ? Token.asString(seconds) : String(Math.round(seconds));
}
