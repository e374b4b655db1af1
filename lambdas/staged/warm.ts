// The staged rollout's warm gate: the state machine's first task for an alias with a ProvisionedWarmup. It
// waits (bounded) until the new version's own provisioned concurrency is READY and sends the warm pings
// (lambdas/warmup/warm-gate.ts), before the first probe and the first shift. It writes no configuration.
import { LambdaClient } from '@aws-sdk/client-lambda';
import { StagedExecutionInput } from 'cdk-rollout-guardrails-runtime/contract';
import { prewarm, PrewarmResult, WarmGateDeps } from '../shared/warm-gate';

/** What the machine passes the warm function. */
export interface WarmEvent {
  readonly deployment: StagedExecutionInput['deployment'];
  readonly target: StagedExecutionInput['target'];
  readonly warmup: NonNullable<StagedExecutionInput['config']['warmup']>;
}

export interface WarmDependencies {
  readonly lambda: LambdaClient;
  readonly now?: WarmGateDeps['now'];
  readonly sleep?: WarmGateDeps['sleep'];
  /** @default console.log */
  readonly log?: (line: string) => void;
}

/** Builds the warm function's handler: the warm gate's result, which never throws for an AWS-side failure. */
export function createWarmHandler(deps: WarmDependencies): (event: WarmEvent) => Promise<PrewarmResult> {
  const log = deps.log ?? ((line: string) => console.log(line));
  return async (event) => {
    const { warmup, target } = event;
    const result = await prewarm({ lambda: deps.lambda, now: deps.now, sleep: deps.sleep }, {
      functionName: target.functionName,
      version: target.targetVersion,
      concurrency: warmup.concurrency,
      readyTimeoutMs: warmup.readyTimeoutSeconds * 1000,
      pings: warmup.pings,
    });
    log(JSON.stringify({ message: 'cdk-rollout-guardrails staged warm gate', deploymentId: event.deployment?.deploymentId, target, ...result }));
    return result;
  };
}
