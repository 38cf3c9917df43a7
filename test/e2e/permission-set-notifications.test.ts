/**
 * Notifications of permission-set grants through the action bundle: the grant run's
 * "granted" and the revoke run's "revoked" (request file deleted on main) carry the
 * Identity Center user, the permission set and the account (docs/notifications.md),
 * and no IAM user or role ARN, which a permission-set grant does not have.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ElevateWorld, type IdentityCenterWorld, requestYaml } from "../../sandbox/world.js";
import { at, grantThroughPr, jsonOutput, revoke, scheduledRun, startRevokeWorld } from "./revoke-bundle-support.js";

vi.setConfig({ testTimeout: 120_000 });

const MEMBER = "210987654321";
const FILE = "requests/prod-admin/alice-notify-1.yaml";

let world: ElevateWorld;
let ic: IdentityCenterWorld;

beforeAll(async () => {
  world = await startRevokeWorld({
    start: at("2026-11-30T08:00:00Z"),
    awsExpiry: true,
    accountIds: ["123456789012", MEMBER],
    identityCenter: true,
  });
  ic = world.identityCenter as IdentityCenterWorld;
  world.aws.state.identityCenter.knobs.statusPolls = 0;
}, 180_000);

afterAll(async () => {
  await world?.close();
});

function messages(event: string): Record<string, unknown>[] {
  return world.aws.state.published
    .map((m) => JSON.parse(m.message) as Record<string, unknown>)
    .filter((m) => m.event === event && m.requestId === "alice-notify-1");
}

describe("permission-set notifications", () => {
  it("granted, then revoked early: both name the Identity Center user, permission set and account", async () => {
    await grantThroughPr(world, {
      author: "alice",
      approver: "bob",
      files: { [FILE]: requestYaml({ requester: "alice", role: "prod-admin", duration: "1h" }) },
    });
    const target = {
      identityCenterUser: ic.users.alice,
      permissionSetArn: ic.permissionSet.arn,
      accountId: MEMBER,
    };
    const [granted] = messages("granted");
    expect(granted).toMatchObject({ ...target, requester: "alice", role: "prod-admin", file: FILE });
    expect(granted).not.toHaveProperty("iamUser");
    expect(granted).not.toHaveProperty("roleArn");

    world.scenario.pushDirect({ [FILE]: null }, { author: "alice", message: "withdraw alice-notify-1" });
    const run = await revoke(world, scheduledRun(world));
    expect(run.exitCode, run.stdout).toBe(0);
    expect(world.aws.state.identityCenter.hasAssignment(ic.users.alice!, MEMBER, ic.permissionSet.arn)).toBe(false);
    const revoked = messages("revoked");
    expect(revoked).toHaveLength(1);
    // The revoke run knows the request by its file (requester is not read back for permission sets).
    expect(revoked[0]).toMatchObject({ ...target, role: "prod-admin", file: FILE });
    expect(revoked[0]).not.toHaveProperty("iamUser");
    expect(revoked[0]?.window).toEqual({ notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T09:00:00Z" });
    expect(jsonOutput(run, "drift")).toEqual([]);
  });
});
