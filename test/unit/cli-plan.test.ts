import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { grantPolicyText } from "../../src/domain/grant-policy.js";
import { makeRepo, type Repo, runCli } from "./cli-helpers.js";
import { requestText, VALID_EC2 } from "./domain-fixtures.js";

const GOOD = "requests/ec2-admin/resize-web-asg.yaml";
let repo: Repo;

beforeEach(() => {
  repo = makeRepo();
  repo.write(GOOD, requestText(VALID_EC2));
});
afterEach(() => repo.remove());

describe("elevate plan", () => {
  it("prints the grant as JSON for --merged-at, with the exact policy document", async () => {
    const run = await runCli(["plan", "--merged-at", "2026-11-30T18:00:00.750+09:00", GOOD], repo.root);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const plan = JSON.parse(run.stdout);
    expect(Object.keys(plan)).toEqual([
      "kind",
      "requestId",
      "iamUser",
      "roleArn",
      "notBefore",
      "notAfter",
      "policyName",
      "policyDocument",
    ]);
    expect(plan).toMatchObject({
      kind: "role",
      requestId: "resize-web-asg",
      iamUser: "alice.smith",
      roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
      notBefore: "2026-11-30T09:00:00Z",
      notAfter: "2026-11-30T10:30:00Z",
      policyName: "elevate-resize-web-asg",
    });
    expect(JSON.stringify(plan.policyDocument)).toBe(
      grantPolicyText({
        requestId: "resize-web-asg",
        iamUser: "alice.smith",
        roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role",
        notBefore: new Date("2026-11-30T09:00:00Z"),
        notAfter: new Date("2026-11-30T10:30:00Z"),
      }),
    );
  });

  it("plans from now without --merged-at, and from start when it is later", async () => {
    const now = await runCli(["plan", GOOD], repo.root, new Date("2026-11-30T08:00:00Z"));
    expect(JSON.parse(now.stdout)).toMatchObject({
      notBefore: "2026-11-30T08:00:00Z",
      notAfter: "2026-11-30T09:30:00Z",
    });
    repo.write("requests/ec2-admin/later.yaml", requestText({ ...VALID_EC2, start: "2026-12-01T09:00:00Z" }));
    const later = await runCli(["plan", "requests/ec2-admin/later.yaml"], repo.root, new Date("2026-11-30T08:00:00Z"));
    expect(JSON.parse(later.stdout)).toMatchObject({
      notBefore: "2026-12-01T09:00:00Z",
      notAfter: "2026-12-01T10:30:00Z",
    });
  });

  it("validates at the merge time: a window closed by then is an invalid request (exit 1)", async () => {
    repo.write("requests/ec2-admin/later.yaml", requestText({ ...VALID_EC2, start: "2026-12-01T09:00:00Z" }));
    const run = await runCli(
      ["plan", "--merged-at", "2026-12-02T00:00:00Z", "requests/ec2-admin/later.yaml"],
      repo.root,
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^requests\/ec2-admin\/later\.yaml:6:8: error: the requested window closed/);
  });

  it("exits 1 with located errors for an invalid request", async () => {
    repo.write("requests/ec2-admin/bad-one.yaml", requestText({ ...VALID_EC2, ticket: undefined }));
    const run = await runCli(["plan", "requests/ec2-admin/bad-one.yaml"], repo.root);
    expect(run).toEqual({
      code: 1,
      stdout: "",
      stderr:
        'requests/ec2-admin/bad-one.yaml:1:1: error: role "ec2-admin" requires a ticket; add e.g. "ticket: INC-1234"\n',
    });
  });

  it("exits 2 on usage and config errors", async () => {
    expect((await runCli(["plan"], repo.root)).code).toBe(2);
    expect((await runCli(["plan", GOOD, GOOD], repo.root)).stderr).toMatch(/expected one FILE, got 2/);
    expect((await runCli(["plan", "--merged-at", "yesterday", GOOD], repo.root)).code).toBe(2);
    expect((await runCli(["plan", "--now", "2026-11-30T00:00:00Z", GOOD], repo.root)).stderr).toMatch(
      /unknown option --now\n/,
    );
    repo.write(".github/elevate.yml", "version: 1\nversion: 1\n");
    const config = await runCli(["plan", GOOD], repo.root);
    expect(config.code).toBe(2);
    expect(config.stderr).toMatch(
      /^\.github\/elevate\.yml:2:1: error: duplicate key "version" \(first defined at line 1\)$/m,
    );
  });

  it("prints its help", async () => {
    const run = await runCli(["plan", "-h"], repo.root);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: elevate plan \[--config F\] \[--merged-at ISO\] \[--format json\|text\] FILE/);
  });
});

describe("the CLI as a child process (src/cli/index.ts through tsx)", () => {
  const run = promisify(execFile);
  const tsx = createRequire(import.meta.url).resolve("tsx/cli");
  const entry = fileURLToPath(new URL("../../src/cli/index.ts", import.meta.url));
  const cli = async (args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [tsx, entry, ...args], { cwd: repo.root });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it("sets the exit status and writes to stdout and stderr", async () => {
    repo.write("requests/ec2-admin/bad-one.yaml", requestText({ ...VALID_EC2, duration: "1e9h" }));
    // Two processes only (each compiles the CLI through tsx); the in-process tests cover the rest.
    const [invalid, plan] = await Promise.all([
      cli(["validate", GOOD, "requests/ec2-admin/bad-one.yaml"]),
      cli(["plan", "--merged-at", "2026-11-30T09:00:00Z", GOOD]),
    ]);
    expect(invalid).toEqual({
      code: 1,
      stdout: expect.stringMatching(/^requests\/ec2-admin\/resize-web-asg\.yaml: ok: alice/),
      stderr:
        'requests/ec2-admin/bad-one.yaml:3:11: error: duration "1e9h" is not a whole number; write e.g. 1h30m, not 1.5h\n',
    });
    expect(plan.code).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({
      notBefore: "2026-11-30T09:00:00Z",
      notAfter: "2026-11-30T10:30:00Z",
    });
  });
});

describe("elevate plan --format text", () => {
  it("prints the grant for people, like terraform plan, with the same window and policy name as the JSON", async () => {
    const mergedAt = "2026-11-30T08:00:00Z";
    const text = await runCli(["plan", "--format", "text", "--merged-at", mergedAt, GOOD], repo.root);
    const json = await runCli(["plan", "--merged-at", mergedAt, GOOD], repo.root);
    expect(text.code).toBe(0);
    expect(text.stderr).toBe("");
    const plan = JSON.parse(json.stdout);
    expect(text.stdout).toBe(
      [
        `Elevate plan for ${GOOD}, merged at 2026-11-30T08:00:00Z once approved:`,
        "",
        `  # grant resize-web-asg: IAM user alice.smith may assume ${plan.roleArn}`,
        `  + inline policy "${plan.policyName}" on IAM user "alice.smith"`,
        "      action       = sts:AssumeRole",
        `      role         = ${plan.roleArn}`,
        `      not before   = ${plan.notBefore}  (at merge)`,
        `      not after    = ${plan.notAfter}  (1h 30m later; the policy expires by itself)`,
        "      session name = alice.smith  (the switch-role session name must equal the IAM user name)",
        "      requester    = alice",
        `      reason       = ${JSON.stringify(VALID_EC2.reason)}`,
        `      ticket       = ${VALID_EC2.ticket}`,
        "",
        "Plan: 1 grant. Needs 2 approvals from code owners of requests/ec2-admin/ (not the requester).",
        "",
      ].join("\n"),
    );
  });

  it("says when the window opens at the requested start rather than at merge", async () => {
    repo.write(
      "requests/ec2-admin/later-one.yaml",
      requestText({ ...VALID_EC2, start: "2026-11-30T12:00:00Z", duration: "1h" }),
    );
    const run = await runCli(
      ["plan", "--format", "text", "--merged-at", "2026-11-30T08:00:00Z", "requests/ec2-admin/later-one.yaml"],
      repo.root,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("not before   = 2026-11-30T12:00:00Z  (at the requested start)");
    expect(run.stdout).toContain("not after    = 2026-11-30T13:00:00Z  (1h later;");
  });

  it("keeps JSON the default and refuses other formats", async () => {
    const run = await runCli(["plan", "--merged-at", "2026-11-30T08:00:00Z", GOOD], repo.root);
    expect(() => JSON.parse(run.stdout)).not.toThrow();
    const bad = await runCli(["plan", "--format", "yaml", GOOD], repo.root);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--format must be one of json, text, not "yaml"/);
  });
});
