/**
 * The tmux key names `send_keys` accepts. Anything else is rejected before a single key is
 * sent: a misspelt name must never be typed literally into someone's shell.
 *
 * Grammar (case-sensitive, as tmux spells them):
 *   NAMED        Enter Escape Tab BTab BSpace Space Up Down Left Right Home End
 *                PageUp PgUp PPage PageDown PgDn NPage DC Delete IC Insert F1…F12
 *   MODS NAMED   modifiers C- M- S- (each at most once, any order), e.g. C-Left, S-Tab, M-Enter
 *   C-a … C-z    control letters; C-M-a … C-M-z adds Meta; C-Space (NUL)
 *   M-<char>     Meta with one printable ASCII character, e.g. M-x, M-., M-;
 */

const NAMED = new Set([
  "Enter",
  "Escape",
  "Tab",
  "BTab",
  "BSpace",
  "Space",
  "Up",
  "Down",
  "Left",
  "Right",
  "Home",
  "End",
  "PageUp",
  "PgUp",
  "PPage",
  "PageDown",
  "PgDn",
  "NPage",
  "DC",
  "Delete",
  "IC",
  "Insert",
  ...Array.from({ length: 12 }, (_, i) => `F${i + 1}`),
]);

const CONTROL_LETTER = /^C-(?:M-)?[a-z]$/;
const META_CHAR = /^M-[!-~]$/;
const MODIFIED_NAMED = /^((?:[CMS]-){1,3})([A-Za-z0-9]+)$/;

export function isAllowedKey(name: string): boolean {
  if (NAMED.has(name) || CONTROL_LETTER.test(name) || META_CHAR.test(name) || name === "C-Space") return true;
  const m = MODIFIED_NAMED.exec(name);
  if (!m) return false;
  const mods = m[1]!.split("-").filter(Boolean);
  return new Set(mods).size === mods.length && NAMED.has(m[2]!);
}

export const KEY_HELP =
  "Allowed keys: Enter Escape Tab BTab BSpace Space Up Down Left Right Home End PageUp/PPage PageDown/NPage " +
  "DC/Delete IC/Insert F1-F12, C-a…C-z, C-M-a…C-M-z, C-Space, M-<one printable ASCII character>, " +
  "and C-/M-/S- before a named key (C-Left, S-Tab). Type text with send_text instead.";

/** The names in `keys` that are not allowed (empty when all are). */
export function unknownKeys(keys: readonly string[]): string[] {
  return keys.filter((k) => !isAllowedKey(k));
}
