/**
 * Measured, not assumed: the coder's command tensor is trained on shell tasks it does not know,
 * then asked held-out phrasings of them that were never part of any training request. A task
 * counts as solved when the filled command, run by bash in a fresh directory with a fixture file,
 * prints what the reference command prints and exits 0.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../src/storage/db.js";
import { ExperienceStore } from "../src/experience/store.js";
import { fillTemplate, parameterize } from "../src/harness/slots.js";
import { CODER, seedModule } from "../src/harness/modules.js";
import { VersionExpert } from "../src/train/forward.js";
import { CLI, serverEnv } from "./spawn.js";
import { connect } from "./helpers.js";

process.env.EXPERIENCE_MCP_TRAIN_WORKER = "off";

const HINT = "text: type the shell command that does the task";
const input = (task: string) => `${HINT}\ntask: ${parameterize(task).template}`;

/** Families of tasks the seed rows do not cover: training phrasings, then one held-out phrasing. */
const FAMILIES: Array<{ command: string; train: string[]; heldout: string }> = [
  { command: "tail -n 1 {1}", train: ['show the last line of the file "{1}"', 'print the last line of "{1}"', 'what is the last line in "{1}"'], heldout: 'display the last line of "notes.txt"' },
  { command: "wc -w < {1}", train: ['count the words in the file "{1}"', 'how many words are in "{1}"', 'word count of "{1}"'], heldout: 'count the words of "notes.txt"' },
  { command: "sort {1}", train: ['sort the lines of the file "{1}"', 'print "{1}" sorted', 'show the lines of "{1}" sorted'], heldout: 'show "notes.txt" sorted' },
  { command: "tac {1}", train: ['show the file "{1}" in reverse order', 'print the lines of "{1}" in reverse', 'reverse the lines of "{1}"'], heldout: 'display "notes.txt" in reverse order' },
  { command: "sort -u {1}", train: ['show the unique lines of the file "{1}"', 'print the unique lines of "{1}"', 'list unique lines in "{1}"'], heldout: 'unique lines of "notes.txt"' },
  { command: "wc -c < {1}", train: ['count the bytes in the file "{1}"', 'how many bytes are in "{1}"', 'size of "{1}" in bytes'], heldout: 'number of bytes in "notes.txt"' },
  { command: "nl -ba {1}", train: ['show the file "{1}" with line numbers', 'print "{1}" with line numbers', 'number the lines of "{1}"'], heldout: 'display "notes.txt" with line numbers' },
  { command: "grep -c -- {1} {2}", train: ['count the lines containing "{1}" in "{2}"', 'how many lines of "{2}" contain "{1}"', 'count lines with "{1}" in the file "{2}"'], heldout: 'count the lines with "beta" in "notes.txt"' },
  { command: "tr a-z A-Z < {1}", train: ['print the file "{1}" in uppercase', 'show "{1}" in uppercase', 'convert "{1}" to uppercase'], heldout: 'display "notes.txt" in uppercase' },
  { command: "cut -c1-3 {1}", train: ['show the first three characters of each line of "{1}"', 'print the first three characters of every line in "{1}"', 'first three characters of each line in "{1}"'], heldout: 'the first three characters of each line of "notes.txt"' },
];

const FIXTURE = "gamma delta\nalpha\nbeta beta\nalpha\n";

function run(command: string): { out: string; code: number } {
  const dir = mkdtempSync(join(tmpdir(), "xmcp-coder-"));
  try {
    writeFileSync(join(dir, "notes.txt"), FIXTURE);
    const r = spawnSync("bash", ["-c", command], { cwd: dir, encoding: "utf8", timeout: 10_000 });
    return { out: r.stdout, code: r.status ?? -1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function solvedBy(expert: VersionExpert): Promise<{ solved: number; answers: string[] }> {
  let solved = 0;
  const answers: string[] = [];
  for (const f of FAMILIES) {
    const { template, params } = parameterize(f.heldout);
    const { output } = await expert.forward(`${HINT}\ntask: ${template}`);
    const got = run(fillTemplate(output, params));
    const want = run(fillTemplate(f.command, params));
    assert.equal(want.code, 0, `reference command of ${f.heldout} fails`);
    answers.push(output);
    if (got.code === 0 && got.out === want.out) solved++;
  }
  return { solved, answers };
}

test("a trained coder tensor solves held-out tasks it failed before", { timeout: 60_000 }, async (t) => {
  const c = await connect();
  try {
    const db = openDatabase(c.home);
    const store = new ExperienceStore(db);
    seedModule(store, CODER);
    const tensor = CODER.command_tensor;
    const v1 = store.activeVersion(tensor)!;
    const before = await solvedBy(new VersionExpert(db, tensor, v1));

    const examples = FAMILIES.flatMap((f) => f.train.map((task) => ({ input: input(task), expected: f.command })));
    const q = await c.ok<{ request_id: string; status: string }>("train_model", { tensor, examples });
    assert.equal(q.status, "queued");
    execFileSync(process.execPath, [CLI, "train-worker", "--once"], { env: serverEnv(c.home), encoding: "utf8" });

    const st = await c.ok<{ status: string; version?: number; metrics?: { before: { heldout: { exact_match: number } }; after: { heldout: { exact_match: number } } } }>("training_status", { request_id: q.request_id });
    assert.equal(st.status, "deployed", JSON.stringify(st));
    const v2 = store.activeVersion(tensor)!;
    assert.equal(v2, st.version);
    const after = await solvedBy(new VersionExpert(db, tensor, v2));
    t.diagnostic(`held-out coder tasks solved: before ${before.solved}/${FAMILIES.length} (v${v1}), after ${after.solved}/${FAMILIES.length} (v${v2})`);
    t.diagnostic(`gate split exact match: before ${st.metrics?.before.heldout.exact_match}, after ${st.metrics?.after.heldout.exact_match}`);
    t.diagnostic(`answers before: ${JSON.stringify(before.answers)}`);
    t.diagnostic(`answers after: ${JSON.stringify(after.answers)}`);
    assert.ok(before.solved <= 2, `the seed rows already solve ${before.solved} held-out tasks: the measurement would say nothing`);
    assert.ok(after.solved >= 8, `only ${after.solved}/${FAMILIES.length} held-out tasks solved after training: ${JSON.stringify(after.answers)}`);
    db.close();
  } finally {
    await c.close();
  }
});
