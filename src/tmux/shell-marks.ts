/**
 * Reading OSC 133 "semantic prompt" marks (A prompt start, B prompt end, C command start,
 * D;<exit> command end: the marks VS Code, iTerm2 and WezTerm use) out of a pane's output
 * stream. The marks are taken out of the text passed on, so nothing downstream (the asciicast)
 * sees them; tmux itself ignores OSC 133, so its screen and capture-pane never show them.
 */
import { EventEmitter } from "node:events";
import { stripAnsi } from "../registry/normalize.js";
import type { ShellCommandRecord } from "./shell-command-record.js";

/** A command's output is kept up to this many characters (its end: the newest output). */
export const MAX_COMMAND_OUTPUT_CHARS = 64 * 1024;
/** Ended commands remembered per session, for waiters that ask about an older seq. */
const KEPT_RECORDS = 256;

const MARK_START = "\x1b]133;";
/** A whole mark: kind letter, optional ;params, ended by BEL or ST. */
// eslint-disable-next-line no-control-regex
const MARK = /\x1b\]133;([ABCD])((?:;[^\x07\x1b]{0,64})?)(?:\x07|\x1b\\)/g;
/** Longest mark we wait for when one is cut between two output events. */
const MAX_MARK_CHARS = 80;

export class ShellMarks extends EventEmitter<{ mark: [] }> {
  /** true once any mark was seen: the shell has our integration. */
  seen = false;
  /** The pane was started with our rcfile, so marks are coming even if none was seen yet. */
  integrated = false;
  /** Prompts fully drawn so far (B marks, which end PS1): one after each command, and after an empty line. */
  prompts = 0;
  private seq = 0;
  private current?: { record: ShellCommandRecord; raw: string };
  private readonly ended: ShellCommandRecord[] = [];
  private pending = "";

  /** Marks are known to be printed by this session's shell. */
  get active(): boolean {
    return this.seen || this.integrated;
  }

  /** A command has started (C) and not ended (D). */
  get running(): boolean {
    return this.current !== undefined;
  }

  /** Highest seq started so far (0 if none). */
  get lastSeq(): number {
    return this.seq;
  }

  /** The first ended command with seq > afterSeq, if any is remembered. */
  endedAfter(afterSeq: number): ShellCommandRecord | undefined {
    return this.ended.find((r) => r.seq > afterSeq);
  }

  /** Feed decoded output; returns it without the marks (a mark cut in half is held back until it completes). */
  feed(chunk: string): string {
    let text = this.pending + chunk;
    this.pending = "";
    // Hold back a tail that could be the beginning of a mark still arriving.
    const open = markTailStart(text);
    if (open !== -1) {
      this.pending = text.slice(open);
      text = text.slice(0, open);
    }
    if (!text.includes(MARK_START)) {
      this.append(text);
      return text;
    }
    let out = "";
    let last = 0;
    MARK.lastIndex = 0;
    for (let m = MARK.exec(text); m; m = MARK.exec(text)) {
      const before = text.slice(last, m.index);
      this.append(before);
      out += before;
      last = MARK.lastIndex;
      this.mark(m[1]!, m[2] ?? "");
    }
    const rest = text.slice(last);
    this.append(rest);
    return out + rest;
  }

  private append(text: string): void {
    if (!this.current || !text) return;
    // Raw text is kept a little longer than the limit: stripping ANSI only shortens it.
    this.current.raw = (this.current.raw + text).slice(-2 * MAX_COMMAND_OUTPUT_CHARS);
  }

  private mark(kind: string, params: string): void {
    this.seen = true;
    if (kind === "B") {
      this.prompts++;
      this.emit("mark");
    } else if (kind === "C") {
      // A C without a D before it (the shell was replaced, say) ends the older command unknown.
      if (this.current) this.end(null);
      this.seq++;
      this.current = { record: { seq: this.seq, exitCode: null, output: "", startedAt: Date.now() }, raw: "" };
    } else if (kind === "D" && this.current) {
      const code = /^;(-?\d{1,5})(?:;|$)/.exec(params);
      this.end(code ? Number(code[1]) : null);
    }
  }

  private end(exitCode: number | null): void {
    const { record, raw } = this.current!;
    this.current = undefined;
    record.exitCode = exitCode;
    record.endedAt = Date.now();
    record.output = stripAnsi(raw).slice(-MAX_COMMAND_OUTPUT_CHARS);
    this.ended.push(record);
    if (this.ended.length > KEPT_RECORDS) this.ended.shift();
    this.emit("mark");
  }
}

/** Where an unfinished mark starts at the end of `text` (-1: none), so it can wait for its rest. */
function markTailStart(text: string): number {
  const start = text.lastIndexOf(MARK_START);
  if (start !== -1 && text.length - start < MAX_MARK_CHARS) {
    // Nothing but the mark's own characters so far, and no terminator (ESC may begin ST).
    if (/^[ABCD]?(?:;[^\x07\x1b]*)?\x1b?$/.test(text.slice(start + MARK_START.length))) return start;
  }
  // A prefix of MARK_START itself at the very end.
  const esc = text.lastIndexOf("\x1b", text.length - 1);
  if (esc !== -1 && text.length - esc < MARK_START.length && MARK_START.startsWith(text.slice(esc))) return esc;
  return -1;
}
