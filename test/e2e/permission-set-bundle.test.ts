/**
 * Identity Center permission sets end to end THROUGH THE ACTION BUNDLE (issue 15 §4),
 * across two accounts: the hub (123456789012) holds the stack, the Identity Center
 * instance and the runbooks; the permission set is assigned in the member account
 * (210987654321). The world (sandbox/world.ts `identityCenter`) maps the GitHub logins
 * to identity store users in the eligible group and catalogues the permission set as
 * `prod-admin`. Requests go PR → approve → merge → grant run (Elevate-GrantPermissionSet);
 * their end is the schedule at notAfter (Elevate-RevokePermissionSet, no GitHub run),
 * an early revoke by deleting the request file, or the revoke run's drift repair.
 * "Use" is the access portal's sign-in (sandbox identityCenter.signIn).
 */
import { CreateAccountAssignmentCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { PortalSignIn } from "../../sandbox/aws/index.js";
import { type ElevateWorld, type IdentityCenterWorld, requestYaml } from "../../sandbox/world.js";
import { PLAN_COMMENT_MARKER } from "../../src/modes/check.js";
import {
  at,
  executionsOf,
  grantThroughPr,
  jsonOutput,
  revoke,
  scheduledRun,
  sessionWorks,
  startRevokeWorld,
} from "./revoke-bundle-support.js";

// Every grant and revoke runs the bundle and python3 runbook steps; give a loaded machine room.
vi.setConfig({ testTimeout: 120_000 });

const HUB = "123456789012";
const MEMBER = "210987654321";
const ROLE = "prod-admin";

let world: ElevateWorld;
let ic: IdentityCenterWorld;

const userOf = (login: string) => ic.users[login] as string;
const assigned = (login: string) =>
  world.aws.state.identityCenter.hasAssignment(userOf(login), MEMBER, ic.permissionSet.arn);
function signIn(login: string): PortalSignIn {
  return world.aws.state.identityCenter.signIn({
    userName: userOf(login),
    accountId: MEMBER,
    permissionSetArn: ic.permissionSet.arn,
  });
}
const request = (login: string, duration = "1h") => requestYaml({ requester: login, role: ROLE, duration });

async function moveClock(iso: string): Promise<void> {
  world.aws.clock.set(at(iso));
  await world.aws.state.settleSchedules();
}

beforeAll(async () => {
  world = await startRevokeWorld({
    start: at("2026-11-30T08:00:00Z"),
    awsExpiry: true,
    accountIds: [HUB, MEMBER],
    identityCenter: true,
  });
  ic = world.identityCenter as IdentityCenterWorld;
  world.aws.state.identityCenter.knobs.statusPolls = 0;
}, 180_000);

afterAll(async () => {
  await world?.close();
});

describe("grant and use", () => {
  it("a merged, approved request assigns the permission set in the member account; the user can sign in", async () => {
    expect(ic.accountId).toBe(MEMBER);
    expect(() => signIn("alice")).toThrow(/sign-in refused/);
    const run = await grantThroughPr(world, {
      author: "alice",
      approver: "bob",
      files: { [`requests/${ROLE}/alice-ps-1.yaml`]: request("alice") },
    });
    expect(run.stdout).toContain("Elevate-GrantPermissionSet");
    const [execution] = executionsOf(world, "Elevate-GrantPermissionSet", "alice-ps-1");
    expect(execution?.status, execution?.failureMessage).toBe("Success");
    expect(execution?.parameters).toMatchObject({
      UserName: [userOf("alice")],
      PermissionSetArn: [ic.permissionSet.arn],
      AccountId: [MEMBER],
      NotBefore: ["2026-11-30T08:00:00Z"],
      NotAfter: ["2026-11-30T09:00:00Z"],
    });
    expect(assigned("alice")).toBe(true);
    const session = signIn("alice");
    expect(session.roleArn).toMatch(new RegExp(`^arn:aws:iam::${MEMBER}:role/aws-reserved/sso.amazonaws.com/`));
  });
});

/** A session's credentials, as the SDK takes them. */
const credentialsOf = (session: PortalSignIn) => ({
  accessKeyId: session.credential.accessKeyId,
  secretAccessKey: session.credential.secretAccessKey,
  sessionToken: session.credential.sessionToken as string,
});

/** Deletes request files in a merged PR and runs revoke on its push. */
async function deleteRequests(author: string, ...ids: string[]) {
  const pr = world.scenario.openRequestPr({
    author,
    files: Object.fromEntries(ids.map((id) => [`requests/${ROLE}/${id}.yaml`, null])),
  });
  const run = await revoke(world, pr.merge("merge").pushEvent);
  expect(run.exitCode, run.stdout).toBe(0);
  return run;
}

const revokeRecords = (requestId: string) => executionsOf(world, "Elevate-RevokePermissionSet", requestId);

describe("the check mode's plan comment", () => {
  it("names the Identity Center user, the permission set and its account", async () => {
    const pr = world.scenario.openRequestPr({
      author: "dave",
      files: { [`requests/${ROLE}/dave-check-1.yaml`]: request("dave", "90m") },
    });
    const run = await world.runAction("check", pr.pullRequestEvent("opened"));
    expect(run.exitCode, run.stdout).toBe(0);
    const [comment] = world.github.comments(world.repository, pr.number);
    expect(comment?.body.startsWith(PLAN_COMMENT_MARKER)).toBe(true);
    expect(comment?.body).toContain(
      `| \`dave-check-1\` | @dave | \`${userOf("dave")} (Identity Center)\` | \`permission set ${ic.permissionSet.arn} in account ${MEMBER}\` |`,
    );
    expect(comment?.body).toContain("1h 30m from merge");
    expect(comment?.body).toContain("\\@\u200bbob \\@\u200bcarol");
    // Nothing was granted: the check only plans.
    expect(world.aws.state.identityCenter.hasAssignment(userOf("dave"), MEMBER, ic.permissionSet.arn)).toBe(false);
  });
});

describe("early revoke: deleting the request file", () => {
  it("the revoke run deletes the assignment now; new sign-ins are refused", async () => {
    await moveClock("2026-11-30T08:05:00Z");
    await grantThroughPr(world, {
      author: "bob",
      approver: "carol",
      files: { [`requests/${ROLE}/bob-ps-1.yaml`]: request("bob", "2h") },
    });
    expect(assigned("bob")).toBe(true);
    signIn("bob");
    await moveClock("2026-11-30T08:07:00Z");
    const run = await deleteRequests("bob", "bob-ps-1");
    expect(assigned("bob")).toBe(false);
    expect(() => signIn("bob")).toThrow(/sign-in refused/);
    const [record] = revokeRecords("bob-ps-1");
    expect(record?.status, record?.failureMessage).toBe("Success");
    expect(record?.outputs["revoke.Outcome"]).toEqual(["Deleted"]);
    expect(run.summary).toContain("bob-ps-1");
    expect(run.summary).toContain("revoked-early");
  });
});

describe("overlapping grants of the same user, permission set and account", () => {
  it("deleting one of two keeps the assignment; deleting the other removes it", async () => {
    await moveClock("2026-11-30T08:10:00Z");
    for (const id of ["dave-a", "dave-b"]) {
      await grantThroughPr(world, {
        author: "dave",
        approver: "bob",
        files: { [`requests/${ROLE}/${id}.yaml`]: request("dave", "2h") },
      });
    }
    expect(assigned("dave")).toBe(true);
    await moveClock("2026-11-30T08:12:00Z");
    const first = await deleteRequests("dave", "dave-a");
    expect(assigned("dave")).toBe(true);
    // dave-a's revoke ends its end schedule; the runbook keeps the assignment for dave-b.
    expect(jsonOutput(first, "revoked")).toEqual(["dave-a"]);
    expect(revokeRecords("dave-a").map((e) => e.outputs["revoke.Outcome"]?.[0])).toEqual(["KeptForOtherGrants"]);
    expect(world.aws.state.schedules.has(`${HUB}/elevate/dave-a`)).toBe(false);
    expect(signIn("dave").accountId).toBe(MEMBER);
    await moveClock("2026-11-30T08:14:00Z");
    const last = await deleteRequests("dave", "dave-b");
    expect(assigned("dave")).toBe(false);
    // Both withdrawn grants are revoked again (dave-a's a no-op): each revoke deletes only its own end schedule.
    expect((jsonOutput(last, "revoked") as string[]).sort()).toEqual(["dave-a", "dave-b"]);
    expect(world.aws.state.schedules.has(`${HUB}/elevate/dave-b`)).toBe(false);
    expect(() => signIn("dave")).toThrow(/sign-in refused/);
  });

  it("at the end of the shorter one (schedule, no GitHub run) the longer one keeps the assignment", async () => {
    await moveClock("2026-11-30T08:15:00Z");
    await grantThroughPr(world, {
      author: "carol",
      approver: "bob",
      files: { [`requests/${ROLE}/carol-short.yaml`]: request("carol", "1h") },
    });
    await grantThroughPr(world, {
      author: "carol",
      approver: "bob",
      files: { [`requests/${ROLE}/carol-long.yaml`]: request("carol", "2h") },
    });
    await moveClock("2026-11-30T09:16:00Z");
    const [end] = revokeRecords("carol-short");
    expect(end?.status, end?.failureMessage).toBe("Success");
    expect(assigned("carol")).toBe(true);
    expect(signIn("carol").accountId).toBe(MEMBER);
  });
});

describe("expiry at notAfter, with no GitHub run", () => {
  let session: PortalSignIn;

  it("the schedule deletes alice's assignment at 09:00; new sign-ins are refused", async () => {
    // (The overlapping test above moved the clock past 09:00: alice's end already fired.)
    const [end] = revokeRecords("alice-ps-1");
    expect(end?.status, end?.failureMessage).toBe("Success");
    expect(end?.outputs["revoke.Outcome"]).toEqual(["Deleted"]);
    expect(assigned("alice")).toBe(false);
    expect(() => signIn("alice")).toThrow(/sign-in refused/);
  });

  it("a session signed in before the end lasts its SessionDuration (PT1H), and not longer", async () => {
    // carol-long (08:15–10:15) is active: carol signs in at 09:30, her assignment ends at 10:15.
    await moveClock("2026-11-30T09:30:00Z");
    session = signIn("carol");
    expect(session.credential.expiration?.toISOString()).toBe("2026-11-30T10:30:00.000Z");
    await moveClock("2026-11-30T10:16:00Z");
    expect(assigned("carol")).toBe(false);
    expect(() => signIn("carol")).toThrow(/sign-in refused/);
    // The live session outlives the assignment (Identity Center does not revoke it) ...
    expect(await sessionWorks(world, credentialsOf(session))).toBe(true);
    // ... until its SessionDuration is over.
    await moveClock("2026-11-30T10:30:01Z");
    expect(await sessionWorks(world, credentialsOf(session))).toMatch(/ExpiredToken/);
  });
});

describe("drift: an assignment of a catalogued pair made by hand", () => {
  // Someone gives an identity store user the catalogued permission set in the console,
  // with no request: a person outside the GitHub mapping, so nothing can account for it.
  const MALLORY = "mallory@acme.example";
  const malloryAssigned = () => world.aws.state.identityCenter.hasAssignment(MALLORY, MEMBER, ic.permissionSet.arn);
  const driftRevokes = () =>
    executionsOf(world, "Elevate-RevokePermissionSet").filter((e) => e.parameters.RequestId?.[0]?.startsWith("drift-"));

  beforeAll(async () => {
    await moveClock("2026-11-30T10:40:00Z");
    const center = world.aws.state.identityCenter;
    center.createUser(MALLORY);
    const sso = new SSOAdminClient({
      region: world.aws.region,
      endpoint: world.aws.endpoint,
      credentials: world.aws.rootCredentials,
    });
    await sso.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: ic.instanceArn,
        TargetId: MEMBER,
        TargetType: "AWS_ACCOUNT",
        PermissionSetArn: ic.permissionSet.arn,
        PrincipalType: "USER",
        PrincipalId: center.userByName(MALLORY)!.userId,
      }),
    );
    center.settle();
    sso.destroy();
    expect(malloryAssigned()).toBe(true);
  });

  it("a revoke run with drift: report reports it, leaves it and fails", async () => {
    const run = await revoke(world, scheduledRun(world), { drift: "report" });
    expect(run.exitCode, run.stdout).toBe(1);
    expect(malloryAssigned()).toBe(true);
    expect(driftRevokes()).toEqual([]);
    const [id] = jsonOutput(run, "drift") as string[];
    expect(id).toMatch(/^drift-[0-9a-f]{16}$/);
    expect(run.outputs.summary).toContain(`1 drifting Identity Center assignment(s) left in place: ${MALLORY} (${id})`);
    expect(run.outputs.summary).toContain("revoked 0, kept 0, 1 drift finding(s)");
    expect(run.summary).toContain(`| ${id} | mallory\\@\u200bacme.example |`);
    expect(run.summary).toContain(
      "| drift: no merged request and no successful Elevate-GrantPermissionSet execution accounts for it | reported |",
    );
  });

  it("a revoke run with drift: revoke deletes it (Elevate-RevokePermissionSet)", async () => {
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(malloryAssigned()).toBe(false);
    const drift = driftRevokes();
    expect(drift.map((e) => [e.status, e.parameters.UserName?.[0], e.outputs["revoke.Outcome"]?.[0]])).toEqual([
      ["Success", MALLORY, "Deleted"],
    ]);
    expect(jsonOutput(run, "drift")).toEqual([drift[0]?.parameters.RequestId?.[0]]);
    expect(jsonOutput(run, "revoked")).toEqual([drift[0]?.parameters.RequestId?.[0]]);
    expect(() =>
      world.aws.state.identityCenter.signIn({
        userName: MALLORY,
        accountId: MEMBER,
        permissionSetArn: ic.permissionSet.arn,
      }),
    ).toThrow(/sign-in refused/);
  });
});
