import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeRepo, type Repo, runCli } from "./cli-helpers.js";
import { requestText, VALID_EC2 } from "./domain-fixtures.js";

const GOOD = "requests/ec2-admin/resize-web-asg.yaml";
let repo: Repo;

beforeEach(() => {
  repo = makeRepo();
  repo.write(GOOD, requestText(VALID_EC2));
});
afterEach(() => repo.remove());

describe("elevate validate", () => {
  it("exits 0 and says what a valid request grants", async () => {
    const run = await runCli(["validate", GOOD], repo.root);
    expect(run).toEqual({
      code: 0,
      stdout: `${GOOD}: ok: alice (IAM user alice.smith) may assume arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role for 1h30m; 2 approval(s) required\n`,
      stderr: "",
    });
  });

  it("exits 1 and prints FILE:LINE:COL: error: MESSAGE lines for an invalid request", async () => {
    repo.write("requests/ec2-admin/too-long.yaml", requestText({ ...VALID_EC2, duration: "3h", reason: "x\u0007" }));
    const run = await runCli(["validate", "requests/ec2-admin/too-long.yaml", GOOD], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr.split("\n")).toEqual([
      "requests/ec2-admin/too-long.yaml:4:10: error: control character (U+0007) is not allowed",
      "",
    ]);
    repo.write("requests/ec2-admin/too-long.yaml", requestText({ ...VALID_EC2, duration: "3h", reason: "short" }));
    const again = await runCli(["validate", "requests/ec2-admin/too-long.yaml"], repo.root);
    expect(again.stderr).toBe(
      [
        'requests/ec2-admin/too-long.yaml:3:11: error: duration "3h" is longer than the maximum of 2h for role "ec2-admin"',
        "requests/ec2-admin/too-long.yaml:4:9: error: reason is 5 characters; write at least 10 saying why you need access",
        "",
      ].join("\n"),
    );
    expect(again.stdout).toBe("");
  });

  it("takes FILE relative to the current directory and finds the config at the repository root", async () => {
    const run = await runCli(["validate", "resize-web-asg.yaml"], join(repo.root, "requests/ec2-admin"));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^resize-web-asg\.yaml: ok/);
    repo.write("requests/ec2-admin/bad-one.yaml", requestText({ ...VALID_EC2, role: "read-only" }));
    const bad = await runCli(["validate", "bad-one.yaml"], join(repo.root, "requests/ec2-admin"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^bad-one\.yaml:2:7: error: role "read-only" does not match the folder requests\/ec2-admin\//m,
    );
  });

  it("applies the path rules to files outside requests/", async () => {
    repo.write("elsewhere/x-1.yaml", requestText(VALID_EC2));
    const run = await runCli(["validate", "elsewhere/x-1.yaml"], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^elsewhere\/x-1\.yaml:1:1: error: "elsewhere\/x-1\.yaml" is not under requests\//m);
  });

  it("prints a JSON array with --format json", async () => {
    repo.write("requests/ec2-admin/bad-two.yaml", requestText({ ...VALID_EC2, extra: "x" }));
    const run = await runCli(["validate", "--format", "json", GOOD, "requests/ec2-admin/bad-two.yaml"], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual([
      {
        file: GOOD,
        valid: true,
        errors: [],
        request: {
          path: GOOD,
          id: "resize-web-asg",
          role: "ec2-admin",
          target: { kind: "role", roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role" },
          roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
          requester: "alice",
          iamUser: "alice.smith",
          duration: "1h30m",
          durationMs: 5_400_000,
          reason: "Resize the web ASG during INC-1234",
          ticket: "INC-1234",
          approvals: 2,
        },
      },
      {
        file: "requests/ec2-admin/bad-two.yaml",
        valid: false,
        errors: [
          {
            line: 6,
            col: 1,
            message: 'unknown key "extra"; allowed keys: requester, role, duration, reason, ticket, start',
          },
        ],
      },
    ]);
  });

  it("judges start against --now", async () => {
    repo.write("requests/ec2-admin/later.yaml", requestText({ ...VALID_EC2, start: "2026-12-01T09:00:00Z" }));
    const before = await runCli(
      ["validate", "--now", "2026-12-01T10:00:00Z", "requests/ec2-admin/later.yaml"],
      repo.root,
    );
    expect(before.code).toBe(0);
    const after = await runCli(
      ["validate", "--now", "2026-12-01T10:30:01+00:00", "requests/ec2-admin/later.yaml"],
      repo.root,
    );
    expect(after.code).toBe(1);
    expect(after.stderr).toBe(
      "requests/ec2-admin/later.yaml:6:8: error: the requested window closed at 2026-12-01T10:30:00.000Z (start + duration is before 2026-12-01T10:30:01.000Z); remove start or pick a later one\n",
    );
  });

  it("checks the requester against --author", async () => {
    expect((await runCli(["validate", "--author", "Alice", GOOD], repo.root)).code).toBe(0);
    const run = await runCli(["validate", "--author", "bob", GOOD], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `${GOOD}:1:12: error: requester "alice" is not the pull request author "bob"; a request must be opened by its requester\n`,
    );
  });

  it("refuses an id that another file under requests/ uses, in any folder", async () => {
    repo.write("requests/read-only/resize-web-asg.yml", requestText({ ...VALID_EC2, role: "read-only" }));
    const run = await runCli(["validate", GOOD], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `${GOOD}:1:1: error: request id "resize-web-asg" is also used by requests/read-only/resize-web-asg.yml; ids must be unique across requests/ — pick another file name\n`,
    );
  });

  it("exits 2 and locates config errors in the config file", async () => {
    repo.write(".github/elevate.yml", "version: 1\naws:\n  region: nowhere\n");
    const run = await runCli(["validate", GOOD], join(repo.root, "requests"));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trim().split("\n");
    expect(lines).toContain(
      '../.github/elevate.yml:3:11: error: aws.region: "nowhere" is not an AWS region name (e.g. ap-northeast-1)',
    );
    expect(lines).toContain('../.github/elevate.yml:1:1: error: missing required key "users"');
    expect(lines.at(-1)).toBe("elevate: the config is invalid or missing; nothing was validated");
    const json = await runCli(["validate", "--format", "json", GOOD], repo.root);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ file: ".github/elevate.yml", valid: false });
  });

  it("uses --config relative to the current directory", async () => {
    repo.write(
      "alt/config.yml",
      `${"# alternative\n"}${(await import("./domain-fixtures.js")).CONFIG_TEXT.replace("maxDuration: 2h", "maxDuration: 1h")}`,
    );
    const run = await runCli(["validate", "--config", "alt/config.yml", GOOD], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/longer than the maximum of 1h/);
    const missing = await runCli(["validate", "--config", "nope.yml", GOOD], repo.root);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toMatch(/^nope\.yml:1:1: error: cannot read the config: no such file$/m);
  });

  it("outside a git repository, uses the current directory as the root and says so when the config is missing", async () => {
    const plain = makeRepo({ git: false, config: null });
    try {
      plain.write(GOOD, requestText(VALID_EC2));
      const run = await runCli(["validate", GOOD], plain.root);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/not inside a git repository.*pass --config/);
      plain.write(".github/elevate.yml", (await import("./domain-fixtures.js")).CONFIG_TEXT);
      expect((await runCli(["validate", GOOD], plain.root)).code).toBe(0);
    } finally {
      plain.remove();
    }
  });

  it.each([
    [["validate"], /missing FILE argument/],
    [["validate", "--bogus", GOOD], /unknown option --bogus\n/],
    [["validate", "--now", "tomorrow", GOOD], /--now: "tomorrow" is not an RFC 3339 timestamp/],
    [["validate", "--now", "2026-11-30T09:00:00", GOOD], /--now: .* has no time zone/],
    [["validate", "--format", "xml", GOOD], /--format must be one of text, json/],
    [["validate", "--author", "not a login", GOOD], /--author "not a login" is not a GitHub login/],
    [
      ["validate", "requests/ec2-admin/missing.yaml"],
      /missing\.yaml:1:1: error: cannot read requests\/ec2-admin\/missing\.yaml: no such file/,
    ],
    [["frobnicate"], /unknown command "frobnicate"; commands: validate, plan/],
    [["valdiate", GOOD], /unknown command "valdiate"; did you mean 'elevate validate'\?/],
    [[], /Usage: elevate <command>/],
  ])("exits 2 on usage errors: %j", async (argv, message) => {
    const run = await runCli(argv, repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it("prints help for the program and for the command", async () => {
    const program = await runCli(["--help"], repo.root);
    expect(program.code).toBe(0);
    expect(program.stdout).toMatch(
      /validate +Validate request files[\s\S]*plan +Print what merging a request would grant/,
    );
    const command = await runCli(["validate", "--help"], repo.root);
    expect(command.code).toBe(0);
    expect(command.stdout).toMatch(
      /^Usage: elevate validate \[--config F\] \[--author LOGIN\] \[--now ISO\] \[--format text\|json\] \[--path P\] FILE\|DIR\|-…/,
    );
    expect(command.stdout).toMatch(/Exit status: 0 all valid, 1 any invalid, 2 usage or config error/);
  });

  it("refuses a request file that is a symbolic link", async () => {
    const { symlinkSync } = await import("node:fs");
    symlinkSync(join(repo.root, GOOD), join(repo.root, "requests/ec2-admin/linked.yaml"));
    const run = await runCli(["validate", "requests/ec2-admin/linked.yaml"], repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/is a symbolic link/);
  });

  it("reports a 9 KiB file as invalid without reading it", async () => {
    repo.write("requests/ec2-admin/huge-one.yaml", `${requestText(VALID_EC2)}# ${"x".repeat(9 * 1024)}\n`);
    const run = await runCli(["validate", "requests/ec2-admin/huge-one.yaml"], repo.root);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^requests\/ec2-admin\/huge-one\.yaml:1:1: error: file is \d+ bytes; the limit is 8192 bytes \(8 KiB\)$/m,
    );
  });
});
