/**
 * How a recalled fix is described to an agent (recall's text, the hook's context): the confidence,
 * and for the same error with other names, both names and whether the fix was adapted to them.
 * No SDK/zod here: the hook bundle imports it.
 */
export interface Describable {
  match: "exact" | "similar";
  score: number;
  adaptation?: { status: "adapted" | "unadapted" | "generic"; registered_names: string[]; names: string[]; registered_fix: string };
  demoted?: boolean;
}

/** "exact", "similar 0.74", plus the adaptation in words. */
export function describeConfidence(m: Describable): string {
  const base = m.match === "exact" ? "exact" : `similar, confidence ${m.score.toFixed(2)}`;
  return [base, adaptationText(m), m.demoted ? "it failed before on an error like this one" : ""].filter(Boolean).join("; ");
}

export function adaptationText(m: Describable): string {
  const a = m.adaptation;
  if (!a) return "";
  const pairs = a.registered_names.map((from, i) => [from, a.names[i] ?? ""] as const).filter(([from, to]) => from !== to);
  const names = pairs.map(([from, to]) => `${quote(from)} → ${quote(to)}`).join(", ");
  if (a.status === "adapted") return `adapted from the same error with other names (${names}); the fix as registered: ${a.registered_fix.split("\n")[0]}`;
  if (a.status === "generic") return `registered for the same error with other names (${names}); the fix names neither, so it is shown as it is`;
  return `registered for the same error with other names (${names}); the fix is tied to ${pairs.map(([f]) => quote(f)).join(", ")} in a way that cannot be adapted (it does not name it as such): check it applies`;
}

function quote(s: string): string {
  return `'${s.length > 80 ? `${s.slice(0, 79)}…` : s}'`;
}
