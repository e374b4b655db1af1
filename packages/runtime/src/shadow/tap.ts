import { SHADOW_MODE_ENV } from '../contract/idempotency.js';
import { SHADOW_LINE_MARKER, SHADOW_RECORD_VERSION } from '../contract/shadow.js';
import { ShadowDrop, ShadowDropReason, ShadowEventKind, ShadowRecord } from './record.js';
import { sampleHash } from './sampling.js';
import { ShadowConfigError } from './errors.js';
import { resolveConfig, ShadowTapOptions } from './tap-config.js';
import { eligible, eventKind, OVERSIZE_RESULT, ResponseParts, responseParts, sanitiseRequest, sanitiseResponse } from './tap-event.js';

export type { ShadowTapOptions } from './tap-config.js';

/**
 * What the tap counted in this execution environment. The counts always add up, whatever happened:
 * `seen = sampled + notSampled`, and `sampled = inFlight + logged + (sum of dropped) + handlerErrors + logErrors`.
 */
export interface ShadowTapStats {
  /** Eligible requests (mirrored route and method, not themselves a replay). */
  readonly seen: number;
  /** Eligible requests sampled. */
  readonly sampled: number;
  /** Eligible requests not sampled (the hash said no, or the request had no id to hash). */
  readonly notSampled: number;
  /** Sampled requests whose handler has not answered yet. */
  readonly inFlight: number;
  /** Records logged. */
  readonly logged: number;
  /** Sampled requests dropped, by reason (a drop notice is logged in place of the record). */
  readonly dropped: Readonly<Record<ShadowDropReason, number>>;
  /** Sampled requests whose handler threw or rejected: the error goes to the caller, and nothing is logged. */
  readonly handlerErrors: number;
  /** Sampled requests whose record the `log` function failed to write. */
  readonly logErrors: number;
}

/** A handler wrapped by {@link shadowTap}: takes and returns what the handler does, plus the tap's counters. */
export type TappedHandler<H extends (...args: any[]) => any> = ((event: Parameters<H> extends [infer E, ...any[]] ? E : any, context?: any) => ReturnType<H>) & {
  readonly shadowStats: () => ShadowTapStats;
};


/**
 * Wraps a Lambda handler behind API Gateway (REST proxy or HTTP API payload v2) so that a deterministic
 * sample of its read requests is logged, sanitised, with the live response, for the mirror dispatcher to
 * replay to a shadow function.
 *
 * On the user path the tap adds one hash of the request id and nothing else for requests that are not
 * sampled. For a sampled request it serialises the record and writes one log line after the handler has
 * produced its response: no network call and no await of anything but the handler itself. A tap failure
 * never reaches the user; a bad configuration in the environment turns the tap off with one warning.
 *
 * @throws ShadowConfigError when an explicit option is invalid (at wrap time, so at cold start)
 */
export function shadowTap<H extends (event: any, context: any) => any>(handler: H, options: ShadowTapOptions = {}): TappedHandler<H> {
  if (typeof handler !== 'function') throw new ShadowConfigError('handler', `must be a function, got: ${typeof handler}`);
  const tap = createTap(options);
  const tapped = function (this: unknown, event: any, context: any): any {
    const sample = tap.begin(event, context);
    if (!sample) return handler.call(this, event, context);
    let out: any;
    try {
      out = handler.call(this, event, context);
    } catch (error) {
      sample.failed();
      throw error;
    }
    if (out !== null && typeof out === 'object' && typeof out.then === 'function') {
      return out.then((result: unknown) => {
        sample.settle(result);
        return result;
      }, (error: unknown) => {
        sample.failed();
        throw error;
      });
    }
    sample.settle(out);
    return out;
  } as unknown as TappedHandler<H>;
  Object.defineProperty(tapped, 'shadowStats', { value: tap.stats });
  return tapped;
}

/** One sampled request: `settle` with the response the caller got, or `failed` when the handler threw. Neither throws. */
export interface TapSample {
  settle(result: unknown): void;
  failed(): void;
}

/** The tap of one handler: `begin` says whether a request is sampled (undefined if not), `stats` what it counted. */
export interface Tap {
  begin(event: any, context: any): TapSample | undefined;
  stats(): ShadowTapStats;
}

/**
 * The shadow tap, shared by `shadowTap` and `shadowTapMiddleware`: checks the options (throwing ShadowConfigError
 * now) and keeps one set of counters.
 */
export function createTap(options: ShadowTapOptions): Tap {
  const config = resolveConfig(options);
  const shadowMode = process.env[SHADOW_MODE_ENV] === 'true' || process.env[SHADOW_MODE_ENV] === '1';
  const dropped: Record<ShadowDropReason, number> = { oversize: 0, unredactable: 0, unserialisable: 0 };
  let seen = 0;
  let sinceLine = 0;
  let sampled = 0;
  let notSampled = 0;
  let inFlight = 0;
  let logged = 0;
  let handlerErrors = 0;
  let logErrors = 0;

  // Settles one sampled request into exactly one outcome: logged, dropped (by reason), or a log error.
  const emit = (event: any, kind: ShadowEventKind, id: string, result: unknown, ms: number): void => {
    const at = Date.now();
    const drop = (reason: ShadowDropReason, bytes?: number, body?: ShadowDrop['body']): void => {
      dropped[reason]++;
      const notice: ShadowDrop = {
        _shadow: SHADOW_LINE_MARKER, v: SHADOW_RECORD_VERSION, drop: reason, id, at, rate: config!.rate, seen: sinceLine,
        ...(bytes !== undefined ? { bytes } : {}), ...(body !== undefined ? { body } : {}),
      };
      try {
        config!.log(JSON.stringify(notice));
        sinceLine = 0;
      } catch {
        // The sample stays counted as dropped; a failing log sink is not the user's problem.
      }
    };
    let response: ResponseParts;
    try {
      response = responseParts(result, kind, config!.maxBytes);
    } catch {
      // A response the tap cannot serialise (a BigInt, a cycle) is the tap's problem, never the user's.
      return drop('unserialisable');
    }
    // The size cap is checked on the raw bodies before anything is parsed or redacted: a body that alone takes the
    // record over the cap is dropped for what it is, at a cost that does not grow with its size.
    const requestChars = typeof event.body === 'string' ? event.body.length : 0;
    const responseChars = response === OVERSIZE_RESULT ? Infinity : response.raw?.length ?? 0;
    if (requestChars + responseChars > config!.maxBytes) {
      const body = requestChars > config!.maxBytes ? 'request' : responseChars > config!.maxBytes ? 'response' : 'both';
      // UTF-16 code units: a lower bound of the bodies' UTF-8 bytes, known without reading them.
      return drop('oversize', Number.isFinite(responseChars) ? requestChars + responseChars : undefined, body);
    }
    if (response === OVERSIZE_RESULT) return drop('oversize', undefined, 'response');
    let line: string;
    try {
      const request = sanitiseRequest(event, kind, config!);
      const sanitised = request && sanitiseResponse(response, ms, config!);
      if (!request || !sanitised) return drop('unredactable');
      const record: ShadowRecord = {
        _shadow: SHADOW_LINE_MARKER, v: SHADOW_RECORD_VERSION, kind, id, at, rate: config!.rate, seen: sinceLine,
        modelRev: config!.modelRev, indexHash: config!.indexHash, request, response: sanitised,
      };
      line = JSON.stringify(record);
    } catch {
      return drop('unserialisable');
    }
    // UTF-16 length bounds the UTF-8 size from below and 3x from above: measure exactly only near the cap.
    const bytes = line.length * 3 <= config!.maxBytes ? line.length : Buffer.byteLength(line, 'utf8');
    if (bytes > config!.maxBytes) return drop('oversize', bytes);
    try {
      config!.log(line);
    } catch {
      logErrors++;
      return;
    }
    sinceLine = 0;
    logged++;
  };

  const settle = (event: any, kind: ShadowEventKind, id: string, result: unknown, started: number): void => {
    inFlight--;
    try {
      emit(event, kind, id, result, performance.now() - started);
    } catch {
      // emit settles every path itself; this only guards the user against a bug in the tap.
    }
  };
  const failed = (): void => {
    inFlight--;
    handlerErrors++;
  };

  return {
    begin: (event, context) => {
      if (config === undefined || shadowMode) return undefined;
      const kind = eventKind(event);
      if (kind === undefined || !eligible(event, kind, config)) return undefined;
      seen++;
      sinceLine++;
      const id: unknown = event.requestContext.requestId ?? context?.awsRequestId;
      if (typeof id !== 'string' || sampleHash(id) >= config.threshold) {
        notSampled++;
        return undefined;
      }
      sampled++;
      inFlight++;
      const started = performance.now();
      return { settle: (result) => settle(event, kind, id, result, started), failed };
    },
    stats: () => ({ seen, sampled, notSampled, inFlight, logged, dropped: { ...dropped }, handlerErrors, logErrors }),
  };
}
