import * as http from 'http';
import { AddressInfo } from 'net';
import { GetAliasCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { handler } from '../lambdas/control-version';
import { controlVersionFor, parseRequest } from '../lambdas/control-version/logic';

const lambdaMock = mockClient(LambdaClient);

/** A loopback stand-in for CloudFormation's pre-signed response URL, recording what it is sent. */
let server: http.Server;
let responseUrl: string;
const received: any[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; });
    req.on('end', () => {
      received.push({ method: req.method, body: JSON.parse(body) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  responseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  lambdaMock.reset();
  received.length = 0;
});

function event(type: 'Create' | 'Update' | 'Delete', props: Record<string, string> = { FunctionName: 'answer', AliasName: 'live', TargetVersion: '8' }): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/demo/1',
    RequestId: 'req-1',
    LogicalResourceId: 'GuardedControlVersion',
    ResourceType: 'Custom::GuardrailsControlVersion',
    ResourceProperties: { ServiceToken: 'x', ...props },
  };
  if (type === 'Create') return { ...base, RequestType: 'Create' };
  return { ...base, RequestType: type, PhysicalResourceId: 'answer:live:control', OldResourceProperties: {} } as CloudFormationCustomResourceEvent;
}

describe('controlVersionFor', () => {
  test('is the version the alias serves before the update', () => {
    expect(controlVersionFor({ FunctionVersion: '7' }, '8')).toBe('7');
  });
  test('is the target itself when there is no alias yet, or it points at $LATEST', () => {
    expect(controlVersionFor(undefined, '1')).toBe('1');
    expect(controlVersionFor({ FunctionVersion: '$LATEST' }, '3')).toBe('3');
  });
});

describe('parseRequest', () => {
  test('names the missing property and its value', () => {
    expect(() => parseRequest({ FunctionName: 'answer', AliasName: '' })).toThrow(
      'control-version: the resource property AliasName must be a non-empty string, got: ""');
    expect(() => parseRequest({ FunctionName: 'answer', AliasName: 'live' })).toThrow(/TargetVersion must be a non-empty string, got: undefined/);
  });
});

describe('the control-version handler', () => {
  test('on update reports the version the alias serves, before CloudFormation moves it', async () => {
    lambdaMock.on(GetAliasCommand, { FunctionName: 'answer', Name: 'live' }).resolves({ FunctionVersion: '7', Name: 'live' });
    const response = await handler(event('Update'));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'answer:live:control', Data: { ControlVersion: '7' } });
    expect(received).toEqual([{ method: 'PUT', body: response }]);
  });

  test('on create, with no alias yet, reports the target as its own control', async () => {
    lambdaMock.on(GetAliasCommand).rejects(new ResourceNotFoundException({ message: 'Alias not found', $metadata: {} }));
    const response = await handler(event('Create'));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'answer:live:control', Data: { ControlVersion: '8' } });
    expect(received[0].body.Data).toEqual({ ControlVersion: '8' });
  });

  test('on delete reads nothing and succeeds', async () => {
    const response = await handler(event('Delete'));
    expect(response.Status).toBe('SUCCESS');
    expect(lambdaMock.commandCalls(GetAliasCommand)).toHaveLength(0);
    expect(received).toHaveLength(1);
  });

  test('reports FAILED with the reason when Lambda refuses, so the deployment stops rather than guessing', async () => {
    lambdaMock.on(GetAliasCommand).rejects(Object.assign(new Error('User is not authorized to perform: lambda:GetAlias'), { name: 'AccessDeniedException' }));
    const response = await handler(event('Update'), { logStreamName: '2026/11/22/[$LATEST]abc' });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toContain('not authorized to perform: lambda:GetAlias');
    expect(response.Reason).toContain('2026/11/22/[$LATEST]abc');
    expect(response.PhysicalResourceId).toBe('answer:live:control');
    expect(received[0].body.Status).toBe('FAILED');
  });

  test('reports FAILED for missing properties on create, with the request ID as physical ID', async () => {
    const response = await handler(event('Create', { FunctionName: 'answer', AliasName: 'live' }));
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'req-1' });
    expect(response.Reason).toMatch(/TargetVersion/);
  });
});
