// The safety net: on a staged deployment group's FAILURE or STOP, stop the deployment's execution (so it
// cannot set a weight again) and clear any AdditionalVersionWeights left on the alias. Whatever stopped the
// deployment (an alarm, a person, the hook's hour running out), no traffic stays on the new version.
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, LambdaClient, UpdateAliasCommand } from '@aws-sdk/client-lambda';
import { SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { parseLambdaAppSpec } from '../probe/appspec';
import { appSpecOf } from '../probe/hook';

/** The part of CodeDeploy's "Deployment State-change Notification" the net reads. */
export interface DeploymentStateEvent {
  readonly detail: {
    readonly deploymentId: string;
    readonly state: string;
    readonly application?: string;
    readonly deploymentGroup?: string;
  };
}

export interface SafetyNetDependencies {
  readonly codedeploy: CodeDeployClient;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** @default console.log */
  readonly log?: (line: string) => void;
}

export interface SafetyNetResult {
  readonly stopped: boolean;
  /** The weights found on the alias and cleared; empty when there were none. */
  readonly cleared: Record<string, number>;
}

/** The ARN of the execution the starter named after a deployment. */
export function executionArnOf(stateMachineArn: string, deploymentId: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${deploymentId}`;
}

/** Builds the safety net's handler. It throws on a failed AWS call, so that EventBridge's retries apply. */
export function createSafetyNetHandler(deps: SafetyNetDependencies): (event: DeploymentStateEvent) => Promise<SafetyNetResult> {
  const log = deps.log ?? ((line: string) => console.log(line));
  return async (event) => {
    const deploymentId = event?.detail?.deploymentId;
    if (typeof deploymentId !== 'string') throw new Error(`expected a CodeDeploy deployment state-change event, got: ${JSON.stringify(event)?.slice(0, 200)}`);
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
      // Any other failure is thrown once the weights are cleared, so that EventBridge retries the stop.
      if ((error as Error)?.name !== 'ExecutionDoesNotExist') stopError = error;
    }
    const target = parseLambdaAppSpec(await appSpecOf(deps.codedeploy, deploymentId));
    const alias = await deps.lambda.send(new GetAliasCommand({ FunctionName: target.functionName, Name: target.alias }));
    const cleared = { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) };
    if (Object.keys(cleared).length > 0) {
      // Only the routing is touched: the alias's FunctionVersion is CodeDeploy's.
      await deps.lambda.send(new UpdateAliasCommand({ FunctionName: target.functionName, Name: target.alias, RoutingConfig: { AdditionalVersionWeights: {} } }));
    }
    log(JSON.stringify({ message: 'cdk-rollout-guardrails staged safety net', deploymentId, state: event.detail.state, stopped, cleared }));
    if (stopError !== undefined) throw stopError;
    return { stopped, cleared };
  };
}
