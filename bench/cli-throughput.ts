/**
 * Benchmark 4, validation and audit throughput: `elevate validate` on N request
 * files and `elevate audit` on a history of N merged requests, at a small and a
 * large N, with wall time and peak memory, and how each grows.
 *
 * Method:
 *   - Fixtures (bench/lib/fixtures.ts) are made in a temp dir before timing:
 *     a valid .github/elevate.yml (4 roles, 20 users), N valid request files;
 *     for audit, N pull requests merged with merge commits plus one evidence
 *     note each in refs/notes/elevate, written with `git fast-import`.
 *   - The CLI is action/dist/cli/index.js of the shipped build of the working
 *     tree (`node scripts/build.mjs --out …`, byte-identical to what
 *     `npm run build` commits); the notes say so.
 *   - validate: `elevate validate --now <fixed> FILE…` with every file as an
 *     argument (one process), from the fixture root; must exit 0.
 *     audit: `elevate audit --format json`; must exit 0 and print N rows.
 *   - Each (command, N) runs `runs` times; the table shows the median wall time
 *     (spawn to exit) and the largest peak RSS of the Node process (getrusage
 *     ru_maxrss via bench/lib/rss-probe.mjs; git children of audit are not
 *     included). Growth = median time at the large N ÷ at the small N: for a 10×
 *     larger input, ≤ 10× is linear or better.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { shippedBuild } from "./lib/builds.js";
import { type ChildRun, runNode } from "./lib/exec.js";
import { makeAuditRepo, makeValidateRepo } from "./lib/fixtures.js";
import {
  type BenchResult,
  type BenchRow,
  type CommonOptions,
  fmtBytes,
  fmtInt,
  fmtMs,
  max,
  median,
  ratioText,
} from "./lib/result.js";

export interface CliThroughputOptions extends CommonOptions {
  small: number;
  large: number;
  runs: number;
  /** Which CLI to run; by default chosen as described above. */
  cli?: CliUnderTest;
}

export const CLI_FULL = { small: 1000, large: 10_000, runs: 3 };
export const CLI_QUICK = { small: 1000, large: 10_000, runs: 1 };

export interface CliUnderTest {
  nodeArgs: string[];
  script: string;
  description: string;
}

/** The CLI of the shipped build of the working tree (what `npm run build` commits). */
export function chooseCli(_log: (line: string) => void): CliUnderTest {
  const build = shippedBuild();
  return {
    nodeArgs: [],
    script: build.cli,
    description:
      "cli/index.js of `npm run build` of the working tree (esbuild, one file; byte-identical to action/dist/cli when that is current)",
  };
}

const NOW = "2026-06-01T00:00:00Z";

interface Series {
  ms: number[];
  rssKiB: number[];
  unavailable?: string;
}

function unavailableReason(run: ChildRun, command: string): string | undefined {
  if (run.exitCode === 2 && /unknown command/.test(run.stderr)) return `\`elevate ${command}\` does not exist yet`;
  return undefined;
}

async function measureValidate(cli: CliUnderTest, count: number, runs: number): Promise<Series> {
  const dir = mkdtempSync(join(tmpdir(), "elevate-bench-validate-"));
  try {
    const files = makeValidateRepo(dir, count);
    const series: Series = { ms: [], rssKiB: [] };
    for (let i = 0; i < runs; i++) {
      const run = await runNode({
        nodeArgs: cli.nodeArgs,
        script: cli.script,
        args: ["validate", "--now", NOW, ...files],
        cwd: dir,
      });
      const missing = unavailableReason(run, "validate");
      if (missing) return { ...series, unavailable: missing };
      if (run.exitCode !== 0) {
        throw new Error(`validate of ${count} files exited ${run.exitCode}: ${run.stderr.slice(0, 2000)}`);
      }
      series.ms.push(run.ms);
      series.rssKiB.push(run.maxRssKiB);
    }
    return series;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureAudit(cli: CliUnderTest, count: number, runs: number): Promise<Series> {
  const dir = mkdtempSync(join(tmpdir(), "elevate-bench-audit-"));
  try {
    makeAuditRepo(dir, count);
    const series: Series = { ms: [], rssKiB: [] };
    for (let i = 0; i < runs; i++) {
      const run = await runNode({
        nodeArgs: cli.nodeArgs,
        script: cli.script,
        args: ["audit", "--format", "json"],
        cwd: dir,
        captureStdout: i === 0,
      });
      const missing = unavailableReason(run, "audit");
      if (missing) return { ...series, unavailable: missing };
      if (run.exitCode !== 0) {
        throw new Error(`audit of ${count} requests exited ${run.exitCode}: ${run.stderr.slice(0, 2000)}`);
      }
      if (i === 0) {
        const rows = JSON.parse(run.stdout) as unknown[];
        if (!Array.isArray(rows) || rows.length !== count) {
          throw new Error(`audit of ${count} requests printed ${Array.isArray(rows) ? rows.length : "no"} rows`);
        }
      }
      series.ms.push(run.ms);
      series.rssKiB.push(run.maxRssKiB);
    }
    return series;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rowsFor(
  label: string,
  unit: string,
  small: number,
  large: number,
  s: Series,
  l: Series,
  budgetMs: number,
): BenchRow[] {
  const benchmark = "4 Throughput";
  if (s.unavailable || l.unavailable) {
    const why = s.unavailable ?? l.unavailable ?? "";
    return [
      {
        benchmark,
        measure: `${label} ${fmtInt(large)} ${unit} (${why})`,
        ours: "not available",
        baseline: "",
        ratio: "",
        budget: `< ${fmtMs(budgetMs)}`,
        verdict: "not available",
      },
    ];
  }
  const smallMs = median(s.ms);
  const largeMs = median(l.ms);
  const growth = largeMs / smallMs;
  const memGrowth = max(l.rssKiB) / max(s.rssKiB);
  const inputGrowth = large / small;
  return [
    {
      benchmark,
      measure: `${label} ${fmtInt(large)} ${unit}: time (median of ${l.ms.length})`,
      ours: fmtMs(largeMs),
      baseline: `${fmtInt(small)}: ${fmtMs(smallMs)}`,
      ratio: `${ratioText(`growth ${fmtInt(large)} ÷ ${fmtInt(small)}`, largeMs, smallMs)} for ${inputGrowth}× input`,
      budget: `< ${fmtMs(budgetMs)}; growth ≤ ${inputGrowth}×`,
      verdict: largeMs < budgetMs && growth <= inputGrowth ? "ok" : "MISSED",
    },
    {
      benchmark,
      measure: `${label} ${fmtInt(large)} ${unit}: peak RSS of the Node process`,
      ours: fmtBytes(max(l.rssKiB) * 1024),
      baseline: `${fmtInt(small)}: ${fmtBytes(max(s.rssKiB) * 1024)}`,
      ratio: `${ratioText(`growth ${fmtInt(large)} ÷ ${fmtInt(small)}`, max(l.rssKiB), max(s.rssKiB))}`,
      budget: `growth ≤ ${inputGrowth}×`,
      verdict: memGrowth <= inputGrowth ? "ok" : "MISSED",
    },
  ];
}

export async function runCliThroughputBench(options: CliThroughputOptions): Promise<BenchResult> {
  const cli = options.cli ?? chooseCli(options.log);
  options.log(`throughput: CLI = ${cli.description}`);
  const vs = await measureValidate(cli, options.small, options.runs);
  const vl = await measureValidate(cli, options.large, options.runs);
  options.log(
    `throughput: validate ${options.small}: ${vs.ms.map(fmtMs).join(", ")}; ${options.large}: ${vl.ms.map(fmtMs).join(", ")}`,
  );
  const as = await measureAudit(cli, options.small, options.runs);
  const al = await measureAudit(cli, options.large, options.runs);
  options.log(
    `throughput: audit ${options.small}: ${as.ms.map(fmtMs).join(", ")}; ${options.large}: ${al.ms.map(fmtMs).join(", ")}`,
  );
  return {
    name: "cli-throughput",
    rows: [
      ...rowsFor("validate", "files", options.small, options.large, vs, vl, 5000),
      ...rowsFor("audit", "requests", options.small, options.large, as, al, 10_000),
    ],
    notes: [
      `Throughput: CLI = ${cli.description}. validate: all files as arguments of one process, from the fixture root, exit 0 required; audit: --format json on N merge commits with one evidence note each (git fast-import), N rows required. Time = spawn to exit, median of ${options.runs}; RSS = peak of the Node process (git children excluded).`,
    ],
  };
}
