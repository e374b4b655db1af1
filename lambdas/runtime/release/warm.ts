import { headerValue } from '../idempotency/keys';

/**
 * Whether `event` is a warm ping: `"x-warm": true` at its top level, or an `x-warm: true` header (any case).
 * Warm pings prepare an execution environment; telemetry leaves them out of every SLO metric.
 */
export function isWarmPing(event: unknown): boolean {
  if (event === null || typeof event !== 'object') return false;
  const top = (event as Record<string, unknown>)['x-warm'];
  if (top === true || top === 'true') return true;
  const header = headerValue(event, 'x-warm');
  // A plain invocation's headers may hold a boolean rather than text.
  return header !== undefined && String(header).trim().toLowerCase() === 'true';
}
