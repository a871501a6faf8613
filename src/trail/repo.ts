import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, type BigIntStats, type Dirent } from "node:fs";
import { appendFile, mkdtemp, mkdir, rename, rm } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { redact } from "../storage/redact.js";
import { assertName } from "../names.js";
import {
  casRefSync,
  catFileBatch,
  git,
  gitAt,
  gitEnv,
  hashObject,
  parseTree,
  ProcessError,
  readLooseObjectSync,
  readRefSync,
  redactBlob,
  serializeTree,
  TRAIL_IDENTITY,
  trailGitDir,
  treeSortKey,
  writeLooseObjectSync,
  ZERO_OID,
  type BatchObject,
  type TreeEntry,
} from "./git.js";

/**
 * The trail repository: `<home>/trails`, one git commit per keystroke chunk. Its git directory is
 * `<home>/trails/.trail.git` (trailGitDir in git.ts; `<home>/trails/.git` in data directories made
 * by older versions), outside every session's directory: git typed in a session never finds it.
 *
 * Layout of every commit's tree:
 *   <session>/...                    the session's workspace (what the agent typed), as on disk
 *   .captures/<session>/<seq>.txt    the pane capture after step <seq> (1-based, 4+ digits)
 * Only `refs/heads/main` is written; history is linear.
 *
 * Hot path (commitStep), measured: a git process costs 2.5-5 ms here (update-ref ~5 ms), more
 * than the whole step budget allows, so no process is spawned per step. Blobs, trees and the
 * commit are hashed and written as loose objects in this process, and `refs/heads/main` is moved
 * with git's own files-backend compare-and-swap (`main.lock` created exclusively, value compared,
 * reflog appended, lock renamed over the ref), so any git process interoperates. A commit from
 * another process makes the swap fail; the step is then rebuilt on the new tip (seq recomputed
 * from it) and retried, so none is lost and seq stays contiguous even when two processes type
 * into one session. Within a process all commits to one repository go through one queue. When
 * the parent commit was made elsewhere its trees are read from loose objects, or with one
 * `git cat-file --batch` once `git gc` has packed them.
 *
 * One file: the commit path (the queue, the cached head, the tree writes and the swap of main)
 * shares one per-repository state; git plumbing is git.ts, reads are read.ts.
 */

export interface StepCommit {
  sha: string;
  seq: number;
}

export type StepKind = "text" | "key";

export const MAIN_REF = "refs/heads/main";
export const CAPTURES_DIR = ".captures";
export const TIMESTAMP_TRAILER = "Experience-Timestamp-Ms";

/** Directories in a workspace that are generated, never typed: not recorded (and not walked). */
const SKIP_DIRS = new Set(["node_modules", "__pycache__", ".mypy_cache", ".pytest_cache", ".venv"]);
/**
 * Names git refuses in trees (`.git` and its NTFS/HFS aliases): a user's own repository (a
 * `git init` typed in the session) is not recorded, its work tree files are.
 */
const RESERVED_NAME = /^(\.git[. ]*|git~\d+)$/i;
/** A file modified this close to when we hashed it may change again within the same mtime tick. */
const RACY_MS = 2000;
/** How long a step keeps retrying when other processes keep winning the race for the ref. */
const RETRY_BUDGET_MS = 60_000;

/** Repository config: [section, key, value]; values are plain words, no quoting needed. */
const REPO_CONFIG: ReadonlyArray<readonly [string, string, string]> = [
  ["core", "hooksPath", "/dev/null"], // no hook runs, e.g. reference-transaction on a ref update
  ["commit", "gpgSign", "false"],
  ["tag", "gpgSign", "false"],
  ["core", "quotePath", "false"], // diffs (the max_diff_chars metric) show file names as typed
  ["user", "name", TRAIL_IDENTITY.name],
  ["user", "email", TRAIL_IDENTITY.email],
];

export function formatSeq(seq: number): string {
  return String(seq).padStart(4, "0");
}

/** Repository path of the capture of one step. */
export function capturePath(session: string, seq: number): string {
  return `${CAPTURES_DIR}/${session}/${formatSeq(seq)}.txt`;
}

/**
 * `<session>: <seq> <text|key> <payload as JSON>`: one line (JSON escapes control characters).
 * The payload is redacted: the subject goes into the commit object and the reflog.
 */
export function commitSubject(session: string, seq: number, kind: StepKind, payload: string): string {
  return `${session}: ${seq} ${kind} ${JSON.stringify(redact(payload))}`;
}

export function commitMessage(subject: string, timestampMs: number): string {
  return `${subject}\n\n${TIMESTAMP_TRAILER}: ${timestampMs}\n`;
}

export interface TrailRepoOptions {
  /** Clock for the timestamp trailer and commit dates (ms since epoch); tests inject one. */
  now?: () => number;
}

/**
 * A session's `.captures/<session>` tree, kept as its raw body: each step appends one entry that
 * sorts last, so the tree is extended instead of re-sorted and re-serialized (it grows by one
 * entry per step, to thousands in a long session).
 */
interface SessionCaptures {
  body: Buffer;
  maxSeq: number;
  /** Sort key (name, "/" appended for a subtree) of the last entry; null when empty. */
  lastKey: Buffer | null;
}

interface HeadState {
  oid: string | null; // null: no commit yet
  root: Map<string, TreeEntry>;
  captures: Map<string, TreeEntry>;
  sessions: Map<string, SessionCaptures>;
}

interface StatEntry {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
  mode: string;
  oid: string;
  trusted: boolean;
}

/** Per-repository state shared by every TrailRepo on the same root in this process. */
class RepoState {
  queue: Promise<unknown> = Promise.resolve();
  ensured?: Promise<void>;
  head?: HeadState;
  statCache = new Map<string, StatEntry>();
  writtenTrees = new Set<string>();
}

const STATES = new Map<string, RepoState>();

function emptyHead(): HeadState {
  return { oid: null, root: new Map(), captures: new Map(), sessions: new Map() };
}

function sessionCaptures(body: Buffer): SessionCaptures {
  let maxSeq = 0;
  let lastKey: Buffer | null = null;
  for (const [name, e] of parseTree(body)) {
    const m = /^(\d+)\.txt$/.exec(name);
    if (m) maxSeq = Math.max(maxSeq, Number(m[1]));
    lastKey = treeSortKey(name, e.mode);
  }
  return { body, maxSeq, lastKey };
}

/** The captures tree with one more blob entry. */
function addCapture(caps: SessionCaptures | undefined, name: string, oid: string): Buffer {
  const key = treeSortKey(name, "100644");
  if (!caps || caps.lastKey === null || Buffer.compare(key, caps.lastKey) > 0) {
    const entry = Buffer.concat([Buffer.from(`100644 ${name}\0`, "utf8"), Buffer.from(oid, "hex")]);
    return caps ? Buffer.concat([caps.body, entry]) : entry;
  }
  // Rare: the name does not sort last (seq 10000 after 9999, or entries added by hand).
  const entries = parseTree(caps.body);
  entries.set(name, { mode: "100644", oid });
  return serializeTree(entries);
}

function isRetryableRefError(e: unknown): boolean {
  return e instanceof ProcessError && /cannot lock ref|unable to create .*\.lock|but expected|already exists/i.test(e.stderr);
}

function errCode(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

export class TrailRepo {
  readonly root: string;
  readonly gitDir: string;
  private readonly now: () => number;
  private readonly state: RepoState;

  constructor(root: string, options: TrailRepoOptions = {}) {
    this.root = resolve(root);
    this.gitDir = trailGitDir(this.root);
    this.now = options.now ?? Date.now;
    let state = STATES.get(this.root);
    if (!state) {
      state = new RepoState();
      STATES.set(this.root, state);
    }
    this.state = state;
  }

  /** Create and configure the repository if missing. Idempotent; concurrent processes may race. */
  ensure(): Promise<void> {
    this.state.ensured ??= this.init().catch((e: unknown) => {
      this.state.ensured = undefined; // let a later call try again
      throw e;
    });
    return this.state.ensured;
  }

  private isRepo(): boolean {
    return existsSync(join(this.gitDir, "HEAD"));
  }

  private async init(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    if (this.isRepo()) return;
    // Build the repository beside the target and rename it into place: rename is atomic, so a
    // racing process either wins or finds a complete repository, never a half-configured one.
    const tmp = await mkdtemp(join(dirname(this.root), ".trails-init-"));
    try {
      // simple-git guards the GIT_CONFIG_GLOBAL variable because it can point git at programs; we
      // use it to ignore the user's config. onExit:false: don't wait 50 ms more after git exits.
      // Loaded here, on the one path that needs it, so it costs nothing at server start.
      const { simpleGit } = await import("simple-git");
      await simpleGit({ baseDir: tmp, unsafe: { allowUnsafeConfigPaths: true }, completion: { onClose: true, onExit: false } })
        .env(gitEnv())
        .init();
      const tmpGitDir = join(tmp, ".git");
      await gitAt(tmpGitDir, tmp, ["symbolic-ref", "HEAD", MAIN_REF]);
      // Our own settings appended to the config git just wrote (the directory is still private to
      // us): one write instead of a git process per key.
      const settings = REPO_CONFIG.map(([section, key, value]) => `[${section}]\n\t${key} = ${value}\n`).join("");
      await appendFile(join(tmpGitDir, "config"), settings);
      try {
        await rename(tmpGitDir, this.gitDir);
      } catch (e) {
        if (!this.isRepo()) throw e; // lost the race to another process: theirs is as good
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** The session's workspace `<root>/<session>/` (created); what is typed there is recorded. */
  sessionDir(session: string): string {
    assertName("session", session);
    const dir = join(this.root, session);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  /**
   * Record one step: the workspace's current state plus `capture` at the next seq of `session`.
   * Resolves once `refs/heads/main` points at the new commit; rejects (never silently drops) on error.
   */
  async commitStep(session: string, kind: StepKind, payload: string, capture: string): Promise<StepCommit> {
    assertName("session", session);
    if (kind !== "text" && kind !== "key") throw new Error(`Invalid step kind ${JSON.stringify(kind)}: use "text" or "key"`);
    await this.ensure();
    return this.serialized(() => this.commitLocked(session, kind, payload, Buffer.from(capture, "utf8")));
  }

  /** Number of commits recorded for `session` (= its last seq). */
  async countCommits(session: string): Promise<number> {
    assertName("session", session);
    if (!this.isRepo()) return 0;
    return this.serialized(async () => {
      const head = await this.loadHead(await this.readHead(), session);
      return head.sessions.get(session)?.maxSeq ?? 0;
    });
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.state.queue.then(fn, fn);
    this.state.queue = run.catch(() => undefined);
    return run;
  }

  private async commitLocked(session: string, kind: StepKind, payload: string, capture: Buffer): Promise<StepCommit> {
    const timestampMs = Math.round(this.now());
    const started = Date.now();
    let head = await this.readHead();
    for (let attempt = 0; ; attempt++) {
      const state = await this.loadHead(head, session);
      const seq = (state.sessions.get(session)?.maxSeq ?? 0) + 1;

      // Session captures: previous ones plus this step's.
      const captureBlob = hashObject("blob", redactBlob(capture));
      writeLooseObjectSync(this.gitDir, captureBlob.oid, captureBlob.raw);
      const capsBody = addCapture(state.sessions.get(session), `${formatSeq(seq)}.txt`, captureBlob.oid);
      const captures = new Map(state.captures);
      captures.set(session, { mode: "40000", oid: this.writeTreeBody(capsBody) });

      // Root: other sessions untouched, this session's workspace as it is on disk now.
      const root = new Map(state.root);
      const workspace = this.writeDir(join(this.root, session));
      if (workspace) root.set(session, { mode: "40000", oid: workspace });
      else root.delete(session);
      root.set(CAPTURES_DIR, { mode: "40000", oid: this.writeTree(captures) });
      const tree = this.writeTree(root);

      const subject = commitSubject(session, seq, kind, payload);
      const ident = `${TRAIL_IDENTITY.name} <${TRAIL_IDENTITY.email}> ${Math.floor(timestampMs / 1000)} +0000`;
      const body = [`tree ${tree}`, ...(state.oid ? [`parent ${state.oid}`] : []), `author ${ident}`, `committer ${ident}`, "", commitMessage(subject, timestampMs)].join("\n");
      const commit = hashObject("commit", Buffer.from(body, "utf8"));
      writeLooseObjectSync(this.gitDir, commit.oid, commit.raw);

      if (!(await this.swapMain(commit.oid, state.oid, subject, ident))) {
        // Another process moved the tip (or holds its lock): rebuild on the new tip.
        if (Date.now() - started > RETRY_BUDGET_MS) {
          throw new Error(`trail repository ${this.root}: could not record step ${session} ${seq} within ${RETRY_BUDGET_MS / 1000}s; is another process holding ${MAIN_REF}.lock?`);
        }
        if (attempt >= 2) await sleep(Math.random() * Math.min(20, 2 ** attempt));
        head = await this.readHead();
        continue;
      }
      const sessions = new Map(state.sessions);
      sessions.set(session, { body: capsBody, maxSeq: seq, lastKey: treeSortKey(`${formatSeq(seq)}.txt`, "100644") });
      this.state.head = { oid: commit.oid, root, captures, sessions };
      return { sha: commit.oid, seq };
    }
  }

  /** Tip of main; null when there is no commit yet. */
  private async readHead(): Promise<string | null> {
    const fast = this.readHeadFast();
    return fast === undefined ? this.readHeadGit() : fast;
  }

  /** Tip of main from the ref files (no process); undefined when git must be asked. */
  private readHeadFast(): string | null | undefined {
    return this.filesBackend() ? readRefSync(this.gitDir, MAIN_REF) : undefined;
  }

  /** Refs are plain files (what `ensure` creates); a reftable repository goes through git. */
  private filesBackend(): boolean {
    return !existsSync(join(this.gitDir, "reftable"));
  }

  /** Swap main from `old` to `next`; false when another writer moved it or holds its lock. */
  private async swapMain(next: string, old: string | null, subject: string, ident: string): Promise<boolean> {
    const message = `experience-mcp: ${subject}`.slice(0, 200);
    if (this.filesBackend()) return casRefSync(this.gitDir, MAIN_REF, next, old, message, ident) === "ok";
    try {
      await git(this.root, ["update-ref", "-m", message, MAIN_REF, next, old ?? ZERO_OID]);
      return true;
    } catch (e) {
      if (isRetryableRefError(e)) return false;
      throw e;
    }
  }

  private async readHeadGit(): Promise<string | null> {
    const { stdout, code } = await git(this.root, ["rev-parse", "--verify", "-q", `${MAIN_REF}^{commit}`], { okCodes: [1] });
    return code === 0 ? stdout.toString("utf8").trim() : null;
  }

  /** The tree state of `oid` with `session`'s captures loaded; cached, one cat-file when not. */
  private async loadHead(oid: string | null, session: string): Promise<HeadState> {
    const cached = this.state.head;
    if (cached && cached.oid === oid && cached.sessions.has(session)) return cached;
    if (oid === null) {
      let head = cached;
      if (!head || head.oid !== null) {
        // No commit (a new or re-created repository): nothing cached can be trusted to exist in it.
        this.state.statCache.clear();
        this.state.writtenTrees.clear();
        head = emptyHead();
        this.state.head = head;
      }
      head.sessions.set(session, sessionCaptures(Buffer.alloc(0)));
      return head;
    }
    if (cached && cached.oid === oid) {
      // Same tip, a session not seen yet: its captures tree id is already known.
      const entry = cached.captures.get(session);
      const [obj] = entry ? await catFileBatch(this.root, [entry.oid]) : [null];
      cached.sessions.set(session, sessionCaptures(obj?.type === "tree" ? Buffer.from(obj.body) : Buffer.alloc(0)));
      return cached;
    }
    const [rootObj, capsObj, sessObj] = this.readTipLoose(oid, session) ?? (await catFileBatch(this.root, [`${oid}^{tree}`, `${oid}:${CAPTURES_DIR}`, `${oid}:${CAPTURES_DIR}/${session}`]));
    if (!rootObj || rootObj.type !== "tree") throw new Error(`trail repository: cannot read the tree of ${oid}`);
    const head: HeadState = {
      oid,
      root: parseTree(rootObj.body),
      captures: capsObj?.type === "tree" ? parseTree(capsObj.body) : new Map(),
      sessions: new Map(),
    };
    head.sessions.set(session, sessionCaptures(sessObj?.type === "tree" ? Buffer.from(sessObj.body) : Buffer.alloc(0)));
    this.state.head = head;
    return head;
  }

  /**
   * Root tree, `.captures` tree and the session's captures tree of commit `oid` from loose objects
   * (null for an absent tree); undefined when some object is not loose, so git must be asked.
   */
  private readTipLoose(oid: string, session: string): Array<BatchObject> | undefined {
    const commit = readLooseObjectSync(this.gitDir, oid);
    const treeOid = commit?.type === "commit" ? /^tree ([0-9a-f]{40})\n/.exec(commit.body.toString("latin1", 0, 46))?.[1] : undefined;
    if (!treeOid) return undefined;
    const out: BatchObject[] = [];
    let next: string | undefined = treeOid;
    for (const name of [CAPTURES_DIR, session, null]) {
      if (!next) {
        out.push(null);
        continue;
      }
      const obj = readLooseObjectSync(this.gitDir, next);
      if (!obj) return undefined;
      out.push(obj);
      const entry = name !== null && obj.type === "tree" ? parseTree(obj.body).get(name) : undefined;
      next = entry?.mode === "40000" ? entry.oid : undefined;
    }
    return out;
  }

  private writeTree(entries: ReadonlyMap<string, TreeEntry>): string {
    return this.writeTreeBody(serializeTree(entries));
  }

  private writeTreeBody(body: Buffer): string {
    const { oid, raw } = hashObject("tree", body);
    if (!this.state.writtenTrees.has(oid)) {
      writeLooseObjectSync(this.gitDir, oid, raw);
      if (this.state.writtenTrees.size > 100_000) this.state.writtenTrees.clear(); // bound memory
      this.state.writtenTrees.add(oid);
    }
    return oid;
  }

  /**
   * Hash a workspace directory into tree objects; null when it holds nothing to record. Sync file
   * system calls: a workspace is small and each async call would cost a thread-pool round trip.
   * Entries that vanish while we walk (a program deleting files) are simply not recorded.
   */
  private writeDir(dir: string): string | null {
    let dirents: Dirent[];
    try {
      dirents = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if (errCode(e) === "ENOENT" || errCode(e) === "ENOTDIR") return null;
      throw e;
    }
    const entries = new Map<string, TreeEntry>();
    for (const d of dirents) {
      if (RESERVED_NAME.test(d.name)) continue;
      const path = join(dir, d.name);
      if (d.isDirectory()) {
        if (SKIP_DIRS.has(d.name)) continue;
        const oid = this.writeDir(path);
        if (oid) entries.set(d.name, { mode: "40000", oid });
      } else if (d.isFile()) {
        const entry = this.hashFile(path);
        if (entry) entries.set(d.name, entry);
      } else if (d.isSymbolicLink()) {
        let target: Buffer;
        try {
          target = readlinkSync(path, { encoding: "buffer" });
        } catch (e) {
          if (errCode(e) === "ENOENT" || errCode(e) === "EINVAL") continue;
          throw e;
        }
        const blob = hashObject("blob", target);
        writeLooseObjectSync(this.gitDir, blob.oid, blob.raw);
        entries.set(d.name, { mode: "120000", oid: blob.oid });
      }
      // sockets, FIFOs, devices: not content, not recorded
    }
    return entries.size === 0 ? null : this.writeTree(entries);
  }

  private hashFile(path: string): TreeEntry | null {
    let st: BigIntStats | undefined;
    try {
      st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    } catch (e) {
      if (errCode(e) === "ENOENT") return null;
      throw e;
    }
    if (!st || !st.isFile()) return null;
    const mode = st.mode & 0o100n ? "100755" : "100644";
    const cache = this.state.statCache;
    const hit = cache.get(path);
    if (hit && hit.trusted && hit.dev === st.dev && hit.ino === st.ino && hit.size === st.size && hit.mtimeNs === st.mtimeNs && hit.ctimeNs === st.ctimeNs && hit.mode === mode) {
      return { mode, oid: hit.oid };
    }
    let content: Buffer;
    try {
      content = readFileSync(path);
    } catch (e) {
      if (errCode(e) === "ENOENT") return null;
      throw e;
    }
    const blob = hashObject("blob", redactBlob(content));
    writeLooseObjectSync(this.gitDir, blob.oid, blob.raw);
    const trusted = Date.now() - Number(st.mtimeNs / 1_000_000n) > RACY_MS && BigInt(content.length) === st.size;
    if (cache.size > 50_000) cache.clear(); // bound memory; a miss only costs a re-read
    cache.set(path, { dev: st.dev, ino: st.ino, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, mode, oid: blob.oid, trusted });
    return { mode, oid: blob.oid };
  }
}
