// The staged rollout's functions share one bundle: the gate (in the state machine), the starter (the
// BeforeAllowTraffic hook), the safety net (on FAILURE/STOP) and the warm gate (with a ProvisionedWarmup). Each function's handler names its export.
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient } from '@aws-sdk/client-sfn';
import { hookClient } from '../shared/hook-clients';
import { createGateHandler } from './gate';
import { stagedCohortsFromEnv } from './cohort-clear';
import { createSafetyNetHandler } from './safety-net';
import { createStarterHandler } from './starter';
import { createWarmHandler } from './warm';

const stateMachineArn = process.env.STATE_MACHINE_ARN ?? '';

/** The gate function (index.gate). */
export const gate = createGateHandler({ cloudwatch: new CloudWatchClient({}), lambda: new LambdaClient({}), dynamodb: new DynamoDBClient({}) });

/** The starter hook (index.start): a CodeDeploy hook, so its clients are bounded (see hook-clients.ts). */
export const start = createStarterHandler({ codedeploy: hookClient(CodeDeployClient), sfn: hookClient(SFNClient), lambda: hookClient(LambdaClient), stateMachineArn });

/** The safety net (index.safetyNet). */
const cohorts = stagedCohortsFromEnv();
export const safetyNet = createSafetyNetHandler({
  codedeploy: new CodeDeployClient({}), lambda: new LambdaClient({}), sfn: new SFNClient({}), stateMachineArn,
  cohorts, dynamodb: Object.keys(cohorts).length > 0 ? new DynamoDBClient({}) : undefined,
});

/** The warm gate (index.warm), for aliases with a ProvisionedWarmup. */
export const warm = createWarmHandler({ lambda: new LambdaClient({}) });
