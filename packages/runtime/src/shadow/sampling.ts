/**
 * Deterministic sampling on a hash of the request id.
 *
 * The hash is 32-bit FNV-1a over the id's UTF-16 code units, finished with MurmurHash3's `fmix32`
 * avalanche. FNV-1a alone spreads random ids well but leaves sequential ids ("req-1", "req-2"...) close
 * together in the low bits; `fmix32` makes every input bit reach every output bit, so the top of the hash
 * is uniform for any kind of id. The request is sampled when `hash / 2^32 < rate`: the same id always gets
 * the same decision (a replay is sampled again), and raising the rate only adds ids.
 */

/** The 32-bit hash of a string used for sampling (FNV-1a, then MurmurHash3's fmix32), unsigned. */
export function sampleHash(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TWO_TO_32 = 4294967296;

/**
 * Whether the request with this id is sampled at `rate` (0 to 1). Deterministic: the decision depends on
 * the id and the rate only. A numeric id is sampled as its decimal string (`7` and `'7'` decide alike).
 * @throws RangeError when rate is not a number from 0 to 1; TypeError when the id is not a string or number
 */
export function shouldSample(requestId: string | number, rate: number): boolean {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`shouldSample: rate must be a number from 0 to 1, got: ${rate}`);
  const id = typeof requestId === 'number' || typeof requestId === 'bigint' ? String(requestId) : requestId;
  if (typeof id !== 'string') throw new TypeError(`shouldSample: requestId must be a string or a number, got: ${typeof requestId}`);
  if (rate === 1) return true;
  return sampleHash(id) < rate * TWO_TO_32;
}
