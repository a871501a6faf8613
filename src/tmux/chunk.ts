/**
 * Splitting typed text into keystroke-sized chunks.
 *
 * A chunk holds at most 16 *user-perceived* characters (grapheme clusters, as Intl.Segmenter
 * sees them), so a surrogate pair, an emoji ZWJ sequence, a flag or a letter with its combining
 * marks is never cut in half: the terminal never receives half a character. Joining the chunks
 * gives back the input exactly; nothing is dropped (the seed truncated at 16 instead).
 */

export const MAX_CHUNK_GRAPHEMES = 16;

// Created on first use: building a Segmenter loads ICU break data (~10 ms), which server start need not pay.
let cached: Intl.Segmenter | undefined;
function segmenter(): Intl.Segmenter {
  cached ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  return cached;
}

/** The grapheme clusters of `text`, in order. */
export function graphemes(text: string): string[] {
  const out: string[] = [];
  for (const { segment } of segmenter().segment(text)) out.push(segment);
  return out;
}

/** Chunks of at most `max` grapheme clusters each; `chunks.join("") === text`. */
export function chunkText(text: string, max = MAX_CHUNK_GRAPHEMES): string[] {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`chunk size must be a positive integer, got ${max}`);
  const chunks: string[] = [];
  let current = "";
  let count = 0;
  for (const { segment } of segmenter().segment(text)) {
    if (count === max) {
      chunks.push(current);
      current = "";
      count = 0;
    }
    current += segment;
    count++;
  }
  if (count > 0) chunks.push(current);
  return chunks;
}

/**
 * tmux's command-line parser (argv form, tmux 3.3a) treats an argument that ends in `;` as a
 * command separator and drops the `;`; an argument ending in `\;` loses the backslash instead.
 * So a literal argument that ends in `;` gets one backslash inserted before that last `;`
 * ("a;" → "a\;", "\;" → "\\;"), and every other argument is passed unchanged.
 */
export function escapeTrailingSemicolon(arg: string): string {
  return arg.endsWith(";") ? `${arg.slice(0, -1)}\\;` : arg;
}

/**
 * Quote a string for tmux's command language (used on the control-mode channel, which takes
 * command lines, not argv). Everything outside [A-Za-z0-9 _.,:/+=@%-] is written as a `\ooo`
 * octal escape of its UTF-8 bytes inside double quotes, so no `;`, quote, `$`, `~`, `#{`,
 * newline or other character can end the argument, start another command or be expanded.
 */
export function quoteTmuxArg(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, "utf8")) {
    const safe =
      (byte >= 0x30 && byte <= 0x39) || // 0-9
      (byte >= 0x41 && byte <= 0x5a) || // A-Z
      (byte >= 0x61 && byte <= 0x7a) || // a-z
      " _.,:/+=@%-".includes(String.fromCharCode(byte));
    out += safe ? String.fromCharCode(byte) : `\\${byte.toString(8).padStart(3, "0")}`;
  }
  return `${out}"`;
}
