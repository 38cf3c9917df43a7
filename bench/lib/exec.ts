/**
 * Runs a measured child process: wall time from spawn to exit, time to the
 * first line of stdout, and the child's peak RSS (through rss-probe.mjs, so
 * only Node children report it).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const RSS_PROBE = pathToFileURL(fileURLToPath(new URL("./rss-probe.mjs", import.meta.url))).href;
/** tsx's ESM loader, by absolute URL so it resolves from any working directory. */
export const TSX_LOADER = pathToFileURL(join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;

export interface ChildRun {
  exitCode: number | null;
  /** Spawn to exit. */
  ms: number;
  /** Spawn to the first complete line on stdout (NaN if none). */
  firstLineMs: number;
  /** Peak RSS in KiB, NaN when the child is not Node or did not exit normally. */
  maxRssKiB: number;
  stdoutBytes: number;
  stderr: string;
  /** The first line printed on stdout. */
  firstLine: string;
  /** Spawn to the first complete stdout line matching `markLine` (NaN if none or not asked). */
  markMs: number;
  /** That line. */
  markedLine: string;
  /** All of stdout, when `captureStdout` was set. */
  stdout: string;
}

export interface ChildSpec {
  /** Node arguments before the script, e.g. ["--import", TSX_LOADER]. */
  nodeArgs?: string[];
  script: string;
  args?: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the child once it printed its first stdout line (cold-start runs). */
  stopAtFirstLine?: boolean;
  /** Also time the first stdout line that matches this (e.g. the first `::error::`). */
  markLine?: RegExp;
  captureStdout?: boolean;
  timeoutMs?: number;
}

/** Spawns `node [nodeArgs] --import rss-probe script args` and measures it. */
export function runNode(spec: ChildSpec): Promise<ChildRun> {
  const probeDir = mkdtempSync(join(tmpdir(), "elevate-bench-rss-"));
  const rssFile = join(probeDir, "rss");
  return new Promise((resolve, reject) => {
    const start = performance.now();
    let firstLineMs = Number.NaN;
    let firstLine = "";
    let markMs = Number.NaN;
    let markedLine = "";
    let marking = "";
    let pending = "";
    let stdoutBytes = 0;
    let stderr = "";
    const stdoutChunks: Buffer[] = [];
    const child = spawn(
      process.execPath,
      [...(spec.nodeArgs ?? []), "--import", RSS_PROBE, spec.script, ...(spec.args ?? [])],
      {
        cwd: spec.cwd,
        env: { ...process.env, NODE_NO_WARNINGS: "1", ...spec.env, BENCH_RSS_FILE: rssFile },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const timer = setTimeout(() => child.kill("SIGKILL"), spec.timeoutMs ?? 120_000);
    child.stdout.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (spec.captureStdout) stdoutChunks.push(chunk);
      if (spec.markLine && Number.isNaN(markMs)) {
        marking += chunk.toString("utf8");
        const lines = marking.split("\n");
        marking = lines.pop() ?? "";
        const hit = lines.find((line) => spec.markLine?.test(line));
        if (hit !== undefined) {
          markMs = performance.now() - start;
          markedLine = hit;
          marking = "";
        }
      }
      if (!Number.isNaN(firstLineMs)) return;
      pending += chunk.toString("utf8");
      const nl = pending.indexOf("\n");
      if (nl < 0) return;
      firstLineMs = performance.now() - start;
      firstLine = pending.slice(0, nl);
      pending = "";
      if (spec.stopAtFirstLine) child.kill("SIGKILL");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += chunk.toString("utf8");
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const ms = performance.now() - start;
      let maxRssKiB = Number.NaN;
      try {
        maxRssKiB = Number(readFileSync(rssFile, "utf8"));
      } catch {
        // Killed before exit, or not a Node process: no probe output.
      }
      rmSync(probeDir, { recursive: true, force: true });
      resolve({
        exitCode: code,
        ms,
        firstLineMs,
        maxRssKiB,
        stdoutBytes,
        stderr,
        firstLine,
        markMs,
        markedLine,
        stdout: Buffer.concat(stdoutChunks).toString("utf8"),
      });
    });
  });
}
