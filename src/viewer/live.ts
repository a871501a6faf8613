/**
 * The live view of a running session: a read-only tmux client attached in a pseudo-terminal
 * (node-pty), its output streamed to the page over a WebSocket. Nothing the page sends is ever
 * written to the pseudo-terminal; the client is read-only besides (tmux ignores its keys) and
 * ignores its own size, so watching never resizes the agent's window.
 */
import { createRequire } from "node:module";
import type { IPty } from "node-pty";
import type { WebSocket } from "ws";
import { paneTarget, sessionTarget, tmuxEnv, type TmuxCli } from "../tmux/tmux.js";

/** Output waiting to go out is dropped past this many bytes (a page that stopped reading). */
const MAX_BUFFERED = 4 * 1024 * 1024;

/**
 * The size the watching terminal takes: the session's window plus its status lines (a terminal
 * one row short would scroll tmux's drawing out of line).
 */
async function windowSize(tmux: TmuxCli, session: string): Promise<{ cols: number; rows: number }> {
  const out = await tmux.run(["display-message", "-p", "-t", paneTarget(session), "#{window_width} #{window_height} #{status}"], session);
  const [width = "80", height = "24", status = "on"] = out.trim().split(" ");
  const statusLines = status === "off" ? 0 : status === "on" ? 1 : Number(status) || 0;
  const cols = Number(width) > 0 ? Number(width) : 80;
  const rows = (Number(height) > 0 ? Number(height) : 24) + statusLines;
  return { cols, rows };
}

/**
 * Attach to `session` read-only and stream it to `socket` until either side ends. The first
 * message is `{"cols","rows"}` (JSON) for the page's terminal; everything after is terminal output.
 */
export async function streamSession(socket: WebSocket, tmux: TmuxCli, session: string): Promise<void> {
  const size = await windowSize(tmux, session);
  // node-pty is a native addon: required only here, when a page asks to watch.
  const pty = createRequire(import.meta.url)("node-pty") as typeof import("node-pty");
  // argv, never a shell string; `-f ignore-size` keeps the window the size the agent sees.
  const term: IPty = pty.spawn(tmux.bin, tmux.argv(["attach-session", "-r", "-f", "ignore-size", "-t", sessionTarget(session)]), {
    name: "xterm-256color",
    cols: size.cols,
    rows: size.rows,
    cwd: "/",
    env: { ...tmuxEnv(), TERM: "xterm-256color" } as Record<string, string>,
  });
  socket.send(JSON.stringify(size));
  term.onData((data) => {
    if (socket.readyState === socket.OPEN && socket.bufferedAmount < MAX_BUFFERED) socket.send(data);
  });
  term.onExit(() => socket.close(1000, "session ended"));
  socket.on("message", () => {
    // Read-only: input from the page is never written to the terminal.
  });
  socket.on("close", () => term.kill());
}
