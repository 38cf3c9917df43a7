// Shared fixtures for the domain-* and cli-* tests: a config like docs/config.md's example.
import { type ElevateConfig, loadConfig } from "../../src/domain/config.js";

export const CONFIG_TEXT = `version: 1
aws:
  region: ap-northeast-1
  accountId: "123456789012"
  grantRoleArn: arn:aws:iam::123456789012:role/elevate-grant
  revokeRoleArn: arn:aws:iam::123456789012:role/elevate-revoke
  automationRoleArn: arn:aws:iam::123456789012:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
  notifyTopicArn: arn:aws:sns:ap-northeast-1:123456789012:Elevate
defaults:
  maxDuration: 4h
  approvals: 1
  requireTicket: false
users:
  alice: alice.smith
  bob: bob
  Carol-X: carol
roles:
  ec2-admin:
    arn: arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role
    maxDuration: 2h
    approvals: 2
    requireTicket: true
    requesters: [alice]
  read-only:
    arn: arn:aws:iam::210987654321:role/ReadOnly
`;

export function exampleConfig(text = CONFIG_TEXT): ElevateConfig {
  const loaded = loadConfig(text, ".github/elevate.yml");
  if (loaded.errors) throw new Error(loaded.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join("\n"));
  return loaded.config;
}

/** A request file from fields; `undefined` leaves the key out. */
export function requestText(fields: Record<string, string | undefined>): string {
  return Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}\n`)
    .join("");
}

export const VALID_EC2 = {
  requester: "alice",
  role: "ec2-admin",
  duration: "1h30m",
  reason: "Resize the web ASG during INC-1234",
  ticket: "INC-1234",
};

// Both kinds of catalog entry (docs/config.md, "Identity Center permission sets").
export const IC_INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef";
export const IC_PERMISSION_SET = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";

/** A config with both kinds, as docs/config.md's organisation example. */
export const IC_CONFIG = `version: 1
aws:
  region: ap-northeast-1
  accountId: "123456789012"
  grantRoleArn: arn:aws:iam::123456789012:role/elevate-grant
  revokeRoleArn: arn:aws:iam::123456789012:role/elevate-revoke
  automationRoleArn: arn:aws:iam::123456789012:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
  identityCenter:
    instanceArn: ${IC_INSTANCE}
    identityStoreId: d-0123456789
users:
  alice: alice.smith
  bob:
    iamUser: bob
    identityCenterUser: bob@acme.com
  dora:
    identityCenterUser: dora@acme.com
roles:
  ec2-admin:
    arn: arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role
  prod-admin:
    permissionSet: ${IC_PERMISSION_SET}
    account: "210987654321"
    maxDuration: 2h
`;
