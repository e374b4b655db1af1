// The warm gate: a new version must be warm before its first user request. It runs before any traffic moves:
// in the staged machine's WarmUp task, in the blue-green machine before the switch, and in the ΔS probe's
// BeforeAllowTraffic hook for CodeDeploy's own shapes. Every AWS call goes through the injected LambdaClient
// and all waiting through the injected clock, so the module holds no state of its own and tests run on a fake
// clock.
//
// Where provisioned concurrency lives: on each published *version* (ProvisionedWarmup writes it into the
// AWS::Lambda::Version resource, and Application Auto Scaling, when used, targets function:<name>:<version>).
// The gate therefore only reads and pings: it never puts, changes or deletes a provisioned-concurrency
// configuration. Lambda's documented rules are why (docs/aws-behaviour.md, PC-1 to PC-4): a version holds at
// most one configuration (on itself or on an alias that points to it), an alias's configuration cannot be
// managed while the alias is weighted, and Application Auto Scaling cannot act on a weighted alias. With
// every configuration on a version, no call at any moment of a rollout touches a configuration at all.
import {
  GetAliasCommand, GetProvisionedConcurrencyConfigCommand, GetProvisionedConcurrencyConfigCommandOutput, InvokeCommand, LambdaClient,
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
  /** The new version's number: the qualifier of its configuration and of the pings. */
  readonly version: string;
  /** Provisioned concurrency the version's configuration must ask for at least (an integer ≥ 1). */
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
  readonly pingsSent: number;
  /** Pings that returned a FunctionError, threw, or timed out. */
  readonly pingsFailed: number;
}

/** The event a warm ping sends: the runtime's `isWarmPing` recognises it and telemetry writes no record for it. */
export const WARM_PING_EVENT = Object.freeze({ 'x-warm': true });

const NOT_FOUND = new Set(['ProvisionedConcurrencyConfigNotFoundException', 'ResourceNotFoundException']);
const DEFAULT_POLL_MS = 5_000;
const DEFAULT_PING_TIMEOUT_MS = 10_000;

/**
 * Checks that `functionName:version` is warm: waits, polling its own provisioned-concurrency configuration
 * every `pollMs` and never past `readyTimeoutMs`, until Lambda reports READY with at least `concurrency`
 * requested; then sends `pings` concurrent invocations of `{"x-warm": true}` to the version.
 *
 * It never writes a configuration. Fails (ok false, with reasons) when the version has no configuration (it
 * was published without provisioned concurrency), asks for less than `concurrency`, cannot be read, reports
 * FAILED (its StatusReason quoted, e.g. FUNCTION_ERROR_INIT_FAILURE), when the wait runs out (the waited
 * seconds named), when aborted, and when any ping errors (the count and the first error named).
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
  let config: GetProvisionedConcurrencyConfigCommandOutput | undefined;
  const fail = (waitedMs: number, pingsSent = 0, pingsFailed = 0): PrewarmResult => ({ ok: false, reasons, waitedMs, status, pingsSent, pingsFailed });

  // 1. Wait, bounded, for the version's own configuration to be READY.
  for (;;) {
    try {
      config = await deps.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: functionName, Qualifier: version }));
      status = statusOf(config);
    } catch (error) {
      if (NOT_FOUND.has(nameOf(error))) {
        reasons.push(`${target} has no provisioned concurrency of its own: ProvisionedWarmup puts it on each published version, so this version was not published by this stack's template (${describe(error)})`);
      } else {
        reasons.push(`could not read the provisioned concurrency of ${target}: ${describe(error)}`);
      }
      return fail(now() - started);
    }
    if (status !== 'IN_PROGRESS') break;
    if (options.signal?.aborted) {
      reasons.push(`abandoned while waiting for provisioned concurrency on ${target} after ${seconds(now() - started)} s (the hook's time ran out)`);
      return fail(now() - started);
    }
    const left = deadline - now();
    if (left <= 0) {
      const allocated = config?.AllocatedProvisionedConcurrentExecutions;
      reasons.push(`provisioned concurrency on ${target} was not READY after ${seconds(now() - started)} s (readyTimeout ${seconds(readyTimeoutMs)} s; last status IN_PROGRESS${allocated !== undefined ? `, ${allocated} of ${config?.RequestedProvisionedConcurrentExecutions ?? concurrency} allocated` : ''})`);
      return fail(now() - started);
    }
    await sleep(Math.min(pollMs, left));
  }
  const waitedMs = now() - started;
  if (status === 'FAILED') {
    reasons.push(`provisioned concurrency on ${target} FAILED after ${seconds(waitedMs)} s: ${config?.StatusReason ?? 'Lambda gave no reason'}`);
    return fail(waitedMs);
  }
  const requested = config?.RequestedProvisionedConcurrentExecutions ?? 0;
  if (requested < concurrency) {
    reasons.push(`${target} asks for ${requested} provisioned environments, fewer than the ${concurrency} the warm gate expects`);
    return fail(waitedMs);
  }

  // 2. Warm pings, all at once: each lands in its own provisioned environment (the count is at most the
  // configuration's), so the handler's lazy initialisation runs everywhere before the first user request.
  const failures = await ping(deps.lambda, functionName, version, pings, options.pingTimeoutMs ?? DEFAULT_PING_TIMEOUT_MS);
  if (failures.length > 0) {
    reasons.push(`warm pings: ${failures.length} of ${pings} to ${target} failed; the first: ${failures[0]}`);
    return fail(waitedMs, pings, failures.length);
  }
  return { ok: true, reasons, waitedMs, status, pingsSent: pings, pingsFailed: 0 };
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
