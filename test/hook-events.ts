/** Claude Code hook events for a Bash call, as the tests and benchmarks feed them to the hook. */

/** PostToolUseFailure: `error` is what Claude Code sends ("Exit code N" and the output). */
export function bashFailure(session: string, cwd: string, command: string, error: string, toolUseId = "t"): Record<string, unknown> {
  return { hook_event_name: "PostToolUseFailure", session_id: session, cwd, tool_name: "Bash", tool_input: { command }, tool_use_id: toolUseId, error };
}

/** PostToolUse: a successful call (no exit code; stdout and stderr in tool_response). */
export function bashSuccess(session: string, cwd: string, command: string): Record<string, unknown> {
  return {
    hook_event_name: "PostToolUse",
    session_id: session,
    cwd,
    tool_name: "Bash",
    tool_input: { command },
    tool_response: { stdout: "", stderr: "", interrupted: false },
  };
}
