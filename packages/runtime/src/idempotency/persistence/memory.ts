import { IdempotencyConfigurationError, IdempotencyItemTooLargeError } from '../errors.js';
import { DYNAMODB_MAX_ITEM_BYTES, completedRecordBytes } from './item-size.js';
import type { ClaimOutcome, ClaimRequest, CompleteRequest, IdempotencyRecord, IdempotencyStore } from './store.js';

/** Options of the in-memory store. */
export interface InMemoryIdempotencyStoreOptions {
  /**
   * Largest record, counted as DynamoDB counts an item; a result that makes the record larger is refused as
   * DynamoDB refuses it (`makeIdempotent` then records it as not stored).
   * @default 409600 (DynamoDB's 400 KB item limit)
   */
  readonly maxItemBytes?: number;
}

/**
 * Idempotency records in this process's memory, with the same conditions as the DynamoDB store (its item size
 * limit included). For unit tests of code that uses `makeIdempotent` (pass it as `options.store`); it dedupes
 * nothing across Lambda instances.
 */
export class InMemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, IdempotencyRecord>();
  private readonly maxItemBytes: number;

  constructor(options: InMemoryIdempotencyStoreOptions = {}) {
    const max = options.maxItemBytes ?? DYNAMODB_MAX_ITEM_BYTES;
    if (typeof max !== 'number' || !(max > 0)) {
      throw new IdempotencyConfigurationError(`maxItemBytes must be a positive number of bytes, got: ${JSON.stringify(max)}`);
    }
    this.maxItemBytes = max;
  }

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
    const bytes = completedRecordBytes(request);
    if (bytes > this.maxItemBytes) throw new IdempotencyItemTooLargeError(bytes, this.maxItemBytes);
    this.records.set(request.id, {
      id: request.id,
      status: 'COMPLETED',
      expiresAt: request.expiresAt,
      token: request.token,
      payloadHash: request.payloadHash,
      data: request.data,
      releaseId: request.releaseId,
      resultNotStored: request.resultNotStored,
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
