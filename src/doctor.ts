/**
 * `experience-mcp doctor [--json] [--repair] [--home DIR]`: checks the data directory (a private
 * directory we may write), the database (SQLite integrity_check, schema version, the damaged
 * marker), tmux and git, and prints what to do about each problem. `--repair` copies what can be
 * read from a damaged database into a new file, then puts that file in its place and keeps the
 * damaged one beside it as experience.db.damaged-<time>.
 *
 * One file: one command; each check is a few lines and the repair is one procedure (copy what
 * reads, rebuild what is derived, swap the files), which nothing else imports.
 */
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type Database from "better-sqlite3";
import { loadConfig, trailsDir } from "./config.js";
import {
  applySchema,
  DAMAGED_MARKER,
  damagedReason,
  databaseFile,
  isWritableDir,
  openFileReadOnly,
  SCHEMA_VERSION,
  type Db,
} from "./storage/db.js";
import { tokenSet } from "./experience/tokenize.js";
import { TRAIL_GIT_DIR, trailGitDir } from "./trail/read.js";
import { missingProgramSentence } from "./faults.js";
import { log } from "./log.js";
import { createRequire } from "node:module";

export const DOCTOR_USAGE = `usage: experience-mcp doctor [--json] [--repair] [--home DIR]
  checks the data directory, the database (integrity, schema version), tmux and git;
  --repair recovers what can be read from a damaged database into a new file (the old one is kept)
`;

export type Status = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: Status;
  detail: string;
  /** What to do, when the status is not ok. */
  fix?: string;
}

export interface TableRecovery {
  table: string;
  recovered: number;
  /** Stretches of unreadable pages skipped over. */
  unreadable: number;
  /** Row ids inside the skipped stretches: at most this many rows were lost. */
  rowids_skipped: number;
}

export interface RepairResult {
  repaired: boolean;
  detail: string;
  method?: "vacuum" | "tables";
  /** The damaged file, kept under this name. */
  kept?: string;
  tables?: TableRecovery[];
}

export interface DoctorReport {
  home: string;
  ok: boolean;
  checks: Check[];
  repair?: RepairResult;
}

export function checkHome(home: string): Check[] {
  let st;
  try {
    st = statSync(home);
  } catch {
    return [{ name: "data directory", status: "warn", detail: `${home} does not exist yet`, fix: "it is created (mode 0700) on first use" }];
  }
  if (!st.isDirectory()) {
    return [{ name: "data directory", status: "fail", detail: `${home} is a file, not a directory`, fix: "move that file away, or set EXPERIENCE_MCP_HOME (or --home) to a directory" }];
  }
  const checks: Check[] = [];
  const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    checks.push({ name: "permissions", status: "warn", detail: `${home} belongs to uid ${st.uid}, not to you (uid ${uid})`, fix: "use a data directory of your own (EXPERIENCE_MCP_HOME)" });
  } else if ((st.mode & 0o077) !== 0) {
    checks.push({ name: "permissions", status: "warn", detail: `${home} has mode ${mode}: other users can read what you stored`, fix: `chmod 700 ${home}` });
  } else {
    checks.push({ name: "permissions", status: "ok", detail: `${home} has mode ${mode}` });
  }
  checks.push(
    isWritableDir(home)
      ? { name: "data directory", status: "ok", detail: `${home} is writable` }
      : { name: "data directory", status: "warn", detail: `${home} is read-only for you: writing tools cannot store anything`, fix: `make it writable (chmod u+w ${home}), or run the server with --read-only` },
  );
  return checks;
}

export function checkDatabase(home: string): Check[] {
  const file = databaseFile(home);
  if (!existsSync(file)) return [{ name: "database", status: "warn", detail: `no ${file} yet`, fix: "it is created on first use" }];
  const repair = "run `experience-mcp doctor --repair` (stop the servers using it first)";
  const checks: Check[] = [];
  const damaged = damagedReason(home);
  if (damaged !== undefined) checks.push({ name: "damage marker", status: "fail", detail: `${join(home, DAMAGED_MARKER)} says: ${damaged}`, fix: repair });
  let db: Db;
  try {
    db = openFileReadOnly(file);
  } catch (err) {
    checks.push({ name: "database", status: "fail", detail: `${file} cannot be read: ${(err as Error).message}`, fix: repair });
    return checks;
  }
  try {
    let problems: string[];
    try {
      problems = (db.pragma("integrity_check(20)") as Array<{ integrity_check: string }>).map((r) => r.integrity_check);
    } catch (err) {
      problems = [(err as Error).message];
    }
    checks.push(
      problems.length === 1 && problems[0] === "ok"
        ? { name: "integrity", status: "ok", detail: `${file}: integrity_check ok` }
        : { name: "integrity", status: "fail", detail: `${file} is damaged: ${problems.slice(0, 3).join("; ")}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ""}`, fix: repair },
    );
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version === SCHEMA_VERSION) checks.push({ name: "schema", status: "ok", detail: `version ${version}` });
    else if (version < SCHEMA_VERSION) checks.push({ name: "schema", status: "warn", detail: `version ${version}, older than this experience-mcp (${SCHEMA_VERSION})`, fix: "it is upgraded the next time a server opens it (not with --read-only)" });
    else checks.push({ name: "schema", status: "fail", detail: `version ${version}, newer than this experience-mcp (${SCHEMA_VERSION})`, fix: "upgrade experience-mcp" });
  } finally {
    db.close();
  }
  return checks;
}

/** Where the terminal trail keeps its git directory; the layout of older versions is worth moving. */
export function checkTrail(home: string): Check[] {
  const root = trailsDir(home);
  const gitDir = trailGitDir(root);
  if (!existsSync(join(gitDir, "HEAD"))) return [];
  if (gitDir !== join(root, TRAIL_GIT_DIR)) {
    return [
      {
        name: "trail",
        status: "warn",
        detail: `the trail is in ${gitDir} (the layout of older versions): git typed in a session finds it, so git reset --hard or git clean -fdx there would change it`,
        fix: `stop the servers using ${home}, then mv ${gitDir} ${join(root, TRAIL_GIT_DIR)}`,
      },
    ];
  }
  return [{ name: "trail", status: "ok", detail: `git directory ${gitDir}, outside every session's directory` }];
}

export function checkProgram(name: string, bin: string, args: string[], usedFor: string): Check {
  const r = spawnSync(bin, args, { encoding: "utf8", timeout: 5000 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === "ENOENT";
    return { name, status: "warn", detail: missing ? `${bin} not found` : `${bin} ${args.join(" ")} failed: ${r.error.message}`, fix: missing ? missingProgramSentence(name) : `check ${bin}; ${usedFor}` };
  }
  return { name, status: "ok", detail: `${(r.stdout || r.stderr).trim().split("\n")[0]} (${usedFor})` };
}

const SKIP_TABLES = /^(sqlite_|rows_fts|row_terms$)/;

/** Copy every readable row of `table` from `from` into `to`, skipping unreadable stretches. */
function copyTable(from: Db, to: Db, table: string): TableRecovery {
  const result: TableRecovery = { table, recovered: 0, unreadable: 0, rowids_skipped: 0 };
  const columnsOf = (db: Db) => (db.pragma(`table_info("${table}")`) as Array<{ name: string }>).map((c) => c.name);
  let oldColumns: string[];
  try {
    oldColumns = columnsOf(from);
  } catch {
    oldColumns = [];
  }
  const wanted = new Set(oldColumns);
  const columns = columnsOf(to).filter((c) => wanted.has(c));
  if (columns.length === 0) return result;
  const list = columns.map((c) => `"${c}"`).join(", ");
  const read = from.prepare(`SELECT rowid AS __rowid, ${list} FROM "${table}" WHERE rowid >= ? ORDER BY rowid LIMIT ?`);
  const seek = from.prepare(`SELECT rowid FROM "${table}" WHERE rowid >= ? ORDER BY rowid LIMIT 1`).pluck();
  const insert = to.prepare(`INSERT OR IGNORE INTO "${table}" (rowid, ${list}) VALUES (?, ${columns.map(() => "?").join(", ")})`);
  /** The first row id at or after `rowid`; null: none; undefined: the page holding it is unreadable. */
  const readable = (rowid: number): number | null | undefined => {
    try {
      return (seek.get(rowid) as number | undefined) ?? null;
    } catch {
      return undefined;
    }
  };
  let next = Number.MIN_SAFE_INTEGER;
  // Batches of 256 rows; after a failed batch, one row at a time up to the unreadable page.
  let batch = 256;
  for (let guard = 0; guard < 1_000_000; guard++) {
    let rows: Array<Record<string, unknown>>;
    try {
      rows = read.all(next, batch) as Array<Record<string, unknown>>;
    } catch {
      if (batch > 1) {
        batch = 1;
        continue;
      }
      // The row at `next` is on an unreadable page: find the smallest row id past it whose seek reads.
      result.unreadable++;
      let bad = next;
      let step = 1;
      let good: number | undefined;
      for (let tries = 0; tries < 64 && good === undefined; tries++) {
        const found = readable(bad + step);
        if (found === null) return result;
        if (found !== undefined) good = bad + step;
        else {
          bad += step;
          step *= 2;
        }
      }
      if (good === undefined) return result;
      let hi: number = good;
      while (hi - bad > 1) {
        const mid: number = bad + Math.floor((hi - bad) / 2);
        if (readable(mid) === undefined) bad = mid;
        else hi = mid;
      }
      const resume = readable(hi) as number;
      result.rowids_skipped += Math.max(0, resume - Math.max(next, 1));
      next = resume;
      batch = 256;
      continue;
    }
    if (rows.length === 0) return result;
    for (const row of rows) {
      insert.run(row.__rowid, ...columns.map((c) => row[c]));
      result.recovered++;
    }
    next = (rows[rows.length - 1]!.__rowid as number) + 1;
  }
  return result;
}

/**
 * Rebuild what recall derives from `rows` (its FTS index and term lists), as ExperienceStore.upsert
 * writes them, and re-create tensor entries whose own rows were lost.
 */
function rebuildDerived(db: Db): void {
  const terms = db.prepare("INSERT INTO row_terms (id, tokens) VALUES (?, ?)");
  const index = db.prepare("INSERT INTO rows_fts (rowid, doc) VALUES (?, ?)");
  // all(), not iterate(): better-sqlite3 refuses writes on a connection while it iterates.
  for (const r of db.prepare("SELECT id, query, key, scope FROM rows ORDER BY id").all() as Array<{ id: number; query: string; key: string; scope: string }>) {
    const tokens = tokenSet(`${r.query} ${r.key}`);
    terms.run(r.id, tokens.join(" "));
    index.run(r.id, tokens.map((t) => r.scope + t).join(" "));
  }
  const now = Date.now();
  db.prepare(
    "INSERT OR IGNORE INTO tensor_versions (tensor, version, status, created_at, note) SELECT DISTINCT tensor, version, 'retired', ?, 'recovered by doctor --repair' FROM rows",
  ).run(now);
  db.prepare(
    "INSERT OR IGNORE INTO tensors (name, active_version, created_at) SELECT tensor, max(version), ? FROM tensor_versions GROUP BY tensor",
  ).run(now);
  db.prepare("UPDATE tensor_versions SET status = 'active' WHERE status = 'retired' AND note = 'recovered by doctor --repair' AND (tensor, version) IN (SELECT name, active_version FROM tensors)").run();
  db.prepare("DELETE FROM fix_history WHERE signature NOT IN (SELECT signature FROM fixes)").run();
}

function integrityOk(db: Db): boolean {
  try {
    const r = db.pragma("integrity_check(1)") as Array<{ integrity_check: string }>;
    return r.length === 1 && r[0]!.integrity_check === "ok";
  } catch {
    return false;
  }
}

const requireCjs = createRequire(import.meta.url);

export function repairDatabase(home: string): RepairResult {
  const file = databaseFile(home);
  if (!existsSync(file)) return { repaired: false, detail: `no ${file}: nothing to repair` };
  if (!isWritableDir(home)) return { repaired: false, detail: `${home} is read-only: make it writable (chmod u+w ${home}), then run doctor --repair again` };
  const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
  const recovered = join(home, `experience.db.recovered-${stamp}`);
  const kept = join(home, `experience.db.damaged-${stamp}`);
  const Driver = requireCjs("better-sqlite3") as typeof Database;
  let old: Db;
  try {
    old = new Driver(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    return { repaired: false, detail: `${file} cannot be opened at all (${(err as Error).message}): move it aside and restart; experience-mcp creates a fresh one` };
  }
  let method: RepairResult["method"];
  let tables: TableRecovery[] | undefined;
  try {
    if (integrityOk(old) && damagedReason(home) === undefined) return { repaired: false, detail: "integrity_check is ok: nothing to repair" };
    // 1. VACUUM INTO copies the whole file when every page reads; a damaged index would come along, so check the copy.
    try {
      old.exec(`VACUUM INTO '${recovered.replaceAll("'", "''")}'`);
      const copy = new Driver(recovered);
      const ok = integrityOk(copy);
      copy.close();
      if (ok) method = "vacuum";
      else rmSync(recovered, { force: true });
    } catch {
      rmSync(recovered, { force: true });
    }
    // 2. Otherwise table by table, row by row, around the unreadable pages, into a fresh schema.
    if (!method) {
      const fresh = new Driver(recovered);
      try {
        applySchema(fresh);
        fresh.pragma("foreign_keys = OFF");
        const names = (fresh.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'").pluck().all() as string[]).filter((n) => !SKIP_TABLES.test(n));
        tables = fresh.transaction(() => {
          const out = names.map((t) => copyTable(old, fresh, t));
          rebuildDerived(fresh);
          return out;
        })();
        if (!integrityOk(fresh)) throw new Error("the recovered copy does not pass integrity_check");
        fresh.pragma("journal_mode = WAL");
      } finally {
        fresh.close();
      }
      method = "tables";
    }
  } catch (err) {
    rmSync(recovered, { force: true });
    log("debug", "repair failed", err);
    return { repaired: false, detail: `recovery failed: ${(err as Error).message}; ${file} is unchanged` };
  } finally {
    old.close();
  }
  // Swap: the damaged file (and its WAL) is kept beside the new one.
  for (const suffix of ["", "-wal", "-shm"]) {
    if (existsSync(file + suffix)) renameSync(file + suffix, kept + suffix);
  }
  renameSync(recovered, file);
  rmSync(join(home, DAMAGED_MARKER), { force: true });
  const lost = tables?.reduce((n, t) => n + t.rowids_skipped, 0) ?? 0;
  return {
    repaired: true,
    method,
    kept,
    tables,
    detail:
      method === "vacuum"
        ? `every page was readable: copied whole into a new ${file}; the old file is kept as ${kept}`
        : `recovered ${tables!.reduce((n, t) => n + t.recovered, 0)} rows into a new ${file}${lost ? ` (at most ${lost} row${lost === 1 ? " was" : "s were"} on unreadable pages)` : ""}; the damaged file is kept as ${kept}`,
  };
}

export function runDoctor(home: string, options: { repair?: boolean; tmuxBin?: string } = {}): DoctorReport {
  const repair = options.repair ? repairDatabase(home) : undefined;
  const checks = [
    ...checkHome(home),
    ...checkDatabase(home),
    ...checkTrail(home),
    checkProgram("tmux", options.tmuxBin ?? "tmux", ["-V"], "the terminal tools need it"),
    checkProgram("git", "git", ["--version"], "terminal trails are git repositories"),
  ];
  return { home, ok: checks.every((c) => c.status !== "fail"), checks, repair };
}

function render(report: DoctorReport): string {
  const lines = [`experience-mcp doctor: ${report.home}`];
  if (report.repair) lines.push(`repair  ${report.repair.repaired ? "done" : "not done"}: ${report.repair.detail}`);
  for (const c of report.checks) {
    lines.push(`${c.status.toUpperCase().padEnd(5)} ${c.name.padEnd(15)} ${c.detail}`);
    if (c.fix && c.status !== "ok") lines.push(`      ${"".padEnd(15)} → ${c.fix}`);
  }
  lines.push(report.ok ? "All checks passed." : "Some checks failed: see → above.");
  return `${lines.join("\n")}\n`;
}

export async function doctorCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: "boolean" }, repair: { type: "boolean" }, home: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length > 0) {
    process.stdout.write(DOCTOR_USAGE);
    return 2;
  }
  const config = loadConfig({ home: values.home });
  const report = runDoctor(config.home, { repair: values.repair, tmuxBin: config.tmuxBin });
  process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
  return report.ok ? 0 : 1;
}
