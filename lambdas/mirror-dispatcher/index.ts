import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { DISPATCHER_ENV } from 'cdk-rollout-guardrails-runtime/contract';
import { parseJsonPath } from 'cdk-rollout-guardrails-runtime/contract';
import { DispatcherConfig, dispatch } from './dispatch';
import { TokenBucket, environmentBudget } from './logic';
import { BatchMetrics } from './metrics';
import { ReleaseLookup, qualifierOf, unqualifiedArn } from './release';
import { ANSWER_SCHEMA_ENV, AnswerCheck, compileAnswerSchema } from './schema';
import { DynamoResultsStore } from './store';
import { DynamoSummaryStore } from './summary';

let lambdaClient: LambdaClient | undefined;
let configClient: LambdaClient | undefined;
let releases: ReleaseLookup | undefined;
let answerCheck: AnswerCheck | undefined;
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
  if (!config) {
    // A schema the constructs accepted at synth compiles here with the same code; one that does not fails every
    // invocation loudly (the configuration stays unread) rather than letting answers pass unchecked.
    const schema = process.env[ANSWER_SCHEMA_ENV];
    answerCheck = schema ? compileAnswerSchema(JSON.parse(schema)) : undefined;
    config = readConfig();
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const lambdaSdk = require('@aws-sdk/client-lambda') as typeof import('@aws-sdk/client-lambda');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dynamoSdk = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  // One attempt: a retried replay would add load the budget did not pay for.
  lambdaClient ??= new lambdaSdk.LambdaClient({ maxAttempts: 1 });
  dynamoClient ??= new dynamoSdk.DynamoDBClient({});
  // The configuration reads may retry (the SDK's default): they are not replays, and are cached per version.
  configClient ??= new lambdaSdk.LambdaClient({});
  budget ??= environmentBudget(Number(process.env[DISPATCHER_ENV.maxMirrorRps]), Number(process.env[DISPATCHER_ENV.reservedConcurrency]), Date.now());
  const shadowFunction = process.env[DISPATCHER_ENV.shadowFunction]!;
  const client = lambdaClient;
  const reader = configClient;
  // A replay that got no answer (a timeout, a failed invoke) belongs to what the dispatcher invokes: the alias or
  // version in the shadow ARN, else $LATEST.
  releases ??= new ReleaseLookup(async (qualifier) => (await reader.send(new lambdaSdk.GetFunctionConfigurationCommand({
    FunctionName: unqualifiedArn(shadowFunction),
    Qualifier: qualifier ?? qualifierOf(shadowFunction),
  }))).Environment?.Variables);
  const table = process.env[DISPATCHER_ENV.resultsTable]!;
  return dispatch(event, config, {
    invoke: (payload, signal) => client.send(new lambdaSdk.InvokeCommand({
      FunctionName: shadowFunction,
      Payload: Buffer.from(payload),
      LogType: 'Tail',
    }), { abortSignal: signal }),
    store: new DynamoResultsStore(dynamoClient, table, dynamoSdk),
    summary: new DynamoSummaryStore(dynamoClient, table, config.resultsTtlSeconds, dynamoSdk),
    releases,
    answerCheck,
    budget,
    deadline: context?.getRemainingTimeInMillis ? Date.now() + context.getRemainingTimeInMillis() : undefined,
  });
}

/** For tests: forget the clients, the budget and the configuration read from the environment. */
export function resetForTests(): void {
  lambdaClient = undefined;
  configClient = undefined;
  releases = undefined;
  answerCheck = undefined;
  dynamoClient = undefined;
  budget = undefined;
  config = undefined;
}
