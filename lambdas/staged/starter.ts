// The BeforeAllowTraffic hook of a staged alias: reads the deployment's AppSpec, starts the stack's state
// machine (whose definition holds every alias's configuration, keyed by application and deployment group)
// and returns. The machine reports the hook's status to
// CodeDeploy itself; the starter reports only when it cannot start it (Failed).
import { CodeDeployClient, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parseLambdaAppSpec } from '../probe/appspec';
import { appSpecOf } from '../probe/hook';
import { STAGED_REPORT_RESERVE_SECONDS, StagedStartInput, stagedConfigKey } from '../../lib/private/staged-config';

/** CodeDeploy's limit on one lifecycle hook, in milliseconds. */
export const HOOK_LIMIT_MS = 60 * 60 * 1000;

/** The event CodeDeploy sends a lifecycle hook. */
export interface HookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

export interface StarterDependencies {
  readonly codedeploy: CodeDeployClient;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default console.log */
  readonly log?: (line: string) => void;
}

export interface StarterResult {
  readonly started: boolean;
  readonly executionArn?: string;
  readonly reason?: string;
}

/**
 * Builds the starter. The execution is named after the deployment, so that CodeDeploy invoking the hook
 * twice starts one execution (StartExecution with the same name and input is idempotent).
 */
export function createStarterHandler(deps: StarterDependencies): (event: HookEvent) => Promise<StarterResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((line: string) => console.log(line));
  return async (event) => {
    const deploymentId = event?.DeploymentId;
    const executionId = event?.LifecycleEventHookExecutionId;
    if (typeof deploymentId !== 'string' || typeof executionId !== 'string') {
      throw new Error(`expected a CodeDeploy lifecycle hook event with DeploymentId and LifecycleEventHookExecutionId, got: ${JSON.stringify(event)?.slice(0, 200)}`);
    }
    const started = now();
    try {
      const { deploymentInfo } = await deps.codedeploy.send(new GetDeploymentCommand({ deploymentId }));
      if (!deploymentInfo?.applicationName || !deploymentInfo.deploymentGroupName) throw new Error(`deployment ${deploymentId} names no application or deployment group`);
      const target = parseLambdaAppSpec(await appSpecOf(deps.codedeploy, deploymentId));
      const input: StagedStartInput = {
        deployment: { deploymentId, lifecycleEventHookExecutionId: executionId },
        target,
        configKey: stagedConfigKey(deploymentInfo.applicationName, deploymentInfo.deploymentGroupName),
        deadline: started + HOOK_LIMIT_MS - STAGED_REPORT_RESERVE_SECONDS * 1000,
      };
      let execution;
      try {
        execution = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name: deploymentId, input: JSON.stringify(input) }));
      } catch (error) {
        // A second invocation for the same deployment (its input differs by the deadline): the rollout runs already.
        if ((error as Error)?.name !== 'ExecutionAlreadyExists') throw error;
        log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: the execution of this deployment runs already', deploymentId }));
        return { started: true, reason: 'already started' };
      }
      log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: execution started', deploymentId, executionArn: execution.executionArn, target }));
      return { started: true, executionArn: execution.executionArn };
    } catch (error) {
      const reason = (error as Error)?.message ?? String(error);
      log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: could not start the rollout, reporting Failed', deploymentId, reason }));
      await deps.codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId: executionId, status: 'Failed' }));
      return { started: false, reason };
    }
  };
}
