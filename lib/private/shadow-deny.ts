/**
 * The write actions a shadow function's role is explicitly denied. An explicit Deny wins over any Allow the
 * role has or is given later, so a shadow built from the live code cannot write even where the live
 * function may. The list covers the data services and the ways to start work elsewhere; it cannot cover
 * calls that leave AWS's authorisation (HTTP to outside services, databases reached with their own
 * credentials): see docs on the scope of "zero side effects".
 */
export const SHADOW_DENIED_ACTIONS: readonly string[] = [
  // DynamoDB writes (item, batch and PartiQL forms; TransactWriteItems is no IAM action: a transaction is
  // authorised per item as PutItem, UpdateItem and DeleteItem, so it is denied by these)
  'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete',
  // S3 puts and deletes
  's3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:DeleteObjectTagging',
  's3:AbortMultipartUpload', 's3:RestoreObject',
  // Messaging and events (SendMessageBatch is authorised as SendMessage)
  'sqs:SendMessage', 'sqs:DeleteMessage', 'sqs:PurgeQueue', 'sns:Publish', 'events:PutEvents', 'scheduler:CreateSchedule',
  // Invoking other functions and starting workflows
  'lambda:InvokeFunction', 'lambda:InvokeAsync', 'lambda:InvokeFunctionUrl', 'states:StartExecution', 'states:StartSyncExecution',
  // Streams and mail
  'kinesis:PutRecord', 'kinesis:PutRecords', 'firehose:PutRecord', 'firehose:PutRecordBatch', 'ses:SendEmail', 'ses:SendRawEmail',
  // Parameters and secrets the live function might rotate or record state in
  'ssm:PutParameter', 'ssm:DeleteParameter', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecret',
];
