import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { deflateSync, inflateSync } from "node:zlib";
import { redact } from "../storage/redact.js";
import { log } from "../log.js";

/**
 * Low-level git access for the trail repository: argv-only process calls with a controlled
 * environment, plus in-process loose-object writing for the per-keystroke hot path.
 *
 * One file: it is the trail's only door to git (process calls, and the object format: hashing,
 * zlib, trees, refs), kept together so that no other file spawns git or writes its objects.
 */

export const TRAIL_IDENTITY = { name: "experience-mcp", email: "experience-mcp@localhost" } as const;

let cachedEnv: NodeJS.ProcessEnv | undefined;

/**
 * The environment every git call gets: no inherited GIT_* variables (a server started from a git
 * hook would otherwise act on the wrong repository), no system/global config (a user's
 * `commit.gpgSign`, `core.hooksPath` or `diff.noprefix` must not change the trail or its metrics),
 * a fixed identity (works where no `user.email` is configured) and C messages (errors are matched).
 */
const UNSAFE_ENV = new Set(["editor", "visual", "pager", "ssh_askpass", "prefix"]);

export function gitEnv(): NodeJS.ProcessEnv {
  if (cachedEnv) return cachedEnv;
  const env: NodeJS.ProcessEnv = {};
  // Trail git never opens an editor, pager or password prompt. Dropping those variables also
  // keeps simple-git, which refuses to run when they are set (npm sets EDITOR for every script).
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("GIT_") || UNSAFE_ENV.has(k.toLowerCase())) continue;
    env[k] = v;
  }
  Object.assign(env, {
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    GIT_AUTHOR_NAME: TRAIL_IDENTITY.name,
    GIT_AUTHOR_EMAIL: TRAIL_IDENTITY.email,
    GIT_COMMITTER_NAME: TRAIL_IDENTITY.name,
    GIT_COMMITTER_EMAIL: TRAIL_IDENTITY.email,
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
    LANGUAGE: "C",
  });
  cachedEnv = env;
  return env;
}

/** A child process that exited non-zero; carries its stderr so the caller's error says why. */
export class ProcessError extends Error {
  override name = "ProcessError";
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${file} ${args.join(" ").slice(0, 200)} failed (exit ${code ?? "signal"}): ${stderr.trim().slice(0, 2000) || "no message"}`);
  }
}

export interface RunOptions {
  input?: Buffer | string;
  /** Exit codes that are not failures (e.g. 1 for `rev-parse --verify -q` on a missing ref). */
  okCodes?: readonly number[];
}

export interface RunResult {
  stdout: Buffer;
  code: number;
}

/** Run a program with argv (never a shell), feeding `input` on stdin; rejects with stderr on failure. */
export function runProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv, opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: Error | undefined;
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) => (spawnError = e));
    // EPIPE when the child exits before reading all input: the exit code tells the real story.
    child.stdin.on("error", () => undefined);
    child.on("close", (code) => {
      if (spawnError) return reject(spawnError);
      const stderr = Buffer.concat(err).toString("utf8");
      if (code === 0 || (code !== null && opts.okCodes?.includes(code))) {
        resolve({ stdout: Buffer.concat(out), code: code ?? 0 });
      } else {
        reject(new ProcessError(file, args, code, stderr));
      }
    });
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * The trail's git directory, `<root>/.trail.git`: outside every session's work tree
 * (`<root>/<session>/`) and not named `.git`, so git run in a session finds no repository there,
 * and a user's `git init`, `git add`, `git reset --hard` or `git clean -fdx` is theirs, never ours.
 * Its name starts with a dot, which no session name can (NAME_PATTERN).
 */
export const TRAIL_GIT_DIR = ".trail.git";

/**
 * Where the trail of `root` keeps its git directory: the one definition every reader and writer
 * uses. Data directories made before it kept the trail in `<root>/.git`; such a trail (recognised
 * by the identity its config names) is read and written where it is while `.trail.git` is absent.
 */
export function trailGitDir(root: string): string {
  const current = join(root, TRAIL_GIT_DIR);
  if (existsSync(join(current, "HEAD"))) return current;
  const legacy = join(root, ".git");
  return isOurLegacyTrail(legacy) ? legacy : current;
}

/** A `<root>/.git` made by an older version: a repository whose config names the trail identity. */
function isOurLegacyTrail(gitDir: string): boolean {
  if (!existsSync(join(gitDir, "HEAD"))) return false;
  try {
    return readFileSync(join(gitDir, "config"), "utf8").includes(`email = ${TRAIL_IDENTITY.email}`);
  } catch {
    return false;
  }
}

/**
 * `git -C <root> --git-dir=<trail git dir> --work-tree=<root> ARGS`: explicit dirs so no other
 * repository is ever found; -C so pathspecs are relative to the repository's top.
 */
export function git(root: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return gitAt(trailGitDir(root), root, args, opts);
}

/** `git` on an explicit git directory and work tree (a repository being built, before it has its place). */
export function gitAt(gitDir: string, workTree: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runProcess("git", ["-C", workTree, `--git-dir=${gitDir}`, `--work-tree=${workTree}`, ...args], gitEnv(), opts).catch((e: unknown) => {
    // Name the subcommand, not the (long, private) --git-dir path, in the message.
    if (e instanceof ProcessError) throw new ProcessError("git", args, e.code, e.stderr);
    throw e;
  });
}

export const ZERO_OID = "0".repeat(40);
const HEX40 = /^[0-9a-f]{40}$/;

export function isOid(s: string): boolean {
  return HEX40.test(s);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The bytes a blob may hold: text (UTF-8 without NUL) redacted, binary content as it is. Every
 * text blob the trail writes (captures and workspace files) goes through here.
 */
export function redactBlob(content: Buffer): Buffer {
  if (content.length === 0 || content.includes(0)) return content;
  let text: string;
  try {
    text = utf8.decode(content);
  } catch {
    return content;
  }
  const out = redact(text);
  return out === text ? content : Buffer.from(out, "utf8");
}

/** Git object id (SHA-1) of `<type> <len>\0<content>`; returns the id and the full object bytes. */
export function hashObject(type: "blob" | "tree" | "commit", content: Buffer): { oid: string; raw: Buffer } {
  const raw = Buffer.concat([Buffer.from(`${type} ${content.length}\0`, "ascii"), content]);
  return { oid: createHash("sha1").update(raw).digest("hex"), raw };
}

/**
 * Write a loose object exactly as git does: zlib stream in a temp file inside the objects
 * directory, then rename into place. Content addressing makes a concurrent writer of the same
 * object harmless (both files hold identical bytes). Synchronous on purpose: it is a few small
 * writes on the per-keystroke path, where thread-pool round trips would cost more than the I/O.
 */
export function writeLooseObjectSync(gitDir: string, oid: string, raw: Buffer): void {
  const dir = join(gitDir, "objects", oid.slice(0, 2));
  const final = join(dir, oid.slice(2));
  if (existsSync(final)) return;
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `tmp_obj_${process.pid}_${randomBytes(6).toString("hex")}`);
  writeFileSync(tmp, deflateSync(raw, { level: 1 }), { mode: 0o444 });
  try {
    renameSync(tmp, final);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export interface TreeEntry {
  mode: string; // "40000" tree, "100644", "100755", "120000"
  oid: string;
}

/** Git orders tree entries bytewise by name, a subtree compared as if its name ended in "/". */
export function treeSortKey(name: string, mode: string): Buffer {
  return Buffer.from(mode === "40000" ? `${name}/` : name, "utf8");
}

/** Serialize a tree in git's order. */
export function serializeTree(entries: ReadonlyMap<string, TreeEntry>): Buffer {
  const rows = [...entries].map(([name, e]) => ({ name, e, key: treeSortKey(name, e.mode) }));
  rows.sort((a, b) => Buffer.compare(a.key, b.key));
  const parts: Buffer[] = [];
  for (const { name, e } of rows) {
    parts.push(Buffer.from(`${e.mode} ${name}\0`, "utf8"), Buffer.from(e.oid, "hex"));
  }
  return Buffer.concat(parts);
}

/** Parse a raw tree object body. */
export function parseTree(body: Buffer): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  let pos = 0;
  while (pos < body.length) {
    const sp = body.indexOf(0x20, pos);
    const nul = body.indexOf(0, sp + 1);
    if (sp < 0 || nul < 0 || nul + 21 > body.length) throw new Error("malformed tree object in the trail repository");
    const mode = body.toString("ascii", pos, sp);
    const name = body.toString("utf8", sp + 1, nul);
    out.set(name, { mode, oid: body.toString("hex", nul + 1, nul + 21) });
    pos = nul + 21;
  }
  return out;
}

export type BatchObject = { type: string; body: Buffer } | null;

/**
 * `git cat-file --batch` (or `--batch-check`) for many names in one process; null for a missing
 * name. With `check`, body is empty and `size` is reported instead.
 */
export async function catFileBatch(root: string, names: readonly string[]): Promise<BatchObject[]> {
  if (names.length === 0) return [];
  const { stdout } = await git(root, ["cat-file", "--batch"], { input: names.map((n) => `${n}\n`).join("") });
  const out: BatchObject[] = [];
  let pos = 0;
  for (let i = 0; i < names.length; i++) {
    const nl = stdout.indexOf(0x0a, pos);
    if (nl < 0) throw new Error("truncated git cat-file output");
    const header = stdout.toString("utf8", pos, nl);
    if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
      out.push(null);
      pos = nl + 1;
      continue;
    }
    const m = /^([0-9a-f]{40}) (\S+) (\d+)$/.exec(header);
    if (!m) throw new Error(`unexpected git cat-file header ${JSON.stringify(header.slice(0, 100))}`);
    const size = Number(m[3]);
    out.push({ type: m[2]!, body: stdout.subarray(nl + 1, nl + 1 + size) });
    pos = nl + 1 + size + 1;
  }
  return out;
}

/** Object sizes by id (`git cat-file --batch-check`); missing ids are absent from the map. */
export async function catFileSizes(root: string, oids: readonly string[]): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  if (oids.length === 0) return sizes;
  const { stdout } = await git(root, ["cat-file", "--batch-check"], { input: oids.map((n) => `${n}\n`).join("") });
  for (const line of stdout.toString("utf8").split("\n")) {
    const m = /^([0-9a-f]{40}) \S+ (\d+)$/.exec(line);
    if (m) sizes.set(m[1]!, Number(m[2]));
  }
  return sizes;
}

/**
 * Current value of a ref in a files-backend repository: the loose file, else packed-refs; null
 * when the ref does not exist; undefined when the content is not a plain object id (ask git).
 */
export function readRefSync(gitDir: string, ref: string): string | null | undefined {
  try {
    const v = readFileSync(join(gitDir, ref), "utf8").trim();
    return isOid(v) ? v : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  try {
    const line = readFileSync(join(gitDir, "packed-refs"), "utf8")
      .split("\n")
      .find((l) => l.endsWith(` ${ref}`));
    if (!line) return null;
    const v = line.slice(0, 40);
    return isOid(v) ? v : undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    return null;
  }
}

/** A ref lock this old belongs to a process that died while holding it (git holds them for ms). */
const STALE_LOCK_MS = 10_000;

export type CasResult = "ok" | "conflict" | "locked";

/**
 * Compare-and-swap a ref with git's own files-backend protocol, so it interoperates with any
 * git process: create `<ref>.lock` exclusively, compare the current value with `oldOid` (null:
 * must not exist), write the new id, append the reflog line, rename the lock over the ref.
 */
export function casRefSync(gitDir: string, ref: string, newOid: string, oldOid: string | null, reflogMessage: string, ident: string): CasResult {
  const refPath = join(gitDir, ref);
  const lockPath = `${refPath}.lock`;
  let fd: number | undefined;
  try {
    mkdirSync(dirname(refPath), { recursive: true });
    fd = openSync(lockPath, "wx", 0o644);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    try {
      if (Date.now() - statSync(lockPath).mtimeMs > STALE_LOCK_MS) {
        log("warn", `removing stale lock ${lockPath}`);
        rmSync(lockPath, { force: true });
      }
    } catch (e2) {
      if ((e2 as NodeJS.ErrnoException).code !== "ENOENT") throw e2;
    }
    return "locked";
  }
  let renamed = false;
  try {
    const current = readRefSync(gitDir, ref);
    if (current === undefined) throw new Error(`${refPath} does not hold an object id; repair the trail repository`);
    if (current !== oldOid) return "conflict";
    writeSync(fd, `${newOid}\n`);
    closeSync(fd);
    fd = undefined;
    const logPath = join(gitDir, "logs", ref);
    mkdirSync(dirname(logPath), { recursive: true });
    appendFileSync(logPath, `${oldOid ?? ZERO_OID} ${newOid} ${ident}\t${reflogMessage.replace(/[\n\t]/g, " ")}\n`);
    renameSync(lockPath, refPath);
    renamed = true;
    return "ok";
  } finally {
    if (fd !== undefined) closeSync(fd);
    if (!renamed) rmSync(lockPath, { force: true });
  }
}

/**
 * Read a loose object in this process; null when it is not loose (packed by `git gc`, or absent):
 * the caller then asks `git cat-file`. Objects made by other server processes are loose, so
 * following their commits costs no process.
 */
export function readLooseObjectSync(gitDir: string, oid: string): { type: string; body: Buffer } | null {
  let raw: Buffer;
  try {
    raw = inflateSync(readFileSync(join(gitDir, "objects", oid.slice(0, 2), oid.slice(2))));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
  const nul = raw.indexOf(0);
  const m = /^(blob|tree|commit|tag) (\d+)$/.exec(raw.toString("latin1", 0, Math.max(0, nul)));
  if (nul < 0 || !m || Number(m[2]) !== raw.length - nul - 1) throw new Error(`corrupt loose object ${oid} in ${gitDir}`);
  return { type: m[1]!, body: raw.subarray(nul + 1) };
}
