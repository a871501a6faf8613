import { createPatch } from "diff";

/**
 * The symbolic gradient's text: a unified diff (the `diff` package) from what the expert answered
 * to what was expected. Both sides get a final newline so a one-line change reads as -/+ lines
 * rather than "\ No newline at end of file" noise; the "Index:"/"====" preamble is dropped.
 */
export function unifiedHunk(actual: string, expected: string, label = "answer"): string {
  if (actual === expected) return "";
  const patch = createPatch(label, withNewline(actual), withNewline(expected), "actual", "expected", { context: 2 });
  return patch.slice(patch.indexOf("---"));
}

function withNewline(s: string): string {
  return s === "" || s.endsWith("\n") ? s : `${s}\n`;
}
