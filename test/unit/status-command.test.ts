import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetAccountAuthorizationDetailsCommand, IAMClient } from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { grantPolicyText } from "../../src/domain/grant-policy.js";
import { runStatus, type StatusResult } from "../../src/modes/status.js";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const CONFIG = `version: 1
aws:
  region: ap-northeast-1
  accountId: "${ACCOUNT}"
  grantRoleArn: arn:aws:iam::${ACCOUNT}:role/elevate-grant
  revokeRoleArn: arn:aws:iam::${ACCOUNT}:role/elevate-revoke
  automationRoleArn: arn:aws:iam::${ACCOUNT}:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice.smith
roles:
  ec2-admin:
    arn: ${ROLE}
    maxDuration: 4h
`;
const NOW = new Date("2026-11-30T12:00:00Z");
const WINDOW = { notBefore: "2026-11-30T11:00:00Z", notAfter: "2026-11-30T13:00:00Z" };

const iamMock = mockClient(IAMClient);
afterEach(() => iamMock.reset());
let repo: string;

function gitIn(args: string[], env: Record<string, string> = {}): string {
  return execFileSync("git", args, {
    cwd: repo,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
      ...env,
    },
  });
}

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), "elevate-status-"));
  gitIn(["init", "--quiet", "--initial-branch=main"]);
  mkdirSync(join(repo, ".github"));
  writeFileSync(join(repo, ".github/elevate.yml"), CONFIG);
  gitIn(["add", "."]);
  gitIn(["commit", "--quiet", "-m", "config"]);
  mkdirSync(join(repo, "requests/ec2-admin"), { recursive: true });
  writeFileSync(
    join(repo, "requests/ec2-admin/resize-asg.yaml"),
    "requester: alice\nrole: ec2-admin\nduration: 2h\nreason: Resize the web ASG during INC-1234\n",
  );
  gitIn(["add", "."]);
  gitIn(["commit", "--quiet", "-m", "request"], { GIT_COMMITTER_DATE: "2026-11-30T11:00:00Z" });
  const evidence = {
    schema: "elevate.grant/v1",
    event: "granted",
    requestId: "resize-asg",
    file: "requests/ec2-admin/resize-asg.yaml",
    requester: "alice",
    iamUser: "alice.smith",
    roleArn: ROLE,
    mergeSha: gitIn(["rev-parse", "HEAD"]).trim(),
    approvals: [],
    window: WINDOW,
    recordedAt: "2026-11-30T11:00:05Z",
  };
  gitIn(["notes", "--ref=refs/notes/elevate", "add", "-m", JSON.stringify(evidence), "HEAD"]);
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

function grantOn(iamUser: string, requestId: string, window = WINDOW) {
  return {
    PolicyName: `elevate-${requestId}`,
    PolicyDocument: encodeURIComponent(
      grantPolicyText({
        requestId,
        iamUser,
        roleArn: ROLE,
        notBefore: new Date(window.notBefore),
        notAfter: new Date(window.notAfter),
      }),
    ),
  };
}

async function status(format: "text" | "json") {
  let stdout = "";
  let stderr = "";
  const code = await runStatus(
    { cwd: repo, format, ref: "HEAD", now: NOW },
    { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
  );
  return { code, stdout, stderr };
}

describe("elevate status", () => {
  it("lists a matched grant with its remaining time and exits 0", async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({
      UserDetailList: [
        {
          UserName: "alice.smith",
          Arn: `arn:aws:iam::${ACCOUNT}:user/elevate/alice.smith`,
          UserPolicyList: [grantOn("alice.smith", "resize-asg")],
        },
      ],
      RoleDetailList: [{ RoleName: "EC2_FullAccess_Role", Arn: ROLE, RolePolicyList: [] }],
      IsTruncated: false,
    });
    const { code, stdout } = await status("json");
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as StatusResult;
    expect(result.grants).toEqual([
      {
        requestId: "resize-asg",
        iamUser: "alice.smith",
        roleArn: ROLE,
        ...WINDOW,
        state: "active",
        remainingSeconds: 3600,
        requestFile: "requests/ec2-admin/resize-asg.yaml",
        drift: false,
      },
    ]);
    expect(result.listingCalls).toBe(1);
    expect(iamMock.commandCalls(GetAccountAuthorizationDetailsCommand)[0]?.args[0].input).toEqual({
      Filter: ["User", "Role"],
      MaxItems: 1000,
    });
  });

  it("exits 1 on drift: a grant with no request, and a window that differs from the evidence", async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).resolves({
      UserDetailList: [
        {
          UserName: "alice.smith",
          Arn: `arn:aws:iam::${ACCOUNT}:user/elevate/alice.smith`,
          UserPolicyList: [grantOn("alice.smith", "resize-asg", { ...WINDOW, notAfter: "2026-11-30T15:00:00Z" })],
        },
        {
          UserName: "mallory",
          Arn: `arn:aws:iam::${ACCOUNT}:user/elevate/mallory`,
          UserPolicyList: [grantOn("mallory", "sneaky-one")],
        },
      ],
      RoleDetailList: [{ RoleName: "EC2_FullAccess_Role", Arn: ROLE, RolePolicyList: [] }],
      IsTruncated: false,
    });
    const { code, stdout } = await status("text");
    expect(code).toBe(1);
    expect(stdout).toMatch(/resize-asg \(drift\)\s+alice\.smith/);
    expect(stdout).toMatch(/sneaky-one \(drift\)\s+mallory/);
    expect(stdout).toContain("window-mismatch: its window is 2026-11-30T11:00:00Z – 2026-11-30T15:00:00Z");
    expect(stdout).toContain("unknown-request: no request file requests/<role>/sneaky-one.yaml");
  });

  it("exits 2 with a clear message when there are no usable credentials", async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .rejects(
        Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }),
      );
    const { code, stderr, stdout } = await status("text");
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toContain("cannot read the grants from IAM: CredentialsProviderError");
    expect(stderr).toContain("read-only AWS credentials for account 123456789012");
  });

  it("exits 2 on a config error, located", async () => {
    let stderr = "";
    const code = await runStatus(
      { cwd: repo, config: "missing.yml", format: "text", ref: "HEAD", now: NOW },
      { stdout: () => {}, stderr: (t) => (stderr += t) },
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/^missing\.yml:1:1: error: cannot read the config/);
  });

  it("refuses a --ref that git would read as an option", async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolves({ UserDetailList: [], RoleDetailList: [], IsTruncated: false });
    let stderr = "";
    const code = await runStatus(
      { cwd: repo, format: "text", ref: "--output=/tmp/x", now: NOW },
      { stdout: () => {}, stderr: (t) => (stderr += t) },
    );
    expect(code).toBe(2);
    expect(stderr).toContain('"--output=/tmp/x" is not a git revision');
  });
});
