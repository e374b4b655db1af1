import { headerValue } from '../idempotency/keys.js';

const WARM = 'x-warm';

/**
 * Whether `event` is a warm ping: an `x-warm` member at its top level, or an `x-warm` header (REST `headers` or
 * `multiValueHeaders`, HTTP API `headers`), whose value is `true`. Names and text values are matched in any case
 * (`X-Warm`, `X-WARM`; `"TRUE"`), and a header value may be a boolean (a plain invocation's headers) or repeated
 * (`true,true`, as HTTP APIs join a repeated header). Warm pings prepare an execution environment; telemetry
 * leaves them out of every SLO metric.
 */
export function isWarmPing(event: unknown): boolean {
  if (event === null || typeof event !== 'object') return false;
  const e = event as Record<string, unknown>;
  if (isTrue(e[WARM])) return true;
  for (const key in e) {
    // Own members only; the length test keeps the case folding off every other key.
    if (key.length === WARM.length && key !== WARM && key.toLowerCase() === WARM && Object.prototype.hasOwnProperty.call(e, key) && isTrue(e[key])) return true;
  }
  const header = headerValue(event, WARM);
  return header !== undefined && isTrue(header);
}

function isTrue(value: unknown): boolean {
  if (value === true) return true;
  if (Array.isArray(value)) return value.length > 0 && value.every(isTrue);
  if (typeof value !== 'string') return false;
  const text = value.trim().toLowerCase();
  if (text === 'true') return true;
  return text.includes(',') && text.split(',').every((part) => part.trim() === 'true');
}
