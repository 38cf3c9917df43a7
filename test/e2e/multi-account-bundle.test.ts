/**
 * Many accounts (issue 15 §1): grants of a role in a member account, and their
 * session cut-offs there. The hub (123456789012) holds the stack, the IAM users and
 * the runbooks; the member account (210987654321) is in an OU to which a
 * service-managed StackSet with automatic deployment deploys infra/member-template.yaml
 * through the mini-CFN. Grants go through the committed action bundle (PR → approve →
 * merge → grant run); their end in AWS (EventBridge Scheduler → Elevate-ExpireGrant)
 * writes the cut-off in the member account through SSM Automation's multi-account
 * execution (the hub's administration role assumes the member stack's execution
 * role), and Elevate-MemberClearCutoff clears it there once the role's sessions
 * have expired.
 */
import { GetRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SandboxOrganization } from "../../sandbox/cfn/stackset.js";
import { EC2_FULL_ACCESS, type ElevateWorld, requestYaml } from "../../sandbox/world.js";
import { cutoffPolicyText, grantPolicyText } from "../../src/domain/grant-policy.js";
import {
  at,
  EXAMPLE_ROLE,
  executionsOf,
  grantThroughPr,
  jsonOutput,
  revoke,
  rootIam,
  SESSION_PROBE_POLICY,
  scheduledRun,
  sessionWorks,
  startRevokeWorld,
  takeSession,
} from "./revoke-bundle-support.js";

const HUB = "123456789012";
const MEMBER = "210987654321";
const LATER = "345678901234";
const MEMBER_ROLE = `arn:aws:iam::${MEMBER}:role/elevated/${EXAMPLE_ROLE}`;

// Each revoke run and each multi-account runbook spawns processes (the bundle, python3);
// on a loaded machine a test of several of them needs more than the default.
vi.setConfig({ testTimeout: 120_000 });

let world: ElevateWorld;
let org: SandboxOrganization;
let ou: string;

function memberIam(account = MEMBER): IAMClient {
  return new IAMClient({
    region: world.aws.region,
    endpoint: world.aws.endpoint,
    credentials: world.aws.rootCredentialsFor(account),
  });
}

/** Cut-off policies on the example role of an account. */
function cutoffs(account: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(world.aws.state.rolePolicies(EXAMPLE_ROLE, account)).filter(([n]) =>
      n.startsWith("elevate-cutoff-"),
    ),
  );
}

async function moveClock(iso: string): Promise<void> {
  world.aws.clock.set(at(iso));
  await world.aws.state.settleSchedules();
}

/** Waits (real time, bounded) for something the sandbox does asynchronously, e.g. a sleeping runbook waking. */
async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  world = await startRevokeWorld({
    start: at("2026-11-30T08:00:00Z"),
    awsExpiry: true,
    accountIds: [HUB, MEMBER],
    stackParameters: { CreateAutomationAdministrationRole: "true" },
    codeowners: ["/requests/ @carol", "/requests/member-admin/ @bob @carol", ""].join("\n"),
    extraRoles: ["  member-admin:", `    arn: ${MEMBER_ROLE}`, "    maxDuration: 2h"].join("\n"),
  });
  org = new SandboxOrganization(world.aws, HUB);
  ou = org.createOu("workloads");
  await org.addAccount(ou, MEMBER);
  org.createStackSet({
    name: "elevate-member",
    templatePath: "infra/member-template.yaml",
    parameters: { HubAccountId: HUB, CreateExampleRole: "true" },
    autoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
    inlineManagedPolicies: { "arn:aws:iam::aws:policy/AmazonEC2FullAccess": EC2_FULL_ACCESS },
  });
  await org.createStackInstances("elevate-member", [ou], [world.aws.region]);
  await memberIam().send(
    new PutRolePolicyCommand({
      RoleName: EXAMPLE_ROLE,
      PolicyName: "session-probe",
      PolicyDocument: SESSION_PROBE_POLICY,
    }),
  );
  // alice: two overlapping grants of the member role (08:00–09:00 and 08:00–10:00); bob: one (08:00–09:00).
  for (const [author, approver, id, duration] of [
    ["alice", "bob", "alice-short", "1h"],
    ["alice", "bob", "alice-long", "2h"],
    ["bob", "carol", "bob-short", "1h"],
    // dave: two overlapping grants, both revoked early below by deleting their files.
    ["dave", "bob", "dave-a", "2h"],
    ["dave", "bob", "dave-b", "2h"],
  ] as const) {
    await grantThroughPr(world, {
      author,
      approver,
      files: {
        [`requests/member-admin/${id}.yaml`]: requestYaml({ requester: author, role: "member-admin", duration }),
      },
    });
  }
}, 180_000);

afterAll(async () => {
  await world?.close();
});

describe("the member stack, deployed by a service-managed StackSet", () => {
  it("is in every account of the OU, with an execution role only the hub's administration role may assume", async () => {
    expect(org.stackInstances("elevate-member").map((i) => [i.accountId, i.status])).toEqual([[MEMBER, "CURRENT"]]);
    const role = await memberIam().send(new GetRoleCommand({ RoleName: "elevate-member-cutoff" }));
    expect(JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? ""))).toMatchObject({
      Statement: [
        {
          Principal: { AWS: `arn:aws:iam::${HUB}:role/AWS-SystemsManager-AutomationAdministrationRole` },
          Action: "sts:AssumeRole",
        },
      ],
    });
    // The hub itself gets no member stack (it is the management account here).
    expect(world.aws.state.role("elevate-member-cutoff", HUB)).toBeUndefined();
  });

  it("reaches an account that joins the OU later, and the hub's automation can cut off there at once", async () => {
    const deployed = await org.addAccount(ou, LATER);
    expect(deployed.map((i) => [i.accountId, i.status])).toEqual([[LATER, "CURRENT"]]);
    expect(org.accountsIn(ou)).toEqual([MEMBER, LATER].sort());
    expect(world.aws.state.role("elevate-member-cutoff", LATER)?.arn).toBe(
      `arn:aws:iam::${LATER}:role/elevate-member-cutoff`,
    );
    // Its example role exists too; the hub's multi-account runbook writes a cut-off on it.
    const ssm = new SSMClient({
      region: world.aws.region,
      endpoint: world.aws.endpoint,
      credentials: world.aws.rootCredentials,
    });
    const started = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Elevate-MemberCutoff",
        Parameters: { UserName: ["dave"], RoleName: [EXAMPLE_ROLE], RevokedAt: ["2026-11-30T08:00:00Z"] },
        TargetLocations: [
          { Accounts: [LATER], Regions: [world.aws.region], ExecutionRoleName: "elevate-member-cutoff" },
        ],
      }),
    );
    ssm.destroy();
    const parent = await world.aws.state.waitForExecution(started.AutomationExecutionId as string);
    await Promise.all((parent.childExecutionIds ?? []).map((id) => world.aws.state.waitForExecution(id)));
    await eventually(() => parent.status !== "InProgress", "the multi-account parent to end");
    expect(parent.status, parent.failureMessage).toBe("Success");
    expect(cutoffs(LATER)).toEqual({
      "elevate-cutoff-dave": JSON.parse(cutoffPolicyText("dave", at("2026-11-30T08:00:00Z"))),
    });
    // Leaving the OU removes the instance (RetainStacksOnAccountRemoval false).
    org.removeAccount(LATER);
    expect(org.stackInstances("elevate-member").find((i) => i.accountId === LATER)?.status).toBe("DELETED");
  });
});

describe("a member-account role: early revoke and drift, through the revoke run", () => {
  it("deleting one of two overlapping requests keeps the member session; deleting the other cuts it off there", async () => {
    await moveClock("2026-11-30T08:10:00Z");
    const daveSession = await takeSession(world, "dave", MEMBER_ROLE);
    expect(await sessionWorks(world, daveSession)).toBe(true);

    const first = world.scenario.openRequestPr({
      author: "dave",
      files: { "requests/member-admin/dave-a.yaml": null },
    });
    const run = await revoke(world, first.merge("merge").pushEvent);
    expect(run.exitCode, run.stdout).toBe(0);
    expect(jsonOutput(run, "revoked")).toEqual(["dave-a"]);
    expect(world.grantPolicies("dave")).toEqual(["elevate-dave-b"]);
    expect(await sessionWorks(world, daveSession)).toBe(true);
    expect(Object.keys(cutoffs(MEMBER))).not.toContain("elevate-cutoff-dave");

    await moveClock("2026-11-30T08:20:00Z");
    const second = world.scenario.openRequestPr({
      author: "dave",
      files: { "requests/member-admin/dave-b.yaml": null },
    });
    const again = await revoke(world, second.merge("merge").pushEvent);
    expect(again.exitCode, again.stdout).toBe(0);
    expect(jsonOutput(again, "revoked")).toEqual(["dave-b"]);
    expect(world.grantPolicies("dave")).toEqual([]);
    // Cut off in the member account, stamped on AWS's clock after the grant policy went (+60 s).
    expect(await sessionWorks(world, daveSession)).toMatch(/AccessDenied/);
    const written = (
      cutoffs(MEMBER)["elevate-cutoff-dave"] as { Statement: { Condition: { DateLessThan: Record<string, string> } }[] }
    )?.Statement[0]?.Condition.DateLessThan["aws:TokenIssueTime"];
    expect(Date.parse(written as string) - Date.parse("2026-11-30T08:21:00Z")).toBeGreaterThanOrEqual(0);
    expect(Date.parse(written as string) - Date.parse("2026-11-30T08:21:00Z")).toBeLessThan(15_000);
    const [revokeExec] = executionsOf(world, "Elevate-Revoke", "dave-b");
    expect(revokeExec?.steps.map((step) => step.StepName)).toContain("cutOffInMemberAccount");
    expect(revokeExec?.parameters.RoleAccountId).toEqual([MEMBER]);
    expect(Object.keys(cutoffs(HUB))).toEqual([]);
  });

  it("a grant policy no merged request accounts for (drift) is revoked and its member session cut off", async () => {
    await moveClock("2026-11-30T08:25:00Z");
    // Written behind Elevate's back, in the exact shape the grant runbook writes.
    await rootIam(world).send(
      new (await import("@aws-sdk/client-iam")).PutUserPolicyCommand({
        UserName: "carol",
        PolicyName: "elevate-carol-sneaky",
        PolicyDocument: grantPolicyText({
          requestId: "carol-sneaky",
          iamUser: "carol",
          roleArn: MEMBER_ROLE,
          notBefore: at("2026-11-30T08:00:00Z"),
          notAfter: at("2026-11-30T09:30:00Z"),
        }),
      }),
    );
    const carolSession = await takeSession(world, "carol", MEMBER_ROLE);
    expect(await sessionWorks(world, carolSession)).toBe(true);
    const run = await revoke(world, scheduledRun(world));
    expect(jsonOutput(run, "revoked")).toEqual(["carol-sneaky"]);
    expect(run.stdout).toContain("carol-sneaky");
    expect(world.grantPolicies("carol")).toEqual([]);
    expect(await sessionWorks(world, carolSession)).toMatch(/AccessDenied/);
    expect(Object.keys(cutoffs(MEMBER))).toContain("elevate-cutoff-carol");
  });
});

describe("a member-account role: grant, use, expiry at notAfter with no GitHub run", () => {
  let aliceSession: Awaited<ReturnType<typeof takeSession>>;
  let bobSession: Awaited<ReturnType<typeof takeSession>>;

  it("grants are policies on the hub users that let them assume the member role", async () => {
    expect(world.grantPolicies("alice.smith").sort()).toEqual(["elevate-alice-long", "elevate-alice-short"]);
    expect(world.grantPolicies("bob")).toEqual(["elevate-bob-short"]);
    aliceSession = await takeSession(world, "alice.smith", MEMBER_ROLE);
    expect(await sessionWorks(world, aliceSession)).toBe(true);
    // The member's trust admits only the session name = the hub user's name.
    expect((await world.tryAssume("bob", MEMBER_ROLE, "alice.smith")).ok).toBe(false);
    // carol has no grant: her own account's policies do not allow the member role.
    expect((await world.tryAssume("carol", MEMBER_ROLE)).ok).toBe(false);
  });

  it("at notAfter the member session is cut off in the member account; an overlapping grant keeps the other's", async () => {
    await moveClock("2026-11-30T08:59:00Z");
    aliceSession = await takeSession(world, "alice.smith", MEMBER_ROLE);
    bobSession = await takeSession(world, "bob", MEMBER_ROLE);
    expect(await sessionWorks(world, bobSession)).toBe(true);

    await moveClock("2026-11-30T09:01:00Z");
    // bob: his only grant ended, and his session from 08:59 is denied by the member's cut-off.
    expect(await sessionWorks(world, bobSession)).toMatch(/AccessDenied/);
    expect(world.grantPolicies("bob")).toEqual([]);
    expect(cutoffs(MEMBER)["elevate-cutoff-bob"]).toEqual(
      JSON.parse(cutoffPolicyText("bob", at("2026-11-30T09:00:01Z"))),
    );
    // alice: alice-short ended but alice-long still covers the role; her session stays.
    expect(await sessionWorks(world, aliceSession)).toBe(true);
    expect(world.grantPolicies("alice.smith")).toEqual(["elevate-alice-long"]);
    // Nothing on the hub's own example role.
    expect(Object.keys(cutoffs(HUB))).toEqual([]);

    const [expiry] = executionsOf(world, "Elevate-ExpireGrant", "bob-short");
    expect(expiry?.status).toBe("Success");
    expect(expiry?.steps.map((s) => `${s.StepName}:${s.StepStatus}`)).toEqual([
      "waitForNotAfter:Success",
      "expireGrant:Success",
      "chooseMemberCutOff:Success",
      "cutOffInMemberAccount:Success",
      "scheduleMemberClear:Success",
      "listRemainingPolicies:Success",
    ]);
    // The cut-off was written in the member account by its execution role, as a child of the hub's automation.
    const [written] = [...world.aws.state.executions.values()].filter(
      (e) =>
        e.documentName === "Elevate-MemberCutoff" && e.accountId === MEMBER && e.parameters.UserName?.[0] === "bob",
    );
    expect(written?.status).toBe("Success");
    expect(written?.executedBy).toMatch(new RegExp(`^arn:aws:sts::${MEMBER}:assumed-role/elevate-member-cutoff/`));
    expect(world.aws.calls("PutRolePolicy").filter((c) => c.params.PolicyName === "elevate-cutoff-bob")).toHaveLength(
      1,
    );
  });

  it("the member's cut-off clears itself once the role's MaxSessionDuration has passed", async () => {
    const clears = () =>
      [...world.aws.state.executions.values()].filter(
        (e) => e.documentName === "Elevate-MemberClearCutoff" && e.accountId === MEMBER,
      );
    // dave's and carol's (revoked early above) and bob's wait in the member account.
    expect(
      clears()
        .map((e) => `${e.parameters.UserName?.[0]}:${e.status}`)
        .sort(),
    ).toEqual(["bob:InProgress", "carol:InProgress", "dave:InProgress"]);
    // alice takes a fresh session under alice-long (sessions last an hour).
    await moveClock("2026-11-30T09:30:00Z");
    aliceSession = await takeSession(world, "alice.smith", MEMBER_ROLE);
    // 09:00:01 + 3600 s: still there a second before.
    await moveClock("2026-11-30T10:00:00Z");
    await new Promise((r) => setTimeout(r, 300));
    expect(Object.keys(cutoffs(MEMBER))).toContain("elevate-cutoff-bob");
    await moveClock("2026-11-30T10:00:02Z");
    await eventually(() => !Object.keys(cutoffs(MEMBER)).includes("elevate-cutoff-bob"), "bob's cut-off to clear");
    const bobClear = clears().find((e) => e.parameters.UserName?.[0] === "bob");
    await eventually(() => bobClear?.status === "Success", "the clearing run to end");
    expect(bobClear?.outputs["clearCutOff.Outcome"]).toEqual(["Cleared"]);
  });

  it("alice's last grant ends at 10:00 and her member session is cut off then", async () => {
    // The clock already passed 10:00 above: alice-long's schedule fired and ended it.
    expect(world.grantPolicies("alice.smith")).toEqual([]);
    expect(await sessionWorks(world, aliceSession)).toMatch(/AccessDenied/);
    expect(cutoffs(MEMBER)["elevate-cutoff-alice.smith"]).toEqual(
      JSON.parse(cutoffPolicyText("alice.smith", at("2026-11-30T10:00:01Z"))),
    );
    // dave's and carol's (revoked around 08:20) cleared themselves after their hour.
    await eventually(() => Object.keys(cutoffs(MEMBER)).length === 1, "dave's and carol's cut-offs to clear");
    expect(Object.keys(cutoffs(MEMBER))).toEqual(["elevate-cutoff-alice.smith"]);
    // A new session is refused anyway: no grant allows the member role any more.
    expect((await world.tryAssume("alice.smith", MEMBER_ROLE)).ok).toBe(false);
  });
});
