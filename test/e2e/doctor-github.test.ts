/**
 * `elevate doctor --github` against the sandbox GitHub (issue 13 §3): the rules on
 * main (rulesets and classic protection, each requirement satisfied by either), their
 * bypass lists, team owners resolved with the members token, and the OIDC subject
 * customization. Each case starts from a repository `elevate init` wrote and a ruleset
 * that satisfies everything, then breaks one setting.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { GitHubSandbox } from "../../sandbox/github/server.js";
import type { BranchProtectionRecord, RulesetRecord } from "../../sandbox/github/settings.js";
import { makeRepo, type Repo, runCli } from "../unit/cli-helpers.js";

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

let github: GitHubSandbox;
let adminToken: string;
let readToken: string;
let membersToken: string;
let repo: Repo;
let counter = 0;

function goodRuleset(): RulesetRecord {
  return {
    id: 7,
    name: "protect main",
    enforcement: "active",
    include: ["~DEFAULT_BRANCH"],
    bypassActors: [],
    rules: [
      {
        type: "pull_request",
        parameters: {
          required_approving_review_count: 1,
          dismiss_stale_reviews_on_push: true,
          require_code_owner_review: true,
          require_last_push_approval: true,
          required_review_thread_resolution: false,
        },
      },
      {
        type: "required_status_checks",
        parameters: { strict_required_status_checks_policy: false, required_status_checks: [{ context: "check" }] },
      },
      { type: "non_fast_forward" },
      { type: "deletion" },
    ],
  };
}

beforeAll(async () => {
  github = await GitHubSandbox.start();
  adminToken = github.registerToken({
    kind: "user",
    login: "platform-admin",
    permissions: { metadata: "read", contents: "read", administration: "write", actions: "read" },
  });
  readToken = github.registerToken({
    kind: "user",
    login: "reader",
    permissions: { metadata: "read", contents: "read" },
  });
  membersToken = github.registerToken({ permissions: { members: "read" }, label: "members-app" });
  github.addTeam("acme", "platform", ["pat"]);
  github.addTeam("acme", "empty", []);
});
afterAll(async () => {
  await github.close();
});

let fullName: string;
beforeEach(async () => {
  counter += 1;
  fullName = `acme/aws-access-${counter}`;
  const record = github.createRepo(fullName);
  record.settings.rulesets.push(goodRuleset());
  repo = makeRepo({ config: null });
  const run = await runCli(INIT, repo.root);
  if (run.code !== 0) throw new Error(run.stderr);
  vi.stubEnv("GITHUB_API_URL", github.url);
  vi.stubEnv("GITHUB_TOKEN", adminToken);
  vi.stubEnv("GH_TOKEN", "");
  vi.stubEnv("ELEVATE_MEMBERS_TOKEN", membersToken);
});
afterEach(() => {
  vi.unstubAllEnvs();
  repo.remove();
});

async function doctor(extra: string[] = []) {
  const run = await runCli(["doctor", "--github", "--repo", fullName, ...extra], repo.root);
  return { ...run, lines: run.stdout.split("\n").filter(Boolean) };
}
const rules = () => github.repository(fullName).settings;
const pullRequestRule = () => rules().rulesets[0]!.rules[0]!.parameters!;

describe("elevate doctor --github", () => {
  it("is clean when a ruleset enforces everything, and prints the subject the roles must trust", async () => {
    const run = await doctor();
    expect(run.lines).toEqual([]);
    expect(run.code).toBe(0);
    // Created after 2026-07-15: GitHub issues the immutable subject format only.
    const record = github.repository(fullName);
    const immutable = `repo:acme@${record.owner.id}/aws-access-${counter}@${record.id}:ref:refs/heads/main`;
    expect(run.stderr).toContain(`with sub ${immutable}\n`);
    // An older repository may issue either (an admin may have opted it in).
    record.createdAt = new Date("2025-01-01T00:00:00Z");
    expect((await doctor()).stderr).toContain(`with sub repo:${fullName}:ref:refs/heads/main or ${immutable}\n`);
    expect(run.stderr).toContain(`clean (config, CODEOWNERS, 3 workflows, GitHub ${fullName}`);
  });

  it.each([
    ["code-owner review", "require_code_owner_review", /error: code-owner review is not required/],
    ["dismissing stale approvals", "dismiss_stale_reviews_on_push", /error: stale approvals are not dismissed on push/],
    [
      "approval of the most recent push",
      "require_last_push_approval",
      /error: approval of the most recent push is not required/,
    ],
  ])("reports a ruleset without %s", async (_name, key, message) => {
    pullRequestRule()[key] = false;
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(new RegExp(`^github\\.com/${fullName}/settings/rules:1:1: ${message.source}`, "m"));
  });

  it("reports a ruleset that others may bypass", async () => {
    rules().rulesets[0]!.bypassActors.push({ actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" });
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('error: ruleset "protect main" has 1 bypass actor(s)');
  });

  it("warns when the token cannot see the bypass list or classic protection", async () => {
    vi.stubEnv("GITHUB_TOKEN", readToken);
    const run = await doctor();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('warning: cannot see who may bypass ruleset "protect main"');
    expect(run.stdout).toContain("warning: cannot read the classic branch protection of main (HTTP 403");
  });

  it("reports a branch nothing protects, and an evaluate-only ruleset does not count", async () => {
    rules().rulesets[0]!.enforcement = "evaluate";
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("error: nothing requires a pull request to merge into main");
    expect(run.stdout).toContain('warning: the status check "check" (elevate-check.yml) is not required');
    expect(run.stdout).toContain("warning: force pushes to main are not blocked");
  });

  it("accepts classic branch protection, and reports its admin bypass", async () => {
    rules().rulesets.length = 0;
    const protection: BranchProtectionRecord = {
      required_pull_request_reviews: {
        dismiss_stale_reviews: true,
        require_code_owner_reviews: true,
        required_approving_review_count: 1,
        require_last_push_approval: true,
        bypass_pull_request_allowances: { users: [], teams: [], apps: [] },
      },
      required_status_checks: { strict: false, contexts: ["check"] },
      enforce_admins: { enabled: true },
      allow_force_pushes: { enabled: false },
      allow_deletions: { enabled: false },
    };
    rules().protection.set("main", protection);
    expect((await doctor()).lines).toEqual([]);
    protection.enforce_admins.enabled = false;
    protection.required_pull_request_reviews!.bypass_pull_request_allowances!.users.push({ login: "boss" });
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("error: classic branch protection of main does not apply to administrators");
    expect(run.stdout).toContain("error: classic branch protection lets 1 actor(s) bypass the required pull request");
  });

  it("reports a default branch other than main", async () => {
    github.repository(fullName).defaultBranch = "trunk";
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`github.com/${fullName}/settings/branches:1:1: error: the default branch is trunk`);
  });

  it("reports a customized OIDC subject", async () => {
    rules().oidcSubject = { use_default: false, include_claim_keys: ["repo", "context"] };
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      `github.com/${fullName}/settings/actions:1:1: error: the OIDC subject is customized (repo, context)`,
    );
  });

  it("resolves team owners with the members token: missing, empty and unreadable teams are errors", async () => {
    const run0 = await doctor();
    expect(run0.lines).toEqual([]); // @acme/platform resolves
    repo.write(".github/CODEOWNERS", "/requests/ @acme/platform @acme/empty @acme/ghost\n/.github/ @acme/platform\n");
    const run = await doctor();
    expect(run.code).toBe(1);
    expect(run.lines).toEqual([
      ".github/CODEOWNERS:1:1: error: @acme/empty has no members: nobody in it can approve",
      ".github/CODEOWNERS:1:1: error: @acme/ghost does not exist, or the members token cannot see it: approvals from it never count",
    ]);
    vi.stubEnv("ELEVATE_MEMBERS_TOKEN", "");
    vi.stubEnv("GITHUB_TOKEN", readToken);
    const unreadable = await doctor();
    expect(unreadable.stdout).toMatch(
      /error: cannot read the members of @acme\/platform with the members token \(HTTP 40[34]\)/,
    );
  });

  it("is a usage error without a token, or for a repository the token cannot read", async () => {
    vi.stubEnv("GITHUB_TOKEN", "");
    const noToken = await doctor();
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("--github needs a token in GITHUB_TOKEN or GH_TOKEN");
    vi.stubEnv("GITHUB_TOKEN", adminToken);
    const missing = await runCli(["doctor", "--github", "--repo", "acme/nope"], repo.root);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read acme/nope with the token (HTTP 404)");
  });

  it("finds the repository from the origin remote", async () => {
    const { execFileSync } = await import("node:child_process");
    execFileSync("git", ["remote", "add", "origin", `git@github.com:${fullName}.git`], { cwd: repo.root });
    const run = await runCli(["doctor", "--github"], repo.root);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stderr).toContain(`GitHub ${fullName}`);
  });
});
