// What a request grants to whom (src/domain/requested-access.ts): each kind carries exactly its own
// fields; and `elevate validate --format json` keeps the `request` shape it had before, byte for byte
// (src/domain/request-json.ts), whichever identities the requester has.
import { describe, expect, it } from "vitest";
import { loadConfig, type UserEntry } from "../../src/domain/config.js";
import { validateRequest } from "../../src/domain/request.js";
import { validRequestJson } from "../../src/domain/request-json.js";
import { requestedAccess, targetOf } from "../../src/domain/requested-access.js";
import { IC_CONFIG, IC_INSTANCE, IC_PERMISSION_SET, requestText } from "./domain-fixtures.js";

const config = (() => {
  const loaded = loadConfig(IC_CONFIG, "cfg.yml");
  if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
  return loaded.config;
})();

const ROLE_ARN = "arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role";
const ROLE = { kind: "role", roleArn: ROLE_ARN } as const;
const PERMISSION_SET = {
  kind: "permissionSet",
  instanceArn: IC_INSTANCE,
  identityStoreId: "d-0123456789",
  permissionSetArn: IC_PERMISSION_SET,
  accountId: "210987654321",
} as const;

describe("requestedAccess: the target given to the user's identity of its kind", () => {
  const cases: { name: string; user: UserEntry; role: unknown; permissionSet: unknown }[] = [
    {
      name: "IAM user only",
      user: { login: "alice", iamUser: "alice.smith" },
      role: { ...ROLE, iamUser: "alice.smith" },
      permissionSet: undefined,
    },
    {
      name: "Identity Center user only",
      user: { login: "dora", identityCenterUser: "dora@acme.com" },
      role: undefined,
      permissionSet: { ...PERMISSION_SET, identityCenterUser: "dora@acme.com" },
    },
    {
      name: "both identities: each kind takes only its own",
      user: { login: "bob", iamUser: "bob", identityCenterUser: "bob@acme.com" },
      role: { ...ROLE, iamUser: "bob" },
      permissionSet: { ...PERMISSION_SET, identityCenterUser: "bob@acme.com" },
    },
  ];
  it.each(cases)("$name", ({ user, role, permissionSet }) => {
    expect(requestedAccess(ROLE, user)).toStrictEqual(role);
    expect(requestedAccess(PERMISSION_SET, user)).toStrictEqual(permissionSet);
  });

  it("targetOf gives back the catalog entry's target, fields in the catalog's order", () => {
    const user = { login: "bob", iamUser: "bob", identityCenterUser: "bob@acme.com" };
    for (const target of [ROLE, PERMISSION_SET]) {
      const access = requestedAccess(target, user);
      if (!access) throw new Error("no access");
      expect(JSON.stringify(targetOf(access))).toBe(JSON.stringify(target));
    }
  });
});

describe("validRequestJson: the JSON `elevate validate` prints, as before", () => {
  const base = '"duration":"1h","durationMs":3600000,"reason":"Resize the web ASG for INC-9","approvals":1';
  const roleHead = (requester: string) =>
    `{"path":"requests/ec2-admin/resize.yaml","id":"resize","role":"ec2-admin","target":${JSON.stringify(ROLE)},"roleArn":"${ROLE_ARN}","requester":"${requester}"`;
  const psHead = (requester: string) =>
    `{"path":"requests/prod-admin/resize.yaml","id":"resize","role":"prod-admin","target":${JSON.stringify(PERMISSION_SET)},"roleArn":"${IC_PERMISSION_SET}","requester":"${requester}"`;
  const cases = [
    {
      name: "IAM role, user with an IAM user only",
      role: "ec2-admin",
      requester: "alice",
      extra: {},
      json: `${roleHead("alice")},"iamUser":"alice.smith",${base}}`,
    },
    {
      name: "IAM role, user with both identities: the Identity Center user is listed too",
      role: "ec2-admin",
      requester: "bob",
      extra: { ticket: "INC-9", start: "2026-11-30T09:00:00Z" },
      json: `${roleHead("bob")},"iamUser":"bob",${base},"identityCenterUser":"bob@acme.com","ticket":"INC-9","start":"2026-11-30T09:00:00.000Z"}`,
    },
    {
      name: 'permission set, user with no IAM user: iamUser ""',
      role: "prod-admin",
      requester: "dora",
      extra: {},
      json: `${psHead("dora")},"iamUser":"",${base},"identityCenterUser":"dora@acme.com"}`,
    },
    {
      name: "permission set, user with both identities: the IAM user is listed too",
      role: "prod-admin",
      requester: "bob",
      extra: { ticket: "INC-9" },
      json: `${psHead("bob")},"iamUser":"bob",${base},"identityCenterUser":"bob@acme.com","ticket":"INC-9"}`,
    },
  ];
  it.each(cases)("$name", ({ role, requester, extra, json }) => {
    const { request, errors } = validateRequest({
      text: requestText({ requester, role, duration: "1h", reason: "Resize the web ASG for INC-9", ...extra }),
      path: `requests/${role}/resize.yaml`,
      config,
      now: new Date("2026-11-30T08:00:00Z"),
    });
    if (!request) throw new Error(JSON.stringify(errors));
    expect(JSON.stringify(validRequestJson(request, config))).toBe(json);
  });
});
