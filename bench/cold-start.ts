/**
 * Benchmark 3, cold start and size: what the ncc --minify bundle buys over
 * builds without minification or tree-shaking, and over no bundling at all.
 *
 * Method:
 *   - Variants of the same entry, src/action/index.ts:
 *       shipped      the committed bundle HEAD:action/dist/index.js if current,
 *                    else a temp `ncc build --minify` of the working tree (what
 *                    `npm run build` would commit; said so);
 *       ncc plain    `ncc build` without --minify (cached by source hash; with
 *                    --quick only if already cached);
 *       esbuild      one-file bundle with neither minification nor tree-shaking;
 *       unbundled    src/ transpiled file by file next to a node_modules
 *                    symlink, so Node resolves and loads each dependency module;
 *       tsx          `node --import tsx src/action/index.ts` (transpiles at load).
 *   - Cold start: spawn → first complete stdout line, with INPUT_MODE=check and
 *     no github-token, so the action loads every module, reads its inputs and
 *     prints `::error::input 'github-token' is empty …` (the child is then
 *     killed). Median of `runs` runs per variant, interleaved round-robin so load
 *     from other processes spreads evenly over the variants.
 *   - Size: bytes of the variant's entry file (bundles are single files; for
 *     unbundled and tsx, the bytes of src/ plus node_modules that the run reads
 *     are not one file, so no size is given).
 */
import { join } from "node:path";
import { chooseActionBundle } from "./grant-overhead.js";
import { committedBundle, esbuildPlainBundle, esbuildUnbundled, fileSize, nccBuild, nccCached } from "./lib/builds.js";
import { REPO_ROOT, runNode, TSX_LOADER } from "./lib/exec.js";
import {
  type BenchResult,
  type BenchRow,
  type CommonOptions,
  fmtBytes,
  fmtMs,
  median,
  ratioText,
} from "./lib/result.js";

export interface ColdStartOptions extends CommonOptions {
  runs: number;
  /** Skip every variant that needs a build (the smoke test). */
  noBuilds?: boolean;
}

export const COLD_FULL = { runs: 10 };
export const COLD_QUICK = { runs: 3 };

interface Variant {
  name: string;
  nodeArgs: string[];
  script: string;
  /** Single-file size, when the variant is one file. */
  size?: number;
}

const ENTRY = "src/action/index.ts";
const BUDGET_BYTES = 3 * 1000 * 1000;

export async function runColdStartBench(options: ColdStartOptions): Promise<BenchResult> {
  const notes: string[] = [];
  const variants: Variant[] = [];
  const shipped = options.noBuilds
    ? (() => {
        const path = committedBundle("action/dist");
        return path
          ? { path, description: "committed bundle HEAD:action/dist/index.js (not checked for staleness)" }
          : undefined;
      })()
    : chooseActionBundle(options.quick, options.log);
  // Under --quick without a cached ncc build, chooseActionBundle hands back an
  // esbuild bundle: that is not what ships, so it is not the baseline.
  const shippedIsNcc = shipped !== undefined && (!("kind" in shipped) || shipped.kind === "ncc-minify");
  if (shipped && shippedIsNcc) {
    variants.push({ name: "shipped (ncc --minify)", nodeArgs: [], script: shipped.path, size: fileSize(shipped.path) });
  } else {
    notes.push(
      "Cold start: no ncc --minify bundle was available (--quick without a cached build), so no shipped baseline and no size budget row.",
    );
  }
  if (!options.noBuilds) {
    if (!options.quick || nccCached(ENTRY, false)) {
      const plain = nccBuild(ENTRY, false, options.log);
      variants.push({ name: "ncc without --minify", nodeArgs: [], script: plain, size: fileSize(plain) });
    } else {
      notes.push("Cold start: --quick skipped the unminified ncc build (not cached for this source).");
    }
    const esb = esbuildPlainBundle(ENTRY);
    variants.push({ name: "esbuild, no minify, no tree-shaking", nodeArgs: [], script: esb, size: fileSize(esb) });
    const unbundled = esbuildUnbundled();
    variants.push({
      name: "unbundled (node_modules resolved at run time)",
      nodeArgs: [],
      script: join(unbundled, "src", "action", "index.js"),
    });
  }
  variants.push({ name: "tsx on src/ (no build)", nodeArgs: ["--import", TSX_LOADER], script: join(REPO_ROOT, ENTRY) });

  const times = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let i = 0; i < options.runs; i++) {
    for (const v of variants) {
      const run = await runNode({
        nodeArgs: v.nodeArgs,
        script: v.script,
        cwd: REPO_ROOT,
        env: {
          INPUT_MODE: "check",
          "INPUT_GITHUB-TOKEN": "",
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
        },
        stopAtFirstLine: true,
        timeoutMs: 60_000,
      });
      if (!run.firstLine.includes("github-token")) {
        throw new Error(
          `${v.name}: unexpected first line ${JSON.stringify(run.firstLine)}; stderr: ${run.stderr.slice(0, 1500)}`,
        );
      }
      times.get(v.name)?.push(run.firstLineMs);
    }
  }
  const benchmark = "3 Cold start & size";
  const rows: BenchRow[] = [];
  const base = shippedIsNcc ? variants[0] : undefined;
  const baseMs = base ? median(times.get(base.name) ?? []) : Number.NaN;
  if (base?.size !== undefined) {
    rows.push({
      benchmark,
      measure: `bundle size: ${base.name}`,
      ours: fmtBytes(base.size),
      baseline: "",
      ratio: "",
      budget: "< 3 MB",
      verdict: base.size < BUDGET_BYTES ? "ok" : "MISSED",
    });
  }
  for (const v of variants.slice(1)) {
    if (v.size === undefined || base?.size === undefined) continue;
    rows.push({
      benchmark,
      measure: `bundle size: ${v.name}`,
      ours: fmtBytes(base.size),
      baseline: fmtBytes(v.size),
      ratio: ratioText("it ÷ shipped", v.size, base.size),
      budget: "",
      verdict: "info",
    });
  }
  if (base) {
    rows.push({
      benchmark,
      measure: `cold start to first output line: ${base.name} (median of ${options.runs})`,
      ours: fmtMs(baseMs),
      baseline: "",
      ratio: "",
      budget: "",
      verdict: "info",
    });
  }
  for (const v of base ? variants.slice(1) : variants) {
    const ms = median(times.get(v.name) ?? []);
    rows.push({
      benchmark,
      measure: `cold start: ${v.name} (median of ${options.runs})`,
      ours: fmtMs(baseMs),
      baseline: fmtMs(ms),
      ratio: ratioText("it ÷ shipped", ms, baseMs),
      budget: "",
      verdict: "info",
    });
  }
  if (shipped && shippedIsNcc)
    notes.unshift(
      `Cold start: shipped = ${shipped.description}. First line = "::error::input 'github-token' is empty …" (all modules loaded, inputs read); variants interleaved, ${options.runs} runs each; MB = 10^6 bytes for the budget, sizes printed in MiB.`,
    );
  return { name: "cold-start", rows, notes };
}
