import {
  GetAccountAuthorizationDetailsCommand,
  type GetAccountAuthorizationDetailsCommandInput,
  GetRoleCommand,
  IAMClient,
  type RoleDetail,
  type UserDetail,
} from "@aws-sdk/client-iam";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import { cutoffPolicyName, cutoffPolicyText, grantPolicyText } from "../../src/domain/grant-policy.js";
import { buildInventory, readInventory } from "../../src/modes/inventory.js";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const NOW = new Date("2026-11-30T12:00:00Z");
const iamMock = mockClient(IAMClient);
afterEach(() => iamMock.reset());

function user(name: string, policies: Record<string, string> = {}): UserDetail {
  return {
    UserName: name,
    Arn: `arn:aws:iam::${ACCOUNT}:user/elevate/${name}`,
    UserPolicyList: Object.entries(policies).map(([PolicyName, doc]) => ({
      PolicyName,
      PolicyDocument: encodeURIComponent(doc),
    })),
  };
}

function roleDetail(arn: string, policies: Record<string, string> = {}): RoleDetail {
  return {
    Arn: arn,
    RoleName: arn.split("/").at(-1) as string,
    RolePolicyList: Object.entries(policies).map(([PolicyName, doc]) => ({
      PolicyName,
      PolicyDocument: encodeURIComponent(doc),
    })),
  };
}

function grantText(requestId: string, iamUser: string): string {
  return grantPolicyText({
    requestId,
    iamUser,
    roleArn: ROLE,
    notBefore: new Date("2026-11-30T11:00:00Z"),
    notAfter: new Date("2026-11-30T13:00:00Z"),
  });
}

/** Serves users then roles in pages of MaxItems, with an opaque marker, as IAM does. */
function serveAccount(users: UserDetail[], roles: RoleDetail[]): void {
  const items = [...users.map((u) => ({ u })), ...roles.map((r) => ({ r }))];
  iamMock.on(GetAccountAuthorizationDetailsCommand).callsFake((input: GetAccountAuthorizationDetailsCommandInput) => {
    const start = input.Marker ? Number(Buffer.from(input.Marker, "base64").toString()) : 0;
    const page = items.slice(start, start + (input.MaxItems ?? 100));
    const next = start + page.length;
    return {
      UserDetailList: page.flatMap((i) => ("u" in i ? [i.u] : [])),
      RoleDetailList: page.flatMap((i) => ("r" in i ? [i.r] : [])),
      IsTruncated: next < items.length,
      ...(next < items.length ? { Marker: Buffer.from(String(next)).toString("base64") } : {}),
    };
  });
}

describe("readInventory", () => {
  it("lists users and roles together, 1,000 per call, and stays within ⌈users / 1000⌉ + 1 calls", async () => {
    const users = Array.from({ length: 10_000 }, (_, i) => {
      const name = `user-${String(i).padStart(5, "0")}`;
      return i % 10 === 0 ? user(name, { [`elevate-req-${i}`]: grantText(`req-${i}`, name) }) : user(name);
    });
    const roles = Array.from({ length: 40 }, (_, i) => roleDetail(`arn:aws:iam::${ACCOUNT}:role/r${i}`));
    serveAccount(users, roles);
    const { inventory, listingCalls, getRoleCalls } = await readInventory(
      new IAMClient({ region: "ap-northeast-1" }),
      ACCOUNT,
      NOW,
    );
    expect(inventory.grants).toHaveLength(1000);
    expect(inventory.roles.size).toBe(40);
    expect(listingCalls).toBe(11);
    expect(listingCalls).toBeLessThanOrEqual(Math.ceil(10_000 / 1000) + 1);
    expect(getRoleCalls).toBe(0);
    const calls = iamMock.commandCalls(GetAccountAuthorizationDetailsCommand);
    expect(calls).toHaveLength(11);
    expect(calls[0]?.args[0].input).toEqual({ Filter: ["User", "Role"], MaxItems: 1000 });
    expect(calls[1]?.args[0].input).toEqual({
      Filter: ["User", "Role"],
      MaxItems: 1000,
      Marker: Buffer.from("1000").toString("base64"),
    });
  });

  it("calls GetRole only for roles whose cut-offs are between 1 and 12 hours old", async () => {
    const at = (iso: string) => cutoffPolicyText("alice", new Date(iso));
    serveAccount(
      [],
      [
        roleDetail(ROLE, { [cutoffPolicyName("alice")]: at("2026-11-30T09:00:00Z") }),
        roleDetail(`arn:aws:iam::${ACCOUNT}:role/Young`, { [cutoffPolicyName("alice")]: at("2026-11-30T11:30:00Z") }),
        roleDetail(`arn:aws:iam::${ACCOUNT}:role/Old`, { [cutoffPolicyName("alice")]: at("2026-11-29T11:00:00Z") }),
      ],
    );
    iamMock.on(GetRoleCommand).resolves({
      Role: {
        RoleName: "EC2_FullAccess_Role",
        Path: "/elevated/",
        RoleId: "AROA",
        Arn: ROLE,
        CreateDate: NOW,
        MaxSessionDuration: 7200,
      },
    });
    const { inventory, getRoleCalls } = await readInventory(new IAMClient({ region: "ap-northeast-1" }), ACCOUNT, NOW);
    expect(getRoleCalls).toBe(1);
    expect(iamMock.commandCalls(GetRoleCommand).map((c) => c.args[0].input)).toEqual([
      { RoleName: "EC2_FullAccess_Role" },
    ]);
    expect(inventory.roles.get(ROLE)?.maxSessionDurationSeconds).toBe(7200);
  });

  it("fails the whole read when a page fails, never returning a partial inventory", async () => {
    iamMock
      .on(GetAccountAuthorizationDetailsCommand)
      .resolvesOnce({ UserDetailList: [user("alice")], IsTruncated: true, Marker: "m1" })
      .rejects(Object.assign(new Error("Rate exceeded"), { name: "Throttling" }));
    await expect(
      readInventory(new IAMClient({ region: "ap-northeast-1", maxAttempts: 1 }), ACCOUNT, NOW),
    ).rejects.toThrow("Rate exceeded");
  });
});

describe("buildInventory", () => {
  it("sorts elevate-* user policies into grants (parsed or not) and role policies into cut-offs and foreign ones", () => {
    const inv = buildInventory(
      ACCOUNT,
      [
        user("alice", {
          "elevate-resize-asg": grantText("resize-asg", "alice"),
          "elevate-hand-made": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}',
          "team-readonly": "{}",
        }),
      ],
      [
        roleDetail(ROLE, {
          [cutoffPolicyName("alice")]: cutoffPolicyText("alice", new Date("2026-11-30T11:00:00Z")),
          [cutoffPolicyName("bob")]: cutoffPolicyText("carol", new Date("2026-11-30T11:00:00Z")),
          // The stack's own roles carry inline policies named like this (infra/template.yaml).
          "elevate-automation": "{}",
          "ec2-full": '{"Version": "2012-10-17"}',
        }),
      ],
    );
    expect(inv.grants.map((g) => [g.requestId, g.policy !== undefined])).toEqual([
      ["resize-asg", true],
      ["hand-made", false],
    ]);
    expect(inv.cutoffs.map((c) => [c.iamUser, c.revokedAt?.toISOString()])).toEqual([
      ["alice", "2026-11-30T11:00:00.000Z"],
      ["bob", undefined],
    ]);
    // Only elevate-cutoff-* is Elevate's on a role; elevate-automation only counts toward the budget.
    expect(inv.roles.get(ROLE)?.inlinePolicySizes.get("elevate-automation")).toBe(2);
    // IAM counts policy size without white space.
    expect(inv.roles.get(ROLE)?.inlinePolicySizes.get("ec2-full")).toBe('{"Version":"2012-10-17"}'.length);
  });

  it("refuses an inventory of another account than the config's", () => {
    expect(() => buildInventory("999999999999", [user("alice")], [])).toThrow("not in aws.accountId 999999999999");
  });
});
