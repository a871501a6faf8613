/**
 * Text that send_text can type faithfully. tmux takes its arguments as C strings, so a NUL would
 * silently cut the rest of the chunk; other control characters are keys, not text (C-c is an
 * interrupt, ESC starts a key sequence), and a lone UTF-16 surrogate has no UTF-8 form at all.
 * Tab, newline and carriage return are kept: they type as the keys they are (Tab, Enter).
 */
// eslint-disable-next-line no-control-regex
const UNTYPEABLE = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const NAMES: Record<number, string> = { 0x00: "a NUL byte", 0x1b: "ESC", 0x7f: "DEL" };

/** Why `text` cannot be typed as it is (one sentence that says what to do), or undefined if it can. */
export function untypeable(text: string): string | undefined {
  const m = UNTYPEABLE.exec(text);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0);
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  if (code >= 0xd800 && code <= 0xdfff) {
    return `text has a lone UTF-16 surrogate (${hex}) at index ${m.index}, which has no UTF-8 form; nothing was sent: send valid Unicode text`;
  }
  const what = NAMES[code] ?? `the control character ${code < 0x20 ? `C-${String.fromCharCode(code + 0x40).toLowerCase()}` : hex}`;
  return `text contains ${what} (${hex}) at index ${m.index}, which send_text cannot type as text; nothing was sent: remove it, or press it as a key with send_keys (e.g. C-c, Escape, BSpace)`;
}
