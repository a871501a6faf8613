/**
 * Signatures: the first 16 hex characters of a sha256.
 *  - raw errors:        sha256("{error_type}:{context}:{template}")
 *  - structured fields: sha256("{severity}:{error_type}:{context}:{sorted categories}"), with the
 *    categories rendered as Python's repr of a list of str, byte for byte, so a signature computed
 *    by experience-memory (Python) and by us is the same string.
 */
import { createRequire } from "node:module";

// Loaded on first use: the hook process (one per tool call) hashes only when it registers a fix,
// and loading node:crypto costs it a few milliseconds.
let crypto: typeof import("node:crypto") | undefined;

export interface SignatureFields {
  severity: string;
  error_type: string;
  context: string;
  categories: readonly string[];
}

export const SIGNATURE_RE = /^[0-9a-f]{16}$/;

function sha16(text: string): string {
  crypto ??= createRequire(import.meta.url)("node:crypto") as typeof import("node:crypto");
  return crypto.createHash("sha256").update(text, "utf8").digest("hex").slice(0, 16);
}

export function rawSignature(errorType: string, context: string, template: string): string {
  return sha16(`${errorType}:${context}:${template}`);
}

export function structuredKey(fields: SignatureFields): string {
  return `${fields.severity}:${fields.error_type}:${fields.context}:${pythonListRepr(sortCodePoints(fields.categories))}`;
}

export function structuredSignature(fields: SignatureFields): string {
  return sha16(structuredKey(fields));
}

/** Python's sorted() on str compares code points; JS's default sort compares UTF-16 units. */
export function sortCodePoints(items: readonly string[]): string[] {
  return [...items].sort((a, b) => {
    const x = [...a];
    const y = [...b];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
      if (d !== 0) return d;
    }
    return x.length - y.length;
  });
}

export function pythonListRepr(items: readonly string[]): string {
  return `[${items.map(pythonStrRepr).join(", ")}]`;
}

// str.isprintable() is false for these categories (the ASCII space excepted).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** repr(s) for a Python 3 str: single quotes unless the text has ' and no ", escapes as CPython. */
export function pythonStrRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch !== " " && NON_PRINTABLE.test(ch)) {
      if (cp <= 0xff) out += `\\x${cp.toString(16).padStart(2, "0")}`;
      else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`;
      else out += `\\U${cp.toString(16).padStart(8, "0")}`;
    } else out += ch;
  }
  return out + quote;
}
