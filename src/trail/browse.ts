/**
 * A session as people browse it (the `list`/`show` commands and the MCP resources): its steps on the
 * trail, the screen after the last one and its recording. Built on read.ts and cast.ts only.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { trailsDir } from "../config.js";
import { NAME_PATTERN } from "../names.js";
import { castDir, castPath, readCastHeader, type CastHeader } from "./cast.js";
import { readCaptures, readSessionCommits, trailSessions, trailTip, type TrailCommit } from "./read.js";

export interface SessionSummary {
  name: string;
  /** Steps (keystroke commits) on the trail. */
  steps: number;
  /** When the last step was taken, ms; null without steps. */
  last_step_at: number | null;
  /** Size of the asciicast recording in bytes; null without one. */
  cast_bytes: number | null;
}

export interface SessionDetail extends SessionSummary {
  commits: TrailCommit[];
  /** The screen captured after the last step; null without steps. */
  screen: string | null;
  cast: (CastHeader & { path: string }) | null;
}

function castBytes(home: string, name: string): number | null {
  const path = castPath(home, name);
  return existsSync(path) ? statSync(path).size : null;
}

/** Every session with a trail or a recording, by name. */
export async function listSessions(home: string): Promise<SessionSummary[]> {
  const root = trailsDir(home);
  const tip = await trailTip(root);
  const names = new Set(tip ? await trailSessions(root, tip) : []);
  if (existsSync(castDir(home))) {
    for (const f of readdirSync(castDir(home))) {
      const name = f.endsWith(".cast") ? f.slice(0, -5) : "";
      if (NAME_PATTERN.test(name)) names.add(name);
    }
  }
  const out: SessionSummary[] = [];
  for (const name of [...names].sort()) {
    const commits = tip ? await readSessionCommits(root, tip, name) : [];
    out.push({ name, steps: commits.length, last_step_at: commits.at(-1)?.timestampMs ?? null, cast_bytes: castBytes(home, name) });
  }
  return out;
}

/** One session's steps, last screen and recording; undefined when it has neither trail nor recording. */
export async function readSession(home: string, name: string): Promise<SessionDetail | undefined> {
  if (!NAME_PATTERN.test(name)) return undefined;
  const root = trailsDir(home);
  const tip = await trailTip(root);
  const commits = tip ? await readSessionCommits(root, tip, name) : [];
  const last = commits.at(-1);
  const screen = tip && last ? ((await readCaptures(root, tip, name, [last.seq])).get(last.seq) ?? null) : null;
  const header = readCastHeader(castPath(home, name));
  if (commits.length === 0 && !header) return undefined;
  return {
    name,
    steps: commits.length,
    last_step_at: last?.timestampMs ?? null,
    cast_bytes: castBytes(home, name),
    commits,
    screen,
    cast: header ? { ...header, path: castPath(home, name) } : null,
  };
}
