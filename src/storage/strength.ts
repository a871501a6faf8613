/**
 * A fix's strength: what a success adds, a failure takes, and how it decays with disuse. Here, below
 * both the registry and the experience store (which prunes a fix on a failed outcome), and the hook's
 * bootstrap, so that none of them imports another for three numbers.
 *
 * Decay is lazy: a row stores its strength and the epoch (day) it was computed at; the strength now
 * is the closed form of `s ← s·0.97 − 0.001` applied once per elapsed epoch.
 */
export const STRENGTH = {
  initial: 1.0,
  initialCandidate: 0.5,
  success: 0.05,
  failure: 0.1,
  reinforce: 0.05,
  decayRate: 0.97,
  decayLinear: 0.001,
  prune: 0.01,
} as const;

export const DAY_MS = 86_400_000;

/** Strength after `epochs` decay steps of s ← s·r − d, in closed form: r^k·(s + d/(1−r)) − d/(1−r). */
export function decayStrength(strength: number, epochs: number): number {
  if (epochs <= 0) return strength;
  const fixedPoint = STRENGTH.decayLinear / (1 - STRENGTH.decayRate);
  return Math.pow(STRENGTH.decayRate, epochs) * (strength + fixedPoint) - fixedPoint;
}
