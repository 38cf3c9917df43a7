// doctor: where each IAM role of the catalog lives against what its session cut-off needs
// there (docs/infra.md, "Many accounts"): a member role under a path the member stack may
// write, a hub role in PrivilegedRoleArns, and the hub's multi-account administration role.
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/domain/config.js";
import { accountFindings, callerFindings, memberRolePathFindings } from "../../src/domain/doctor-accounts.js";
import { type AwsFacts, awsFindings } from "../../src/domain/doctor-aws.js";
import { makeRepo, type Repo, runCli } from "./cli-helpers.js";
import { CONFIG_TEXT } from "./domain-fixtures.js";

const HUB_ROLE = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";
const HUB_ADMIN = "arn:aws:iam::123456789012:role/admin/ProdAdmin";
const MEMBER_ROLE = "arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role";
const OTHER_MEMBER = "arn:aws:iam::333344445555:role/elevated/DbAdmin";

function configWith(roles: Record<string, string>): string {
  const head = CONFIG_TEXT.slice(0, CONFIG_TEXT.indexOf("roles:\n"));
  const body = Object.entries(roles)
    .map(([key, arn]) => `  ${key}:\n    arn: ${arn}\n`)
    .join("");
  return `${head}roles:\n${body}`;
}

function load(text: string) {
  const loaded = loadConfig(text, "cfg.yml");
  if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
  return loaded.config;
}

const at = (path: readonly (string | number)[]) => ({ line: path.length, col: 1 });

function stack(parameters: Record<string, string>, outputs: Record<string, string> = {}) {
  return { values: new Map(Object.entries(outputs)), parameters: new Map(Object.entries(parameters)) };
}

function messages(roles: Record<string, string>, parameters: Record<string, string>, outputs = {}) {
  return accountFindings(stack(parameters, outputs), load(configWith(roles)), "cfg.yml", at).map(
    (f) => `${f.severity}: ${f.message}`,
  );
}

describe("doctor (offline): a role in another account needs an IAM path", () => {
  it("a member role at path / is an error naming the member stack's PrivilegedRolePath; a path, or a hub role, is fine", () => {
    const config = load(
      configWith({ bare: "arn:aws:iam::210987654321:role/ReadOnly", pathed: MEMBER_ROLE, hub: HUB_ADMIN }),
    );
    const found = memberRolePathFindings(config, "cfg.yml", at);
    expect(found.map((f) => `${f.severity}: ${f.message}`)).toEqual([
      "error: roles.bare: arn:aws:iam::210987654321:role/ReadOnly is in account 210987654321, not the hub, and has no IAM path; the member stack there may only cut off sessions on roles under its PrivilegedRolePath (default /elevated/, never /), so every revoke of it would fail; grant a role created under that path (a role's path cannot be changed)",
    ]);
    expect(
      memberRolePathFindings(load(configWith({ "hub-bare": "arn:aws:iam::123456789012:role/Admin" })), "cfg.yml", at),
    ).toEqual([]);
  });

  let repo: Repo | undefined;
  afterEach(() => repo?.remove());

  it("elevate doctor reports it at the role's arn line and exits 1", async () => {
    const text = configWith({ bare: "arn:aws:iam::210987654321:role/ReadOnly" });
    repo = makeRepo({ config: text });
    const run = await runCli(["doctor"], repo.root);
    const line = text.split("\n").findIndex((l) => l.includes("role/ReadOnly")) + 1;
    expect(run.stdout).toContain(
      `.github/elevate.yml:${line}:10: error: roles.bare: arn:aws:iam::210987654321:role/ReadOnly is in account 210987654321, not the hub, and has no IAM path`,
    );
    expect(run.code).toBe(1);
  });
});

describe("doctor --aws: the hub's own roles and PrivilegedRoleArns", () => {
  it("a hub role missing from PrivilegedRoleArns is an error that names the parameter and the ARN to add", () => {
    expect(messages({ prod: HUB_ADMIN }, { PrivilegedRoleArns: "" })).toEqual([
      `error: roles.prod: ${HUB_ADMIN} is in the hub account but not in the stack's PrivilegedRoleArns, so the automation role may not write its session cut-off: every early revoke and expiry of it fails, and sessions outlive the grant until the role's MaxSessionDuration; add ${HUB_ADMIN} to PrivilegedRoleArns and update the stack`,
    ]);
  });

  it("listed (spaces around commas allowed), the example role and the smoke canary count as listed", () => {
    expect(
      messages({ prod: HUB_ADMIN }, { PrivilegedRoleArns: `arn:aws:iam::123456789012:role/x, ${HUB_ADMIN}` }),
    ).toEqual([]);
    expect(messages({ ec2: HUB_ROLE }, { PrivilegedRoleArns: "" }, { ExampleRoleArn: HUB_ROLE })).toEqual([]);
    const canary = "arn:aws:iam::123456789012:role/elevated/elevate-smoke-test-canary";
    expect(messages({ smoke: canary }, { PrivilegedRoleArns: "" }, { SmokeTestRoleArn: canary })).toEqual([]);
  });

  it("says nothing when describe-stacks does not list the parameter, and ignores member roles", () => {
    expect(messages({ prod: HUB_ADMIN }, {})).toEqual([]);
    expect(messages({ member: MEMBER_ROLE }, { PrivilegedRoleArns: "" })).toEqual([]);
  });
});

describe("doctor --aws: roles in other accounts need the hub's administration role", () => {
  const warning = (roles: string, accounts: string) =>
    `warning: ${roles}, not the hub; session cut-offs run there through SSM Automation's multi-account execution, which needs AWS-SystemsManager-AutomationAdministrationRole in the hub, and this stack did not create it: update the stack with CreateAutomationAdministrationRole=true (or, if the hub already has that role, allow it sts:AssumeRole on ${accounts}), and deploy infra/member-template.yaml to those accounts with the StackSet (docs/infra.md, "Many accounts")`;

  it("one warning for all member roles, naming them, their accounts and the execution role", () => {
    expect(
      messages(
        { a: MEMBER_ROLE, b: OTHER_MEMBER, hub: HUB_ROLE },
        { CreateAutomationAdministrationRole: "false" },
        { MemberExecutionRoleName: "my-exec" },
      ),
    ).toEqual([warning("roles.a, roles.b are in accounts 210987654321, 333344445555", "my-exec")]);
    expect(messages({ a: MEMBER_ROLE }, { CreateAutomationAdministrationRole: "false" })).toEqual([
      warning("roles.a is in account 210987654321", "elevate-member-cutoff"),
    ]);
  });

  it("nothing when the stack creates the role, when it is an output, when only hub roles, or without the parameter", () => {
    expect(messages({ a: MEMBER_ROLE }, { CreateAutomationAdministrationRole: "true" })).toEqual([]);
    expect(
      messages(
        { a: MEMBER_ROLE },
        { CreateAutomationAdministrationRole: "false" },
        {
          AutomationAdministrationRoleArn:
            "arn:aws:iam::123456789012:role/AWS-SystemsManager-AutomationAdministrationRole",
        },
      ),
    ).toEqual([]);
    expect(messages({ hub: HUB_ROLE }, { CreateAutomationAdministrationRole: "false" })).toEqual([]);
    expect(messages({ a: MEMBER_ROLE }, {})).toEqual([]);
  });

  it("is part of doctor --aws's findings", () => {
    const facts: AwsFacts = {
      stack: stack({ CreateAutomationAdministrationRole: "false", PrivilegedRoleArns: "" }),
      documents: [],
      oidcProvider: { arn: "arn", clientIds: { ok: true, value: ["sts.amazonaws.com"] } },
      trusts: [],
      users: [],
      repository: undefined,
    };
    const found = awsFindings(facts, load(configWith({ a: MEMBER_ROLE, prod: HUB_ADMIN })), "cfg.yml", at);
    expect(found.map((f) => f.message)).toEqual([
      expect.stringMatching(/^roles\.prod: .* is in the hub account but not in the stack's PrivilegedRoleArns/),
      expect.stringMatching(/^roles\.a is in account 210987654321, not the hub; /),
    ]);
  });
});

describe("doctor --aws: whose credentials", () => {
  const config = load(CONFIG_TEXT);
  it("credentials of another account are an error that names both accounts and what to run", () => {
    const caller = { ok: true as const, value: { account: "999988887777", arn: "arn:aws:iam::999988887777:user/ops" } };
    expect(callerFindings(caller, config, "cfg.yml", at).map((f) => `${f.severity}: ${f.message}`)).toEqual([
      "error: these AWS credentials (arn:aws:iam::999988887777:user/ops) are of account 999988887777, but aws.accountId is 123456789012: the other checks read the wrong account; run doctor --aws with credentials of the hub account 123456789012 (e.g. AWS_PROFILE=<its profile>)",
    ]);
  });

  it("no credentials at all say how to give them; the hub's own say nothing", () => {
    expect(
      callerFindings(
        { ok: false, message: "CredentialsProviderError: Could not load credentials" },
        config,
        "cfg.yml",
        at,
      ).map((f) => f.message),
    ).toEqual([
      "cannot tell whose AWS credentials these are (CredentialsProviderError: Could not load credentials); give doctor --aws credentials of the hub account 123456789012 (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)",
    ]);
    const hub = { ok: true as const, value: { account: "123456789012", arn: "arn:aws:iam::123456789012:user/ops" } };
    expect(callerFindings(hub, config, "cfg.yml", at)).toEqual([]);
    expect(callerFindings(undefined, config, "cfg.yml", at)).toEqual([]);
  });
});
