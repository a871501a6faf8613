import type { Config } from "./config.js";
import { openDatabase, type Db } from "./storage/db.js";
import { ExperienceStore } from "./experience/store.js";
import { FixRegistry } from "./registry/registry.js";
import { Terminal } from "./tmux/terminal.js";
import { repoOf } from "./storage/repo.js";

/**
 * The domain objects a server process uses, created on first use so that the server starts
 * (and answers `initialize`) even when, say, the database file is damaged: the tool that needs
 * it then answers with an error that says what to do.
 */
export class Services {
  private dbHandle?: Db;
  private storeHandle?: ExperienceStore;
  private registryHandle?: FixRegistry;
  private terminalHandle?: Terminal;
  private repoId?: string;
  private readonly touchListeners = new Set<(uri: string) => void>();
  private readonly writeListeners = new Set<() => void>();

  constructor(readonly config: Config) {}

  get db(): Db {
    // --read-only never writes the file, so it also works where the directory is read-only.
    this.dbHandle ??= openDatabase(this.config.home, { readOnlyFile: this.config.readOnly });
    return this.dbHandle;
  }

  /** The database if this process has opened it (opens nothing). */
  get openDb(): Db | undefined {
    return this.dbHandle;
  }

  get store(): ExperienceStore {
    this.storeHandle ??= new ExperienceStore(this.db);
    return this.storeHandle;
  }

  get registry(): FixRegistry {
    this.registryHandle ??= new FixRegistry(this.db);
    return this.registryHandle;
  }

  /** The repository this server works in (git's common dir of its cwd): rows and fixes are scoped by it. */
  get repo(): string {
    this.repoId ??= repoOf(process.cwd());
    return this.repoId;
  }

  /** tmux sessions on our own socket. */
  get terminal(): Terminal {
    this.terminalHandle ??= new Terminal({ home: this.config.home, socket: this.config.tmuxSocket, tmuxBin: this.config.tmuxBin });
    return this.terminalHandle;
  }

  /** Call `listener` with the URI of each resource a tool touched (the MCP resources watch their subscriptions). */
  onTouched(listener: (uri: string) => void): () => void {
    this.touchListeners.add(listener);
    return () => this.touchListeners.delete(listener);
  }

  touched(uri: string): void {
    for (const l of this.touchListeners) l(uri);
  }

  /** Call `listener` after each tool call that wrote (team sync pushes soon after). */
  onWrite(listener: () => void): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  wrote(): void {
    for (const l of this.writeListeners) l();
  }

  /** Closes the database now; the promise settles once the tmux control clients have exited. */
  close(): Promise<void> {
    // Detaches the control clients (tmux sessions keep running).
    const detached = this.terminalHandle?.close().catch(() => undefined) ?? Promise.resolve();
    this.terminalHandle = undefined;
    this.dbHandle?.close();
    this.dbHandle = undefined;
    this.storeHandle = undefined;
    this.registryHandle = undefined;
    return detached;
  }
}
