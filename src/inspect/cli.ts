/**
 * `experience-mcp list|show|forget|edit`: see and correct what is stored, from a terminal.
 * Reads go through the store, registry, trail and queue read functions; writes through the same
 * store/registry calls (and redaction) as the tools. Tables for people, `--json` for scripts.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { SIGNATURE_RE } from "../registry/signature.js";
import { TENSOR_PATTERN } from "../names.js";
import { openDatabase, type Db } from "../storage/db.js";
import { repoOf } from "../storage/repo.js";
import { ExperienceStore, type ExperienceRow } from "../experience/store.js";
import { FixRegistry } from "../registry/registry.js";
import { getFix, listFixes, type FixSummary } from "../registry/browse.js";
import { listSessions, readSession, type SessionSummary } from "../trail/browse.js";
import { getRequest, listRequests, type TrainRequest } from "../train/queue.js";
import { parseSince } from "../harvest/harvest.js";
import { renderTable, when, type Column } from "./table.js";

export const INSPECT_USAGE = `usage:
  experience-mcp list fixes|tensors|rows|sessions|requests [--tensor NAME] [--repo DIR|.] [--since 7d] [--min-strength X] [--limit N] [--json] [--home DIR]
  experience-mcp show SIGNATURE|ROW_ID|REQUEST_ID|SESSION|TENSOR [--json] [--home DIR]
  experience-mcp forget SIGNATURE|ROW_ID [--home DIR]
  experience-mcp edit SIGNATURE --fix TEXT | ROW_ID --value TEXT [--home DIR]
`;

const KINDS = ["fixes", "tensors", "rows", "sessions", "requests"] as const;
type Kind = (typeof KINDS)[number];
const REQUEST_ID = /^tr_[0-9a-z]+_[0-9a-f-]{1,36}$/;
const DEFAULT_LIMIT = 50;

class UsageError extends Error {}

function out(text: string): void {
  process.stdout.write(text);
}

function json(value: unknown): void {
  out(`${JSON.stringify(value, null, 2)}\n`);
}

function withDb<T>(home: string | undefined, run: (db: Db, home: string) => T): T {
  const dir = loadConfig({ home }).home;
  const db = openDatabase(dir);
  try {
    return run(db, dir);
  } finally {
    db.close();
  }
}

function positiveNumber(flag: string, value: string | undefined, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) throw new UsageError(`${flag} ${JSON.stringify(value.slice(0, 40))}: use ${integer ? "a whole number" : "a number"} ≥ 0`);
  return n;
}

const FIX_COLUMNS: Column<FixSummary>[] = [
  { title: "SIGNATURE", width: 16, cell: (f) => f.signature },
  { title: "STRENGTH", width: 8, cell: (f) => f.strength.toFixed(2), right: true },
  { title: "OK/FAIL", width: 7, cell: (f) => `${f.successes}/${f.failures}`, right: true },
  { title: "TYPE", width: 20, cell: (f) => f.error_type },
  { title: "FIX", width: 44, cell: (f) => f.fix },
  { title: "UPDATED", width: 16, cell: (f) => when(f.updated_at) },
];

const ROW_COLUMNS: Column<ExperienceRow>[] = [
  { title: "ID", width: 6, cell: (r) => r.id, right: true },
  { title: "TENSOR", width: 16, cell: (r) => r.tensor },
  { title: "KEY", width: 36, cell: (r) => r.key },
  { title: "VALUE", width: 30, cell: (r) => r.value },
  { title: "STRENGTH", width: 8, cell: (r) => r.strength.toFixed(2), right: true },
  { title: "UPDATED", width: 16, cell: (r) => when(r.updated_at) },
];

const TENSOR_COLUMNS: Column<{ name: string; active_version: number; rows: number; versions: number }>[] = [
  { title: "TENSOR", width: 24, cell: (t) => t.name },
  { title: "ACTIVE", width: 6, cell: (t) => t.active_version, right: true },
  { title: "ROWS", width: 7, cell: (t) => t.rows, right: true },
  { title: "VERSIONS", width: 8, cell: (t) => t.versions, right: true },
];

const SESSION_COLUMNS: Column<SessionSummary>[] = [
  { title: "SESSION", width: 24, cell: (s) => s.name },
  { title: "STEPS", width: 6, cell: (s) => s.steps, right: true },
  { title: "LAST STEP", width: 16, cell: (s) => when(s.last_step_at) },
  { title: "CAST BYTES", width: 10, cell: (s) => s.cast_bytes, right: true },
];

const REQUEST_COLUMNS: Column<TrainRequest>[] = [
  { title: "REQUEST", width: 26, cell: (r) => r.id },
  { title: "TENSOR", width: 18, cell: (r) => r.tensor },
  { title: "STATUS", width: 8, cell: (r) => r.status },
  { title: "BACKEND", width: 10, cell: (r) => r.backend },
  { title: "VERSION", width: 7, cell: (r) => r.version, right: true },
  { title: "CREATED", width: 16, cell: (r) => when(r.created_at) },
];

export async function listCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      tensor: { type: "string" },
      repo: { type: "string" },
      since: { type: "string" },
      "min-strength": { type: "string" },
      limit: { type: "string" },
      json: { type: "boolean" },
      home: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  const kind = positionals[0] as Kind | undefined;
  if (!kind || positionals.length > 1 || !KINDS.includes(kind)) throw new UsageError(`list what? one of ${KINDS.join(", ")}`);
  if (values.tensor !== undefined && !TENSOR_PATTERN.test(values.tensor)) throw new UsageError(`--tensor ${JSON.stringify(values.tensor.slice(0, 80))}: use NAME or NAMESPACE/NAME`);
  const filter = {
    tensor: values.tensor,
    // "." is the repository of the current directory, as the server scopes it.
    repo: values.repo === "." ? repoOf(process.cwd()) : values.repo,
    since: values.since === undefined ? undefined : parseSince(values.since),
    minStrength: positiveNumber("--min-strength", values["min-strength"], false),
    limit: positiveNumber("--limit", values.limit, true) ?? DEFAULT_LIMIT,
  };
  const show = <T>(columns: Column<T>[], records: T[]) => (values.json ? json(records) : out(renderTable(columns, records)));
  if (kind === "sessions") {
    const sessions = await listSessions(loadConfig({ home: values.home }).home);
    show(SESSION_COLUMNS, sessions.filter((s) => filter.since === undefined || (s.last_step_at ?? 0) >= filter.since).slice(0, filter.limit));
    return 0;
  }
  withDb(values.home, (db) => {
    const store = new ExperienceStore(db);
    if (kind === "fixes") show(FIX_COLUMNS, listFixes(db, filter));
    else if (kind === "rows") show(ROW_COLUMNS, store.listRows(filter));
    else if (kind === "requests") show(REQUEST_COLUMNS, listRequests(db, filter));
    else {
      const tensors = store
        .listTensors()
        .filter((t) => filter.tensor === undefined || t.name === filter.tensor)
        .slice(0, filter.limit)
        .map((t) => ({ ...t, versions: store.versions(t.name).length }));
      show(TENSOR_COLUMNS, tensors);
    }
  });
  return 0;
}

/** "key: value" lines, then the long texts under their own headings. */
function describe(fields: Record<string, unknown>, texts: Record<string, string | null> = {}): string {
  const width = Math.max(...Object.keys(fields).map((k) => k.length));
  const lines = Object.entries(fields).map(([k, v]) => `${k.padEnd(width)}  ${v === null || v === undefined ? "-" : String(v)}`);
  for (const [title, text] of Object.entries(texts)) if (text) lines.push("", `${title}:`, text.replace(/\n+$/, ""));
  return `${lines.join("\n")}\n`;
}

export async function showCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { json: { type: "boolean" }, home: { type: "string" } }, allowPositionals: true, strict: true });
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new UsageError("show what? a fix signature, a row id, a training request id, a session or a tensor");
  const print = (value: object, human: () => string) => (values.json ? json(value) : out(human()));
  const found = withDb(values.home, (db, home) => {
    if (SIGNATURE_RE.test(target)) {
      const fix = getFix(db, target);
      if (!fix) return false;
      const history = new FixRegistry(db, { oneShot: true }).history(target);
      print({ ...fix, history }, () =>
        describe(
          { signature: fix.signature, type: fix.error_type, context: fix.context, status: fix.status, strength: fix.strength.toFixed(2), "successes/failures": `${fix.successes}/${fix.failures}`, occurrences: fix.occurrences, repo: fix.repo || "-", created: when(fix.created_at), updated: when(fix.updated_at) },
          { fix: fix.fix, error: fix.template, history: history.map((h) => `${when(h.created_at)}  ${h.fix.split("\n")[0]}`).join("\n") },
        ),
      );
      return true;
    }
    if (/^\d{1,15}$/.test(target)) {
      const row = new ExperienceStore(db).row(Number(target));
      if (!row) return false;
      print(row, () =>
        describe(
          { id: row.id, tensor: row.tensor, version: row.version, tags: row.tags.join(", ") || "-", hits: row.hits, strength: row.strength.toFixed(2), "successes/failures": `${row.successes}/${row.failures}`, repo: row.repo || "-", created: when(row.created_at), updated: when(row.updated_at) },
          { query: row.query, key: row.key, value: row.value },
        ),
      );
      return true;
    }
    if (REQUEST_ID.test(target)) {
      const r = getRequest(db, target);
      if (!r) return false;
      print(r, () =>
        describe(
          { id: r.id, tensor: r.tensor, status: r.status, backend: r.backend, source: r.source, attempts: r.attempts, "base version": r.base_version, version: r.version, created: when(r.created_at), finished: when(r.finished_at) },
          { gates: r.gates, metrics: r.metrics, "gate results": r.gate_results, error: r.error },
        ),
      );
      return true;
    }
    return home;
  });
  if (found === true) return 0;
  if (found === false) throw new NotFound(`nothing stored under ${target}: \`experience-mcp list fixes|rows|requests\` shows what is`);
  const session = await readSession(found, target);
  if (session) {
    print(session, () =>
      describe(
        { session: session.name, steps: session.steps, "last step": when(session.last_step_at), recording: session.cast ? `${session.cast.path} (${session.cast_bytes} bytes, ${session.cast.width}x${session.cast.height})` : "-" },
        { steps: session.commits.map((c) => `${String(c.seq).padStart(4)}  ${when(c.timestampMs)}  ${c.kind.padEnd(4)}  ${JSON.stringify(c.payload).slice(0, 100)}`).join("\n"), "screen after the last step": session.screen },
      ),
    );
    return 0;
  }
  if (TENSOR_PATTERN.test(target)) {
    const shown = withDb(values.home, (db) => {
      const store = new ExperienceStore(db);
      const versions = store.versions(target);
      if (versions.length === 0) return false;
      print({ name: target, versions }, () =>
        describe({ tensor: target }, { versions: versions.map((v) => `v${v.version}  ${v.status.padEnd(7)}  ${String(v.rows).padStart(6)} rows  ${when(v.created_at)}  ${v.note}`).join("\n") }),
      );
      return true;
    });
    if (shown) return 0;
  }
  throw new NotFound(`no fix, row, request, session or tensor named ${JSON.stringify(target.slice(0, 80))}: \`experience-mcp list …\` shows what is stored`);
}

class NotFound extends Error {}

function rowId(target: string): number | undefined {
  return /^\d{1,15}$/.test(target) ? Number(target) : undefined;
}

export async function forgetCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { home: { type: "string" } }, allowPositionals: true, strict: true });
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new UsageError("forget what? a fix signature (16 hex characters) or a row id");
  const removed = withDb(values.home, (db) => {
    if (SIGNATURE_RE.test(target)) return new FixRegistry(db, { oneShot: true }).remove(target);
    const id = rowId(target);
    if (id === undefined) throw new UsageError(`${JSON.stringify(target.slice(0, 80))} is neither a fix signature (16 hex characters) nor a row id`);
    return new ExperienceStore(db).forget([id]);
  });
  if (removed === 0) throw new NotFound(`nothing stored under ${target}`);
  out(`forgot ${target}\n`);
  return 0;
}

export async function editCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { fix: { type: "string" }, value: { type: "string" }, home: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  const target = positionals[0];
  if (!target || positionals.length > 1) throw new UsageError("edit what? a fix signature with --fix TEXT, or a row id with --value TEXT");
  withDb(values.home, (db) => {
    if (SIGNATURE_RE.test(target)) {
      if (values.fix === undefined || values.value !== undefined) throw new UsageError("a fix is edited with --fix TEXT");
      const stored = new FixRegistry(db, { oneShot: true }).edit(target, values.fix);
      if (stored === undefined) throw new NotFound(`no fix ${target}`);
      out(`fix ${target} now reads: ${stored}\n`);
      return;
    }
    const id = rowId(target);
    if (id === undefined) throw new UsageError(`${JSON.stringify(target.slice(0, 80))} is neither a fix signature (16 hex characters) nor a row id`);
    if (values.value === undefined || values.fix !== undefined) throw new UsageError("a row is edited with --value TEXT");
    if (!values.value.trim()) throw new UsageError("--value is empty: give the row's new value");
    const store = new ExperienceStore(db);
    const row = store.row(id);
    if (!row) throw new NotFound(`no row ${id}`);
    // Rows are content-addressed (an identical remember reinforces): a new value is a new row.
    const newId = store.replaceRow(id, { query: row.query, key: row.key, value: values.value, tags: row.tags, repo: row.repo });
    out(`row ${id} replaced by row ${newId}: ${store.row(newId)?.value ?? ""}\n`);
  });
  return 0;
}

/** Runs a command, turning a usage mistake into exit 2 and a missing target into exit 1, each with one line on stderr. */
export async function inspectCommand(name: "list" | "show" | "forget" | "edit", argv: string[]): Promise<number> {
  const run = { list: listCommand, show: showCommand, forget: forgetCommand, edit: editCommand }[name];
  try {
    return await run(argv);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`experience-mcp ${name}: ${(err as Error).message}\n\n${INSPECT_USAGE}`);
      return 2;
    }
    if (err instanceof NotFound) {
      process.stderr.write(`experience-mcp ${name}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}
