// validate's inputs beyond plain files: directories, standard input with --path,
// and the comparison with the default branch that tells an edit of a merged
// request (which grants nothing) from a new one. plan shares the comparison.
import { execFileSync } from "node:child_process";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { blobId } from "../../src/adapters/git.js";
import { main } from "../../src/cli/main.js";
import { makeRepo, type Repo, runCli } from "./cli-helpers.js";
import { requestText, VALID_EC2 } from "./domain-fixtures.js";

const GOOD = "requests/ec2-admin/resize-web-asg.yaml";
let repo: Repo;

beforeEach(() => {
  repo = makeRepo();
  repo.write(GOOD, requestText(VALID_EC2));
});
afterEach(() => repo.remove());

function git(...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=A", "-c", "user.email=a@example.com", ...args], {
    cwd: repo.root,
    encoding: "utf8",
  });
}

async function runWithStdin(argv: string[], input: string | Uint8Array) {
  let stdout = "";
  let stderr = "";
  const code = await main({
    argv,
    cwd: repo.root,
    stdin: Readable.from([typeof input === "string" ? Buffer.from(input) : input]),
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    now: () => new Date("2026-11-30T08:00:00Z"),
  });
  return { code, stdout, stderr };
}

describe("validate DIR", () => {
  it("checks every request file under a directory, recursively, in path order", async () => {
    repo.write("requests/ec2-admin/another-one.yaml", requestText(VALID_EC2));
    repo.write("requests/ec2-admin/bad-one.yml", requestText({ ...VALID_EC2, duration: "3h" }));
    repo.write("requests/README.md", "Request files live here.\n");
    const run = await runCli(["validate", "requests"], repo.root);
    expect(run.code).toBe(1);
    expect(run.stdout.split("\n").map((l) => l.split(":")[0])).toEqual([
      "requests/ec2-admin/another-one.yaml",
      "requests/ec2-admin/resize-web-asg.yaml",
      "",
    ]);
    expect(run.stderr).toMatch(/^requests\/ec2-admin\/bad-one\.yml:3:11: error: duration "3h" is longer/m);
    expect(run.stderr).not.toContain("README");
  });

  it("takes only request files: `validate .` skips the config, workflows and files outside requests/", async () => {
    repo.write(".github/workflows/elevate-check.yml", "on: pull_request\n");
    repo.write("docs/example.yaml", "not: a request\n");
    const run = await runCli(["validate", "."], repo.root);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toMatch(/^requests\/ec2-admin\/resize-web-asg\.yaml: ok/);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("spells each file from the directory as given, relative to the current directory", async () => {
    const run = await runCli(["validate", "ec2-admin/", "--format", "json"], `${repo.root}/requests`);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).map((r: { file: string }) => r.file)).toEqual(["ec2-admin/resize-web-asg.yaml"]);
  });

  it("says so when a directory holds no request files, and fails nothing", async () => {
    repo.write("requests/empty-role/.gitkeep", "");
    const run = await runCli(["validate", "requests/empty-role"], repo.root);
    expect(run).toEqual({
      code: 0,
      stdout: "",
      stderr: "elevate validate: no request files (.yaml, .yml) under requests/empty-role\n",
    });
  });
});

describe("validate - (standard input)", () => {
  it("validates what it reads as if it lived at --path", async () => {
    const run = await runWithStdin(
      ["validate", "-", "--path", "requests/ec2-admin/from-stdin.yaml"],
      requestText(VALID_EC2),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^requests\/ec2-admin\/from-stdin\.yaml: ok: alice/);
  });

  it("applies the path rules and the id uniqueness to --path", async () => {
    const wrongFolder = await runWithStdin(
      ["validate", "-", "--path", "requests/other-role/x-1.yaml"],
      requestText(VALID_EC2),
    );
    expect(wrongFolder.code).toBe(1);
    expect(wrongFolder.stderr).toMatch(
      /^requests\/other-role\/x-1\.yaml:2:7: error: role "ec2-admin" does not match the folder/m,
    );
    const taken = await runWithStdin(
      ["validate", "-", "--path", "requests/ec2-admin/resize-web-asg.yml"],
      requestText(VALID_EC2),
    );
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(
      /request id "resize-web-asg" is also used by requests\/ec2-admin\/resize-web-asg\.yaml/,
    );
  });

  it("reports YAML errors at their line and column in the text read", async () => {
    const run = await runWithStdin(
      ["validate", "-", "--path", "requests/ec2-admin/x-2.yaml", "--format", "json"],
      "requester: alice\nrole: ec2-admin\n  duration: 1h\n",
    );
    expect(run.code).toBe(1);
    const [result] = JSON.parse(run.stdout);
    expect(result.file).toBe("requests/ec2-admin/x-2.yaml");
    expect(result.errors).toEqual([
      {
        line: 3,
        col: 3,
        message: 'this line is indented under "role"; start it in the same column as the key above',
      },
    ]);
  });

  it("refuses more than the 8 KiB a request file may hold", async () => {
    const run = await runWithStdin(
      ["validate", "-", "--path", "requests/ec2-admin/x-3.yaml"],
      `reason: ${"x".repeat(9000)}\n`,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/x-3\.yaml:1:1: error: .*8 ?KiB|x-3\.yaml:1:1: error: .*8192/);
  });

  it.each([
    [["validate", "-"], /- reads a request from standard input; say where it would live with --path/],
    [["validate", "--path", "requests/ec2-admin/x.yaml", GOOD], /--path names the file read from standard input/],
    [["validate", "-", "-", "--path", "requests/ec2-admin/x.yaml"], /- \(standard input\) may be given only once/],
  ])("usage errors: %j", async (argv, message) => {
    const run = await runWithStdin(argv, "");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

describe("validate and plan compare with the default branch", () => {
  beforeEach(() => {
    git("checkout", "-q", "-b", "main");
    git("add", "-A");
    git("commit", "-q", "-m", "Merge pull request #1: resize-web-asg");
  });

  it("an unchanged merged request is valid, with a note that merging it again grants nothing", async () => {
    const run = await runCli(["validate", GOOD], repo.root);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `${GOOD}: note: already merged on main as it is: it was granted (or refused) at that merge, and merging it again grants nothing\n`,
    );
    const json = await runCli(["validate", "--format", "json", GOOD], repo.root);
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ valid: true, note: expect.stringContaining("already merged") });
  });

  it("an edit of a merged request is an error for validate and for plan", async () => {
    git("checkout", "-q", "-b", "extend");
    repo.write(GOOD, requestText({ ...VALID_EC2, duration: "2h" }));
    const run = await runCli(["validate", GOOD], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `${GOOD}:1:1: error: edits the request already merged on main: edits grant nothing; to change access, delete this request (that revokes it) and add a new file with a new id\n`,
    );
    const plan = await runCli(["plan", GOOD], repo.root);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toBe("");
    expect(plan.stderr).toMatch(/edits the request already merged on main/);
  });

  it("prefers origin's default branch over a local branch of the same content", async () => {
    const origin = `${repo.root}-origin.git`;
    execFileSync("git", ["init", "-q", "--bare", origin]);
    try {
      git("remote", "add", "origin", origin);
      git("push", "-q", "origin", "main");
      git("remote", "set-head", "origin", "main");
      // Locally, main moves on with an edit that origin does not have.
      repo.write(GOOD, requestText({ ...VALID_EC2, duration: "1h" }));
      git("commit", "-q", "-am", "local edit");
      const run = await runCli(["validate", GOOD], repo.root);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/edits the request already merged on origin\/main/);
    } finally {
      execFileSync("rm", ["-rf", origin]);
    }
  });

  it("a new request is not compared with anything", async () => {
    repo.write("requests/ec2-admin/brand-new.yaml", requestText(VALID_EC2));
    const run = await runCli(["validate", "requests/ec2-admin/brand-new.yaml"], repo.root);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain("note:");
  });
});

describe("blobId", () => {
  it("is the id git hash-object gives the same bytes", () => {
    const bytes = new TextEncoder().encode(requestText(VALID_EC2));
    const fromGit = execFileSync("git", ["hash-object", "--stdin"], { input: bytes, encoding: "utf8" }).trim();
    expect(blobId(bytes)).toBe(fromGit);
    expect(blobId(new Uint8Array())).toBe("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
  });
});
