// What test/helpers/suites.ts promises the suites of a group: each keeps its own aws-sdk-client-mock stubs of a client
// class and its own environment, though they are all collected before any of them runs.
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import { suite } from './helpers/suites';

const versionOf = async () => (await new LambdaClient({ region: 'eu-west-1' }).send(new GetAliasCommand({ FunctionName: 'f', Name: 'live' }))).FunctionVersion;
const KEY = 'GUARDRAILS_SUITES_ISOLATION';

suite('first', () => {
  // Made while collected, before the second suite mocks the same class.
  const lambda = mockClient(LambdaClient);
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '1' });
  process.env[KEY] = 'first, collected';

  test('its class mock answers, not the one the second suite made after it', async () => {
    expect(await versionOf()).toBe('1');
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(1);
  });

  test('its environment is the one it set while collected', () => {
    expect(process.env[KEY]).toBe('first, collected');
    process.env[KEY] = 'first, changed by a test';
  });
});

suite('second', () => {
  const lambda = mockClient(LambdaClient);
  lambda.on(GetAliasCommand).resolves({ FunctionVersion: '2' });

  test('its class mock answers, with the calls of its own tests only', async () => {
    expect(await versionOf()).toBe('2');
    expect(lambda.commandCalls(GetAliasCommand)).toHaveLength(1);
  });

  test('sees nothing of the first suite\'s environment', () => {
    expect(process.env[KEY]).toBeUndefined();
  });

  test('a mock made by a test is taken off with the suite too', () => {
    mockClient(LambdaClient).on(GetAliasCommand).resolves({ FunctionVersion: '3' });
  });
});

describe('after both suites', () => {
  test('the client class has its own send again, and the environment is as before', () => {
    expect(Object.prototype.hasOwnProperty.call(LambdaClient.prototype, 'send')).toBe(false);
    expect(process.env[KEY]).toBeUndefined();
  });
});
