/**
 * End to end in-process on the AWS sandbox: the deployed template and runbooks, the
 * real SDK over HTTP, the revoker's own inventory, plan and runbook calls. Covers
 * expiry with cut-off, overlapping grants (AWS TEAM #279) and a dropped scheduled run.
 * The same through the action bundle, git and GitHub: test/e2e/revoke-bundle-*.test.ts.
 */
import { CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { GetAutomationExecutionCommand, SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AwsSandbox, startAwsSandbox } from "../../sandbox/aws/index.js";
import { type DeployResult, deployTemplate } from "../../sandbox/cfn/deploy.js";
import { ELIGIBLE_TAG } from "../../sandbox/world.js";
import { loadConfig } from "../../src/domain/config.js";
import { cutoffPolicyName, formatIamTime } from "../../src/domain/grant-policy.js";
import { type KnownRequest, planRevocations } from "../../src/domain/revoke-plan.js";
import { readInventory } from "../../src/modes/inventory.js";
import { revokeParameters, revokeTokenParts, runRunbook } from "../../src/modes/revoke.js";

const START = new Date("2026-11-30T08:00:00Z");
let sandbox: AwsSandbox;
let deployed: DeployResult;
let iam: IAMClient;
let ssm: SSMClient;
let roleArn: string;

async function grant(requestId: string, userName: string, notBefore: string, notAfter: string): Promise<void> {
  const started = await ssm.send(
    new StartAutomationExecutionCommand({
      DocumentName: "Elevate-Grant",
      Parameters: {
        AutomationAssumeRole: [deployed.outputs.AutomationRoleArn as string],
        RequestId: [requestId],
        UserName: [userName],
        RoleArn: [roleArn],
        NotBefore: [notBefore],
        NotAfter: [notAfter],
      },
    }),
  );
  const record = await sandbox.state.waitForExecution(started.AutomationExecutionId as string);
  expect(record.status).toBe("Success");
}

function configFor() {
  const account = sandbox.defaultAccountId;
  const loaded = loadConfig(
    `version: 1
aws:
  region: ${sandbox.region}
  accountId: "${account}"
  grantRoleArn: arn:aws:iam::${account}:role/elevate-grant
  revokeRoleArn: arn:aws:iam::${account}:role/elevate-revoke
  automationRoleArn: ${deployed.outputs.AutomationRoleArn}
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice.smith
roles:
  ec2-admin:
    arn: ${roleArn}
`,
    "elevate.yml",
  );
  if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
  return loaded.config;
}

/** One revoker pass as revoke mode makes it (no git: every grant is known as its merged request). */
async function revokePass(known: Map<string, KnownRequest>) {
  const now = sandbox.clock.now();
  const { inventory } = await readInventory(iam, sandbox.defaultAccountId, now);
  const plan = planRevocations({ inventory, now, earlyRevokeIds: [], knownRequests: known, driftMode: "revoke" });
  const config = configFor();
  for (const r of plan.revoke) {
    const parameters = revokeParameters(config, r);
    const result = await runRunbook(
      ssm,
      { documentName: "Elevate-Revoke", parameters, tokenParts: revokeTokenParts(r, parameters), timeoutMs: 20_000 },
      () => now.getTime(),
    );
    expect(result.message).toMatch(/succeeded/);
  }
  return plan;
}

function knownAs(...entries: [string, string, string, string][]): Map<string, KnownRequest> {
  return new Map(
    entries.map(([id, user, nb, na]) => [
      id,
      {
        requestId: id,
        file: `requests/ec2-admin/${id}.yaml`,
        deleted: false,
        // Merged at its notBefore, for its whole window: what the default branch says.
        requested: {
          iamUser: user,
          target: { kind: "role", roleArn },
          durationMs: new Date(na).getTime() - new Date(nb).getTime(),
          mergedAt: new Date(nb),
        },
      },
    ]),
  );
}

beforeAll(async () => {
  sandbox = await startAwsSandbox({ now: START, clockMode: "frozen" });
  const client = { region: sandbox.region, endpoint: sandbox.endpoint, credentials: sandbox.rootCredentials };
  iam = new IAMClient(client);
  ssm = new SSMClient(client);
  deployed = await deployTemplate({
    templatePath: "infra/template.yaml",
    parameters: {
      GitHubOwner: "acme",
      GitHubRepo: "elevate",
      GitHubRepoId: "424242",
      GrantableRoles: `arn:aws:iam::${sandbox.defaultAccountId}:role/elevated/EC2_FullAccess_Role=4h`,
    },
    accountId: sandbox.defaultAccountId,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
    endpoints: { iam: sandbox.endpoint, ssm: sandbox.endpoint, sns: sandbox.endpoint },
    inlineManagedPolicies: {
      "arn:aws:iam::aws:policy/AmazonEC2FullAccess": {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*" }],
      },
    },
  });
  roleArn = deployed.outputs.ExampleRoleArn as string;
  for (const name of ["alice.smith", "bob"])
    await iam.send(new CreateUserCommand({ UserName: name, Path: "/elevate/", Tags: [ELIGIBLE_TAG] }));
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
});

describe("revoker on the sandbox", () => {
  it("expiry: removes the expired grant, cuts off its sessions, keeps the overlapping and the other user's grants", async () => {
    await grant("alice-first", "alice.smith", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    await grant("alice-second", "alice.smith", "2026-11-30T08:30:00Z", "2026-11-30T11:00:00Z");
    await grant("bob-work", "bob", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    const known = knownAs(
      ["alice-first", "alice.smith", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z"],
      ["alice-second", "alice.smith", "2026-11-30T08:30:00Z", "2026-11-30T11:00:00Z"],
      ["bob-work", "bob", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z"],
    );
    sandbox.clock.set(new Date("2026-11-30T09:10:00Z"));
    const plan = await revokePass(known);
    expect(plan.revoke.map((r) => [r.requestId, r.cutOff])).toEqual([
      ["alice-first", false], // alice-second still covers the role: her sessions stay (no TEAM #279)
      ["bob-work", true],
    ]);
    expect(Object.keys(sandbox.state.userPolicies("alice.smith"))).toEqual(["elevate-alice-second"]);
    expect(Object.keys(sandbox.state.userPolicies("bob"))).toEqual([]);
    const cutoffs = sandbox.state.rolePolicies("EC2_FullAccess_Role");
    expect(Object.keys(cutoffs).filter((n) => n.startsWith("elevate-"))).toEqual([cutoffPolicyName("bob")]);
    expect(JSON.stringify(cutoffs[cutoffPolicyName("bob")])).toContain(formatIamTime(new Date("2026-11-30T09:00:01Z")));
  });

  it("a re-run finds nothing left to do; a dropped run only delays the cleanup of a policy that already denies", async () => {
    sandbox.clock.set(new Date("2026-11-30T09:20:00Z"));
    const again = await revokePass(
      knownAs(["alice-second", "alice.smith", "2026-11-30T08:30:00Z", "2026-11-30T11:00:00Z"]),
    );
    expect(again.revoke).toEqual([]);
    // Runs between 11:00 and 13:00 were dropped; the next one still removes alice-second.
    sandbox.clock.set(new Date("2026-11-30T13:00:00Z"));
    const late = await revokePass(
      knownAs(["alice-second", "alice.smith", "2026-11-30T08:30:00Z", "2026-11-30T11:00:00Z"]),
    );
    expect(late.revoke.map((r) => [r.requestId, r.reason, r.cutOff])).toEqual([["alice-second", "expired", true]]);
    expect(Object.keys(sandbox.state.userPolicies("alice.smith"))).toEqual([]);
    const executions = await ssm.send(
      new GetAutomationExecutionCommand({
        AutomationExecutionId: [...sandbox.state.executions.keys()].at(-1) as string,
      }),
    );
    expect(executions.AutomationExecution?.DocumentName).toBe("Elevate-Revoke");
  });

  it("an id that is a prefix of another grant's id: the revoke finds only its own policy (exact membership)", async () => {
    sandbox.clock.set(new Date("2026-11-30T14:00:00Z"));
    await grant("abc-2", "bob", "2026-11-30T14:00:00Z", "2026-11-30T16:00:00Z");
    const revokeAbc = async () => {
      const started = await ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: "Elevate-Revoke",
          DocumentVersion: "$LATEST",
          Parameters: {
            AutomationAssumeRole: [deployed.outputs.AutomationRoleArn as string],
            RequestId: ["abc"],
            UserName: ["bob"],
            RoleName: ["EC2_FullAccess_Role"],
            CutOff: ["false"],
            RevokedAt: ["2026-11-30T14:00:00Z"],
            StampAtRunTime: ["false"],
            StampNotAfter: ["9999-12-31T23:59:59Z"],
            RoleAccountId: ["123456789012"],
            CoveringRequests: ["-"],
          },
        }),
      );
      return sandbox.state.waitForExecution(started.AutomationExecutionId as string);
    };
    // elevate-abc is not there (elevate-abc-2 is): "already revoked" succeeds and deletes nothing.
    const absent = await revokeAbc();
    expect(absent.status).toBe("Success");
    expect(absent.steps.map((s) => s.StepName)).not.toContain("deleteGrantPolicy");
    expect(absent.steps.find((s) => s.StepName === "findGrantPolicy")?.Outputs?.Listed).toEqual(["false"]);
    expect(Object.keys(sandbox.state.userPolicies("bob"))).toEqual(["elevate-abc-2"]);
    // With elevate-abc there too, only elevate-abc goes.
    await grant("abc", "bob", "2026-11-30T14:00:00Z", "2026-11-30T15:00:00Z");
    const present = await revokeAbc();
    expect(present.status).toBe("Success");
    expect(present.steps.map((s) => s.StepName)).toContain("deleteGrantPolicy");
    expect(Object.keys(sandbox.state.userPolicies("bob"))).toEqual(["elevate-abc-2"]);
  });
});
