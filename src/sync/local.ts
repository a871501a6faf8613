/**
 * The local side of team sync: turning it on (a machine id and a first snapshot of the fixes
 * already stored), the queue of ops not yet pushed, the pull cursor, and applying pulled ops.
 *
 * Applying is a function of the set of ops, not of their order: a fix row holds its own local
 * counts plus, for the remote ops, exactly what sync_fix_clock says was applied, and each pull
 * recomputes the remote part from every op stored for that signature (op ids dedupe, so pulling
 * twice changes nothing).
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../storage/db.js";
import { STRENGTH } from "../storage/strength.js";
import { ExperienceStore } from "../experience/store.js";
import { TENSOR_PATTERN } from "../names.js";

export type OpKind = "fix.put" | "fix.outcome" | "fix.forget" | "row.put" | "row.forget";
const KINDS: ReadonlySet<string> = new Set<OpKind>(["fix.put", "fix.outcome", "fix.forget", "row.put", "row.forget"]);

/** An op as it travels: the hub stores payload (signature and at included) as JSON. */
export interface Op {
  id: string;
  machine: string;
  kind: OpKind;
  payload: { signature: string; at: number } & Record<string, unknown>;
}

const DAY_MS = 86_400_000;
const meta = (db: Db, key: string): string | undefined => db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(key) as string | undefined;
const setMeta = (db: Db, key: string, value: string): void => void db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(key, value);

/**
 * This machine's id, turning sync on at the first call: from then on every fix write queues an op
 * (the triggers of migration 9), and the fixes stored before are queued now as puts and outcomes.
 */
export function enableSync(db: Db): string {
  const found = meta(db, "sync_machine");
  if (found) return found;
  return db
    .transaction(() => {
      const again = meta(db, "sync_machine");
      if (again) return again;
      const machine = randomUUID();
      const now = Date.now();
      const rows = db.prepare("SELECT * FROM fixes").all() as Array<Record<string, unknown>>;
      const insert = db.prepare("INSERT INTO sync_ops (id, machine, kind, signature, at, payload, pushed) VALUES (?, ?, ?, ?, ?, ?, 0)");
      for (const r of rows) {
        const sig = r.signature as string;
        insert.run(randomUUID(), machine, "fix.put", sig, now, JSON.stringify(putFields(r)));
        if ((r.successes as number) > 0 || (r.failures as number) > 0) {
          insert.run(randomUUID(), machine, "fix.outcome", sig, now, JSON.stringify({ s: r.successes, f: r.failures }));
        }
      }
      setMeta(db, "sync_machine", machine);
      // Rows that travel (see migration 10), stored before sync was on.
      const rowsOut = db
        .prepare(
          `SELECT r.tensor, r.hash, r.query, r.key, r.value, r.tags, r.repo FROM rows r JOIN tensors t ON t.name = r.tensor AND r.version = t.active_version
           WHERE r.private = 0 AND (r.shared = 1 OR t.shared = 1) ORDER BY r.id`,
        )
        .all() as Array<{ tensor: string; hash: string } & Record<string, unknown>>;
      for (const { hash, ...r } of rowsOut) insert.run(randomUUID(), machine, "row.put", rowKey(r.tensor, hash), now, JSON.stringify(r));
      return machine;
    })
    .immediate();
}

/** An experience row's identity across machines, as migration 10's triggers write it. */
export const rowKey = (tensor: string, hash: string): string => `row ${tensor} ${hash}`;

const PUT_FIELDS = ["error_type", "context", "template", "lines", "tokens", "fix", "structured", "status", "repo", "names", "traits", "parent"] as const;
function putFields(r: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(PUT_FIELDS.map((k) => [k, r[k]]));
}

/**
 * Remember which hub and team this data directory syncs with; on a change (another hub, another
 * team) the cursor starts over and every own op is sent again: both are harmless repeats.
 */
export function bindHub(db: Db, identity: string): void {
  if (meta(db, "sync_hub") === identity) return;
  db.transaction(() => {
    db.prepare("UPDATE sync_ops SET pushed = 0 WHERE pushed = 1").run();
    setMeta(db, "sync_cursor", "0");
    setMeta(db, "sync_hub", identity);
  }).immediate();
}

/** Own ops the hub does not have yet, oldest first. */
export function unsentOps(db: Db, limit: number): Op[] {
  const rows = db.prepare("SELECT id, machine, kind, signature, at, payload FROM sync_ops WHERE pushed = 0 ORDER BY rowid LIMIT ?").all(limit) as Array<{
    id: string;
    machine: string;
    kind: OpKind;
    signature: string;
    at: number;
    payload: string;
  }>;
  return rows.map((r) => ({ id: r.id, machine: r.machine, kind: r.kind, payload: { ...(JSON.parse(r.payload) as Record<string, unknown>), signature: r.signature, at: r.at } }));
}

export function markPushed(db: Db, ids: readonly string[]): void {
  const mark = db.prepare("UPDATE sync_ops SET pushed = 1 WHERE id = ?");
  db.transaction(() => ids.forEach((id) => mark.run(id))).immediate();
}

export interface SyncStatus {
  machine: string | null;
  cursor: number;
  pending: number;
  lastError: string | null;
  lastSync: string | null;
}

export function syncStatus(db: Db): SyncStatus {
  const pending = db.prepare("SELECT count(*) FROM sync_ops WHERE pushed = 0").pluck().get() as number;
  const last = meta(db, "sync_last_ok");
  return {
    machine: meta(db, "sync_machine") ?? null,
    cursor: Number(meta(db, "sync_cursor") ?? 0),
    pending,
    lastError: meta(db, "sync_last_error") ?? null,
    lastSync: last ? new Date(Number(last)).toISOString() : null,
  };
}

export function recordSyncResult(db: Db, error: string | undefined): void {
  db.transaction(() => {
    if (error === undefined) {
      db.prepare("DELETE FROM meta WHERE key = 'sync_last_error'").run();
      setMeta(db, "sync_last_ok", String(Date.now()));
    } else setMeta(db, "sync_last_error", error);
  }).immediate();
}

/**
 * Store pulled ops and bring the fixes they name up to date, and move the cursor, in one
 * transaction. Returns how many ops were new here.
 */
export function applyOps(db: Db, ops: readonly Op[], cursor: number): number {
  const machine = meta(db, "sync_machine");
  const store = db.prepare("INSERT OR IGNORE INTO sync_ops (id, machine, kind, signature, at, payload, pushed) VALUES (?, ?, ?, ?, ?, ?, NULL)");
  return db
    .transaction(() => {
      setMeta(db, "sync_applying", "1");
      const touched = new Set<string>();
      let fresh = 0;
      for (const op of ops) {
        const { signature, at, ...rest } = op.payload;
        // A kind a newer client sends (or a malformed op) is skipped, never blocking the pull.
        if (!KINDS.has(op.kind) || typeof signature !== "string" || !Number.isSafeInteger(at)) continue;
        if (store.run(op.id, op.machine, op.kind, signature, at, JSON.stringify(rest)).changes === 0) continue;
        fresh++;
        if (op.machine !== machine) touched.add(signature);
      }
      const rows = new ExperienceStore(db);
      for (const key of touched) {
        if (key.startsWith("row ")) recomputeRow(db, rows, key);
        else recompute(db, key, machine ?? "");
      }
      if (cursor > Number(meta(db, "sync_cursor") ?? 0)) setMeta(db, "sync_cursor", String(cursor));
      db.prepare("DELETE FROM meta WHERE key = 'sync_applying'").run();
      return fresh;
    })
    .immediate();
}

interface Clock {
  applied_s: number;
  applied_f: number;
  applied_puts: number;
  text_at: number;
  text_id: string;
}

/** Bring one fix up to date with every op stored for it (see the module comment). */
function recompute(db: Db, signature: string, own: string): void {
  const tomb = (db.prepare("SELECT max(at) FROM sync_ops WHERE signature = ? AND kind = 'fix.forget'").pluck().get(signature) as number | null) ?? -1;
  const puts = db
    .prepare("SELECT id, at, payload FROM sync_ops WHERE signature = ? AND kind = 'fix.put' AND machine <> ? AND at > ? ORDER BY at DESC, id DESC")
    .all(signature, own, tomb) as Array<{ id: string; at: number; payload: string }>;
  const sums = db
    .prepare(
      "SELECT coalesce(sum(json_extract(payload, '$.s')), 0) AS s, coalesce(sum(json_extract(payload, '$.f')), 0) AS f FROM sync_ops WHERE signature = ? AND kind = 'fix.outcome' AND machine <> ? AND at > ?",
    )
    .get(signature, own, tomb) as { s: number; f: number };
  const bump = db.prepare("INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1 RETURNING CAST(value AS INTEGER)").pluck();
  const dropClock = (): void => void db.prepare("DELETE FROM sync_fix_clock WHERE signature = ?").run(signature);
  let row = db.prepare("SELECT updated_at FROM fixes WHERE signature = ?").get(signature) as { updated_at: number } | undefined;
  if (row && row.updated_at <= tomb && puts.length === 0) {
    db.prepare("DELETE FROM fixes WHERE signature = ?").run(signature);
    bump.get("fixes_rev");
    bump.get("fixes_deletes");
    return dropClock();
  }
  const best = puts[0];
  if (!row) {
    dropClock();
    if (!best) return;
    const p = JSON.parse(best.payload) as Record<string, unknown>;
    const status = p.status === "candidate" ? "candidate" : "active";
    db.prepare(
      `INSERT INTO fixes (signature, error_type, context, template, lines, tokens, fix, structured, status, strength, epoch, occurrences, repo, names, traits, parent, rev, created_at, updated_at)
       VALUES (@signature, @error_type, @context, @template, @lines, @tokens, @fix, @structured, @status, @strength, @epoch, 0, @repo, @names, @traits, @parent, 0, @at, @at)`,
    ).run({
      ...Object.fromEntries(PUT_FIELDS.map((k) => [k, p[k] ?? (k === "structured" ? 0 : "")])),
      signature,
      status,
      strength: status === "active" ? STRENGTH.initial : STRENGTH.initialCandidate,
      epoch: Math.floor(Date.now() / DAY_MS),
      at: best.at,
    });
    row = { updated_at: best.at };
  }
  const clock = (db.prepare("SELECT * FROM sync_fix_clock WHERE signature = ?").get(signature) as Clock | undefined) ?? { applied_s: 0, applied_f: 0, applied_puts: 0, text_at: 0, text_id: "" };
  const newer = best !== undefined && (best.at > clock.text_at || (best.at === clock.text_at && best.id > clock.text_id));
  const rev = bump.get("fixes_rev") as number;
  db.prepare(
    `UPDATE fixes SET successes = max(0, successes + @ds), failures = max(0, failures + @df), occurrences = max(1, occurrences + @dp), rev = @rev, updated_at = max(updated_at, @at)
     WHERE signature = @signature`,
  ).run({ ds: sums.s - clock.applied_s, df: sums.f - clock.applied_f, dp: puts.length - clock.applied_puts, rev, at: best?.at ?? 0, signature });
  if (newer) {
    const p = JSON.parse(best.payload) as Record<string, unknown>;
    db.prepare("UPDATE fixes SET fix = ?, names = ?, traits = ? WHERE signature = ?").run(String(p.fix ?? ""), String(p.names ?? ""), String(p.traits ?? ""), signature);
  }
  db.prepare(
    `INSERT INTO sync_fix_clock (signature, applied_s, applied_f, applied_puts, text_at, text_id) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (signature) DO UPDATE SET applied_s = excluded.applied_s, applied_f = excluded.applied_f, applied_puts = excluded.applied_puts, text_at = excluded.text_at, text_id = excluded.text_id`,
  ).run(signature, sums.s, sums.f, puts.length, newer ? best.at : clock.text_at, newer ? best.id : clock.text_id);
}

/**
 * Bring one experience row up to date with every op stored for it: it exists while its newest
 * put (from any machine) is newer than its newest tombstone. A pulled row lands in the tensor of
 * the same name, marked shared (so forgetting it here travels too); a private row is never
 * removed by a teammate's tombstone. Hits and strength stay local.
 */
function recomputeRow(db: Db, store: ExperienceStore, key: string): void {
  const [, tensor, hash] = key.split(" ");
  if (!tensor || !hash || !TENSOR_PATTERN.test(tensor)) return;
  const tomb = (db.prepare("SELECT max(at) FROM sync_ops WHERE signature = ? AND kind = 'row.forget'").pluck().get(key) as number | null) ?? -1;
  const put = db.prepare("SELECT at, payload FROM sync_ops WHERE signature = ? AND kind = 'row.put' ORDER BY at DESC, id DESC LIMIT 1").get(key) as { at: number; payload: string } | undefined;
  const here = db
    .prepare("SELECT r.id, r.private FROM rows r JOIN tensors t ON t.name = r.tensor AND r.version = t.active_version WHERE r.tensor = ? AND r.hash = ?")
    .get(tensor, hash) as { id: number; private: number } | undefined;
  if (put && put.at > tomb) {
    if (here) return;
    const p = JSON.parse(put.payload) as Record<string, unknown>;
    if (typeof p.key !== "string" || typeof p.value !== "string" || !p.key || !p.value) return;
    let tags: string[] = [];
    try {
      const parsed = JSON.parse(String(p.tags ?? "[]")) as unknown;
      if (Array.isArray(parsed)) tags = parsed.filter((t): t is string => typeof t === "string");
    } catch {
      // tags are a convenience: a row with unreadable ones still lands, without them
    }
    store.remember(tensor, { query: typeof p.query === "string" ? p.query : "", key: p.key, value: p.value, tags, repo: typeof p.repo === "string" ? p.repo : "", shared: true });
  } else if (here && tomb >= 0 && here.private === 0) {
    store.forget([here.id]);
  }
}
