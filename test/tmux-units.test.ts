// Pure parts of the terminal layer: chunking, quoting, key names, output unescaping, truncation.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chunkText, escapeTrailingSemicolon, graphemes, MAX_CHUNK_GRAPHEMES, quoteTmuxArg } from "../src/tmux/chunk.js";
import { unescapeOutput } from "../src/tmux/control.js";
import { isAllowedKey, unknownKeys } from "../src/tmux/keys.js";
import { screenTail, tailTruncate, tidyScreen } from "../src/tmux/screen.js";
import { isShell } from "../src/tmux/shell.js";

/** Small seeded PRNG (mulberry32) so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  "a", "Z", "0", " ", ";", ";;", "'", '"', "\\", "$", "~", "#{pane_id}", "\t", "\n", "\r\n", "-",
  "漢", "字", "日本語", "한", "\u1100\u1161\u11a8", // Hangul jamo forming one syllable cluster
  "e\u0301", "a\u0300\u0316\u0317", "\u0915\u094d\u0937", // combining marks, Devanagari conjunct
  "👍", "👍🏽", "👨‍👩‍👧‍👦", "🧑🏻‍💻", "🏳️‍🌈", "🇫🇷", "🇩🇪🇯🇵", "1️⃣", "𝒜", "😀",
  "\u200d", "\u0301", // stray joiner / mark at odd places
];

function randomText(next: () => number): string {
  const n = Math.floor(next() * 80);
  let s = "";
  for (let i = 0; i < n; i++) {
    if (next() < 0.25) s += String.fromCodePoint(0x20 + Math.floor(next() * 0x2fff));
    else s += PIECES[Math.floor(next() * PIECES.length)]!;
  }
  return s;
}

test("chunkText: property over random Unicode — joins back, ≤16 graphemes each, no cluster split", () => {
  for (let seed = 1; seed <= 3000; seed++) {
    const text = randomText(rng(seed));
    const chunks = chunkText(text);
    const where = `seed ${seed}: ${JSON.stringify(text)}`;
    assert.equal(chunks.join(""), text, where);
    for (const [i, c] of chunks.entries()) {
      const n = graphemes(c).length;
      assert.ok(n >= 1 && n <= MAX_CHUNK_GRAPHEMES, where);
      if (i < chunks.length - 1) assert.equal(n, MAX_CHUNK_GRAPHEMES, `only the last chunk is short (${where})`);
    }
    assert.deepEqual(chunks.flatMap(graphemes), graphemes(text), `clusters survive chunking (${where})`);
    assert.equal(chunks.length, Math.ceil(graphemes(text).length / MAX_CHUNK_GRAPHEMES), where);
  }
});

test("chunkText: surrogate pairs, ZWJ sequences, flags and combining marks stay whole", () => {
  const family = "👨‍👩‍👧‍👦";
  const chunks = chunkText(family.repeat(20));
  assert.deepEqual(chunks.map((c) => graphemes(c).length), [16, 4]);
  assert.ok(chunks.every((c) => c.startsWith("👨")));
  const flags = chunkText("🇫🇷".repeat(17));
  assert.equal(flags[1], "🇫🇷");
  const accents = chunkText("e\u0301".repeat(16) + "e\u0301");
  assert.deepEqual(accents, ["e\u0301".repeat(16), "e\u0301"]);
  assert.deepEqual(chunkText(""), []);
  assert.deepEqual(chunkText("x".repeat(32)), ["x".repeat(16), "x".repeat(16)]);
  assert.deepEqual(chunkText("abc", 1), ["a", "b", "c"]);
  assert.throws(() => chunkText("abc", 0), RangeError);
});

test("escapeTrailingSemicolon: only a final ; gets a backslash (tmux 3.3a argv rule)", () => {
  assert.equal(escapeTrailingSemicolon("a;"), "a\\;");
  assert.equal(escapeTrailingSemicolon(";"), "\\;");
  assert.equal(escapeTrailingSemicolon("a\\;"), "a\\\\;");
  assert.equal(escapeTrailingSemicolon("a;b"), "a;b");
  assert.equal(escapeTrailingSemicolon("plain"), "plain");
});

test("quoteTmuxArg: one double-quoted token with nothing the tmux parser would act on", () => {
  for (let seed = 1; seed <= 500; seed++) {
    const q = quoteTmuxArg(randomText(rng(seed)));
    assert.match(q, /^"[A-Za-z0-9 _.,:/+=@%\\-]*"$/);
    // Every backslash starts a 3-digit octal escape.
    assert.doesNotMatch(q.replace(/\\[0-3][0-7]{2}/g, ""), /\\/);
  }
  assert.equal(quoteTmuxArg("ab c"), '"ab c"');
  assert.equal(quoteTmuxArg(";'\n"), '"\\073\\047\\012"');
  assert.equal(quoteTmuxArg("é"), '"\\303\\251"');
});

test("unescapeOutput: tmux's \\ooo escapes become bytes, UTF-8 passes through", () => {
  assert.equal(unescapeOutput(Buffer.from("hi\\015\\012\\134x")).toString("utf8"), "hi\r\n\\x");
  assert.equal(unescapeOutput(Buffer.from("漢\\033[0m")).toString("utf8"), "漢\x1b[0m");
  assert.equal(unescapeOutput(Buffer.from("no escapes")).toString("utf8"), "no escapes");
  assert.equal(unescapeOutput(Buffer.from("end\\01")).toString("utf8"), "end\\01", "a cut-off escape is kept as is");
});

test("key names: allow-list accepts tmux names, rejects anything else", () => {
  const ok = [
    "Enter", "Escape", "Tab", "BTab", "BSpace", "Space", "Up", "Down", "Left", "Right", "Home", "End",
    "PageUp", "PPage", "PageDown", "NPage", "PgUp", "PgDn", "DC", "Delete", "IC", "Insert", "F1", "F12",
    "C-a", "C-c", "C-z", "C-M-x", "C-Space", "M-x", "M-.", "M-;", "M-'", "C-Left", "S-Tab", "M-Enter", "C-S-Right",
  ];
  for (const k of ok) assert.ok(isAllowedKey(k), k);
  const bad = [
    "enter", "ENTER", "F13", "F0", "C-", "C-1", "C-A", "C-ab", "M-", "M-ab", "M- ", "C-C-Left", "X-Left", "hello",
    "Enter;", "C-c; run-shell x", "", " Enter", "S-a", "C-é",
  ];
  for (const k of bad) assert.ok(!isAllowedKey(k), JSON.stringify(k));
  assert.deepEqual(unknownKeys(["Enter", "Entr", "C-c", "Ctrl-C"]), ["Entr", "Ctrl-C"]);
});

test("tailTruncate: keeps the newest text, says what was cut, stays within max_chars", () => {
  const lines = Array.from({ length: 500 }, (_, i) => `line ${i} ${"x".repeat(i % 50)}`).join("\n");
  for (const max of [200, 333, 1000, 5000]) {
    const r = tailTruncate(lines, max);
    assert.equal(r.truncated, true);
    assert.ok(r.text.length <= max, `${r.text.length} <= ${max}`);
    assert.match(r.text, /^\[… \d+ earlier characters not shown: pass a larger max_chars to see more …\]\n/);
    assert.ok(lines.endsWith(r.text.slice(r.text.indexOf("\n") + 1)), "the tail is verbatim");
    assert.match(r.text.split("\n")[1]!, /^line \d+/, "starts at a line boundary");
    const omitted = Number(/\[… (\d+)/.exec(r.text)![1]);
    assert.equal(omitted + r.text.length - r.text.indexOf("\n") - 1, lines.length);
  }
  assert.deepEqual(tailTruncate("short", 200), { text: "short", truncated: false });
  const emoji = "😀".repeat(300);
  const r = tailTruncate(emoji, 250);
  assert.ok(!/^[\udc00-\udfff]/.test(r.text.split("\n")[1]!), "never starts inside a surrogate pair");
});

test("tidyScreen, screenTail and isShell", () => {
  assert.equal(tidyScreen(["a  ", "b", "", "  ", ""]), "a\nb");
  assert.equal(screenTail(Array.from({ length: 30 }, (_, i) => String(i)).join("\n"), 3), "27\n28\n29");
  for (const s of ["bash", "-bash", "/bin/zsh", "fish", "sh", "dash"]) assert.ok(isShell(s), s);
  for (const s of ["vim", "sleep", "node", "python3", ""]) assert.ok(!isShell(s), s);
});
