import type { AnyTool } from "./tool.js";
import { remember } from "./remember.js";
import { recall } from "./recall.js";
import { forget } from "./forget.js";
import { registerFix } from "./register_fix.js";
import { reportOutcome } from "./report_outcome.js";
import { harvest } from "./harvest.js";
import { tmuxSession } from "./tmux_session.js";
import { sendText } from "./send_text.js";
import { sendKeys } from "./send_keys.js";
import { capturePane } from "./capture_pane.js";
import { validateTrail } from "./validate_trail.js";
import { replaySession } from "./replay_session.js";
import { runHarnessTool } from "./run_harness.js";
import { trainModel } from "./train_model.js";
import { trainingStatus } from "./training_status.js";
import { rollbackTensor } from "./rollback_tensor.js";

/** Every tool, in the order `tools/list` shows them. */
export const ALL_TOOLS: readonly AnyTool[] = [
  // memory
  recall,
  remember,
  forget,
  registerFix,
  reportOutcome,
  harvest,
  // terminal
  tmuxSession,
  sendText,
  sendKeys,
  capturePane,
  validateTrail,
  replaySession,
  // harness
  runHarnessTool,
  // train
  trainModel,
  trainingStatus,
  rollbackTensor,
];
