/**
 * `experience-mcp hook`: Claude Code runs this for each hook event with the event's JSON on stdin.
 * Its stdout is its answer, so only the answer's JSON is ever written there. It must be fast and
 * must never fail the agent's turn: any error is logged to stderr and the process exits 0 silently.
 * Keep this module's imports small (no MCP SDK, no zod): it starts once per tool call.
 */
import { read, writeSync } from "node:fs";
import { relative } from "node:path";
import { loadConfig } from "../config.js";
import { openDatabase, type Db } from "../storage/db.js";
import { adaptationText } from "../registry/describe.js";
import { redact } from "../storage/redact.js";
import { errorTypeOf, exactLookup, FixRegistry, type FixMatch } from "../registry/registry.js";
import { TUNING } from "../registry/score.js";
import { bootstrapContext, bootstrapTokens } from "./bootstrap.js";
import { programOf, sameCommand, shapeOf } from "./command.js";
import { PendingFailures, type Pending } from "./pending.js";
import { repoOf } from "../storage/repo.js";

/**
 * An approximate match at least this confident is shown; an exact one always is. Below it the hook
 * says nothing: a wrong fix costs an agent more than none. (Calibrated: see docs/fix-recall.md.)
 */
export const CONFIDENT_SCORE = TUNING.recallMin;
/** The most characters of context the failure answer adds. */
const ANSWER_CHARS = 1500;
/** Tools whose successful calls count as steps toward a fix. */
const EDIT_TOOLS = new Set(["Edit", "Write", "MultiEdit", "NotebookEdit"]);

export interface HookAnswer {
  hookSpecificOutput: { hookEventName: string; additionalContext: string };
}

type Json = Record<string, unknown>;

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
}

/** Bash failures arrive as "Exit code N" followed by the output; the first line is not the error. */
export function errorText(error: string): string {
  return error.replace(/^\s*Exit code -?\d+\s*\n?/, "").trim();
}

export class HookHandler {
  private registryCache: FixRegistry | undefined;
  private pendingCache: PendingFailures | undefined;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  // The registry loads its fixes on first use: only build it for events that need it. One-shot:
  // this process makes a lookup or two, so no feature postings are built for them.
  private get registry(): FixRegistry {
    return (this.registryCache ??= new FixRegistry(this.db, { oneShot: true }));
  }

  private get pending(): PendingFailures {
    return (this.pendingCache ??= new PendingFailures(this.db));
  }

  handle(event: Json): HookAnswer | undefined {
    switch (str(event.hook_event_name)) {
      case "PostToolUseFailure":
        return this.onFailure(event);
      case "PostToolUse":
        this.onSuccess(event);
        return undefined;
      case "SessionStart":
        return this.onSessionStart(event);
      default:
        return undefined;
    }
  }

  private onFailure(event: Json): HookAnswer | undefined {
    if (str(event.tool_name) !== "Bash" || event.is_interrupt === true) return undefined;
    const command = str(obj(event.tool_input).command).trim();
    const error = errorText(str(event.error));
    const session = str(event.session_id);
    if (!command || !error || !session) return undefined;
    const cwd = str(event.cwd);
    const repo = repoOf(cwd);
    // An error met before is found by one indexed query; only otherwise is the registry loaded.
    // (The registry's clock, as this.registry uses it: Date.now.)
    // Otherwise only the fixes that can match it confidently are loaded (see nearErrorType).
    const top =
      exactLookup(this.db, error, { repo, limit: 3 }) ??
      new FixRegistry(this.db, { nearErrorType: errorTypeOf(error), oneShot: true }).lookup(error, { repo, limit: 3 }).find((m) => m.match === "exact" || m.score >= CONFIDENT_SCORE);
    this.pending.add({ session_id: session, command, cwd, repo, error, suggested: top?.signature ?? "", created_at: this.now() });
    if (!top) return undefined;
    return { hookSpecificOutput: { hookEventName: "PostToolUseFailure", additionalContext: describeFix(top) } };
  }

  private onSuccess(event: Json): void {
    const session = str(event.session_id);
    if (!session) return;
    const tool = str(event.tool_name);
    const input = obj(event.tool_input);
    const cwd = str(event.cwd);
    let step: string;
    let command = "";
    if (tool === "Bash") {
      command = str(input.command).trim();
      if (!command) return;
      step = command;
    } else if (EDIT_TOOLS.has(tool)) {
      const file = str(input.file_path) || str(input.notebook_path);
      if (!file) return;
      const rel = cwd ? relative(cwd, file) : file;
      step = `edit ${rel && !rel.startsWith("..") ? rel : file}`;
    } else {
      return;
    }
    const waiting = this.pending.list(session, this.now());
    if (waiting.length === 0) return;
    for (const p of waiting) {
      if (command && resolves(p, command, cwd)) this.resolve(p);
      else if (p.steps[p.steps.length - 1] !== step) this.pending.setSteps(p.id, [...p.steps, step]);
    }
  }

  /** The failed command now succeeds: what was done in between is the fix. */
  private resolve(p: Pending): void {
    this.pending.remove(p.id);
    if (p.steps.length === 0) return; // it passed on a plain retry: nothing to learn
    const fix = p.steps.join("\n");
    let confirmed = false;
    if (p.suggested) {
      // The fix we showed counts as confirmed only if the agent actually ran (part of) it.
      const shown = this.registry.lookupSignature(p.suggested);
      if (shown && p.steps.some((s) => shown.fix.split("\n").some((line) => line.trim() === s.trim()))) {
        this.registry.reportOutcome(p.suggested, true);
        confirmed = true;
      }
    }
    const before = this.registry.lookup(p.error, { limit: 1 })[0];
    const result = this.registry.register({ error: p.error, fix, context: programOf(p.command), status: "candidate", repo: p.repo });
    // A second time the same problem was resolved: the candidate has earned trust.
    if (!confirmed && result.status === "reinforced" && before?.signature === result.signature && before.status === "candidate") {
      this.registry.reportOutcome(result.signature, true);
    }
  }

  private onSessionStart(event: Json): HookAnswer | undefined {
    const text = bootstrapContext(this.db, repoOf(str(event.cwd)), bootstrapTokens(), this.now());
    if (!text) return undefined;
    return { hookSpecificOutput: { hookEventName: "SessionStart", additionalContext: text } };
  }
}

function resolves(p: Pending, command: string, cwd: string): boolean {
  if (sameCommand(p.command, command)) return true;
  const shape = shapeOf(command);
  return shape !== "" && p.cwd === cwd && shapeOf(p.command) === shape;
}

export function describeFix(m: FixMatch): string {
  const trust =
    m.status === "candidate"
      ? "learned from one earlier session, not yet confirmed"
      : `strength ${m.strength.toFixed(2)}, ${m.successes} confirmed success${m.successes === 1 ? "" : "es"}`;
  const how = m.match === "exact" ? `the same error [${m.error_type}] (exact match)` : `a similar error [${m.error_type}] (similar match, confidence ${m.score.toFixed(2)})`;
  const adapted = adaptationText(m);
  const demoted = m.demoted ? " It failed before on an error like this one." : "";
  const what = m.adaptation?.status === "adapted" ? "The fix, adapted to this error" : "What fixed it";
  const head = `experience-mcp: ${how} was resolved before (${trust}).${adapted ? ` It was ${adapted}.` : ""}${demoted} ${what}:\n`;
  const tail = `\n(fix signature ${m.signature}; report_outcome tells experience-mcp whether it worked.)`;
  const room = Math.max(100, ANSWER_CHARS - head.length - tail.length);
  const fix = m.fix.length > room ? `${m.fix.slice(0, room - 1)}…` : m.fix;
  return head + fix.split("\n").map((l) => `  ${l}`).join("\n") + tail;
}

/**
 * Read all of stdin; resolves "" if it does not close within `ms` (the hook must not hang). Read
 * with fs.read on fd 0 rather than through process.stdin, whose stream classes cost the hook
 * process a few milliseconds to load; process.stdin is the fallback (a non-blocking fd 0).
 */
function readStdin(ms: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    };
    const timer = setTimeout(() => {
      // A read may still be pending on fd 0: nothing was read or written, so leave at once.
      finished = true;
      process.exit(0);
    }, ms);
    const fromStream = () => {
      process.stdin.on("data", (c: Buffer) => chunks.push(c));
      process.stdin.on("end", finish);
      process.stdin.on("error", finish);
    };
    const buf = Buffer.allocUnsafe(64 * 1024);
    const next = () =>
      read(0, buf, 0, buf.length, null, (err, n) => {
        if (err) return (err as NodeJS.ErrnoException).code === "EAGAIN" ? fromStream() : finish();
        if (n === 0) return finish();
        chunks.push(Buffer.from(buf.subarray(0, n)));
        next();
      });
    next();
  });
}

/**
 * Write to fd 1 directly: process.stdout's first use loads the stream classes, a few ms of a
 * process that lives for a few tens. process.stdout is the fallback (a non-blocking, full pipe).
 */
function writeStdout(text: string): void {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(1, buf, off);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EAGAIN") throw err;
    process.stdout.write(buf.subarray(off));
  }
}

function warn(message: string, err?: unknown): void {
  const detail = err instanceof Error ? ` ${err.message}` : "";
  process.stderr.write(redact(`[experience-mcp] hook: ${message}${detail}\n`)); // Claude Code may keep it
}

/** The CLI entry. Always exits 0; prints nothing unless it has an answer. */
export async function hookCommand(_argv: string[]): Promise<number> {
  try {
    const raw = await readStdin(5000);
    if (!raw.trim()) return 0;
    const event = obj(JSON.parse(raw));
    // "readonly" here only skips the migration lock when the schema is current: writes still work.
    const db = openDatabase(loadConfig().home, { readonly: true });
    let answer: HookAnswer | undefined;
    try {
      answer = new HookHandler(db).handle(event);
    } finally {
      db.close();
    }
    if (answer) writeStdout(`${JSON.stringify(answer)}\n`);
  } catch (err) {
    warn("ignored an internal error:", err);
  }
  return 0;
}
