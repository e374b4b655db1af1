// The warm gate (lambdas/warmup/warm-gate.ts) against a mocked Lambda client and a fake clock: nothing sleeps.
import {
  DeleteProvisionedConcurrencyConfigCommand, GetAliasCommand, GetProvisionedConcurrencyConfigCommand, InvokeCommand,
  LambdaClient, ProvisionedConcurrencyConfigNotFoundException, PutProvisionedConcurrencyConfigCommand, ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { hookPhase, prewarm, PrewarmOptions, releaseWarmup, WarmGateDeps } from '../lambdas/warmup/warm-gate';
import { isWarmPing } from '../lambdas/runtime/release';

const lambda = mockClient(LambdaClient);
const notFound = () => new ProvisionedConcurrencyConfigNotFoundException({ message: 'No Provisioned Concurrency Config found for this function', $metadata: {} });

let clock: number;
let sleeps: number[];
function deps(): WarmGateDeps {
  return {
    lambda: new LambdaClient({}),
    now: () => clock,
    sleep: async (ms) => { sleeps.push(ms); clock += ms; },
  };
}
const options = (extra: Partial<PrewarmOptions> = {}): PrewarmOptions => ({
  functionName: 'answer', version: '8', concurrency: 5, readyTimeoutMs: 60_000, pollMs: 5_000, pings: 3, ...extra,
});
const calls = <T>(command: new (input: any) => T) => lambda.commandCalls(command as any).map((c) => c.args[0].input as any);

beforeEach(() => {
  lambda.reset();
  clock = 1_000_000;
  sleeps = [];
  lambda.on(GetProvisionedConcurrencyConfigCommand).rejects(notFound());
  lambda.on(PutProvisionedConcurrencyConfigCommand).resolves({ Status: 'IN_PROGRESS', RequestedProvisionedConcurrentExecutions: 5 });
  lambda.on(DeleteProvisionedConcurrencyConfigCommand).resolves({});
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: Buffer.from('null') as never });
});

describe('prewarm', () => {
  test('READY at once: puts the temporary configuration on the version, does not wait, pings, keeps the configuration', async () => {
    lambda.on(PutProvisionedConcurrencyConfigCommand).resolves({ Status: 'READY', RequestedProvisionedConcurrentExecutions: 5 });
    const result = await prewarm(deps(), options());
    expect(result).toEqual({ ok: true, reasons: [], waitedMs: 0, status: 'READY', reused: false, pingsSent: 3, pingsFailed: 0 });
    expect(calls(PutProvisionedConcurrencyConfigCommand)).toEqual([{ FunctionName: 'answer', Qualifier: '8', ProvisionedConcurrentExecutions: 5 }]);
    expect(sleeps).toEqual([]);
    expect(calls(DeleteProvisionedConcurrencyConfigCommand)).toEqual([]);
  });

  test('IN_PROGRESS then READY: polls every pollMs and reports the time waited', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand)
      .rejectsOnce(notFound())
      .resolvesOnce({ Status: 'IN_PROGRESS', AllocatedProvisionedConcurrentExecutions: 2, RequestedProvisionedConcurrentExecutions: 5 })
      .resolves({ Status: 'READY', AllocatedProvisionedConcurrentExecutions: 5, RequestedProvisionedConcurrentExecutions: 5 });
    const result = await prewarm(deps(), options());
    expect(result).toMatchObject({ ok: true, status: 'READY', waitedMs: 10_000, pingsSent: 3, pingsFailed: 0 });
    expect(sleeps).toEqual([5_000, 5_000]);
    expect(calls(GetProvisionedConcurrencyConfigCommand)).toHaveLength(3);
    expect(calls(GetProvisionedConcurrencyConfigCommand).every((i) => i.FunctionName === 'answer' && i.Qualifier === '8')).toBe(true);
  });

  test('reuses an existing configuration of the same or a higher count rather than replacing it', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand).resolves({ Status: 'READY', RequestedProvisionedConcurrentExecutions: 8 });
    const result = await prewarm(deps(), options());
    expect(result).toMatchObject({ ok: true, reused: true, status: 'READY', waitedMs: 0 });
    expect(calls(PutProvisionedConcurrencyConfigCommand)).toEqual([]);
  });

  test('replaces an existing configuration that asks for less, or that FAILED', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand)
      .resolvesOnce({ Status: 'READY', RequestedProvisionedConcurrentExecutions: 2 })
      .resolves({ Status: 'READY', RequestedProvisionedConcurrentExecutions: 5 });
    expect(await prewarm(deps(), options())).toMatchObject({ ok: true, reused: false });
    expect(calls(PutProvisionedConcurrencyConfigCommand)).toHaveLength(1);

    lambda.resetHistory();
    lambda.on(GetProvisionedConcurrencyConfigCommand)
      .resolvesOnce({ Status: 'FAILED', RequestedProvisionedConcurrentExecutions: 9, StatusReason: 'old' })
      .resolves({ Status: 'READY', RequestedProvisionedConcurrentExecutions: 5 });
    expect(await prewarm(deps(), options())).toMatchObject({ ok: true, reused: false });
    expect(calls(PutProvisionedConcurrencyConfigCommand)).toHaveLength(1);
  });

  test('FAILED with FUNCTION_ERROR_INIT_FAILURE: fails quoting the reason, sends no ping, deletes the temporary configuration', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand)
      .rejectsOnce(notFound())
      .resolves({ Status: 'FAILED', StatusReason: 'FUNCTION_ERROR_INIT_FAILURE', RequestedProvisionedConcurrentExecutions: 5 });
    const result = await prewarm(deps(), options());
    expect(result).toEqual({
      ok: false,
      reasons: ['provisioned concurrency 5 on answer:8 FAILED after 5 s: FUNCTION_ERROR_INIT_FAILURE'],
      waitedMs: 5_000,
      status: 'FAILED',
      reused: false,
      pingsSent: 0,
      pingsFailed: 0,
      released: true,
    });
    expect(calls(InvokeCommand)).toEqual([]);
    expect(calls(DeleteProvisionedConcurrencyConfigCommand)).toEqual([{ FunctionName: 'answer', Qualifier: '8' }]);
  });

  test('the wait is bounded: after readyTimeout it fails naming the seconds waited, and deletes the configuration', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand)
      .rejectsOnce(notFound())
      .resolves({ Status: 'IN_PROGRESS', AllocatedProvisionedConcurrentExecutions: 3, RequestedProvisionedConcurrentExecutions: 5 });
    const result = await prewarm(deps(), options({ readyTimeoutMs: 12_000 }));
    expect(result.ok).toBe(false);
    expect(result.reasons).toEqual(['provisioned concurrency 5 on answer:8 was not READY after 12 s (readyTimeout 12 s; last status IN_PROGRESS, 3 of 5 allocated)']);
    expect(result).toMatchObject({ waitedMs: 12_000, status: 'IN_PROGRESS', pingsSent: 0, released: true });
    // Never sleeps past the deadline: 5 + 5 + the 2 s left.
    expect(sleeps).toEqual([5_000, 5_000, 2_000]);
    expect(calls(DeleteProvisionedConcurrencyConfigCommand)).toHaveLength(1);
    expect(calls(InvokeCommand)).toEqual([]);
  });

  test('a put that Lambda refuses fails the gate with the error, never throwing', async () => {
    lambda.on(PutProvisionedConcurrencyConfigCommand).rejects(Object.assign(new Error('Specified ConcurrentExecutions for function is greater than account\'s unreserved concurrency'), { name: 'InvalidParameterValueException' }));
    const result = await prewarm(deps(), options());
    expect(result).toMatchObject({ ok: false, status: 'NONE', pingsSent: 0, released: true });
    expect(result.reasons).toEqual(['could not put provisioned concurrency 5 on answer:8: InvalidParameterValueException: Specified ConcurrentExecutions for function is greater than account\'s unreserved concurrency']);
  });

  test('stops waiting when aborted (the hook\'s watchdog), and deletes the configuration', async () => {
    const controller = new AbortController();
    lambda.on(GetProvisionedConcurrencyConfigCommand).rejectsOnce(notFound()).callsFake(async () => {
      controller.abort();
      return { Status: 'IN_PROGRESS' };
    });
    const result = await prewarm(deps(), options({ signal: controller.signal }));
    expect(result.ok).toBe(false);
    expect(result.reasons[0]).toMatch(/^abandoned while waiting for provisioned concurrency on answer:8 after 5 s/);
    expect(calls(DeleteProvisionedConcurrencyConfigCommand)).toHaveLength(1);
  });

  test('a ping that errors fails the gate with the count and the first error, and the configuration is deleted', async () => {
    lambda.on(PutProvisionedConcurrencyConfigCommand).resolves({ Status: 'READY' });
    let n = 0;
    lambda.on(InvokeCommand).callsFake(async () => {
      n++;
      if (n === 2) return { StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('{"errorType":"TypeError","errorMessage":"boom"}') as never };
      if (n === 3) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      return { StatusCode: 200 };
    });
    const result = await prewarm(deps(), options({ pings: 4 }));
    expect(result).toMatchObject({ ok: false, pingsSent: 4, pingsFailed: 2, status: 'READY', released: true });
    expect(result.reasons).toEqual(['warm pings: 2 of 4 to answer:8 failed; the first: FunctionError Unhandled: {"errorType":"TypeError","errorMessage":"boom"}']);
    expect(calls(DeleteProvisionedConcurrencyConfigCommand)).toHaveLength(1);
  });

  test('a ping that does not answer in time counts as failed', async () => {
    lambda.on(PutProvisionedConcurrencyConfigCommand).resolves({ Status: 'READY' });
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
    const result = await prewarm(deps(), options({ pings: 2, pingTimeoutMs: 20 }));
    expect(result).toMatchObject({ ok: false, pingsFailed: 2 });
    expect(result.reasons[0]).toBe('warm pings: 2 of 2 to answer:8 failed; the first: TimeoutError: no answer within 20 ms');
  });

  test('pings are concurrent, to the version, with {"x-warm": true}, which the runtime takes for a warm ping', async () => {
    lambda.on(PutProvisionedConcurrencyConfigCommand).resolves({ Status: 'READY' });
    let inFlight = 0;
    let maxInFlight = 0;
    lambda.on(InvokeCommand).callsFake(async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 10));
      inFlight--;
      return { StatusCode: 200 };
    });
    const result = await prewarm(deps(), options({ pings: 7, concurrency: 7 }));
    expect(result).toMatchObject({ ok: true, pingsSent: 7, pingsFailed: 0 });
    expect(maxInFlight).toBe(7);
    const invokes = calls(InvokeCommand);
    expect(invokes).toHaveLength(7);
    for (const input of invokes) {
      expect(input.FunctionName).toBe('answer');
      expect(input.Qualifier).toBe('8');
      expect(input.InvocationType).toBeUndefined(); // RequestResponse: the gate waits for each answer
      const event = JSON.parse(Buffer.from(input.Payload).toString('utf8'));
      expect(event).toEqual({ 'x-warm': true });
      expect(isWarmPing(event)).toBe(true);
    }
  });

  test('pings 0 sends none', async () => {
    lambda.on(PutProvisionedConcurrencyConfigCommand).resolves({ Status: 'READY' });
    expect(await prewarm(deps(), options({ pings: 0 }))).toMatchObject({ ok: true, pingsSent: 0 });
    expect(calls(InvokeCommand)).toEqual([]);
  });
});

describe('releaseWarmup', () => {
  test('deletes the version-level configuration, by version', async () => {
    expect(await releaseWarmup(deps(), { functionName: 'answer', version: '8' })).toEqual({ deleted: true });
    expect(calls(DeleteProvisionedConcurrencyConfigCommand)).toEqual([{ FunctionName: 'answer', Qualifier: '8' }]);
  });

  test('a configuration or version that is not there is fine', async () => {
    lambda.on(DeleteProvisionedConcurrencyConfigCommand).rejectsOnce(notFound()).rejectsOnce(new ResourceNotFoundException({ message: 'Function not found', $metadata: {} }));
    expect(await releaseWarmup(deps(), { functionName: 'answer', version: '8' })).toEqual({ deleted: false });
    expect(await releaseWarmup(deps(), { functionName: 'answer', version: '8' })).toEqual({ deleted: false });
  });

  test('any other error is thrown', async () => {
    lambda.on(DeleteProvisionedConcurrencyConfigCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    await expect(releaseWarmup(deps(), { functionName: 'answer', version: '8' })).rejects.toThrow('not authorized');
  });
});

describe('hookPhase', () => {
  test('before traffic moves the alias still points at the current version: BeforeAllowTraffic', async () => {
    lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '7' });
    expect(await hookPhase(deps(), { functionName: 'answer', alias: 'live', targetVersion: '8' })).toBe('before');
    expect(calls(GetAliasCommand)).toEqual([{ FunctionName: 'answer', Name: 'live' }]);
  });

  test('once it points at the target version: AfterAllowTraffic', async () => {
    lambda.on(GetAliasCommand).resolves({ Name: 'live', FunctionVersion: '8' });
    expect(await hookPhase(deps(), { functionName: 'answer', alias: 'live', targetVersion: '8' })).toBe('after');
  });
});
