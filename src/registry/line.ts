// Its own module because normalize.ts makes Lines and classify.ts reads them: neither imports the other for it.

/** One output line after ANSI and tool-prefix stripping, with what we learned about it. */
export interface Line {
  /** Prefix-stripped, unmasked (classification reads codes from here). */
  raw: string;
  masked: string;
  level: "error" | "warning" | "note" | "none";
  /** The tool prefix stripped from the line ("npm", "pytest", "sqlite", …), if any. */
  via?: string;
}
