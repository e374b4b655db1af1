import { PinMismatch, pinMismatches, Pins, releaseFromEnv } from './pins';

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
 */
export function pinGuard<E, R>(handler: (event: E, context?: any) => Promise<R>, options: PinGuardOptions = {}): (event: E, context?: any) => Promise<R | PinMismatchResponse> {
  const pins = options.pins ?? releaseFromEnv();
  return async (event: E, context?: any) => {
    const mismatches = pinMismatches(event, pins);
    if (mismatches.length > 0) return refusal(mismatches);
    return handler(event, context);
  };
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
