/**
 * Harvest terminal trails: every send_text chunk and send_keys key of a tmux session is one commit
 * in `<home>/trails` (src/trail/repo.ts) with the pane capture after it. A session's commits are
 * grouped into steps — a typed line run with Enter, or a key pressed on its own — and each step
 * becomes an (observation, decision, command) triple: the screen before it, what was decided, what
 * was sent, plus the screen it led to. Triples are stored as experience rows; a failed line that a
 * later step of the same shape fixed is registered as a candidate fix, as transcript pairs are.
 *
 * Idempotent: `meta` keeps, per trail repository and session, the last seq harvested (and the
 * commit to read from next), so a session harvested twice adds nothing and a session that grew is
 * continued from where it stopped. A line still being typed (no Enter yet) waits for a later run.
 *
 * One file: one pass per session (group commits into steps, make triples, pair a failed line with
 * the one that fixed it, advance the cursor) over one cursor state that every stage updates.
 */
import { realpathSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Db } from "../storage/db.js";
import { hidesSecret, redactSecrets, SECRET_PLACEHOLDER } from "../storage/redact.js";
import { ExperienceStore, type NewRow } from "../experience/store.js";
import { shellQuote } from "../harness/slots.js";
import { unsolvedRun, type UnsolvedRun } from "../harness/record.js";
import { meaningfulLines, normalizeError } from "../registry/normalize.js";
import { FixRegistry } from "../registry/registry.js";
import { isOid, readCaptures, readSessionCommits, trailGitDir, trailSessions, trailTip, type StepKind, type TrailCommit } from "../trail/read.js";
import { extractPairs, registerCandidate } from "./pairs.js";
import type { ToolCall } from "./transcript.js";

export const DEFAULT_TRAIL_TENSOR = "trails";
/** Observation and outcome: the last this many non-blank lines of the screen. */
export const SCREEN_LINES = 8;
/** A failure is fixed by a step at most this many steps after it. */
export const PAIR_WINDOW_STEPS = 5;

/** Keys that run the line being typed. */
const ENTER_KEYS = new Set(["Enter", "C-m", "C-j", "KPEnter"]);
/** Keys that edit the line being typed (readline): they stay part of its step. */
const EDIT_KEYS = new Set([
  "Tab", "BTab", "BSpace", "Space", "Left", "Right", "Home", "End", "DC", "Delete", "IC", "Insert", "Up", "Down",
  "C-a", "C-b", "C-e", "C-f", "C-h", "C-k", "C-u", "C-w", "C-y", "C-Left", "C-Right", "M-b", "M-f", "M-d", "M-BSpace",
]);

/**
 * Shell-level failures that are unmistakable on a screen. The registry's classifier covers the
 * rest, but only when it names a specific error type (a bare "error" word in output is not enough).
 */
const SHELL_ERROR =
  /(?:^|: )(?:command not found|No such file or directory|Permission denied|cannot access|Not a directory|Is a directory|syntax error[^\n]*)$|^(?:ba|z|da)?sh: |^Traceback \(most recent call last\):|\bSegmentation fault\b/m;

/** A screen whose last line ends like this is back at a prompt (shell, REPL). */
const PROMPT_END = /[$#%>❯]$/u;

/** One step: a typed line (its chunks, editing keys and the Enter that ran it) or one key. */
export interface TrailStep {
  first: number;
  last: number;
  /** "text": a line typed and run; "keys": a key pressed on its own, or a typed line abandoned with one. */
  kind: "text" | "keys";
  /** The line (text parts, `<Key>` for editing keys), or the key names joined by a space. */
  command: string;
  decision: string;
  timestampMs: number;
}

export interface TrailTriple {
  session: string;
  /** seq of the step's first commit. */
  seq: number;
  observation: string;
  decision: string;
  command: string;
  outcome: string;
}

export interface TrailPair {
  session: string;
  seq: number;
  command: string;
  error_type: string;
  error: string;
  fix: string;
  status: "new" | "stored" | "already";
}

/**
 * A command typed by hand after a run_harness run that did not solve its task, in the same
 * session: stored as a training example (source "trail") for the run's command expert.
 */
export interface TrailDemonstration {
  session: string;
  seq: number;
  run_id: string;
  tensor: string;
  /** The command expert's input the run could not answer. */
  input: string;
  /** The command as typed, with the task's parameters written back as {1}, {2}, … */
  expected: string;
  status: "new" | "stored";
}

export interface TrailHarvestOptions {
  /** The trail repository (default `<home>/trails`, chosen by the caller). */
  root: string;
  /** Only this session. */
  session?: string;
  /** Tensor the triples go to (default "trails"). */
  tensor?: string;
  dryRun?: boolean;
  now?: number;
}

export interface TrailHarvestReport {
  root: string;
  tensor: string;
  sessions_found: number;
  /** Sessions with new complete steps. */
  sessions_read: number;
  /** Sessions with nothing new since the last harvest. */
  sessions_unchanged: number;
  triples_found: number;
  /** Rows created; a triple identical to a stored row reinforces it instead. */
  triples_stored: number;
  pairs_found: number;
  pairs_stored: number;
  pairs_already: number;
  triples: TrailTriple[];
  pairs: TrailPair[];
  /** Commands typed after an unsolved run_harness run in its session: training examples. */
  demonstrations: TrailDemonstration[];
}

/** Where a session's harvest stopped: the last seq harvested and the commit to read on from. */
interface Cursor {
  seq: number;
  /** Next read starts after this commit (the one before the last few steps, kept for pairs); "" = from the start. */
  from: string;
  fromSeq: number;
}

function metaKey(root: string, session: string): string {
  return `harvest.trail:${root}:${session}`;
}

function readCursor(raw: string | undefined): Cursor {
  if (!raw) return { seq: 0, from: "", fromSeq: 0 };
  try {
    const c = JSON.parse(raw) as Partial<Cursor>;
    if (typeof c.seq === "number" && typeof c.fromSeq === "number" && typeof c.from === "string" && (c.from === "" || isOid(c.from))) {
      return { seq: c.seq, from: c.from, fromSeq: c.fromSeq };
    }
  } catch {
    // unreadable: start over (the harvested_pairs ids and row hashes still keep it from doubling)
  }
  return { seq: 0, from: "", fromSeq: 0 };
}

/** Group commits (seq order) into steps; `pending` is where an unfinished line starts (-1: none). */
export function groupSteps(commits: readonly TrailCommit[]): { steps: TrailStep[]; pending: number } {
  const steps: TrailStep[] = [];
  let open: { first: number; parts: Array<{ kind: StepKind; payload: string }>; timestampMs: number } | undefined;
  const line = (parts: ReadonlyArray<{ kind: StepKind; payload: string }>) =>
    parts.map((p) => (p.kind === "text" ? p.payload : `<${p.payload}>`)).join("").replace(/[\r\n]+$/, "");
  for (const c of commits) {
    if (c.kind === "text") {
      open ??= { first: c.seq, parts: [], timestampMs: c.timestampMs };
      open.parts.push({ kind: "text", payload: c.payload });
      // A newline typed inside the text runs the line just as Enter does.
      if (/[\r\n]$/.test(c.payload)) {
        const command = line(open.parts);
        steps.push({ first: open.first, last: c.seq, kind: "text", command, decision: `text:${command}`, timestampMs: open.timestampMs });
        open = undefined;
      }
      continue;
    }
    if (open) {
      if (ENTER_KEYS.has(c.payload)) {
        const command = line(open.parts);
        steps.push({ first: open.first, last: c.seq, kind: "text", command, decision: `text:${command}`, timestampMs: open.timestampMs });
        open = undefined;
      } else if (EDIT_KEYS.has(c.payload)) {
        open.parts.push({ kind: "key", payload: c.payload });
      } else {
        // C-c, C-d, Escape… on a typed line: the line was not run; the key is the decision.
        const command = `${line(open.parts)}<${c.payload}>`;
        steps.push({ first: open.first, last: c.seq, kind: "keys", command, decision: `ctrl:${c.payload}`, timestampMs: open.timestampMs });
        open = undefined;
      }
      continue;
    }
    steps.push({ first: c.seq, last: c.seq, kind: "keys", command: c.payload, decision: `ctrl:${c.payload}`, timestampMs: c.timestampMs });
  }
  return { steps, pending: open ? open.first : -1 };
}

/** The last `n` non-blank lines of a screen. */
export function screenTailLines(screen: string, n = SCREEN_LINES): string {
  return screen
    .split("\n")
    .map((l) => l.replace(/\s+$/u, ""))
    .filter((l) => l.trim() !== "")
    .slice(-n)
    .join("\n");
}

/**
 * The screen as it was before `chunk` was typed, from the capture taken after typing it: the chunk
 * is cut from the end of the last line. Undefined when the screen does not end with the chunk.
 */
function untype(capture: string, chunk: string): string | undefined {
  const typed = chunk.replace(/\s+$/u, "");
  // eslint-disable-next-line no-control-regex
  if (typed === "" || /[\x00-\x1f\x7f]/.test(typed)) return undefined;
  const lines = capture.replace(/\s+$/u, "").split("\n");
  const lastLine = lines[lines.length - 1] ?? "";
  if (!lastLine.endsWith(typed)) return undefined;
  lines[lines.length - 1] = lastLine.slice(0, lastLine.length - typed.length).replace(/\s+$/u, "");
  return lines.join("\n");
}

/**
 * What a typed line printed: the lines under the last line that ends with the command (the prompt
 * line it was typed on; output that merely mentions it does not end with it), without the
 * prompt it returned to. The whole screen (less the prompt) when the command is no longer on it.
 */
export function outputOf(screen: string, command: string): string {
  const lines = screen.replace(/\s+$/u, "").split("\n");
  const probe = command.replace(/<[^<>]+>/g, "").trim().slice(-40);
  let start = 0;
  if (probe) {
    for (let i = lines.length - 1; i >= 0; i--) {
      if (lines[i]!.trimEnd().endsWith(probe)) {
        start = i + 1;
        break;
      }
    }
  }
  const out = lines.slice(start);
  if (out.length > 0 && PROMPT_END.test(out[out.length - 1]!)) out.pop();
  return out.join("\n").trim();
}

/** Does this output say the command failed? Conservative: a false pair teaches a wrong fix. */
export function looksFailed(output: string): boolean {
  if (output.trim() === "") return false;
  if (SHELL_ERROR.test(output)) return true;
  const norm = normalizeError(output);
  if (norm.error_type === "error" || norm.error_type === "warning") return false;
  return meaningfulLines(output).some((l) => l.level === "error");
}

export interface SessionHarvest {
  steps: TrailStep[];
  triples: TrailTriple[];
  /** Output per step index, for failure detection. */
  outputs: string[];
  failed: boolean[];
  pending: number;
}

/**
 * Steps of `commits` with their screens. `captures` maps seq → capture text; `before` is the
 * capture just before the first commit ("" when the session starts here).
 */
export function buildTriples(session: string, commits: readonly TrailCommit[], captures: ReadonlyMap<number, string>): SessionHarvest {
  const grouped = groupSteps(commits);
  const steps = grouped.steps;
  let pending = grouped.pending;
  // The last step's screen was captured right after the send: when it does not end at a prompt,
  // its output was still coming. It waits, like an unfinished line, for the next step's screen.
  const final = steps[steps.length - 1];
  if (pending < 0 && final && !PROMPT_END.test(screenTailLines(captures.get(final.last) ?? "", 1))) {
    steps.pop();
    pending = final.first;
  }
  const bySeq = new Map(commits.map((c) => [c.seq, c]));
  const capture = (seq: number) => captures.get(seq) ?? "";
  // The screen just before a step: the first chunk's capture with the chunk cut off (taken later
  // than the previous step's capture, so a slow command's output is on it), else the capture of
  // the commit before it.
  const screenBefore = (step: TrailStep): string => {
    const first = bySeq.get(step.first);
    if (first?.kind === "text" && captures.has(step.first)) {
      const u = untype(capture(step.first), first.payload);
      if (u !== undefined) return u;
    }
    return step.first > 1 ? capture(step.first - 1) : "";
  };
  const triples: TrailTriple[] = [];
  const outputs: string[] = [];
  const failed: boolean[] = [];
  steps.forEach((step, i) => {
    const next = steps[i + 1] ?? (pending > 0 ? { ...step, first: pending } : undefined);
    const after = next ? screenBefore(next) : capture(step.last);
    const output = step.kind === "text" ? outputOf(after, step.command) : "";
    outputs.push(output);
    failed.push(step.kind === "text" && looksFailed(output));
    triples.push({
      session,
      seq: step.first,
      observation: screenTailLines(screenBefore(step)),
      decision: step.decision,
      command: step.command,
      outcome: screenTailLines(after),
    });
  });
  return { steps, triples, outputs, failed, pending };
}

/** The seqs whose captures buildTriples reads. */
function neededSeqs(commits: readonly TrailCommit[]): number[] {
  const { steps, pending } = groupSteps(commits);
  const seqs = new Set<number>();
  for (const s of steps) {
    seqs.add(s.first);
    if (s.first > 1) seqs.add(s.first - 1);
    seqs.add(s.last);
  }
  if (pending > 0) seqs.add(pending);
  return [...seqs].sort((a, b) => a - b);
}

// ---- harvesting ------------------------------------------------------------------------------

/** The most triples and pairs listed in a report; the counts cover them all. */
export const MAX_LISTED = 200;

export function emptyTrailReport(root: string, tensor = DEFAULT_TRAIL_TENSOR): TrailHarvestReport {
  return {
    root,
    tensor,
    sessions_found: 0,
    sessions_read: 0,
    sessions_unchanged: 0,
    triples_found: 0,
    triples_stored: 0,
    pairs_found: 0,
    pairs_stored: 0,
    pairs_already: 0,
    triples: [],
    pairs: [],
    demonstrations: [],
  };
}

export async function harvestTrails(db: Db, options: TrailHarvestOptions): Promise<TrailHarvestReport> {
  const root = resolve(options.root);
  const tensor = options.tensor ?? DEFAULT_TRAIL_TENSOR;
  const dryRun = options.dryRun === true;
  const now = options.now ?? Date.now();
  const report = emptyTrailReport(root, tensor);
  const tip = await trailTip(root);
  if (!tip) return report; // no trail repository (or no commit yet): nothing to learn from
  let sessions = await trailSessions(root, tip);
  if (options.session !== undefined) sessions = sessions.filter((s) => s === options.session);
  report.sessions_found = sessions.length;

  const getMeta = db.prepare<[string], string>("SELECT value FROM meta WHERE key = ?").pluck();
  const setMeta = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  const pairSeen = db.prepare<[string], number>("SELECT 1 FROM harvested_pairs WHERE tool_use_id = ?").pluck();
  const markPair = db.prepare("INSERT OR IGNORE INTO harvested_pairs (tool_use_id, signature, harvested_at) VALUES (?, ?, ?)");
  const store = new ExperienceStore(db);
  const registry = new FixRegistry(db);
  // Rows are scoped to the trail repository (its git directory, as repoOf names a repository).
  const repo = realpathSync(trailGitDir(root));

  for (const session of sessions) {
    const key = metaKey(root, session);
    const rawCursor = getMeta.get(key);
    const cursor = readCursor(rawCursor);
    let commits: TrailCommit[];
    try {
      commits = await readSessionCommits(root, tip, session, cursor.from);
    } catch {
      // The remembered commit is gone (history rewritten): read it all, skip what was harvested.
      commits = await readSessionCommits(root, tip, session);
    }
    // Context: the last few steps harvested before are read again (for pairs), never stored again.
    commits = commits.filter((c) => c.seq > (cursor.from ? cursor.fromSeq : 0));
    const captures = await readCaptures(root, tip, session, neededSeqs(commits));
    const built = buildTriples(session, commits, captures);
    const freshIdx = built.steps.map((s, i) => (s.first > cursor.seq ? i : -1)).filter((i) => i >= 0);
    if (freshIdx.length === 0) {
      report.sessions_unchanged++;
      continue;
    }
    report.sessions_read++;
    // A line typed as a secret is only a placeholder: it says nothing about what was done.
    const fresh = freshIdx.filter((i) => !SECRET_PLACEHOLDER.test(built.steps[i]!.command)).map((i) => built.triples[i]!);
    report.triples_found += fresh.length;
    for (const t of fresh) if (report.triples.length < MAX_LISTED) report.triples.push(redactTriple(t));

    // Failure→fix pairs: typed lines as Bash calls, by the transcript rules, within a few steps.
    const workspace = join(root, session);
    const idOf = (seq: number) => `trail:${root}:${session}:${seq}`;
    const indexOf = new Map<string, number>();
    const calls: ToolCall[] = [];
    built.steps.forEach((s, i) => {
      if (s.kind !== "text" || s.command.trim() === "" || hidesSecret(s.command)) return;
      indexOf.set(idOf(s.first), i);
      calls.push({
        id: idOf(s.first),
        name: "Bash",
        input: { command: s.command },
        sessionId: session,
        cwd: workspace,
        timestamp: new Date(s.timestampMs).toISOString(),
        result: { isError: built.failed[i]!, text: built.outputs[i]! },
        // The trail's own triples carry the decision; pairs need none.
        intent: "",
        before: "",
      });
    });
    const pairs = extractPairs(calls).filter((p) => {
      const from = indexOf.get(p.id)!;
      const to = indexOf.get(p.resolvedBy)!;
      return to - from <= PAIR_WINDOW_STEPS && built.steps[to]!.first > cursor.seq; // closed by a fresh step
    });
    report.pairs_found += pairs.length;

    const last = built.steps[built.steps.length - 1]!;
    const fromStep = built.steps[Math.max(0, built.steps.length - PAIR_WINDOW_STEPS - 1)]!;
    const fromSeq = fromStep.first - 1;
    const fromOid = fromSeq === 0 ? "" : (commits.find((c) => c.seq === fromSeq)?.oid ?? (fromSeq === cursor.fromSeq ? cursor.from : ""));
    const next: Cursor = { seq: last.last, from: fromOid, fromSeq: fromOid ? fromSeq : 0 };

    // The first command that worked after an unsolved run shows what the run should have typed.
    const unsolved = unsolvedRun(db, session);
    // A line the run left typed and the agent cleared with C-u counts from after the C-u.
    const shownAt = unsolved
      ? built.steps.findIndex(
          (st, i) => st.kind === "text" && !built.failed[i] && (st.first > unsolved.seq || (st.last > unsolved.seq && st.command.includes("<C-u>"))) && plainLine(typedLine(st.command)) && !hidesSecret(st.command),
        )
      : -1;
    const demonstration = unsolved && shownAt >= 0 ? demonstrationOf(session, unsolved, built.steps[shownAt]!) : undefined;

    const listed: TrailPair[] = pairs.map((p) => {
      const norm = normalizeError(redactSecrets(p.error).text);
      return {
        session,
        seq: Number(p.id.slice(p.id.lastIndexOf(":") + 1)),
        command: redactSecrets(p.command).text,
        error_type: norm.error_type,
        error: norm.template.slice(0, 300),
        fix: redactSecrets(p.fix).text,
        status: "new",
      };
    });
    if (!dryRun) {
      const rows: NewRow[] = fresh.map((t) => ({
        query: t.observation,
        key: t.decision,
        value: `${t.command}\n${t.outcome}`,
        tags: ["trail", session],
        repo,
      }));
      db.transaction(() => {
        // Another harvest got here first: its rows stand, ours would double them.
        if (getMeta.get(key) !== rawCursor) return;
        report.triples_stored += store.rememberMany(tensor, rows);
        pairs.forEach((p, i) => {
          if (pairSeen.get(p.id)) {
            report.pairs_already++;
            listed[i]!.status = "already";
            return;
          }
          const signature = registerCandidate(registry, { error: p.error, fix: p.fix, command: p.command, repo });
          if (!signature) return;
          markPair.run(p.id, signature, now);
          report.pairs_stored++;
          listed[i]!.status = "stored";
        });
        if (demonstration && unsolved) {
          db.prepare("INSERT INTO examples (tensor, input, expected, source, run_id, created_at) VALUES (?, ?, ?, 'trail', ?, ?)").run(
            demonstration.tensor,
            demonstration.input,
            demonstration.expected,
            demonstration.run_id,
            now,
          );
          // One demonstration per unsolved run: the record is spent.
          db.prepare("DELETE FROM meta WHERE key = ? AND value = ?").run(`harness.unsolved:${session}`, JSON.stringify(unsolved));
          demonstration.status = "stored";
        }
        setMeta.run(key, JSON.stringify(next));
      }).immediate();
    } else {
      for (let i = 0; i < pairs.length; i++) {
        if (pairSeen.get(pairs[i]!.id)) {
          report.pairs_already++;
          listed[i]!.status = "already";
        }
      }
    }
    for (const p of listed) if (report.pairs.length < MAX_LISTED) report.pairs.push(p);
    if (demonstration) report.demonstrations.push(demonstration);
  }
  return report;
}

/** The line as it ran when C-u (kill the line) was pressed while typing it: what came after the last one. */
function typedLine(command: string): string {
  const at = command.lastIndexOf("<C-u>");
  return (at < 0 ? command : command.slice(at + "<C-u>".length)).trim();
}

/** A line typed as it runs: not empty, no editing keys (after Tab or a cursor move the text is not the command). */
function plainLine(command: string): boolean {
  return command.trim() !== "" && ![...EDIT_KEYS].some((k) => command.includes(`<${k}>`));
}

/**
 * The typed command as the expert writes it: each task parameter, quoted or standing as a word of
 * its own, becomes {n} (`tac notes.txt` for "notes.txt" → `tac {1}`; `cat notes.txt.bak` stays).
 */
export function templateCommand(command: string, params: readonly string[]): string {
  let out = command;
  // Longest first, so a parameter inside another is not replaced within it.
  const order = params.map((p, i) => ({ p, n: i + 1 })).filter((x) => x.p !== "").sort((a, b) => b.p.length - a.p.length);
  for (const { p, n } of order) {
    for (const form of new Set([shellQuote(p), `'${p.replace(/'/g, `'\\''`)}'`, `"${p}"`, p])) {
      const escaped = form.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      out = out.replace(new RegExp(`(^|[\\s=<>|;&(])${escaped}(?=$|[\\s<>|;&)])`, "g"), `$1{${n}}`);
    }
  }
  return out;
}

function demonstrationOf(session: string, run: UnsolvedRun, step: TrailStep): TrailDemonstration {
  return {
    session,
    seq: step.first,
    run_id: run.run_id,
    tensor: run.tensor,
    input: run.input,
    expected: redactSecrets(templateCommand(typedLine(step.command), run.params)).text,
    status: "new",
  };
}

function redactTriple(t: TrailTriple): TrailTriple {
  const r = (s: string) => redactSecrets(s).text;
  return { ...t, observation: r(t.observation), decision: r(t.decision), command: r(t.command), outcome: r(t.outcome) };
}
