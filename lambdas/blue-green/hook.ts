// The blue-green hook: CodeDeploy's BeforeAllowTraffic and AfterAllowTraffic hook of every blue-green alias
// of the stack, and its safety net. As a hook it reads the deployment (AppSpec, group), finds its phase (the
// event does not name it: the alias already on the target version means AfterAllowTraffic), starts an
// execution of the stack's state machine named after the deployment and the phase, and returns; the machine
// reports to CodeDeploy. A deployment it must not gate (a rollback, or no new version) it reports Succeeded at
// once, and it reports Failed when it cannot start, in time or at all (see runHook). As the safety net (EventBridge: the group's deployment FAILURE or STOP) it stops the
// deployment's executions and resumes the consumers the BeforeAllowTraffic execution paused.
import { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import { GetAliasCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { aliasConfigKey, BlueGreenExecutionInput, BlueGreenPhase, executionName, HookEvent } from 'cdk-rollout-guardrails-runtime/contract';
import { resumeConsumers } from '../shared/consumers';
import { HookBounds, hookBounds } from '../shared/hook-clients';
import { HookContext, reportStatus, runHook, SkipKind } from '../shared/hook-kit';

/** The part of Step Functions' "Execution Status Change" event the safety net reads. */
export interface ExecutionEndEvent {
  readonly source: 'aws.states';
  readonly detail: { readonly executionArn: string; readonly status: string; readonly input?: string | null };
}

/** The part of CodeDeploy's "Deployment State-change Notification" the safety net reads. */
export interface DeploymentStateEvent {
  readonly source?: string;
  readonly detail: { readonly deploymentId: string; readonly state: string; readonly application?: string; readonly deploymentGroup?: string };
}

export interface HookDependencies {
  readonly codedeploy: CodeDeployClient;
  readonly lambda: LambdaClient;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default console.log */
  readonly log?: (line: string) => void;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * How long AfterAllowTraffic waits for the BeforeAllowTraffic execution to end (it reports, then ends, in
   * milliseconds; CodeDeploy switches the alias in between).
   * @default 10_000
   */
  readonly beforeWaitMs?: number;
  /** The hook's bounds. @default hookBounds() (the defaults, lowered by the GUARDRAILS_HOOK_* environment variables) */
  readonly bounds?: HookBounds;
}

/** What the hook returns (CodeDeploy ignores it; tests and logs read it). */
export interface HookResult {
  readonly phase?: BlueGreenPhase;
  readonly started: boolean;
  readonly executionArn?: string;
  readonly reason?: string;
  /** Why the deployment was not gated (reported Succeeded at once, or nothing reported when it is over). */
  readonly skipped?: SkipKind;
}

/** What the safety net returns. */
export interface SafetyNetResult {
  readonly stopped: string[];
  readonly resumed: string[];
}

/** The ARN of one of the machine's executions. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** The phase of a hook invocation: the alias already on the target version means CodeDeploy has switched it. */
export function phaseOf(aliasVersion: string | undefined, targetVersion: string): BlueGreenPhase {
  return aliasVersion === targetVersion ? 'AfterAllowTraffic' : 'BeforeAllowTraffic';
}

function isExecutionEnd(event: unknown): event is ExecutionEndEvent {
  const e = event as ExecutionEndEvent;
  return e?.source === 'aws.states' && typeof e.detail?.executionArn === 'string';
}

function isStateChange(event: unknown): event is DeploymentStateEvent {
  const detail = (event as DeploymentStateEvent)?.detail;
  return typeof detail === 'object' && detail !== null && typeof detail.deploymentId === 'string' && typeof detail.state === 'string';
}

/** Builds the handler of both the hook and the safety net. */
export function createHookHandler(deps: HookDependencies): (event: HookEvent | DeploymentStateEvent | ExecutionEndEvent, context?: HookContext) => Promise<HookResult | SafetyNetResult> {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? ((line: string) => console.log(line));
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const beforeWaitMs = deps.beforeWaitMs ?? 10_000;
  const bounds = deps.bounds ?? hookBounds();

  /**
   * The mappings the BeforeAllowTraffic execution paused, from its output; [] when it paused none or never ran.
   * `signal` (the hook's) stops the polling once the hook has reported.
   */
  async function frozenBy(deploymentId: string, wait: boolean, signal?: AbortSignal): Promise<string[] | undefined> {
    const executionArn = executionArnOf(deps.stateMachineArn, executionName(deploymentId, 'BeforeAllowTraffic'));
    for (let waited = 0; ; waited += 1000) {
      let execution;
      try {
        execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }), signal ? { abortSignal: signal } : undefined);
      } catch (error) {
        if ((error as Error)?.name === 'ExecutionDoesNotExist') return [];
        throw error;
      }
      if (execution.status === 'SUCCEEDED') {
        const output = JSON.parse(execution.output ?? '{}') as { frozen?: unknown };
        return Array.isArray(output.frozen) ? output.frozen.filter((u): u is string => typeof u === 'string') : [];
      }
      // A failed, timed-out or stopped BeforeAllowTraffic execution resumed its consumers on its error path,
      // or left no record of them (see the README's limits).
      if (execution.status !== 'RUNNING') return undefined;
      if (!wait || waited >= beforeWaitMs) {
        if (wait) throw new Error(`the BeforeAllowTraffic execution of ${deploymentId} is still running after ${beforeWaitMs} ms: its paused consumers are not known yet`);
        return undefined;
      }
      await sleep(1000);
    }
  }

  async function onHook(event: HookEvent, context?: HookContext): Promise<HookResult> {
    const deploymentId = event.DeploymentId;
    const hookExecutionId = event.LifecycleEventHookExecutionId;
    const startedAt = now();
    let phase: BlueGreenPhase | undefined;
    return runHook<HookResult>({
      hook: 'blue-green',
      event,
      context,
      codedeploy: deps.codedeploy,
      bounds,
      log,
      sleep,
      skipped: (screen) => ({ started: false, skipped: screen.kind, reason: screen.reason }),
      // Consumers paused before the switch are resumed by the safety net on the deployment's FAILURE.
      failed: (reason) => ({ result: { phase, started: false, reason }, message: 'cdk-rollout-guardrails blue-green: could not start, reporting Failed', detail: { phase } }),
      gate: async ({ info, target }, signal) => {
        if (!info.applicationName || !info.deploymentGroupName) throw new Error(`deployment ${deploymentId} names no application or deployment group`);
        const alias = await deps.lambda.send(new GetAliasCommand({ FunctionName: target.functionName, Name: target.alias }), { abortSignal: signal });
        phase = phaseOf(alias.FunctionVersion, target.targetVersion);
        const frozen = phase === 'AfterAllowTraffic' ? await frozenBy(deploymentId, true, signal) : undefined;
        const input: BlueGreenExecutionInput = {
          deploymentId,
          lifecycleEventHookExecutionId: hookExecutionId,
          applicationName: info.applicationName,
          deploymentGroupName: info.deploymentGroupName,
          configKey: aliasConfigKey(info.applicationName, info.deploymentGroupName),
          phase,
          target,
          startedAt,
          ...(frozen !== undefined ? { frozen } : {}),
        };
        const name = executionName(deploymentId, phase);
        // Nothing starts once the hook has reported Failed (the watchdog aborts the signal), whatever the client does with it.
        signal.throwIfAborted();
        try {
          const execution = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input: JSON.stringify(input) }), { abortSignal: signal });
          log(JSON.stringify({ message: 'cdk-rollout-guardrails blue-green: execution started', deploymentId, phase, executionArn: execution.executionArn, target, frozen }));
          return { result: { phase, started: true, executionArn: execution.executionArn } };
        } catch (error) {
          // CodeDeploy invoked the hook twice for this phase (the input differs by startedAt): it runs already.
          if ((error as Error)?.name !== 'ExecutionAlreadyExists') throw error;
          log(JSON.stringify({ message: 'cdk-rollout-guardrails blue-green: the execution of this phase runs already', deploymentId, phase }));
          return { result: { phase, started: true, reason: 'already started' } };
        }
      },
    });
  }

  async function onStateChange(event: DeploymentStateEvent): Promise<SafetyNetResult> {
    const { deploymentId, state } = event.detail;
    const stopped: string[] = [];
    // Stop what still runs of this deployment, so that nothing reports or flips after CodeDeploy has given up.
    for (const phase of ['BeforeAllowTraffic', 'AfterAllowTraffic'] as const) {
      const executionArn = executionArnOf(deps.stateMachineArn, executionName(deploymentId, phase));
      try {
        const execution = await deps.sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (execution.status !== 'RUNNING') continue;
        await deps.sfn.send(new StopExecutionCommand({ executionArn, cause: `CodeDeploy deployment ${deploymentId} is ${state}` }));
        stopped.push(executionArn);
      } catch (error) {
        if ((error as Error)?.name !== 'ExecutionDoesNotExist') throw error;
      }
    }
    // Resume exactly what the BeforeAllowTraffic execution paused (Enabled: true is idempotent, so a machine
    // that already resumed them on its own error path costs one more call each).
    const frozen = (await frozenBy(deploymentId, false)) ?? [];
    await resumeConsumers(deps.lambda, frozen);
    log(JSON.stringify({ message: 'cdk-rollout-guardrails blue-green safety net', deploymentId, state, stopped, resumed: frozen }));
    return { stopped, resumed: frozen };
  }

  /**
   * An execution that ended FAILED, TIMED_OUT or ABORTED (it may not have reported: SFN-2, SFN-6): report Failed
   * for its hook (a status reported already is fine) and resume what an AfterAllowTraffic execution's input
   * says was paused. The machine never moved the alias, so there is nothing to put back: CodeDeploy's rollback
   * does that on the Failed report.
   */
  async function onExecutionEnd(event: ExecutionEndEvent): Promise<SafetyNetResult & { reported: string }> {
    let text = event.detail.input;
    if (typeof text !== 'string') text = (await deps.sfn.send(new DescribeExecutionCommand({ executionArn: event.detail.executionArn }))).input ?? '';
    const input = JSON.parse(text) as BlueGreenExecutionInput;
    if (typeof input?.deploymentId !== 'string' || typeof input.lifecycleEventHookExecutionId !== 'string') {
      throw new Error(`execution ${event.detail.executionArn} has no blue-green input (deploymentId, lifecycleEventHookExecutionId): ${text.slice(0, 200)}`);
    }
    const reported = await reportStatus(deps.codedeploy, { DeploymentId: input.deploymentId, LifecycleEventHookExecutionId: input.lifecycleEventHookExecutionId }, 'Failed',
      { hook: 'blue-green safety net', log, bounds: deps.bounds });
    const frozen = input.frozen ?? [];
    await resumeConsumers(deps.lambda, frozen);
    log(JSON.stringify({ message: 'cdk-rollout-guardrails blue-green safety net: an execution ended without success', executionArn: event.detail.executionArn, status: event.detail.status, deploymentId: input.deploymentId, phase: input.phase, reported, resumed: frozen }));
    return { stopped: [], resumed: frozen, reported };
  }

  return async (event, context) => {
    if (isExecutionEnd(event)) return onExecutionEnd(event);
    if (isStateChange(event)) return onStateChange(event);
    const hook = event as HookEvent;
    if (typeof hook?.DeploymentId !== 'string' || typeof hook.LifecycleEventHookExecutionId !== 'string') {
      throw new Error(`expected a CodeDeploy lifecycle hook event (DeploymentId, LifecycleEventHookExecutionId) or a deployment state-change event, got: ${JSON.stringify(event)?.slice(0, 200)}`);
    }
    return onHook(hook, context);
  };
}
