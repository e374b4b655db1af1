import * as fs from 'fs';
import * as path from 'path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { GoldItem, parseGoldSet } from 'cdk-rollout-guardrails-runtime/contract';
import { PROBE_ANSWERS_TABLE_ENV, ProbeConfig } from 'cdk-rollout-guardrails-runtime/contract';
import { hookClient } from '../shared/hook-clients';
import { dynamoAnswerStore } from './answer-store';
import { createHookHandler } from './hook';

/** The files the DeltaSProbe construct puts beside this handler. */
export const CONFIG_FILE = 'probe-config.json';
export const GOLD_SET_FILE = 'gold-set.jsonl';

let loaded: { config: ProbeConfig; gold: GoldItem[] } | undefined;

/**
 * Reads the configuration and the gold set once per execution environment, from the handler's own folder
 * (or `GUARDRAILS_PROBE_DIR`, which tests set).
 */
export function loadProbeFiles(dir: string = process.env.GUARDRAILS_PROBE_DIR ?? __dirname): { config: ProbeConfig; gold: GoldItem[] } {
  if (loaded) return loaded;
  const config = JSON.parse(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8')) as ProbeConfig;
  const gold = parseGoldSet(fs.readFileSync(path.join(dir, GOLD_SET_FILE), 'utf8'));
  loaded = { config, gold };
  return loaded;
}

/**
 * The ΔS probe as a CodeDeploy BeforeAllowTraffic / AfterAllowTraffic hook (see hook.ts). Its clients are
 * bounded (see hook-clients.ts), but for the invocations of the versions under test: the probe and the warm
 * gate cut those off themselves (their own signal, the probe's `invokeTimeout`), which may be longer than a
 * control-plane call may take. They keep the SDK's default three attempts.
 */
export const handler = createHookHandler({
  load: () => loadProbeFiles(),
  lambda: hookClient(LambdaClient, { callerBounded: ['InvokeCommand'], maxAttempts: 3 }),
  codedeploy: hookClient(CodeDeployClient),
  cloudwatch: hookClient(CloudWatchClient),
  // The answer table, with reuseCurrentAnswers: its client made at first use, so a probe without one loads no more.
  answers: answerStoreFromEnv(),
  // Stage 0 (requireShadow): its clients made at first use, so a probe without the requirement loads neither.
  shadow: shadowClients(),
});

function shadowClients() {
  let dynamodb: DynamoDBClient | undefined;
  let sns: SNSClient | undefined;
  return {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    dynamodb: () => (dynamodb ??= hookClient((require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')).DynamoDBClient)),
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sns: () => (sns ??= hookClient((require('@aws-sdk/client-sns') as typeof import('@aws-sdk/client-sns')).SNSClient)),
  };
}

/** The answer table the construct names in PROBE_ANSWERS_TABLE_ENV, or none. */
function answerStoreFromEnv() {
  const table = process.env[PROBE_ANSWERS_TABLE_ENV];
  if (!table) return undefined;
  let client: DynamoDBClient | undefined;
  // Required at first use, with CommonJS resolution (NODE_PATH, register LAM-8), like the clients above.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return dynamoAnswerStore(() => (client ??= hookClient((require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb')).DynamoDBClient)), table);
}
