// Catalog entries of two kinds (IAM role / Identity Center permission set) and users of two
// identities: the config's rules, each bad case a located error, and properties of the parser.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  findRole,
  findUser,
  findUserEntry,
  IDENTITY_CENTER_INSTANCE_ARN,
  identityCenterUserNameProblem,
  loadConfig,
  PERMISSION_SET_ARN,
  principalFor,
} from "../../src/domain/config.js";
import { IC_CONFIG, IC_INSTANCE as INSTANCE, IC_PERMISSION_SET as PS } from "./domain-fixtures.js";

function load(text: string) {
  return loadConfig(text, "cfg.yml");
}

function edit(from: string, to: string): string {
  if (!IC_CONFIG.includes(from)) throw new Error(`fixture has no ${from}`);
  return IC_CONFIG.replace(from, to);
}

function lineOf(text: string, needle: string): number {
  return text.split("\n").findIndex((line) => line.includes(needle)) + 1;
}

describe("permission-set catalog entries", () => {
  it("loads both kinds and resolves each to a discriminated target", () => {
    const loaded = load(IC_CONFIG);
    expect(loaded.errors).toBeUndefined();
    const config = loaded.config as NonNullable<typeof loaded.config>;
    expect(findRole(config, "ec2-admin")?.target).toEqual({
      kind: "role",
      roleArn: "arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role",
    });
    expect(findRole(config, "prod-admin")).toMatchObject({
      key: "prod-admin",
      maxDuration: "2h",
      target: {
        kind: "permissionSet",
        instanceArn: INSTANCE,
        identityStoreId: "d-0123456789",
        permissionSetArn: PS,
        accountId: "210987654321",
      },
    });
  });

  it("maps users of either form; findUser is the IAM side only", () => {
    const config = load(IC_CONFIG).config;
    if (!config) throw new Error("fixture must load");
    expect(findUserEntry(config, "ALICE")).toEqual({ login: "alice", iamUser: "alice.smith" });
    expect(findUserEntry(config, "bob")).toEqual({ login: "bob", iamUser: "bob", identityCenterUser: "bob@acme.com" });
    expect(findUserEntry(config, "dora")).toEqual({ login: "dora", identityCenterUser: "dora@acme.com" });
    expect(findUser(config, "dora")).toBeUndefined();
    expect(findUser(config, "bob")).toEqual({ login: "bob", iamUser: "bob" });
    const ps = findRole(config, "prod-admin")?.target;
    const role = findRole(config, "ec2-admin")?.target;
    if (!ps || !role) throw new Error("fixture roles");
    expect(principalFor({ login: "bob", iamUser: "bob", identityCenterUser: "bob@acme.com" }, ps)).toBe("bob@acme.com");
    expect(principalFor({ login: "bob", iamUser: "bob", identityCenterUser: "bob@acme.com" }, role)).toBe("bob");
    expect(principalFor({ login: "dora", identityCenterUser: "dora@acme.com" }, role)).toBeUndefined();
  });

  const cases: [string, string, string, RegExp][] = [
    [
      "both arn and permissionSet",
      edit('    account: "210987654321"\n', '    account: "210987654321"\n    arn: arn:aws:iam::210987654321:role/X\n'),
      "    permissionSet:",
      /roles\.prod-admin: set arn \(an IAM role\) or permissionSet .*not both/,
    ],
    [
      "neither arn nor permissionSet",
      edit(`    permissionSet: ${PS}\n`, ""),
      "  prod-admin:",
      /roles\.prod-admin: set arn \(an IAM role ARN\) or permissionSet and account/,
    ],
    [
      "permissionSet without account",
      edit('    account: "210987654321"\n', ""),
      "  prod-admin:",
      /a permission set needs account/,
    ],
    [
      "account on an IAM role",
      edit(
        "    arn: arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role\n",
        '    arn: arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role\n    account: "210987654321"\n',
      ),
      '    account: "210987654321"',
      /roles\.ec2-admin\.account is for permission sets/,
    ],
    [
      "account as an unquoted short number",
      edit('    account: "210987654321"', "    account: 2109876543"),
      "    account: 2109876543",
      /roles\.prod-admin\.account: "2109876543" is not a 12-digit AWS account id/,
    ],
    [
      "permission set of another instance",
      edit(PS, "arn:aws:sso:::permissionSet/ssoins-fedcba9876543210/ps-0123456789abcdef"),
      "    permissionSet:",
      /belongs to Identity Center instance ssoins-fedcba9876543210, but aws\.identityCenter\.instanceArn is ssoins-0123456789abcdef/,
    ],
    [
      "permission set ARN with a wildcard",
      edit(PS, "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/*"),
      "    permissionSet:",
      /contains a wildcard; permission set ARNs must be full and literal/,
    ],
    [
      "permission set ARN of an IAM role",
      edit(PS, "arn:aws:iam::210987654321:role/X"),
      "    permissionSet:",
      /is not a permission set ARN \(arn:aws:sso:::permissionSet\/ssoins-/,
    ],
    [
      "permission set id too short",
      edit(PS, "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123"),
      "    permissionSet:",
      /is not a permission set ARN/,
    ],
    [
      "permission set ARN in aws-cn",
      edit(PS, PS.replace("arn:aws:", "arn:aws-cn:")),
      "    permissionSet:",
      /is outside the aws partition/,
    ],
    [
      "permission set without aws.identityCenter",
      edit(`  identityCenter:\n    instanceArn: ${INSTANCE}\n    identityStoreId: d-0123456789\n`, ""),
      "    permissionSet:",
      /roles\.prod-admin is a permission set, so the config needs aws\.identityCenter/,
    ],
    [
      "instance ARN malformed",
      edit(`instanceArn: ${INSTANCE}`, "instanceArn: arn:aws:sso:::instance/ins-123"),
      "    instanceArn:",
      /aws\.identityCenter\.instanceArn: .* is not an IAM Identity Center instance ARN/,
    ],
    [
      "identity store id malformed",
      edit("identityStoreId: d-0123456789", "identityStoreId: d-XYZ"),
      "    identityStoreId:",
      /is not an identity store id \(d- and 10 hexadecimal digits/,
    ],
    [
      "identityCenter missing identityStoreId",
      edit("    identityStoreId: d-0123456789\n", ""),
      "    instanceArn:", // at the map's content, as every missing key
      /missing required key "identityStoreId" in aws\.identityCenter/,
    ],
    [
      "unknown key in identityCenter",
      edit("    identityStoreId: d-0123456789\n", "    identityStoreId: d-0123456789\n    region: x\n"),
      "    region: x",
      /unknown key "region" in aws\.identityCenter; allowed keys: instanceArn, identityStoreId/,
    ],
    [
      "breakGlass on a permission set",
      edit("    maxDuration: 2h\n", "    maxDuration: 2h\n    breakGlass: {}\n"),
      "    breakGlass:",
      /roles\.prod-admin\.breakGlass is available for IAM roles \(arn\) only/,
    ],
    [
      "user map with neither identity",
      edit("  dora:\n    identityCenterUser: dora@acme.com\n", "  dora: {}\n"),
      "  dora:",
      /users\.dora: name the IAM user \(iamUser\), the Identity Center user \(identityCenterUser\), or both/,
    ],
    [
      "unknown key in a user map",
      edit("    identityCenterUser: dora@acme.com", "    identityCentreUser: dora@acme.com"),
      "    identityCentreUser:",
      /unknown key "identityCentreUser" in users\.dora; allowed keys: iamUser, identityCenterUser/,
    ],
    [
      "Identity Center user with a space",
      edit("identityCenterUser: dora@acme.com", "identityCenterUser: dora smith"),
      "identityCenterUser: dora smith",
      /users\.dora\.identityCenterUser: "dora smith" is not an Identity Center user name/,
    ],
    [
      "Identity Center user with a character AWS excludes",
      edit("identityCenterUser: dora@acme.com", "identityCenterUser: dora;x"),
      "identityCenterUser: dora;x",
      /"dora;x" is not an Identity Center user name Elevate can pass to its runbooks/,
    ],
    [
      "reserved Identity Center user name",
      edit("identityCenterUser: dora@acme.com", "identityCenterUser: Administrator"),
      "identityCenterUser: Administrator",
      /a user name Identity Center reserves/,
    ],
    [
      "IAM user in the map form, malformed",
      edit("    iamUser: bob\n", "    iamUser: bob smith\n"),
      "    iamUser: bob smith",
      /users\.bob\.iamUser: "bob smith" is not an IAM user name/,
    ],
    [
      "user entry that is a list",
      edit("  alice: alice.smith", "  alice: [alice.smith]"),
      "  alice: [alice.smith]",
      /users\.alice must be a text value or a map of keys, not a list/,
    ],
  ];

  it.each(cases)("%s is a located error", (_name, text, lineNeedle, message) => {
    const loaded = load(text);
    expect(loaded.config).toBeUndefined();
    const match = loaded.errors?.find((e) => message.test(e.message));
    expect(match, JSON.stringify(loaded.errors)).toBeDefined();
    expect(match?.file).toBe("cfg.yml");
    expect(match?.line).toBe(lineOf(text, lineNeedle));
  });
});

describe("config parser properties", () => {
  const hex16 = fc.stringMatching(/^[0-9a-f]{16}$/);
  const account = fc.stringMatching(/^[0-9]{12}$/);

  it("any well-formed permission set of the configured instance loads, resolving to exactly what was written", () => {
    fc.assert(
      fc.property(hex16, hex16, account, (instance, ps, acct) => {
        const instanceArn = `arn:aws:sso:::instance/ssoins-${instance}`;
        const psArn = `arn:aws:sso:::permissionSet/ssoins-${instance}/ps-${ps}`;
        const text = IC_CONFIG.replaceAll(INSTANCE, instanceArn)
          .replace(PS, psArn)
          .replace('account: "210987654321"', `account: "${acct}"`);
        const loaded = load(text);
        expect(loaded.errors).toBeUndefined();
        const target = loaded.config ? findRole(loaded.config, "prod-admin")?.target : undefined;
        expect(target).toEqual({
          kind: "permissionSet",
          instanceArn,
          identityStoreId: "d-0123456789",
          permissionSetArn: psArn,
          accountId: acct,
        });
      }),
      { numRuns: 60 },
    );
  });

  it("a permission set of any other instance is refused, located at the permissionSet line", () => {
    fc.assert(
      fc.property(
        hex16.filter((h) => h !== "0123456789abcdef"),
        hex16,
        (other, ps) => {
          const text = IC_CONFIG.replace(PS, `arn:aws:sso:::permissionSet/ssoins-${other}/ps-${ps}`);
          const loaded = load(text);
          expect(loaded.config).toBeUndefined();
          expect(loaded.errors).toContainEqual(
            expect.objectContaining({ line: lineOf(text, "permissionSet:"), message: expect.stringContaining(other) }),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it("any text in place of the permission set ARN either loads as that exact ARN or is a located error; never throws", () => {
    const hostile = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc.constantFrom("ps-0123456789abcdef", "*", PS.toUpperCase(), `${PS}/extra`, `${PS} `, `${PS}\u202e`),
      hex16.map((h) => `arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-${h}`),
    );
    fc.assert(
      fc.property(hostile, (value) => {
        const text = IC_CONFIG.replace(`permissionSet: ${PS}`, `permissionSet: ${JSON.stringify(value)}`);
        const loaded = load(text);
        if (loaded.config) {
          expect(PERMISSION_SET_ARN.test(value)).toBe(true);
          expect(findRole(loaded.config, "prod-admin")?.target).toMatchObject({ permissionSetArn: value });
        } else {
          for (const e of loaded.errors) {
            expect(e.file).toBe("cfg.yml");
            expect(e.line).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it("user entries: string and map forms load alike; the map needs at least one identity", () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9.]{0,20}$/);
    fc.assert(
      fc.property(name, fc.boolean(), fc.option(name, { nil: undefined }), (iam, asMap, ic) => {
        const entry = asMap
          ? `\n    iamUser: ${iam}${ic ? `\n    identityCenterUser: ${ic}@acme.com` : ""}`
          : ` ${iam}`;
        const text = IC_CONFIG.replace("  alice: alice.smith", `  alice:${entry}`);
        const config = load(text).config;
        expect(config).toBeDefined();
        if (!config) return;
        expect(findUserEntry(config, "alice")).toEqual({
          login: "alice",
          iamUser: iam,
          ...(asMap && ic ? { identityCenterUser: `${ic}@acme.com` } : {}),
        });
      }),
      { numRuns: 60 },
    );
  });

  it("Identity Center user names: whatever the check accepts fits AWS's rule and the runbooks' UserName pattern", () => {
    const runbookPattern = /^[A-Za-z0-9_+=,@-][A-Za-z0-9_+=,.@-]{0,127}$/; // elevate-*-permission-set.yaml
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "grapheme", maxLength: 140 }), fc.stringMatching(/^[\w.@+=,-]{0,130}$/)),
        (value) => {
          if (identityCenterUserNameProblem(value) !== undefined) return;
          expect(value).toMatch(runbookPattern);
          expect(value.length).toBeLessThanOrEqual(128);
          expect(value).not.toMatch(/[<>;:%\s]/);
          expect(["administrator", "awsadministrators"]).not.toContain(value.toLowerCase());
        },
      ),
      { numRuns: 300 },
    );
    expect(identityCenterUserNameProblem("bob@acme.com")).toBeUndefined();
    expect(identityCenterUserNameProblem("José.Müller")).toMatch(/not an Identity Center user name Elevate can pass/);
    expect(identityCenterUserNameProblem(".bob")).toMatch(/not an Identity Center user name/);
    expect(identityCenterUserNameProblem("x".repeat(129))).toMatch(/not an Identity Center user name/);
    expect(IDENTITY_CENTER_INSTANCE_ARN.test(INSTANCE)).toBe(true);
  });
});
