/**
 * A tmux control-mode client (`tmux -L sock -C attach-session -t =S`): one long-lived process
 * per session that streams the pane's output as `%output %<pane> <octal-escaped bytes>` events
 * and runs our commands without spawning a process each (replies come in %begin … %end blocks,
 * in the order the commands were written).
 *
 * Hosted on plain pipes rather than node-pty: tmux's control mode reads and writes pipes just
 * as well, a pipe adds no tty echo or CRLF translation to parse around, and, unlike node-pty
 * 1.1 (whose exit watcher is a ref'd thread-safe function that JS cannot unref), a piped child
 * can be unref'd, so an idle client never keeps node's event loop alive on its own.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { EventEmitter } from "node:events";
import { log } from "../log.js";
import { noSession, TerminalError, TMUX_MISSING_MESSAGE } from "./errors.js";
import { sessionTarget, tmuxEnv, type TmuxCli } from "./tmux.js";

/** Longest a single control command may take before we give up on it. */
const COMMAND_TIMEOUT_MS = 30_000;

interface Pending {
  resolve(lines: string[]): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

interface Block {
  endLine: string;
  errorLine: string;
  lines: string[];
  /** The attach command's own reply (the first block), not one of ours. */
  attach: boolean;
  /** flags 0: output of a command we did not write (a hook, say): no pending entry is waiting for it. */
  foreign: boolean;
}

export interface ControlClientEvents {
  /** Raw bytes a pane wrote, already unescaped. */
  output: [paneId: string, data: Buffer];
  /** A `refresh-client -B` subscription's value changed. */
  subscription: [name: string, paneId: string, value: string];
  /** The client ended (session killed, server gone, or close()). */
  exit: [];
}

/** Undo tmux's control-mode escaping: bytes < 0x20 and `\` are written as `\ooo`. */
export function unescapeOutput(data: Buffer): Buffer {
  if (!data.includes(0x5c)) return data;
  const out = Buffer.allocUnsafe(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x5c && i + 3 < data.length && isOctal(data[i + 1]) && isOctal(data[i + 2]) && isOctal(data[i + 3])) {
      out[n++] = ((data[i + 1]! - 0x30) << 6) | ((data[i + 2]! - 0x30) << 3) | (data[i + 3]! - 0x30);
      i += 3;
    } else {
      out[n++] = b;
    }
  }
  return out.subarray(0, n);
}

function isOctal(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x37;
}

/** Let a handle stop keeping the event loop alive (pipes are net.Sockets underneath). */
function unref(handle: unknown): void {
  const h = handle as { unref?: () => void } | null;
  if (h && typeof h.unref === "function") h.unref();
}

const OUTPUT_PREFIX = Buffer.from("%output ");

export class ControlClient extends EventEmitter<ControlClientEvents> {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly pending: Pending[] = [];
  private block?: Block;
  private carry: Buffer = Buffer.alloc(0);
  private exited = false;
  private attachDone = false;
  private readonly attached: Promise<void>;
  private readonly exitedPromise: Promise<void>;
  private stderr = "";

  private constructor(
    readonly session: string,
    cli: TmuxCli,
  ) {
    super();
    this.child = spawn(cli.bin, cli.argv(["-C", "attach-session", "-t", sessionTarget(session)]), {
      env: tmuxEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    // The attach command's reply is the first block; our commands are written only after it.
    this.attached = new Promise<void>((resolve, reject) => {
      this.pending.push({ resolve: () => resolve(), reject, timer: this.timer(reject) });
    });
    this.exitedPromise = new Promise<void>((resolve) => this.child.once("close", () => resolve()));
    this.child.stdout.on("data", (chunk: Buffer) => this.onData(chunk));
    this.child.stderr.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-2000);
    });
    this.child.stdin.on("error", () => {}); // EPIPE after the client died: reported via "exit"
    this.child.on("error", (err: Error & { code?: unknown }) => {
      const mapped = err.code === "ENOENT" ? new TerminalError("tmux-missing", TMUX_MISSING_MESSAGE) : err;
      this.finish(mapped);
    });
    this.child.on("exit", () => this.finish());
    unref(this.child);
    unref(this.child.stdout);
    unref(this.child.stderr);
    unref(this.child.stdin);
  }

  /** Start a client attached to `session`; rejects with the no-session error if there is none. */
  static async attach(cli: TmuxCli, session: string): Promise<ControlClient> {
    const client = new ControlClient(session, cli);
    try {
      await client.attached;
    } catch (err) {
      client.kill();
      throw err;
    }
    return client;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * Run one tmux command line (already quoted: see quoteTmuxArg) and return its output lines.
   * A ref'd timer runs while the command is pending, so an awaiting caller keeps node alive.
   */
  command(line: string): Promise<string[]> {
    if (this.exited) return Promise.reject(noSession(this.session));
    if (line.includes("\n")) return Promise.reject(new Error("control command must be one line"));
    return new Promise<string[]>((resolve, reject) => {
      this.pending.push({ resolve, reject, timer: this.timer(reject) });
      this.child.stdin.write(`${line}\n`);
    });
  }

  /** Detach (tmux exits on end of input); kill if it lingers. Resolves once the process is gone. */
  close(): Promise<void> {
    if (!this.exited) {
      this.child.stdin.end();
      const timer = setTimeout(() => this.kill(), 2000);
      void this.exitedPromise.then(() => clearTimeout(timer));
    }
    return this.exitedPromise;
  }

  private kill(): void {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
  }

  private timer(reject: (err: Error) => void): NodeJS.Timeout {
    return setTimeout(() => {
      reject(new TerminalError("timeout", `tmux did not answer within ${COMMAND_TIMEOUT_MS} ms (session ${this.session})`));
      this.kill(); // replies would now be matched to the wrong commands
    }, COMMAND_TIMEOUT_MS);
  }

  private finish(err?: Error): void {
    if (this.exited) return;
    this.exited = true;
    const reason =
      err ??
      (this.attachDone || !this.stderr.trim() ? noSession(this.session) : new TerminalError("tmux-failed", `tmux failed: ${this.stderr.trim()}`));
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(reason);
    }
    this.emit("exit");
  }

  private onData(chunk: Buffer): void {
    let data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let nl: number;
    while ((nl = data.indexOf(0x0a)) !== -1) {
      this.onLine(data.subarray(0, nl));
      data = data.subarray(nl + 1);
    }
    this.carry = Buffer.from(data);
  }

  private onLine(line: Buffer): void {
    if (this.block) {
      const text = line.toString("utf8");
      if (text === this.block.endLine || text === this.block.errorLine) {
        const block = this.block;
        this.block = undefined;
        this.settle(block, text === block.errorLine);
      } else {
        this.block.lines.push(text);
      }
      return;
    }
    if (line.subarray(0, OUTPUT_PREFIX.length).equals(OUTPUT_PREFIX)) {
      const space = line.indexOf(0x20, OUTPUT_PREFIX.length);
      if (space === -1) return;
      const paneId = line.subarray(OUTPUT_PREFIX.length, space).toString("latin1");
      this.emit("output", paneId, unescapeOutput(line.subarray(space + 1)));
      return;
    }
    const text = line.toString("utf8");
    if (text.startsWith("%begin ")) {
      // "%begin <time> <number> <flags>": the reply ends with "%end" or "%error" and the same fields.
      const fields = text.slice("%begin ".length);
      const attach = !this.attachDone;
      const foreign = !attach && fields.endsWith(" 0");
      this.block = { endLine: `%end ${fields}`, errorLine: `%error ${fields}`, lines: [], attach, foreign };
      return;
    }
    if (text.startsWith("%subscription-changed ")) {
      // "%subscription-changed <name> $s @w <index> %p : <value>"
      const m = /^%subscription-changed (\S+) \S+ \S+ \S+ (\S+) : (.*)$/.exec(text);
      if (m) this.emit("subscription", m[1]!, m[2]!, m[3]!);
      return;
    }
    if (text === "%exit" || text.startsWith("%exit ")) {
      log("debug", `control client for ${this.session} got ${text}`);
    }
  }

  private settle(block: Block, failed: boolean): void {
    if (block.foreign) return;
    const p = this.pending.shift();
    if (block.attach) this.attachDone = true;
    if (!p) return;
    clearTimeout(p.timer);
    if (!failed) return p.resolve(block.lines);
    const message = block.lines.join("\n").trim() || "tmux command failed";
    if (/can't find (session|pane|window)|no sessions/i.test(message)) p.reject(noSession(this.session));
    else p.reject(new TerminalError("tmux-failed", `tmux failed: ${message}`));
  }
}
