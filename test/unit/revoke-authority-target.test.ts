// driftOf judges a live IAM grant policy against what its request file's role grants
// (KnownRequest.requested.target): an IAM role must be the policy's role; a permission
// set is never an IAM grant policy's, whatever the ARNs.
import { describe, expect, it } from "vitest";
import type { RoleTarget } from "../../src/domain/config.js";
import { grantPolicyText, parseGrantPolicy } from "../../src/domain/grant-policy.js";
import { driftOf, type InventoryGrant, type KnownRequest } from "../../src/domain/revoke-plan.js";

const ROLE = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";
const OTHER_ROLE = "arn:aws:iam::123456789012:role/elevated/ReadOnly";
const PS = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
const NOT_BEFORE = new Date("2026-11-30T11:00:00Z");
const NOT_AFTER = new Date("2026-11-30T12:00:00Z");

const policy = parseGrantPolicy(
  grantPolicyText({ requestId: "resize", iamUser: "alice", roleArn: ROLE, notBefore: NOT_BEFORE, notAfter: NOT_AFTER }),
);
if (!policy) throw new Error("fixture policy does not parse");
const live: InventoryGrant & { policy: NonNullable<InventoryGrant["policy"]> } = {
  iamUser: "alice",
  policyName: "elevate-resize",
  requestId: "resize",
  policy,
};

function known(target: RoleTarget | undefined): KnownRequest {
  return {
    requestId: "resize",
    file: "requests/ec2-admin/resize.yaml",
    deleted: false,
    requested: {
      iamUser: "alice",
      ...(target ? { target } : {}),
      durationMs: 3_600_000,
      mergedAt: NOT_BEFORE,
    },
  };
}

describe("driftOf: the request's target against the live policy's role", () => {
  const cases: { name: string; target: RoleTarget | undefined; message: string | undefined }[] = [
    { name: "the same IAM role: accounted for", target: { kind: "role", roleArn: ROLE }, message: undefined },
    {
      name: "another IAM role: drift naming it",
      target: { kind: "role", roleArn: OTHER_ROLE },
      message: `it allows ${ROLE}, the request's role is ${OTHER_ROLE} (requests/ec2-admin/resize.yaml)`,
    },
    {
      name: "a permission set: drift, an IAM grant policy is never a permission set's",
      target: {
        kind: "permissionSet",
        instanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
        identityStoreId: "d-0123456789",
        permissionSetArn: PS,
        accountId: "210987654321",
      },
      message: `it allows ${ROLE}, the request's role is ${PS} (requests/ec2-admin/resize.yaml)`,
    },
    { name: "a role no longer in the catalog: not judged on the role", target: undefined, message: undefined },
  ];
  it.each(cases)("$name", ({ target, message }) => {
    const drift = driftOf(live, known(target));
    expect(drift).toEqual(message === undefined ? undefined : { kind: "window-mismatch", message });
  });
});
