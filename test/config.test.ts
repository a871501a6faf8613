import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { llmFromEnv, loadConfig, readSettings } from "../src/config.js";

test("an exported OPENAI_API_KEY alone does not turn the LLM on", () => {
  assert.equal(llmFromEnv({ OPENAI_API_KEY: "sk-for-another-tool" }), undefined);
  assert.equal(llmFromEnv({}), undefined);
});

test("an endpoint, or a model named for us with a key, turns the LLM on", () => {
  assert.deepEqual(llmFromEnv({ OPENAI_BASE_URL: "http://127.0.0.1:11434/v1", EXPERIENCE_MCP_MODEL: "qwen2.5-coder" }), {
    baseURL: "http://127.0.0.1:11434/v1",
    apiKey: "not-needed",
    model: "qwen2.5-coder",
  });
  assert.deepEqual(llmFromEnv({ OPENAI_API_KEY: "sk-x", EXPERIENCE_MCP_MODEL: "gpt-4o-mini" }), {
    baseURL: "https://api.openai.com/v1",
    apiKey: "sk-x",
    model: "gpt-4o-mini",
  });
});

test("every EXPERIENCE_MCP_* setting is read in one place, and a bad value names its variable", () => {
  const s = readSettings({ EXPERIENCE_MCP_TRAIN_WORKER: "off", EXPERIENCE_MCP_TRAIN_POLL_MS: "20", EXPERIENCE_MCP_BOOTSTRAP_TOKENS: "0" });
  assert.equal(s.trainWorker, false);
  assert.equal(s.trainPollMs, 20);
  assert.equal(s.bootstrapTokens, 0);
  assert.equal(readSettings({}).trainTimeoutS, 6 * 3600);
  assert.throws(() => readSettings({ EXPERIENCE_MCP_TRAIN_POLL_MS: "soon" }), /EXPERIENCE_MCP_TRAIN_POLL_MS must be a whole number/);
  assert.throws(() => readSettings({ EXPERIENCE_MCP_TRAIN_WORKER: "maybe" }), /EXPERIENCE_MCP_TRAIN_WORKER must be on or off/);
  assert.throws(() => loadConfig({}, { EXPERIENCE_MCP_LOG: "loud" }), /EXPERIENCE_MCP_LOG must be one of debug, info, warn, error/);
});

test("no module but config.ts reads an EXPERIENCE_MCP_* setting from the environment", () => {
  const src = fileURLToPath(new URL("../../src/", import.meta.url));
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith("/config.ts") && /env\.EXPERIENCE_MCP_(?!HOME\b)/.test(readFileSync(p, "utf8"))) offenders.push(p);
    }
  };
  walk(src);
  assert.deepEqual(offenders, []);
});

test("EXPERIENCE_MCP_HUB and EXPERIENCE_MCP_TEAM: off when unset, checked when set, the password never echoed", () => {
  const off = readSettings({});
  assert.equal(off.hubUrl, undefined);
  assert.equal(off.team, undefined);
  const on = readSettings({ EXPERIENCE_MCP_HUB: "postgres://alice:pw@127.0.0.1:5432/team", EXPERIENCE_MCP_TEAM: "platform" });
  assert.deepEqual([on.hubUrl, on.team], ["postgres://alice:pw@127.0.0.1:5432/team", "platform"]);
  assert.throws(
    () => readSettings({ EXPERIENCE_MCP_HUB: "mysql://alice:Very-Secret-9@db/team" }),
    (err: Error) => /EXPERIENCE_MCP_HUB must be a postgres:\/\/ URL/.test(err.message) && !err.message.includes("Very-Secret-9"),
  );
  assert.throws(() => readSettings({ EXPERIENCE_MCP_TEAM: "Team; DROP ROLE x" }), /EXPERIENCE_MCP_TEAM must be 1-40 lowercase/);
});
