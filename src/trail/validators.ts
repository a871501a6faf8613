import { assertName } from "../names.js";
import { checkJsTs, checkPython, sourceLanguage, type SourceLanguage } from "./syntax-check.js";
import { catFileBatch, catFileSizes, git, isOid } from "./git.js";
import { stepTimeMs, trailTip } from "./read.js";
import { CAPTURES_DIR, TIMESTAMP_TRAILER } from "./repo.js";

/**
 * Validators over one session's trail (the commits whose subject starts with `<session>: `).
 *
 * - avg_interval_ms: (last − first) / (n − 1) of the `Experience-Timestamp-Ms` trailers (author
 *   time × 1000 for a commit without one); null when n < 2.
 * - max_byte_delta: largest |Δ| between adjacent session commits of the total size of the
 *   session's files (`<session>/`, so never `.captures/`): the seed's "max diff len".
 * - max_diff_chars: largest unified diff between adjacent session commits of the session's files,
 *   in characters (code points): `---`/`+++` headers, hunks, "\ No newline", "Binary files" lines,
 *   with paths relative to the workspace (a/x.py, b/x.py) and 3 lines of context. Git's extended
 *   header lines (`diff --git`, `index`, modes) are left out so the size does not depend on how
 *   git abbreviates object ids.
 * - syntax_ratio: fraction of session commits at which every Python / JS / TS file in the
 *   workspace parses; a commit without such files counts as valid; 1 when there are no commits.
 *
 * The workspace state at each commit comes from the raw change list of `git log` over the
 * session's paths (blobs are read, nothing is checked out): one log, one cat-file per kind of
 * read, one diff-tree and at most one python3, whatever the number of commits.
 */
export interface TrailMetrics {
  commits: number;
  avg_interval_ms: number | null;
  max_byte_delta: number;
  max_diff_chars: number;
  syntax_ratio: number;
}

const EMPTY: TrailMetrics = { commits: 0, avg_interval_ms: null, max_byte_delta: 0, max_diff_chars: 0, syntax_ratio: 1 };

interface Change {
  path: string; // relative to the workspace
  mode: string; // "000000" when deleted
  oid: string;
}

interface LogRecord {
  oid: string;
  authorTime: number;
  subject: string;
  trailer: string;
  changes: Change[];
}

interface FileState {
  mode: string;
  oid: string;
}

const REGULAR = new Set(["100644", "100755"]);

export async function validateTrail(root: string, session: string): Promise<TrailMetrics> {
  assertName("session", session);
  const tip = await trailTip(root);
  if (!tip) return { ...EMPTY };

  const records = parseLog(
    (
      await git(root, [
        "log",
        "--first-parent",
        "--reverse",
        "--no-renames",
        "--raw",
        "-r",
        "--no-abbrev",
        "-z",
        "--no-color",
        `--format=%x1e%H %at%x00%s%x00%(trailers:key=${TIMESTAMP_TRAILER},valueonly,separator=%x2C)%x00`,
        tip,
        "--",
        session,
        `${CAPTURES_DIR}/${session}`,
      ])
    ).stdout,
    `${session}/`,
  );
  const prefix = `${session}: `;
  const isStep = (r: LogRecord) => r.subject.startsWith(prefix);
  const steps = records.filter(isStep);
  if (steps.length === 0) return { ...EMPTY };

  // Every blob the workspace ever held (sizes) and every source blob (syntax), each read once.
  const blobs = new Set<string>();
  const sources = new Map<string, { language: SourceLanguage; oid: string }>();
  for (const r of records) {
    for (const c of r.changes) {
      if (c.mode === "000000" || c.mode === "160000") continue;
      blobs.add(c.oid);
      const language = REGULAR.has(c.mode) ? sourceLanguage(c.path) : null;
      if (language) sources.set(`${language}:${c.oid}`, { language, oid: c.oid });
    }
  }
  const [sizes, valid] = await Promise.all([catFileSizes(root, [...blobs]), checkSources(root, [...sources.values()])]);

  // Replay the workspace: a running total of bytes and of files that do not parse.
  const files = new Map<string, FileState>();
  let totalBytes = 0;
  let invalidFiles = 0;
  const weigh = (path: string, f: FileState | undefined, sign: 1 | -1) => {
    if (!f) return;
    totalBytes += sign * (sizes.get(f.oid) ?? 0);
    const language = REGULAR.has(f.mode) ? sourceLanguage(path) : null;
    if (language && valid.get(`${language}:${f.oid}`) === false) invalidFiles += sign;
  };
  const totals: number[] = [];
  let validCommits = 0;
  for (const r of records) {
    for (const c of r.changes) {
      weigh(c.path, files.get(c.path), -1);
      if (c.mode === "000000") files.delete(c.path);
      else {
        const f = { mode: c.mode, oid: c.oid };
        files.set(c.path, f);
        weigh(c.path, f, 1);
      }
    }
    if (!isStep(r)) continue;
    totals.push(totalBytes);
    if (invalidFiles === 0) validCommits++;
  }

  let maxByteDelta = 0;
  for (let i = 1; i < totals.length; i++) maxByteDelta = Math.max(maxByteDelta, Math.abs(totals[i]! - totals[i - 1]!));

  const times = steps.map((r) => stepTimeMs(r.trailer, r.authorTime));
  const avg = times.length < 2 ? null : (times[times.length - 1]! - times[0]!) / (times.length - 1);

  return {
    commits: steps.length,
    avg_interval_ms: avg,
    max_byte_delta: maxByteDelta,
    max_diff_chars: await maxDiffChars(root, session, steps.map((r) => r.oid)),
    syntax_ratio: validCommits / steps.length,
  };
}

/** Parse `git log -z --raw` output in the format above; changes kept only under `workspace`. */
function parseLog(out: Buffer, workspace: string): LogRecord[] {
  const records: LogRecord[] = [];
  let pos = 0;
  const field = (): string => {
    const end = out.indexOf(0, pos);
    if (end < 0) throw new Error("truncated git log output");
    const s = out.toString("utf8", pos, end);
    pos = end + 1;
    return s;
  };
  const skipSeparators = () => {
    while (pos < out.length && (out[pos] === 0 || out[pos] === 0x0a)) pos++;
  };
  skipSeparators();
  while (pos < out.length) {
    if (out[pos] !== 0x1e) throw new Error(`unexpected git log output at byte ${pos}`);
    pos++;
    const [oid = "", at = "0"] = field().split(" ");
    if (!isOid(oid)) throw new Error(`unexpected commit id in git log output: ${JSON.stringify(oid)}`);
    const record: LogRecord = { oid, authorTime: Number(at), subject: field(), trailer: field(), changes: [] };
    skipSeparators();
    while (pos < out.length && out[pos] === 0x3a /* ':' */) {
      // ":<old mode> <new mode> <old oid> <new oid> <status>" NUL "<path>" NUL
      const meta = field().slice(1).split(" ");
      const path = field();
      if (meta.length < 5) throw new Error(`unexpected raw diff entry in git log output: ${JSON.stringify(meta.join(" "))}`);
      if (path.startsWith(workspace)) record.changes.push({ path: path.slice(workspace.length), mode: meta[1]!, oid: meta[3]! });
      skipSeparators();
    }
    records.push(record);
  }
  return records;
}

/** Parse result per `<language>:<oid>` for every source blob. */
async function checkSources(root: string, sources: ReadonlyArray<{ language: SourceLanguage; oid: string }>): Promise<Map<string, boolean>> {
  const result = new Map<string, boolean>();
  if (sources.length === 0) return result;
  const objects = await catFileBatch(root, sources.map((s) => s.oid));
  const python: Array<{ key: string; body: Buffer }> = [];
  const decoder = new TextDecoder("utf-8"); // replaces invalid bytes; strips a BOM like editors do
  for (let i = 0; i < sources.length; i++) {
    const { language, oid } = sources[i]!;
    const obj = objects[i];
    if (!obj) throw new Error(`trail repository is missing blob ${oid}; run git fsck in ${root}`);
    const key = `${language}:${oid}`;
    if (language === "python") python.push({ key, body: obj.body });
    else result.set(key, await checkJsTs(language, decoder.decode(obj.body)));
  }
  const answers = await checkPython(python.map((p) => p.body));
  python.forEach((p, i) => result.set(p.key, answers[i]!));
  return result;
}

/** Largest unified diff (characters) of the workspace between adjacent commits, one diff-tree. */
async function maxDiffChars(root: string, session: string, commits: readonly string[]): Promise<number> {
  if (commits.length < 2) return 0;
  // "<commit> <other>" on --stdin diffs <other> → <commit>; the commit id heads each non-empty diff.
  const input = commits
    .slice(1)
    .map((c, i) => `${c} ${commits[i]!}\n`)
    .join("");
  const { stdout } = await git(
    root,
    [
      "diff-tree",
      "--stdin",
      "-p",
      "--no-renames",
      "--no-color",
      "--no-ext-diff",
      "--no-textconv",
      "--unified=3",
      "--diff-algorithm=myers",
      "--src-prefix=a/",
      "--dst-prefix=b/",
      `--relative=${session}/`,
    ],
    { input },
  );
  let max = 0;
  let current = 0;
  for (const line of stdout.toString("utf8").split("\n")) {
    if (/^[0-9a-f]{40}$/.test(line)) {
      max = Math.max(max, current);
      current = 0;
    } else if (line !== "" && !/^[a-z]/.test(line)) {
      // git's extended headers all start with a lowercase word; hunk lines never do
      current += [...line].length + 1; // the line and its newline, in code points
    }
  }
  return Math.max(max, current);
}
