/**
 * `elevate doctor` offline (issue 13 §3): the config, CODEOWNERS against the config,
 * the three workflows and the request files, each class of mistake reported as
 * `FILE:LINE:COL: error|warning: MESSAGE`; exit 0 clean (warnings allowed), 1 errors,
 * 2 usage. Each case starts from what `elevate init` writes, then breaks one thing.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { codeownersFindings } from "../../src/domain/doctor-codeowners.js";
import { offlineChecks } from "../../src/modes/doctor.js";
import { makeRepo, type Repo, runCli } from "./cli-helpers.js";
import { exampleConfig } from "./domain-fixtures.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SHA = "0123456789abcdef0123456789abcdef01234567";
const INIT = [
  "init",
  "--repo",
  "acme/aws-access",
  "--account",
  "123456789012",
  "--region",
  "eu-west-1",
  "--action",
  `acme/elevate/action@${SHA}`,
];

const CONFIG_WITH_ROLES = `version: 1
aws:
  region: eu-west-1
  accountId: "123456789012"
  grantRoleArn: arn:aws:iam::123456789012:role/elevate-grant
  revokeRoleArn: arn:aws:iam::123456789012:role/elevate-revoke
  automationRoleArn: arn:aws:iam::123456789012:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice
  bob: bob
roles:
  ec2-admin:
    arn: arn:aws:iam::123456789012:role/EC2_FullAccess_Role
    approvals: 1
`;

let repos: Repo[] = [];
async function initRepo(): Promise<Repo> {
  const repo = makeRepo({ config: null });
  repos.push(repo);
  const run = await runCli(INIT, repo.root);
  if (run.code !== 0) throw new Error(run.stderr);
  return repo;
}
afterEach(() => {
  for (const repo of repos) repo.remove();
  repos = [];
});

function edit(repo: Repo, path: string, change: (text: string) => string) {
  const file = join(repo.root, path);
  const before = readFileSync(file, "utf8");
  const after = change(before);
  if (after === before) throw new Error(`edit of ${path} changed nothing`);
  writeFileSync(file, after);
}

async function doctor(repo: Repo) {
  const run = await runCli(["doctor"], repo.root);
  return { ...run, lines: run.stdout.split("\n").filter(Boolean) };
}

describe("elevate doctor (offline)", () => {
  it("is clean on this repository (the template-repository layout)", async () => {
    const facts = await offlineChecks(ROOT);
    expect(facts.findings.filter((f) => f.severity === "error")).toEqual([]);
  });

  it("exits 2 outside a git repository and on arguments it does not take", async () => {
    const repo = makeRepo({ git: false });
    repos.push(repo);
    const outside = await runCli(["doctor"], repo.root);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("not inside a git repository");
    expect((await runCli(["doctor", "extra"], (await initRepo()).root)).code).toBe(2);
  });

  describe("config", () => {
    it("reports schema errors at their line and column", async () => {
      const repo = await initRepo();
      edit(repo, ".github/elevate.yml", (t) => t.replace("approvals: 1 #", "aprovals: 1 #"));
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.lines).toContainEqual(
        expect.stringMatching(/^\.github\/elevate\.yml:19:3: error: unknown key "aprovals" in defaults/),
      );
    });

    it("reports cross-field errors (a role of another account)", async () => {
      const repo = await initRepo();
      edit(repo, ".github/elevate.yml", (t) =>
        t.replace("iam::123456789012:role/elevate-grant", "iam::999999999999:role/elevate-grant"),
      );
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/elevate\.yml:\d+:\d+: error: aws\.grantRoleArn is in account 999999999999/);
    });

    it("reports a missing config", async () => {
      const repo = await initRepo();
      rmSync(join(repo.root, ".github/elevate.yml"));
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.lines).toContain(
        ".github/elevate.yml:1:1: error: missing: the Elevate config (run 'elevate init' to write one)",
      );
    });
  });

  describe("CODEOWNERS", () => {
    it("reports the invalid one-line snippet (a path where an owner belongs)", async () => {
      const repo = await initRepo();
      edit(repo, ".github/CODEOWNERS", (t) => `${t}/action/ /src/ /infra/ @acme/platform\n`);
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^\.github\/CODEOWNERS:\d+:10: error: Invalid owner: .*GitHub skips this line/m);
    });

    it("reports a role folder without owners", async () => {
      const repo = await initRepo();
      writeFileSync(join(repo.root, ".github/elevate.yml"), CONFIG_WITH_ROLES);
      edit(repo, ".github/CODEOWNERS", (t) =>
        t.replace("/requests/ @acme/platform", "/requests/other/ @acme/platform"),
      );
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("error: requests/ec2-admin/ (role ec2-admin) has no code owner");
    });

    it("reports the config or workflows left unowned", async () => {
      const repo = await initRepo();
      edit(repo, ".github/CODEOWNERS", (t) =>
        t.replace("/.github/ @acme/platform", "/.github/workflows/ @acme/platform"),
      );
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain("error: .github/elevate.yml has no code owner");
      expect(run.stdout).toContain("error: .github/CODEOWNERS has no code owner");
    });

    it("reports owners who are only the role's requesters: approvals never reachable, or mutual", () => {
      const config = exampleConfig(CONFIG_WITH_ROLES);
      const alone = codeownersFindings(
        "/.github/ @acme/platform\n/requests/ec2-admin/ @alice\n",
        ".github/CODEOWNERS",
        config,
      );
      expect(alone).toContainEqual(
        expect.objectContaining({
          line: 2,
          severity: "error",
          message: expect.stringContaining("so requests by alice can never be approved"),
        }),
      );
      const mutual = codeownersFindings(
        "/.github/ @acme/platform\n/requests/ec2-admin/ @alice @bob\n",
        ".github/CODEOWNERS",
        config,
      );
      expect(mutual).toEqual([
        expect.objectContaining({
          line: 2,
          severity: "warning",
          message: expect.stringContaining("requesters approve each other"),
        }),
      ]);
      const independent = codeownersFindings(
        "/.github/ @acme/platform\n/requests/ec2-admin/ @carol\n",
        ".github/CODEOWNERS",
        config,
      );
      expect(independent).toEqual([]);
      const team = codeownersFindings(
        "/.github/ @acme/platform\n/requests/ec2-admin/ @acme/ec2\n",
        ".github/CODEOWNERS",
        config,
      );
      expect(team).toEqual([]);
    });

    it("warns that email owners never count", () => {
      const findings = codeownersFindings(
        "/.github/ @acme/platform\n/requests/ ops@example.com @acme/ops\n",
        "CODEOWNERS",
        undefined,
      );
      expect(findings).toEqual([
        expect.objectContaining({
          line: 2,
          severity: "warning",
          message: expect.stringContaining("email owner never counts"),
        }),
      ]);
    });

    it("reports a missing CODEOWNERS", async () => {
      const repo = await initRepo();
      rmSync(join(repo.root, ".github/CODEOWNERS"));
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.lines).toContain(
        ".github/CODEOWNERS:1:1: error: missing: without CODEOWNERS no request can ever be approved",
      );
    });
  });

  describe("workflows", () => {
    const cases: [string, string, (t: string) => string, RegExp][] = [
      [
        "a paths: filter on the required check",
        "elevate-check.yml",
        (t) => t.replace("  pull_request:\n", '  pull_request:\n    paths: ["requests/**"]\n'),
        /elevate-check\.yml:24:5: error: pull_request has a paths: filter/,
      ],
      [
        "pull_request_target",
        "elevate-check.yml",
        (t) => t.replace("  pull_request:\n", "  pull_request_target:\n"),
        /error: pull_request_target runs pull request code/,
      ],
      [
        "id-token on the check",
        "elevate-check.yml",
        (t) => t.replace("contents: read # read", "id-token: write\n      contents: read # read"),
        /error: job check: id-token: write lets this job/,
      ],
      [
        "a grant without id-token",
        "elevate-grant.yml",
        (t) => t.replace(/ {6}id-token: write.*\n/, ""),
        /error: job grant: needs 'id-token: write' to assume its AWS role/,
      ],
      [
        "a revoke with contents: write",
        "elevate-revoke.yml",
        (t) => t.replace("contents: read # request", "contents: write # request"),
        /warning: job revoke: 'contents: write' where read is enough/,
      ],
      [
        "no top-level permissions",
        "elevate-grant.yml",
        (t) => t.replace("permissions: {}\n", ""),
        /error: no top-level 'permissions:'/,
      ],
      [
        "write-all at the top",
        "elevate-grant.yml",
        (t) => t.replace("permissions: {}\n", "permissions: write-all\n"),
        /error: top-level 'permissions: write-all'/,
      ],
      [
        "an environment on the grant job",
        "elevate-grant.yml",
        (t) => t.replace("    runs-on: ubuntu-24.04\n", "    environment: prod\n    runs-on: ubuntu-24.04\n"),
        /error: job grant: 'environment:' changes the OIDC token's sub claim/,
      ],
      [
        "a grant that does not run on main",
        "elevate-grant.yml",
        (t) => t.replace("branches: [main]", "branches: [master]"),
        /error: push\.branches does not include main/,
      ],
      [
        "a revoke without its schedule",
        "elevate-revoke.yml",
        (t) => t.replace(/ {2}schedule:\n(?: *#.*\n)* *- cron:.*\n/, ""),
        /error: 'on:' lacks schedule/,
      ],
      [
        "the wrong mode",
        "elevate-revoke.yml",
        (t) => t.replace("mode: revoke", "mode: grant"),
        /error: runs the Elevate action in mode grant; this workflow must run mode revoke/,
      ],
      [
        "./action without action/",
        "elevate-check.yml",
        (t) => t.replace(/uses: acme\/elevate\/action@\w+/, "uses: ./action"),
        /error: uses \.\/action, but this repository has no action\/action\.yml/,
      ],
      [
        "an unpinned third-party action",
        "elevate-check.yml",
        (t) => t.replace(/actions\/checkout@\w+/, "actions/checkout@v5"),
        /warning: actions\/checkout@v5 # v5\.0\.0 is not pinned|warning: actions\/checkout@v5 is not pinned/,
      ],
      [
        "invalid YAML",
        "elevate-check.yml",
        (t) => `${t}\n  bad: [\n`,
        /elevate-check\.yml:\d+:\d+: error: invalid YAML/,
      ],
    ];
    it.each(cases)("reports %s", async (_name, file, change, expected) => {
      const repo = await initRepo();
      edit(repo, `.github/workflows/${file}`, change);
      const run = await doctor(repo);
      expect(run.stdout).toMatch(expected);
      expect(run.code).toBe(/: error: /.test(run.stdout) ? 1 : 0);
    });

    it("reports a missing workflow under the name the AWS role trusts", async () => {
      const repo = await initRepo();
      rmSync(join(repo.root, ".github/workflows/elevate-grant.yml"));
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.lines).toContainEqual(
        expect.stringMatching(/^\.github\/workflows\/elevate-grant\.yml:1:1: error: missing: the grant workflow/),
      );
    });

    it("warns when the workflows run different versions of the action", async () => {
      const repo = await initRepo();
      edit(repo, ".github/workflows/elevate-revoke.yml", (t) => t.replace(SHA, "f".repeat(40)));
      const run = await doctor(repo);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("warning: the workflows run different Elevate versions");
    });
  });

  describe("request files", () => {
    it("reports duplicate ids as errors and invalid requests as warnings", async () => {
      const repo = await initRepo();
      writeFileSync(join(repo.root, ".github/elevate.yml"), CONFIG_WITH_ROLES);
      edit(repo, ".github/CODEOWNERS", (t) => `${t}/requests/ec2-admin/ @acme/ec2\n`);
      const request = "requester: alice\nrole: ec2-admin\nduration: 1h\nreason: Resize the web ASG\n";
      repo.write("requests/ec2-admin/resize-web.yaml", request);
      repo.write("requests/ec2-admin/old.yaml", `${request}start: 2020-01-01T00:00:00Z\n`);
      expect((await doctor(repo)).stdout).toBe("");
      repo.write("requests/other/resize-web.yaml", request.replace("ec2-admin", "other"));
      repo.write("requests/ec2-admin/typo.yaml", request.replace("duration", "durtion"));
      const run = await doctor(repo);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(
        /^requests\/ec2-admin\/resize-web\.yaml:1:1: error: .*requests\/other\/resize-web\.yaml/m,
      );
      expect(run.stdout).toMatch(
        /^requests\/ec2-admin\/typo\.yaml:3:1: warning: unknown key "durtion".*grants nothing/m,
      );
    });
  });
});
