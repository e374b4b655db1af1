/**
 * English function words that carry no topic. They are left out of coverage and of the hashed embedding,
 * because otherwise "what is the …" would make every question look alike and hand out free coverage.
 */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'a', 'about', 'after', 'again', 'all', 'also', 'am', 'an', 'and', 'any', 'are', 'as', 'at', 'be', 'been',
  'before', 'being', 'both', 'but', 'by', 'can', 'could', 'did', 'do', 'does', 'doing', 'done', 'each', 'else',
  'even', 'ever', 'for', 'from', 'get', 'gets', 'give', 'gives', 'had', 'has', 'have', 'having', 'he', 'her',
  'here', 'him', 'his', 'how', 'i', 'if', 'in', 'into', 'is', 'it', 'its', 'just', 'me', 'more', 'most', 'my',
  'no', 'nor', 'not', 'of', 'off', 'on', 'once', 'one', 'only', 'or', 'other', 'our', 'out', 'over', 'own',
  'same', 'she', 'should', 'so', 'some', 'such', 'than', 'that', 'the', 'their', 'them', 'then', 'there',
  'these', 'they', 'this', 'those', 'through', 'to', 'too', 'up', 'us', 'very', 'was', 'we', 'were', 'what',
  'when', 'where', 'which', 'while', 'who', 'whom', 'why', 'will', 'with', 'would', 'you', 'your',
]);

// A decimal number stays one token ("0.45"), anything else splits on every non-letter, non-digit character.
const TOKEN = /\p{N}+(?:\.\p{N}+)+|[\p{L}\p{M}\p{N}]+/gu;
// Apostrophes inside a word are dropped first so that "don't" is one token, not "don" + "t".
const INNER_APOSTROPHE = /(?<=[\p{L}\p{N}])['’](?=[\p{L}\p{N}])/gu;

/**
 * Splits text into tokens: Unicode NFKC, lower-cased, apostrophes inside words removed, then runs of
 * letters and digits (a decimal such as `0.45` is kept whole); punctuation, symbols and whitespace separate
 * tokens and never appear in one. Stop words are kept here; see {@link contentTokens}.
 */
export function tokenize(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().replace(INNER_APOSTROPHE, '').match(TOKEN) ?? [];
}

/**
 * The tokens that carry meaning: {@link tokenize} without {@link STOP_WORDS}. A text made only of stop
 * words keeps all its tokens, so that it still has something to be compared by.
 */
export function contentTokens(text: string): string[] {
  const all = tokenize(text);
  const content = all.filter((token) => !STOP_WORDS.has(token));
  return content.length > 0 ? content : all;
}
