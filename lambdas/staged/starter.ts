// The BeforeAllowTraffic hook of a staged alias: reads the deployment's AppSpec, starts the stack's state
// machine (whose definition holds every alias's configuration, keyed by application and deployment group)
// and returns. The machine reports the hook's status to CodeDeploy itself; the starter reports only when it
// does not gate the deployment (a rollback, nothing to shift: Succeeded at once) and when it cannot start
// the machine, in time or at all (Failed). With a consumer fence, it pauses the alias's running event source
// mappings before it starts the machine and passes exactly those in the input (`fenced`), for the gate (or the
// safety net) to resume; if the machine does not start, it resumes them itself.
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { HookEvent, STAGED_FENCES_ENV, STAGED_REPORT_RESERVE_SECONDS, StagedFenceConfig, StagedStartInput, aliasConfigKey } from 'cdk-rollout-guardrails-runtime/contract';
import { capConsumers, pauseConsumers, resumeConsumers } from '../shared/consumers';
import { HookBounds, hookBounds } from '../shared/hook-clients';
import { HookContext, runHook, SkipKind } from '../shared/hook-kit';

/** CodeDeploy's limit on one lifecycle hook, in milliseconds. */
export const HOOK_LIMIT_MS = 60 * 60 * 1000;

export interface StarterDependencies {
  readonly codedeploy: CodeDeployClient;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** Pauses and resumes the fenced consumers; needed only when `fences` names some. */
  readonly lambda?: LambdaClient;
  /**
   * Each fenced alias's event source mapping UUIDs by configuration key (an array pauses them; `{ consumers,
   * maxConcurrency }` caps the SQS ones).
   * @default - read from the GUARDRAILS_STAGED_FENCES environment variable at each invocation (none when unset)
   */
  readonly fences?: Record<string, readonly string[] | StagedFenceConfig>;
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
  /** The event source mappings paused for the consumer fence (absent without one). */
  readonly fenced?: string[];
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
  /** Resumes what this invocation paused; a failure to resume is logged and thrown (the hook then reports Failed). */
  async function resumeFenced(fenced: string[] | undefined, deploymentId: string): Promise<void> {
    if (!fenced || fenced.length === 0 || !deps.lambda) return;
    try {
      await resumeConsumers(deps.lambda, fenced);
      log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: fenced consumers resumed, the execution did not start', deploymentId, resumed: fenced }));
    } catch (error) {
      log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: fenced consumers NOT resumed', deploymentId, fenced, error: (error as Error).message }));
      throw error;
    }
  }

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
        const configKey = aliasConfigKey(info.applicationName, info.deploymentGroupName);
        const fence = fenceOf((deps.fences ?? fencesFromEnvironment(process.env))[configKey]);
        signal.throwIfAborted();
        // The consumer fence: only the mappings that run are paused (or capped), and exactly those are passed on to be restored.
        let fenced: string[] | undefined;
        if (fence.consumers.length > 0) {
          if (!deps.lambda) throw new Error('the starter has fenced consumers but no Lambda client');
          const onUndo = (done: string[], undone: string, error: Error) => {
            log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: fencing the consumers failed', deploymentId, fenced: done, undone, error: error.message }));
          };
          const result = fence.maxConcurrency !== undefined
            ? await capConsumers(deps.lambda, fence.consumers, fence.maxConcurrency, onUndo)
            : await pauseConsumers(deps.lambda, fence.consumers, onUndo);
          fenced = result.paused;
          log(JSON.stringify({
            message: `cdk-rollout-guardrails staged: fenced consumers ${fence.maxConcurrency !== undefined ? `capped at MaximumConcurrency ${fence.maxConcurrency}` : 'paused'}`,
            deploymentId, fenced: result.paused, skipped: result.skipped,
          }));
        }
        const input: StagedStartInput = {
          deployment: { deploymentId, lifecycleEventHookExecutionId: executionId },
          target,
          configKey,
          deadline: started + HOOK_LIMIT_MS - STAGED_REPORT_RESERVE_SECONDS * 1000,
          ...(fenced !== undefined ? { fenced } : {}),
        };
        let execution;
        try {
          // Nothing starts once the hook has reported Failed (the watchdog aborts the signal), whatever the client does with it.
          signal.throwIfAborted();
          execution = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name: deploymentId, input: JSON.stringify(input) }), { abortSignal: signal });
        } catch (error) {
          // No execution of ours carries these mappings (none started, or the running one paused its own): resume
          // them before the hook reports, or they would stay paused with nobody to resume them.
          await resumeFenced(fenced, deploymentId);
          // A second invocation for the same deployment (its input differs by the deadline): the rollout runs already.
          if ((error as Error)?.name !== 'ExecutionAlreadyExists') throw error;
          log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: the execution of this deployment runs already', deploymentId }));
          return { result: { started: true, reason: 'already started' } };
        }
        log(JSON.stringify({ message: 'cdk-rollout-guardrails staged: execution started', deploymentId, executionArn: execution.executionArn, target, ...(fenced ? { fenced } : {}) }));
        return { result: { started: true, executionArn: execution.executionArn, ...(fenced ? { fenced } : {}) } };
      },
    });
  };
}

/** One alias's fence, either form, as `{ consumers, maxConcurrency? }` (none without one). */
export function fenceOf(value: readonly string[] | StagedFenceConfig | undefined): StagedFenceConfig {
  if (value === undefined) return { consumers: [] };
  return Array.isArray(value) ? { consumers: [...value] } : value as StagedFenceConfig;
}

const isUuids = (v: unknown): boolean => Array.isArray(v) && v.every((u) => typeof u === 'string');

/**
 * The fenced mappings by configuration key, from GUARDRAILS_STAGED_FENCES (none when unset): each an array of
 * UUIDs (paused) or `{ consumers, maxConcurrency }` (capped); throws on anything else.
 */
export function fencesFromEnvironment(env: Record<string, string | undefined>): Record<string, readonly string[] | StagedFenceConfig> {
  const text = env[STAGED_FENCES_ENV];
  if (!text) return {};
  const parsed = JSON.parse(text) as unknown;
  const valid = (v: unknown): boolean => isUuids(v) || (typeof v === 'object' && v !== null && isUuids((v as StagedFenceConfig).consumers)
    && ((v as StagedFenceConfig).maxConcurrency === undefined || Number.isInteger((v as StagedFenceConfig).maxConcurrency)));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every(valid)) {
    throw new Error(`${STAGED_FENCES_ENV} must be a JSON object of mapping UUID arrays or { consumers, maxConcurrency } objects, got: ${text.slice(0, 200)}`);
  }
  return parsed as Record<string, readonly string[] | StagedFenceConfig>;
}
