import { ReleaseConfigError, shown } from './errors.js';
import { PINS, PinMismatch, pinMismatches, Pins, releaseFromEnv } from './pins.js';

/** Options of `pinGuard`. */
export interface PinGuardOptions {
  /**
   * The pins of this version.
   * @default - SCHEMA_REV, INDEX_HASH and MODEL_TAG from the function's environment, read once
   */
  readonly pins?: Pins;
}

/** The response a refused request gets: HTTP 409 with a JSON body naming every mismatched pin. */
export interface PinMismatchResponse {
  readonly statusCode: 409;
  readonly headers: { readonly 'content-type': 'application/json' };
  readonly body: string;
}

/**
 * Refuses a request whose `X-Schema-Rev`, `X-Index-Hash` or `X-Model-Tag` header (any case) does not match
 * this version's pins, with HTTP 409 and a body that names each mismatched pin and both values, so that a
 * caller on another release learns which and can retry against the matching one. A request without pin
 * headers, and any event without headers, passes through untouched.
 *
 * @throws ReleaseConfigError at wrap time when the handler is not a function or `pins` is not an object of
 * strings keyed by SCHEMA_REV, INDEX_HASH and MODEL_TAG (RELEASE_ID is allowed and ignored, as `releaseFromEnv`
 * returns it): a number or a misspelt pin would refuse every request that carries the header
 */
export function pinGuard<E, R>(handler: (event: E, context?: any) => Promise<R>, options: PinGuardOptions = {}): (event: E, context?: any) => Promise<R | PinMismatchResponse> {
  if (typeof handler !== 'function') throw new ReleaseConfigError('handler', `must be a function, got: ${shown(handler)}`);
  const refuse = pinRefusal(options);
  return async (event: E, context?: any) => refuse(event) ?? handler(event, context);
}

/**
 * pinGuard's decision, shared by `pinGuard` and `pinGuardMiddleware`: checks the options (throwing
 * ReleaseConfigError now) and returns what refuses an event, or undefined for an event that may pass.
 */
export function pinRefusal(options: PinGuardOptions): (event: unknown) => PinMismatchResponse | undefined {
  if (options === null || typeof options !== 'object') throw new ReleaseConfigError('options', `must be an object, got: ${shown(options)}`);
  if (options.pins !== undefined) checkPins(options.pins);
  const pins = options.pins ?? releaseFromEnv();
  return (event) => {
    const mismatches = pinMismatches(event, pins);
    return mismatches.length > 0 ? refusal(mismatches) : undefined;
  };
}

function checkPins(pins: unknown): void {
  if (pins === null || typeof pins !== 'object' || Array.isArray(pins)) throw new ReleaseConfigError('pins', `must be an object of strings, got: ${shown(pins)}`);
  const known: readonly string[] = PINS.map((p) => p.pin);
  for (const [name, value] of Object.entries(pins)) {
    if (name === 'RELEASE_ID') continue;
    if (!known.includes(name)) throw new ReleaseConfigError(`pins.${name}`, `is not a pin (${known.join(', ')})`);
    if (value !== undefined && typeof value !== 'string') throw new ReleaseConfigError(`pins.${name}`, `must be a string, got: ${shown(value)}`);
  }
}

function refusal(mismatches: PinMismatch[]): PinMismatchResponse {
  const described = mismatches.map((m) => `${m.pin}: request ${JSON.stringify(m.request)}, version ${m.version === null ? 'not pinned' : JSON.stringify(m.version)}`);
  return {
    statusCode: 409,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      error: 'PinMismatch',
      message: `this version does not match the request's pins (${described.join('; ')})`,
      mismatches,
    }),
  };
}
