/** Shaping captured screen text for results: trimming, tails and truncation. */

/** Lines without trailing blanks, and no empty lines after the last non-empty one. */
export function tidyScreen(lines: readonly string[]): string {
  const out = lines.map((l) => l.replace(/\s+$/u, ""));
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.join("\n");
}

/** The last `maxLines` lines of a screen, for a short "what does it look like now" field. */
export function screenTail(screen: string, maxLines = 10, maxChars = 2000): string {
  const tail = screen.split("\n").slice(-maxLines).join("\n");
  return tail.length > maxChars ? tailTruncate(tail, maxChars).text : tail;
}

/**
 * Keep the end of `text` (the newest output is what matters on a terminal) within `maxChars`,
 * starting at a line boundary where one is near, behind a header line that says how much was
 * left out and how to get it. The result, header included, is at most `maxChars` long whenever
 * `maxChars` leaves room for the header.
 */
export function tailTruncate(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (text.length <= maxChars) return { text, truncated: false };
  const header = (omitted: number) => `[… ${omitted} earlier characters not shown: pass a larger max_chars to see more …]\n`;
  const room = Math.max(0, maxChars - header(text.length).length);
  let start = text.length - room;
  // Do not start in the middle of a surrogate pair.
  if (start > 0 && start < text.length && isLowSurrogate(text.charCodeAt(start))) start++;
  // Start at the next line if a newline is close enough not to waste much of the room.
  const nl = text.indexOf("\n", start);
  if (nl !== -1 && nl - start < room / 4) start = nl + 1;
  return { text: header(start) + text.slice(start), truncated: true };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
