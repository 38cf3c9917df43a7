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
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { PortalSignIn } from "../../sandbox/aws/index.js";
import { type ElevateWorld, type IdentityCenterWorld, requestYaml } from "../../sandbox/world.js";
import { at, executionsOf, grantThroughPr, startRevokeWorld } from "./revoke-bundle-support.js";

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

async function _moveClock(iso: string): Promise<void> {
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
