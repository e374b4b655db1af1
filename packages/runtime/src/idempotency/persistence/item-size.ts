import { ATTR } from '../../contract/idempotency.js';
import type { CompleteRequest } from './store.js';

/** DynamoDB's largest item, in bytes (attribute names and values together). */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

/**
 * The size DynamoDB counts for the completed record `request` describes: each attribute's name plus its value,
 * strings as UTF-8 bytes and numbers as their decimal digits (DynamoDB counts about half that, so this errs on the
 * large side, by a few bytes). Shared by the DynamoDB store, which checks it before sending a record DynamoDB
 * would refuse, and the in-memory store, which applies the same limit so that unit tests see what DynamoDB does.
 */
export function completedRecordBytes(request: CompleteRequest): number {
  let size = 0;
  const add = (name: string, value: string | undefined): void => {
    if (value !== undefined) size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  };
  add(ATTR.key, request.id);
  add(ATTR.status, 'COMPLETED');
  add(ATTR.expiration, String(request.expiresAt));
  add(ATTR.heldUntil, String(request.expiresAt * 1000));
  add(ATTR.token, request.token);
  add(ATTR.payloadHash, request.payloadHash);
  add(ATTR.releaseId, request.releaseId);
  add(ATTR.data, request.data);
  add(ATTR.notStored, request.resultNotStored);
  return size;
}
