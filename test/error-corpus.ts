// One shape and one loader for the error corpora (eval/errors/corpus.jsonl, made by
// scripts/gen-error-corpus.mjs, and any JSONL file of the same shape): tests and benches share it.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export interface CorpusExample {
  /** The underlying problem: same class, same fix. */
  class: string;
  instance: number;
  tool: string;
  command: string;
  /** stdout+stderr as printed. */
  output: string;
  exit_code: number;
  fix: string;
  /** A look-alike class that needs another fix, or null. */
  near_miss_of: string | null;
}

/** The repository's own corpus. */
export const OWN_CORPUS_FILE = fileURLToPath(new URL("../../eval/errors/corpus.jsonl", import.meta.url));

export function loadCorpus(file: string = OWN_CORPUS_FILE): CorpusExample[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CorpusExample);
}
