import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ExperienceStore, NewRow } from "./store.js";

/**
 * The seed framework keeps an [N, 3] experience tensor as files: `shape` holds the JSON `[N, 3]`,
 * and flat element i (row r has elements 3r, 3r+1, 3r+2 = query, key, value) lives at
 * `storage/<one directory per decimal digit of i>/data`, e.g. element 12 at `storage/1/2/data`.
 * `--tensor-dir` names that directory (the one holding `shape`).
 */
export function elementPath(tensorDir: string, index: number): string {
  return join(tensorDir, "storage", ...String(index).split(""), "data");
}

export interface ExportResult {
  tensor: string;
  rows: number;
  dir: string;
}

export function exportTensor(store: ExperienceStore, tensor: string, tensorDir: string): ExportResult {
  const rows = store.rows(tensor);
  if (store.activeVersion(tensor) === undefined) {
    throw new Error(`No tensor named "${tensor}": \`experience-mcp stats\` lists the tensors`);
  }
  // Write into a sibling temp dir, then swap it in, so a reader never sees half a tensor.
  const staging = `${tensorDir}.tmp-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, "shape"), JSON.stringify([rows.length, 3]));
  rows.forEach((row, r) => {
    [row.query, row.key, row.value].forEach((text, c) => {
      const file = elementPath(staging, 3 * r + c);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
    });
  });
  rmSync(tensorDir, { recursive: true, force: true });
  mkdirSync(dirname(tensorDir), { recursive: true });
  renameSync(staging, tensorDir);
  return { tensor, rows: rows.length, dir: tensorDir };
}

export interface ImportResult {
  tensor: string;
  rows: number;
  created: number;
}

export function readTensorDir(tensorDir: string): NewRow[] {
  const shapeFile = join(tensorDir, "shape");
  if (!existsSync(shapeFile)) {
    throw new Error(`${tensorDir} has no "shape" file: point --tensor-dir at the directory that holds shape and storage/`);
  }
  let shape: unknown;
  try {
    shape = JSON.parse(readFileSync(shapeFile, "utf8"));
  } catch {
    throw new Error(`${shapeFile} is not JSON: expected something like [N, 3]`);
  }
  if (!Array.isArray(shape) || shape.length !== 2 || shape[1] !== 3 || !Number.isInteger(shape[0]) || (shape[0] as number) < 0) {
    throw new Error(`${shapeFile} says ${JSON.stringify(shape)}; an experience tensor has shape [N, 3]`);
  }
  const n = shape[0] as number;
  // A missing element file is an empty element, as in the seed.
  const read = (i: number) => {
    const file = elementPath(tensorDir, i);
    return existsSync(file) ? readFileSync(file, "utf8") : "";
  };
  const rows: NewRow[] = [];
  for (let r = 0; r < n; r++) rows.push({ query: read(3 * r), key: read(3 * r + 1), value: read(3 * r + 2) });
  return rows;
}

export function importTensor(store: ExperienceStore, tensor: string, tensorDir: string): ImportResult {
  const rows = readTensorDir(tensorDir);
  const created = store.rememberMany(tensor, rows);
  return { tensor, rows: rows.length, created };
}
