/**
 * What every benchmark hands back to bench/run.mjs: table rows plus notes.
 * A row is one number measured in this run (or, when a row says so, computed
 * or extrapolated from numbers measured in this run), next to what it is
 * compared with and its budget.
 */
export type Verdict = "ok" | "MISSED" | "info" | "not available";

export interface BenchRow {
  /** Benchmark number and name, e.g. "1 Inventory". */
  benchmark: string;
  /** What was measured, e.g. "10,000 users: AWS calls". */
  measure: string;
  /** Elevate's number. */
  ours: string;
  /** The number it is compared with (naive walk, unminified build, 1k run, …), or "". */
  baseline: string;
  /** ours : baseline, or growth, as text; "" when there is nothing to divide. */
  ratio: string;
  budget: string;
  verdict: Verdict;
}

export interface BenchResult {
  name: string;
  rows: BenchRow[];
  /** Method and caveats, printed under the table. */
  notes: string[];
}

/** Options every benchmark accepts; sizes and run counts are per benchmark. */
export interface CommonOptions {
  quick: boolean;
  /** Progress lines go here (stderr in bench/run.mjs); silent in the smoke test. */
  log: (line: string) => void;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function max(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "n/a";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

export function fmtBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** "naive ÷ ours = 201×": how many times larger `numerator` is than `denominator`. */
export function ratioText(label: string, numerator: number, denominator: number): string {
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return "";
  const r = numerator / denominator;
  return `${label} = ${r >= 100 ? Math.round(r) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}
