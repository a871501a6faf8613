/**
 * The SessionStart context: the pitfalls this repository has hit and what fixed them, strongest
 * first, then the strongest from elsewhere, within a token budget. Tokens are estimated as
 * characters / 4 (close for English and code with the common tokenizers); the budget is a hard cap
 * on that estimate.
 */
import { readSettings } from "../config.js";
import type { Db } from "../storage/db.js";
import { DAY_MS, decayStrength, STRENGTH } from "../storage/strength.js";

const CHARS_PER_TOKEN = 4;
/** A single fix longer than this is cut: one pitfall must not eat the whole budget. */
const FIX_CHARS = 400;

/** The budget from EXPERIENCE_MCP_BOOTSTRAP_TOKENS (0 turns the bootstrap off), else 2,000. */
export function bootstrapTokens(env: NodeJS.ProcessEnv = process.env): number {
  return readSettings(env).bootstrapTokens;
}

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARS_PER_TOKEN);
}

interface FixRow {
  error_type: string;
  template: string;
  fix: string;
  status: string;
  strength: number;
  epoch: number;
  successes: number;
  repo: string;
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s*\n\s*/g, " ; ").replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** "" when there is nothing to say or no room to say it. */
export function bootstrapContext(db: Db, repo: string, maxTokens: number, now: number = Date.now()): string {
  const budget = maxTokens * CHARS_PER_TOKEN;
  const head = "experience-mcp: errors met before and what fixed them (this repository first, strongest first).\n";
  if (budget <= head.length) return "";
  const epoch = Math.floor(now / DAY_MS);
  const rows = db
    .prepare(
      `SELECT error_type, template, fix, status, strength, epoch, successes, repo FROM fixes
       WHERE structured = 0
       ORDER BY (repo = ? AND repo != '') DESC, (status = 'active') DESC, strength DESC, successes DESC, updated_at DESC
       LIMIT 200`,
    )
    .all(repo) as FixRow[];
  let out = head;
  let lines = 0;
  for (const r of rows) {
    const strength = decayStrength(r.strength, epoch - r.epoch);
    if (strength < STRENGTH.prune) continue;
    const where = repo && r.repo === repo ? "here" : "elsewhere";
    const trust = r.status === "candidate" ? "unconfirmed" : `strength ${strength.toFixed(2)}`;
    const line = `- [${r.error_type}, ${where}, ${trust}] ${oneLine(r.template, 200)} → ${oneLine(r.fix, FIX_CHARS)}\n`;
    if (out.length + line.length > budget) continue; // a shorter one further down may still fit
    out += line;
    lines++;
  }
  return lines === 0 ? "" : out.trimEnd();
}
