/**
 * `experience-mcp ui`: the local viewer. Prints the address with its token and serves until
 * Ctrl-C. Loaded only for this command: the server and the hook never import it.
 */
import { parseArgs } from "node:util";
import { loadConfig } from "../config.js";
import { exitCodeOnSignal, onShutdown } from "../shutdown.js";
import { Services } from "../services.js";
import { startViewer } from "./server.js";

export async function uiCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { home: { type: "string" }, port: { type: "string" } }, strict: true });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port ${JSON.stringify(values.port?.slice(0, 20))}: use a port number from 1 to 65535, or none for a free one`);
  const services = new Services(loadConfig({ home: values.home }));
  const viewer = await startViewer(services, { port });
  exitCodeOnSignal(0); // Ctrl-C is how it ends
  onShutdown(async () => {
    await viewer.close();
    await services.close();
  });
  // The address is the key: anyone with it can read and change the store, so only this terminal sees it.
  process.stdout.write(`experience-mcp viewer for ${services.config.home}\n${viewer.url}\n(open it in a browser on this machine; Ctrl-C stops the viewer)\n`);
  return -1; // keep serving
}
