import { getOctokit } from "@actions/github";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_GITHUB_TOKEN_PERMISSIONS, GitHubSandbox } from "../../sandbox/github/server.js";

const REPO = "acme/infra";
const owner = "acme";
const repo = "infra";
const sha = (n: number) => n.toString(16).padStart(40, "0");

let github: GitHubSandbox;
let actionsToken: string;
let appToken: string;
let forkToken: string;

type Client = ReturnType<typeof getOctokit>;
const client = (token: string): Client => getOctokit(token, { baseUrl: github.url });

function httpStatus(error: unknown): number | undefined {
  return (error as { status?: number }).status;
}

beforeAll(async () => {
  github = await GitHubSandbox.start();
  github.createRepo(REPO);
  actionsToken = github.registerToken({ permissions: { ...DEFAULT_GITHUB_TOKEN_PERMISSIONS }, label: "GITHUB_TOKEN" });
  appToken = github.registerToken({ permissions: { pullRequests: "read", members: "read" }, label: "members-app" });
  forkToken = github.registerToken({
    permissions: { ...DEFAULT_GITHUB_TOKEN_PERMISSIONS },
    readOnly: true,
    label: "fork-GITHUB_TOKEN",
  });
  github.openPullRequest(REPO, {
    number: 7,
    author: "alice",
    headRef: "elevate/req",
    headSha: sha(7),
    baseSha: sha(1),
    title: "Request ec2-admin",
    files: [
      { filename: "requests/ec2-admin/resize-asg.yaml", status: "added", additions: 5 },
      {
        filename: "requests/ec2-admin/new-name.yaml",
        status: "renamed",
        previousFilename: "requests/ec2-admin/old-name.yaml",
      },
    ],
  });
  for (let index = 0; index < 250; index += 1) {
    github.addReview(REPO, 7, {
      user: `reviewer-${index}`,
      state: index % 2 === 0 ? "APPROVED" : "COMMENTED",
      submittedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, index)),
    });
  }
  github.addTeam("acme", "prod-approvers", ["bob", { login: "carol", role: "maintainer" }]);
});

afterAll(async () => {
  await github.close();
});

beforeEach(() => github.clearCalls());

describe("GitHub REST stand-in through the real Octokit", () => {
  it("pages 250 reviews with Link headers (per_page 100 → 3 requests) in chronological order", async () => {
    const octokit = client(actionsToken);
    const first = await octokit.rest.pulls.listReviews({ owner, repo, pull_number: 7, per_page: 100 });
    expect(first.data).toHaveLength(100);
    expect(first.headers.link).toContain('per_page=100&page=2>; rel="next"');
    expect(first.headers.link).toContain('page=3>; rel="last"');

    github.clearCalls();
    const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, {
      owner,
      repo,
      pull_number: 7,
      per_page: 100,
    });
    expect(reviews).toHaveLength(250);
    expect(reviews.map((review) => review.user?.login)).toEqual(
      Array.from({ length: 250 }, (_, index) => `reviewer-${index}`),
    );
    expect(reviews[0]).toMatchObject({ state: "APPROVED", commit_id: sha(7), submitted_at: "2026-01-01T00:00:00Z" });
    expect(github.calls().map((call) => [call.route, call.status])).toEqual([
      ["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", 200],
      ["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", 200],
      ["GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", 200],
    ]);
  });

  it("defaults per_page to 30 and caps it at 100", async () => {
    const octokit = client(actionsToken);
    expect((await octokit.rest.pulls.listReviews({ owner, repo, pull_number: 7 })).data).toHaveLength(30);
    expect((await octokit.rest.pulls.listReviews({ owner, repo, pull_number: 7, per_page: 500 })).data).toHaveLength(
      100,
    );
    const last = await octokit.rest.pulls.listReviews({ owner, repo, pull_number: 7, per_page: 100, page: 3 });
    expect(last.data).toHaveLength(50);
    expect(last.headers.link).not.toContain('rel="next"');
    expect(last.headers.link).toContain('rel="prev"');
  });

  it("serves the pull request and its files in GitHub's shapes", async () => {
    const octokit = client(actionsToken);
    const { data: pull } = await octokit.rest.pulls.get({ owner, repo, pull_number: 7 });
    expect(pull).toMatchObject({
      number: 7,
      state: "open",
      merged: false,
      merge_commit_sha: null,
      user: { login: "alice", type: "User" },
      head: { ref: "elevate/req", sha: sha(7), repo: { full_name: REPO } },
      base: { ref: "main", sha: sha(1) },
      changed_files: 2,
    });
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, { owner, repo, pull_number: 7 });
    expect(files.map(({ filename, status, previous_filename }) => ({ filename, status, previous_filename }))).toEqual([
      { filename: "requests/ec2-admin/resize-asg.yaml", status: "added", previous_filename: undefined },
      {
        filename: "requests/ec2-admin/new-name.yaml",
        status: "renamed",
        previous_filename: "requests/ec2-admin/old-name.yaml",
      },
    ]);
    await expect(octokit.rest.pulls.get({ owner, repo, pull_number: 99 })).rejects.toMatchObject({ status: 404 });
  });

  it("creates and updates issue comments as github-actions[bot]", async () => {
    const octokit = client(actionsToken);
    const created = await octokit.rest.issues.createComment({
      owner,
      repo,
      issue_number: 7,
      body: "<!-- elevate -->\nplan v1",
    });
    expect(created.status).toBe(201);
    expect(created.data.user).toMatchObject({ login: "github-actions[bot]", type: "Bot" });
    const updated = await octokit.rest.issues.updateComment({
      owner,
      repo,
      comment_id: created.data.id,
      body: "<!-- elevate -->\nplan v2",
    });
    expect(updated.data).toMatchObject({ id: created.data.id, body: "<!-- elevate -->\nplan v2" });
    const listed = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: 7 });
    expect(listed.map((comment) => comment.body)).toEqual(["<!-- elevate -->\nplan v2"]);
    expect(github.comments(REPO, 7)).toHaveLength(1);
    await expect(
      octokit.rest.issues.createComment({ owner, repo, issue_number: 7, body: "x".repeat(65537) }),
    ).rejects.toMatchObject({ status: 422 });
    await expect(
      octokit.rest.issues.createComment({ owner, repo, issue_number: 404, body: "hi" }),
    ).rejects.toMatchObject({
      status: 404,
    });
  });

  it("reads team membership only with a members token; the default GITHUB_TOKEN is refused", async () => {
    const app = client(appToken);
    const member = await app.rest.teams.getMembershipForUserInOrg({
      org: "acme",
      team_slug: "prod-approvers",
      username: "carol",
    });
    expect(member.data).toMatchObject({ role: "maintainer", state: "active" });
    await expect(
      app.rest.teams.getMembershipForUserInOrg({ org: "acme", team_slug: "prod-approvers", username: "mallory" }),
    ).rejects.toMatchObject({ status: 404 });
    await expect(app.rest.teams.getByName({ org: "acme", team_slug: "nope" })).rejects.toMatchObject({ status: 404 });
    const members = await app.paginate(app.rest.teams.listMembersInOrg, { org: "acme", team_slug: "prod-approvers" });
    expect(members.map((user) => user.login)).toEqual(["bob", "carol"]);

    const refused = await client(actionsToken)
      .rest.teams.getMembershipForUserInOrg({ org: "acme", team_slug: "prod-approvers", username: "bob" })
      .catch((error: unknown) => error);
    expect(httpStatus(refused)).toBe(403);
    expect((refused as Error).message).toContain("Resource not accessible by integration");

    const hiding = github.registerToken({ permissions: { pullRequests: "read" }, membershipDenialStatus: 404 });
    await expect(
      client(hiding).rest.teams.getByName({ org: "acme", team_slug: "prod-approvers" }),
    ).rejects.toMatchObject({ status: 404 });
  });

  it("reports repository permissions as GitHub does: legacy base role, role_name, push flag; Metadata read suffices", async () => {
    github.setCollaborator(REPO, "bob", "maintain");
    github.setCollaborator(REPO, "carol", "triage");
    github.setCollaborator(REPO, "dave", { custom: "access-approver", base: "write" });
    github.user("erin");
    const metadataOnly = github.registerToken({ permissions: { metadata: "read" }, label: "metadata-only" });
    const ask = (token: string, username: string) =>
      client(token).rest.repos.getCollaboratorPermissionLevel({ owner, repo, username });
    const seen = async (username: string) => {
      const { data } = await ask(metadataOnly, username);
      return { permission: data.permission, role_name: data.role_name, push: data.user?.permissions?.push };
    };
    expect(await seen("acme")).toEqual({ permission: "admin", role_name: "admin", push: true });
    expect(await seen("bob")).toEqual({ permission: "write", role_name: "maintain", push: true });
    expect(await seen("carol")).toEqual({ permission: "read", role_name: "triage", push: false });
    expect(await seen("dave")).toEqual({ permission: "write", role_name: "access-approver", push: true });
    expect(await seen("erin")).toEqual({ permission: "none", role_name: "none", push: false });
    github.setCollaborator(REPO, "bob", null);
    expect(await seen("bob")).toEqual({ permission: "none", role_name: "none", push: false });
    await expect(ask(metadataOnly, "nobody-at-all")).rejects.toMatchObject({ status: 404 });
    const noRepoAccess = github.registerToken({ permissions: { members: "read" }, label: "org-only" });
    await expect(ask(noRepoAccess, "carol")).rejects.toMatchObject({ status: 403 });
    const elsewhere = github.registerToken({ permissions: { metadata: "read" }, repositories: ["acme/other"] });
    await expect(ask(elsewhere, "carol")).rejects.toMatchObject({ status: 404 });
  });

  it("gives the fork pull request token read access and 403 on every write", async () => {
    const fork = client(forkToken);
    expect((await fork.rest.pulls.get({ owner, repo, pull_number: 7 })).data.number).toBe(7);
    const refused = await fork.rest.issues
      .createComment({ owner, repo, issue_number: 7, body: "hi" })
      .catch((error: unknown) => error);
    expect(httpStatus(refused)).toBe(403);
    expect((refused as Error).message).toContain("Resource not accessible by integration");
    await expect(fork.rest.pulls.update({ owner, repo, pull_number: 7, state: "closed" })).rejects.toMatchObject({
      status: 403,
    });
    await expect(fork.rest.issues.create({ owner, repo, title: "drift" })).rejects.toMatchObject({ status: 403 });
    // A token for another repository does not even see this one.
    const elsewhere = github.registerToken({ permissions: { pullRequests: "write" }, repositories: ["acme/other"] });
    await expect(client(elsewhere).rest.pulls.get({ owner, repo, pull_number: 7 })).rejects.toMatchObject({
      status: 404,
    });
    await expect(client("ghs_unknown").rest.pulls.get({ owner, repo, pull_number: 7 })).rejects.toMatchObject({
      status: 401,
    });
  });

  it("injects failures on one route, then recovers; unknown routes are rejected", async () => {
    const octokit = client(actionsToken);
    github.failNext("GET /repos/{owner}/{repo}/pulls/{pull_number}", 502, { times: 2 });
    await expect(octokit.rest.pulls.get({ owner, repo, pull_number: 7 })).rejects.toMatchObject({ status: 502 });
    await expect(octokit.rest.pulls.get({ owner, repo, pull_number: 7 })).rejects.toMatchObject({ status: 502 });
    expect((await octokit.rest.pulls.get({ owner, repo, pull_number: 7 })).status).toBe(200);
    expect(() => github.failNext("GET /repos/{owner}/{repo}/nope", 500)).toThrow(/unknown route/);
    expect(github.calls().map((call) => call.status)).toEqual([502, 502, 200]);
    expect(github.calls()[0]?.token).toBe("GITHUB_TOKEN");
  });

  it("applies latency to every response", async () => {
    github.latencyMs = 120;
    try {
      const started = Date.now();
      await client(actionsToken).rest.pulls.get({ owner, repo, pull_number: 7 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    } finally {
      github.latencyMs = 0;
    }
  });

  it("finds the merged PR of a merge commit, lists open PRs, closes PRs and creates issues", async () => {
    const octokit = client(actionsToken);
    github.openPullRequest(REPO, {
      number: 8,
      author: "bob",
      headRef: "elevate/other",
      headSha: sha(8),
      baseSha: sha(1),
      files: [{ filename: "requests/ec2-admin/other.yaml", status: "added" }],
    });
    github.openPullRequest(REPO, {
      number: 9,
      author: "bob",
      headRef: "elevate/third",
      headSha: sha(9),
      baseSha: sha(1),
      files: [{ filename: "requests/ec2-admin/third.yaml", status: "added" }],
    });
    github.mergePullRequest(REPO, 8, {
      mergeCommitSha: sha(80),
      method: "squash",
      mergedAt: new Date("2026-02-01T10:00:00Z"),
    });
    const associated = await octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, {
      owner,
      repo,
      commit_sha: sha(80),
    });
    expect(associated.map((pull) => [pull.number, pull.merged_at, pull.merge_commit_sha])).toEqual([
      [8, "2026-02-01T10:00:00Z", sha(80)],
    ]);
    const { data: merged } = await octokit.rest.pulls.get({ owner, repo, pull_number: 8 });
    expect(merged).toMatchObject({ merged: true, state: "closed", merged_by: { login: "bob" } });

    const open = await octokit.paginate(octokit.rest.pulls.list, { owner, repo, state: "open" });
    expect(open.map((pull) => pull.number).sort()).toEqual([7, 9]);
    await octokit.rest.pulls.update({ owner, repo, pull_number: 9, state: "closed" });
    expect(github.pullRequest(REPO, 9).state).toBe("closed");
    await expect(octokit.rest.pulls.update({ owner, repo, pull_number: 8, state: "open" })).rejects.toMatchObject({
      status: 422,
    });

    const { data: issue } = await octokit.rest.issues.create({
      owner,
      repo,
      title: "Elevate drift",
      body: "details",
      labels: ["elevate"],
    });
    expect(issue.number).toBe(10); // issues and PRs share one number sequence
    expect(issue.labels.map((label) => (typeof label === "string" ? label : label.name))).toEqual(["elevate"]);
    expect(github.issues(REPO).map((record) => record.title)).toEqual(["Elevate drift"]);
    await expect(octokit.rest.issues.create({ owner, repo, title: "" })).rejects.toMatchObject({ status: 422 });
  });

  it("answers GET /user for user tokens only, and lists CODEOWNERS errors", async () => {
    const pat = github.registerToken({ kind: "user", login: "alice", permissions: { contents: "read" } });
    expect((await client(pat).rest.users.getAuthenticated()).data).toMatchObject({ login: "alice", type: "User" });
    await expect(client(actionsToken).rest.users.getAuthenticated()).rejects.toMatchObject({ status: 403 });

    github.setCodeownersErrors(REPO, [
      {
        line: 3,
        column: 1,
        kind: "Unknown owner",
        source: "/requests/prod/ @acme/ghosts\n",
        suggestion: null,
        message: "Unknown owner on line 3",
        path: ".github/CODEOWNERS",
      },
    ]);
    const { data } = await client(actionsToken).rest.repos.codeownersErrors({ owner, repo });
    expect(data.errors).toEqual([
      expect.objectContaining({ line: 3, kind: "Unknown owner", path: ".github/CODEOWNERS" }),
    ]);
  });
});
