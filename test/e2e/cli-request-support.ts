/**
 * Shared by the cli-request-* and cli-audit-* tests: real git repositories in a
 * temp directory, an environment with no GitHub identity (temp HOME, no system
 * git config, a PATH holding only git and node, so no `gh`), and the CLI run
 * in-process through main().
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "../../src/cli/main.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The repository's example config (.github/elevate.yml), or docs/config.md's example when it is absent. */
export const EXAMPLE_CONFIG = existsSync(join(ROOT, ".github/elevate.yml"))
  ? readFileSync(join(ROOT, ".github/elevate.yml"), "utf8")
  : `version: 1
aws:
  region: ap-northeast-1
  accountId: "123456789012"
  grantRoleArn: arn:aws:iam::123456789012:role/elevate-grant
  revokeRoleArn: arn:aws:iam::123456789012:role/elevate-revoke
  automationRoleArn: arn:aws:iam::123456789012:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
defaults:
  maxDuration: 4h
  approvals: 1
  requireTicket: false
users:
  alice: alice.smith
  bob: bob
roles:
  ec2-admin:
    arn: arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role
    maxDuration: 2h
    approvals: 2
    requireTicket: true
    requesters: [alice]
`;

export interface Sandbox {
  /** Temp directory holding everything of this sandbox. */
  dir: string;
  /** Directory on PATH: git and node only (add a fake `gh` with `installFakeGh`). */
  bin: string;
  env: NodeJS.ProcessEnv;
}

function whichReal(program: string): string {
  return execFileSync("sh", ["-c", `command -v ${program}`], { encoding: "utf8" }).trim();
}

/** A fresh environment without any GitHub identity: HOME is empty, system git config is off, no `gh` on PATH. */
export function makeSandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), "elevate-cli-"));
  const home = join(dir, "home");
  const bin = join(dir, "bin");
  mkdirSync(home);
  mkdirSync(bin);
  symlinkSync(whichReal("git"), join(bin, "git"));
  symlinkSync(process.execPath, join(bin, "node"));
  const env: NodeJS.ProcessEnv = {
    PATH: bin,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
    TZ: "UTC",
  };
  return { dir, bin, env };
}

/**
 * Makes the sandbox the environment of this test process, which the CLI
 * passes to its subprocesses (vitest runs each test file in its own process).
 */
export function useSandboxEnvironment(sandbox: Sandbox): void {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith("GIT_") || key.startsWith("GH_") || key === "GITHUB_TOKEN") delete process.env[key];
  }
  Object.assign(process.env, sandbox.env);
}

export function git(cwd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): string {
  return execFileSync("git", args, {
    cwd,
    env,
    encoding: "utf8",
    input: input ?? "",
    stdio: ["pipe", "pipe", "pipe"],
    maxBuffer: 512 * 1024 * 1024,
  });
}

/** A repository with user.name/email set and the config committed on main. */
export function makeRepo(sandbox: Sandbox, name = "repo", config = EXAMPLE_CONFIG): string {
  const repo = join(sandbox.dir, name);
  mkdirSync(join(repo, ".github"), { recursive: true });
  git(repo, ["init", "-q", "-b", "main"], sandbox.env);
  git(repo, ["config", "user.name", "Alice Smith"], sandbox.env);
  git(repo, ["config", "user.email", "alice@example.com"], sandbox.env);
  writeFileSync(join(repo, ".github/elevate.yml"), config);
  git(repo, ["add", ".github/elevate.yml"], sandbox.env);
  git(repo, ["commit", "-q", "-m", "Elevate config"], sandbox.env);
  return repo;
}

/**
 * A fake GitHub CLI: records each call's argv as a JSON line in `log`, answers
 * `gh api user` with `login`, `gh --version`, and `gh pr create` with a PR URL.
 */
export function installFakeGh(sandbox: Sandbox, login: string): { log: string } {
  const log = join(sandbox.dir, "gh-calls.jsonl");
  const script = `#!/usr/bin/env node
const { appendFileSync } = require("node:fs");
const args = process.argv.slice(2);
appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + "\\n");
if (args[0] === "--version") { console.log("gh version 2.0.0 (fake)"); process.exit(0); }
if (args[0] === "api" && args[1] === "user") { console.log(${JSON.stringify(login)}); process.exit(0); }
if (args[0] === "pr" && args[1] === "create") { console.log("https://github.com/acme/access/pull/42"); process.exit(0); }
console.error("fake gh: unexpected call"); process.exit(1);
`;
  const path = join(sandbox.bin, "gh");
  writeFileSync(path, script, { mode: 0o755 });
  return { log };
}

export function ghCalls(log: string): string[][] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as string[]);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `elevate ARGV` in-process in `cwd`. */
export async function runCli(argv: string[], cwd: string, now = new Date("2026-11-30T09:00:00Z")): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main({
    argv,
    cwd,
    now: () => now,
    stdout: { write: (chunk: string) => (stdout += chunk) },
    stderr: { write: (chunk: string) => (stderr += chunk) },
  });
  return { code, stdout, stderr };
}
