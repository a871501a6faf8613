// The experts against a real HTTP server on loopback that speaks the OpenAI chat-completions API
// with scripted answers; plus the small pure pieces of the harness.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Connected } from "./helpers.js";
import { TmuxCli } from "../src/tmux/tmux.js";
import { LlmError, OpenAiLlm, retryAfterMs, stripThinking } from "../src/llm/llm.js";
import { fillTemplate, parameterize, shellQuote } from "../src/harness/slots.js";
import { cleanAnswer, parseDecision, parseKeys } from "../src/harness/decide.js";

const SOCKET = `xmcp-harness-llm-${process.pid}`;

after(async () => {
  await new TmuxCli({ socket: SOCKET }).killServer();
});

interface ChatRequest {
  model: string;
  temperature?: number;
  messages: Array<{ role: string; content: string }>;
}

interface Seen {
  path: string;
  authorization: string | undefined;
  body: ChatRequest;
}

interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** The assistant's message content (status 200), or an error message. */
  content?: string;
  /** Never answer (a hung server). */
  hang?: boolean;
}

/** A loopback chat-completions server; `script` answers each request (n counts from 0). */
async function fakeLlm(script: (req: Seen, n: number) => Reply): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const hung: ServerResponse[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString("utf8")));
    req.on("end", () => {
      const entry: Seen = { path: req.url ?? "", authorization: req.headers.authorization, body: JSON.parse(raw) as ChatRequest };
      seen.push(entry);
      const reply = script(entry, seen.length - 1);
      if (reply.hang) {
        hung.push(res);
        return;
      }
      const status = reply.status ?? 200;
      const body =
        status === 200
          ? {
              id: `chatcmpl-${seen.length}`,
              object: "chat.completion",
              created: Math.floor(Date.now() / 1000),
              model: entry.body.model,
              choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: reply.content ?? "" } }],
              usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
            }
          : { error: { message: reply.content ?? "error", type: "server_error" } };
      res.writeHead(status, { "content-type": "application/json", ...reply.headers });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hung) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The input the prompt asks about (after "Now answer for this input:"). */
function currentInput(req: Seen): string {
  const user = req.body.messages.find((m) => m.role === "user")?.content ?? "";
  return user.split("Now answer for this input:\nINPUT:\n")[1]?.split("\n\nReply with")[0] ?? "";
}

/** A sensible model: chooses by the observed state, answers the command with placeholders. */
function sensible(command: string): (req: Seen) => Reply {
  return (req) => {
    const input = currentInput(req);
    if (input.startsWith("state: emptyprompt")) return { content: "<think>nothing typed yet, so type</think>text:type the command" };
    if (input.startsWith("state: typedcommand")) return { content: "ctrl:run it" };
    if (input.startsWith("ctrl:")) return { content: "Enter" };
    if (input.startsWith("text:")) return { content: "```bash\n" + command + "\n```" };
    return { content: "ctrl:C-c" };
  };
}

function llmEnv(url: string): NodeJS.ProcessEnv {
  return { OPENAI_BASE_URL: url, OPENAI_API_KEY: "test-key", EXPERIENCE_MCP_MODEL: "fake-model" };
}

function open(url: string): Promise<Connected> {
  return connect({ tmuxSocket: SOCKET, toolsets: ["harness", "terminal"] }, llmEnv(url));
}

interface HarnessResult {
  success: boolean;
  steps: number;
  trajectory: Array<{ decision: string; command: string; sources: { decision: string; command: string } }>;
  final_screen: string;
  stopped: string;
  error?: string;
}

test("with an LLM: the request shape, retrieved rows as examples, the task's parameters, the trajectory; a task no row knows", async () => {
  const llm = await fakeLlm(sensible("echo {1} | rev"));
  const c = await open(llm.url);
  try {
    const r = await c.ok<HarnessResult>("run_harness", { task: 'reverse the word "olleh"', validator: { kind: "regex", pattern: "^hello$" } });
    assert.equal(r.success, true, JSON.stringify(r));
    assert.deepEqual(
      r.trajectory.map((s) => [s.decision, s.command, s.sources.decision, s.sources.command]),
      [
        ["text:type the command", "echo olleh | rev", "llm", "llm"],
        ["ctrl:run it", "Enter", "llm", "llm"],
      ],
    );
    assert.equal(llm.seen.length, 4, "two experts, two steps");
    for (const req of llm.seen) {
      assert.equal(req.path, "/v1/chat/completions");
      assert.equal(req.authorization, "Bearer test-key");
      assert.equal(req.body.model, "fake-model");
      assert.equal(req.body.temperature, 0);
      assert.deepEqual(
        req.body.messages.map((m) => m.role),
        ["system", "user"],
      );
      const user = req.body.messages[1]!.content;
      assert.match(user, /Task: reverse the word "\{1\}"/);
      assert.match(user, /Parameters: \{1\} = "olleh"/);
      assert.match(user, /Reply with the output only/);
    }
    // The decision prompt carries the coder's decision rows as INPUT/OUTPUT pairs.
    const decision = llm.seen[0]!.body.messages[1]!.content;
    assert.match(decision, /Examples of correct input -> output:\n\nINPUT:\nstate: emptyprompt\nOUTPUT:\ntext:type the shell command that does the task/);
    assert.match(currentInput(llm.seen[0]!), /^state: emptyprompt\nforeground: bash/);
    // The command prompt carries command rows for text hints only, and the current input.
    const command = llm.seen[1]!.body.messages[1]!.content;
    assert.match(command, /INPUT:\ntext: type the shell command that does the task\ntask: print the text "\{1\}"\nOUTPUT:\necho \{1\}/);
    assert.doesNotMatch(command, /OUTPUT:\nEnter/);
    assert.equal(currentInput(llm.seen[1]!), 'text: type the command\ntask: reverse the word "{1}"');
    // Step 2 sees step 1 in the trajectory.
    assert.match(llm.seen[2]!.body.messages[1]!.content, /What happened so far:\n====\[Iteration 1\]====\ndecision: text:type the command\ncommand: echo olleh \| rev/);
  } finally {
    await c.close();
    await llm.close();
  }
});

test("429 (and 503) then success: retried after Retry-After, the run succeeds", async () => {
  let failures = 0;
  const answer = sensible("echo hello world");
  const llm = await fakeLlm((req, n) => {
    if (n === 0) return (failures++, { status: 429, headers: { "retry-after": "0" }, content: "slow down" });
    if (n === 3) return (failures++, { status: 503, headers: { "retry-after": "0" }, content: "overloaded" });
    return answer(req);
  });
  const c = await open(llm.url);
  try {
    const r = await c.ok<HarnessResult>("run_harness", { task: "print hello world", validator: { kind: "regex", pattern: "^hello world$" } });
    assert.equal(r.success, true, JSON.stringify(r));
    assert.equal(failures, 2);
    assert.equal(llm.seen.length, 6, "4 answered calls + 2 retried");
    assert.ok(r.trajectory.every((s) => s.sources.decision === "llm"));
  } finally {
    await c.close();
    await llm.close();
  }
});

test("LLM down: the run stops with success:false and says where and what to do; llm=off still works", async () => {
  const llm = await fakeLlm(() => ({ content: "unused" }));
  const url = llm.url;
  await llm.close(); // nothing listens there now
  const c = await open(url);
  try {
    const r = await c.ok<HarnessResult>("run_harness", { task: "print hello world", validator: { kind: "regex", pattern: "^hello world$" } });
    assert.equal(r.success, false);
    assert.equal(r.stopped, "llm_error");
    assert.match(r.error ?? "", new RegExp(`LLM at ${url.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} failed after 4 tries: unreachable`));
    assert.match(r.error ?? "", /llm:"off"/);
    const offline = await c.ok<HarnessResult>("run_harness", { task: "print hello world", llm: "off", validator: { kind: "regex", pattern: "^hello world$" } });
    assert.equal(offline.success, true);
  } finally {
    await c.close();
  }
});

test("garbage answers are not typed: each expert falls back to its best row", async () => {
  const llm = await fakeLlm(() => ({ content: "Well, there are many ways to do this.\nFirst, consider your options." }));
  const c = await open(llm.url);
  try {
    const r = await c.ok<HarnessResult>("run_harness", { task: 'create an empty file named "x.txt"', validator: { kind: "command", command: "test -f x.txt" } });
    assert.equal(r.success, true, JSON.stringify(r));
    assert.deepEqual(
      r.trajectory.map((s) => [s.command, s.sources.decision, s.sources.command]),
      [
        ["touch x.txt", "experience", "experience"],
        ["Enter", "experience", "experience"],
      ],
    );
    assert.equal(llm.seen.length, 4, "the LLM was asked every time");
  } finally {
    await c.close();
    await llm.close();
  }
});

test("OpenAiLlm: a refused key is not retried; a hung server times out; think blocks are stripped", async () => {
  const llm = await fakeLlm((_req, n) => (n === 0 ? { status: 401, content: "bad key" } : n === 1 ? { hang: true } : { content: "<think>\nhmm\n</think>\n  ls -la  " }));
  try {
    const client = new OpenAiLlm({ baseURL: llm.url, apiKey: "k", model: "m" }, { retries: 2, timeoutMs: 300, baseDelayMs: 1 });
    await assert.rejects(client.complete([{ role: "user", content: "x" }]), (err: unknown) => err instanceof LlmError && err.status === 401 && /refused the request \(HTTP 401/.test(err.message));
    assert.equal(llm.seen.length, 1, "401 is not retried");
    const once = new OpenAiLlm({ baseURL: llm.url, apiKey: "k", model: "m" }, { retries: 0, timeoutMs: 300 });
    await assert.rejects(once.complete([{ role: "user", content: "x" }]), /failed after 1 tries: timed out/);
    assert.equal(await client.complete([{ role: "user", content: "x" }]), "ls -la");
  } finally {
    await llm.close();
  }
});

test("pure pieces: think stripping, Retry-After, task parameters, shell quoting, answer parsing", () => {
  assert.equal(stripThinking("<think>a\nb</think>\ntext:go"), "text:go");
  assert.equal(stripThinking("reasoning without an opening tag</think>Enter"), "Enter");
  assert.equal(stripThinking("  echo hi "), "echo hi");
  assert.equal(retryAfterMs("2"), 2000);
  assert.equal(retryAfterMs(null), undefined);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 4_000), 6000);
  assert.deepEqual(parameterize(`write "a b" to a file named 'c.txt'`), { template: 'write "{1}" to a file named "{2}"', params: ["a b", "c.txt"] });
  assert.deepEqual(parameterize("print hello world"), { template: "print hello world", params: [] });
  assert.equal(shellQuote("notes.txt"), "notes.txt");
  assert.equal(shellQuote("it's $HOME"), `'it'\\''s $HOME'`);
  assert.equal(fillTemplate("cp -- {1} {2} {3}", ["a b", "c"]), "cp -- 'a b' c {3}");
  assert.equal(cleanAnswer("```sh\nls\n```"), "ls");
  assert.equal(cleanAnswer("`pwd`"), "pwd");
  assert.deepEqual(parseDecision(" ctrl: press Enter "), { prefix: "ctrl", hint: "press Enter" });
  assert.equal(parseDecision("type: ls"), undefined);
  assert.deepEqual(parseKeys("C-c, Enter"), ["C-c", "Enter"]);
  assert.equal(parseKeys("Escape :q Enter"), undefined);
});
