/**
 * Attacks on what issue 15 added for Identity Center permission sets, with the
 * credentials an attacker may hold: the grant role's or the revoke role's session
 * (stolen from a workflow run), started straight against the runbooks with hostile
 * parameters. Every row asserts the attack is refused AND that nothing changed
 * (no grant policy, no assignment, no schedule touched): see attack-org-support.ts.
 *
 * The schedule group "elevate" holds both kinds of end: Elevate-Grant's (an IAM grant,
 * Elevate-ExpireGrant) and Elevate-GrantPermissionSet's (Elevate-RevokePermissionSet),
 * each named after its request. An Identity Center user name can also be a valid IAM
 * user name (alice, alice@acme.com), so the IAM runbooks' "same user" test alone cannot
 * tell a permission-set grant's end from an IAM grant's: each runbook only touches a
 * schedule that ends its own kind.
 */
import { CreateAccountAssignmentCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import {
  type AttackWorld,
  at,
  EXAMPLE_ROLE,
  eligibleIamUser,
  eligibleIdentityCenterUser,
  failure,
  finished,
  HUB,
  HUB_ROLE_ARN,
  MEMBER,
  NOW,
  snapshot,
  start,
  startAttackWorld,
} from "./attack-org-support.js";

// Each runbook step that calls AWS runs python3 with boto3: give a loaded machine room.
vi.setConfig({ testTimeout: 120_000 });

let world: AttackWorld;

beforeAll(async () => {
  world = await startAttackWorld();
  world.sandbox.state.identityCenter.knobs.statusPolls = 0;
}, 90_000);

afterAll(async () => {
  await world?.close();
});

beforeEach(() => {
  world.sandbox.clock.set(NOW);
});

function psGrantParameters(p: {
  requestId: string;
  userName: string;
  permissionSetArn?: string;
  accountId?: string;
  notBefore?: string;
  notAfter?: string;
}): Record<string, string> {
  return {
    AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
    RequestId: p.requestId,
    UserName: p.userName,
    PermissionSetArn: p.permissionSetArn ?? world.prodAdmin.arn,
    AccountId: p.accountId ?? MEMBER,
    NotBefore: p.notBefore ?? at(0),
    NotAfter: p.notAfter ?? at(60),
  };
}

/** A legitimate permission-set grant (the grant workflow's own start), to attack afterwards. */
async function psGrant(requestId: string, userName: string): Promise<void> {
  const started = await start(world.grantSsm, "Elevate-GrantPermissionSet", psGrantParameters({ requestId, userName }));
  if (!started.started) throw new Error(started.error);
  const record = await finished(world, started.id);
  expect(record.status, failure(record)).toBe("Success");
  expect(world.sandbox.state.identityCenter.hasAssignment(userName, MEMBER, world.prodAdmin.arn)).toBe(true);
}

const scheduleDocument = (name: string) =>
  JSON.parse(world.sandbox.state.schedules.get(`${HUB}/elevate/${name}`)?.target.Input ?? "{}").DocumentName;

describe("the schedule group holds both kinds of end: neither IAM runbook takes over a permission-set grant's end", () => {
  it("grant role: Elevate-Grant with a permission-set grant's request id and its Identity Center user name (no such IAM user) is refused; the assignment's end stays", async () => {
    eligibleIdentityCenterUser(world, "carol@acme.com");
    await psGrant("carol-ps", "carol@acme.com");
    const before = snapshot(world, ["carol@acme.com"]);
    const started = await start(world.grantSsm, "Elevate-Grant", {
      AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
      RequestId: "carol-ps",
      UserName: "carol@acme.com",
      RoleArn: HUB_ROLE_ARN,
      NotBefore: at(0),
      NotAfter: at(60),
    });
    if (!started.started) throw new Error(started.error);
    const record = await finished(world, started.id);
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(
      /^scheduleExpiry: .*schedule elevate\/carol-ps ends no IAM grant \(a permission-set grant, or not Elevate's\), not 'carol@acme.com'; refusing to replace it/,
    );
    expect(snapshot(world, ["carol@acme.com"])).toEqual(before);
    expect(scheduleDocument("carol-ps")).toBe("Elevate-RevokePermissionSet");
  });

  it("grant role: the same with an eligible IAM user of the same name is refused before anything is attached", async () => {
    eligibleIdentityCenterUser(world, "dan");
    await psGrant("dan-ps", "dan");
    await eligibleIamUser(world, "dan");
    const before = snapshot(world, ["dan"]);
    const started = await start(world.grantSsm, "Elevate-Grant", {
      AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
      RequestId: "dan-ps",
      UserName: "dan",
      RoleArn: HUB_ROLE_ARN,
      NotBefore: at(0),
      NotAfter: at(60),
    });
    if (!started.started) throw new Error(started.error);
    const record = await finished(world, started.id);
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(/^scheduleExpiry: .*refusing to replace it/);
    expect(snapshot(world, ["dan"])).toEqual(before);
  });

  it("revoke role: Elevate-Revoke with a permission-set grant's request id and an IAM user of the same name leaves that grant's end alone", async () => {
    eligibleIdentityCenterUser(world, "erin");
    await psGrant("erin-ps", "erin");
    await eligibleIamUser(world, "erin");
    const before = snapshot(world, ["erin"]);
    const started = await start(world.revokeSsm, "Elevate-Revoke", {
      AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
      RequestId: "erin-ps",
      UserName: "erin",
      RoleName: EXAMPLE_ROLE,
      CutOff: "false",
      RevokedAt: at(0),
      StampAtRunTime: "false",
      RoleAccountId: HUB,
      StampNotAfter: "9999-12-31T23:59:59Z",
      CoveringRequests: "-",
    });
    if (!started.started) throw new Error(started.error);
    const record = await finished(world, started.id);
    expect(record.status, failure(record)).toBe("Success");
    expect(record.steps.find((s) => s.StepName === "deleteExpirySchedule")?.Outputs?.Schedule).toEqual([
      "NotThisGrant",
    ]);
    expect(snapshot(world, ["erin"])).toEqual(before);
    expect(scheduleDocument("erin-ps")).toBe("Elevate-RevokePermissionSet");
  });

  it("grant role: Elevate-GrantPermissionSet with an IAM grant's request id is refused; the IAM grant's end stays", async () => {
    await eligibleIamUser(world, "fay");
    const grant = await start(world.grantSsm, "Elevate-Grant", {
      AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
      RequestId: "fay-iam",
      UserName: "fay",
      RoleArn: HUB_ROLE_ARN,
      NotBefore: at(0),
      NotAfter: at(60),
    });
    if (!grant.started) throw new Error(grant.error);
    expect((await finished(world, grant.id)).status).toBe("Success");
    eligibleIdentityCenterUser(world, "fay");
    const before = snapshot(world, ["fay"]);
    const started = await start(
      world.grantSsm,
      "Elevate-GrantPermissionSet",
      psGrantParameters({ requestId: "fay-iam", userName: "fay" }),
    );
    if (!started.started) throw new Error(started.error);
    const record = await finished(world, started.id);
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(/^scheduleEnd: .*ends another grant; refusing to replace it/);
    expect(snapshot(world, ["fay"])).toEqual(before);
    expect(scheduleDocument("fay-iam")).toBe("Elevate-ExpireGrant");
  });

  it("revoke role: Elevate-RevokePermissionSet with an IAM grant's request id deletes neither that end nor a standing assignment", async () => {
    const ic = world.sandbox.state.identityCenter;
    const sso = new SSOAdminClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: world.sandbox.rootCredentials,
    });
    // fay's standing access made outside Elevate, on a pair outside the catalog.
    await sso.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: ic.instanceArn,
        TargetId: MEMBER,
        TargetType: "AWS_ACCOUNT",
        PermissionSetArn: world.uncatalogued.arn,
        PrincipalType: "USER",
        PrincipalId: ic.userByName("fay")!.userId,
      }),
    );
    ic.settle();
    sso.destroy();
    const before = snapshot(world, ["fay"]);
    const started = await start(world.revokeSsm, "Elevate-RevokePermissionSet", {
      AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
      RequestId: "fay-iam",
      UserName: "fay",
      PermissionSetArn: world.uncatalogued.arn,
      AccountId: MEMBER,
    });
    if (!started.started) throw new Error(started.error);
    const record = await finished(world, started.id);
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(/Elevate did not grant it, so it does not revoke it/);
    expect(snapshot(world, ["fay"])).toEqual(before);
  });
});

describe("hostile parameters to Elevate-GrantPermissionSet, with the grant role's credentials", () => {
  const rows: { attack: string; params: () => Record<string, string>; refusedBy: RegExp }[] = [
    {
      attack: "a permission set outside GrantablePermissionSets",
      params: () =>
        psGrantParameters({ requestId: "x-uncat", userName: "gus", permissionSetArn: world.uncatalogued.arn }),
      refusedBy: /^checkCeiling: .*not in the stack's GrantablePermissionSets/,
    },
    {
      attack: "a catalogued permission set in an account it is not catalogued for (the hub)",
      params: () => psGrantParameters({ requestId: "x-acct", userName: "gus", accountId: HUB }),
      refusedBy: /^checkCeiling: .*not in the stack's GrantablePermissionSets/,
    },
    {
      attack: "a permission set of another Identity Center instance",
      params: () =>
        psGrantParameters({ requestId: "x-inst", userName: "gus", permissionSetArn: world.foreignPermissionSetArn }),
      refusedBy: /^checkCeiling: .*is not a permission set of the stack's instance/,
    },
    {
      attack: "a window beyond the entry's 2h ceiling",
      params: () => psGrantParameters({ requestId: "x-long", userName: "gus", notAfter: at(121) }),
      refusedBy: /^checkCeiling: .*allows at most 7200 s/,
    },
    {
      attack: "a window starting beyond MaxGrantLeadTime (7 days)",
      params: () =>
        psGrantParameters({
          requestId: "x-lead",
          userName: "gus",
          notBefore: at(7 * 1440 + 5),
          notAfter: at(7 * 1440 + 60),
        }),
      refusedBy: /^checkCeiling: .*MaxGrantLeadTime/,
    },
    {
      attack: "a window that started long ago (beyond GrantStartTolerance)",
      params: () =>
        psGrantParameters({ requestId: "x-past", userName: "gus", notBefore: at(-180), notAfter: at(-100) }),
      refusedBy: /^checkCeiling: .*GrantStartTolerance/,
    },
    {
      attack: "a user outside the eligible group",
      params: () => psGrantParameters({ requestId: "x-inel", userName: "outsider@acme.com" }),
      refusedBy: /^checkEligible: .*not in the identity store group/,
    },
    {
      attack: "the eligible group's own name as the user (a GROUP principal)",
      params: () => psGrantParameters({ requestId: "x-group", userName: "elevate-eligible" }),
      refusedBy: /^resolveUser: /,
    },
    {
      attack: "another grant's request id for another user (take over its end schedule)",
      params: () => psGrantParameters({ requestId: "carol-ps", userName: "gus" }),
      refusedBy: /^scheduleEnd: .*ends another grant; refusing to replace it/,
    },
    {
      attack: "another grant's request id, same user, another permission set's pair (re-point its end)",
      params: () => psGrantParameters({ requestId: "carol-ps", userName: "carol@acme.com", accountId: HUB }),
      refusedBy: /^checkCeiling: /,
    },
  ];

  it.each(rows)("refuses $attack; nothing changed", async ({ params, refusedBy }) => {
    const ic = world.sandbox.state.identityCenter;
    if (!ic.userByName("gus")) eligibleIdentityCenterUser(world, "gus");
    if (!ic.userByName("outsider@acme.com")) ic.createUser("outsider@acme.com");
    const before = snapshot(world, []);
    const started = await start(world.grantSsm, "Elevate-GrantPermissionSet", params());
    if (!started.started) throw new Error(started.error);
    const record = await finished(world, started.id);
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(refusedBy);
    expect(snapshot(world, [])).toEqual(before);
  });
});

describe("hostile parameters to Elevate-RevokePermissionSet, with the revoke role's credentials", () => {
  it("refuses a pair outside the catalog even when a user assignment exists; a group's name is no user", async () => {
    const ic = world.sandbox.state.identityCenter;
    eligibleIdentityCenterUser(world, "hal");
    ic.createGroup("hal-team");
    const sso = new SSOAdminClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: world.sandbox.rootCredentials,
    });
    // Standing access made outside Elevate: hal directly on an uncatalogued pair.
    await sso.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: ic.instanceArn,
        TargetId: MEMBER,
        TargetType: "AWS_ACCOUNT",
        PermissionSetArn: world.uncatalogued.arn,
        PrincipalType: "USER",
        PrincipalId: ic.userByName("hal")!.userId,
      }),
    );
    ic.settle();
    sso.destroy();
    const before = snapshot(world, []);
    const revoke = (requestId: string, userName: string, permissionSetArn: string) =>
      start(world.revokeSsm, "Elevate-RevokePermissionSet", {
        AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
        RequestId: requestId,
        UserName: userName,
        PermissionSetArn: permissionSetArn,
        AccountId: MEMBER,
      });
    // (1) the uncatalogued pair, naming another grant's schedule (carol-ps ends another target).
    const first = await revoke("carol-ps", "hal", world.uncatalogued.arn);
    if (!first.started) throw new Error(first.error);
    const refused = await finished(world, first.id);
    expect(refused.status).toBe("Failed");
    expect(failure(refused)).toMatch(/Elevate did not grant it, so it does not revoke it/);
    // (2) the catalogued pair for a group's name: RevokePermissionSet resolves user names only.
    const second = await revoke("x-group-revoke", "hal-team", world.prodAdmin.arn);
    if (!second.started) throw new Error(second.error);
    const groupRun = await finished(world, second.id);
    expect(groupRun.outputs["revoke.Outcome"]).toEqual(["NoSuchUser"]);
    // (3) hal on the catalogued pair, which hal does not hold: nothing deleted.
    const third = await revoke("x-hal-revoke", "hal", world.prodAdmin.arn);
    if (!third.started) throw new Error(third.error);
    const halRun = await finished(world, third.id);
    expect(halRun.outputs["revoke.Outcome"]).toEqual(["AlreadyAbsent"]);
    expect(snapshot(world, [])).toEqual(before);
  });

  it("naming another grant's end schedule for another user of the same pair deletes neither that schedule nor that grant's assignment", async () => {
    const ic = world.sandbox.state.identityCenter;
    if (!ic.userByName("gus")) eligibleIdentityCenterUser(world, "gus");
    expect(ic.hasAssignment("carol@acme.com", MEMBER, world.prodAdmin.arn)).toBe(true);
    const before = snapshot(world, []);
    const started = await start(world.revokeSsm, "Elevate-RevokePermissionSet", {
      AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
      RequestId: "carol-ps",
      UserName: "gus",
      PermissionSetArn: world.prodAdmin.arn,
      AccountId: MEMBER,
    });
    if (!started.started) throw new Error(started.error);
    const record = await finished(world, started.id);
    expect(record.outputs["revoke.Outcome"]).toEqual(["AlreadyAbsent"]);
    expect(snapshot(world, [])).toEqual(before);
    expect(scheduleDocument("carol-ps")).toBe("Elevate-RevokePermissionSet");
  });

  it("an instance mismatch is refused before anything is read or deleted", async () => {
    const before = snapshot(world, []);
    const started = await start(world.revokeSsm, "Elevate-RevokePermissionSet", {
      AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
      RequestId: "carol-ps",
      UserName: "carol@acme.com",
      PermissionSetArn: world.foreignPermissionSetArn,
      AccountId: MEMBER,
    });
    if (!started.started) throw new Error(started.error);
    const record = await finished(world, started.id);
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(/is not a permission set of the stack's instance/);
    expect(snapshot(world, [])).toEqual(before);
  });
});
