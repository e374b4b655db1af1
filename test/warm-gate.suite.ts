// The warm gate (lambdas/warmup/warm-gate.ts) against a mocked Lambda client and a fake clock: nothing sleeps.
// The gate only reads the new version's own provisioned concurrency and pings it: every configuration lives on
// a published version (ProvisionedWarmup), so no call of a rollout ever writes one (PC-1, PC-2, PC-7).
import {
  DeleteProvisionedConcurrencyConfigCommand, GetAliasCommand, GetProvisionedConcurrencyConfigCommand, InvokeCommand,
  LambdaClient, ProvisionedConcurrencyConfigNotFoundException, PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';
import { mockClient } from './helpers/sdk-mock';
import { hookPhase, prewarm, PrewarmOptions, WarmGateDeps } from '../lambdas/shared/warm-gate';
import { isWarmPing } from '../packages/runtime/src/release';
import { LambdaModel } from './helpers/aws-model';

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
const READY = { Status: 'READY', AllocatedProvisionedConcurrentExecutions: 5, RequestedProvisionedConcurrentExecutions: 5 } as const;

beforeEach(() => {
  lambda.reset();
  clock = 1_000_000;
  sleeps = [];
  lambda.on(GetProvisionedConcurrencyConfigCommand).resolves(READY);
  lambda.on(PutProvisionedConcurrencyConfigCommand).rejects(new Error('the warm gate must not put provisioned concurrency'));
  lambda.on(DeleteProvisionedConcurrencyConfigCommand).rejects(new Error('the warm gate must not delete provisioned concurrency'));
  lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: Buffer.from('null') as never });
});

afterEach(() => {
  expect(calls(PutProvisionedConcurrencyConfigCommand)).toEqual([]);
  expect(calls(DeleteProvisionedConcurrencyConfigCommand)).toEqual([]);
});

describe('prewarm', () => {
  test('READY at once: reads the version\'s own configuration, does not wait, pings', async () => {
    const result = await prewarm(deps(), options());
    expect(result).toEqual({ ok: true, reasons: [], waitedMs: 0, status: 'READY', pingsSent: 3, pingsFailed: 0 });
    expect(calls(GetProvisionedConcurrencyConfigCommand)).toEqual([{ FunctionName: 'answer', Qualifier: '8' }]);
    expect(sleeps).toEqual([]);
  });

  test('IN_PROGRESS then READY: polls every pollMs and reports the time waited', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand)
      .resolvesOnce({ Status: 'IN_PROGRESS', AllocatedProvisionedConcurrentExecutions: 2, RequestedProvisionedConcurrentExecutions: 5 })
      .resolvesOnce({ Status: 'IN_PROGRESS', AllocatedProvisionedConcurrentExecutions: 4, RequestedProvisionedConcurrentExecutions: 5 })
      .resolves(READY);
    const result = await prewarm(deps(), options());
    expect(result).toMatchObject({ ok: true, status: 'READY', waitedMs: 10_000, pingsSent: 3, pingsFailed: 0 });
    expect(sleeps).toEqual([5_000, 5_000]);
    expect(calls(GetProvisionedConcurrencyConfigCommand)).toHaveLength(3);
    expect(calls(GetProvisionedConcurrencyConfigCommand).every((i) => i.FunctionName === 'answer' && i.Qualifier === '8')).toBe(true);
  });

  test('a version without a configuration of its own fails, saying where provisioned concurrency must come from', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand).rejects(notFound());
    const result = await prewarm(deps(), options());
    expect(result).toMatchObject({ ok: false, status: 'NONE', pingsSent: 0 });
    expect(result.reasons[0]).toMatch(/^answer:8 has no provisioned concurrency of its own: ProvisionedWarmup puts it on each published version/);
    expect(calls(InvokeCommand)).toEqual([]);
  });

  test('a configuration that asks for fewer environments than expected fails, naming both counts', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand).resolves({ Status: 'READY', RequestedProvisionedConcurrentExecutions: 2 });
    const result = await prewarm(deps(), options());
    expect(result).toMatchObject({ ok: false, status: 'READY', pingsSent: 0 });
    expect(result.reasons).toEqual(['answer:8 asks for 2 provisioned environments, fewer than the 5 the warm gate expects']);
  });

  test('FAILED with FUNCTION_ERROR_INIT_FAILURE: fails quoting the reason and sends no ping', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand)
      .resolvesOnce({ Status: 'IN_PROGRESS', RequestedProvisionedConcurrentExecutions: 5 })
      .resolves({ Status: 'FAILED', StatusReason: 'FUNCTION_ERROR_INIT_FAILURE', RequestedProvisionedConcurrentExecutions: 5 });
    const result = await prewarm(deps(), options());
    expect(result).toEqual({
      ok: false,
      reasons: ['provisioned concurrency on answer:8 FAILED after 5 s: FUNCTION_ERROR_INIT_FAILURE'],
      waitedMs: 5_000,
      status: 'FAILED',
      pingsSent: 0,
      pingsFailed: 0,
    });
    expect(calls(InvokeCommand)).toEqual([]);
  });

  test('the wait is bounded: after readyTimeout it fails naming the seconds waited', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand)
      .resolves({ Status: 'IN_PROGRESS', AllocatedProvisionedConcurrentExecutions: 3, RequestedProvisionedConcurrentExecutions: 5 });
    const result = await prewarm(deps(), options({ readyTimeoutMs: 12_000 }));
    expect(result.ok).toBe(false);
    expect(result.reasons).toEqual(['provisioned concurrency on answer:8 was not READY after 12 s (readyTimeout 12 s; last status IN_PROGRESS, 3 of 5 allocated)']);
    expect(result).toMatchObject({ waitedMs: 12_000, status: 'IN_PROGRESS', pingsSent: 0 });
    // Never sleeps past the deadline: 5 + 5 + the 2 s left.
    expect(sleeps).toEqual([5_000, 5_000, 2_000]);
    expect(calls(InvokeCommand)).toEqual([]);
  });

  test('a read that Lambda refuses fails the gate with the error, never throwing', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const result = await prewarm(deps(), options());
    expect(result).toMatchObject({ ok: false, status: 'NONE', pingsSent: 0 });
    expect(result.reasons).toEqual(['could not read the provisioned concurrency of answer:8: AccessDeniedException: not authorized']);
  });

  test('stops waiting when aborted (the hook\'s watchdog)', async () => {
    const controller = new AbortController();
    lambda.on(GetProvisionedConcurrencyConfigCommand).callsFake(async () => {
      controller.abort();
      return { Status: 'IN_PROGRESS' };
    });
    const result = await prewarm(deps(), options({ signal: controller.signal }));
    expect(result.ok).toBe(false);
    expect(result.reasons[0]).toMatch(/^abandoned while waiting for provisioned concurrency on answer:8 after 0 s/);
  });

  test('a ping that errors fails the gate with the count and the first error', async () => {
    let n = 0;
    lambda.on(InvokeCommand).callsFake(async () => {
      n++;
      if (n === 2) return { StatusCode: 200, FunctionError: 'Unhandled', Payload: Buffer.from('{"errorType":"TypeError","errorMessage":"boom"}') as never };
      if (n === 3) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      return { StatusCode: 200 };
    });
    const result = await prewarm(deps(), options({ pings: 4 }));
    expect(result).toMatchObject({ ok: false, pingsSent: 4, pingsFailed: 2, status: 'READY' });
    expect(result.reasons).toEqual(['warm pings: 2 of 4 to answer:8 failed; the first: FunctionError Unhandled: {"errorType":"TypeError","errorMessage":"boom"}']);
  });

  test('a ping that does not answer in time counts as failed', async () => {
    lambda.on(InvokeCommand).callsFake(() => new Promise(() => undefined));
    const result = await prewarm(deps(), options({ pings: 2, pingTimeoutMs: 20 }));
    expect(result).toMatchObject({ ok: false, pingsFailed: 2 });
    expect(result.reasons[0]).toBe('warm pings: 2 of 2 to answer:8 failed; the first: TimeoutError: no answer within 20 ms');
  });

  test('pings are concurrent, to the version, with {"x-warm": true}, which the runtime takes for a warm ping', async () => {
    lambda.on(GetProvisionedConcurrencyConfigCommand).resolves({ Status: 'READY', RequestedProvisionedConcurrentExecutions: 7 });
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
    expect(await prewarm(deps(), options({ pings: 0 }))).toMatchObject({ ok: true, pingsSent: 0 });
    expect(calls(InvokeCommand)).toEqual([]);
  });
});

describe('the provisioned-concurrency rules the design answers (the offline model, PC-1, PC-2, PC-7)', () => {
  const model = () => new LambdaModel('answer', ['7', '8']).publishWithPc('7', 5).publishWithPc('8', 5).addAlias('live', '7');

  test('with every configuration on its version, every step of a weighted rollout is allowed and both versions stay warm', () => {
    const m = model();
    for (const w of [0.01, 0.05, 0.25, 0.5]) {
      m.updateAlias({ Name: 'live', RoutingConfig: { AdditionalVersionWeights: { 8: w } } });
      expect(m.warm('7') && m.warm('8')).toBe(true);
      expect(() => m.registerScalableTarget('8')).not.toThrow();
    }
    m.updateAlias({ Name: 'live', RoutingConfig: { AdditionalVersionWeights: {} } });
    m.updateAlias({ Name: 'live', FunctionVersion: '8' });
    expect(m.warm('8')).toBe(true);
  });

  test('the former design breaks them: a temporary configuration beside the alias\'s own, and alias changes while weighted', () => {
    const m = new LambdaModel('answer', ['7', '8']).addAlias('live', '7', { pc: 5 });
    // A temporary version-level configuration on 8 is allowed while the alias does not reference 8 …
    m.putProvisionedConcurrencyConfig({ Qualifier: '8', ProvisionedConcurrentExecutions: 5 });
    // … and then the alias cannot hold 8 as well as its own configuration on the same version, nor be managed while weighted.
    m.updateAlias({ Name: 'live', RoutingConfig: { AdditionalVersionWeights: { 8: 0.1 } } });
    expect(() => m.putProvisionedConcurrencyConfig({ Qualifier: 'live', ProvisionedConcurrentExecutions: 6 })).toThrow(/Alias with weights.*PC-2/);
    expect(() => m.deleteProvisionedConcurrencyConfig({ Qualifier: 'live' })).toThrow(/PC-2/);
    expect(() => m.registerScalableTarget('live')).toThrow(/PC-7/);
    const fresh = new LambdaModel('answer', ['7', '8']).publishWithPc('8', 5).addAlias('live', '8');
    expect(() => fresh.putProvisionedConcurrencyConfig({ Qualifier: 'live', ProvisionedConcurrentExecutions: 5 })).toThrow(/already has a provisioned-concurrency configuration.*PC-1/);
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
