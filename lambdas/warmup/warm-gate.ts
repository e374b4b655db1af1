// The warm gate: a new version must be warm before its first user request. It runs inside the ΔS probe's
// CodeDeploy hook (lambdas/probe/hook.ts), which decides the phase with hookPhase() and calls prewarm() before
// traffic moves and releaseWarmup() once it has. Every AWS call goes through the injected LambdaClient and
// all waiting through the injected clock, so the module holds no state of its own and tests run on a fake
// clock.
//
// Where provisioned concurrency lives: the steady state is on the alias (ProvisionedWarmup puts it there),
// and it follows the alias. Before traffic moves the alias still points at the current version, so the new
// version has none; the gate puts a *temporary* configuration on the version itself (Qualifier = the version
// number), waits until Lambda says READY, and pings it. Nothing here ever touches the alias's own provisioned
// concurrency: Lambda refuses to change it while the alias is weighted ("Alias with weights can not be used
// with Provisioned Concurrency"), which it is during a canary or linear shift.
import {
  DeleteProvisionedConcurrencyConfigCommand, GetAliasCommand, GetProvisionedConcurrencyConfigCommand,
  GetProvisionedConcurrencyConfigCommandOutput, InvokeCommand, LambdaClient, PutProvisionedConcurrencyConfigCommand,
} from '@aws-sdk/client-lambda';

/** What the warm gate is built from: the Lambda client and the clock. */
export interface WarmGateDeps {
  readonly lambda: LambdaClient;
  /** @default Date.now */
  readonly now?: () => number;
  /** Waits `ms` milliseconds. @default a setTimeout promise */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Options of {@link prewarm}. */
export interface PrewarmOptions {
  /** The function's name (or ARN). */
  readonly functionName: string;
  /** The new version's number: the qualifier of the temporary configuration and of the pings. */
  readonly version: string;
  /** Provisioned concurrency to put on the version (an integer ≥ 1). */
  readonly concurrency: number;
  /** Longest wait for READY, in milliseconds, counted from the start of prewarm. */
  readonly readyTimeoutMs: number;
  /** Time between two GetProvisionedConcurrencyConfig calls while IN_PROGRESS. @default 5000 */
  readonly pollMs?: number;
  /** Concurrent warm pings once READY (0 sends none). */
  readonly pings: number;
  /** Longest one ping may take before it counts as failed, in milliseconds. @default 10000 */
  readonly pingTimeoutMs?: number;
  /** Stops the wait when aborted (the hook's watchdog does once it has reported); the gate then fails. */
  readonly signal?: AbortSignal;
}

/** Provisioned concurrency status as Lambda last reported it; NONE when there was no configuration to read. */
export type WarmStatus = 'READY' | 'IN_PROGRESS' | 'FAILED' | 'NONE';

/** What {@link prewarm} found. It never throws for an AWS-side failure: failures are its `reasons`. */
export interface PrewarmResult {
  /** Whether the version is warm: READY in time and every ping answered without an error. */
  readonly ok: boolean;
  /** One sentence per failure (empty when ok). */
  readonly reasons: string[];
  /** Milliseconds from the start of prewarm until READY, FAILED, an error, or the wait ran out. */
  readonly waitedMs: number;
  readonly status: WarmStatus;
  /** Whether an existing configuration of the same or a higher count was kept rather than replaced. */
  readonly reused: boolean;
  readonly pingsSent: number;
  /** Pings that returned a FunctionError, threw, or timed out. */
  readonly pingsFailed: number;
  /** On failure, whether the temporary configuration was deleted (undefined when ok). */
  readonly released?: boolean;
}

/** The event a warm ping sends: the runtime's `isWarmPing` recognises it and telemetry writes no record for it. */
export const WARM_PING_EVENT = Object.freeze({ 'x-warm': true });

const NOT_FOUND = new Set(['ProvisionedConcurrencyConfigNotFoundException', 'ResourceNotFoundException']);
const DEFAULT_POLL_MS = 5_000;
const DEFAULT_PING_TIMEOUT_MS = 10_000;

/**
 * Makes `functionName:version` warm: reads the version's own provisioned-concurrency configuration, keeps it
 * when it asks for at least `concurrency` (and has not FAILED), else puts one of `concurrency`; waits, polling
 * every `pollMs` and never past `readyTimeoutMs`, until Lambda reports READY; then sends `pings` concurrent
 * invocations of `{"x-warm": true}` to the version.
 *
 * Fails (ok false, with reasons) when the configuration cannot be put or read, when Lambda reports FAILED
 * (its StatusReason quoted, e.g. FUNCTION_ERROR_INIT_FAILURE), when the wait runs out (the waited seconds
 * named), when aborted, and when any ping errors (the count and the first error named). On failure it deletes
 * the temporary configuration, so a version that will never get traffic does not keep paying for it.
 */
export async function prewarm(deps: WarmGateDeps, options: PrewarmOptions): Promise<PrewarmResult> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const { functionName, version, concurrency, readyTimeoutMs, pings } = options;
  const pollMs = Math.max(1, options.pollMs ?? DEFAULT_POLL_MS);
  const target = `${functionName}:${version}`;
  const started = now();
  const deadline = started + readyTimeoutMs;
  const reasons: string[] = [];
  let status: WarmStatus = 'NONE';
  let reused = false;
  let config: GetProvisionedConcurrencyConfigCommandOutput | undefined;

  const fail = async (waitedMs: number, pingsSent = 0, pingsFailed = 0): Promise<PrewarmResult> => {
    let released = false;
    try {
      released = (await releaseWarmup(deps, { functionName, version })).deleted;
    } catch (error) {
      reasons.push(`the temporary provisioned concurrency on ${target} could not be deleted (${describe(error)}); it goes with the version when the deployment rolls back`);
    }
    return { ok: false, reasons, waitedMs, status, reused, pingsSent, pingsFailed, released };
  };

  // 1. Reuse a configuration that already asks for enough (a retried hook, a redeploy of the same version).
  try {
    config = await deps.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: functionName, Qualifier: version }));
  } catch (error) {
    if (!NOT_FOUND.has(nameOf(error))) {
      reasons.push(`could not read the provisioned concurrency of ${target}: ${describe(error)}`);
      return fail(now() - started);
    }
  }
  if (config && (config.RequestedProvisionedConcurrentExecutions ?? 0) >= concurrency && config.Status !== 'FAILED') {
    reused = true;
    status = statusOf(config);
  } else {
    try {
      config = await deps.lambda.send(new PutProvisionedConcurrencyConfigCommand({
        FunctionName: functionName,
        Qualifier: version,
        ProvisionedConcurrentExecutions: concurrency,
      }));
      status = statusOf(config);
    } catch (error) {
      reasons.push(`could not put provisioned concurrency ${concurrency} on ${target}: ${describe(error)}`);
      return fail(now() - started);
    }
  }

  // 2. Wait, bounded, for READY.
  while (status === 'IN_PROGRESS') {
    if (options.signal?.aborted) {
      reasons.push(`abandoned while waiting for provisioned concurrency on ${target} after ${seconds(now() - started)} s (the hook's time ran out)`);
      return fail(now() - started);
    }
    const left = deadline - now();
    if (left <= 0) {
      const allocated = config?.AllocatedProvisionedConcurrentExecutions;
      reasons.push(`provisioned concurrency ${concurrency} on ${target} was not READY after ${seconds(now() - started)} s (readyTimeout ${seconds(readyTimeoutMs)} s; last status IN_PROGRESS${allocated !== undefined ? `, ${allocated} of ${config?.RequestedProvisionedConcurrentExecutions ?? concurrency} allocated` : ''})`);
      return fail(now() - started);
    }
    await sleep(Math.min(pollMs, left));
    try {
      config = await deps.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: functionName, Qualifier: version }));
      status = statusOf(config);
    } catch (error) {
      reasons.push(`could not read the provisioned concurrency of ${target} while waiting for READY: ${describe(error)}`);
      return fail(now() - started);
    }
  }
  const waitedMs = now() - started;
  if (status === 'FAILED') {
    reasons.push(`provisioned concurrency ${concurrency} on ${target} FAILED after ${seconds(waitedMs)} s: ${config?.StatusReason ?? 'Lambda gave no reason'}`);
    return fail(waitedMs);
  }

  // 3. Warm pings, all at once: each lands in its own provisioned environment (the count is at most the
  // configuration's), so the handler's lazy initialisation runs everywhere before the first user request.
  const failures = await ping(deps.lambda, functionName, version, pings, options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS);
  if (failures.length > 0) {
    reasons.push(`warm pings: ${failures.length} of ${pings} to ${target} failed; the first: ${failures[0]}`);
    return fail(waitedMs, pings, failures.length);
  }
  return { ok: true, reasons, waitedMs, status, reused, pingsSent: pings, pingsFailed: 0 };
}

/**
 * Deletes the temporary provisioned-concurrency configuration of `functionName:version` (once the alias
 * points at the version and its own provisioned concurrency covers it, or after a failed warm-up). A
 * configuration or version that is not there (ProvisionedConcurrencyConfigNotFoundException,
 * ResourceNotFoundException) is fine: `deleted` is then false. Any other error is thrown.
 */
export async function releaseWarmup(deps: WarmGateDeps, options: { readonly functionName: string; readonly version: string }): Promise<{ readonly deleted: boolean }> {
  try {
    await deps.lambda.send(new DeleteProvisionedConcurrencyConfigCommand({ FunctionName: options.functionName, Qualifier: options.version }));
    return { deleted: true };
  } catch (error) {
    if (NOT_FOUND.has(nameOf(error))) return { deleted: false };
    throw error;
  }
}

/**
 * Which phase a hook invocation belongs to. CodeDeploy's hook event names no phase, but the alias tells:
 * before traffic moves (BeforeAllowTraffic) it still points at the current version; once CodeDeploy has
 * shifted everything (AfterAllowTraffic) its FunctionVersion is the target version. GetAlias errors are thrown.
 */
export async function hookPhase(deps: WarmGateDeps, options: { readonly functionName: string; readonly alias: string; readonly targetVersion: string }): Promise<'before' | 'after'> {
  const alias = await deps.lambda.send(new GetAliasCommand({ FunctionName: options.functionName, Name: options.alias }));
  return alias.FunctionVersion === options.targetVersion ? 'after' : 'before';
}

/** Sends `count` warm pings at once; returns one description per failed ping. */
async function ping(client: LambdaClient, functionName: string, version: string, count: number, timeoutMs: number): Promise<string[]> {
  const payload = Buffer.from(JSON.stringify(WARM_PING_EVENT));
  const failures: string[] = [];
  await Promise.all(Array.from({ length: count }, async () => {
    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { name: 'TimeoutError' }));
      }, timeoutMs);
    });
    try {
      const response = await Promise.race([
        client.send(new InvokeCommand({ FunctionName: functionName, Qualifier: version, Payload: payload }), { abortSignal: controller.signal }),
        timedOut,
      ]);
      if (response.FunctionError) {
        const body = response.Payload ? Buffer.from(response.Payload).toString('utf8').slice(0, 200) : '';
        failures.push(`FunctionError ${response.FunctionError}${body ? `: ${body}` : ''}`);
      }
    } catch (error) {
      failures.push(describe(error));
    } finally {
      clearTimeout(timer);
    }
  }));
  return failures;
}

function statusOf(config: { Status?: string } | undefined): WarmStatus {
  const s = config?.Status;
  return s === 'READY' || s === 'FAILED' || s === 'IN_PROGRESS' ? s : 'IN_PROGRESS';
}

function nameOf(error: unknown): string {
  return (error as { name?: string })?.name ?? '';
}

function describe(error: unknown): string {
  const name = nameOf(error);
  const message = (error as Error)?.message ?? String(error);
  return name && name !== 'Error' && !message.startsWith(name) ? `${name}: ${message}` : message;
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
