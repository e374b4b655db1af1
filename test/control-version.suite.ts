import * as http from 'http';
import { AddressInfo } from 'net';
import { GetAliasCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { handler } from '../lambdas/control-version';
import { controlVersionFor, parseEntries } from '../lambdas/control-version/logic';

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

const ENTRIES = [
  { Key: 'VAAAA00000', FunctionName: 'answer', AliasName: 'live', TargetVersion: '8' },
  { Key: 'VBBBB00001', FunctionName: 'search', AliasName: 'prod', TargetVersion: '3' },
];

function event(type: 'Create' | 'Update' | 'Delete', props: Record<string, unknown> = { Aliases: ENTRIES }): CloudFormationCustomResourceEvent {
  const base = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/demo/1',
    RequestId: 'req-1',
    LogicalResourceId: 'ControlVersions',
    ResourceType: 'Custom::GuardrailsControlVersions',
    ResourceProperties: { ServiceToken: 'x', ...props },
  };
  if (type === 'Create') return { ...base, RequestType: 'Create' };
  return { ...base, RequestType: type, PhysicalResourceId: 'rollout-guardrails-control-versions', OldResourceProperties: {} } as CloudFormationCustomResourceEvent;
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

describe('parseEntries', () => {
  test('names the entry and field at fault, with the value', () => {
    expect(() => parseEntries({ Aliases: [{ ...ENTRIES[0], AliasName: '' }] })).toThrow(
      'control-version: Aliases[0].AliasName must be a non-empty string, got: ""');
    expect(() => parseEntries({ Aliases: [ENTRIES[0], { Key: 'k', FunctionName: 'f', AliasName: 'a' }] })).toThrow(
      /Aliases\[1\]\.TargetVersion must be a non-empty string, got: undefined/);
    expect(() => parseEntries({})).toThrow('control-version: the resource property Aliases must be a list, got: undefined');
    expect(() => parseEntries({ Aliases: [ENTRIES[0], ENTRIES[0]] })).toThrow('control-version: Aliases[1].Key repeats "VAAAA00000"');
  });
});

describe('the control-version handler', () => {
  test('on update reports, per alias, the version it serves before CloudFormation moves it', async () => {
    lambdaMock.on(GetAliasCommand, { FunctionName: 'answer', Name: 'live' }).resolves({ FunctionVersion: '7', Name: 'live' });
    lambdaMock.on(GetAliasCommand, { FunctionName: 'search', Name: 'prod' }).resolves({ FunctionVersion: '2', Name: 'prod' });
    const response = await handler(event('Update'));
    expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'rollout-guardrails-control-versions', Data: { VAAAA00000: '7', VBBBB00001: '2' } });
    expect(received).toEqual([{ method: 'PUT', body: response }]);
  });

  test('on create, with no aliases yet, reports each target as its own control', async () => {
    lambdaMock.on(GetAliasCommand).rejects(new ResourceNotFoundException({ message: 'Alias not found', $metadata: {} }));
    const response = await handler(event('Create'));
    expect(response).toMatchObject({ Status: 'SUCCESS', Data: { VAAAA00000: '8', VBBBB00001: '3' } });
    expect(received[0].body.Data).toEqual({ VAAAA00000: '8', VBBBB00001: '3' });
  });

  test('reads many aliases with bounded concurrency and answers every one', async () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ Key: `V${i}`, FunctionName: `fn${i}`, AliasName: 'live', TargetVersion: String(i + 2) }));
    let inFlight = 0;
    let peak = 0;
    lambdaMock.on(GetAliasCommand).callsFake(async (input) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 2));
      inFlight--;
      return { FunctionVersion: String(Number(input.FunctionName.slice(2)) + 1) };
    });
    const response = await handler(event('Update', { Aliases: many }));
    expect(Object.keys(response.Data ?? {})).toHaveLength(40);
    expect(response.Data?.V39).toBe('40');
    expect(peak).toBeLessThanOrEqual(5);
  });

  test('on delete reads nothing and succeeds', async () => {
    const response = await handler(event('Delete'));
    expect(response.Status).toBe('SUCCESS');
    expect(lambdaMock.commandCalls(GetAliasCommand)).toHaveLength(0);
    expect(received).toHaveLength(1);
  });

  test('reports FAILED with the alias and the reason when Lambda refuses, so the deployment stops rather than guessing', async () => {
    lambdaMock.on(GetAliasCommand).rejects(Object.assign(new Error('User is not authorized to perform: lambda:GetAlias'), { name: 'AccessDeniedException' }));
    const response = await handler(event('Update'), { logStreamName: '2026/11/22/[$LATEST]abc' });
    expect(response.Status).toBe('FAILED');
    expect(response.Reason).toMatch(/GetAlias (answer:live|search:prod) failed: User is not authorized to perform: lambda:GetAlias/);
    expect(response.Reason).toContain('2026/11/22/[$LATEST]abc');
    expect(response.PhysicalResourceId).toBe('rollout-guardrails-control-versions');
    expect(received[0].body.Status).toBe('FAILED');
  });

  test('reports FAILED for bad properties on create, with the request ID as physical ID', async () => {
    const response = await handler(event('Create', { Aliases: 'not a list' }));
    expect(response).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'req-1' });
    expect(response.Reason).toMatch(/Aliases must be a list/);
  });
});
