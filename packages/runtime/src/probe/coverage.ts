import { contentTokens, tokenize } from './tokenize.js';

/**
 * Coverage of a target section by an answer, in [0, 1]: the share of the target's distinct content
 * tokens that also occur in the answer.
 *
 * Tokens come from `tokenize`: Unicode NFKC, lower-cased, apostrophes inside words dropped, split on
 * everything that is not a letter or digit (a decimal such as `0.45` stays one token). Stop words in the
 * target do not count (`STOP_WORDS`), unless the target is nothing but stop words, in which case all its
 * tokens do. Each distinct target token counts once however often it repeats; there is no stemming, so
 * "canaries" does not cover "canary". A target with no tokens at all (empty, or only punctuation) is
 * covered by any answer: 1.
 */
export function coverage(answer: string, target: string): number {
  if (typeof answer !== 'string' || typeof target !== 'string') {
    throw new TypeError(`coverage compares strings, got ${typeof answer} and ${typeof target}`);
  }
  const wanted = new Set(contentTokens(target));
  if (wanted.size === 0) return 1;
  // All of the answer's tokens: harmless for content words, needed when the target is only stop words.
  const present = new Set(tokenize(answer));
  let hits = 0;
  for (const token of wanted) if (present.has(token)) hits++;
  return hits / wanted.size;
}
