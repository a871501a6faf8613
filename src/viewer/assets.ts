/**
 * The browser libraries the page uses, served from the installed packages at run time: nothing is
 * fetched from a CDN or the network, and nothing is copied into dist/.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

export interface Asset {
  type: string;
  body: Buffer;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** URL path → [package file to resolve, path relative to it, content type]. */
const FILES: Record<string, [string, string, string]> = {
  "/assets/xterm.js": ["@xterm/xterm", ".", JS],
  "/assets/xterm.css": ["@xterm/xterm", "../css/xterm.css", CSS],
  "/assets/asciinema-player.js": ["asciinema-player/dist/bundle/asciinema-player.min.js", ".", JS],
  "/assets/asciinema-player.css": ["asciinema-player/dist/bundle/asciinema-player.css", ".", CSS],
};

const cache = new Map<string, Asset>();

/** The asset served at `path`, or undefined when there is none. Read once, then kept. */
export function asset(path: string): Asset | undefined {
  const known = cache.get(path);
  if (known) return known;
  const spec = FILES[path];
  if (!spec) return undefined;
  const [id, rel, type] = spec;
  const file = createRequire(import.meta.url).resolve(id);
  const found = { type, body: readFileSync(rel === "." ? file : join(dirname(file), rel)) };
  cache.set(path, found);
  return found;
}
