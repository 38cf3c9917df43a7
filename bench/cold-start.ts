/**
 * Benchmark 3, cold start and size: the shipped action bundle against the one
 * before the switch to esbuild, and against a peer action,
 * aws-actions/configure-aws-credentials, measured side by side in one run.
 *
 * Method:
 *   - Variants, interleaved round-robin (one run of each, then the next round)
 *     so load from other processes spreads evenly over them:
 *       after     the shipped build (bench/lib/builds.ts shippedBuild: what
 *                 `npm run build` commits; esbuild, split per mode);
 *       before    the ncc --minify single file committed at BEFORE_REF;
 *       one file  the same esbuild build without the per-mode split;
 *       peer      configure-aws-credentials' dist/index.js, when
 *                 ELEVATE_BENCH_PEER_ACTION names one (bench/README.md says how
 *                 to build it from its public repository); else its rows say
 *                 "not measured";
 *       node      an empty ES module (Node's own start, the floor).
 *   - Whole process to its first error: spawn → the first `::error::` line on
 *     stdout, on input the action rejects: ours in check mode without a
 *     github-token, the peer without `aws-region` (its first error). The
 *     process then exits by itself; its peak RSS (getrusage, bench/lib/rss-probe.mjs)
 *     is the memory row. Median of `runs`.
 *   - A mode's own first error, which needs that mode's code loaded: check mode
 *     with a token on a `schedule` event, grant mode likewise; ours after and
 *     before (the peer has no modes and loads everything for its first error).
 *   - What check mode loads: the check-mode run above with
 *     test/support/record-module-loads.mjs preloaded, its loaded chunks mapped
 *     to their source files through esbuild's metafile; AWS SDK = @aws-sdk/* and
 *     @smithy/* modules. test/e2e/action-chunks.test.ts pins the same on a full
 *     check run in the sandbox.
 *   - Size: bytes of every file of the action (entry and chunks; MB = 10^6
 *     bytes for the budget), and the bytes a check and a grant load at start
 *     (their static import closure in the metafile).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BEFORE_REF, beforeBundle, fileSize, type Metafile, shippedBuild } from "./lib/builds.js";
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
  /** Only the tsx variant and the shipped build's input error (the smoke test). */
  noBuilds?: boolean;
}

export const COLD_FULL = { runs: 15 };
export const COLD_QUICK = { runs: 3 };

export const PEER_ENV = "ELEVATE_BENCH_PEER_ACTION";
const BUDGET_BYTES = 1.5 * 1000 * 1000;
const RECORDER = fileURLToPath(new URL("../test/support/record-module-loads.mjs", import.meta.url));
const AWS_SDK = /node_modules\/(@aws-sdk|@smithy)\//;

interface Variant {
  key: string;
  name: string;
  script: string;
  nodeArgs?: string[];
  env: Record<string, string>;
}

interface Sample {
  errorMs: number;
  exitMs: number;
  rssKiB: number;
  line: string;
}

/** Inputs as the runner passes them; everything else of the job's environment is blanked. */
const NO_JOB: Record<string, string> = {
  GITHUB_REPOSITORY: "",
  GITHUB_EVENT_NAME: "",
  GITHUB_EVENT_PATH: "",
  AWS_REGION: "",
  ACTIONS_ID_TOKEN_REQUEST_URL: "",
  ACTIONS_ID_TOKEN_REQUEST_TOKEN: "",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
};
const INPUT_ERROR = { ...NO_JOB, INPUT_MODE: "check", "INPUT_GITHUB-TOKEN": "" };
const modeError = (mode: string) => ({
  ...NO_JOB,
  INPUT_MODE: mode,
  "INPUT_GITHUB-TOKEN": "bench-token",
  GITHUB_REPOSITORY: "acme/access",
  GITHUB_EVENT_NAME: "schedule",
});

/** The output files a run of `entry` loads before any dynamic import: its static import closure. */
function staticClosure(meta: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (out: string) => {
    if (seen.has(out)) return;
    seen.add(out);
    for (const i of meta.outputs[out]?.imports ?? []) if (i.kind === "import-statement") visit(i.path);
  };
  visit(entry);
  return [...seen];
}

function modeEntry(meta: Metafile, mode: string): string | undefined {
  return Object.keys(meta.outputs).find((o) => new RegExp(`chunks/${mode}-[A-Z0-9]+\\.js$`).test(o));
}

async function sample(v: Variant): Promise<Sample> {
  const run = await runNode({
    nodeArgs: v.nodeArgs ?? [],
    script: v.script,
    cwd: REPO_ROOT,
    env: v.env,
    markLine: /^::error::/,
    timeoutMs: 60_000,
  });
  if (!/^::error::/.test(run.markedLine)) {
    throw new Error(
      `${v.name}: no ::error:: line; stdout began ${JSON.stringify(run.firstLine)}; stderr: ${run.stderr.slice(0, 1500)}`,
    );
  }
  return { errorMs: run.markMs, exitMs: run.ms, rssKiB: run.maxRssKiB, line: run.markedLine };
}

export async function runColdStartBench(options: ColdStartOptions): Promise<BenchResult> {
  const benchmark = "3 Cold start & size";
  const notes: string[] = [];
  const rows: BenchRow[] = [];
  const variants: Variant[] = [];
  const empty = join(mkdtempSync(join(tmpdir(), "elevate-bench-empty-")), "empty.mjs");
  writeFileSync(empty, "process.stdout.write('::error::empty\\n');\n");
  const peer = process.env[PEER_ENV];

  if (options.noBuilds) {
    variants.push({
      key: "tsx",
      name: "tsx on src/ (no build)",
      script: join(REPO_ROOT, "src/action/index.ts"),
      nodeArgs: ["--import", TSX_LOADER],
      env: INPUT_ERROR,
    });
  }
  const after = options.noBuilds ? undefined : shippedBuild();
  const oneFile = options.noBuilds ? undefined : shippedBuild({ oneFile: true });
  const before = options.noBuilds ? undefined : beforeBundle();
  if (after && oneFile && before) {
    variants.push(
      { key: "after", name: "after", script: after.action, env: INPUT_ERROR },
      { key: "before", name: "before", script: before.path, env: INPUT_ERROR },
      { key: "onefile", name: "one file", script: oneFile.action, env: INPUT_ERROR },
      { key: "after-check", name: "after, check mode", script: after.action, env: modeError("check") },
      { key: "before-check", name: "before, check mode", script: before.path, env: modeError("check") },
      { key: "after-grant", name: "after, grant mode", script: after.action, env: modeError("grant") },
      { key: "before-grant", name: "before, grant mode", script: before.path, env: modeError("grant") },
    );
    if (peer) variants.push({ key: "peer", name: "configure-aws-credentials", script: peer, env: { ...NO_JOB } });
  }
  variants.push({ key: "node", name: "node, empty module", script: empty, env: {} });

  const samples = new Map<string, Sample[]>(variants.map((v) => [v.key, []]));
  for (let i = 0; i < options.runs; i++) {
    for (const v of variants) samples.get(v.key)?.push(await sample(v));
  }
  rmSync(join(empty, ".."), { recursive: true, force: true });
  const med = (key: string, f: (s: Sample) => number) => median((samples.get(key) ?? []).map(f));
  const err = (key: string) => med(key, (s) => s.errorMs);
  const rss = (key: string) => med(key, (s) => s.rssKiB);
  const mib = (kib: number) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : "n/a");
  const n = options.runs;

  if (options.noBuilds) {
    rows.push({
      benchmark,
      measure: `first error, tsx on src/ (no build) (median of ${n})`,
      ours: "",
      baseline: fmtMs(err("tsx")),
      ratio: "",
      budget: "",
      verdict: "info",
    });
    return { name: "cold-start", rows, notes };
  }
  if (!after || !before || !oneFile) throw new Error("unreachable");

  const bytes = after.actionFiles.reduce((sum, f) => sum + fileSize(f), 0);
  const beforeBytes = fileSize(before.path);
  const mb = (b: number) => `${(b / 1e6).toFixed(2)} MB`;
  rows.push({
    benchmark,
    measure: `action bundle size (${after.actionFiles.length} files: entry + chunks)`,
    ours: mb(bytes),
    baseline: `before ${mb(beforeBytes)} (one file)`,
    ratio: ratioText("after ÷ before", bytes, beforeBytes),
    budget: "< 1.5 MB",
    verdict: bytes < BUDGET_BYTES ? "ok" : "MISSED",
  });
  // What each mode loads before its work: check its chunk; grant its run and, once the
  // push adds requests, the SDK chunk it imports before the first start (grant-run.ts).
  const modeChunks: Record<string, string[]> = { check: ["check"], grant: ["grant-run", "grant-act"] };
  for (const [mode, names] of Object.entries(modeChunks)) {
    const entries = names.map((name) => modeEntry(after.meta, name));
    const index = Object.keys(after.meta.outputs).find((o) => o.endsWith("/index.js") && !o.includes("/cli/"));
    if (entries.some((e) => e === undefined) || !index) continue;
    const files = new Set([
      ...staticClosure(after.meta, index),
      ...entries.flatMap((e) => staticClosure(after.meta, e as string)),
    ]);
    const loaded = [...files].reduce((sum, f) => sum + (after.meta.outputs[f]?.bytes ?? 0), 0);
    rows.push({
      benchmark,
      measure: `${mode} mode: bytes loaded ${mode === "grant" ? "before its first start" : "at start"} (dispatcher + ${names.join(" + ")} chunks)`,
      ours: fmtBytes(loaded),
      baseline: `before ${fmtBytes(beforeBytes)} (all of it)`,
      ratio: ratioText("after ÷ before", loaded, beforeBytes),
      budget: "",
      verdict: "info",
    });
  }

  // What a check-mode run loads, recorded (not inferred).
  const dir = mkdtempSync(join(tmpdir(), "elevate-bench-loads-"));
  try {
    const log = join(dir, "check.log");
    writeFileSync(log, "");
    await runNode({
      script: after.action,
      cwd: REPO_ROOT,
      env: { ...modeError("check"), NODE_OPTIONS: `--import ${RECORDER}`, ELEVATE_MODULE_LOG: log },
      timeoutMs: 60_000,
    });
    const inputsOf = new Map(Object.entries(after.meta.outputs).map(([o, v]) => [basename(o), Object.keys(v.inputs)]));
    const chunks = readFileSync(log, "utf8")
      .split("\n")
      .filter((u) => u.startsWith("file:") && u.includes(after.dir))
      .map((u) => basename(fileURLToPath(u)));
    const modules = chunks.flatMap((c) => inputsOf.get(c) ?? []);
    const sdk = modules.filter((m) => AWS_SDK.test(m));
    const beforeHasSdk = readFileSync(before.path, "utf8").includes("AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED");
    rows.push({
      benchmark,
      measure: "check mode: AWS SDK modules loaded (recorded)",
      ours: `${sdk.length} of ${modules.length} modules in ${chunks.length} files`,
      baseline: beforeHasSdk ? "before: all (one file with 4 AWS clients)" : "before: n/a",
      ratio: "",
      budget: "0",
      verdict: sdk.length === 0 && chunks.length > 0 ? "ok" : "MISSED",
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  const vsPeer = (key: string) =>
    peer ? ratioText("ours ÷ peer", err(key), err("peer")) : `not measured: set ${PEER_ENV}`;
  rows.push({
    benchmark,
    measure: `whole process to its first error: ours (check, no token) vs configure-aws-credentials (no aws-region) (median of ${n})`,
    ours: `after ${fmtMs(err("after"))}; before ${fmtMs(err("before"))}`,
    baseline: peer ? `peer ${fmtMs(err("peer"))}` : `not measured: set ${PEER_ENV}`,
    ratio: vsPeer("after"),
    budget: "≤ peer",
    verdict: peer ? (err("after") <= err("peer") ? "ok" : "MISSED") : "not available",
  });
  rows.push({
    benchmark,
    measure: `peak RSS of that process (median of ${n})`,
    ours: `after ${mib(rss("after"))}; before ${mib(rss("before"))}`,
    baseline: peer ? `peer ${mib(rss("peer"))}` : `not measured: set ${PEER_ENV}`,
    ratio: peer ? ratioText("ours ÷ peer", rss("after"), rss("peer")) : "",
    budget: "",
    verdict: "info",
  });
  for (const mode of ["check", "grant"]) {
    rows.push({
      benchmark,
      measure: `${mode} mode's own first error (its code loaded) (median of ${n})`,
      ours: `after ${fmtMs(err(`after-${mode}`))}, ${mib(rss(`after-${mode}`))}`,
      baseline: `before ${fmtMs(err(`before-${mode}`))}, ${mib(rss(`before-${mode}`))}${peer ? `; peer ${fmtMs(err("peer"))}` : ""}`,
      ratio: ratioText("after ÷ before", err(`after-${mode}`), err(`before-${mode}`)),
      budget: peer ? "≤ peer" : "",
      verdict: peer ? (err(`after-${mode}`) <= err("peer") ? "ok" : "MISSED") : "info",
    });
  }
  rows.push({
    benchmark,
    measure: `first error: esbuild one file (no mode split) and an empty Node module (median of ${n})`,
    ours: `after ${fmtMs(err("after"))}`,
    baseline: `one file ${fmtMs(err("onefile"))} (${fmtBytes(fileSize(oneFile.action))}); node ${fmtMs(err("node"))}`,
    ratio: ratioText("one file ÷ after", err("onefile"), err("after")),
    budget: "",
    verdict: "info",
  });
  notes.push(
    `Cold start: after = ${after.description}; before = ${before.description} (BEFORE_REF ${BEFORE_REF}); peer = ${peer ? `${peer} (${PEER_ENV})` : `not measured (set ${PEER_ENV}; bench/README.md)`}. Time = spawn → first "::error::" line; RSS = peak of the process, which exits by itself. Variants interleaved, ${n} runs each; sizes in MiB, budget MB = 10^6 bytes.`,
  );
  return { name: "cold-start", rows, notes };
}
