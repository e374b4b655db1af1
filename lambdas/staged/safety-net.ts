// The safety net of the staged rollouts, on two kinds of event:
// - a staged deployment group's FAILURE or STOP (CodeDeploy's state-change notification): stop the
//   deployment's execution (so it cannot set a weight again) and clear the weights it left on the alias;
// - an execution of the machine that ended FAILED, TIMED_OUT or ABORTED (Step Functions' status change): an
//   execution can end without having reported (States.Runtime and States.DataLimitExceeded escape the machine's
//   catchers, and an execution can time out or be stopped: docs/aws-behaviour.md SFN-2, SFN-6), so clear the
//   weights and report Failed; a status that was reported already is fine.
// Whatever ended the rollout, no traffic stays on the new version and no hook waits out CodeDeploy's hour.
// Either way, the consumers the starter paused for the consumer fence (the execution input's `fenced`) are
// resumed: a resume is idempotent, so one the gate already made costs one more call each.
// Only weights on the deployment's own target version are cleared: an event that arrives late (EventBridge
// delivers at least once, and late: EB-4) must not undo the next deployment's routing.
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { parseLambdaAppSpec } from 'cdk-rollout-guardrails-runtime/contract';
import { appSpecOf, reportStatus } from '../shared/hook-kit';
import { resumeConsumers } from '../shared/consumers';
import { clearCohort, StagedCohorts } from './cohort-clear';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StagedStartInput } from 'cdk-rollout-guardrails-runtime/contract';

/** The part of CodeDeploy's "Deployment State-change Notification" the net reads. */
export interface DeploymentStateEvent {
  readonly source?: 'aws.codedeploy';
  readonly detail: {
    readonly deploymentId: string;
    readonly state: string;
    readonly application?: string;
    readonly deploymentGroup?: string;
  };
}

/** The part of Step Functions' "Execution Status Change" event the net reads. */
export interface ExecutionEndEvent {
  readonly source: 'aws.states';
  readonly detail: {
    readonly executionArn: string;
    readonly status: string;
    /** The execution's input as JSON text (absent when too large for the event: then read with DescribeExecution). */
    readonly input?: string | null;
  };
}

export interface SafetyNetDependencies {
  readonly codedeploy: CodeDeployClient;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** Clears a sticky alias's cohort item; needed only when the stack has one (`cohorts`). */
  readonly dynamodb?: DynamoDBClient;
  /** Each sticky alias's cohort item by configuration key. @default - none */
  readonly cohorts?: StagedCohorts;
  /** @default console.log */
  readonly log?: (line: string) => void;
}

export interface SafetyNetResult {
  readonly stopped: boolean;
  /** The weights found on the alias and cleared; empty when there were none of this deployment's. */
  readonly cleared: Record<string, number>;
  /** For an execution's end: what the Failed report did. */
  readonly reported?: 'reported' | 'already-reported';
  /** The fenced consumers resumed (the execution input's `fenced`); absent when there were none. */
  readonly resumed?: string[];
  /** A sticky alias's cohort item: put back at 0 %, or left as another deployment's; absent without sticky cohorts. */
  readonly cohort?: 'cleared' | 'not-ours';
}

/** The ARN of the execution the starter named after a deployment. */
export function executionArnOf(stateMachineArn: string, deploymentId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${deploymentId}`;
}

function isExecutionEnd(event: unknown): event is ExecutionEndEvent {
  const e = event as ExecutionEndEvent;
  return e?.source === 'aws.states' && typeof e.detail?.executionArn === 'string';
}

/** Builds the safety net's handler. It throws on a failed AWS call, so that Lambda's and EventBridge's retries apply. */
export function createSafetyNetHandler(deps: SafetyNetDependencies): (event: DeploymentStateEvent | ExecutionEndEvent) => Promise<SafetyNetResult> {
  const log = deps.log ?? ((line: string) => console.log(line));

  /** Clears the alias's weights on `targetVersion`, and only those. */
  async function clear(target: { functionName: string; alias: string; targetVersion: string }): Promise<Record<string, number>> {
    const alias = await deps.lambda.send(new GetAliasCommand({ FunctionName: target.functionName, Name: target.alias }));
    const weights = { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) };
    if (!(target.targetVersion in weights)) return {};
    // Only the routing is touched: the alias's FunctionVersion is CodeDeploy's.
    await deps.lambda.send(new UpdateAliasCommand({ FunctionName: target.functionName, Name: target.alias, RoutingConfig: { AdditionalVersionWeights: {} } }));
    return weights;
  }

  /** Resumes `fenced`; a failure is returned, to be thrown once the rest is done. */
  async function resume(fenced: string[]): Promise<{ resumed: string[]; error?: unknown; logged: Record<string, unknown> }> {
    if (fenced.length === 0) return { resumed: [], logged: {} };
    try {
      const resumed = await resumeConsumers(deps.lambda, fenced);
      return { resumed, logged: { resumed } };
    } catch (error) {
      return { resumed: [], error, logged: { fenced, resumeError: (error as Error)?.message ?? String(error) } };
    }
  }

  /** Clears the deployment's cohort item; a failure is returned, to be thrown once the rest (the report) is done. */
  async function uncohort(configKey: string | undefined, deploymentId: string, currentVersion: string): Promise<{ cohort?: 'cleared' | 'not-ours'; error?: unknown; logged: Record<string, unknown> }> {
    try {
      const cohort = await clearCohort(deps.dynamodb, deps.cohorts ?? {}, configKey, deploymentId, currentVersion);
      return cohort === 'not-sticky' ? { logged: {} } : { cohort, logged: { cohort } };
    } catch (error) {
      return { error, logged: { cohortError: (error as Error)?.message ?? String(error) } };
    }
  }

  /** The input of the deployment's execution; undefined when there is no execution. */
  async function inputOfDeployment(deploymentId: string): Promise<Partial<StagedStartInput> | undefined> {
    try {
      const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn: executionArnOf(deps.stateMachineArn, deploymentId) }));
      return JSON.parse(execution?.input ?? '{}') as StagedStartInput;
    } catch (error) {
      if ((error as Error)?.name === 'ExecutionDoesNotExist') return undefined;
      throw error;
    }
  }

  async function onExecutionEnd(event: ExecutionEndEvent): Promise<SafetyNetResult> {
    let text = event.detail.input;
    if (typeof text !== 'string') {
      text = (await deps.sfn.send(new DescribeExecutionCommand({ executionArn: event.detail.executionArn }))).input ?? '';
    }
    const input = JSON.parse(text) as StagedStartInput;
    if (typeof input?.deployment?.deploymentId !== 'string' || typeof input.target?.functionName !== 'string') {
      throw new Error(`execution ${event.detail.executionArn} has no staged input (deployment, target): ${text.slice(0, 200)}`);
    }
    const cleared = await clear(input.target);
    // The cohort is cleared and the consumers resumed whatever else fails; a failure of either is thrown after the
    // report, to be retried: the hook is reported Failed first, always.
    const sticky = await uncohort(input.configKey, input.deployment.deploymentId, input.target.currentVersion);
    const fence = await resume(fencedOf(input));
    const reported = await reportStatus(deps.codedeploy, {
      DeploymentId: input.deployment.deploymentId, LifecycleEventHookExecutionId: input.deployment.lifecycleEventHookExecutionId,
    }, 'Failed', { hook: 'staged safety net', log });
    log(JSON.stringify({ message: 'cdk-rollout-guardrails staged safety net: an execution ended without success', executionArn: event.detail.executionArn, status: event.detail.status, deploymentId: input.deployment.deploymentId, cleared, reported, ...sticky.logged, ...fence.logged }));
    if (fence.error !== undefined) throw fence.error;
    if (sticky.error !== undefined) throw sticky.error;
    return { stopped: false, cleared, reported, ...(fence.resumed.length > 0 ? { resumed: fence.resumed } : {}), ...(sticky.cohort ? { cohort: sticky.cohort } : {}) };
  }

  async function onDeploymentEnd(event: DeploymentStateEvent): Promise<SafetyNetResult> {
    const deploymentId = event.detail.deploymentId;
    let stopped = false;
    let stopError: unknown;
    try {
      await deps.sfn.send(new StopExecutionCommand({
        executionArn: executionArnOf(deps.stateMachineArn, deploymentId),
        cause: `CodeDeploy deployment ${deploymentId} is ${event.detail.state}`,
      }));
      stopped = true;
    } catch (error) {
      // No execution for this deployment (the starter never ran, or it had already ended): nothing to stop.
      // Any other failure is thrown once the weights are cleared, so that the stop is retried.
      if ((error as Error)?.name !== 'ExecutionDoesNotExist') stopError = error;
    }
    const target = parseLambdaAppSpec(await appSpecOf(deps.codedeploy, deploymentId));
    const cleared = await clear(target);
    // The consumers the execution's starter paused (its input's `fenced`): resumed here too, not only on the
    // execution's own end (ABORTED by the stop above), which may never come if the stop failed.
    let input: Partial<StagedStartInput> | undefined;
    let inputError: unknown;
    try {
      input = await inputOfDeployment(deploymentId);
    } catch (error) {
      inputError = error;
    }
    const fence = inputError === undefined
      ? await resume(fencedOf(input))
      : { resumed: [] as string[], error: inputError, logged: { resumeError: `the execution's input could not be read: ${(inputError as Error)?.message}` } };
    const sticky = await uncohort(input?.configKey, deploymentId, target.currentVersion);
    log(JSON.stringify({ message: 'cdk-rollout-guardrails staged safety net', deploymentId, state: event.detail.state, stopped, cleared, ...sticky.logged, ...fence.logged }));
    if (stopError !== undefined) throw stopError;
    if (fence.error !== undefined) throw fence.error;
    if (sticky.error !== undefined) throw sticky.error;
    return { stopped, cleared, ...(fence.resumed.length > 0 ? { resumed: fence.resumed } : {}), ...(sticky.cohort ? { cohort: sticky.cohort } : {}) };
  }

  return async (event) => {
    if (isExecutionEnd(event)) return onExecutionEnd(event);
    if (typeof (event as DeploymentStateEvent)?.detail?.deploymentId !== 'string') {
      throw new Error(`expected a CodeDeploy deployment state-change event or a Step Functions execution status change, got: ${JSON.stringify(event)?.slice(0, 200)}`);
    }
    return onDeploymentEnd(event as DeploymentStateEvent);
  };
}

/** The input's fenced mappings, strings only; none when absent. */
function fencedOf(input: Partial<StagedStartInput> | null | undefined): string[] {
  const fenced = input?.fenced as unknown;
  return Array.isArray(fenced) ? fenced.filter((u): u is string => typeof u === 'string') : [];
}
