/**
 * A loopback HTTP server speaking the parts of the OpenAI API that training uses: file upload
 * (multipart), fine-tuning jobs (create, retrieve, cancel) and chat completions. The official SDK
 * talks to it exactly as to api.openai.com.
 *
 * Its "models" are deliberately simple and deterministic:
 *  - the base model imitates the first worked example in the prompt (the first OUTPUT block), so it
 *    answers like the offline expert does;
 *  - a fine-tuned model answers an input it was trained on with the trained answer, and an input
 *    closer (word-set Jaccard, at least 0.5) to a trained input than to the prompt's first worked
 *    example with that trained input's answer; anything else like its base model.
 * Jobs move validating_files → queued → running → succeeded over `pollsToFinish` retrievals and
 * fail, as the real API does, on a file with fewer than 10 examples or a malformed line.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeFile {
  id: string;
  purpose: string;
  filename: string;
  content: string;
}

export interface FakeJob {
  id: string;
  model: string;
  training_file: string;
  suffix: string | null;
  status: "validating_files" | "queued" | "running" | "succeeded" | "failed" | "cancelled";
  polls: number;
  fine_tuned_model: string | null;
  error: { code: string; message: string; param: string | null } | null;
  trained_tokens: number | null;
  created_at: number;
}

export interface ChatSeen {
  model: string;
  messages: Array<{ role: string; content: string }>;
}

export interface FakeOpenAiOptions {
  /** Retrievals until a job succeeds (default 3). */
  pollsToFinish?: number;
  /** Make every job fail with this message once it runs. */
  failJobsWith?: string;
  /** Answers a row-proposal request (the experience backend's LLM step); default "{}". */
  propose?: (user: string) => string;
  /** Answers a chat instead of the models above when it returns a string (a model that answers badly on purpose). */
  chat?: (user: string, n: number) => string | undefined;
}

export interface FakeOpenAi {
  url: string;
  files: FakeFile[];
  jobs: FakeJob[];
  chats: ChatSeen[];
  /** Change how many retrievals a job takes from now on (e.g. hold it running, then let it finish). */
  setPollsToFinish(n: number): void;
  close(): Promise<void>;
}

const MIN_EXAMPLES = 10;

/** The input the expert's prompt asks about (after "Now answer for this input:"). */
export function currentInput(user: string): string {
  return user.split("Now answer for this input:\nINPUT:\n")[1]?.split("\n\nReply with")[0] ?? "";
}

function words(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[a-z0-9{}]+/g) ?? []);
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let common = 0;
  for (const w of a) if (b.has(w)) common++;
  const union = a.size + b.size - common;
  return union ? common / union : 0;
}

/** The prompt's first worked example (the best row retrieved). */
function firstExample(user: string): { input: string; output: string } {
  const m = /INPUT:\n([\s\S]*?)\nOUTPUT:\n([^\n]*)/.exec(user);
  return m && !user.startsWith("Now answer") && m.index < user.indexOf("Now answer for this input:") ? { input: m[1]!, output: m[2]! } : { input: "", output: "" };
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startFakeOpenAi(o: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const files: FakeFile[] = [];
  const jobs: FakeJob[] = [];
  const chats: ChatSeen[] = [];
  /** fine-tuned model id → what it learnt (current input → answer). */
  const learnt = new Map<string, { base: string; pairs: Array<{ input: string; words: Set<string>; answer: string }> }>();
  let pollsToFinish = o.pollsToFinish ?? 3;

  const jobView = (j: FakeJob) => ({
    object: "fine_tuning.job",
    id: j.id,
    model: j.model,
    created_at: j.created_at,
    finished_at: j.status === "succeeded" || j.status === "failed" ? j.created_at + 60 : null,
    fine_tuned_model: j.fine_tuned_model,
    organization_id: "org-fake",
    result_files: [],
    status: j.status,
    validation_file: null,
    training_file: j.training_file,
    hyperparameters: { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto" },
    trained_tokens: j.trained_tokens,
    error: j.error,
    seed: 42,
  });

  /** One retrieval moves the job one stage on; training happens when it reaches "succeeded". */
  const advance = (j: FakeJob) => {
    if (j.status === "succeeded" || j.status === "failed" || j.status === "cancelled") return;
    j.polls++;
    if (j.polls === 1) j.status = "queued";
    if (j.polls === 2) j.status = "running";
    if (j.polls < pollsToFinish) return;
    const file = files.find((f) => f.id === j.training_file)!;
    const lines = file.content.split("\n").filter((l) => l.trim() !== "");
    const pairs: Array<{ input: string; words: Set<string>; answer: string }> = [];
    for (const [i, line] of lines.entries()) {
      let ok = false;
      try {
        const m = (JSON.parse(line) as { messages?: Array<{ role: string; content: string }> }).messages;
        const user = m?.find((x) => x.role === "user")?.content;
        const last = m?.[m.length - 1];
        if (user !== undefined && last?.role === "assistant" && typeof last.content === "string") {
          const input = currentInput(user);
          pairs.push({ input, words: words(input), answer: last.content });
          ok = true;
        }
      } catch {
        ok = false;
      }
      if (!ok) {
        j.status = "failed";
        j.error = { code: "invalid_training_file", message: `line ${i + 1} is not a chat example ending with an assistant message`, param: "training_file" };
        return;
      }
    }
    if (pairs.length < MIN_EXAMPLES) {
      j.status = "failed";
      j.error = { code: "invalid_n_examples", message: `training file has ${pairs.length} example(s); it must have at least ${MIN_EXAMPLES}`, param: "training_file" };
      return;
    }
    if (o.failJobsWith) {
      j.status = "failed";
      j.error = { code: "server_error", message: o.failJobsWith, param: null };
      return;
    }
    j.status = "succeeded";
    j.fine_tuned_model = `ft:${j.model}:experience:${j.suffix ?? "model"}:${j.id.slice(-6)}`;
    j.trained_tokens = Math.ceil(file.content.length / 4);
    learnt.set(j.fine_tuned_model, { base: j.model, pairs });
  };

  const answer = (model: string, user: string): string => {
    const example = firstExample(user);
    const tuned = learnt.get(model);
    if (tuned) {
      const input = currentInput(user);
      const w = words(input);
      let best: { score: number; answer: string } | undefined;
      for (const p of tuned.pairs) {
        const score = p.input === input ? 2 : jaccard(w, p.words);
        if (!best || score > best.score) best = { score, answer: p.answer };
      }
      const exampleScore = example.input ? jaccard(w, words(example.input)) : 0;
      if (best && best.score >= 0.5 && best.score > exampleScore) return best.answer;
    }
    return example.output;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(payload));
    };
    const fail = (status: number, message: string) => send(status, { error: { message, type: "invalid_request_error", param: null, code: null } });
    void (async () => {
      const raw = await body(req);
      const path = (req.url ?? "").split("?")[0]!;
      if (req.method === "POST" && path === "/v1/files") {
        // The SDK sends multipart/form-data: let the platform's own parser read it.
        const form = await new Response(raw, { headers: { "content-type": req.headers["content-type"] ?? "" } }).formData();
        const file = form.get("file");
        if (!file || typeof file === "string") return fail(400, "missing file");
        const f: FakeFile = { id: `file-${files.length + 1}`, purpose: String(form.get("purpose") ?? ""), filename: file.name, content: await file.text() };
        files.push(f);
        return send(200, { object: "file", id: f.id, bytes: Buffer.byteLength(f.content), created_at: 1, filename: f.filename, purpose: f.purpose, status: "processed" });
      }
      if (req.method === "POST" && path === "/v1/fine_tuning/jobs") {
        const b = JSON.parse(raw.toString("utf8")) as { model?: string; training_file?: string; suffix?: string };
        const file = files.find((f) => f.id === b.training_file);
        if (!b.model) return fail(400, "model is required");
        if (!file) return fail(400, `invalid training_file: ${String(b.training_file)}`);
        if (file.purpose !== "fine-tune") return fail(400, `file ${file.id} has purpose ${file.purpose}, not fine-tune`);
        const j: FakeJob = {
          id: `ftjob-${String(jobs.length + 1).padStart(6, "0")}`,
          model: b.model,
          training_file: file.id,
          suffix: b.suffix ?? null,
          status: "validating_files",
          polls: 0,
          fine_tuned_model: null,
          error: null,
          trained_tokens: null,
          created_at: Math.floor(Date.now() / 1000),
        };
        jobs.push(j);
        return send(200, jobView(j));
      }
      const jobMatch = /^\/v1\/fine_tuning\/jobs\/([^/]+)(\/cancel)?$/.exec(path);
      if (jobMatch) {
        const j = jobs.find((x) => x.id === jobMatch[1]);
        if (!j) return fail(404, `no fine-tuning job ${jobMatch[1]}`);
        if (jobMatch[2] && req.method === "POST") {
          if (j.status !== "succeeded" && j.status !== "failed") j.status = "cancelled";
          return send(200, jobView(j));
        }
        if (req.method === "GET") {
          advance(j);
          return send(200, jobView(j));
        }
      }
      if (req.method === "POST" && path === "/v1/chat/completions") {
        const b = JSON.parse(raw.toString("utf8")) as ChatSeen;
        chats.push({ model: b.model, messages: b.messages });
        const system = b.messages.find((m) => m.role === "system")?.content ?? "";
        const user = b.messages.find((m) => m.role === "user")?.content ?? "";
        if (!learnt.has(b.model) && !jobs.some((j) => j.model === b.model) && b.model.startsWith("ft:")) return fail(404, `The model ${b.model} does not exist`);
        const content = system.includes("improve an experience table") ? (o.propose?.(user) ?? "{}") : (o.chat?.(user, chats.length - 1) ?? answer(b.model, user));
        return send(200, {
          id: `chatcmpl-${chats.length}`,
          object: "chat.completion",
          created: Math.floor(Date.now() / 1000),
          model: b.model,
          choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content } }],
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        });
      }
      fail(404, `no route ${req.method ?? "?"} ${path}`);
    })().catch((err: unknown) => fail(500, (err as Error).message));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    files,
    jobs,
    chats,
    setPollsToFinish: (n) => {
      pollsToFinish = n;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
