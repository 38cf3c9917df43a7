/** `roles.<key>.awsApproval` in .github/elevate.yml: shape, limits and located errors. */
import { describe, expect, it } from "vitest";
import { findRole, loadConfig } from "../../src/domain/config.js";

const A = "123456789012";
const load = (approval: string) =>
  loadConfig(
    `version: 1
aws:
  region: ap-northeast-1
  accountId: "${A}"
  grantRoleArn: arn:aws:iam::${A}:role/elevate-grant
  revokeRoleArn: arn:aws:iam::${A}:role/elevate-revoke
  automationRoleArn: arn:aws:iam::${A}:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice
roles:
  prod:
    arn: arn:aws:iam::${A}:role/prod
    awsApproval:
${approval}`,
    "elevate.yml",
  );
const errors = (approval: string) => (load(approval).errors ?? []).map((e) => `${e.line}:${e.col} ${e.message}`);

describe("roles.<key>.awsApproval", () => {
  it("resolves approvers, minApprovals and the optional topic", () => {
    const loaded = load(
      `      approvers: [arn:aws:iam::${A}:user/bob, arn:aws:iam::${A}:role/sec/approver]\n      minApprovals: 2\n      notificationTopicArn: arn:aws:sns:ap-northeast-1:${A}:AutomationSecOps\n`,
    );
    expect(loaded.config && findRole(loaded.config, "prod")?.awsApproval).toEqual({
      approvers: [`arn:aws:iam::${A}:user/bob`, `arn:aws:iam::${A}:role/sec/approver`],
      minApprovals: 2,
      notificationTopicArn: `arn:aws:sns:ap-northeast-1:${A}:AutomationSecOps`,
    });
  });

  it("reports each problem at its node", () => {
    expect(errors(`      approvers: [arn:aws:iam::${A}:user/bob]\n      minApprovals: 2\n`)).toEqual([
      "17:21 roles.prod.awsApproval.minApprovals: 2 approvals can never be reached with 1 approver(s)",
    ]);
    expect(errors(`      approvers: []\n      minApprovals: 1\n      extra: 1\n`)).toEqual([
      "16:18 roles.prod.awsApproval.approvers: list at least one approver (an IAM user or role ARN)",
      '18:7 unknown key "extra" in roles.prod.awsApproval; allowed keys: approvers, minApprovals, notificationTopicArn',
    ]);
    expect(errors(`      approvers: [arn:aws:iam::${A}:user/*]\n`)).toEqual([
      '16:7 missing required key "minApprovals" in roles.prod.awsApproval',
      `16:19 roles.prod.awsApproval.approvers[0]: "arn:aws:iam::${A}:user/*" contains a wildcard; approvers must be full, literal IAM user or role ARNs`,
    ]);
    for (const bad of [
      "bob",
      `arn:aws:sts::${A}:assumed-role/x/y`,
      `arn:aws:iam::${A}:group/admins`,
      `arn:aws:iam::${A}:user/../bob`,
    ]) {
      expect(errors(`      approvers: ["${bad}"]\n      minApprovals: 1\n`)[0]).toContain(
        "is not an IAM user or role ARN",
      );
    }
    const eleven = Array.from({ length: 11 }, (_, i) => `arn:aws:iam::${A}:user/u${i}`).join(", ");
    expect(errors(`      approvers: [${eleven}]\n      minApprovals: 1\n`)[0]).toContain("at most 10 approvers");
    expect(
      errors(`      approvers: [arn:aws:iam::${A}:user/bob, arn:aws:iam::${A}:user/bob]\n      minApprovals: 2\n`),
    ).toEqual([`16:55 roles.prod.awsApproval.approvers[1]: "arn:aws:iam::${A}:user/bob" is listed twice`]);
    expect(
      errors(
        `      approvers: [arn:aws:iam::${A}:user/bob]\n      minApprovals: 1\n      notificationTopicArn: arn:aws:sns:ap-northeast-1:${A}:Elevate\n`,
      )[0],
    ).toContain('whose name starts with "Automation"');
  });
});
