/**
 * The machine's own documentation as offline experience (issue 15): each option line of a few
 * installed, read-only commands' `--help` ("-s, --kernel-name  print the kernel name") is a row
 * whose task is the description and whose command is `<cmd> <option>`. Used only when no stored
 * row fits, with a stricter floor; the help is read once per process with argv (no shell).
 */
import { spawnSync } from "node:child_process";

export interface HelpRow {
  /** The option's description, e.g. "print the kernel name". */
  task: string;
  /** e.g. "uname -s". */
  command: string;
  /** The command reads FILE operands (else stdin): a file parameter is appended, none means skip. */
  takesFile: boolean;
}

/** Commands that only read and print; their --help is safe to run. */
const COMMANDS = ["uname", "date", "ls", "wc", "sort", "head", "tail", "cut", "uniq", "nl", "cat", "tac", "df", "du", "id", "nproc", "uptime", "who", "free"];
/** Least task fit for a help row: stricter than FIT_FLOOR, as no help row was ever checked by a run. */
export const HELP_FLOOR = 0.75;

const OPTION = /^\s{1,8}(?:(-[A-Za-z0-9])(?:,\s+--[a-z][\w-]*)?|(--[a-z][\w-]*))\s{2,}(\S.*)$/;

let cache: HelpRow[] | undefined;

/** Parse one command's --help text into rows (options that take no argument only). */
export function parseHelp(command: string, help: string): HelpRow[] {
  const usage = /Usage:\s+\S+\s+(.*)/.exec(help)?.[1] ?? "";
  const takesFile = /FILE/.test(usage);
  const rows: HelpRow[] = [];
  for (const line of help.split("\n")) {
    const m = OPTION.exec(line);
    if (!m) continue;
    const option = m[1] ?? m[2]!;
    const description = m[3]!.trim().replace(/[.,;:]$/, "");
    if (/^(--help|--version)$/.test(option) || /=/.test(line.slice(0, line.indexOf(m[3]!)))) continue;
    if (description.length < 8 || /\b(and exit|instead of|with -[a-z])\b/i.test(description)) continue;
    rows.push({ task: description.toLowerCase(), command: `${command} ${option}`, takesFile });
  }
  return rows;
}

/** The help rows of the installed commands (read once; a missing command gives none). */
export function helpRows(): HelpRow[] {
  if (cache) return cache;
  const rows: HelpRow[] = [];
  for (const command of COMMANDS) {
    const r = spawnSync(command, ["--help"], { encoding: "utf8", timeout: 2000, env: { ...process.env, LC_ALL: "C" }, stdio: ["ignore", "pipe", "ignore"] });
    if (r.status === 0 && r.stdout) rows.push(...parseHelp(command, r.stdout));
  }
  cache = rows;
  return rows;
}
