/**
 * The symbolic gradient's text: a unified-diff hunk from what the expert answered to what was
 * expected. Outputs are a line or a few, so the hunk keeps the common leading and trailing lines
 * as context and shows the differing middle as -/+ lines (no LCS inside the middle: for one-line
 * answers that is the whole diff). Replace with the `diff` package's createPatch once it is a
 * dependency.
 */
export function unifiedHunk(actual: string, expected: string, label = "answer"): string {
  if (actual === expected) return "";
  const a = actual.split("\n");
  const b = expected.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const lines = [
    `--- ${label} (actual)`,
    `+++ ${label} (expected)`,
    `@@ -${head + 1},${a.length - head - tail} +${head + 1},${b.length - head - tail} @@`,
    ...a.slice(head, a.length - tail).map((l) => `-${l}`),
    ...b.slice(head, b.length - tail).map((l) => `+${l}`),
  ];
  return `${lines.join("\n")}\n`;
}
