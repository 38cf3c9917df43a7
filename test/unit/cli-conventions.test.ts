// The conventions people expect from gh, terraform and aws: --version, help for
// every command, did-you-mean, and messages in our words rather than a library's.
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commands } from "../../src/cli/main.js";
import { makeRepo, type Repo, runCli } from "./cli-helpers.js";

const packageVersion = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

let repo: Repo;
beforeEach(() => {
  repo = makeRepo();
});
afterEach(() => repo.remove());

describe("elevate --version", () => {
  it.each([["--version"], ["-V"], ["version"]])("%s prints the package version", async (flag) => {
    expect(await runCli([flag], repo.root)).toEqual({ code: 0, stdout: `elevate ${packageVersion}\n`, stderr: "" });
  });
});

describe("help for every command", () => {
  const names = Object.keys(commands);

  it.each(names)("'help %s', '%s --help', '%s -h' and '%s help' print the same help", async (name) => {
    const ways = [
      ["help", name],
      [name, "--help"],
      [name, "-h"],
      [name, "help"],
    ];
    const runs = await Promise.all(ways.map((argv) => runCli(argv, repo.root)));
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stderr).toBe("");
      expect(run.stdout).toMatch(new RegExp(`^Usage: elevate ${name}\\b`));
      expect(run.stdout).toMatch(/-h, --help +show this help/);
    }
    expect(new Set(runs.map((r) => r.stdout)).size).toBe(1);
  });

  it("help with no command, or --help, lists every command and the global options", async () => {
    for (const argv of [["help"], ["--help"], ["-h"]]) {
      const run = await runCli(argv, repo.root);
      expect(run.code).toBe(0);
      for (const name of names) expect(run.stdout).toMatch(new RegExp(`^  ${name} +\\S`, "m"));
      expect(run.stdout).toMatch(/-V, --version +print the version/);
    }
  });

  it("help for an unknown command says so and suggests the closest", async () => {
    const run = await runCli(["help", "stauts"], repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^elevate help: unknown command "stauts"; did you mean 'elevate status'\?/);
  });
});

describe("did you mean", () => {
  it.each([
    [["vaildate", "x.yaml"], /unknown command "vaildate"; did you mean 'elevate validate'\?/],
    [["pln"], /unknown command "pln"; did you mean 'elevate plan'\?/],
    [["--verison"], /unknown option --verison before a command; did you mean --version\?/],
    [
      ["validate", "--fromat", "json", "x.yaml"],
      /^elevate validate: unknown option --fromat; did you mean --format\?$/m,
    ],
    [
      ["plan", "--merged-as", "2026-11-30T08:00:00Z", "x.yaml"],
      /unknown option --merged-as; did you mean --merged-at\?/,
    ],
    [["request", "ec2-admin", "--durration", "1h"], /unknown option --durration; did you mean --duration\?/],
    [["status", "--formt", "json"], /unknown option --formt; did you mean --format\?/],
    [["audit", "--snice", "2026-01-01"], /unknown option --snice; did you mean --since\?/],
  ])("%j", async (argv, message) => {
    const run = await runCli(argv, repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("suggests nothing for a name nowhere near a known one", async () => {
    const run = await runCli(["validate", "--zzzzzz", "x.yaml"], repo.root);
    expect(run.stderr).toMatch(/^elevate validate: unknown option --zzzzzz$/m);
    const command = await runCli(["frobnicate"], repo.root);
    expect(command.stderr).not.toMatch(/did you mean/);
  });
});

describe("option errors in our words", () => {
  it.each([
    [["status", "--ref"], /^elevate status: --ref needs a value$/m],
    [["validate", "--format"], /^elevate validate: --format needs a value$/m],
    [["validate", "--format", "json", "--format", "text", "x.yaml"], /--format may be given only once/],
    [["request", "ec2-admin", "--open-pr=yes"], /--open-pr takes no value/],
    [
      ["request", "ec2-admin", "--reason", "--ticket", "INC-1"],
      /--reason needs a value \(--ticket is an option; write --reason=--ticket if you mean it\)/,
    ],
    [["request"], /missing ROLE argument/],
    [["request", "a", "b"], /expected one ROLE, got 2: "a" "b"/],
    [["audit", "extra"], /takes no arguments, got "extra"/],
  ])("%j", async (argv, message) => {
    const run = await runCli(argv, repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/ambiguous|Unknown option|ERR_PARSE_ARGS|To specify/);
  });

  it("a value that starts with a dash reaches the rule it breaks (--duration -1h)", async () => {
    const run = await runCli(
      [
        "request",
        "ec2-admin",
        "--requester",
        "alice",
        "--duration",
        "-1h",
        "--reason",
        "Resize the web ASG",
        "--ticket",
        "INC-1",
        "--dry-run",
      ],
      repo.root,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--duration -1h: duration "-1h" has a sign; write a positive duration like 2h/);
    expect(run.stderr).not.toMatch(/ambiguous/);
  });
});
