/**
 * A throwaway PostgreSQL cluster for the sync tests: initdb in a temporary directory, postgres on a
 * random loopback port (127.0.0.1 only, its socket in that directory), stopped and removed by stop().
 * initdb refuses root, so as root the cluster belongs to the postgres user and its programs run
 * through setpriv. The binaries are found on PATH or under /usr/lib/postgresql/N/bin (Debian).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SUPERUSER_PASSWORD = "Sup3r-Secret-pw";

export function pgBinDir(): string | undefined {
  const onPath = spawnSync("sh", ["-c", "command -v pg_ctl"], { encoding: "utf8" }).stdout.trim();
  const candidates = onPath ? [onPath.replace(/\/pg_ctl$/, "")] : [];
  try {
    for (const v of readdirSync("/usr/lib/postgresql").sort((a, b) => Number(b) - Number(a))) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // no Debian packages
  }
  return candidates.find((d) => existsSync(join(d, "initdb")) && existsSync(join(d, "pg_ctl")) && existsSync(join(d, "postgres")));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  port: number;
  /** A URL for user:password on the cluster's postgres database. */
  url(user?: string, password?: string): string;
  stop(): void;
}

export async function startCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error("PostgreSQL (initdb, pg_ctl, postgres) not found on PATH or under /usr/lib/postgresql/*/bin");
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "xmcp-pg-"));
  const asOwner = (cmd: string, args: string[]): void => {
    const [file, argv] = root ? ["setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", join(bin, cmd), ...args]] : [join(bin, cmd), args];
    execFileSync(file as string, argv as string[], { stdio: ["ignore", "pipe", "pipe"] });
  };
  if (root) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
  const pwfile = join(dir, "pw");
  writeFileSync(pwfile, SUPERUSER_PASSWORD);
  if (root) chownSync(pwfile, Number(execFileSync("id", ["-u", "postgres"]).toString()), 0);
  const data = join(dir, "data");
  asOwner("initdb", ["-D", data, "-U", "postgres", "--pwfile", pwfile, "--auth-host=scram-sha-256", "--auth-local=trust", "--no-sync", "-E", "UTF8"]);
  const port = await freePort();
  const opts = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${dir} -c fsync=off -c max_connections=60`;
  asOwner("pg_ctl", ["-D", data, "-o", opts, "-l", join(dir, "log"), "-w", "-t", "60", "start"]);
  let stopped = false;
  return {
    port,
    url: (user = "postgres", password = SUPERUSER_PASSWORD) => `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        asOwner("pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
