import { test } from "node:test";
import assert from "node:assert/strict";
import { llmFromEnv } from "../src/config.js";

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
