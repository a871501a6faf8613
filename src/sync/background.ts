/**
 * Team sync inside the server process (EXPERIENCE_MCP_HUB and EXPERIENCE_MCP_TEAM set): one hub
 * connection that pushes soon after a local write, and pulls when the team's channel is NOTIFYed,
 * when this process's own poll of the local queue finds ops (written by another process on the
 * same data directory), and every EXPERIENCE_MCP_SYNC_INTERVAL_S as a fallback.
 *
 * Nothing here ever waits on the hub in a tool call: a write only sets a flag and the work runs on
 * its own promise. The hub down: the error is recorded for `sync --status`, the queue keeps
 * growing locally, and connecting again backs off (1 s doubling to 60 s). Several servers on one
 * data directory each run one: a push twice is harmless by design (ops have UUIDs, the hub keeps
 * the first) and applying is idempotent, so they need no lock between them.
 */
import type { Client as PgClient, Notification } from "pg";
import { openDatabase, type Db } from "../storage/db.js";
import { log } from "../log.js";
import { asTeam, hubClient, listenTeam } from "./hub.js";
import { enableSync } from "./local.js";
import { finished, syncFailed, syncOver, type SyncResult } from "./sync.js";

export interface BackgroundOptions {
  url: string;
  team: string;
  /** The fallback pull, in ms. */
  intervalMs: number;
  /** How often the local queue is looked at for ops another process wrote, in ms. */
  localPollMs?: number;
  /** false: no LISTEN, pulls only by interval (the benchmark's baseline). */
  listen?: boolean;
  /** Called after each successful sync with how long it took (the benchmark watches it). */
  onSync?: (result: SyncResult, ms: number) => void;
}

const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;

export class BackgroundSync {
  private client?: PgClient;
  private wanted = false;
  private running?: Promise<void>;
  private stopped = false;
  private failures = 0;
  private retryAt = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private retryTimer?: NodeJS.Timeout;
  private readonly hasUnsent;

  constructor(
    private readonly db: Db,
    private readonly options: BackgroundOptions,
  ) {
    enableSync(db);
    this.hasUnsent = db.prepare("SELECT 1 FROM sync_ops WHERE pushed = 0 LIMIT 1").pluck();
    this.timers.push(setInterval(() => this.kick(), options.intervalMs));
    this.timers.push(setInterval(() => this.hasUnsent.get() !== undefined && this.kick(), options.localPollMs ?? 1_000));
    for (const t of this.timers) t.unref();
    this.kick();
  }

  /** Sync soon: after a local write, a notification, a timer. Returns at once. */
  kick(): void {
    if (this.stopped) return;
    this.wanted = true;
    if (this.running) return;
    const wait = this.retryAt - Date.now();
    if (wait > 0) return this.retryIn(wait);
    this.running = this.loop().finally(() => {
      this.running = undefined;
      // A kick that came after the loop's last look at `wanted` is not lost.
      if (this.wanted) this.kick();
    });
  }

  private async loop(): Promise<void> {
    while (this.wanted && !this.stopped) {
      this.wanted = false;
      try {
        const client = await this.connected();
        const started = performance.now();
        const moved = await syncOver(client, this.db, this.options.url, this.options.team, () => this.stopped);
        if (this.stopped) return;
        this.failures = 0;
        this.retryAt = 0;
        const result = finished(this.db, moved);
        log("debug", `team sync: ${JSON.stringify(result)}`);
        this.options.onSync?.(result, performance.now() - started);
      } catch (err) {
        if (this.stopped) return;
        this.drop();
        const error = syncFailed(this.db, err, this.options.url);
        const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.failures++);
        this.retryAt = Date.now() + delay;
        log("warn", `team sync: ${error.message} (retrying in ${Math.round(delay / 1000)} s)`);
        this.wanted = true;
        this.retryIn(delay);
        return;
      }
    }
  }

  /** Backing off after a failure: one timer runs the sync that kicks asked for meanwhile. */
  private retryIn(ms: number): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryAt = 0;
      this.kick();
    }, ms);
    this.retryTimer.unref();
  }

  private async connected(): Promise<PgClient> {
    if (this.client) return this.client;
    const client = hubClient(this.options.url);
    this.client = client;
    // A connection that drops is replaced at the next sync; one is due now, to catch up.
    client.on("end", () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.kick();
    });
    await client.connect();
    await asTeam(client, this.options.team);
    if (this.options.listen !== false) {
      // Our own pushes notify us too: only another session's notification means new ops.
      client.on("notification", (n: Notification) => n.processId !== (client as unknown as { processID: number }).processID && this.kick());
      await listenTeam(client, this.options.team);
    }
    return client;
  }

  private drop(): void {
    const client = this.client;
    this.client = undefined;
    void client?.end().catch(() => undefined);
  }

  /** Stop: no new sync starts, the connection closes, and a sync under way ends between batches. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.drop();
    await this.running?.catch(() => undefined);
  }
}

/**
 * The server's team sync: started once the server is connected, pushing after each tool call that
 * wrote. It has its own connection to the database: the registry's cache notices another
 * connection's commits (PRAGMA data_version), not its own connection's. A database that cannot be
 * opened leaves sync off (the tools say why).
 */
export function startTeamSync(home: string, onWrite: (listener: () => void) => () => void, url: string, team: string, intervalMs: number): { stop(): Promise<void> } {
  let db: Db | undefined;
  let sync: BackgroundSync;
  try {
    db = openDatabase(home);
    sync = new BackgroundSync(db, { url, team, intervalMs });
  } catch (err) {
    db?.close();
    log("warn", `team sync is off: ${(err as Error).message}`);
    return { stop: async () => undefined };
  }
  const off = onWrite(() => sync.kick());
  return {
    async stop() {
      off();
      await sync.stop();
      db?.close();
    },
  };
}
