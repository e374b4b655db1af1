// The warm gate as it runs before any traffic: the real prewarm (lambdas/shared/warm-gate.ts) against an offline
// Lambda that reports the new version's provisioned concurrency as the scenario says (register PC-4: IN_PROGRESS,
// then READY or FAILED), on the rehearsal's simulated clock.
import { GetProvisionedConcurrencyConfigCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { prewarm, PrewarmResult } from '../../lambdas/shared/warm-gate';
import { Scenario } from './scenarios';

/** Seconds after which a configuration that never becomes READY reports FAILED (an assumption: AWS gives none). */
export const INIT_FAILURE_SECONDS = 60;

/** Runs the warm gate from `startSeconds`; returns its result and the simulated seconds it took. */
export async function rehearseWarmGate(scenario: Scenario, warmup: { concurrency: number; pings: number; readyTimeoutSeconds: number }, startSeconds: number): Promise<{ result: PrewarmResult; seconds: number }> {
  let clock = startSeconds * 1000;
  const ready = scenario.provisionedReadySeconds;
  const lambda = {
    send: async (command: unknown) => {
      const elapsed = clock / 1000 - startSeconds;
      if (command instanceof GetProvisionedConcurrencyConfigCommand) {
        const status = ready === undefined || (ready !== null && elapsed >= ready) ? 'READY'
          : ready === null && elapsed >= INIT_FAILURE_SECONDS ? 'FAILED' : 'IN_PROGRESS';
        return {
          Status: status,
          RequestedProvisionedConcurrentExecutions: warmup.concurrency,
          AllocatedProvisionedConcurrentExecutions: status === 'READY' ? warmup.concurrency : 0,
          ...(status === 'FAILED' ? { StatusReason: 'FUNCTION_ERROR_INIT_FAILURE (simulated)' } : {}),
        };
      }
      return { StatusCode: 200 };
    },
  } as unknown as LambdaClient;
  const result = await prewarm({ lambda, now: () => clock, sleep: async (ms) => { clock += ms; } }, {
    functionName: 'rehearsal', version: 'new', concurrency: warmup.concurrency, readyTimeoutMs: warmup.readyTimeoutSeconds * 1000, pings: warmup.pings,
  });
  return { result, seconds: Math.max(1, result.waitedMs / 1000) };
}
