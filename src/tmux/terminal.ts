/**
 * The terminal service: tmux sessions on our own socket, typed into chunk by chunk and key by
 * key, every keystroke captured and committed to the trail repository, and event-driven waits
 * (idle, text on screen, back at the shell) over each session's control-mode output stream.
 *
 * Each live session has one control client (see control.ts). Keystrokes and captures go through
 * it as tmux commands, so a step costs no process spawn; the same stream records the session as
 * an asciicast file and wakes the waits.
 *
 * One file: the Terminal class; its sessions' control clients, trail and waits are one state its
 * methods share. What stands alone (chunking, keys, shell marks, locks, the control client, the
 * tmux CLI) is already its own file.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { EventEmitter } from "node:events";
import { realpathSync, statSync } from "node:fs";
import { trailsDir } from "../config.js";
import { performance } from "node:perf_hooks";
import { log } from "../log.js";
import { NAME_PATTERN } from "../names.js";
import { castPath, CastRecorder } from "../trail/cast.js";
import { chunkText, quoteTmuxArg } from "./chunk.js";
import { ControlClient } from "./control.js";
import { noSession, TerminalError } from "./errors.js";
import { KEY_HELP, unknownKeys } from "./keys.js";
import { screenTail, tailTruncate, tidyScreen } from "./screen.js";
import { isShell } from "./shell.js";
import type { ShellCommandRecord } from "./shell-command-record.js";
import { shellArgv } from "./shell-integration.js";
import { ShellMarks } from "./shell-marks.js";
import { SessionLocks } from "./session-lock.js";
import { untypeable } from "./typeable.js";
import { TmuxCli } from "./tmux.js";
import { TrailRepo } from "../trail/repo.js";
import { typedRecord } from "./typed-record.js";
import { redactSecrets } from "../storage/redact.js";

export const MAX_SEND_TEXT_CHARS = 4096;
export const MAX_KEYS_PER_CALL = 64;
export const DEFAULT_WIDTH = 120;
export const DEFAULT_HEIGHT = 40;

/** capture_pane's `idle`: a shell in the foreground and no output for this long. */
export const IDLE_QUIET_MS = 300;
/** After a keystroke, once its echo started, how long the output must pause before capturing. */
const ECHO_QUIET_MS = 2;
/** The `refresh-client -B` subscription that reports the foreground command when it changes. */
const COMMAND_SUBSCRIPTION = "xmcp-cmd";

export interface TerminalOptions {
  /** Data directory: trails/ and casts/ live here. */
  home: string;
  /** `tmux -L` socket name. */
  socket: string;
  /** tmux executable (default "tmux" from PATH). */
  tmuxBin?: string;
  /** Config file for our tmux server (default /dev/null). */
  tmuxConfig?: string;
  /**
   * Longest wait for a keystroke's echo before its capture (default 50 ms). Programs that
   * echo (shells, editors) answer in about a millisecond; ones that do not cost this much.
   */
  echoWaitMs?: number;
  /** Longest wait for another caller's lock on a session before "session busy" (default 10 s). */
  lockWaitMs?: number;
}

export interface CreateOptions {
  session: string;
  /** Working directory (default: the session's trail directory, `trails/<session>/`). */
  cwd?: string;
  width?: number;
  height?: number;
}

export interface StepProgress {
  done: number;
  total: number;
}

export interface SendTextResult {
  chunks: string[];
  commits: string[];
  screen_tail: string;
}

export interface SendKeysResult {
  commits: string[];
  screen_tail: string;
}

export interface CaptureResult {
  text: string;
  cursor: { x: number; y: number };
  current_command: string;
  idle: boolean;
  truncated: boolean;
}

export interface WaitOptions {
  /** Give up (TerminalError "timeout") after this long; default 30 s. */
  timeoutMs?: number;
}

interface Evaluation<T> {
  value?: T;
  /** Not yet: evaluate again after this long even if nothing happens. */
  retryInMs?: number;
}

interface LiveEvents {
  output: [];
  command: [];
  /** The shell's OSC 133 marks ended a command or drew a prompt. */
  mark: [];
  exit: [];
}

/** One attached session: its control client, pane, recording and what the stream told us. */
class LiveSession extends EventEmitter<LiveEvents> {
  lastOutputAt = performance.now();
  /** The shell's prompt count (marks.prompts) when our last keystroke was sent. */
  promptsAtKeystroke = 0;
  closed = false;
  recording = false;
  private readonly decoder = new TextDecoder("utf-8");

  constructor(
    readonly name: string,
    readonly client: ControlClient,
    readonly paneId: string,
    readonly cast: CastRecorder,
    readonly marks: ShellMarks,
  ) {
    super();
    this.setMaxListeners(0);
    const onMark = () => this.emit("mark");
    marks.on("mark", onMark);
    client.on("output", (pane, data) => {
      if (pane !== this.paneId) return;
      this.lastOutputAt = performance.now();
      // Decode every chunk (a character can straddle two events), take the shell's marks out,
      // record once the first frame is in.
      const text = marks.feed(this.decoder.decode(data, { stream: true }));
      if (this.recording && text) this.cast.output(text);
      this.emit("output");
    });
    client.on("subscription", (name, pane) => {
      if (name === COMMAND_SUBSCRIPTION && pane === this.paneId) this.emit("command");
    });
    client.once("exit", () => {
      marks.off("mark", onMark);
      this.closed = true;
      this.cast.close();
      this.emit("exit");
    });
  }

  quietForMs(): number {
    return performance.now() - this.lastOutputAt;
  }

  get target(): string {
    return quoteTmuxArg(this.paneId);
  }
}

function assertSession(session: string): void {
  if (!NAME_PATTERN.test(session)) {
    throw new TerminalError("bad-name", `Invalid session name ${JSON.stringify(session.slice(0, 80))}: use 1-64 characters from A-Z a-z 0-9 _ -`);
  }
}

export class Terminal {
  readonly cli: TmuxCli;
  readonly trail: TrailRepo;
  /** The trail repository's root, `<home>/trails`. */
  readonly trailRoot: string;
  private readonly home: string;
  private readonly echoWaitMs: number;
  private readonly sessions = new Map<string, LiveSession>();
  private readonly attaching = new Map<string, Promise<LiveSession>>();
  private readonly locks: SessionLocks;
  /** The sessions whose lock the current async call chain holds (the lock is reentrant). */
  private readonly held = new AsyncLocalStorage<ReadonlySet<string>>();
  /** Per session name, across control-client reattachments: command seqs keep counting. */
  private readonly marks = new Map<string, ShellMarks>();
  private trailReady?: Promise<void>;
  private closed = false;

  constructor(options: TerminalOptions) {
    this.home = options.home;
    this.cli = new TmuxCli({ socket: options.socket, bin: options.tmuxBin, config: options.tmuxConfig });
    this.trailRoot = trailsDir(options.home);
    this.trail = new TrailRepo(this.trailRoot);
    this.echoWaitMs = options.echoWaitMs ?? 50;
    this.locks = new SessionLocks(options.home, options.lockWaitMs);
  }

  // ---- sessions -------------------------------------------------------------------------------

  async createSession(o: CreateOptions): Promise<{ session: string; cwd: string; trail: string }> {
    assertSession(o.session);
    await this.ensureTrail();
    let cwd: string;
    if (o.cwd !== undefined) {
      // Quoted whole: the tool layer cuts any long input in an error to an excerpt (tools/tool.ts).
      const shown = JSON.stringify(o.cwd);
      // A control character would end the line tmux reports the directory on.
      if (/[\x00-\x1f\x7f]/.test(o.cwd)) throw new TerminalError("bad-input", `cwd ${shown} contains a control character: pass a directory whose name has none`);
      if (!isDirectory(o.cwd)) throw new TerminalError("bad-input", `cwd ${shown} is not a directory: pass an existing directory, or leave cwd out to work in the session's trail directory`);
      cwd = realpathSync(o.cwd);
    } else {
      cwd = this.trail.sessionDir(o.session);
    }
    await this.cli.newSession({
      name: o.session,
      cwd,
      width: o.width ?? DEFAULT_WIDTH,
      height: o.height ?? DEFAULT_HEIGHT,
      command: shellArgv(this.home),
    });
    // A stale client (and the command count) of an earlier session with this name must not be reused.
    await this.detach(o.session);
    this.marks.delete(o.session);
    const s = await this.live(o.session, true);
    await this.firstPrompt(s);
    // Report where the shell really is, read back from the pane, not what was asked (tmux falls
    // back to another directory when it cannot use the one given; a ~/.bashrc may cd).
    const [real = ""] = await s.client.command(`display-message -p -t ${s.target} ${quoteTmuxArg("#{pane_current_path}")}`);
    return { session: o.session, cwd: real || cwd, trail: this.trailRoot };
  }

  /**
   * A new shell may take a while to print its prompt; text typed before it is read as typeahead
   * and echoed out of place. So creation returns once the screen shows something and the output
   * has paused (or after a few seconds for a shell whose prompt is empty).
   */
  private async firstPrompt(s: LiveSession): Promise<void> {
    const quietMs = 50;
    await this.watch(s, 5000, "no prompt", async () => {
      if (s.marks.prompts > 0) return { value: true }; // the shell's marks: its prompt is drawn
      const quiet = s.quietForMs();
      if (quiet < quietMs) return { retryInMs: quietMs - quiet };
      return (await this.screen(s)).trim() ? { value: true } : {};
    }).catch((err: unknown) => {
      if (!(err instanceof TerminalError && err.code === "timeout")) throw err;
    });
  }

  async listSessions(): Promise<{ session: string; created: string; commits: number }[]> {
    const sessions = await this.cli.listSessions();
    if (sessions.length > 0) await this.ensureTrail();
    const out = [];
    for (const s of sessions) {
      out.push({ session: s.name, created: s.created.toISOString(), commits: await this.trail.countCommits(s.name) });
    }
    return out;
  }

  /** Whether our tmux server has the session. */
  async hasSession(session: string): Promise<boolean> {
    return this.cli.hasSession(session);
  }

  /** The directory the session's shell is in now, as tmux reads it from the pane. */
  async cwd(session: string): Promise<string> {
    return this.cli.display(session, "#{pane_current_path}");
  }

  /** The seq of the session's last recorded step (0 before the first). */
  async recordedSteps(session: string): Promise<number> {
    return this.trail.countCommits(session);
  }

  /** The `tmux -L` socket of our tmux server, for the command that attaches to a session. */
  get socket(): string {
    return this.cli.socket;
  }

  /** true when the session existed and was killed. Its trail and recording are kept. */
  async killSession(session: string): Promise<boolean> {
    assertSession(session);
    const killed = await this.cli.killSession(session);
    await this.detach(session);
    this.marks.delete(session);
    return killed;
  }

  // ---- typing -------------------------------------------------------------------------------

  /**
   * Type `text` in chunks of at most 16 characters (grapheme clusters), each sent literally,
   * captured and committed; `enter` then presses Enter as its own committed keystroke. A newline
   * inside `text` is typed as the LF byte it is (shells take it as Enter; it still belongs to its
   * chunk's commit).
   */
  async sendText(
    session: string,
    text: string,
    options: { enter?: boolean; secret?: boolean; onStep?: (p: StepProgress) => void | Promise<void> } = {},
  ): Promise<SendTextResult> {
    assertSession(session);
    if (text.length > MAX_SEND_TEXT_CHARS) {
      throw new TerminalError("bad-input", `text is ${text.length} characters; send at most ${MAX_SEND_TEXT_CHARS} per call (split it over several send_text calls)`);
    }
    if (text.length === 0 && !options.enter) {
      throw new TerminalError("bad-input", "text is empty: nothing to type (to press a key alone, use send_keys)");
    }
    const why = untypeable(text);
    if (why) throw new TerminalError("bad-input", why);
    const chunks = chunkText(text);
    // What the trail records: redacted payloads, screens scrubbed of half-typed secrets.
    const record = typedRecord(text, chunks, options.secret ?? false);
    const s = await this.live(session);
    await this.ensureTrail();
    return this.withSessionLock(session, async () => {
      const total = chunks.length + (options.enter ? 1 : 0);
      const commits: string[] = [];
      let screen = "";
      for (const [i, chunk] of chunks.entries()) {
        const step = await this.step(s, "text", record.payloads[i]!, `send-keys -t ${s.target} -l -- ${quoteTmuxArg(chunk)}`, record.scrub(i));
        commits.push(step.sha);
        screen = step.screen;
        await options.onStep?.({ done: commits.length, total });
      }
      if (options.enter) {
        const step = await this.step(s, "key", "Enter", `send-keys -t ${s.target} Enter`);
        commits.push(step.sha);
        screen = step.screen;
        await options.onStep?.({ done: commits.length, total });
      }
      return { chunks: options.secret ? record.payloads : chunks, commits, screen_tail: screenTail(screen) };
    });
  }

  /** Press tmux keys by name, one committed step each. Unknown names are rejected before any is sent. */
  async sendKeys(session: string, keys: readonly string[]): Promise<SendKeysResult> {
    assertSession(session);
    if (keys.length === 0) throw new TerminalError("bad-input", "keys is empty: pass at least one key name, e.g. [\"Enter\"]");
    if (keys.length > MAX_KEYS_PER_CALL) throw new TerminalError("bad-input", `${keys.length} keys in one call; send at most ${MAX_KEYS_PER_CALL}`);
    const unknown = unknownKeys(keys);
    if (unknown.length > 0) {
      throw new TerminalError("bad-key", `Unknown key name${unknown.length > 1 ? "s" : ""} ${unknown.map((k) => JSON.stringify(k.slice(0, 40))).join(", ")}; nothing was sent. ${KEY_HELP}`);
    }
    const s = await this.live(session);
    await this.ensureTrail();
    return this.withSessionLock(session, async () => {
      const commits: string[] = [];
      let screen = "";
      for (const key of keys) {
        const step = await this.step(s, "key", key, `send-keys -t ${s.target} ${quoteTmuxArg(key)}`);
        commits.push(step.sha);
        screen = step.screen;
      }
      return { commits, screen_tail: screenTail(screen) };
    });
  }

  /** One keystroke: send, let its echo arrive, capture the screen, commit. */
  private async step(s: LiveSession, kind: "text" | "key", payload: string, command: string, scrub: readonly string[] = []): Promise<{ sha: string; screen: string }> {
    s.promptsAtKeystroke = s.marks.prompts;
    const echo = this.echoSettled(s);
    try {
      await s.client.command(command);
      await echo.promise;
    } finally {
      echo.cancel();
    }
    const shown = await this.screen(s);
    const screen = scrub.length > 0 ? redactSecrets(shown, { literals: scrub }).text : shown;
    const commit = await this.trail.commitStep(s.name, kind, payload, screen);
    return { sha: commit.sha, screen };
  }

  /**
   * Resolves once output that started after now has paused for ECHO_QUIET_MS, or after
   * echoWaitMs when nothing comes (a program that does not echo), or when the session ends.
   */
  private echoSettled(s: LiveSession): { promise: Promise<void>; cancel: () => void } {
    let cancel = () => {};
    const promise = new Promise<void>((resolve) => {
      let quiet: NodeJS.Timeout | undefined;
      const hard = setTimeout(done, this.echoWaitMs);
      function onOutput() {
        clearTimeout(quiet);
        quiet = setTimeout(done, ECHO_QUIET_MS);
      }
      function done() {
        clearTimeout(hard);
        clearTimeout(quiet);
        s.off("output", onOutput);
        s.off("exit", done);
        resolve();
      }
      s.on("output", onOutput);
      s.once("exit", done);
      cancel = done;
    });
    return { promise, cancel };
  }

  // ---- looking ------------------------------------------------------------------------------

  /** The screen as text (wrapped lines joined, trailing blanks trimmed), plus `lines` of scrollback. */
  private async screen(s: LiveSession, lines = 0): Promise<string> {
    const scroll = lines > 0 ? ` -S ${-Math.floor(lines)}` : "";
    return tidyScreen(await s.client.command(`capture-pane -p -J -t ${s.target}${scroll}`));
  }

  private async paneInfo(s: LiveSession): Promise<{ x: number; y: number; command: string }> {
    const [line = ""] = await s.client.command(`display-message -p -t ${s.target} ${quoteTmuxArg("#{cursor_x}\t#{cursor_y}\t#{pane_current_command}")}`);
    const [x = "0", y = "0", command = ""] = line.split("\t");
    return { x: Number(x), y: Number(y), command };
  }

  async capture(session: string, options: { lines?: number; maxChars?: number } = {}): Promise<CaptureResult> {
    assertSession(session);
    const s = await this.live(session);
    const [info, screen] = await Promise.all([this.paneInfo(s), this.screen(s, options.lines ?? 0)]);
    const { text, truncated } = tailTruncate(screen, options.maxChars ?? 20_000);
    return {
      text,
      cursor: { x: info.x, y: info.y },
      current_command: info.command,
      idle: isShell(info.command) && s.quietForMs() >= IDLE_QUIET_MS,
      truncated,
    };
  }

  /** The pane's foreground command (`#{pane_current_command}`), e.g. "bash" or "vim". */
  async currentCommand(session: string): Promise<string> {
    assertSession(session);
    return (await this.paneInfo(await this.live(session))).command;
  }

  // ---- waiting ------------------------------------------------------------------------------

  /** Resolves once the pane has written nothing for `quietMs` (default 500). */
  async waitForIdle(session: string, options: WaitOptions & { quietMs?: number } = {}): Promise<{ quiet_ms: number }> {
    const quietMs = options.quietMs ?? 500;
    const s = await this.live(session);
    return this.watch(s, options.timeoutMs, `output did not pause for ${quietMs} ms`, () => {
      const quiet = s.quietForMs();
      return quiet >= quietMs ? { value: { quiet_ms: Math.round(quiet) } } : { retryInMs: quietMs - quiet };
    });
  }

  /**
   * Resolves once `pattern` matches the screen (plus `lines` of scrollback). A string is
   * matched literally. Checked now and again after each burst of output.
   */
  async waitForText(
    session: string,
    pattern: RegExp | string,
    options: WaitOptions & { lines?: number } = {},
  ): Promise<{ match: string; text: string }> {
    const s = await this.live(session);
    const test = (text: string): string | undefined => {
      if (typeof pattern === "string") return text.includes(pattern) ? pattern : undefined;
      pattern.lastIndex = 0;
      return pattern.exec(text)?.[0];
    };
    return this.watch(s, options.timeoutMs, `${String(pattern)} did not appear`, async () => {
      const text = await this.screen(s, options.lines ?? 0);
      const match = test(text);
      return match === undefined ? {} : { value: { match, text } };
    });
  }

  /**
   * Resolves once the shell is back at its prompt. With shell marks, that is the moment a prompt
   * is drawn after our last keystroke with no command running. Otherwise (or meanwhile, for a
   * nested shell or a builtin that reads input) once the foreground process is a shell and the
   * output has paused for `quietMs` (default 150: the prompt is drawn, and a command that was
   * just typed has had time to start, so "still at the shell" is not mistaken for "done").
   */
  async waitForShell(session: string, options: WaitOptions & { quietMs?: number } = {}): Promise<{ command: string; by: "marks" | "quiet" }> {
    const quietMs = options.quietMs ?? 150;
    const s = await this.live(session);
    let last = "";
    return this.watch<{ command: string; by: "marks" | "quiet" }>(s, options.timeoutMs, () => `still running ${last || "a command"}`, async () => {
      if (s.marks.active && !s.marks.running && s.marks.prompts > s.promptsAtKeystroke) return { value: { command: "bash", by: "marks" as const } };
      const quiet = s.quietForMs();
      if (quiet < quietMs) return { retryInMs: quietMs - quiet };
      last = (await this.paneInfo(s)).command;
      return isShell(last) ? { value: { command: last, by: "quiet" as const } } : {};
    });
  }

  // ---- shell marks (OSC 133, see shell-marks.ts) -----------------------------------------------

  /**
   * Highest command seq started so far in this session (0 if none, or if its shell prints no marks).
   * Seqs count the commands this process has seen start, from its first call on the session.
   */
  lastCommandSeq(session: string): number {
    return this.marks.get(session)?.lastSeq ?? 0;
  }

  /**
   * Whether this session's shell prints marks (else callers fall back to quiet-based waits): known
   * once this process has attached to the session (any call on it, e.g. capture). A shell replaced
   * by `exec` keeps the answer it had.
   */
  hasShellMarks(session: string): boolean {
    return this.marks.get(session)?.active ?? false;
  }

  /**
   * The first command with seq > afterSeq that has ended; null when timeoutMs passes first
   * (still running or never started). Rejects with the no-session error if the session ends.
   */
  async waitForCommandEnd(session: string, afterSeq: number, options: { timeoutMs: number }): Promise<ShellCommandRecord | null> {
    const s = await this.live(session);
    return this.watch(s, options.timeoutMs, "", () => {
      const record = s.marks.endedAfter(afterSeq);
      return record ? { value: record } : {};
    }).catch((err: unknown) => {
      if (err instanceof TerminalError && err.code === "timeout") return null;
      throw err;
    });
  }

  /**
   * Resolves once the foreground command is `name` (or satisfies it), e.g. "vim" after typing
   * `vim file` + Enter. Checked now, after output and when tmux reports a command change.
   */
  async waitForCommand(session: string, name: string | ((command: string) => boolean), options: WaitOptions = {}): Promise<{ command: string }> {
    const s = await this.live(session);
    const wanted = typeof name === "string" ? (c: string) => c === name : name;
    let last = "";
    return this.watch(s, options.timeoutMs, () => `the foreground command is still ${last || "unknown"}`, async () => {
      last = (await this.paneInfo(s)).command;
      return wanted(last) ? { value: { command: last } } : {};
    });
  }

  /**
   * Evaluate `check` now and after every output burst or foreground-command change until it
   * yields a value; no polling loop: between events only a timer asked for by `check` runs.
   */
  private watch<T>(
    s: LiveSession,
    timeoutMs: number | undefined,
    failure: string | (() => string),
    check: () => Evaluation<T> | Promise<Evaluation<T>>,
  ): Promise<T> {
    const limit = timeoutMs ?? 30_000;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let running = false;
      let again = false;
      let retry: NodeJS.Timeout | undefined;
      const cleanup = () => {
        settled = true;
        clearTimeout(deadline);
        clearTimeout(retry);
        s.off("output", run);
        s.off("command", run);
        s.off("mark", run);
        s.off("exit", onExit);
      };
      const deadline = setTimeout(() => {
        cleanup();
        const why = typeof failure === "string" ? failure : failure();
        reject(new TerminalError("timeout", `Timed out after ${limit} ms waiting on session ${s.name}: ${why}. Look with capture_pane; send_keys C-c interrupts a command.`));
      }, limit);
      const onExit = () => {
        cleanup();
        reject(noSession(s.name));
      };
      async function run(): Promise<void> {
        if (settled) return;
        if (running) {
          again = true;
          return;
        }
        running = true;
        try {
          do {
            again = false;
            clearTimeout(retry);
            const r = await check();
            if (settled) return;
            if (r.value !== undefined) {
              cleanup();
              resolve(r.value);
              return;
            }
            if (r.retryInMs !== undefined) retry = setTimeout(() => void run(), Math.ceil(r.retryInMs) + 1);
          } while (again && !settled);
        } catch (err) {
          if (!settled) {
            cleanup();
            reject(err);
          }
        } finally {
          running = false;
        }
      }
      s.on("output", run);
      s.on("command", run);
      s.on("mark", run);
      s.once("exit", onExit);
      if (s.closed) onExit();
      else void run();
    });
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  /** Detach every control client (sessions keep running in tmux). */
  async close(): Promise<void> {
    this.closed = true;
    const live = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(live.map((s) => this.closeLive(s)));
  }

  private async detach(session: string): Promise<void> {
    const s = this.sessions.get(session);
    if (!s) return;
    this.sessions.delete(session);
    await this.closeLive(s);
  }

  private async closeLive(s: LiveSession): Promise<void> {
    await s.client.close();
    s.cast.close();
  }

  /** The attached session, attaching a control client on first use (or after the last one ended). */
  private async live(session: string, freshCast = false): Promise<LiveSession> {
    assertSession(session);
    if (this.closed) throw new TerminalError("tmux-failed", "the terminal service is closed");
    const existing = this.sessions.get(session);
    if (existing && !existing.closed) return existing;
    let pending = this.attaching.get(session);
    if (!pending) {
      pending = this.attach(session, freshCast).finally(() => this.attaching.delete(session));
      this.attaching.set(session, pending);
    }
    return pending;
  }

  private async attach(session: string, freshCast: boolean): Promise<LiveSession> {
    const client = await ControlClient.attach(this.cli, session);
    try {
      const [info = ""] = await client.command(
        `display-message -p -t ${quoteTmuxArg(`=${session}:`)} ${quoteTmuxArg("#{pane_id}\t#{pane_width}\t#{pane_height}\t#{pane_start_command}")}`,
      );
      const [paneId = "", width = "80", height = "24", ...start] = info.split("\t");
      if (!/^%\d+$/.test(paneId)) throw new TerminalError("tmux-failed", `tmux gave no pane for session ${session}`);
      const cast = new CastRecorder(castPath(this.home, session), { width: Number(width), height: Number(height), title: session }, freshCast);
      let marks = this.marks.get(session);
      if (!marks) this.marks.set(session, (marks = new ShellMarks()));
      // Started with our rcfile: marks are coming, even if its first prompt was drawn before we attached.
      marks.integrated = /--rcfile\b.*\bshell\/bashrc\b/.test(start.join("\t"));
      const s = new LiveSession(session, client, paneId, cast, marks);
      // Tell us when the foreground command changes, even if it prints nothing (tmux >= 3.2).
      await client
        .command(`refresh-client -B ${quoteTmuxArg(`${COMMAND_SUBSCRIPTION}:${paneId}:#{pane_current_command}`)}`)
        .catch((err: unknown) => log("debug", "no tmux format subscriptions; waits rely on output events", err));
      // The recording starts with the screen as it is now; the stream continues from there.
      const [first, cursor] = await Promise.all([
        client.command(`capture-pane -p -e -t ${quoteTmuxArg(paneId)}`),
        this.paneInfo(s),
      ]);
      cast.output(`\x1b[H\x1b[2J${first.join("\r\n")}\x1b[${cursor.y + 1};${cursor.x + 1}H`);
      s.recording = true;
      s.once("exit", () => {
        if (this.sessions.get(session) === s) this.sessions.delete(session);
      });
      if (client.alive) this.sessions.set(session, s);
      return s;
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** Init the trail repository once per process; a failed attempt is retried on the next call. */
  private ensureTrail(): Promise<void> {
    if (this.trailReady) return this.trailReady;
    const ready = this.trail.ensure();
    this.trailReady = ready;
    ready.catch(() => {
      if (this.trailReady === ready) this.trailReady = undefined;
    });
    return ready;
  }

  /**
   * Run `fn` holding the session's lock, shared with every process on this data directory: no
   * other caller types into the session meanwhile. Reentrant: calls made inside `fn` (sendText,
   * sendKeys, a nested withSessionLock) go straight through. Another holder is waited for up to
   * lockWaitMs, then this rejects with a TerminalError "busy".
   */
  async withSessionLock<T>(session: string, fn: () => Promise<T>): Promise<T> {
    assertSession(session);
    const held = this.held.getStore();
    if (held?.has(session)) return fn();
    const release = await this.locks.acquire(session);
    try {
      return await this.held.run(new Set([...(held ?? []), session]), fn);
    } finally {
      release();
    }
  }

}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
