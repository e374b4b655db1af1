import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { DISPATCHER_ENV } from 'cdk-rollout-guardrails-runtime/contract';
import { parseJsonPath } from 'cdk-rollout-guardrails-runtime/contract';
import { DispatcherConfig, dispatch } from './dispatch';
import { TokenBucket, environmentBudget } from './logic';
import { BatchMetrics } from './metrics';
import { DynamoResultsStore } from './store';


let lambdaClient: LambdaClient | undefined;
let dynamoClient: DynamoDBClient | undefined;
let budget: TokenBucket | undefined;
let config: DispatcherConfig | undefined;

function readConfig(): DispatcherConfig {
  const env = process.env;
  const num = (name: string): number => {
    const value = Number(env[name]);
    if (env[name] === undefined || !Number.isFinite(value)) throw new Error(`mirror dispatcher: ${name} must be a number, got: ${JSON.stringify(env[name])}`);
    return value;
  };
  const maxMirrorRps = num(DISPATCHER_ENV.maxMirrorRps);
  const concurrency = num(DISPATCHER_ENV.reservedConcurrency);
  return {
    shadowName: env[DISPATCHER_ENV.shadowName] ?? 'shadow',
    maxEventBytes: num(DISPATCHER_ENV.maxEventBytes),
    redact: (JSON.parse(env[DISPATCHER_ENV.redactPaths] ?? '[]') as string[]).map((p) => parseJsonPath(p)),
    answerPath: env[DISPATCHER_ENV.answerPath] ? parseJsonPath(env[DISPATCHER_ENV.answerPath]!) : undefined,
    shadowTimeoutMs: num(DISPATCHER_ENV.shadowTimeoutMs),
    resultsTtlSeconds: num(DISPATCHER_ENV.resultsTtlSeconds),
    maxInFlight: Math.max(1, Math.min(10, Math.ceil(maxMirrorRps / concurrency))),
  };
}

/** The Lambda entry point. */
export async function handler(event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<BatchMetrics> {
  config ??= readConfig();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lambdaSdk = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynamoSdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  // One attempt: a retried replay would add load the budget did not pay for.
  lambdaClient ??= new lambdaSdk.LambdaClient({ maxAttempts: 1 });
  dynamoClient ??= new dynamoSdk.DynamoDBClient({});
  budget ??= environmentBudget(Number(process.env[DISPATCHER_ENV.maxMirrorRps]), Number(process.env[DISPATCHER_ENV.reservedConcurrency]), Date.now());
  const shadowFunction = process.env[DISPATCHER_ENV.shadowFunction]!;
  const client = lambdaClient;
  return dispatch(event, config, {
    invoke: (payload, signal) => client.send(new lambdaSdk.InvokeCommand({
      FunctionName: shadowFunction,
      Payload: Buffer.from(payload),
      LogType: 'Tail',
    }), { abortSignal: signal }),
    store: new DynamoResultsStore(dynamoClient, process.env[DISPATCHER_ENV.resultsTable]!, dynamoSdk),
    budget,
    deadline: context?.getRemainingTimeInMillis ? Date.now() + context.getRemainingTimeInMillis() : undefined,
  });
}

/** For tests: forget the clients, the budget and the configuration read from the environment. */
export function resetForTests(): void {
  lambdaClient = undefined;
  dynamoClient = undefined;
  budget = undefined;
  config = undefined;
}
