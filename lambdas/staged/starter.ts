// The BeforeAllowTraffic hook of a staged alias: reads the deployment's AppSpec, starts the stack's state
// machine (whose definition holds every alias's configuration, keyed by application and deployment group)
// and returns. The machine reports the hook's status to CodeDeploy itself; the starter reports only when it
// does not gate the deployment (a rollback, nothing to shift: Succeeded at once) and when it cannot start
// the machine, in time or at all (Failed).
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { HookEvent, STAGED_REPORT_RESERVE_SECONDS, StagedStartInput, aliasConfigKey } from 'cdk-rollout-guardrails-runtime/contract';
import { HookBounds, hookBounds } from '../shared/hook-clients';
import { HookContext, runHook, SkipKind } from '../shared/hook-kit';

/** CodeDeploy's limit on one lifecycle hook, in milliseconds. */
export const HOOK_LIMIT_MS = 60 * 60 * 1000;

export interface StarterDependencies {
  readonly codedeploy: CodeDeployClient;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default console.log */
  readonly log?: (line: string) => void;
  /** @default hookBounds() (the defaults, lowered by the GUARDRAILS_HOOK_* environment variables) */
  readonly bounds?: HookBounds;
  /** The report's back-off. @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface StarterResult {
  readonly started: boolean;
  readonly executionArn?: string;
  readonly reason?: string;
  /** Why the deployment was not gated (reported Succeeded at once, or nothing reported when it is over). */
  readonly skipped?: SkipKind;
}

/**
 * Builds the starter. The execution is named after the deployment, so that CodeDeploy invoking the hook
 * twice starts one execution (StartExecution with the same name and input is idempotent; with another
 * input it fails with ExecutionAlreadyExists, and the rollout runs already). A rollback deployment, or one
 * whose AppSpec does not change the version, is reported Succeeded without starting anything
 * (`screenDeployment`). Every call is bounded (`runHook`): the starter reports Failed when the deployment
 * cannot be read within the read budget, and before the function's own timeout whatever hangs.
 */
export function createStarterHandler(deps: StarterDependencies): (event: HookEvent, context?: HookContext) => Promise<StarterResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((line: string) => console.log(line));
  const bounds = deps.bounds ?? hookBounds();
  return async (event, context) => {
    const deploymentId = event?.DeploymentId;
    const executionId = event?.LifecycleEventHookExecutionId;
    if (typeof deploymentId !== 'string' || typeof executionId !== 'string') {
      throw new Error(`expected a CodeDeploy lifecycle hook event with DeploymentId and LifecycleEventHookExecutionId, got: ${JSON.stringify(event)?.slice(0, 200)}`);
    }
    const started = now();
    return runHook<StarterResult>({
      hook: 'staged',
      event,
      context,
      codedeploy: deps.codedeploy,
      bounds,
      log,
      sleep: deps.sleep,
      skipped: (screen) => ({ started: false, skipped: screen.kind, reason: screen.reason }),
      failed: (reason) => ({ result: { started: false, reason }, message: 'cdk-rollout-guardrails staged: could not start the rollout, reporting Failed' }),
      gate: async ({ info, target }, signal) => {
        if (!info.applicationName || !info.deploymentGroupName) throw new Error(`deployment ${deploymentId} names no application or deployment group`);
        const input: StagedStartInput = {
          deployment: { deploymentId, lifecycleEventHookExecutionId: executionId },
          target,
          configKey: aliasConfigKey(info.applicationName, info.deploymentGroupName),
          deadline: started + HOOK_LIMIT_MS - STAGED_REPORT_RESERVE_SECONDS * 1000,
        };
        // Nothing starts once the hook has reported Failed (the watchdog aborts the signal), whatever the client does with it.
        signal.throwIfAborted();
        let execution;
        try {
          execution = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name: deploymentId, input: JSON.stringify(input) }), { abortSignal: signal });
        } catch (error) {
          // A second invocation for the same deployment (its input differs by the deadline): the rollout runs already.
          if ((error as Error)?.name !== 'ExecutionAlreadyExists') throw error;
          log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: the execution of this deployment runs already', deploymentId }));
          return { result: { started: true, reason: 'already started' } };
        }
        log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: execution started', deploymentId, executionArn: execution.executionArn, target }));
        return { result: { started: true, executionArn: execution.executionArn } };
      },
    });
  };
}
