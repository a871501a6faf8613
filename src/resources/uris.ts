/**
 * The MCP resource URIs of what the server stores. A tensor name may hold a "/", so every name is
 * percent-encoded into one path segment.
 */
export const RESOURCE_TEMPLATES = {
  fix: "experience://fix/{signature}",
  tensor: "experience://tensor/{name}",
  session: "experience://session/{name}",
  cast: "experience://session/{name}/cast",
  request: "experience://request/{id}",
} as const;

export type ResourceKind = keyof typeof RESOURCE_TEMPLATES;

export function resourceUri(kind: ResourceKind, name: string): string {
  const [head, tail = ""] = RESOURCE_TEMPLATES[kind].split(/\{[a-z]+\}/);
  return `${head}${encodeURIComponent(name)}${tail}`;
}

/** A link a tool result carries to a resource it touched (MCP's resource_link content item). */
export interface ResourceLink {
  kind: ResourceKind;
  name: string;
}
