// The CodeDeploy lifecycle hook as every hook of the library sees it: the event CodeDeploy sends, the statuses
// a hook reports, and reporting a status with retries (`reportHookStatus`), the one implementation the staged
// starter and safety net, the blue-green hook and the ΔS probe hook report through (lambdas/shared/hook-kit.ts
// binds it to a CodeDeploy client). SDK-free: the call itself comes in as a function (`PutHookStatus`).

/** The event CodeDeploy sends a lifecycle hook: only the ids. */
export interface HookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

/** A status a hook reports to CodeDeploy. */
export type HookStatus = 'Succeeded' | 'Failed';

/** The input of PutLifecycleEventHookExecutionStatus. */
export interface HookStatusInput {
  readonly deploymentId: string;
  readonly lifecycleEventHookExecutionId: string;
  readonly status: HookStatus;
}

/**
 * One PutLifecycleEventHookExecutionStatus call, which should stop when `signal` aborts: e.g.
 * `(input, signal) => codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand(input), { abortSignal: signal })`.
 * It rejects with an error whose `name` is CodeDeploy's error code.
 */
export type PutHookStatus = (input: HookStatusInput, signal: AbortSignal) => Promise<unknown>;

/**
 * Errors of PutLifecycleEventHookExecutionStatus that mean there is nothing left to report: the hook
 * execution has its status already (a repeated invocation, or an earlier attempt that CodeDeploy took but
 * whose answer was lost), or the deployment is over.
 */
export const ALREADY_REPORTED_ERRORS: readonly string[] = ['LifecycleEventAlreadyCompletedException', 'DeploymentAlreadyCompletedException'];

/** What a status report did. */
export type ReportOutcome = 'reported' | 'already-reported';

/** The bounds of a status report, in milliseconds (and attempts). */
export interface ReportBounds {
  /** Longest one call may take, all its attempts, back-offs and body included: the attempt fails after it. */
  readonly callTimeoutMs: number;
  /** Longest the status report may take, all its attempts included. */
  readonly reportBudgetMs: number;
  /** Attempts of the status report. */
  readonly reportAttempts: number;
  /** Pause before the n-th retry of the status report: n times this. */
  readonly reportBackoffMs: number;
}

/** Options of `reportHookStatus`. */
export interface ReportHookStatusOptions {
  /** Names the hook in log lines, e.g. 'staged'. */
  readonly hook: string;
  readonly log: (line: string) => void;
  readonly bounds: ReportBounds;
  /** An instant (ms since the epoch) by which the report must be over, e.g. shortly before the function's timeout. */
  readonly deadline?: number;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The report did not get through in its time; the last error is its cause. */
export class ReportError extends Error {
  constructor(message: string, readonly attempts: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReportError';
  }
}

/**
 * Reports a hook's status, retried: up to `reportAttempts` attempts within `reportBudgetMs` (and before
 * `deadline`), the time left shared between the attempts left so that a hanging attempt leaves room for the
 * next, each attempt cut off after `callTimeoutMs` at most. A status CodeDeploy already has
 * (ALREADY_REPORTED_ERRORS) counts as done. Throws a ReportError when no attempt got through.
 */
export async function reportHookStatus(put: PutHookStatus, event: HookEvent, status: HookStatus, options: ReportHookStatusOptions): Promise<ReportOutcome> {
  const { bounds } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const end = Math.min(now() + bounds.reportBudgetMs, options.deadline ?? Number.POSITIVE_INFINITY);
  const ids = { deploymentId: event.DeploymentId, lifecycleEventHookExecutionId: event.LifecycleEventHookExecutionId };
  let last: unknown;
  for (let attempt = 1; attempt <= bounds.reportAttempts; attempt++) {
    const left = end - now();
    if (left <= 0) break;
    const share = Math.min(bounds.callTimeoutMs, Math.floor(left / (bounds.reportAttempts - attempt + 1)));
    try {
      await withDeadline(share, undefined, () => Object.assign(new Error(`PutLifecycleEventHookExecutionStatus did not answer within ${share} ms`), { name: 'HookCallTimeoutError' }),
        (signal) => put({ ...ids, status }, signal));
      options.log(JSON.stringify({ message: `cdk-rollout-guardrails ${options.hook}: reported ${status}`, deploymentId: ids.deploymentId, status, attempt }));
      return 'reported';
    } catch (error) {
      const name = (error as Error)?.name;
      if (ALREADY_REPORTED_ERRORS.includes(name)) {
        options.log(JSON.stringify({ message: `cdk-rollout-guardrails ${options.hook}: the status was reported already`, deploymentId: ids.deploymentId, status, attempt, error: name }));
        return 'already-reported';
      }
      last = error;
      options.log(JSON.stringify({ message: `cdk-rollout-guardrails ${options.hook}: PutLifecycleEventHookExecutionStatus failed`, deploymentId: ids.deploymentId, status, attempt, error: (error as Error)?.message ?? String(error) }));
      if (attempt < bounds.reportAttempts) await sleep(Math.max(0, Math.min(bounds.reportBackoffMs * attempt, end - now())));
    }
  }
  throw new ReportError(`could not report ${status} for deployment ${ids.deploymentId}: ${(last as Error)?.message ?? 'no time left to report'}`, bounds.reportAttempts, { cause: last });
}

/**
 * Runs `run` with a signal that aborts after `ms` or when `parent` aborts, and settles no later than that:
 * rejected with `timeoutError()` on the deadline, or with the parent's reason.
 */
export function withDeadline<T>(ms: number, parent: AbortSignal | undefined, timeoutError: () => Error, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  if (parent?.aborted) controller.abort(parent.reason);
  const onParent = () => controller.abort(parent?.reason);
  parent?.addEventListener('abort', onParent, { once: true });
  const timer = Number.isFinite(ms) ? setTimeout(() => controller.abort(timeoutError()), Math.max(0, ms)) : undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason instanceof Error ? controller.signal.reason : Object.assign(new Error('aborted'), { name: 'AbortError' }));
    if (controller.signal.aborted) onAbort();
    else controller.signal.addEventListener('abort', onAbort, { once: true });
  });
  // The loser of the race must not become an unhandled rejection.
  aborted.catch(() => undefined);
  // A promise whatever `run` does: throws, or returns a plain value (a client stub with no behaviour).
  const running = new Promise<T>((resolve) => resolve(run(controller.signal)));
  running.catch(() => undefined);
  return Promise.race([running, aborted]).finally(() => {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParent);
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
  });
}
