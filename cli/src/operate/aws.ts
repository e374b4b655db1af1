// The AWS clients of the live commands (status, pause, resume, promote, abort), with the caller's credentials and
// region (the SDK's default chain; AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> as SDK v3 reads them). No call
// may hang the terminal: each attempt has a connection and a request timeout (a request timeout alone only logs a
// warning in this SDK version, hence throwOnRequestTimeout), and each call as a whole a deadline over its attempts.
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** How long the CLI waits for AWS. */
export interface CallBounds {
  /** Milliseconds to open a connection. */
  readonly connectionTimeoutMs: number;
  /** Milliseconds an attempt may wait for its answer. */
  readonly requestTimeoutMs: number;
  /** Attempts of one call (the SDK's retries included). */
  readonly maxAttempts: number;
  /** Milliseconds one call may take over all its attempts and back-offs. */
  readonly callTimeoutMs: number;
}

/** The defaults: a call that gets no answer is given up after 30 s at the most. */
export const DEFAULT_CALL_BOUNDS: CallBounds = { connectionTimeoutMs: 3_000, requestTimeoutMs: 10_000, maxAttempts: 3, callTimeoutMs: 30_000 };

/** The clients the live commands use. */
export interface OperateClients {
  readonly cloudformation: CloudFormationClient;
  readonly codedeploy: CodeDeployClient;
  readonly sfn: SFNClient;
  readonly dynamodb: DynamoDBClient;
  readonly cloudwatch: CloudWatchClient;
  readonly sts: STSClient;
  /** The deadline of one call. */
  readonly callTimeoutMs: number;
  destroy(): void;
}

/** Makes the clients, each with a bounded request handler. */
export function makeClients(bounds: CallBounds = DEFAULT_CALL_BOUNDS): OperateClients {
  // The SDK warns on each run under Node.js 20 that its releases after January 2027 will need Node.js 22. The bin
  // carries the SDK it was bundled with, which no later release changes; the package supports Node.js 20 (engines).
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config = () => ({
    maxAttempts: bounds.maxAttempts,
    requestHandler: new NodeHttpHandler({ connectionTimeout: bounds.connectionTimeoutMs, requestTimeout: bounds.requestTimeoutMs, throwOnRequestTimeout: true }),
  });
  const clients = {
    cloudformation: new CloudFormationClient(config()),
    codedeploy: new CodeDeployClient(config()),
    sfn: new SFNClient(config()),
    dynamodb: new DynamoDBClient(config()),
    cloudwatch: new CloudWatchClient(config()),
    sts: new STSClient(config()),
  };
  return { ...clients, callTimeoutMs: bounds.callTimeoutMs, destroy: () => Object.values(clients).forEach((c) => c.destroy()) };
}

/** An AWS call that failed: main.ts prints the call, the error's name and message, and exits 3. */
export class AwsCallError extends Error {
  constructor(readonly call: string, readonly awsName: string, readonly awsMessage: string) {
    super(`${call} failed: ${awsName}: ${awsMessage}`);
    this.name = 'AwsCallError';
  }
}

/** The name of an SDK error (its exception name, or the error class's). */
export const errorName = (error: unknown): string => String((error as { name?: unknown })?.name ?? 'Error');

/**
 * Sends one call, bounded by the clients' call deadline. An error whose name is in `expected` is thrown as the SDK
 * threw it, for the caller to handle; any other becomes an AwsCallError naming `what` (e.g. `CodeDeploy GetDeployment`).
 */
export async function call<T>(
  clients: Pick<OperateClients, 'callTimeoutMs'>, what: string,
  send: (options: { abortSignal: AbortSignal }) => Promise<T>, expected: readonly string[] = [],
): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  // The deadline both aborts the request and settles the call, whatever the request does with the signal.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Error('deadline'));
    }, clients.callTimeoutMs);
  });
  try {
    return await Promise.race([send({ abortSignal: abort.signal }), deadline]);
  } catch (error) {
    if (expected.includes(errorName(error))) throw error;
    if (abort.signal.aborted) throw new AwsCallError(what, 'TimeoutError', `no answer within ${clients.callTimeoutMs / 1000} s`);
    const message = (error as Error)?.message ?? String(error);
    throw new AwsCallError(what, errorName(error), message === 'Region is missing' ? `${message} (set AWS_REGION, or a region in your AWS profile)` : message);
  } finally {
    clearTimeout(timer);
  }
}
