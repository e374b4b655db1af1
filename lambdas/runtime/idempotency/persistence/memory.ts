import type { ClaimOutcome, ClaimRequest, CompleteRequest, IdempotencyRecord, IdempotencyStore } from './store';

/**
 * Idempotency records in this process's memory, with the same conditions as the DynamoDB store. For unit tests of
 * code that uses `makeIdempotent` (pass it as `options.store`); it dedupes nothing across Lambda instances.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord>();

  public async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const existing = this.records.get(request.id);
    if (existing && heldUntil(existing) >= request.now) return { claimed: false, existing };
    this.records.set(request.id, {
      id: request.id,
      status: 'INPROGRESS',
      expiresAt: request.expiresAt,
      inProgressUntil: request.inProgressUntil,
      token: request.token,
      payloadHash: request.payloadHash,
      releaseId: request.releaseId,
    });
    return { claimed: true };
  }

  public async complete(request: CompleteRequest): Promise<boolean> {
    if (this.records.get(request.id)?.token !== request.token) return false;
    this.records.set(request.id, {
      id: request.id,
      status: 'COMPLETED',
      expiresAt: request.expiresAt,
      token: request.token,
      payloadHash: request.payloadHash,
      data: request.data,
      releaseId: request.releaseId,
    });
    return true;
  }

  public async release(id: string, token: string): Promise<boolean> {
    const existing = this.records.get(id);
    if (existing?.token !== token || existing.status !== 'INPROGRESS') return false;
    this.records.delete(id);
    return true;
  }

  /** The record for `id`, if any (for assertions in tests). */
  public get(id: string): IdempotencyRecord | undefined {
    return this.records.get(id);
  }

  /** How many records are held. */
  public get size(): number {
    return this.records.size;
  }
}

function heldUntil(record: IdempotencyRecord): number {
  return record.status === 'INPROGRESS' && record.inProgressUntil !== undefined ? record.inProgressUntil : record.expiresAt * 1000;
}
