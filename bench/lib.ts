import { hrtime } from "node:process";

export interface BenchLine {
  name: string;
  n: number;
  p50: number;
  p99: number;
  unit: "ms" | "us";
  [extra: string]: unknown;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

/** Time `fn` n times (after `warmup` untimed calls); returns the JSON line for it. */
export async function measure(
  name: string,
  n: number,
  fn: (i: number) => unknown | Promise<unknown>,
  options: { unit?: "ms" | "us"; warmup?: number; extra?: Record<string, unknown> } = {},
): Promise<BenchLine> {
  const unit = options.unit ?? "ms";
  const scale = unit === "ms" ? 1e6 : 1e3;
  for (let i = 0; i < (options.warmup ?? Math.min(50, n)); i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = hrtime.bigint();
    await fn(i);
    samples.push(Number(hrtime.bigint() - t0) / scale);
  }
  samples.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { name, n, p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), unit, ...options.extra };
}

/** Benchmarks print one JSON object per line on stdout. */
export function emit(line: BenchLine | Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
