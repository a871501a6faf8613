/**
 * The viewer as people use it, for the browser test and the viewer bench: the real built CLI's
 * `ui` command, and Debian's Chromium driven headless by playwright-core.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { CLI, serverEnv } from "./spawn.js";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

export interface RunningViewer {
  url: string;
  origin: string;
  port: number;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `experience-mcp ui` on `home`, resolved once it printed its address. */
export function startViewerProcess(home: string): Promise<RunningViewer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, "ui"], { env: serverEnv(home), stdio: ["ignore", "pipe", "pipe"] });
    // However the test or bench ends (a failure included), the viewer does not outlive it.
    const orphan = () => child.kill("SIGKILL");
    process.once("exit", orphan);
    child.once("exit", () => process.removeListener("exit", orphan));
    let out = "";
    let err = "";
    const timer = setTimeout(() => reject(new Error(`the viewer printed no address in 15 s: ${out} ${err}`)), 15_000);
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:(\d+))\/\?token=([A-Za-z0-9_-]+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      resolve({
        url: m[0],
        origin: m[1]!,
        port: Number(m[2]),
        token: m[3]!,
        child,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once("exit", () => done());
            child.kill("SIGTERM");
          }),
      });
    });
    child.on("exit", (code) => reject(new Error(`the viewer exited with ${code}: ${err}`)));
  });
}

/**
 * Chromium headless in a new, empty profile. Fails, never skips, without the browser: CI installs
 * it (.ci/run), and a missing browser must not pass as a green run.
 */
export async function launchChromium(): Promise<{ browser: Browser; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is not installed at ${CHROMIUM}: install it (apt-get install chromium) or set CHROMIUM_PATH; the viewer is tested in a real browser`);
  // launch() gives the browser a new, empty profile directory of its own, removed on close.
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    // --no-sandbox: Chromium refuses to run as root with its sandbox (CI runs as root).
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}
