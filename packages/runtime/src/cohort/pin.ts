/**
 * The canary pin: synthetic traffic sends `X-Release: canary` to reach the new version before any user does.
 *
 * Threat model. Anyone who can reach the front door can send that header, so the header alone is never
 * trusted: a pin is honoured only when the caller is allowed, and a pin from anyone else is ignored (the
 * request is routed as if it had no pin) and reported (`rejected`, `onRejected`). A caller is allowed by one of:
 *
 * - a shared secret in `X-Release-Token` (any of `secrets`, so a secret can be rotated), compared in constant
 *   time on SHA-256 digests (neither the value nor its length leaks through timing). It works behind every
 *   front door (REST and HTTP APIs, function URLs, ALB). The header's name contains "token", so the shadow tap
 *   never copies it (`isSecretHeader`); keep it out of access-log formats too.
 * - an IAM principal in `allowedCallers`, read from the request context API Gateway writes after it checked a
 *   SigV4 signature: `requestContext.identity.userArn` (REST API) or `requestContext.authorizer.iam.userArn`
 *   (HTTP API, function URL). Only meaningful on routes with AWS_IAM authorization (elsewhere these fields are
 *   absent, and every pin is rejected), and only while the function's resource policy lets nothing but the
 *   front door invoke it: whoever may call lambda:Invoke directly can write any request context.
 * - `verify(request)`, for anything else the function can check (a Lambda authorizer's context, a JWT claim).
 *   A verifier that throws refuses.
 */
import * as crypto from 'crypto';
import { headerValue } from '../idempotency/keys.js';
import { CohortArgumentError } from './cohort.js';

/** The header that asks for the new version (matched in any case). */
export const PIN_HEADER = 'X-Release';

/** The value of `X-Release` that pins a request to the new version (matched in any case, trimmed). */
export const PIN_VALUE = 'canary';

/** The default header carrying the shared secret of an allowed caller. */
export const PIN_TOKEN_HEADER = 'X-Release-Token';

/** Shortest secret accepted: 16 characters. */
export const MIN_PIN_SECRET_LENGTH = 16;

/** The parts of an HTTP event (API Gateway REST or HTTP API, function URL, ALB) the cohort helpers read. */
export interface CohortRequest {
  readonly headers?: Record<string, string | undefined> | null;
  readonly multiValueHeaders?: Record<string, string[] | undefined> | null;
  readonly requestContext?: unknown;
}

/** Who may pin a request to the new version; at least one of `secrets`, `allowedCallers`, `verify`. */
export interface CanaryPinOptions {
  /** Shared secrets (at least 16 characters each); a pin carrying one of them in `secretHeader` is honoured. */
  readonly secrets?: string | readonly string[];
  /**
   * The header carrying the secret.
   * @default 'X-Release-Token'
   */
  readonly secretHeader?: string;
  /**
   * IAM principal ARNs allowed to pin (AWS_IAM-authorized routes only). An entry ending in `*` matches by prefix,
   * e.g. `arn:aws:sts::123456789012:assumed-role/synthetic-canary/*` for every session of one role.
   */
  readonly allowedCallers?: readonly string[];
  /** Any other check; return true to honour the pin. A verifier that throws refuses. */
  readonly verify?: (request: CohortRequest) => boolean;
  /** Called with every refused pin, to count them (e.g. as a metric). Never called for requests without a pin. */
  readonly onRejected?: (rejection: PinRejection) => void;
}

/** Why a pin was refused. */
export type PinRejectionReason =
  | 'pins-not-configured' | 'no-credential' | 'wrong-secret' | 'caller-not-allowed' | 'verify-refused' | 'verify-threw';

/** A refused pin, as `onRejected` receives it. */
export interface PinRejection {
  readonly reason: PinRejectionReason;
  /** The IAM principal the request came from, when the request context names one. */
  readonly caller?: string;
}

/** What `canaryPin` found: no pin asked for, a pin honoured, or a pin refused (and so ignored). */
export type PinVerdict =
  | { readonly status: 'none' }
  | { readonly status: 'pinned'; readonly via: 'secret' | 'caller' | 'verify' }
  | { readonly status: 'rejected'; readonly reason: PinRejectionReason; readonly caller?: string };

interface PreparedPin {
  readonly secretDigests: readonly Buffer[];
  readonly secretHeader: string;
  readonly exact: ReadonlySet<string>;
  readonly prefixes: readonly string[];
  readonly verify?: (request: CohortRequest) => boolean;
  readonly onRejected?: (rejection: PinRejection) => void;
}

// Options are checked and their secrets digested once per options object.
const preparedPins = new WeakMap<CanaryPinOptions, PreparedPin>();

function digest(value: string): Buffer {
  return crypto.createHash('sha256').update(value, 'utf8').digest();
}

function prepare(options: CanaryPinOptions): PreparedPin {
  const cached = preparedPins.get(options);
  if (cached) return cached;
  const fn = 'canaryPin';
  const secrets = options.secrets === undefined ? [] : typeof options.secrets === 'string' ? [options.secrets] : options.secrets;
  if (!Array.isArray(secrets)) throw new CohortArgumentError(fn, 'options.secrets', options.secrets, 'a string or an array of strings');
  secrets.forEach((secret, i) => {
    if (typeof secret !== 'string' || secret.length < MIN_PIN_SECRET_LENGTH) {
      throw new CohortArgumentError(fn, `options.secrets[${i}]`, secret, `a string of at least ${MIN_PIN_SECRET_LENGTH} characters`);
    }
  });
  const secretHeader = options.secretHeader ?? PIN_TOKEN_HEADER;
  if (typeof secretHeader !== 'string' || !/^[A-Za-z0-9-]+$/.test(secretHeader)) {
    throw new CohortArgumentError(fn, 'options.secretHeader', secretHeader, 'a header name (letters, digits and "-")');
  }
  const callers = options.allowedCallers ?? [];
  if (!Array.isArray(callers)) throw new CohortArgumentError(fn, 'options.allowedCallers', callers, 'an array of IAM principal ARNs');
  callers.forEach((arn, i) => {
    if (typeof arn !== 'string' || !/^arn:[^*]+\*?$/.test(arn)) {
      throw new CohortArgumentError(fn, `options.allowedCallers[${i}]`, arn, 'an IAM principal ARN, with at most one "*", at its end');
    }
  });
  if (options.verify !== undefined && typeof options.verify !== 'function') {
    throw new CohortArgumentError(fn, 'options.verify', options.verify, 'a function (request) => boolean');
  }
  if (options.onRejected !== undefined && typeof options.onRejected !== 'function') {
    throw new CohortArgumentError(fn, 'options.onRejected', options.onRejected, 'a function');
  }
  if (secrets.length === 0 && callers.length === 0 && options.verify === undefined) {
    throw new CohortArgumentError(fn, 'options', options, 'at least one of secrets, allowedCallers or verify (else nobody may pin)');
  }
  const prepared: PreparedPin = {
    secretDigests: secrets.map(digest),
    secretHeader,
    exact: new Set(callers.filter((arn) => !arn.endsWith('*'))),
    prefixes: callers.filter((arn) => arn.endsWith('*')).map((arn) => arn.slice(0, -1)),
    verify: options.verify,
    onRejected: options.onRejected,
  };
  preparedPins.set(options, prepared);
  return prepared;
}

/** The IAM principal API Gateway (or a function URL) names in the request context, if any. */
export function callerPrincipal(request: CohortRequest): string | undefined {
  const context = request?.requestContext as
    | { identity?: { userArn?: unknown } | null; authorizer?: { iam?: { userArn?: unknown } | null } | null }
    | null | undefined;
  const arn = context?.identity?.userArn ?? context?.authorizer?.iam?.userArn;
  return typeof arn === 'string' && arn !== '' ? arn : undefined;
}

/** Whether the request asks for the new version: `X-Release: canary`, the header name and value in any case. */
export function asksForCanary(request: CohortRequest): boolean {
  const value = headerValue(request, PIN_HEADER);
  return typeof value === 'string' && value.trim().toLowerCase() === PIN_VALUE;
}

function secretMatches(given: string, digests: readonly Buffer[]): boolean {
  const mine = digest(given);
  let match = false;
  // Every secret is compared, so the time taken does not say which one (or whether an early one) matched.
  for (const d of digests) match = crypto.timingSafeEqual(mine, d) || match;
  return match;
}

function reject(prepared: PreparedPin | undefined, reason: PinRejectionReason, caller: string | undefined): PinVerdict {
  const rejection: PinRejection = caller === undefined ? { reason } : { reason, caller };
  prepared?.onRejected?.(rejection);
  return { status: 'rejected', ...rejection };
}

/**
 * Whether a request is pinned to the new version: it carries `X-Release: canary` (any case) and comes from an
 * allowed caller. A pin from anyone else is refused: `status: 'rejected'`, `onRejected` is called, and the
 * request must be routed as if it had no pin. Pure apart from `verify` and `onRejected`.
 * @param request the Lambda event of an HTTP front door (a bare header map goes in as `{ headers }`)
 * @param options who may pin; without options every pin is refused (`pins-not-configured`)
 * @throws CohortArgumentError when the options are invalid (checked once per options object)
 */
export function canaryPin(request: CohortRequest, options?: CanaryPinOptions): PinVerdict {
  const prepared = options === undefined ? undefined : prepare(options);
  if (!asksForCanary(request)) return { status: 'none' };
  const caller = callerPrincipal(request);
  if (prepared === undefined) return reject(undefined, 'pins-not-configured', caller);

  const given = prepared.secretDigests.length > 0 ? headerValue(request, prepared.secretHeader) : undefined;
  if (typeof given === 'string' && given !== '' && secretMatches(given, prepared.secretDigests)) return { status: 'pinned', via: 'secret' };
  if (caller !== undefined && (prepared.exact.has(caller) || prepared.prefixes.some((prefix) => caller.startsWith(prefix)))) {
    return { status: 'pinned', via: 'caller' };
  }
  let refusal: PinRejectionReason | undefined;
  if (prepared.verify) {
    try {
      if (prepared.verify(request) === true) return { status: 'pinned', via: 'verify' };
      refusal = 'verify-refused';
    } catch {
      refusal = 'verify-threw';
    }
  }
  if (typeof given === 'string' && given !== '') return reject(prepared, 'wrong-secret', caller);
  if (caller !== undefined && (prepared.exact.size > 0 || prepared.prefixes.length > 0)) return reject(prepared, 'caller-not-allowed', caller);
  return reject(prepared, refusal ?? 'no-credential', caller);
}
