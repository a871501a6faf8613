/**
 * Quality gates: the staging version is compared with the active one on the held-out split (new
 * experience never trained on) and on replayed base rows not used in training (regressions).
 * Every gate must pass for a deploy; a failed gate deploys nothing.
 */
import { z } from "zod";
import type { SplitMetrics } from "./forward.js";

export const gatesSchema = z.object({
  min_exact_match: z.number().min(0).max(1).default(0).describe("Held-out exact-match rate the staging version must reach (default 0: opt-in; the relative gates always apply)"),
  max_edit_distance: z.number().min(0).max(1).default(0.8).describe("Held-out mean normalized edit distance the staging version must stay at or under (default 0.8)"),
  max_regression: z.number().min(0).max(1).default(0.02).describe("How much worse than the active version any measure may get (default 0.02)"),
  require_improvement: z.boolean().default(true).describe("Deploy only when held-out exact match or edit distance improves (default true)"),
});
export type Gates = z.infer<typeof gatesSchema>;

export interface GateResult {
  name: string;
  passed: boolean;
  detail: string;
}

export interface Measured {
  active: { heldout: SplitMetrics; replay: SplitMetrics };
  staging: { heldout: SplitMetrics; replay: SplitMetrics };
}

export function checkGates(g: Gates, m: Measured): { passed: boolean; results: GateResult[] } {
  const a = m.active.heldout;
  const s = m.staging.heldout;
  const tol = g.max_regression;
  const results: GateResult[] = [
    { name: "heldout_examples", passed: s.n > 0, detail: `${s.n} held-out examples (need ≥ 1)` },
    { name: "exact_match", passed: s.n > 0 && s.exact_match >= g.min_exact_match, detail: `staging ${s.exact_match} ≥ ${g.min_exact_match}` },
    { name: "edit_distance", passed: s.n > 0 && s.mean_edit_distance <= g.max_edit_distance, detail: `staging ${s.mean_edit_distance} ≤ ${g.max_edit_distance}` },
    {
      name: "heldout_regression",
      passed: s.exact_match >= a.exact_match - tol && s.mean_edit_distance <= a.mean_edit_distance + tol,
      detail: `exact ${a.exact_match} → ${s.exact_match}, distance ${a.mean_edit_distance} → ${s.mean_edit_distance} (tolerance ${tol})`,
    },
    {
      name: "replay_regression",
      passed: m.staging.replay.exact_match >= m.active.replay.exact_match - tol,
      detail: `replayed rows answered exactly: ${m.active.replay.exact_match} → ${m.staging.replay.exact_match} over ${m.staging.replay.n} (tolerance ${tol})`,
    },
  ];
  if (g.require_improvement) {
    results.push({
      name: "improvement",
      passed: s.exact_match > a.exact_match || s.mean_edit_distance < a.mean_edit_distance,
      detail: `held-out exact ${a.exact_match} → ${s.exact_match}, distance ${a.mean_edit_distance} → ${s.mean_edit_distance}`,
    });
  }
  return { passed: results.every((r) => r.passed), results };
}
