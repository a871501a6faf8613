/**
 * One-shot tmux commands, run as argv (execFile: no shell ever parses our arguments) against
 * our own tmux server (`tmux -L <socket>`), so the user's sessions are never touched.
 * tmux's failures are mapped to TerminalError messages that say what to do.
 */
import { execFile } from "node:child_process";
import { rm } from "node:fs/promises";
import { escapeTrailingSemicolon } from "./chunk.js";
import { noSession, TerminalError, TMUX_MISSING_MESSAGE } from "./errors.js";

export interface TmuxCliOptions {
  /** `tmux -L` socket name. */
  socket: string;
  /** tmux executable: a name looked up in PATH or a path (default "tmux"). */
  bin?: string;
  /**
   * Config file our tmux server starts with (default /dev/null: the user's ~/.tmux.conf could
   * rebind keys, add hooks or change the shell, and the harness needs the same terminal everywhere).
   */
  config?: string;
}

export interface NewSessionOptions {
  name: string;
  cwd: string;
  width: number;
  height: number;
  /** Program and arguments the pane runs (default: tmux's default shell). Never format-expanded. */
  command?: readonly string[];
}

export interface SessionInfo {
  name: string;
  /** When tmux created the session. */
  created: Date;
}

/**
 * tmux 3.3a format-expands some arguments (new-session's -c directory among them): `#(cmd)` would
 * run a command and `#{…}` or `#W` be replaced. Doubling every `#` makes tmux read the text literally.
 */
export function literalFormat(text: string): string {
  return text.replace(/#/g, "##");
}

/** Exact-match session target: plain `-t name` would also match a session called "name2". */
export function sessionTarget(session: string): string {
  return `=${session}`;
}

/** The active pane of a session's current window, exact-matched. */
export function paneTarget(session: string): string {
  return `=${session}:`;
}

const NO_SESSION = /can't find (session|pane|window)|session not found|no current (session|target)/i;
const NO_SERVER = /no server running|error connecting to|server exited unexpectedly/i;

/** The environment tmux runs with: without $TMUX, so running inside the user's tmux is fine. */
export function tmuxEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.TMUX;
  delete env.TMUX_PANE;
  return env;
}

export class TmuxCli {
  readonly socket: string;
  readonly bin: string;
  readonly config: string;

  constructor(options: TmuxCliOptions) {
    this.socket = options.socket;
    this.bin = options.bin ?? "tmux";
    this.config = options.config ?? "/dev/null";
  }

  /** Argv for a tmux invocation on our socket (-f only matters when it starts the server). */
  argv(args: readonly string[]): string[] {
    return ["-f", this.config, "-L", this.socket, ...args];
  }

  /**
   * Run `tmux -L socket ...args` and return its stdout. `session` names the session the
   * command is about, so "can't find session" becomes the no-session error for it.
   */
  run(args: readonly string[], session?: string): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.bin,
        this.argv(args),
        { env: tmuxEnv(), maxBuffer: 64 * 1024 * 1024, timeout: 30_000, encoding: "utf8" },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          reject(this.mapError(err, stderr, session));
        },
      );
    });
  }

  mapError(err: Error & { code?: unknown }, stderr: string, session?: string): Error {
    if (err.code === "ENOENT") return new TerminalError("tmux-missing", TMUX_MISSING_MESSAGE);
    const message = stderr.trim() || err.message;
    if (/duplicate session/i.test(message) && session !== undefined) {
      return new TerminalError("session-exists", `session ${session} already exists: use it, or end it with tmux_session action=kill`);
    }
    if (session !== undefined && (NO_SESSION.test(message) || NO_SERVER.test(message))) return noSession(session);
    return new TerminalError("tmux-failed", `tmux failed: ${message}`);
  }

  async hasSession(name: string): Promise<boolean> {
    try {
      await this.run(["has-session", "-t", sessionTarget(name)], name);
      return true;
    } catch (err) {
      if (err instanceof TerminalError && err.code === "no-session") return false;
      throw err;
    }
  }

  async newSession(o: NewSessionOptions): Promise<void> {
    // A directory ending in ";" would otherwise be read as a command separator.
    const cwd = escapeTrailingSemicolon(literalFormat(o.cwd));
    const args = ["new-session", "-d", "-s", o.name, "-c", cwd, "-x", String(o.width), "-y", String(o.height)];
    // Two or more words are exec'd as argv (one word would go through `sh -c`); "--" ends the options.
    if (o.command && o.command.length > 1) args.push("--", ...o.command.map(escapeTrailingSemicolon));
    await this.run(args, o.name);
  }

  async listSessions(): Promise<SessionInfo[]> {
    let out: string;
    try {
      out = await this.run(["list-sessions", "-F", "#{session_name}\t#{session_created}"]);
    } catch (err) {
      // No tmux server on our socket yet simply means no sessions.
      if (err instanceof TerminalError && err.code === "tmux-failed" && (NO_SERVER.test(err.message) || /no sessions/i.test(err.message))) return [];
      throw err;
    }
    return out
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [name = "", created = "0"] = line.split("\t");
        return { name, created: new Date(Number(created) * 1000) };
      });
  }

  /** true when a session was killed, false when there was none of that name. */
  async killSession(name: string): Promise<boolean> {
    try {
      await this.run(["kill-session", "-t", sessionTarget(name)], name);
      return true;
    } catch (err) {
      if (err instanceof TerminalError && err.code === "no-session") return false;
      throw err;
    }
  }

  /** Stop our whole tmux server and remove its socket file (tests, cleanup). No server is not an error. */
  async killServer(): Promise<void> {
    let socketPath = "";
    try {
      socketPath = (await this.run(["display-message", "-p", "#{socket_path}"])).trim();
      await this.run(["kill-server"]);
    } catch (err) {
      if (err instanceof TerminalError && err.code === "tmux-missing") throw err;
    }
    // tmux 3.3a leaves the socket file behind after kill-server.
    if (socketPath) await rm(socketPath, { force: true }).catch(() => undefined);
  }

  /**
   * Type `text` literally (argv form). The control channel is the fast path; this one needs no
   * attached client. A trailing `;` is escaped because tmux would take it as a separator.
   */
  async sendLiteral(session: string, text: string): Promise<void> {
    await this.run(["send-keys", "-t", paneTarget(session), "-l", "--", escapeTrailingSemicolon(text)], session);
  }

  /** Press one (already validated) key by its tmux name. */
  async sendKey(session: string, key: string): Promise<void> {
    await this.run(["send-keys", "-t", paneTarget(session), escapeTrailingSemicolon(key)], session);
  }

  /** The visible screen (or `lines` of scrollback too) as plain text, wrapped lines joined. */
  async capture(session: string, lines?: number): Promise<string> {
    const args = ["capture-pane", "-p", "-J", "-t", paneTarget(session)];
    if (lines !== undefined && lines > 0) args.push("-S", String(-lines));
    return this.run(args, session);
  }

  async display(session: string, format: string): Promise<string> {
    return (await this.run(["display-message", "-p", "-t", paneTarget(session), format], session)).replace(/\n$/, "");
  }
}
