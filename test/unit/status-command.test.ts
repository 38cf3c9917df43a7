import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetAccountAuthorizationDetailsCommand, IAMClient } from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { profileNamesInIni } from "../../src/adapters/aws-profiles.js";
import { exitCode } from "../../src/cli/args.js";
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
  const code = exitCode(
    await runStatus(
      { cwd: repo, format, ref: "HEAD", now: NOW },
      { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    ),
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

  it("exits 1 on drift: a grant with no request, and a window longer than the merged request (its note is no authority)", async () => {
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
    expect(stdout).toContain("window-mismatch: its window lasts 14400 s, the request asks for 7200 s");
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
    const code = exitCode(
      await runStatus(
        { cwd: repo, config: "missing.yml", format: "text", ref: "HEAD", now: NOW },
        { stdout: () => {}, stderr: (t) => (stderr += t) },
      ),
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/^missing\.yml:1:1: error: cannot read the config/);
  });

  it("refuses a --ref that git would read as an option", async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolves({ UserDetailList: [], RoleDetailList: [], IsTruncated: false });
    let stderr = "";
    const code = exitCode(
      await runStatus(
        { cwd: repo, format: "text", ref: "--output=/tmp/x", now: NOW },
        { stdout: () => {}, stderr: (t) => (stderr += t) },
      ),
    );
    expect(code).toBe(2);
    expect(stderr).toContain('"--output=/tmp/x" is not a git revision');
  });
});

describe("elevate status --region and --profile", () => {
  it("calls IAM in --region, with the named --profile, instead of the config's region and the default chain", async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolves({ UserDetailList: [], RoleDetailList: [], IsTruncated: false });
    const aws = mkdtempSync(join(tmpdir(), "elevate-aws-"));
    writeFileSync(join(aws, "config"), "[profile auditor]\nregion = us-east-1\n");
    const saved = { config: process.env.AWS_CONFIG_FILE, credentials: process.env.AWS_SHARED_CREDENTIALS_FILE };
    process.env.AWS_CONFIG_FILE = join(aws, "config");
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(aws, "credentials");
    try {
      const code = exitCode(
        await runStatus(
          { cwd: repo, format: "json", ref: "HEAD", now: NOW, region: "eu-west-1", profile: "auditor" },
          { stdout: () => {}, stderr: () => {} },
        ),
      );
      expect(code).toBe(0);
      const client = iamMock.call(0).thisValue as IAMClient;
      expect(await client.config.region()).toBe("eu-west-1");
      expect(client.config.profile).toBe("auditor");
    } finally {
      for (const [key, value] of [
        ["AWS_CONFIG_FILE", saved.config],
        ["AWS_SHARED_CREDENTIALS_FILE", saved.credentials],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(aws, { recursive: true, force: true });
    }
  });

  it("--format json: a JSON error object for an access-denied identity, a config error and a git error", async () => {
    iamMock.on(GetAccountAuthorizationDetailsCommand).rejects(
      Object.assign(new Error("not authorized to perform iam:GetAccountAuthorizationDetails"), {
        name: "AccessDenied",
      }),
    );
    let stdout = "";
    expect(
      exitCode(
        await runStatus(
          { cwd: repo, format: "json", ref: "HEAD", now: NOW },
          { stdout: (t) => (stdout += t), stderr: () => {} },
        ),
      ),
    ).toBe(2);
    expect(JSON.parse(stdout).error).toMatchObject({
      kind: "access-denied",
      message: expect.stringContaining(
        "needs iam:GetAccountAuthorizationDetails and iam:GetRole in account 123456789012",
      ),
    });

    stdout = "";
    await runStatus(
      { cwd: repo, config: "missing.yml", format: "json", ref: "HEAD", now: NOW },
      { stdout: (t) => (stdout += t), stderr: () => {} },
    );
    expect(JSON.parse(stdout).error).toMatchObject({
      kind: "config",
      message: expect.stringContaining("missing.yml:1:1: error: cannot read the config"),
    });

    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolves({ UserDetailList: [], RoleDetailList: [], IsTruncated: false });
    stdout = "";
    await runStatus(
      { cwd: repo, format: "json", ref: "no-such-branch", now: NOW },
      { stdout: (t) => (stdout += t), stderr: () => {} },
    );
    expect(JSON.parse(stdout).error).toMatchObject({ kind: "git" });
  });
});

describe("profileNamesInIni", () => {
  it("reads [profile NAME] and [default] from the config file and [NAME] from the credentials file", () => {
    const config = [
      "[default]",
      "region = us-east-1",
      "[profile readonly] # comment",
      "[ profile  spaced ]",
      "[sso-session corp]",
      "[services local]",
      "key = [not a section]",
    ].join("\n");
    expect(profileNamesInIni(config, "config")).toEqual(["default", "readonly", "spaced"]);
    expect(profileNamesInIni("[default]\r\n[ci]\r\naws_access_key_id = x\r\n", "credentials")).toEqual([
      "default",
      "ci",
    ]);
  });
});
