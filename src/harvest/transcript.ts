/**
 * Reading Claude Code transcripts: `~/.claude/projects/<project>/<sessionId>.jsonl`, one JSON
 * object per line. Assistant lines carry `message.content[]` items of type `tool_use`
 * `{id, name, input}`; the user line after carries the `tool_result {tool_use_id, content,
 * is_error}`. A line that does not parse (the last one of a session still being written, say) is
 * skipped. Each call also keeps what preceded it: the assistant's text that announced it (its
 * decision) and the last thing the assistant saw (the user's words or a tool's output).
 */

type Json = Record<string, unknown>;

export interface ToolCall {
  id: string;
  name: string;
  input: Json;
  sessionId: string;
  cwd: string;
  timestamp: string;
  /** Undefined when the transcript ends before the result. */
  result?: { text: string; isError: boolean };
  /** The assistant's text since its last tool call, when this is the first call after it ("" otherwise). */
  intent: string;
  /** The user's message or tool output the assistant last saw before this call. */
  before: string;
}

function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

/** tool_result content is a string or a list of `{type: "text", text}` blocks. */
function resultText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((c) => str(obj(c)?.text))
    .filter(Boolean)
    .join("\n");
}

export interface ParsedTranscript {
  calls: ToolCall[];
  /** Lines that were not JSON objects (e.g. a truncated last line). */
  skipped: number;
  lines: number;
}

/** The tool calls of a transcript in order, each with its result when there is one. */
export function parseTranscript(text: string): ParsedTranscript {
  const calls: ToolCall[] = [];
  const byId = new Map<string, ToolCall>();
  // Per session (a file holds one, but subagent lines may carry their own ids).
  const intent = new Map<string, string>();
  const seen = new Map<string, string>();
  let skipped = 0;
  let lines = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    lines++;
    let entry: Json | undefined;
    try {
      entry = obj(JSON.parse(line));
    } catch {
      entry = undefined;
    }
    if (!entry) {
      skipped++;
      continue;
    }
    const session = str(entry.sessionId);
    const content = obj(entry.message)?.content;
    if (entry.type === "user" && typeof content === "string") {
      seen.set(session, content);
      continue;
    }
    if (!Array.isArray(content)) continue;
    for (const item of content) {
      const c = obj(item);
      if (!c) continue;
      if (c.type === "text" && typeof c.text === "string") {
        if (entry.type === "assistant") intent.set(session, `${intent.get(session) ?? ""}\n${c.text}`.trim());
        else if (entry.type === "user") seen.set(session, c.text);
      } else if (c.type === "tool_use" && entry.type === "assistant") {
        const id = str(c.id);
        if (!id || byId.has(id)) continue;
        const call: ToolCall = {
          id,
          name: str(c.name),
          input: obj(c.input) ?? {},
          sessionId: session,
          cwd: str(entry.cwd),
          timestamp: str(entry.timestamp),
          intent: intent.get(session) ?? "",
          before: seen.get(session) ?? "",
        };
        intent.set(session, "");
        byId.set(id, call);
        calls.push(call);
      } else if (c.type === "tool_result") {
        const call = byId.get(str(c.tool_use_id));
        if (call && !call.result) {
          call.result = { text: resultText(c.content), isError: c.is_error === true };
          seen.set(session, call.result.text);
        }
      }
    }
  }
  return { calls, skipped, lines };
}

/**
 * The hook event Claude Code would have sent for a finished call: PostToolUseFailure for an error,
 * PostToolUse for a success. Replaying these through `experience-mcp hook` re-lives a session.
 */
export function hookEventFor(call: ToolCall): Json | undefined {
  if (!call.result) return undefined;
  const base = {
    session_id: call.sessionId,
    cwd: call.cwd,
    tool_name: call.name,
    tool_input: call.input,
    tool_use_id: call.id,
  };
  if (call.result.isError) return { ...base, hook_event_name: "PostToolUseFailure", error: call.result.text };
  return { ...base, hook_event_name: "PostToolUse", tool_response: { stdout: call.result.text, stderr: "", interrupted: false } };
}
