/**
 * Harvest: learn from finished Claude Code sessions. Transcripts are scored for harvest value
 * first (reading only the head and tail of a large file), the best are parsed, and their
 * failure→fix pairs are registered as candidate fixes for the repository they happened in; their
 * (observation, decision, command) triples become rows of the tensor `transcripts`.
 *
 * Idempotent twice over: a file whose size and mtime were harvested before is not read again, and
 * each pair is keyed by its failed call's tool_use id, so a session that grew adds only its new pairs.
 *
 * One file: the transcript pass (find, score, parse, register, advance the cursor) and
 * harvestSources, which runs it with the trail harvest under one report; parsing, pairing and
 * triples already live in transcript.ts, pairs.ts and triples.ts.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import type { Db } from "../storage/db.js";
import { ExperienceStore } from "../experience/store.js";
import { repoOf } from "../storage/repo.js";
import { redactSecrets } from "../storage/redact.js";
import { normalizeError } from "../registry/normalize.js";
import { FixRegistry } from "../registry/registry.js";
import { extractPairs, registerCandidate, type FixPair } from "./pairs.js";
import { parseTranscript } from "./transcript.js";
import { extractTriples, type TranscriptTriple } from "./triples.js";
import { DEFAULT_TRAIL_TENSOR, emptyTrailReport, harvestTrails, type TrailHarvestReport } from "./trail.js";

/** Files larger than this are scored from their first and last SAMPLE_BYTES only. */
const SAMPLE_BYTES = 64 * 1024;
/** Score halves every this many days of age. */
const HALF_LIFE_DAYS = 7;
const DAY_MS = 86_400_000;
/** Where transcript triples go. */
export const TRANSCRIPT_TENSOR = "transcripts";
/** The most triples listed in a report; the counts cover them all. */
const MAX_TRIPLES_LISTED = 200;

export interface HarvestOptions {
  /** Where the transcripts are (default ~/.claude/projects). */
  root?: string;
  /** Only files modified at or after this time (ms). */
  since?: number;
  /** Parse at most this many files, best scored first. */
  limit?: number;
  dryRun?: boolean;
  now?: number;
}

export interface ScoredFile {
  file: string;
  size: number;
  mtimeMs: number;
  score: number;
  toolCalls: number;
  failures: number;
}

export interface HarvestPair {
  file: string;
  session: string;
  command: string;
  error_type: string;
  error: string;
  fix: string;
  status: "new" | "stored" | "already";
}

export interface HarvestReport {
  root: string;
  files_found: number;
  files_unchanged: number;
  files_read: number;
  /** Lines that did not parse (a session still being written ends with a cut line). */
  lines_skipped: number;
  pairs_found: number;
  pairs_stored: number;
  pairs_already: number;
  dry_run: boolean;
  pairs: HarvestPair[];
  /** (observation, decision, command) of successful Bash calls, stored in tensor `transcripts`. */
  triples: {
    tensor: string;
    found: number;
    stored: number;
    already: number;
    listed: Array<{ file: string; session: string; observation: string; decision: string; command: string; status: "new" | "stored" | "already" }>;
  };
}

export function defaultRoot(): string {
  return join(homedir(), ".claude", "projects");
}

/** `<root>/<project>/<session>.jsonl` and `<root>/<project>/<session>/subagents/agent-*.jsonl`. */
export function findTranscripts(root: string): string[] {
  const out: string[] = [];
  const list = (dir: string) => {
    try {
      return readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  for (const project of list(root)) {
    if (!project.isDirectory()) continue;
    const pdir = join(root, project.name);
    for (const entry of list(pdir)) {
      if (entry.isFile() && entry.name.endsWith(".jsonl")) out.push(join(pdir, entry.name));
      else if (entry.isDirectory()) {
        const sub = join(pdir, entry.name, "subagents");
        for (const a of list(sub)) if (a.isFile() && /^agent-.*\.jsonl$/.test(a.name)) out.push(join(sub, a.name));
      }
    }
  }
  return out.sort();
}

function sample(file: string, size: number): { text: string; scale: number } {
  if (size <= 4 * SAMPLE_BYTES) return { text: readFileSync(file, "utf8"), scale: 1 };
  const fd = openSync(file, "r");
  try {
    const head = Buffer.alloc(SAMPLE_BYTES);
    const tail = Buffer.alloc(SAMPLE_BYTES);
    readSync(fd, head, 0, SAMPLE_BYTES, 0);
    readSync(fd, tail, 0, SAMPLE_BYTES, size - SAMPLE_BYTES);
    // The cut lines at the seams are dropped by the counting below (they do not parse as a whole).
    return { text: `${head.toString("utf8")}\n${tail.toString("utf8")}`, scale: size / (2 * SAMPLE_BYTES) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Harvest value = recency × (1 + ln(1 + size in KiB)) × (1 + ln(1 + tool calls)) × (1 + failures),
 * recency = 0.5^(age in days / 7). Failures weigh most: they are what a fix is learned from. Counts
 * in a sampled file are scaled up from the sample.
 */
export function scoreFile(file: string, now: number): ScoredFile {
  const st = statSync(file);
  const { text, scale } = sample(file, st.size);
  const toolCalls = Math.round((text.match(/"type"\s*:\s*"tool_use"/g)?.length ?? 0) * scale);
  const failures = Math.round((text.match(/"is_error"\s*:\s*true/g)?.length ?? 0) * scale);
  const ageDays = Math.max(0, (now - st.mtimeMs) / DAY_MS);
  const recency = Math.pow(0.5, ageDays / HALF_LIFE_DAYS);
  const score = recency * (1 + Math.log1p(st.size / 1024)) * (1 + Math.log1p(toolCalls)) * (1 + failures);
  return { file, size: st.size, mtimeMs: Math.floor(st.mtimeMs), score: Math.round(score * 1000) / 1000, toolCalls, failures };
}

function emptyReport(root: string, dryRun: boolean): HarvestReport {
  return {
    root,
    files_found: 0,
    files_unchanged: 0,
    files_read: 0,
    lines_skipped: 0,
    pairs_found: 0,
    pairs_stored: 0,
    pairs_already: 0,
    dry_run: dryRun,
    pairs: [],
    triples: { tensor: TRANSCRIPT_TENSOR, found: 0, stored: 0, already: 0, listed: [] },
  };
}

export function harvest(db: Db, options: HarvestOptions = {}): HarvestReport {
  const root = resolve(options.root ?? defaultRoot()); // absolute: files are remembered by path
  const now = options.now ?? Date.now();
  const dryRun = options.dryRun === true;
  const report = emptyReport(root, dryRun);
  if (!existsSync(root)) return report;
  const seen = db.prepare("SELECT 1 FROM harvested WHERE file = ? AND size = ? AND mtime_ms = ?").pluck();
  const pairSeen = db.prepare("SELECT 1 FROM harvested_pairs WHERE tool_use_id = ?").pluck();
  const markFile = db.prepare("INSERT OR REPLACE INTO harvested (file, size, mtime_ms, pairs, harvested_at) VALUES (?, ?, ?, ?, ?)");
  const markPair = db.prepare("INSERT OR IGNORE INTO harvested_pairs (tool_use_id, signature, harvested_at) VALUES (?, ?, ?)");

  const candidates: ScoredFile[] = [];
  for (const file of findTranscripts(root)) {
    report.files_found++;
    let scored: ScoredFile;
    try {
      scored = scoreFile(file, now);
    } catch {
      continue; // vanished or unreadable: another run will see it
    }
    if (options.since !== undefined && scored.mtimeMs < options.since) continue;
    if (seen.get(file, scored.size, scored.mtimeMs)) {
      report.files_unchanged++;
      continue;
    }
    candidates.push(scored);
  }
  candidates.sort((a, b) => b.score - a.score || (a.file < b.file ? -1 : 1));
  const picked = options.limit !== undefined ? candidates.slice(0, Math.max(0, options.limit)) : candidates;

  const registry = new FixRegistry(db);
  const rows = new ExperienceStore(db);
  for (const f of picked) {
    let text: string;
    try {
      text = readFileSync(f.file, "utf8");
    } catch {
      continue;
    }
    report.files_read++;
    const parsed = parseTranscript(text);
    report.lines_skipped += parsed.skipped;
    const pairs = extractPairs(parsed.calls);
    report.pairs_found += pairs.length;
    let stored = 0;
    for (const p of pairs) {
      const entry = describe(f.file, p);
      if (pairSeen.get(p.id)) {
        report.pairs_already++;
        entry.status = "already";
      } else if (!dryRun) {
        const signature = store(registry, p);
        if (signature) {
          markPair.run(p.id, signature, now);
          report.pairs_stored++;
          stored++;
          entry.status = "stored";
        }
      }
      report.pairs.push(entry);
    }
    for (const t of extractTriples(parsed.calls)) {
      // Triples share the pairs' bookkeeping table, under their own id space.
      const id = `triple:${t.id}`;
      let status: "new" | "stored" | "already" = "new";
      report.triples.found++;
      if (pairSeen.get(id)) {
        status = "already";
        report.triples.already++;
      } else if (!dryRun) {
        db.transaction(() => {
          rows.remember(TRANSCRIPT_TENSOR, tripleRow(t));
          markPair.run(id, "", now);
        }).immediate();
        status = "stored";
        report.triples.stored++;
      }
      if (report.triples.listed.length < MAX_TRIPLES_LISTED) report.triples.listed.push({ file: f.file, session: t.sessionId, ...shown(t), status });
    }
    if (!dryRun) markFile.run(f.file, f.size, f.mtimeMs, stored, now);
  }
  return report;
}

/** The row a triple becomes: recalled by a similar situation or decision, answering with the command. */
function tripleRow(t: TranscriptTriple): { query: string; key: string; value: string; tags: string[]; repo: string } {
  return { query: t.observation, key: t.decision, value: t.command, tags: ["transcript"], repo: repoOf(t.cwd) };
}

/** What a report lists: redacted as the store will keep it. */
function shown(t: TranscriptTriple): { observation: string; decision: string; command: string } {
  return { observation: redactSecrets(t.observation).text, decision: redactSecrets(t.decision).text, command: redactSecrets(t.command).text };
}

function describe(file: string, p: FixPair): HarvestPair {
  // The error as the registry will read it (redacted, masked), so a dry run shows what is stored.
  const norm = normalizeError(redactSecrets(p.error).text);
  return {
    file,
    session: p.sessionId,
    command: redactSecrets(p.command).text,
    error_type: norm.error_type,
    error: norm.template.slice(0, 300),
    fix: redactSecrets(p.fix).text,
    status: "new",
  };
}

function store(registry: FixRegistry, p: FixPair): string | undefined {
  return registerCandidate(registry, { error: p.error, fix: p.fix, command: p.command, repo: repoOf(p.cwd) });
}

/** A `since` that is neither a duration nor a date; the message says what to pass. */
export class SinceError extends Error {
  override name = "SinceError";
}

/** "7d", "12h", "30m" before now, or an ISO date. */
export function parseSince(value: string, now: number = Date.now()): number {
  const m = /^(\d+)\s*([dhm])$/.exec(value.trim());
  if (m) return now - Number(m[1]) * { d: DAY_MS, h: 3_600_000, m: 60_000 }[m[2] as "d" | "h" | "m"];
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new SinceError(`--since ${JSON.stringify(value)}: use a duration like 7d, 12h, 30m or a date like 2026-11-01`);
  return t;
}

export const HARVEST_SOURCES = ["transcripts", "trails"] as const;
export type HarvestSource = (typeof HARVEST_SOURCES)[number];

export interface HarvestAllOptions extends HarvestOptions {
  /** What to read (default both). */
  sources?: readonly HarvestSource[];
  /** The trail repository (`<home>/trails`); trails contribute nothing when it is absent. */
  trailsRoot?: string;
  /** Only this trail session. */
  session?: string;
  /** Tensor for trail triples (default "trails"). */
  tensor?: string;
}

/** The transcript report's fields as before, plus the sources read and the trail counts. */
export interface HarvestAllReport extends HarvestReport {
  sources: HarvestSource[];
  trails: TrailHarvestReport;
}

/** Harvest every source asked for: Claude Code transcripts, then terminal trails. */
export async function harvestSources(db: Db, options: HarvestAllOptions = {}): Promise<HarvestAllReport> {
  const sources = HARVEST_SOURCES.filter((s) => (options.sources ?? HARVEST_SOURCES).includes(s));
  const dryRun = options.dryRun === true;
  const transcripts: HarvestReport = sources.includes("transcripts")
    ? harvest(db, options)
    : emptyReport(resolve(options.root ?? defaultRoot()), dryRun);
  const tensor = options.tensor ?? DEFAULT_TRAIL_TENSOR;
  const trails =
    sources.includes("trails") && options.trailsRoot !== undefined
      ? await harvestTrails(db, { root: options.trailsRoot, session: options.session, tensor, dryRun, now: options.now })
      : emptyTrailReport(options.trailsRoot === undefined ? "" : resolve(options.trailsRoot), tensor);
  return { ...transcripts, sources, trails };
}

/** "transcripts,trails" → the sources; throws on an unknown name. */
export function parseSources(value: string): HarvestSource[] {
  const names = value.split(",").map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(HARVEST_SOURCES as readonly string[]).includes(n)) throw new Error(`--sources ${JSON.stringify(n)}: choose from ${HARVEST_SOURCES.join(", ")}`);
  }
  if (names.length === 0) throw new Error(`--sources needs at least one of ${HARVEST_SOURCES.join(", ")}`);
  return names as HarvestSource[];
}
