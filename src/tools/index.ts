import type { AnyTool } from "./tool.js";
import { remember } from "./remember.js";
import { recall } from "./recall.js";
import { forget } from "./forget.js";
import { registerFix } from "./register_fix.js";
import { reportOutcome } from "./report_outcome.js";

/** Every tool, in the order `tools/list` shows them. */
export const ALL_TOOLS: readonly AnyTool[] = [
  // memory
  recall,
  remember,
  forget,
  registerFix,
  reportOutcome,
];
