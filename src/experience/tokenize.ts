/**
 * Tokens for retrieval: lower-cased runs of Unicode letters, digits and combining marks, NFC
 * normalized. Han, Hiragana, Katakana and Hangul have no spaces between words, so each of their
 * characters is a token of its own. Anything else (punctuation, symbols, emoji, spaces) separates.
 */
const WORD_RUN = /[\p{L}\p{N}\p{M}]+/gu;
const CJK_CHAR = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const CJK_SPLIT = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])/u;

/** A token longer than this is cut: hashes and base64 blobs would only bloat the index. */
export const MAX_TOKEN_LENGTH = 64;

export function tokenize(text: string): string[] {
  const out: string[] = [];
  const normalized = text.normalize("NFC").toLowerCase();
  for (const match of normalized.matchAll(WORD_RUN)) {
    const run = match[0];
    if (!CJK_CHAR.test(run)) {
      out.push(run.length > MAX_TOKEN_LENGTH ? run.slice(0, MAX_TOKEN_LENGTH) : run);
      continue;
    }
    for (const part of run.split(CJK_SPLIT)) {
      if (part) out.push(part.length > MAX_TOKEN_LENGTH ? part.slice(0, MAX_TOKEN_LENGTH) : part);
    }
  }
  return out;
}

/** Distinct tokens in first-seen order. */
export function tokenSet(text: string): string[] {
  return [...new Set(tokenize(text))];
}

/** |a ∩ b| / |a ∪ b|; 0 when both are empty. */
export function jaccard(a: ReadonlySet<string>, b: readonly string[]): { score: number; shared: string[] } {
  const shared: string[] = [];
  let bSize = 0;
  const seen = new Set<string>();
  for (const t of b) {
    if (seen.has(t)) continue;
    seen.add(t);
    bSize++;
    if (a.has(t)) shared.push(t);
  }
  const union = a.size + bSize - shared.length;
  return { score: union === 0 ? 0 : shared.length / union, shared };
}
