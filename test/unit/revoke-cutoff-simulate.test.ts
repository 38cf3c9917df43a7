/**
 * IAM-evaluation proof of the revoke decisions (docs/threat-model.md invariants 3 and 6), with
 * @cloud-copilot/iam-simulate deciding: the plan's revocation time and the exact
 * cut-off text deny the revoked user's old sessions, allow the same user's sessions
 * under a newer grant, leave other users' sessions alone, and the user cannot assume
 * the role once the grant policy is gone (or its window has passed).
 */
import { describe, expect, it } from "vitest";
import { cutoffPolicyText, grantPolicyText, parseGrantPolicy } from "../../src/domain/grant-policy.js";
import { type InventoryGrant, type KnownRequest, planRevocations } from "../../src/domain/revoke-plan.js";
import { iamDecision } from "../support/iam-simulate.js";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const ROLE_ID = "AROAEXAMPLEROLEID0001";
const ALICE = `arn:aws:iam::${ACCOUNT}:user/elevate/alice`;

/** The example role's trust policy from infra/template.yaml (ElevatedEc2Role), with the account filled in. */
const TRUST = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "AccountUsersWithSessionNameEqualToUserName",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "sts:AssumeRole",
      // An IAM policy variable, not a template string.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: IAM policy variable syntax
      Condition: { StringEquals: { "sts:RoleSessionName": "${aws:username}" } },
    },
  ],
};
/** Stand-in for the role's AmazonEC2FullAccess. */
const ROLE_PERMISSIONS = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "ec2:*", Resource: "*" }] };

const T = (iso: string) => new Date(iso);

function grantFor(requestId: string, notBefore: string, notAfter: string) {
  const text = grantPolicyText({
    requestId,
    iamUser: "alice",
    roleArn: ROLE,
    notBefore: T(notBefore),
    notAfter: T(notAfter),
  });
  const inventoryGrant: InventoryGrant = {
    iamUser: "alice",
    policyName: `elevate-${requestId}`,
    requestId,
    policy: parseGrantPolicy(text) as NonNullable<InventoryGrant["policy"]>,
  };
  const known: KnownRequest = {
    requestId,
    file: `requests/ec2-admin/${requestId}.yaml`,
    deleted: false,
    // The merged request and its Elevate-Grant execution (SSM) account for it.
    requested: {
      iamUser: "alice",
      target: { kind: "role", roleArn: ROLE },
      durationMs: T(notAfter).getTime() - T(notBefore).getTime(),
      mergedAt: T(notBefore),
    },
    grantRecords: [
      {
        executionId: `exec-${requestId}`,
        requestId,
        iamUser: "alice",
        roleArn: ROLE,
        notBefore: T(notBefore),
        notAfter: T(notAfter),
      },
    ],
  };
  return { text, inventoryGrant, known };
}

function assumeRole(identityPolicies: string[], at: string) {
  return iamDecision({
    principal: ALICE,
    action: "sts:AssumeRole",
    resource: ROLE,
    context: { "aws:CurrentTime": at, "sts:RoleSessionName": "alice", "aws:username": "alice" },
    identityPolicies,
    resourcePolicy: TRUST,
  });
}

function sessionAction(input: { user: string; issuedAt: string; at: string; cutoff: string }) {
  return iamDecision({
    principal: `arn:aws:sts::${ACCOUNT}:assumed-role/EC2_FullAccess_Role/${input.user}`,
    action: "ec2:RunInstances",
    resource: "*",
    resourceAccount: ACCOUNT,
    context: {
      "aws:CurrentTime": input.at,
      "aws:TokenIssueTime": input.issuedAt,
      "aws:userid": `${ROLE_ID}:${input.user}`,
    },
    identityPolicies: [ROLE_PERMISSIONS],
    roleInlinePolicies: [input.cutoff],
  });
}

describe("after a revoke, IAM denies what it must and only that", () => {
  const old = grantFor("old-work", "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
  const next = grantFor("next-work", "2026-11-30T12:30:00Z", "2026-11-30T14:00:00Z");
  const now = T("2026-11-30T12:00:00Z");
  const plan = planRevocations({
    inventory: {
      accountId: ACCOUNT,
      grants: [old.inventoryGrant, next.inventoryGrant],
      cutoffs: [],
      roles: new Map([[ROLE, { arn: ROLE, name: "EC2_FullAccess_Role", inlinePolicySizes: new Map() }]]),
    },
    now,
    earlyRevokeIds: [],
    knownRequests: new Map([
      ["old-work", old.known],
      ["next-work", next.known],
    ]),
    driftMode: "revoke",
  });
  const revocation = plan.revoke[0];
  const cutoff = cutoffPolicyText("alice", revocation?.revokedAt as Date);

  it("plans exactly the expired grant, with a cut-off", () => {
    expect(plan.revoke.map((r) => [r.requestId, r.cutOff])).toEqual([["old-work", true]]);
    expect(plan.keep.map((k) => [k.requestId, k.state])).toEqual([["next-work", "pending"]]);
  });

  it("the user could assume the role inside the window, and cannot once the policy is gone or the window has passed", async () => {
    expect(await assumeRole([old.text], "2026-11-30T10:00:00Z")).toBe("Allowed");
    expect(await assumeRole([old.text], "2026-11-30T11:00:01Z")).toBe("ImplicitlyDenied"); // dropped run: still ends
    expect(await assumeRole([], "2026-11-30T10:00:00Z")).toBe("ImplicitlyDenied"); // revoked
  });

  it("denies the user's session issued before the revocation time", async () => {
    expect(
      await sessionAction({ user: "alice", issuedAt: "2026-11-30T10:30:00Z", at: "2026-11-30T12:00:05Z", cutoff }),
    ).toBe("ExplicitlyDenied");
    // Without the cut-off that session would still work: the cut-off is what stops it.
    expect(
      await iamDecision({
        principal: `arn:aws:sts::${ACCOUNT}:assumed-role/EC2_FullAccess_Role/alice`,
        action: "ec2:RunInstances",
        resource: "*",
        resourceAccount: ACCOUNT,
        context: { "aws:CurrentTime": "2026-11-30T12:00:05Z" },
        identityPolicies: [ROLE_PERMISSIONS],
      }),
    ).toBe("Allowed");
  });

  it("allows the same user's session issued under the newer grant", async () => {
    expect(await assumeRole([next.text], "2026-11-30T12:31:00Z")).toBe("Allowed");
    expect(
      await sessionAction({ user: "alice", issuedAt: "2026-11-30T12:31:00Z", at: "2026-11-30T12:40:00Z", cutoff }),
    ).toBe("Allowed");
  });

  it("leaves another user's older session untouched", async () => {
    expect(
      await sessionAction({ user: "bob", issuedAt: "2026-11-30T10:30:00Z", at: "2026-11-30T12:00:05Z", cutoff }),
    ).toBe("Allowed");
    // A user whose name merely ends like alice's is not matched either ("*:alice" needs the colon).
    expect(
      await sessionAction({ user: "malice", issuedAt: "2026-11-30T10:30:00Z", at: "2026-11-30T12:00:05Z", cutoff }),
    ).toBe("Allowed");
  });
});
