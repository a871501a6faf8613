/**
 * A chat-completions client for any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp,
 * Ollama, LM Studio, …). Temperature 0, `<think>` blocks stripped, our own retry loop (so the
 * backoff and the Retry-After header are handled the same way whatever the SDK version).
 */
import type OpenAI from "openai";
import type { LlmConfig } from "../config.js";

export interface ChatMessage {
  role: "system" | "user";
  content: string;
}

export interface LlmOptions {
  /** Per-call timeout (default 60 s). */
  timeoutMs?: number;
  /** Retries after the first try, on 429, 5xx, timeouts and refused connections (default 3). */
  retries?: number;
  /** First backoff delay; doubles each retry (default 500 ms), capped at maxDelayMs. */
  baseDelayMs?: number;
  /** Longest wait between tries, Retry-After included (default 20 s). */
  maxDelayMs?: number;
}

/** Why an LLM call failed, after the retries; the message names the endpoint and what to do. */
export class LlmError extends Error {
  override name = "LlmError";
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface Llm {
  readonly model: string;
  complete(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<string>;
  /** The same endpoint, answering with another model (a tensor version's fine-tuned one). */
  withModel(model: string): Llm;
}

/** Remove reasoning blocks (`<think>…</think>`, also an unclosed one at the start) and outer blanks. */
export function stripThinking(text: string): string {
  let out = text.replace(/<think>[\s\S]*?<\/think>/gi, "");
  // Some servers drop the opening tag and send only "…reasoning…</think>answer".
  const close = out.toLowerCase().lastIndexOf("</think>");
  if (close !== -1) out = out.slice(close + "</think>".length);
  return out.trim();
}

/** Seconds or an HTTP date, as Retry-After allows; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason as Error);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export class OpenAiLlm implements Llm {
  readonly model: string;
  private client?: OpenAI;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly baseURL: string;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(
    private readonly config: LlmConfig,
    private readonly options: LlmOptions = {},
  ) {
    this.model = config.model;
    this.baseURL = config.baseURL;
    this.retries = options.retries ?? 3;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 20_000;
    this.apiKey = config.apiKey;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  withModel(model: string): Llm {
    return model === this.model ? this : new OpenAiLlm({ ...this.config, model }, this.options);
  }

  async complete(messages: readonly ChatMessage[], signal?: AbortSignal): Promise<string> {
    // Loaded on first use: a server that never calls an LLM never loads the SDK.
    const { default: OpenAI } = await import("openai");
    // maxRetries 0: retries are ours (below), so one policy covers every error kind.
    this.client ??= new OpenAI({ baseURL: this.baseURL, apiKey: this.apiKey, maxRetries: 0, timeout: this.timeoutMs });
    let lastError = "";
    for (let attempt = 0; ; attempt++) {
      let waitMs: number | undefined;
      try {
        const r = await this.client.chat.completions.create(
          { model: this.model, temperature: 0, messages: messages.map((m) => ({ role: m.role, content: m.content })) },
          { signal },
        );
        const content = r.choices?.[0]?.message?.content;
        if (typeof content !== "string") throw new LlmError(`LLM at ${this.baseURL} answered without message content (model ${this.model})`);
        return stripThinking(content);
      } catch (err) {
        if (err instanceof LlmError) throw err;
        if (signal?.aborted) throw new LlmError(`LLM call to ${this.baseURL} was cancelled`);
        if (err instanceof OpenAI.APIConnectionError) {
          // Refused, unreachable or timed out: worth another try, the server may be starting.
          lastError = err instanceof OpenAI.APIConnectionTimeoutError ? "timed out" : `unreachable (${err.message})`;
        } else if (err instanceof OpenAI.APIError) {
          const status = err.status;
          lastError = `HTTP ${status ?? "?"}: ${err.message}`;
          const retriable = status === 429 || (status !== undefined && status >= 500);
          if (!retriable) {
            throw new LlmError(`LLM at ${this.baseURL} refused the request (${lastError}); check OPENAI_API_KEY / EXPERIENCE_MCP_MODEL (model ${this.model})`, status);
          }
          waitMs = retryAfterMs(err.headers?.get("retry-after"));
        } else {
          throw err;
        }
      }
      if (attempt >= this.retries) {
        throw new LlmError(
          `LLM at ${this.baseURL} failed after ${attempt + 1} tries: ${lastError}. Check OPENAI_BASE_URL, or pass llm:"off" to run on stored experience alone.`,
        );
      }
      const backoff = this.baseDelayMs * 2 ** attempt;
      await sleep(Math.min(this.maxDelayMs, waitMs ?? backoff), signal);
    }
  }
}
