/**
 * `elevate request` end to end: real git repositories, the CLI in-process
 * through main(), subprocesses (git, a fake gh) with an isolated environment.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { REQUEST_ID } from "../../src/domain/request-path.js";
import { parseStrictYaml } from "../../src/domain/strict-yaml.js";
import { runRequest } from "../../src/modes/request.js";
import {
  ghCalls,
  git,
  installFakeGh,
  makeRepo,
  makeSandbox,
  runCli,
  type Sandbox,
  useSandboxEnvironment,
} from "./cli-request-support.js";

const NOW = new Date("2026-11-30T09:00:00Z");
const VALID = ["ec2-admin", "--duration", "1h30m", "--reason", "Resize the web ASG during INC-1234"];

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = makeSandbox();
  useSandboxEnvironment(sandbox);
});

let repo: string;
let counter = 0;
beforeEach(() => {
  rmSync(join(sandbox.bin, "gh"), { force: true });
  counter += 1;
  repo = makeRepo(sandbox, `repo-${counter}`);
});

function requestFiles(root: string): string[] {
  const dir = join(root, "requests");
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((p) => p.endsWith(".yaml"))
    .map((p) => `requests/${p}`);
}

describe("elevate request writes a valid request file", () => {
  it("writes requests/<role>/<id>.yaml at the top level, which elevate validate accepts", async () => {
    mkdirSync(join(repo, "docs"));
    const run = await runCli(
      ["request", ...VALID, "--ticket", "INC-1234", "--requester", "Alice", "--start", "2026-11-30T21:00:00+09:00"],
      join(repo, "docs"),
      NOW,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const files = requestFiles(repo);
    expect(files).toHaveLength(1);
    const file = files[0] as string;
    expect(file).toMatch(/^requests\/ec2-admin\/alice-ec2-admin-20261130-[a-z0-9]{4}\.yaml$/);
    const id = file.split("/")[2]?.replace(/\.yaml$/, "") ?? "";
    expect(id).toMatch(REQUEST_ID);
    expect(run.stdout).toContain(`wrote ../${file}`);
    expect(run.stdout).toContain(`git switch -c elevate/${id}`);
    const text = readFileSync(join(repo, file), "utf8");
    // The login is written as the config lists it; the start keeps its offset, quoted (YAML 1.1 would read a timestamp).
    expect(text).toBe(
      [
        "requester: alice",
        "role: ec2-admin",
        "duration: 1h30m",
        "reason: Resize the web ASG during INC-1234",
        "ticket: INC-1234",
        'start: "2026-11-30T21:00:00+09:00"',
        "",
      ].join("\n"),
    );
    const validate = await runCli(["validate", "--author", "alice", file], repo, NOW);
    expect(validate.stderr).toBe("");
    expect(validate.code).toBe(0);
  });

  it("quotes values YAML 1.1 would coerce, so they stay strings", async () => {
    const run = await runCli(
      ["request", "ec2-admin", "--duration", "2h", "--reason", "yes: on, no # not a comment", "--ticket", "0123"],
      repo,
      NOW,
    );
    // No login from --requester, gh or git config.
    expect(run.code).toBe(2);
    git(repo, ["config", "github.user", "alice"], sandbox.env);
    const ok = await runCli(
      ["request", "ec2-admin", "--duration", "2h", "--reason", "yes: on, no # not a comment", "--ticket", "0123"],
      repo,
      NOW,
    );
    expect(ok.code).toBe(0);
    const file = requestFiles(repo)[0] as string;
    const text = readFileSync(join(repo, file), "utf8");
    expect(text).toContain('reason: "yes: on, no # not a comment"');
    expect(text).toContain('ticket: "0123"');
    const loaded = parseStrictYaml(text);
    expect(loaded.ok && loaded.document.value).toEqual({
      requester: "alice",
      role: "ec2-admin",
      duration: "2h",
      reason: "yes: on, no # not a comment",
      ticket: "0123",
    });
  });

  it("--dry-run prints the file and writes nothing", async () => {
    const run = await runCli(
      ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--dry-run"],
      repo,
      NOW,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^requester: alice\nrole: ec2-admin\nduration: 1h30m\n/);
    expect(run.stderr).toMatch(/dry run: would write requests\/ec2-admin\/alice-ec2-admin-20261130-[a-z0-9]{4}\.yaml/);
    expect(requestFiles(repo)).toEqual([]);
  });

  it("gives each request a unique id across requests/", async () => {
    const io = {
      cwd: repo,
      env: sandbox.env,
      stdout: () => {},
      stderr: () => {},
      now: () => NOW,
      random: () => 0, // always the same suffix: the second id must still differ
    };
    const options = {
      role: "ec2-admin",
      duration: "1h",
      reason: "Resize the web ASG during INC-1234",
      ticket: "INC-1",
      requester: "alice",
    };
    // The first id is taken by a file in another folder: ids are unique across all of requests/.
    mkdirSync(join(repo, "requests/other"), { recursive: true });
    writeFileSync(join(repo, "requests/other/alice-ec2-admin-20261130-0000.yaml"), "x: y\n");
    let calls = 0;
    const outcome = await runRequest(options, {
      ...io,
      random: () => (calls++ < 4 ? 0 : 0.5),
    });
    expect(outcome).toBe("ok");
    const written = requestFiles(repo).filter((f) => f.startsWith("requests/ec2-admin/"));
    expect(written).toEqual(["requests/ec2-admin/alice-ec2-admin-20261130-iiii.yaml"]);
  });
});

describe("elevate request refuses bad input in the terms of its command line and writes nothing", () => {
  it("an unknown role: exit 1", async () => {
    const run = await runCli(
      ["request", "s3-admin", "--duration", "1h", "--reason", "Clean up the logs bucket", "--requester", "alice"],
      repo,
      NOW,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^elevate request: ROLE s3-admin: role "s3-admin" is not in the config's role catalog \(roles: ec2-admin\)$/m,
    );
    expect(run.stderr).not.toMatch(/\.yaml:\d+:\d+/);
    expect(run.stderr).toContain("nothing was written");
    expect(requestFiles(repo)).toEqual([]);
    expect(existsSync(join(repo, "requests"))).toBe(false);
  });

  it("a duration over the role's maximum: exit 1", async () => {
    const run = await runCli(
      ["request", "ec2-admin", "--duration", "3h", "--reason", "Resize the web ASG", "--ticket", "INC-1"],
      repo,
      NOW,
    );
    // github.user unset and no gh: exit 2 before validation; then with a login, the duration is judged.
    expect(run.code).toBe(2);
    const judged = await runCli(
      [
        "request",
        "ec2-admin",
        "--duration",
        "3h",
        "--reason",
        "Resize the web ASG",
        "--ticket",
        "INC-1",
        "--requester",
        "alice",
      ],
      repo,
      NOW,
    );
    expect(judged.code).toBe(1);
    expect(judged.stderr).toMatch(
      /^elevate request: --duration 3h: duration "3h" is longer than the maximum of 2h for role "ec2-admin"$/m,
    );
    expect(requestFiles(repo)).toEqual([]);
  });

  it("a start whose window already closed, a missing ticket and a short reason are all reported at once", async () => {
    const run = await runCli(
      [
        "request",
        "ec2-admin",
        "--duration",
        "1h",
        "--reason",
        "short",
        "--requester",
        "alice",
        "--start",
        "2026-11-01T00:00:00Z",
      ],
      repo,
      NOW,
    );
    expect(run.code).toBe(1);
    expect(run.stderr.split("\n")).toEqual([
      'elevate request: --ticket: role "ec2-admin" requires a ticket; pass e.g. --ticket INC-1234',
      "elevate request: --reason: reason is 5 characters; write at least 10 saying why you need access",
      "elevate request: --start 2026-11-01T00:00:00Z: the requested window closed at 2026-11-01T01:00:00.000Z (start + duration is before 2026-11-30T09:00:00.000Z); remove start or pick a later one",
      "elevate request: the request is invalid (3 errors); nothing was written",
      "",
    ]);
  });

  it("no GitHub identity anywhere: exit 2 with how to set one", async () => {
    const run = await runCli(["request", ...VALID, "--ticket", "INC-1"], repo, NOW);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      "no GitHub login found: pass --requester YOUR_LOGIN, sign in with `gh auth login`, or run `git config --global github.user YOUR_LOGIN`",
    );
    expect(requestFiles(repo)).toEqual([]);
  });

  it("usage errors: missing --reason, a second ROLE, an unknown option: exit 2", async () => {
    const missing = await runCli(["request", "ec2-admin", "--duration", "1h"], repo, NOW);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing --reason");
    const two = await runCli(["request", "a", "b", "--duration", "1h", "--reason", "xxxxxxxxxxxx"], repo, NOW);
    expect(two.code).toBe(2);
    const unknown = await runCli(["request", ...VALID, "--for", "bob"], repo, NOW);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--for");
    const both = await runCli(["request", ...VALID, "--requester", "alice", "--open-pr", "--dry-run"], repo, NOW);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--dry-run and --open-pr cannot be combined");
  });

  it("outside a git repository: exit 2", async () => {
    const outside = join(sandbox.dir, `plain-${counter}`);
    mkdirSync(outside);
    const run = await runCli(["request", ...VALID, "--requester", "alice"], outside, NOW);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("is not inside a git repository");
  });
});

describe("elevate request finds the requester", () => {
  it("uses git config github.user when gh is absent", async () => {
    git(repo, ["config", "github.user", "alice"], sandbox.env);
    const run = await runCli(["request", ...VALID, "--ticket", "INC-1"], repo, NOW);
    expect(run.code).toBe(0);
    expect(readFileSync(join(repo, requestFiles(repo)[0] as string), "utf8")).toMatch(/^requester: alice\n/);
  });

  it("prefers the account gh is signed in to over git config", async () => {
    git(repo, ["config", "github.user", "bob"], sandbox.env);
    const { log } = installFakeGh(sandbox, "alice");
    const run = await runCli(["request", ...VALID, "--ticket", "INC-1"], repo, NOW);
    expect(run.code).toBe(0);
    expect(requestFiles(repo)[0]).toMatch(/^requests\/ec2-admin\/alice-/);
    expect(ghCalls(log)).toContainEqual(["api", "user", "--jq", ".login"]);
  });
});

describe("elevate request --open-pr", () => {
  it("refuses a dirty working tree: exit 2, no branch, nothing written", async () => {
    writeFileSync(join(repo, "notes.txt"), "work in progress\n");
    const run = await runCli(
      ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--open-pr"],
      repo,
      NOW,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--open-pr needs a clean working tree");
    expect(requestFiles(repo)).toEqual([]);
    expect(git(repo, ["branch", "--list", "elevate/*"], sandbox.env)).toBe("");
  });

  it("without gh: commits only the request on elevate/<id> and prints the push and compare commands", async () => {
    git(repo, ["remote", "add", "origin", "git@github.com:acme/access.git"], sandbox.env);
    const run = await runCli(
      ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--open-pr"],
      repo,
      NOW,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const file = requestFiles(repo)[0] as string;
    const id = file.split("/")[2]?.replace(/\.yaml$/, "") ?? "";
    expect(git(repo, ["rev-parse", "--abbrev-ref", "HEAD"], sandbox.env).trim()).toBe(`elevate/${id}`);
    expect(git(repo, ["show", "--name-status", "--format=%s", "HEAD"], sandbox.env)).toBe(
      `Elevate request: ec2-admin for 1h30m (${id})\n\nA\t${file}\n`,
    );
    expect(git(repo, ["status", "--porcelain"], sandbox.env)).toBe("");
    expect(run.stdout).toContain(`git push -u origin elevate/${id}`);
    expect(run.stdout).toContain(`https://github.com/acme/access/compare/elevate/${id}?expand=1`);
  });

  it("with gh: pushes the branch and runs gh pr create with the title and body as argv", async () => {
    const origin = join(sandbox.dir, `origin-${counter}.git`);
    git(sandbox.dir, ["init", "-q", "--bare", origin], sandbox.env);
    git(repo, ["remote", "add", "origin", origin], sandbox.env);
    const { log } = installFakeGh(sandbox, "alice");
    const reason = "Resize the web ASG; $(touch /tmp/pwned) `id` 'quoted'";
    const run = await runCli(
      ["request", "ec2-admin", "--duration", "1h", "--reason", reason, "--ticket", "INC-1", "--open-pr"],
      repo,
      NOW,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const file = requestFiles(repo)[0] as string;
    const id = file.split("/")[2]?.replace(/\.yaml$/, "") ?? "";
    expect(git(origin, ["ls-tree", "-r", "--name-only", `elevate/${id}`], sandbox.env)).toContain(file);
    const create = ghCalls(log).find((call) => call[0] === "pr" && call[1] === "create");
    expect(create?.slice(0, 6)).toEqual([
      "pr",
      "create",
      "--head",
      `elevate/${id}`,
      "--title",
      `Elevate request: ec2-admin for 1h (${id})`,
    ]);
    expect(create?.[6]).toBe("--body");
    expect(create?.[7]).toContain(`- Reason: ${reason}`);
    expect(run.stdout).toContain("opened https://github.com/acme/access/pull/42");
  });
});

describe("elevate request --id", () => {
  it("names the file with the given id", async () => {
    const run = await runCli(
      ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--id", "resize-web-asg"],
      repo,
      NOW,
    );
    expect(run.code).toBe(0);
    expect(requestFiles(repo)).toEqual(["requests/ec2-admin/resize-web-asg.yaml"]);
  });

  it("refuses an id that breaks the id rule or is already used anywhere under requests/", async () => {
    const bad = await runCli(["request", ...VALID, "--requester", "alice", "--id", "No_Caps"], repo, NOW);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^elevate request: --id No_Caps: a request id is 3 to 63 lower-case letters/m);
    mkdirSync(join(repo, "requests/other-role"), { recursive: true });
    writeFileSync(join(repo, "requests/other-role/taken-id.yaml"), "requester: bob\n");
    const taken = await runCli(
      ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--id", "taken-id"],
      repo,
      NOW,
    );
    expect(taken.code).toBe(2);
    expect(taken.stderr).toContain(
      "--id taken-id: the id is already used by requests/other-role/taken-id.yaml; ids are unique across requests/",
    );
    expect(requestFiles(repo)).toEqual(["requests/other-role/taken-id.yaml"]);
  });
});

describe("elevate request bounds a future start", () => {
  it(`accepts a start up to 7 days ahead and refuses one further away, in flag terms`, async () => {
    const args = ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--dry-run", "--start"];
    expect((await runCli([...args, "2026-12-07T09:00:00Z"], repo, NOW)).code).toBe(0);
    const far = await runCli([...args, "2026-12-07T09:00:01Z"], repo, NOW);
    expect(far.code).toBe(1);
    expect(far.stderr).toBe(
      [
        "elevate request: --start 2026-12-07T09:00:01Z: start 2026-12-07T09:00:01.000Z is more than 7 days after 2026-11-30T09:00:00.000Z; a request may start at most 7 days ahead, so ask nearer the time",
        "elevate request: the request is invalid (1 error); nothing was written",
        "",
      ].join("\n"),
    );
    expect(far.stdout).toBe("");
  });
});

describe("elevate request --open-pr checks first and branches from the default branch", () => {
  it("refuses before touching anything when git does not know who you are", async () => {
    const anonymous = join(sandbox.dir, `anon-${counter}`);
    mkdirSync(join(anonymous, ".github"), { recursive: true });
    git(anonymous, ["init", "-q", "-b", "main"], sandbox.env);
    writeFileSync(join(anonymous, ".github/elevate.yml"), readFileSync(join(repo, ".github/elevate.yml")));
    const env = { ...sandbox.env, GIT_AUTHOR_NAME: "A", GIT_AUTHOR_EMAIL: "a@example.com" };
    git(anonymous, ["add", "."], env);
    git(anonymous, ["-c", "user.name=A", "-c", "user.email=a@example.com", "commit", "-q", "-m", "config"], env);
    git(anonymous, ["remote", "add", "origin", "git@github.com:acme/access.git"], sandbox.env);
    // Without this, git may make up root@<hostname> on a machine whose hostname has a domain.
    git(anonymous, ["config", "user.useConfigOnly", "true"], sandbox.env);
    // No user.email and no EMAIL: git would refuse to commit; so must we, before any branch or file.
    const saved = { ...process.env };
    for (const key of ["GIT_COMMITTER_EMAIL", "GIT_AUTHOR_EMAIL", "EMAIL"]) delete process.env[key];
    try {
      const run = await runCli(
        ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--open-pr"],
        anonymous,
        NOW,
      );
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /--open-pr commits, and git does not know who you are; run `git config --global user\.name/,
      );
      expect(run.stderr).toContain("nothing was written");
      expect(requestFiles(anonymous)).toEqual([]);
      expect(git(anonymous, ["branch", "--list", "elevate/*"], sandbox.env)).toBe("");
    } finally {
      for (const key of ["GIT_COMMITTER_EMAIL", "GIT_AUTHOR_EMAIL", "EMAIL"]) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
    }
  });

  it("refuses without an origin remote, before touching anything", async () => {
    const run = await runCli(
      ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--open-pr"],
      repo,
      NOW,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--open-pr pushes to the remote origin, and this clone has none");
    expect(requestFiles(repo)).toEqual([]);
  });

  it("branches from the default branch even when another branch is checked out", async () => {
    const origin = join(sandbox.dir, `origin-${counter}.git`);
    git(sandbox.dir, ["init", "-q", "--bare", origin], sandbox.env);
    git(repo, ["remote", "add", "origin", origin], sandbox.env);
    git(repo, ["push", "-q", "origin", "main"], sandbox.env);
    git(repo, ["fetch", "-q", "origin"], sandbox.env);
    git(repo, ["remote", "set-head", "origin", "main"], sandbox.env);
    git(repo, ["switch", "-q", "-c", "feature"], sandbox.env);
    writeFileSync(join(repo, "unrelated.txt"), "feature work\n");
    git(repo, ["add", "unrelated.txt"], sandbox.env);
    git(repo, ["commit", "-q", "-m", "feature work"], sandbox.env);
    const run = await runCli(
      ["request", ...VALID, "--ticket", "INC-1", "--requester", "alice", "--open-pr", "--id", "from-main"],
      repo,
      NOW,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(git(repo, ["rev-parse", "HEAD~1"], sandbox.env)).toBe(git(repo, ["rev-parse", "origin/main"], sandbox.env));
    expect(git(repo, ["diff", "--name-only", "origin/main", "HEAD"], sandbox.env)).toBe(
      "requests/ec2-admin/from-main.yaml\n",
    );
  });

  it("suggests --open-pr after writing only where it would have worked", async () => {
    const plain = await runCli(["request", ...VALID, "--ticket", "INC-1", "--requester", "alice"], repo, NOW);
    expect(plain.code).toBe(0);
    expect(plain.stdout).not.toContain("--open-pr"); // no origin remote here
    expect(plain.stdout).toContain("git switch -c elevate/");
    git(repo, ["stash", "-u", "-q"], sandbox.env);
    git(repo, ["stash", "drop", "-q"], sandbox.env);
    git(repo, ["remote", "add", "origin", "git@github.com:acme/access.git"], sandbox.env);
    const ready = await runCli(["request", ...VALID, "--ticket", "INC-1", "--requester", "alice"], repo, NOW);
    expect(ready.code).toBe(0);
    expect(ready.stdout).toContain("(Next time, --open-pr does these steps for you.)");
    expect(ready.stdout).toMatch(/git switch -c elevate\/\S+ main\n/);
  });
});
