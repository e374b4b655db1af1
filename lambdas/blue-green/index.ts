// The blue-green functions share one bundle: the hook (CodeDeploy's BeforeAllowTraffic and AfterAllowTraffic
// hook of every blue-green alias, and the safety net on FAILURE/STOP) and the worker (in the state machine).
// Each function's handler names its export.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { hookClient } from '../shared/hook-clients';
import { createHookHandler } from './hook';
import { createWorkerHandler, publishClientConfig } from './worker';

export { decideHold } from './hold-engine';
export { checkInvariants } from './invariants';

/** The hook and safety net (index.hook): a CodeDeploy hook, so its clients are bounded (see hook-clients.ts). */
export const hook = createHookHandler({
  codedeploy: hookClient(CodeDeployClient),
  lambda: hookClient(LambdaClient),
  sfn: hookClient(SFNClient),
  stateMachineArn: process.env.STATE_MACHINE_ARN ?? '',
});

/** The state machine's worker (index.worker). Its publishes are bounded: a notification never holds up a report for long. */
export const worker = createWorkerHandler({
  lambda: new LambdaClient({}),
  cloudwatch: new CloudWatchClient({}),
  sns: new SNSClient(publishClientConfig()),
  dynamodb: new DynamoDBClient({}),
});
