import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { CloudFormationCustomResourceEvent, CloudFormationCustomResourceResponse, Context } from 'aws-lambda';
import * as http from 'http';
import * as https from 'https';
import { AliasState, controlVersionFor, parseRequest } from './logic';

/**
 * Custom resource that tells the gate alarms which version is the control of a rollout: on each deployment
 * CloudFormation updates it before the alias, so GetAlias still returns the version users are on.
 */
const lambda = new LambdaClient({});

export async function handler(event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'logStreamName'>): Promise<CloudFormationCustomResourceResponse> {
  const physicalId = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
  let response: CloudFormationCustomResourceResponse;
  try {
    const request = parseRequest(event.ResourceProperties);
    const id = physicalId ?? `${request.FunctionName}:${request.AliasName}:control`;
    if (event.RequestType === 'Delete') {
      response = success(event, id, {});
    } else {
      const controlVersion = controlVersionFor(await readAlias(request.FunctionName, request.AliasName), request.TargetVersion);
      response = success(event, id, { ControlVersion: controlVersion });
    }
  } catch (error) {
    const reason = `${(error as Error).message} (log stream: ${context?.logStreamName ?? 'unknown'})`;
    response = {
      Status: 'FAILED',
      Reason: reason,
      // A failed Create must still carry an ID; reusing the request ID keeps CloudFormation from deleting another resource.
      PhysicalResourceId: physicalId ?? event.RequestId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    };
  }
  await send(event.ResponseURL, response);
  return response;
}

async function readAlias(functionName: string, aliasName: string): Promise<AliasState | undefined> {
  try {
    return await lambda.send(new GetAliasCommand({ FunctionName: functionName, Name: aliasName }));
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function success(event: CloudFormationCustomResourceEvent, id: string, data: Record<string, string>): CloudFormationCustomResourceResponse {
  return {
    Status: 'SUCCESS',
    PhysicalResourceId: id,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: data,
  };
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
