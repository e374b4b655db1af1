// Retries and dedupe hits by release (deploy_traffic_shaping.md: "Observability you must add: queue age, retries,
// dedupe hits by release"). Each idempotent call (makeIdempotent, idempotencyMiddleware, a makeFence runner,
// fenceMiddleware) is counted in the withRelease (or releaseTelemetryMiddleware) record of the invocation it runs in,
// so the counts carry that record's release and revision and cost no line of their own. Outside a recorded
// invocation nothing is counted and nothing is written: telemetry is on where withRelease is.
import { idempotencyCounts, type IdempotencyCounts } from '../release/telemetry.js';

export type { IdempotencyCounts };

/** How a call met its key when the key had been seen before; undefined for a first call (or one not counted). */
export type SeenAgain =
  /** Answered with the stored result of a completed record: a dedupe hit, and a retry. */
  | 'replayed'
  /** Refused: the key completed, but its result could not be stored. A dedupe hit, and a retry. */
  | 'not_stored'
  /** Refused: another call holds the key and has not finished. A dedupe hit; not a retry, since nothing ended yet. */
  | 'in_progress'
  /** Claimed over a lapsed claim (its holder crashed, timed out or could not record its result): a retry. */
  | 'taken_over';

/**
 * The counts of the invocation being recorded, which from now on names DedupeHits and Retries; undefined outside a
 * recorded invocation, where a call is not counted at all (and costs nothing more). Never throws.
 */
export function recordedCounts(): IdempotencyCounts | undefined {
  try {
    return idempotencyCounts();
  } catch {
    return undefined;
  }
}

/**
 * Counts one idempotent call in `counts`: the dedupe hit `seen` says, and as retries the larger of the SQS records of
 * `delivery` received before (ApproximateReceiveCount above 1) and 1 when the key was seen again after it completed
 * or lapsed, so that one repeated delivery counts once. Never throws.
 */
export function countIdempotentCall(counts: IdempotencyCounts, delivery: unknown, seen: SeenAgain | undefined): void {
  try {
    const redelivered = redeliveries(delivery);
    const again = seen === 'replayed' || seen === 'not_stored' || seen === 'taken_over';
    counts.redelivered += redelivered;
    counts.retries += Math.max(redelivered, again ? 1 : 0);
    if (again) counts.keyAgain += 1;
    if (seen === 'replayed') counts.replayed += 1;
    else if (seen === 'not_stored') counts.notStored += 1;
    else if (seen === 'in_progress') counts.inProgress += 1;
    if (seen !== undefined && seen !== 'taken_over') counts.dedupeHits += 1;
  } catch {
    // Telemetry never changes what an idempotent call does; an event whose members cannot be read counts nothing.
  }
}

/**
 * How many SQS records of a delivery were received before: those of an SQS event's `Records`, or the delivery
 * itself when it is one record, whose `attributes.ApproximateReceiveCount` (a string, as Lambda passes it) is
 * above 1. Anything else (an API request, a Kinesis record, a key) has none.
 */
export function redeliveries(delivery: unknown): number {
  if (delivery === null || typeof delivery !== 'object') return 0;
  const records = (delivery as { Records?: unknown }).Records;
  if (!Array.isArray(records)) return receivedBefore(delivery) ? 1 : 0;
  let count = 0;
  for (const record of records) if (receivedBefore(record)) count++;
  return count;
}

function receivedBefore(record: unknown): boolean {
  if (record === null || typeof record !== 'object') return false;
  const attributes = (record as { attributes?: unknown }).attributes;
  if (attributes === null || typeof attributes !== 'object') return false;
  const count = (attributes as { ApproximateReceiveCount?: unknown }).ApproximateReceiveCount;
  const received = typeof count === 'string' ? Number(count) : count;
  return typeof received === 'number' && received > 1;
}
