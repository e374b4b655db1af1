// What every CodeDeploy lifecycle hook of the library does the same way: read the deployment, decide whether
// it is one to gate at all (screenDeployment), report a status with retries (reportStatus), and report before
// its own time is out whatever its AWS calls do (runHook's watchdog). Used by the staged starter, the
// blue-green hook and the ΔS probe hook. The hook event and the report with retries are the contract's
// (cdk-rollout-guardrails-runtime/contract, hook.ts); reportStatus binds them to a CodeDeploy client.
import {
  CodeDeployClient, DeploymentInfo, GetApplicationRevisionCommand, GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import {
  HookEvent, HookStatus, LambdaAppSpecTarget, parseLambdaAppSpec, PutHookStatus, reportHookStatus, ReportHookStatusOptions, ReportOutcome, withDeadline,
} from 'cdk-rollout-guardrails-runtime/contract';
import { HookBounds, hookBounds } from './hook-clients';

export { ALREADY_REPORTED_ERRORS, ReportError } from 'cdk-rollout-guardrails-runtime/contract';
export type { HookEvent, HookStatus, ReportOutcome } from 'cdk-rollout-guardrails-runtime/contract';

/** The part of the Lambda context a hook uses. */
export interface HookContext {
  getRemainingTimeInMillis(): number;
}

/** Why a deployment is not gated. */
export type SkipKind =
  /** CodeDeploy's or CloudFormation's rollback: a new deployment back to the version users had. */
  | 'rollback'
  /** The AppSpec's CurrentVersion is its TargetVersion: no traffic moves to anything new. */
  | 'unchanged'
  /** The deployment is over (a late or repeated invocation): nobody waits for a status. */
  | 'ended';

/** What `screenDeployment` decides. */
export type Screen =
  | { readonly gate: true }
  | {
    readonly gate: false;
    readonly kind: SkipKind;
    /** Said in the log line and the hook's result. */
    readonly reason: string;
    /** Whether to report Succeeded (false for a deployment that is over: reporting to it changes nothing). */
    readonly report: boolean;
  };

/** Creators of a deployment that is a rollback (DeploymentInfo.creator). */
export const ROLLBACK_CREATORS: readonly string[] = ['codeDeployRollback', 'CloudFormationRollback'];
/** Statuses of a deployment that is over (DeploymentInfo.status). */
export const ENDED_STATUSES: readonly string[] = ['Succeeded', 'Failed', 'Stopped'];

/**
 * Whether a hook should gate this deployment. A rollback (created by `codeDeployRollback` or
 * `CloudFormationRollback`, or naming the deployment that triggered it) runs the hooks again and must not be
 * gated: it goes back to what users had, and failing it would leave the new version in place. A deployment
 * whose AppSpec moves the alias to the version it is already on has nothing to gate. A deployment that is
 * over waits for no status. `target` is the AppSpec's, when read; without it only the deployment is judged.
 */
export function screenDeployment(info: DeploymentInfo | undefined, target?: LambdaAppSpecTarget): Screen {
  const creator = info?.creator;
  if (creator && ROLLBACK_CREATORS.includes(creator)) {
    return { gate: false, kind: 'rollback', reason: `a rollback deployment (created by ${creator})`, report: true };
  }
  const triggering = info?.rollbackInfo?.rollbackTriggeringDeploymentId;
  if (triggering) {
    return { gate: false, kind: 'rollback', reason: `a rollback deployment (of ${triggering})`, report: true };
  }
  if (info?.status && ENDED_STATUSES.includes(info.status)) {
    return { gate: false, kind: 'ended', reason: `the deployment is over (${info.status})`, report: false };
  }
  if (target && target.currentVersion === target.targetVersion) {
    return { gate: false, kind: 'unchanged', reason: `the AppSpec moves ${target.functionName}:${target.alias} to the version it is on (${target.targetVersion})`, report: true };
  }
  return { gate: true };
}

/** A deployment as a hook reads it. */
export interface DeploymentRead {
  readonly info: DeploymentInfo;
  /** The AppSpec's Lambda resource; absent when the deployment alone ruled out gating it. */
  readonly target?: LambdaAppSpecTarget;
  readonly screen: Screen;
}

/** A deployment to gate: the AppSpec was read. */
export interface GatedDeployment extends DeploymentRead {
  readonly target: LambdaAppSpecTarget;
}

/**
 * Reads a deployment and screens it: GetDeployment, then (unless the deployment alone rules gating out, so
 * that a rollback costs one call) the AppSpec from GetApplicationRevision, screened again with it.
 */
export async function readDeployment(codedeploy: CodeDeployClient, deploymentId: string, signal?: AbortSignal): Promise<DeploymentRead> {
  const { deploymentInfo } = await codedeploy.send(new GetDeploymentCommand({ deploymentId }), { abortSignal: signal });
  if (!deploymentInfo) throw new Error(`deployment ${deploymentId} was not found`);
  const first = screenDeployment(deploymentInfo);
  if (!first.gate) return { info: deploymentInfo, screen: first };
  const target = parseLambdaAppSpec(await appSpecContentOf(codedeploy, deploymentId, deploymentInfo, signal));
  return { info: deploymentInfo, target, screen: screenDeployment(deploymentInfo, target) };
}

/**
 * The AppSpec content of a deployment already read. `GetDeployment` names the revision but, as its API
 * reference notes, "the content property of the appSpecContent object in the returned revision is always
 * null": the content comes from `GetApplicationRevision` with that revision (its sha256). Content already
 * present in the deployment (the deprecated `string` revision type) is used as it is, without the second call.
 * @see https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_GetDeployment.html
 */
export async function appSpecContentOf(codedeploy: CodeDeployClient, deploymentId: string, info: DeploymentInfo | undefined, signal?: AbortSignal): Promise<string> {
  const revision = info?.revision;
  const inline = revision?.appSpecContent?.content ?? revision?.string?.content;
  if (inline) return inline;
  if (!revision || !info?.applicationName) throw new Error(`deployment ${deploymentId} names no application revision`);
  const stored = await codedeploy.send(new GetApplicationRevisionCommand({ applicationName: info.applicationName, revision }), { abortSignal: signal });
  return stored.revision?.appSpecContent?.content ?? stored.revision?.string?.content ?? '';
}

/** The AppSpec content of a deployment: GetDeployment, then `appSpecContentOf`. */
export async function appSpecOf(codedeploy: CodeDeployClient, deploymentId: string, signal?: AbortSignal): Promise<string> {
  const { deploymentInfo } = await codedeploy.send(new GetDeploymentCommand({ deploymentId }), { abortSignal: signal });
  return appSpecContentOf(codedeploy, deploymentId, deploymentInfo, signal);
}

/** Options of `reportStatus`: those of the contract's `reportHookStatus`, the bounds optional. */
export interface ReportOptions extends Omit<ReportHookStatusOptions, 'bounds'> {
  /** @default hookBounds() */
  readonly bounds?: HookBounds;
}

/** The contract's PutHookStatus on a CodeDeploy client. */
export function putHookStatus(codedeploy: CodeDeployClient): PutHookStatus {
  return (input, signal) => codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand(input), { abortSignal: signal });
}

/**
 * Reports a hook's status with the contract's retries (`reportHookStatus`: up to `reportAttempts` attempts
 * within `reportBudgetMs` and before `deadline`; a status CodeDeploy already has counts as done). Throws a
 * ReportError when no attempt got through.
 */
export function reportStatus(codedeploy: CodeDeployClient, event: HookEvent, status: HookStatus, options: ReportOptions): Promise<ReportOutcome> {
  return reportHookStatus(putHookStatus(codedeploy), event, status, { ...options, bounds: options.bounds ?? hookBounds() });
}

/** A phase of a hook that ran out of its time. */
export class HookTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookTimeoutError';
  }
}

/** When a hook invocation must have done what: its watchdog and the end of its report. */
export interface HookClock {
  readonly started: number;
  /** Milliseconds from the start after which the watchdog gives up the work (Infinity without a context). */
  readonly watchdogMs: number;
  /** The instant by which the report must be over: `marginMs` before the function's timeout. */
  readonly reportDeadline: number;
}

/** The clock of one invocation, from the Lambda context's remaining time. */
export function hookClock(bounds: HookBounds, context?: HookContext, now: () => number = Date.now, reserveMs: number = bounds.reserveMs): HookClock {
  const started = now();
  const remaining = context?.getRemainingTimeInMillis?.();
  const left = typeof remaining === 'number' && Number.isFinite(remaining) ? remaining : Number.POSITIVE_INFINITY;
  return { started, watchdogMs: Math.max(0, left - reserveMs), reportDeadline: started + left - bounds.marginMs };
}

/** Reads the deployment within the read budget (and the parent signal), screened. */
export function readWithinBudget(codedeploy: CodeDeployClient, deploymentId: string, bounds: HookBounds, signal?: AbortSignal): Promise<DeploymentRead> {
  return withDeadline(bounds.readBudgetMs, signal, () => new HookTimeoutError(`the deployment could not be read within ${bounds.readBudgetMs} ms`),
    (s) => readDeployment(codedeploy, deploymentId, s));
}

/** The line a hook logs when it does not gate a deployment. */
export function skipLine(hook: string, deploymentId: string, screen: Extract<Screen, { gate: false }>): string {
  return JSON.stringify({
    message: `cdk-rollout-guardrails ${hook}: not gated, ${screen.report ? 'reporting Succeeded' : 'reporting nothing'}`,
    deploymentId, skipped: screen.kind, reason: screen.reason,
  });
}

/** What a hook's own work decided: what the hook returns, and the status to report, if any. */
export interface HookOutcome<R> {
  readonly result: R;
  /** @default - nothing reported (e.g. a state machine reports) */
  readonly report?: HookStatus;
}

/** Options of `runHook`. */
export interface RunHookOptions<R> {
  /** Names the hook in log lines: 'staged', 'blue-green'. */
  readonly hook: string;
  readonly event: HookEvent;
  readonly context?: HookContext;
  readonly codedeploy: CodeDeployClient;
  readonly bounds: HookBounds;
  readonly log: (line: string) => void;
  /** The report's back-off. @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
  /** What to do with a deployment to gate; every AWS call in it should take `signal`. */
  readonly gate: (deployment: GatedDeployment, signal: AbortSignal) => Promise<HookOutcome<R>>;
  /** The result of a deployment that is not gated. */
  readonly skipped: (screen: Extract<Screen, { gate: false }>) => R;
  /** The result, the message of the log line and any more fields of it, when the hook reports Failed. */
  readonly failed: (reason: string) => { readonly result: R; readonly message: string; readonly detail?: Record<string, unknown> };
}

/**
 * Runs one invocation of a hook that hands the gating to something else (a state machine) and reports
 * itself only when it does not gate or cannot start:
 * 1. reads and screens the deployment within `readBudgetMs`; a deployment not to gate is reported Succeeded
 *    at once (`skipped`), nothing else done;
 * 2. runs `gate`;
 * 3. anything thrown, the read budget spent, or the watchdog (`reserveMs` before the function's timeout)
 *    reports Failed (`failed`), and aborts what still runs, so that no call starts after the report;
 * 4. the report is retried (`reportStatus`) and over `marginMs` before the function's timeout.
 * Throws only when the report did not get through, so that Lambda's retry of an asynchronous invocation
 * gets another chance to report.
 */
export async function runHook<R>(options: RunHookOptions<R>): Promise<R> {
  const { bounds, event, log } = options;
  const clock = hookClock(bounds, options.context);
  let outcome: HookOutcome<R>;
  try {
    outcome = await withDeadline(clock.watchdogMs, undefined,
      () => new HookTimeoutError(`the hook's own time is nearly out: ${Math.round((Date.now() - clock.started) / 1000)} s spent, ${bounds.reserveMs} ms kept to report`),
      async (signal) => {
        const read = await readWithinBudget(options.codedeploy, event.DeploymentId, bounds, signal);
        if (!read.screen.gate) {
          log(skipLine(options.hook, event.DeploymentId, read.screen));
          return { result: options.skipped(read.screen), report: read.screen.report ? 'Succeeded' as const : undefined };
        }
        return options.gate(read as GatedDeployment, signal);
      });
  } catch (error) {
    const reason = (error as Error)?.message ?? String(error);
    const failed = options.failed(reason);
    log(JSON.stringify({ message: failed.message, deploymentId: event.DeploymentId, ...failed.detail, reason }));
    outcome = { result: failed.result, report: 'Failed' };
  }
  if (outcome.report) {
    await reportStatus(options.codedeploy, event, outcome.report, { hook: options.hook, log, bounds, deadline: clock.reportDeadline, sleep: options.sleep });
  }
  return outcome.result;
}
