/**
 * The AWS side is the ceiling (docs/threat-model.md "A compromised runner"):
 * with the grant role's or the revoke role's credentials in hand, as a
 * compromised runner or a malicious dependency would have them, an attacker
 * starts the Elevate runbooks directly in the sandbox with hostile parameters.
 * AWS (the runbook, the automation role's policy, the roles' permissions) must
 * refuse, and IAM must be left exactly as it was.
 */
import { CreateRoleCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/index.js";
import { type DeployResult, deployTemplate } from "../../sandbox/cfn/deploy.js";
import { GitHubOidcIssuer, stableId } from "../../sandbox/github/oidc.js";
import { ELIGIBLE_TAG } from "../../sandbox/world.js";

const NOW = new Date("2026-11-30T09:00:00Z");
const REPOSITORY = "acme/elevate";
const EC2_FULL_ACCESS = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*" }] };

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const at = (offsetMinutes: number) => iso(NOW.getTime() + offsetMinutes * 60_000);

interface Stack {
  sandbox: AwsSandbox;
  deployed: DeployResult;
  issuer: GitHubOidcIssuer;
  account: string;
  exampleRole: string;
  outsideRole: string;
  close(): Promise<void>;
}

async function stack(parameters: Record<string, string> = {}): Promise<Stack> {
  const sandbox = await startAwsSandbox({ now: NOW, clockMode: "frozen" });
  const issuer = new GitHubOidcIssuer();
  sandbox.addTrustedIssuer({ issuerUrl: issuer.issuerUrl, publicKey: issuer.publicKey, kid: issuer.kid });
  const account = sandbox.defaultAccountId;
  const exampleRole = `arn:aws:iam::${account}:role/elevated/EC2_FullAccess_Role`;
  const deployed = await deployTemplate({
    templatePath: "infra/template.yaml",
    parameters: {
      GitHubOwner: "acme",
      GitHubRepo: "elevate",
      GitHubRepoId: String(stableId(REPOSITORY)),
      CreateApprovalTopic: "true",
      GrantableRoles: `${exampleRole}=2h`,
      PrivilegedRoleArns: `arn:aws:iam::${account}:role/admin/ProdAdmin`,
      ...parameters,
    },
    accountId: account,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
    endpoints: { iam: sandbox.endpoint, ssm: sandbox.endpoint, sns: sandbox.endpoint },
    inlineManagedPolicies: { "arn:aws:iam::aws:policy/AmazonEC2FullAccess": EC2_FULL_ACCESS },
  });
  const iam = new IAMClient({
    region: sandbox.region,
    endpoint: sandbox.endpoint,
    credentials: sandbox.rootCredentials,
  });
  // A privileged role the automation role may cut off on, but which is not in the grant catalog.
  await iam.send(
    new CreateRoleCommand({
      RoleName: "ProdAdmin",
      Path: "/admin/",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  const users: [string, string, { Key: string; Value: string }[]][] = [
    ["alice.smith", "/elevate/", [ELIGIBLE_TAG]],
    ["mallory", "/elevate/", []], // under the eligible path, never marked
    ["carol", "/elevate/", [{ Key: "elevate:eligible", Value: "false" }]],
    ["dave", "/elevate/", [{ Key: "Elevate:Eligible", Value: "TRUE" }]],
    ["admin", "/", [ELIGIBLE_TAG]], // marked, outside the eligible path
  ];
  for (const [UserName, Path, Tags] of users) await iam.send(new CreateUserCommand({ UserName, Path, Tags }));
  iam.destroy();
  return {
    sandbox,
    deployed,
    issuer,
    account,
    exampleRole,
    outsideRole: `arn:aws:iam::${account}:role/admin/ProdAdmin`,
    close: () => sandbox.close(),
  };
}

/** What a runner of that workflow on main holds: the role's credentials, from GitHub's OIDC token. */
async function stolenCredentials(s: Stack, workflow: "elevate-grant.yml" | "elevate-revoke.yml"): Promise<SSMClient> {
  const token = s.issuer.issue(
    {
      repository: REPOSITORY,
      eventName: workflow === "elevate-grant.yml" ? "push" : "schedule",
      ref: "refs/heads/main",
      sha: "a".repeat(40),
      workflowPath: `.github/workflows/${workflow}`,
      actor: "mallory",
      runId: 7,
    },
    { audience: "sts.amazonaws.com", now: s.sandbox.clock.now() },
  );
  const sts = new STSClient({
    region: s.sandbox.region,
    endpoint: s.sandbox.endpoint,
    credentials: { accessKeyId: "", secretAccessKey: "" },
    signer: { sign: async (request) => request },
  });
  const out = await sts.send(
    new AssumeRoleWithWebIdentityCommand({
      RoleArn: (workflow === "elevate-grant.yml" ? s.deployed.outputs.GrantRoleArn : s.deployed.outputs.RevokeRoleArn)!,
      RoleSessionName: "stolen",
      WebIdentityToken: token,
    }),
  );
  sts.destroy();
  const c = out.Credentials!;
  const credentials: Credentials = {
    accessKeyId: c.AccessKeyId!,
    secretAccessKey: c.SecretAccessKey!,
    sessionToken: c.SessionToken!,
  };
  return new SSMClient({ region: s.sandbox.region, endpoint: s.sandbox.endpoint, credentials, maxAttempts: 1 });
}

/** Every inline policy of every user and role: what a grant or a cut-off would change. */
function iamSnapshot(s: Stack): string {
  const account = s.sandbox.state;
  const users = ["alice.smith", "mallory", "carol", "dave", "admin"].map((u) => [u, account.userPolicies(u)]);
  const roles = ["EC2_FullAccess_Role", "ProdAdmin"].map((r) => [r, account.rolePolicies(r)]);
  return JSON.stringify({ users, roles });
}

type Outcome = { started: false; error: string } | { started: true; status: string; failure: string };

async function start(ssm: SSMClient, document: string, parameters: Record<string, string | string[]>, s: Stack) {
  let id: string;
  try {
    const out = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: document,
        Parameters: Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
      }),
    );
    id = out.AutomationExecutionId!;
  } catch (error) {
    return { started: false, error: `${(error as Error).name}: ${(error as Error).message}` } satisfies Outcome;
  }
  const record = await s.sandbox.state.waitForExecution(id);
  const failed = record.steps.find((step) => step.StepStatus === "Failed");
  return {
    started: true,
    status: record.status,
    failure: `${failed?.StepName ?? ""}: ${record.failureMessage ?? ""}`,
  } satisfies Outcome;
}

describe("stolen grant-role credentials against Elevate-Grant", () => {
  let s: Stack;
  let ssm: SSMClient;
  const grant = (overrides: Record<string, string | string[]> = {}) =>
    start(
      ssm,
      "Elevate-Grant",
      {
        AutomationAssumeRole: s.deployed.outputs.AutomationRoleArn!,
        RequestId: "attack-1",
        UserName: "alice.smith",
        RoleArn: s.exampleRole,
        NotBefore: at(0),
        NotAfter: at(120),
        ...overrides,
      },
      s,
    );

  beforeAll(async () => {
    s = await stack();
    ssm = await stolenCredentials(s, "elevate-grant.yml");
  }, 60_000);
  afterAll(async () => {
    ssm?.destroy();
    await s?.close();
  });

  /** Runs a hostile grant and asserts AWS refused it and nothing in IAM moved. */
  async function refused(overrides: Record<string, string | string[]>, why: RegExp): Promise<void> {
    const before = iamSnapshot(s);
    const outcome = await grant({ RequestId: `attack-${Math.random().toString(36).slice(2, 8)}`, ...overrides });
    const text = outcome.started ? `${outcome.status} ${outcome.failure}` : outcome.error;
    if (outcome.started) expect(outcome.status, text).toBe("Failed");
    expect(text).toMatch(why);
    expect(iamSnapshot(s)).toBe(before);
  }

  it("control: the one shape the stack allows is granted", async () => {
    const outcome = await grant();
    expect(outcome).toMatchObject({ started: true, status: "Success" });
    expect(Object.keys(s.sandbox.state.userPolicies("alice.smith"))).toEqual(["elevate-attack-1"]);
  });

  it("refuses a well-formed role ARN outside the stack's catalog (even one the automation role may cut off on)", async () => {
    await refused({ RoleArn: s.outsideRole }, /checkCeiling: .*not in the stack's GrantableRoles/);
    await refused({ RoleArn: `arn:aws:iam::${s.account}:role/elevate-automation` }, /GrantableRoles/);
    await refused({ RoleArn: `arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role` }, /GrantableRoles/);
  });

  it("refuses a window longer than the role's maximum", async () => {
    await refused({ NotAfter: iso(NOW.getTime() + 7_201_000) }, /checkCeiling: .*allows at most 7200 s/);
    await refused({ NotBefore: at(-60), NotAfter: at(24 * 60) }, /allows at most 7200 s/);
  });

  it("refuses a NotBefore far in the past or beyond the lead time, judged on AWS's clock", async () => {
    await refused({ NotBefore: at(-180), NotAfter: at(-90) }, /checkCeiling: .*GrantStartTolerance/);
    await refused({ NotBefore: at(8 * 24 * 60), NotAfter: at(8 * 24 * 60 + 60) }, /MaxGrantLeadTime/);
    await refused({ NotBefore: "2099-01-01T00:00:00Z", NotAfter: "2099-01-01T02:00:00Z" }, /MaxGrantLeadTime/);
  });

  it("refuses users the platform team has not marked, and users outside the eligible path", async () => {
    await refused({ UserName: "mallory" }, /putGrantPolicy: .*AccessDenied/);
    await refused({ UserName: "carol" }, /putGrantPolicy: .*AccessDenied/);
    await refused({ UserName: "dave" }, /putGrantPolicy: .*AccessDenied/);
    await refused({ UserName: "admin" }, /putGrantPolicy: .*AccessDenied/);
    // Four executions, each running two scripts (checkCeiling, scheduleExpiry) before the refusal.
  }, 90_000);

  it.each([
    ["UserName", 'alice.smith"'],
    ["UserName", "alice.smith/../admin"],
    ["UserName", "*"],
    ["RoleArn", "arn:aws:iam::123456789012:role/*"],
    ["RoleArn", 'arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role","Resource":"*'],
    ["NotBefore", "2026-11-30T09:00:00Z\n"],
    ["NotAfter", '2099-01-01T00:00:00Z"},"Bool":{"aws:x":"true'],
    ["RequestId", 'x"}]}'],
    ["AutomationAssumeRole", "arn:aws:iam::123456789012:role/*"],
  ])("refuses the injection-shaped %s %j before any step runs", async (name, value) => {
    await refused({ [name]: value }, /InvalidAutomationExecutionParameters|allowed pattern/);
  });

  it("cannot smuggle its own ceiling in as a parameter", async () => {
    await refused(
      { GrantableRoles: `${s.outsideRole}=100h`, MaxGrantLeadTime: "1000h" },
      /InvalidAutomationExecutionParameters.*not defined in the document/,
    );
  });

  it("cannot run the runbook as another role (only the automation role may be passed, and only it is trusted)", async () => {
    await refused({ AutomationAssumeRole: s.deployed.outputs.GrantRoleArn! }, /AccessDenied|PassRole|assume/i);
    await refused(
      { AutomationAssumeRole: `arn:aws:iam::${s.account}:role/elevated/EC2_FullAccess_Role` },
      /AccessDenied|PassRole|assume/i,
    );
  });

  it("cannot start the revoke runbooks, nor any other document", async () => {
    const before = iamSnapshot(s);
    const revoke = await start(
      ssm,
      "Elevate-Revoke",
      {
        AutomationAssumeRole: s.deployed.outputs.AutomationRoleArn!,
        RequestId: "attack-1",
        UserName: "alice.smith",
        RoleName: "EC2_FullAccess_Role",
        CutOff: "true",
        RevokedAt: at(0),
        StampAtRunTime: "true",
        StampNotAfter: "9999-12-31T23:59:59Z",
        RoleAccountId: "123456789012",
        CoveringRequests: "-",
      },
      s,
    );
    expect(revoke).toMatchObject({ started: false, error: expect.stringMatching(/AccessDenied/) });
    const clear = await start(
      ssm,
      "Elevate-ClearCutoff",
      { AutomationAssumeRole: s.deployed.outputs.AutomationRoleArn!, UserName: "alice.smith", RoleName: "ProdAdmin" },
      s,
    );
    expect(clear).toMatchObject({ started: false, error: expect.stringMatching(/AccessDenied/) });
    expect(iamSnapshot(s)).toBe(before);
  });

  it("an approval gate it opens with hostile values attaches nothing, and injection-shaped ones never start", async () => {
    const before = iamSnapshot(s);
    const gate = {
      AutomationAssumeRole: s.deployed.outputs.AutomationRoleArn!,
      RequestId: "attack-gate",
      UserName: "mallory",
      RoleArn: s.outsideRole,
      EarliestStart: at(0),
      DurationSeconds: "99999999",
      PullRequest: "1",
      MergeSha: "b".repeat(40),
      Approvers: [`arn:aws:iam::${s.account}:user/elevate/mallory`],
      MinApprovals: "1",
      NotificationArn: `arn:aws:sns:${s.sandbox.region}:${s.account}:AutomationElevateApproval`,
    };
    const waiting = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Elevate-GrantWithApproval",
        Parameters: Object.fromEntries(Object.entries(gate).map(([k, v]) => [k, Array.isArray(v) ? v : [v]])),
      }),
    );
    expect(waiting.AutomationExecutionId).toBeTruthy();
    expect(iamSnapshot(s)).toBe(before);
    const injected = await start(ssm, "Elevate-GrantWithApproval", { ...gate, UserName: 'mallory"' }, s);
    expect(injected).toMatchObject({
      started: false,
      error: expect.stringMatching(/InvalidAutomationExecutionParameters/),
    });
    expect(iamSnapshot(s)).toBe(before);
  });
});

describe("stolen revoke-role credentials", () => {
  let s: Stack;
  let ssm: SSMClient;
  beforeAll(async () => {
    s = await stack();
    ssm = await stolenCredentials(s, "elevate-revoke.yml");
  }, 60_000);
  afterAll(async () => {
    ssm?.destroy();
    await s?.close();
  });

  const grantParameters = (s: Stack) => ({
    AutomationAssumeRole: s.deployed.outputs.AutomationRoleArn!,
    RequestId: "revoker-grant",
    UserName: "alice.smith",
    RoleArn: s.exampleRole,
    NotBefore: at(0),
    NotAfter: at(60),
  });

  it("cannot start Elevate-Grant (or the approval gate) while dual control is off", async () => {
    const before = iamSnapshot(s);
    const outcome = await start(ssm, "Elevate-Grant", grantParameters(s), s);
    expect(outcome).toMatchObject({ started: false, error: expect.stringMatching(/AccessDenied/) });
    const gate = await start(ssm, "Elevate-GrantWithApproval", { ...grantParameters(s) }, s);
    expect(gate).toMatchObject({ started: false, error: expect.stringMatching(/AccessDenied|not defined/) });
    expect(iamSnapshot(s)).toBe(before);
  });

  it("Elevate-Revoke and Elevate-ClearCutoff refuse users outside the path, roles outside the list, and injections", async () => {
    const before = iamSnapshot(s);
    const revoke = (overrides: Record<string, string>) =>
      start(
        ssm,
        "Elevate-Revoke",
        {
          AutomationAssumeRole: s.deployed.outputs.AutomationRoleArn!,
          RequestId: "anything",
          UserName: "alice.smith",
          RoleName: "EC2_FullAccess_Role",
          CutOff: "false",
          RevokedAt: at(0),
          StampAtRunTime: "true",
          StampNotAfter: "9999-12-31T23:59:59Z",
          RoleAccountId: "123456789012",
          CoveringRequests: "-",
          ...overrides,
        },
        s,
      );
    // A user outside the eligible path: the automation role may not even list their policies.
    expect(await revoke({ UserName: "admin" })).toMatchObject({ status: "Failed", failure: /AccessDenied/ });
    // A cut-off on a role that is not a privileged role of the stack.
    expect(await revoke({ RoleName: "elevate-automation", CutOff: "true" })).toMatchObject({
      status: "Failed",
      failure: expect.stringMatching(/putCutOffPolicy: .*AccessDenied/),
    });
    for (const [name, value] of [
      ["UserName", "*"],
      ["UserName", 'alice.smith"}],"Effect":"Allow'],
      ["RoleName", "admin/ProdAdmin"],
      ["CutOff", "yes"],
      ["RevokedAt", '2099-01-01T00:00:00Z"}'],
      ["StampAtRunTime", "yes"],
      ["StampNotAfter", '2099-01-01T00:00:00Z"}'],
      ["CoveringRequests", 'inc-1"}'],
      ["CoveringRequests", ""],
    ] as const) {
      expect(await revoke({ [name]: value }), `${name}=${value}`).toMatchObject({
        started: false,
        error: expect.stringMatching(/InvalidAutomationExecutionParameters/),
      });
    }
    const clear = await start(
      ssm,
      "Elevate-ClearCutoff",
      {
        AutomationAssumeRole: s.deployed.outputs.AutomationRoleArn!,
        UserName: "alice.smith",
        RoleName: "elevate-grant",
      },
      s,
    );
    expect(clear).toMatchObject({ status: "Failed", failure: expect.stringMatching(/AccessDenied/) });
    expect(iamSnapshot(s)).toBe(before);
  });
});

describe("with EnableDualControl 'true', the revoke role may grant, but only inside the same ceiling", () => {
  let s: Stack;
  let ssm: SSMClient;
  beforeAll(async () => {
    s = await stack({ EnableDualControl: "true" });
    ssm = await stolenCredentials(s, "elevate-revoke.yml");
  }, 60_000);
  afterAll(async () => {
    ssm?.destroy();
    await s?.close();
  });

  it("refuses a role outside the catalog, an over-long window and an unmarked user; grants the allowed shape", async () => {
    const base = {
      AutomationAssumeRole: s.deployed.outputs.AutomationRoleArn!,
      UserName: "alice.smith",
      RoleArn: s.exampleRole,
      NotBefore: at(0),
      NotAfter: at(60),
    };
    const before = iamSnapshot(s);
    expect(await start(ssm, "Elevate-Grant", { ...base, RequestId: "dc-1", RoleArn: s.outsideRole }, s)).toMatchObject({
      status: "Failed",
      failure: expect.stringMatching(/GrantableRoles/),
    });
    expect(await start(ssm, "Elevate-Grant", { ...base, RequestId: "dc-2", NotAfter: at(121) }, s)).toMatchObject({
      status: "Failed",
      failure: expect.stringMatching(/allows at most/),
    });
    expect(await start(ssm, "Elevate-Grant", { ...base, RequestId: "dc-3", UserName: "mallory" }, s)).toMatchObject({
      status: "Failed",
      failure: expect.stringMatching(/AccessDenied/),
    });
    expect(iamSnapshot(s)).toBe(before);
    expect(await start(ssm, "Elevate-Grant", { ...base, RequestId: "dc-4" }, s)).toMatchObject({ status: "Success" });
  });
});
