// Integ test: idempotency of duplicate POSTs sent at once.
//
// POST /orders on an HTTP API runs a body made idempotent with the runtime's makeIdempotent on an IdempotencyTable;
// the body increments a per-key counter in a side-effects table and takes 2 seconds. The assertions send 10 POSTs with
// the same Idempotency-Key at once, then one more 5 seconds later. Claims: every answer is 200 or 409 (in progress), all
// 200s carry one run's id, the late duplicate gets that run's answer, and the counter is exactly 1: the body ran once.
import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ExpectedResult, IntegTest, InvocationType, Match } from '@aws-cdk/integ-tests-alpha';
import { IdempotencyTable } from '../lib';
import { integApp } from './support/app';
import { chain, claim } from './support/assertions';
import { bundledFunction, destroyedLogGroup, destroyLogsWithStack } from './support/demo';

const KEY = 'integ-order-0001';
const COPIES = 10;

const app = integApp();
const stack = new Stack(app, 'GuardrailsIntegIdempotency', { description: 'cdk-rollout-guardrails integ: concurrent duplicate POSTs run the body once' });
destroyLogsWithStack(stack);
const records = new IdempotencyTable(stack, 'Records', { removalPolicy: RemovalPolicy.DESTROY, deletionProtection: false });
const sideEffects = new dynamodb.Table(stack, 'SideEffects', {
  partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
  billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  removalPolicy: RemovalPolicy.DESTROY,
});
const orders = bundledFunction(stack, 'Orders', 'idempotent-post.ts', {
  description: 'cdk-rollout-guardrails integ: POST /orders made idempotent',
  environment: { SIDE_EFFECTS_TABLE: sideEffects.tableName },
});
records.grant(orders);
sideEffects.grantWriteData(orders);

const api = new apigwv2.HttpApi(stack, 'Api');
api.addRoutes({ path: '/orders', methods: [apigwv2.HttpMethod.POST], integration: new HttpLambdaIntegration('Orders', orders) });

const client = new lambda.Function(stack, 'DuplicatePosts', {
  runtime: lambda.Runtime.NODEJS_22_X,
  handler: 'index.handler',
  code: lambda.Code.fromAsset(path.join(__dirname, 'support', 'fanout')),
  timeout: Duration.minutes(1),
  description: 'cdk-rollout-guardrails integ: sends duplicate POSTs at once',
  logGroup: destroyedLogGroup(stack, 'DuplicatePostsLogs'),
});

const integ = new IntegTest(app, 'Idempotency', { testCases: [stack], stackUpdateWorkflow: false, diffAssets: false });
const duplicates = claim(integ.assertions.invokeFunction({
  functionName: client.functionName,
  invocationType: InvocationType.REQUEST_RESPONSE,
  payload: JSON.stringify({ url: `${api.apiEndpoint}/orders`, key: KEY, copies: COPIES }),
}).expect(ExpectedResult.objectLike({
  Payload: Match.serializedJson(Match.objectLike({ sent: COPIES, unexpected: 0, distinctRunIds: 1, late: { status: 200, sameRunId: true } })),
})), `${COPIES} concurrent POSTs with one Idempotency-Key get 200 or 409 only, every 200 carries one run's answer, and a late duplicate gets that answer`);
const once = claim(integ.assertions.awsApiCall('DynamoDB', 'getItem', { TableName: sideEffects.tableName, Key: { id: { S: KEY } }, ConsistentRead: true })
  .assertAtPath('Item.runs.N', ExpectedResult.exact(1)),
'the body ran exactly once: the side-effect counter of the key is 1');
chain(duplicates, once);

app.synth();
