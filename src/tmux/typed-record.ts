/**
 * What the trail records for typed text (issue 11). Text is typed in 16-character chunks, one
 * commit each, so a secret is usually cut across several commit subjects and captures, where no
 * pattern can recognise its pieces. The whole text is therefore redacted first and the recorded
 * payloads are cut from the redacted text; the captures taken while a secret is half typed have
 * the part typed so far scrubbed; and the secrets found are remembered, so screens that show them
 * later (an `echo $TOKEN`) are scrubbed too. Text sent with `secret: true` is recorded as
 * `<secret: N chars>` and remembered whole.
 */
import { redact, rememberSecret, secretsIn } from "../storage/redact.js";
import { graphemes } from "./chunk.js";

const TAG = /\[REDACTED:[a-z0-9-]+\]/g;

export interface TypedRecord {
  /** The payload recorded for each chunk: joined, they give the redacted text. */
  payloads: string[];
  /** For the capture after chunk i: the parts of secrets typed so far, to scrub from the screen. */
  scrub: (i: number) => string[];
}

/** A placeholder that says how much was typed, not what. */
export function secretPlaceholder(text: string): string {
  return `<secret: ${graphemes(text).length} chars>`; // SECRET_PLACEHOLDER in redact.ts reads it
}

export function typedRecord(text: string, chunks: readonly string[], secret: boolean): TypedRecord {
  const ends: number[] = [];
  let at = 0;
  for (const c of chunks) ends.push((at += c.length));
  // Where each secret sits in the text (the whole text when it is one).
  const spans: Array<[number, string]> = [];
  if (secret) {
    rememberSecret(text);
    spans.push([0, text]);
  } else {
    // Found in pattern order, not text order: take every occurrence of each.
    for (const s of new Set(secretsIn(text))) {
      for (let i = text.indexOf(s); i >= 0; i = text.indexOf(s, i + s.length)) spans.push([i, s]);
      rememberSecret(s, 8); // a short value found by a pattern would match ordinary words
    }
  }
  const scrub = (i: number): string[] => {
    const typed = ends[i] ?? 0;
    // Line by line: a screen shows each line of a block after its own prompt ("> " in a heredoc).
    return spans
      .filter(([start, s]) => typed > start && typed < start + s.length)
      .flatMap(([start, s]) => s.slice(0, typed - start).split(/\r\n|\r|\n/))
      .map((l) => l.trim());
  };
  if (secret) return { payloads: chunks.map(secretPlaceholder), scrub };
  const clean = redact(text);
  if (clean === text) return { payloads: [...chunks], scrub };
  // Cut the redacted text where the chunks end (scaled to its length), never inside a tag.
  const tags = [...clean.matchAll(TAG)].map((m) => [m.index, m.index + m[0].length] as const);
  const payloads: string[] = [];
  let prev = 0;
  chunks.forEach((_c, i) => {
    let cut = i === chunks.length - 1 ? clean.length : Math.min(clean.length, Math.round((ends[i]! * clean.length) / text.length));
    for (const [a, b] of tags) if (cut > a && cut < b) cut = b;
    cut = Math.max(cut, prev);
    payloads.push(clean.slice(prev, cut));
    prev = cut;
  });
  return { payloads, scrub };
}
