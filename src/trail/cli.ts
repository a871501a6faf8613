/**
 * `experience-mcp trail …`: read a session's record from the command line.
 *   trail cast SESSION [--home DIR]      the asciicast v2 recording, on stdout (> out.cast)
 *   trail validate SESSION [--home DIR]  the trail validators' metrics, one JSON line
 */
import { createReadStream, existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { loadConfig, trailsDir } from "../config.js";
import { NAME_PATTERN } from "../names.js";
import { castPath } from "./cast.js";

export const TRAIL_USAGE = `usage:
  experience-mcp trail cast SESSION [--home DIR]       write the session's asciicast v2 recording to stdout
  experience-mcp trail validate SESSION [--home DIR]   print the trail metrics of SESSION as JSON
`;

export async function trailCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { home: { type: "string" } }, allowPositionals: true, strict: true });
  const [action, session, ...rest] = positionals;
  if (!action || !session || rest.length > 0 || (action !== "cast" && action !== "validate")) {
    process.stderr.write(TRAIL_USAGE);
    return 2;
  }
  if (!NAME_PATTERN.test(session)) throw new Error(`invalid session name ${JSON.stringify(session.slice(0, 80))}: use 1-64 characters from A-Z a-z 0-9 _ -`);
  const home = loadConfig({ home: values.home }).home;
  if (action === "validate") {
    // Loaded here so `trail cast` works without the validators' dependencies.
    const { validateTrail } = await import("./validators.js");
    const metrics = await validateTrail(trailsDir(home), session);
    process.stdout.write(`${JSON.stringify({ session, ...metrics })}\n`);
    return 0;
  }
  const path = castPath(home, session);
  if (!existsSync(path)) {
    throw new Error(`no recording for session ${session} in ${home}: a session is recorded while experience-mcp drives it (tmux_session action=create)`);
  }
  // Streamed: a long session's recording need not fit in memory; stdout's back-pressure is respected.
  await new Promise<void>((resolve, reject) => {
    const input = createReadStream(path);
    input.on("error", reject);
    process.stdout.on("error", reject);
    input.pipe(process.stdout, { end: false });
    input.on("end", () => resolve());
  });
  return 0;
}
