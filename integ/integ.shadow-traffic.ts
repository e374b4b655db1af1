// Integ test: shadow traffic off the user path, on a REST API and on an HTTP API.
//
// Each API has a route integrated with a live alias (a function wrapped with the runtime's shadowTap) and a
// ShadowIntegration that mirrors every read (sampleRate 1) to a shadow function. The shadow function is granted write
// access to a scratch table, yet its writes must be denied: ShadowIntegration's explicit Deny wins over any Allow.
// Claims, per API: the route answers 200 through the live alias; a mirrored read was replayed and scored (a row in the
// integration's results table with outcome "scored"); the shadow, invoked with a write, gets AccessDeniedException; the
// scratch table stays empty.
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ExpectedResult, IApiCall, IntegTest, InvocationType, Match } from '@aws-cdk/integ-tests-alpha';
import { Construct } from 'constructs';
import { ShadowIntegration } from '../lib';
import { integApp } from './support/app';
import { chain, claim } from './support/assertions';
import { bundledFunction, destroyedLogGroup, destroyLogsWithStack } from './support/demo';

/** The shadow: answers replays like the live function; `{ op: 'write-probe' }` tries one DynamoDB write and says what happened. */
const SHADOW_CODE = `
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');
const client = new DynamoDBClient({});
exports.handler = async (event) => {
  if (event && event.op === 'write-probe') {
    try {
      await client.send(new PutItemCommand({ TableName: process.env.SCRATCH_TABLE, Item: { id: { S: 'written-by-the-shadow' } } }));
      return { write: 'Succeeded', shadowMode: process.env.GUARDRAILS_SHADOW_MODE || 'unset' };
    } catch (error) {
      return { write: error.name, shadowMode: process.env.GUARDRAILS_SHADOW_MODE || 'unset' };
    }
  }
  const q = (event && event.queryStringParameters && event.queryStringParameters.q) || '';
  return { statusCode: 200, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ answer: 'A canary release sends a small share of live traffic to the new version. (' + q.length + ' characters asked)' }) };
};
`;

const app = integApp();
const stack = new Stack(app, 'GuardrailsIntegShadow', { description: 'cdk-rollout-guardrails integ: shadow traffic on a REST and an HTTP API' });
destroyLogsWithStack(stack);
const scratch = new dynamodb.Table(stack, 'Scratch', {
  partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
  billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
  removalPolicy: RemovalPolicy.DESTROY,
});

/** A live alias (a tapped function) and a shadow that is allowed, then denied, writes to the scratch table. */
function pair(scope: Construct, id: string): { live: lambda.Alias; shadow: lambda.Function } {
  const liveFn = bundledFunction(scope, `${id}Live`, 'tapped-answer.ts', { description: `cdk-rollout-guardrails integ: live answering function (${id})` });
  const live = new lambda.Alias(scope, `${id}LiveAlias`, { aliasName: 'live', version: liveFn.currentVersion });
  const shadow = new lambda.Function(scope, `${id}Shadow`, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(SHADOW_CODE),
    timeout: Duration.seconds(10),
    description: `cdk-rollout-guardrails integ: shadow answering function (${id})`,
    environment: { SCRATCH_TABLE: scratch.tableName },
    logGroup: destroyedLogGroup(scope, `${id}ShadowLogs`),
  });
  // An explicit Allow, so that only ShadowIntegration's Deny can stop the write.
  scratch.grantWriteData(shadow);
  return { live, shadow };
}

const rest = new apigw.RestApi(stack, 'RestApi', { deployOptions: { stageName: 'integ' }, cloudWatchRole: false });
// The test's API is public by design, like the example app's: it answers from a bundled corpus for the assertions.
Validations.of(rest).acknowledge(
  { id: 'AwsSolutions::AwsSolutions-APIG4', reason: 'A public test API answering from a bundled corpus; it lives for one integration run.' },
  { id: 'AwsSolutions::AwsSolutions-COG4', reason: 'A public test API: there are no users to authenticate.' },
);
const restPair = pair(stack, 'Rest');
const restShadow = new ShadowIntegration(stack, 'RestMirror', {
  api: rest, method: 'GET', path: '/answer', live: restPair.live, shadow: restPair.shadow, sampleRate: 1, maxMirrorRps: 5, answerPath: '$.answer',
});

const http = new apigwv2.HttpApi(stack, 'HttpApi');
const httpPair = pair(stack, 'Http');
const httpShadow = new ShadowIntegration(stack, 'HttpMirror', {
  api: http, method: 'GET', path: '/answer', live: httpPair.live, shadow: httpPair.shadow, sampleRate: 1, maxMirrorRps: 5, answerPath: '$.answer',
});

const integ = new IntegTest(app, 'ShadowTraffic', { testCases: [stack], stackUpdateWorkflow: false, diffAssets: false });

const writesTried: IApiCall[] = [];
for (const [name, url, integration, shadow] of [
  ['REST API', `${rest.urlForPath('/answer')}?q=canary`, restShadow, restPair.shadow],
  ['HTTP API', `${http.apiEndpoint}/answer?q=canary`, httpShadow, httpPair.shadow],
] as const) {
  const served = claim(integ.assertions.httpApiCall(url).expect(ExpectedResult.objectLike({ status: 200, body: Match.objectLike({ answer: Match.stringLikeRegexp('^A canary release') }) })),
    `${name}: GET /answer answers 200 through the live alias`);
  const mirrored = claim(integ.assertions.awsApiCall('DynamoDB', 'scan', { TableName: integration.resultsTable.tableName, Limit: 1 })
    .assertAtPath('Items.0.outcome.S', ExpectedResult.exact('scored'))
    .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(15) }),
  `${name}: the read was mirrored to the shadow off the user path and scored (a row with outcome "scored" in the results table)`);
  const denied = claim(integ.assertions.invokeFunction({ functionName: shadow.functionName, invocationType: InvocationType.REQUEST_RESPONSE, payload: JSON.stringify({ op: 'write-probe' }) })
    .expect(ExpectedResult.objectLike({ Payload: Match.serializedJson(Match.objectLike({ write: 'AccessDeniedException', shadowMode: 'true' })) })),
  `${name}: the shadow function, although granted dynamodb:PutItem, is denied the write (AccessDeniedException) and runs in shadow mode`);
  writesTried.push(chain(served, mirrored, denied));
}
// After both shadows tried to write (a whole-response match: integ-tests reads a flattened 0 as "no value").
const empty = claim(integ.assertions.awsApiCall('DynamoDB', 'scan', { TableName: scratch.tableName, Select: 'COUNT', ConsistentRead: true })
  .expect(ExpectedResult.objectLike({ Count: 0 })),
'no shadow write reached the scratch table');
for (const tried of writesTried) tried.next(empty);

app.synth();
