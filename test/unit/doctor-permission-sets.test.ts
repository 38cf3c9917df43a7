// GrantablePermissionSets: the one parser (as Elevate-GrantPermissionSet's script reads it), and
// doctor --aws comparing it, and the stack's Identity Center parameters, with the config.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  parseGrantablePermissionSets,
  parseGrantableRoles,
  permissionSetCeilingKey,
} from "../../src/domain/ceiling.js";
import { loadConfig } from "../../src/domain/config.js";
import { type AwsFacts, awsFindings } from "../../src/domain/doctor-aws.js";
import { roleKindFindings } from "../../src/domain/doctor-role-kinds.js";
import { IC_CONFIG, IC_INSTANCE, IC_PERMISSION_SET } from "./domain-fixtures.js";

const PAIR = `${IC_PERMISSION_SET}@210987654321`;

describe("parseGrantablePermissionSets", () => {
  it("reads PERMISSION_SET_ARN@ACCOUNT_ID=MAX_DURATION entries; a pair listed twice gets its longest maximum", () => {
    const other = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-fedcba9876543210@111122223333";
    expect(parseGrantablePermissionSets(` ${PAIR}=1h , ${PAIR}=90m,${other}=15m,`)).toEqual({
      ok: true,
      ceiling: {
        entries: new Map([
          [PAIR, 5_400_000],
          [other, 900_000],
        ]),
      },
    });
    expect(parseGrantablePermissionSets("")).toEqual({ ok: true, ceiling: { entries: new Map() } });
    expect(permissionSetCeilingKey(IC_PERMISSION_SET, "210987654321")).toBe(PAIR);
  });

  it.each([
    [`${PAIR}`],
    [`${PAIR}=`],
    [`${PAIR}=forever`],
    [`${IC_PERMISSION_SET}=1h`],
    [`${IC_PERMISSION_SET}@2109876543=1h`],
    [`${IC_PERMISSION_SET}@210987654321@210987654321=1h`],
    [`arn:aws:iam::210987654321:role/X@210987654321=1h`],
    [`arn:aws-cn:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef@210987654321=1h`],
    [`${IC_PERMISSION_SET.replace("ps-", "ps-*")}@210987654321=1h`],
  ])("refuses %s, naming the parameter and the format", (entry) => {
    expect(parseGrantablePermissionSets(`${PAIR}=1h,${entry}`)).toEqual({
      ok: false,
      message: `the stack parameter GrantablePermissionSets has an entry ${JSON.stringify(entry.trim())} that is not PERMISSION_SET_ARN@ACCOUNT_ID=MAX_DURATION`,
    });
  });

  it("never throws, and whatever it accepts is well-formed pairs with positive durations", () => {
    const piece = fc.oneof(
      fc.constantFrom(PAIR, IC_PERMISSION_SET, "@", "=", ",", "1h", "90m", "210987654321", " "),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const read = parseGrantablePermissionSets(pieces.join(""));
        if (!read.ok) return;
        for (const [key, ms] of read.ceiling.entries) {
          expect(key).toMatch(
            /^arn:aws:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9.-]{16}\/ps-[a-zA-Z0-9.-]{16}@[0-9]{12}$/,
          );
          expect(ms).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("role entries are not permission-set entries, and the other way round", () => {
    expect(parseGrantableRoles(`${PAIR}=1h`).ok).toBe(false);
    expect(parseGrantablePermissionSets("arn:aws:iam::210987654321:role/X=1h").ok).toBe(false);
  });
});

describe("doctor --aws: permission sets", () => {
  const config = (() => {
    const loaded = loadConfig(IC_CONFIG, "cfg.yml");
    if (!loaded.config) throw new Error("fixture");
    return loaded.config;
  })();
  const lines = IC_CONFIG.split("\n");
  const locate = (path: readonly (string | number)[]) => {
    const last = String(path.at(-1));
    const line = lines.findIndex((l) => l.trimStart().startsWith(`${last}:`)) + 1;
    return { line: Math.max(line, 1), col: 1 };
  };

  function findings(parameters: Record<string, string>, identityCenterUsers: AwsFacts["identityCenterUsers"] = []) {
    const facts: AwsFacts = {
      stack: { values: new Map(), parameters: new Map(Object.entries(parameters)) },
      documents: [],
      oidcProvider: { arn: "arn", clientIds: { ok: true, value: ["sts.amazonaws.com"] } },
      trusts: [],
      users: [],
      identityCenterUsers,
      repository: undefined,
    };
    return awsFindings(facts, config, "cfg.yml", locate).map((f) => `${f.severity}: ${f.message}`);
  }

  it("Identity Center users: unknown, outside the eligible group, or unreadable are errors that say what to run", () => {
    const group = "5e1c4a3b-7f2d-4c6e-8a9b-0c1d2e3f4a5b";
    expect(
      findings(matching, [
        { login: "bob", userName: "bob@acme.com", user: { ok: true, value: { found: false } } },
        {
          login: "dora",
          userName: "dora@acme.com",
          user: { ok: true, value: { found: true, userId: "u-1", groupId: group, member: false } },
        },
        {
          login: "bob",
          userName: "bob@acme.com",
          user: { ok: false, message: "AccessDeniedException: not authorized to perform identitystore:GetUserId" },
        },
        {
          login: "dora",
          userName: "dora@acme.com",
          user: { ok: true, value: { found: true, userId: "u-1", groupId: group, member: true } },
        },
        { login: "dora", userName: "dora@acme.com", user: { ok: true, value: { found: true, userId: "u-1" } } },
      ]),
    ).toEqual([
      "error: users.bob: Identity Center user bob@acme.com is not in identity store d-0123456789, so every permission-set grant to it fails; use the user's exact UserName (aws identitystore list-users --identity-store-id d-0123456789)",
      `error: users.dora: Identity Center user dora@acme.com is not a member of the stack's IdentityCenterEligibleGroupId ${group}, so Elevate-GrantPermissionSet refuses every grant to it (aws identitystore create-group-membership --identity-store-id d-0123456789 --group-id ${group} --member-id UserId=u-1)`,
      "error: users.bob: Identity Center user bob@acme.com cannot be looked up in identity store d-0123456789: AccessDeniedException: not authorized to perform identitystore:GetUserId (run doctor --aws with credentials of the account that administers Identity Center, allowed identitystore:GetUserId and identitystore:IsMemberInGroups)",
    ]);
  });

  const matching = {
    GrantableRoles: "arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role=1h",
    GrantablePermissionSets: `${PAIR}=2h`,
    IdentityCenterInstanceArn: IC_INSTANCE,
    IdentityStoreId: "d-0123456789",
    IdentityCenterEligibleGroupId: "5e1c4a3b-7f2d-4c6e-8a9b-0c1d2e3f4a5b",
  };

  it("a stack that matches the config has nothing to say, and the IAM-role ceiling ignores permission sets", () => {
    expect(findings(matching)).toEqual([]);
  });

  it("a permission-set role missing from GrantablePermissionSets is an error naming the entry to add", () => {
    expect(findings({ ...matching, GrantablePermissionSets: "" })).toEqual([
      `error: roles.prod-admin: the stack's GrantablePermissionSets does not include ${PAIR}, so the permission-set runbook refuses every request for it; add ${PAIR}=2h to the parameter`,
    ]);
  });

  it("a cap below the role's maxDuration is an error; an unused entry a warning; a malformed parameter an error", () => {
    const unused = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-fedcba9876543210@111122223333";
    expect(findings({ ...matching, GrantablePermissionSets: `${PAIR}=1h,${unused}=1h` })).toEqual([
      `error: roles.prod-admin allows 2h, but the stack's GrantablePermissionSets caps ${PAIR} at 1h; the runbook refuses longer requests: lower maxDuration or raise the parameter`,
      `warning: the stack's GrantablePermissionSets includes ${unused}, which no role of the config uses; remove it to keep the ceiling tight`,
    ]);
    expect(findings({ ...matching, GrantablePermissionSets: `${PAIR}` })).toEqual([
      `error: the stack parameter GrantablePermissionSets has an entry ${JSON.stringify(PAIR)} that is not PERMISSION_SET_ARN@ACCOUNT_ID=MAX_DURATION; the permission-set runbook refuses every request`,
    ]);
  });

  it("the stack's instance and identity store must be the config's", () => {
    expect(
      findings({
        ...matching,
        IdentityCenterInstanceArn: "arn:aws:sso:::instance/ssoins-fedcba9876543210",
        IdentityStoreId: "",
      }),
    ).toEqual([
      `error: aws.identityCenter.instanceArn is ${IC_INSTANCE}, but the stack's IdentityCenterInstanceArn is arn:aws:sso:::instance/ssoins-fedcba9876543210; the runbooks assign through the stack's`,
      "error: aws.identityCenter.identityStoreId is d-0123456789, but the stack has no IdentityStoreId, so its permission-set runbooks refuse every grant; set the stack parameter",
    ]);
  });

  it("no eligible group: every permission-set grant is refused (empty), or any user can be granted (a stack from before the parameter)", () => {
    expect(findings({ ...matching, IdentityCenterEligibleGroupId: "" })).toEqual([
      "error: roles.prod-admin is a permission set, but the stack's IdentityCenterEligibleGroupId is empty, so Elevate-GrantPermissionSet refuses every grant; set it to the identity store group of the users who may be granted",
    ]);
    const { IdentityCenterEligibleGroupId: _, ...before } = matching;
    expect(findings(before)).toEqual([
      "error: roles.prod-admin is a permission set, but the stack has no IdentityCenterEligibleGroupId parameter (deployed from a template before it), so Elevate-GrantPermissionSet lets any identity store user be granted; update the stack and set it to the group of eligible users",
    ]);
  });

  it("a stack without GrantablePermissionSets (older template) cannot grant the config's permission sets", () => {
    const { GrantablePermissionSets: _, ...older } = matching;
    expect(findings(older)).toEqual([
      "error: roles.prod-admin is a permission set, but the stack has no GrantablePermissionSets parameter (deployed from a template without Elevate-GrantPermissionSet); update the stack",
    ]);
  });
});

describe("doctor (offline): requesters have the identity their role's kind grants to", () => {
  it("names the logins a permission set or an IAM role would always refuse, at the role", () => {
    const config = loadConfig(IC_CONFIG, "cfg.yml").config;
    if (!config) throw new Error("fixture");
    const at = (path: readonly (string | number)[]) => ({ line: path.length, col: 1 });
    expect(roleKindFindings(config, "cfg.yml", at).map((f) => `${f.severity}: ${f.message}`)).toEqual([
      "warning: roles.ec2-admin is an IAM role, but these requesters have no IAM user (iamUser): users.dora; their requests are refused until it is added (or they are left out of roles.ec2-admin.requesters)",
      "warning: roles.prod-admin is an Identity Center permission set, but these requesters have no identityCenterUser: users.alice; their requests are refused until it is added (or they are left out of roles.prod-admin.requesters)",
    ]);
    const narrowed = loadConfig(
      IC_CONFIG.replace("    maxDuration: 2h\n", "    maxDuration: 2h\n    requesters: [bob, dora]\n").replace(
        "EC2_FullAccess_Role\n",
        "EC2_FullAccess_Role\n    requesters: [alice, bob]\n",
      ),
      "cfg.yml",
    ).config;
    if (!narrowed) throw new Error("fixture");
    expect(roleKindFindings(narrowed, "cfg.yml", at)).toEqual([]);
  });
});
