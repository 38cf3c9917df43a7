// Helpers for the cli-* tests: throwaway git repositories and in-process CLI runs.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { main } from "../../src/cli/main.js";
import { CONFIG_TEXT } from "./domain-fixtures.js";

export interface Repo {
  root: string;
  write(path: string, text: string | Uint8Array): void;
  remove(): void;
}

/** A temp directory, `git init`ed unless `git: false`, with the example config. */
export function makeRepo(options: { git?: boolean; config?: string | null } = {}): Repo {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "elevate-cli-")));
  if (options.git !== false) execFileSync("git", ["init", "-q", root]);
  const write = (path: string, text: string | Uint8Array) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  if (options.config !== null) write(".github/elevate.yml", options.config ?? CONFIG_TEXT);
  return { root, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export const FIXED_NOW = new Date("2026-11-30T08:00:00Z");

export async function runCli(argv: string[], cwd: string, now = FIXED_NOW): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main({
    argv,
    cwd,
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    now: () => now,
  });
  return { code, stdout, stderr };
}
