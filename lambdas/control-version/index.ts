import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse, Context } from 'aws-lambda';
import * as http from 'http';
import * as https from 'https';
import { AliasEntry, AliasState, controlVersionFor, parseEntries } from './logic';

/**
 * The custom resource that tells the gate alarms of every GuardedAlias in a stack which version is the
 * control of the rollout: CloudFormation updates it before any of the aliases, so GetAlias still returns
 * the versions users are on.
 */
const lambda = new LambdaClient({});
const PHYSICAL_ID = 'rollout-guardrails-control-versions';
/** GetAlias calls in flight at once: well under Lambda's control-plane rate for a stack's worth of aliases. */
const CONCURRENCY = 5;

export async function handler(event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'logStreamName'>): Promise<CloudFormationCustomResourceResponse> {
  const envelope = { StackId: event.StackId, RequestId: event.RequestId, LogicalResourceId: event.LogicalResourceId };
  let response: CloudFormationCustomResourceResponse;
  try {
    const entries = parseEntries(event.ResourceProperties);
    const data = event.RequestType === 'Delete' ? {} : await resolveAll(entries);
    response = { ...envelope, Status: 'SUCCESS', PhysicalResourceId: PHYSICAL_ID, Data: data };
  } catch (error) {
    response = {
      ...envelope,
      Status: 'FAILED',
      Reason: `${(error as Error).message} (log stream: ${context?.logStreamName ?? 'unknown'})`,
      // A failed Create still needs an ID; a fresh one keeps CloudFormation from deleting anything real.
      PhysicalResourceId: event.RequestType === 'Create' ? event.RequestId : event.PhysicalResourceId,
    };
  }
  await send(event.ResponseURL, response);
  return response;
}

async function resolveAll(entries: AliasEntry[]): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  let next = 0;
  const worker = async () => {
    while (next < entries.length) {
      const entry = entries[next++];
      data[entry.Key] = controlVersionFor(await readAlias(entry), entry.TargetVersion);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, entries.length) }, worker));
  return data;
}

async function readAlias(entry: AliasEntry): Promise<AliasState | undefined> {
  try {
    return await lambda.send(new GetAliasCommand({ FunctionName: entry.FunctionName, Name: entry.AliasName }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw new Error(`control-version: GetAlias ${entry.FunctionName}:${entry.AliasName} failed: ${(error as Error).message}`, { cause: error });
  }
}

/** PUTs the response to CloudFormation's pre-signed URL (http on loopback in tests). */
function send(url: string, body: CloudFormationCustomResourceResponse): Promise<void> {
  const payload = JSON.stringify(body);
  const target = new URL(url);
  const transport = target.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = transport.request(target, {
      method: 'PUT',
      headers: { 'content-type': '', 'content-length': Buffer.byteLength(payload) },
      timeout: 10_000,
    }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode && res.statusCode < 300 ? resolve() : reject(new Error(`CloudFormation response URL answered ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timed out sending the response to CloudFormation')));
    req.on('error', reject);
    req.end(payload);
  });
}
