import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { findRole, findUser, loadConfig, resolveRoleSettings } from "../../src/domain/config.js";
import { CONFIG_TEXT, exampleConfig } from "./domain-fixtures.js";

function errorsOf(text: string) {
  const loaded = loadConfig(text, "cfg.yml");
  if (!loaded.errors) throw new Error("expected errors");
  return loaded.errors;
}

/** CONFIG_TEXT with one line replaced (the line must exist). */
function edit(from: string, to: string): string {
  if (!CONFIG_TEXT.includes(from)) throw new Error(`fixture has no ${from}`);
  return CONFIG_TEXT.replace(from, to);
}

describe("loadConfig", () => {
  it("loads the example config and the repository's own .github/elevate.yml", () => {
    const config = exampleConfig();
    expect(config.version).toBe(1);
    expect(config.aws.accountId).toBe("123456789012");
    expect(config.defaults).toEqual({ maxDuration: "4h", approvals: 1, requireTicket: false });
    expect(config.roles["ec2-admin"]).toMatchObject({ approvals: 2, requireTicket: true, requesters: ["alice"] });
    const shipped = loadConfig(
      readFileSync(new URL("../../.github/elevate.yml", import.meta.url)),
      ".github/elevate.yml",
    );
    expect(shipped.errors).toBeUndefined();
  });

  it("resolves a role's effective settings from the role, then defaults, then built-ins", () => {
    const config = exampleConfig();
    expect(resolveRoleSettings(config, "ec2-admin")).toEqual({
      key: "ec2-admin",
      target: { kind: "role", roleArn: "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role" },
      maxDuration: "2h",
      maxDurationMs: 7_200_000,
      approvals: 2,
      requireTicket: true,
      requesters: ["alice"],
    });
    expect(resolveRoleSettings(config, "read-only")).toMatchObject({
      maxDuration: "4h",
      approvals: 1,
      requireTicket: false,
      requesters: ["alice", "bob", "Carol-X"],
    });
    const bare = exampleConfig(CONFIG_TEXT.replace(/defaults:\n( {2}.*\n)+/, ""));
    expect(resolveRoleSettings(bare, "read-only")).toMatchObject({
      maxDuration: "1h",
      approvals: 1,
      requireTicket: false,
    });
    expect(findRole(config, "nope")).toBeUndefined();
    expect(findRole(config, "constructor")).toBeUndefined();
    expect(() => resolveRoleSettings(config, "nope")).toThrow(/not in the config's catalog/);
  });

  it("finds users case-insensitively, as GitHub logins are", () => {
    const config = exampleConfig();
    expect(findUser(config, "ALICE")).toEqual({ login: "alice", iamUser: "alice.smith" });
    expect(findUser(config, "carol-x")).toEqual({ login: "Carol-X", iamUser: "carol" });
    expect(findUser(config, "mallory")).toBeUndefined();
  });

  it.each([
    ["version 2", edit("version: 1", "version: 2"), 1, 10, 'version: "2" is not supported; use 1'],
    [
      "unknown top-level key",
      `${CONFIG_TEXT}extra: 1\n`,
      28,
      1,
      'unknown key "extra"; allowed keys: version, aws, defaults, users, roles',
    ],
    [
      "unknown aws key",
      edit("  region: ap-northeast-1", "  region: ap-northeast-1\n  regoin: x"),
      4,
      3,
      'unknown key "regoin" in aws; allowed keys: region, accountId, grantRoleArn, revokeRoleArn, automationRoleArn, grantDocument, revokeDocument, notifyTopicArn, identityCenter',
    ],
    [
      "unknown role key",
      edit("    maxDuration: 2h", "    maxDuraton: 2h"),
      22,
      5,
      // Per-role options grow (breakGlass, awsApproval …); the message lists them all after these.
      /^unknown key "maxDuraton" in roles\.ec2-admin; allowed keys: arn, maxDuration, approvals, requireTicket, requesters(, [A-Za-z]+)*$/,
    ],
    [
      "missing aws key",
      edit("  grantDocument: Elevate-Grant\n", ""),
      3,
      3,
      'missing required key "grantDocument" in aws',
    ],
    [
      "accountId as a number with 11 digits",
      edit('accountId: "123456789012"', "accountId: 12345678901"),
      4,
      14,
      /not a 12-digit AWS account id/,
    ],
    ["region", edit("region: ap-northeast-1", "region: Tokyo"), 3, 11, /not an AWS region name/],
    [
      "wildcard role ARN",
      edit("role/elevated/EC2_FullAccess_Role", "role/elevated/*"),
      21,
      10,
      /contains a wildcard; role ARNs must be full and literal/,
    ],
    ["role ARN of a user", edit("role/elevated/EC2_FullAccess_Role", "user/alice"), 21, 10, /not an IAM role ARN/],
    [
      "role ARN, short account",
      edit("arn:aws:iam::210987654321:role/ReadOnly", "arn:aws:iam::2109:role/ReadOnly"),
      27,
      10,
      /not an IAM role ARN/,
    ],
    [
      "role ARN, bad partition",
      edit("arn:aws:iam::210987654321:role/ReadOnly", "arn:aws-xx:iam::210987654321:role/ReadOnly"),
      27,
      10,
      /not an IAM role ARN/,
    ],
    [
      "grant role in another account",
      edit("arn:aws:iam::123456789012:role/elevate-grant", "arn:aws:iam::999999999999:role/elevate-grant"),
      5,
      17,
      /aws.grantRoleArn is in account 999999999999, but the IAM users are in aws.accountId 123456789012/,
    ],
    [
      "SNS topic ARN",
      edit("arn:aws:sns:ap-northeast-1:123456789012:Elevate", "arn:aws:sqs:ap-northeast-1:123456789012:Elevate"),
      10,
      19,
      /not an SNS topic ARN/,
    ],
    ["document name", edit("grantDocument: Elevate-Grant", "grantDocument: E!"), 8, 18, /not an SSM document name/],
    [
      "reserved document prefix",
      edit("grantDocument: Elevate-Grant", "grantDocument: AWS-RunShellScript"),
      8,
      18,
      /prefix AWS reserves/,
    ],
    ["maxDuration", edit("maxDuration: 4h", "maxDuration: 1.5h"), 12, 16, /not a whole number/],
    [
      "maxDuration under the request minimum",
      edit("maxDuration: 2h", "maxDuration: 10m"),
      22,
      18,
      /shorter than the 15m minimum/,
    ],
    ["approvals 0", edit("approvals: 2", "approvals: 0"), 23, 16, /not a whole number of approvals of at least 1/],
    ["approvals 1.5", edit("approvals: 2", "approvals: 1.5"), 23, 16, /not a whole number of approvals/],
    ["requireTicket yes", edit("requireTicket: true", "requireTicket: yes"), 24, 20, /"yes" is not true or false/],
    ["bad login", edit("  bob: bob", "  bob--x: bob"), 17, 3, /"bob--x" is not a GitHub login/],
    ["login too long", edit("  bob: bob", `  ${"b".repeat(40)}: bob`), 17, 3, /not a GitHub login/],
    [
      "same login, other case",
      edit("  bob: bob", "  bob: bob\n  BOB: bob2"),
      18,
      3,
      /"BOB" is the same GitHub login as "bob"/,
    ],
    ["bad IAM user name", edit("  bob: bob", "  bob: bob smith"), 17, 8, /not an IAM user name/],
    ["role key", edit("  read-only:", "  Read_Only:"), 26, 3, /"Read_Only" is not a valid role key/],
    [
      "requester not a user",
      edit("requesters: [alice]", "requesters: [alice, zed]"),
      25,
      25,
      /"zed" is not listed under users/,
    ],
    [
      "requesters not a list",
      edit("requesters: [alice]", "requesters: alice"),
      25,
      17,
      /roles.ec2-admin.requesters must be a list, not text/,
    ],
    ["empty value", edit("  region: ap-northeast-1", "  region:"), 3, 3, /aws.region is empty/],
    ["duplicate key", edit("  bob: bob", "  bob: bob\n  bob: robert"), 18, 3, /duplicate key "bob"/],
    ["anchor", edit("  alice: alice.smith", "  alice: &a alice.smith"), 16, 13, /anchors/],
  ])("%s is a located error", (_name, text, line, col, message) => {
    const errors = errorsOf(text);
    const match = errors.find((e) => (typeof message === "string" ? e.message === message : message.test(e.message)));
    expect(match, JSON.stringify(errors)).toBeDefined();
    expect(match).toMatchObject({ file: "cfg.yml", line, col });
  });

  it.each([
    ["  region: ap-northeast-1", "  region: cn-north-1", '"cn-north-1"', "aws.region"],
    ["  region: ap-northeast-1", "  region: us-gov-west-1", '"us-gov-west-1"', "aws.region"],
    [
      "  grantRoleArn: arn:aws:iam::123456789012:role/elevate-grant",
      "  grantRoleArn: arn:aws-cn:iam::123456789012:role/elevate-grant",
      '"arn:aws-cn:iam::123456789012:role/elevate-grant"',
      "aws.grantRoleArn",
    ],
    [
      "  notifyTopicArn: arn:aws:sns:ap-northeast-1:123456789012:Elevate",
      "  notifyTopicArn: arn:aws-us-gov:sns:us-gov-west-1:123456789012:Elevate",
      '"arn:aws-us-gov:sns:us-gov-west-1:123456789012:Elevate"',
      "aws.notifyTopicArn",
    ],
  ])("refuses the other partitions by name, at the value (%#)", (from, to, quoted, path) => {
    const errors = errorsOf(edit(from, to));
    const line = CONFIG_TEXT.split("\n").indexOf(from) + 1;
    expect(errors).toContainEqual(
      expect.objectContaining({
        file: "cfg.yml",
        line,
        col: from.indexOf(": ") + 3,
        message: `${path}: ${quoted} is outside the aws partition: Elevate supports the aws partition (commercial Regions) only; see docs/infra.md, Partitions`,
      }),
    );
  });

  it("reports problems in several places in one pass", () => {
    const text = edit("version: 1", "version: 3").replace("requesters: [alice]", "requesters: [zed]");
    const errors = errorsOf(text);
    expect(errors.map((e) => e.line)).toEqual([1, 25]);
  });

  it("refuses a config that is not a map", () => {
    expect(errorsOf("- a\n- b\n")).toEqual([
      { file: "cfg.yml", line: 1, col: 1, message: "the config must be a map with version, aws, users and roles" },
    ]);
    expect(errorsOf("")[0]?.message).toMatch(/must be a map/);
  });

  it("allows configs larger than a request file (many users)", () => {
    const users = Array.from({ length: 400 }, (_, i) => `  user-${i}: user.${i}\n`).join("");
    const text = CONFIG_TEXT.replace("users:\n", `users:\n${users}`);
    expect(text.length).toBeGreaterThan(8192);
    expect(loadConfig(text, "cfg.yml").errors).toBeUndefined();
  });
});
