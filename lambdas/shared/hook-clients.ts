// The bounds every CodeDeploy lifecycle hook of the library works within, and the one factory of the SDK
// clients on a hook's path. A hook must report to CodeDeploy whatever AWS does to its calls; an SDK call
// with the defaults can wait for an answer as long as the function lives (the Node.js handler sets no
// timeout), so each client here has bounded connection and request timeouts, a bounded retry count, and
// one deadline over each whole call, retries included.
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { withDeadline } from 'cdk-rollout-guardrails-runtime/contract';

/** Runs a call with a deadline (the contract's; re-exported for the hooks' clients and their tests). */
export { withDeadline };

/** The bounds of a hook, in milliseconds (and attempts). */
export interface HookBounds {
  /** Longest wait for a connection to an AWS endpoint, per attempt. */
  readonly connectionTimeoutMs: number;
  /** Longest wait for an answer's headers, per attempt, connection included. */
  readonly requestTimeoutMs: number;
  /** Attempts of one SDK call, the first included (the SDK's own retries). */
  readonly maxAttempts: number;
  /** Longest one SDK call may take, all its attempts, back-offs and body included: the call fails after it. */
  readonly callTimeoutMs: number;
  /** Longest the hook may take to read the deployment (GetDeployment, GetApplicationRevision) before it reports Failed. */
  readonly readBudgetMs: number;
  /** Time kept back from the function's own timeout to report: the watchdog reports this long before it. */
  readonly reserveMs: number;
  /** Longest the status report may take, all its attempts included. */
  readonly reportBudgetMs: number;
  /** Attempts of the status report (each one SDK call of `maxAttempts` attempts). */
  readonly reportAttempts: number;
  /** Pause before the n-th retry of the status report: n times this. */
  readonly reportBackoffMs: number;
  /** Time the report must end before the function's timeout. */
  readonly marginMs: number;
}

/**
 * The defaults, which the construct never changes. A hung call is noticed within `callTimeoutMs` (25 s);
 * hanging reads are given up after `readBudgetMs` (60 s) and the Failed report takes at most
 * `reportBudgetMs` (25 s) more: reported within 85 s of the start. See `hookTimeline`.
 */
export const DEFAULT_HOOK_BOUNDS: HookBounds = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 10_000,
  maxAttempts: 2,
  callTimeoutMs: 25_000,
  readBudgetMs: 60_000,
  reserveMs: 10_000,
  reportBudgetMs: 25_000,
  reportAttempts: 3,
  reportBackoffMs: 200,
  marginMs: 1_000,
};

/**
 * Environment variables that lower a bound (tests use them to keep scenarios short; the construct sets none).
 * A value can only lower its bound, never raise it past the default, so no setting breaks the guarantees.
 */
export const HOOK_BOUNDS_ENV: { readonly [K in keyof HookBounds]?: string } = {
  connectionTimeoutMs: 'GUARDRAILS_HOOK_CONNECTION_TIMEOUT_MS',
  requestTimeoutMs: 'GUARDRAILS_HOOK_REQUEST_TIMEOUT_MS',
  callTimeoutMs: 'GUARDRAILS_HOOK_CALL_TIMEOUT_MS',
  readBudgetMs: 'GUARDRAILS_HOOK_READ_BUDGET_MS',
  reportBudgetMs: 'GUARDRAILS_HOOK_REPORT_BUDGET_MS',
  reportBackoffMs: 'GUARDRAILS_HOOK_REPORT_BACKOFF_MS',
};

/** The bounds in force: the defaults, lowered by `overrides` and then by the environment (HOOK_BOUNDS_ENV). */
export function hookBounds(overrides: Partial<HookBounds> = {}, env: NodeJS.ProcessEnv = process.env): HookBounds {
  const bounds: Record<string, number> = { ...DEFAULT_HOOK_BOUNDS };
  for (const key of Object.keys(DEFAULT_HOOK_BOUNDS) as Array<keyof HookBounds>) {
    const wanted = overrides[key];
    if (typeof wanted === 'number' && Number.isFinite(wanted) && wanted >= 0) bounds[key] = Math.min(bounds[key], wanted);
    const name = HOOK_BOUNDS_ENV[key];
    const text = name ? env[name] : undefined;
    if (text !== undefined && /^\d+$/.test(text.trim())) bounds[key] = Math.min(bounds[key], Number(text));
  }
  // At least one attempt of everything, whatever was asked.
  bounds.maxAttempts = Math.max(1, bounds.maxAttempts);
  bounds.reportAttempts = Math.max(1, bounds.reportAttempts);
  return bounds as unknown as HookBounds;
}

/** What the bounds promise, in milliseconds from the start of one invocation (see DEFAULT_HOOK_BOUNDS). */
export interface HookTimeline {
  /** The longest one SDK call can take before the hook sees it fail. */
  readonly callNoticedMs: number;
  /** When reads that hang are given up at the latest: the read budget, or the watchdog if sooner. */
  readonly readsGivenUpMs: number;
  /** When the Failed report is over at the latest, when the reads hang. */
  readonly reportedByMs: number;
  /** When the report is over at the latest, whatever happens: before the function's timeout. */
  readonly reportedBeforeTimeoutMs: number;
}

/**
 * The SDK's longest pause between two attempts that `callTimeoutMs` need not cover: a throttling back-off
 * (at most 2^attempt × 500 ms) and a Retry-After hint (at most 5 s more). Only used to show that the
 * client's own settings already stay near the call deadline.
 */
const SDK_BACKOFF_CEILING_MS = 6_000;

/** The arithmetic behind the guarantees, for a function of `functionTimeoutMs` (a hook's configured timeout). */
export function hookTimeline(bounds: HookBounds, functionTimeoutMs: number): HookTimeline {
  // Each attempt waits at most requestTimeoutMs for its headers (the connection is inside it); the deadline
  // over the call cuts off anything longer (a stalled body, long back-offs).
  const sdkOwn = bounds.maxAttempts * bounds.requestTimeoutMs + (bounds.maxAttempts - 1) * SDK_BACKOFF_CEILING_MS;
  const callNoticedMs = Math.min(bounds.callTimeoutMs, sdkOwn);
  const watchdogMs = Math.max(0, functionTimeoutMs - bounds.reserveMs);
  const readsGivenUpMs = Math.min(bounds.readBudgetMs, watchdogMs);
  const reportEnd = functionTimeoutMs - bounds.marginMs;
  return {
    callNoticedMs,
    readsGivenUpMs,
    reportedByMs: Math.min(readsGivenUpMs + bounds.reportBudgetMs, reportEnd),
    reportedBeforeTimeoutMs: reportEnd,
  };
}

/** The error of an SDK call cut off by its deadline. */
export class HookCallTimeoutError extends Error {
  constructor(readonly operation: string, readonly ms: number) {
    super(`${operation} did not answer within ${ms} ms`);
    this.name = 'HookCallTimeoutError';
  }
}

/** Options of `hookClient`. */
export interface HookClientOptions {
  /** @default hookBounds() */
  readonly bounds?: HookBounds;
  /**
   * Commands whose caller bounds them with its own abortSignal and that may legitimately wait longer than
   * `requestTimeoutMs` for an answer (e.g. `InvokeCommand`, which answers when the function is done): no
   * request timeout and no call deadline of their own. A call of such a command without a signal is
   * bounded like any other.
   * @default - none
   */
  readonly callerBounded?: readonly string[];
  /** @default bounds.maxAttempts */
  readonly maxAttempts?: number;
}

/** The constructor options every hook client gets: a bounded request handler and retry count. */
export function hookClientConfig(bounds: HookBounds = hookBounds(), maxAttempts: number = bounds.maxAttempts) {
  return {
    maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: bounds.connectionTimeoutMs,
      requestTimeout: bounds.requestTimeoutMs,
      // In this version requestTimeout alone only logs a warning; a hook needs the attempt to fail.
      throwOnRequestTimeout: true,
    }),
  };
}

interface SendOptions {
  abortSignal?: AbortSignal;
  requestTimeout?: number;
  [key: string]: unknown;
}

type Sender = { send(command: unknown, options?: SendOptions): Promise<unknown> };

/**
 * An SDK client for a hook: `new Client(hookClientConfig())`, whose every `send` fails with a
 * HookCallTimeoutError after `callTimeoutMs` (combined with the caller's own abortSignal, if any), so that
 * no call outlives its deadline whatever the SDK does between attempts. Commands named in `callerBounded`
 * that come with a signal are left to it.
 */
export function hookClient<T>(Client: new (config: ReturnType<typeof hookClientConfig>) => T, options: HookClientOptions = {}): T {
  const bounds = options.bounds ?? hookBounds();
  const client = new Client(hookClientConfig(bounds, options.maxAttempts ?? bounds.maxAttempts));
  const callerBounded = new Set(options.callerBounded ?? []);
  // The prototype's send is looked up at each call, so a test that mocks the class (aws-sdk-client-mock's
  // mockClient(Client)) still reaches its stub through the deadline.
  const proto = Object.getPrototypeOf(client) as Sender;
  const send = (command: unknown, opts?: SendOptions, ...rest: unknown[]): Promise<unknown> => {
    if (typeof opts === 'function' || rest.length > 0) return (proto.send as (...args: unknown[]) => Promise<unknown>).call(client, command, opts, ...rest);
    const operation = (command as { constructor?: { name?: string } })?.constructor?.name ?? 'an AWS call';
    if (callerBounded.has(operation) && opts?.abortSignal) return proto.send.call(client, command, { requestTimeout: 0, ...opts });
    return withDeadline(bounds.callTimeoutMs, opts?.abortSignal, () => new HookCallTimeoutError(operation, bounds.callTimeoutMs),
      (signal) => proto.send.call(client, command, { ...opts, abortSignal: signal }));
  };
  Object.defineProperty(client, 'send', { value: send, writable: true, configurable: true });
  return client;
}
