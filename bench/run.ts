// `npm run bench`: runs each benchmark in its own process (so one's heap and caches do not
// skew the next) and passes their JSON lines through. `npm run bench -- recall startup` picks.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ALL = ["startup", "hook", "recall", "registry", "terminal", "replay", "train", "viewer"];
const picked = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
let failed = 0;
for (const name of picked) {
  const file = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
  if (!existsSync(file)) {
    process.stderr.write(`bench ${name}: no such benchmark (${ALL.join(", ")})\n`);
    failed++;
    continue;
  }
  const r = spawnSync(process.execPath, [file], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) {
    process.stderr.write(`bench ${name} exited with ${r.status ?? r.signal}\n`);
    failed++;
  }
}
process.exitCode = failed ? 1 : 0;
