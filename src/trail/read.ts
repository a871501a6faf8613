/**
 * Reading the trail, for what learns from it (harvest) and measures it (validators): the main
 * branch's tip, the sessions, a session's step commits and the screens captured after them. How the
 * trail is stored (the main ref, the captures directory, commit subjects, the timestamp trailer, git
 * object plumbing) stays inside src/trail/; repo.ts writes it, this file reads it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { NAME_PATTERN } from "../names.js";
import { catFileBatch, git, isOid, trailGitDir } from "./git.js";
import { CAPTURES_DIR, capturePath, MAIN_REF, TIMESTAMP_TRAILER, type StepKind } from "./repo.js";

export { isOid, TRAIL_GIT_DIR, trailGitDir } from "./git.js";
export type { StepKind } from "./repo.js";

/** One step commit: `<session>: <seq> <text|key> <payload>` (repo.ts's commitSubject). */
export interface TrailCommit {
  oid: string;
  seq: number;
  kind: StepKind;
  payload: string;
  timestampMs: number;
}

/** The commit the trail's main branch is at; null without a repository or a commit. */
export async function trailTip(root: string): Promise<string | null> {
  if (!existsSync(join(trailGitDir(root), "HEAD"))) return null;
  const r = await git(root, ["rev-parse", "--verify", "-q", `${MAIN_REF}^{commit}`], { okCodes: [1] });
  return r.code === 0 ? r.stdout.toString("utf8").trim() : null;
}

/** The sessions with captures at `tip`, by name. */
export async function trailSessions(root: string, tip: string): Promise<string[]> {
  const r = await git(root, ["ls-tree", "-z", "--name-only", `${tip}:${CAPTURES_DIR}`], { okCodes: [128] });
  if (r.code !== 0) return [];
  return r.stdout
    .toString("utf8")
    .split("\0")
    .filter((n) => NAME_PATTERN.test(n))
    .sort();
}

/** The session's commits reachable from `tip` and not from `from`, oldest first. */
export async function readSessionCommits(root: string, tip: string, session: string, from = ""): Promise<TrailCommit[]> {
  const args = [
    "log",
    "--first-parent",
    "--reverse",
    "--no-color",
    `--format=%x1e%H%x00%at%x00%s%x00%(trailers:key=${TIMESTAMP_TRAILER},valueonly,separator=%x2C)`,
    tip,
    ...(from ? [`^${from}`] : []),
    "--",
    `${CAPTURES_DIR}/${session}`,
  ];
  const out = (await git(root, args)).stdout.toString("utf8");
  const prefix = `${session}: `;
  const commits: TrailCommit[] = [];
  for (const record of out.split("\x1e")) {
    const [oid = "", at = "0", subject = "", trailer = ""] = record.split("\0");
    if (!isOid(oid) || !subject.startsWith(prefix)) continue;
    // `<session>: <seq> <text|key> <payload as JSON>` (commitSubject)
    const m = /^(\d+) (text|key) (.*)$/s.exec(subject.slice(prefix.length));
    if (!m) continue;
    let payload: unknown;
    try {
      payload = JSON.parse(m[3]!);
    } catch {
      continue;
    }
    if (typeof payload !== "string") continue;
    commits.push({ oid, seq: Number(m[1]), kind: m[2] as StepKind, payload, timestampMs: stepTimeMs(trailer, Number(at)) });
  }
  return commits.sort((a, b) => a.seq - b.seq);
}

/** The screens captured after the steps `seqs` of a session, as of `tip`; a missing one is left out. */
export async function readCaptures(root: string, tip: string, session: string, seqs: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  // The tip's tree holds every capture the session ever had: one batch read, whatever the commits.
  const objects = await catFileBatch(root, seqs.map((s) => `${tip}:${capturePath(session, s)}`));
  seqs.forEach((s, i) => {
    const o = objects[i];
    if (o?.type === "blob") out.set(s, o.body.toString("utf8"));
  });
  return out;
}

/**
 * When a step was taken: the first value of its timestamp trailer (`trailer`, as `git log` prints
 * `%(trailers:key=…,valueonly,separator=%x2C)`), else the author time (seconds) × 1000.
 */
export function stepTimeMs(trailer: string, authorTimeSec: number): number {
  const ms = Number(trailer.split(",")[0]?.trim());
  return trailer.trim() !== "" && Number.isFinite(ms) ? ms : authorTimeSec * 1000;
}
