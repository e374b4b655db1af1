import { RELEASE_ID_ENV, RELEASE_PINS } from '../contract/release.js';
import { headerValue } from '../idempotency/keys.js';

/** The release pins every published version carries in its environment, and the headers that carry them. */
export const PINS = RELEASE_PINS;

/** The name of one pin: `SCHEMA_REV`, `INDEX_HASH` or `MODEL_TAG`. */
export type PinName = (typeof PINS)[number]['pin'];

/** The values a version is pinned to; a pin left out is not set on this version. */
export type Pins = Partial<Record<PinName, string>>;

/** The release identity of the running version, from its environment (set by GuardedAlias's `release` prop). */
export interface ReleaseIdentity extends Pins {
  /** `RELEASE_ID`: stable per deployed code and configuration. */
  readonly RELEASE_ID?: string;
}

/** Reads the release identity from `env` (the function's environment by default). */
export function releaseFromEnv(env: NodeJS.ProcessEnv = process.env): ReleaseIdentity {
  const identity: Record<string, string> = {};
  for (const name of [RELEASE_ID_ENV, ...PINS.map((p) => p.pin)]) {
    const value = env[name];
    if (value !== undefined && value !== '') identity[name] = value;
  }
  return identity;
}

/** One pin a request asked for that this version does not have. */
export interface PinMismatch {
  readonly pin: PinName;
  readonly header: string;
  /** What this version is pinned to; null where the version has no value for the pin. */
  readonly version: string | null;
  /** What the request asked for. */
  readonly request: string;
}

/**
 * The pins a request carries (in its headers, any case) that differ from `pins`. A request that carries no
 * pin header (or only empty ones) matches anything; a pin the version does not have cannot vouch for the request, so it
 * mismatches whatever the request asks for.
 */
export function pinMismatches(event: unknown, pins: Pins): PinMismatch[] {
  const mismatches: PinMismatch[] = [];
  for (const { pin, header } of PINS) {
    const asked = headerValue(event, header);
    if (asked === undefined) continue;
    // A header sent empty carries no pin; a non-string value (a plain invocation's headers) is read as text.
    const wanted = String(asked).trim();
    if (wanted === '') continue;
    const have = pins[pin];
    if (have !== wanted) mismatches.push({ pin, header, version: have ?? null, request: wanted });
  }
  return mismatches;
}
