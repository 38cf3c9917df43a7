import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getOctokit } from "@actions/github";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGit } from "../../sandbox/git/repo.js";
import { RequestScenario } from "../../sandbox/git/scenario.js";
import { DEFAULT_GITHUB_TOKEN_PERMISSIONS, GitHubSandbox } from "../../sandbox/github/server.js";

const REPO = "acme/infra";
const REQUEST = "requests/ec2-admin/resize-asg.yaml";
const requestYaml = "requester: alice\nrole: ec2-admin\nduration: 2h\nreason: Resize the web ASG during INC-1234\n";

let github: GitHubSandbox;
let token: string;
const scenarios: RequestScenario[] = [];

function newScenario(): RequestScenario {
  const scenario = RequestScenario.create({
    github,
    repository: REPO,
    initialFiles: {
      ".github/CODEOWNERS": "/requests/ec2-admin/ @bob\n",
      ".github/elevate.yml": "version: 1\n",
      "requests/ec2-admin/old-request.yaml": "requester: alice\n",
    },
  });
  scenarios.push(scenario);
  return scenario;
}

beforeAll(async () => {
  github = await GitHubSandbox.start();
  token = github.registerToken({ permissions: { ...DEFAULT_GITHUB_TOKEN_PERMISSIONS } });
});

afterAll(async () => {
  for (const scenario of scenarios) scenario.dispose();
  await github.close();
});

describe("git + GitHub scenario", () => {
  it.each(["merge", "squash", "rebase"] as const)("a %s merge lands exactly the request file", async (method) => {
    const scenario = newScenario();
    const pr = scenario.openRequestPr({ files: { [REQUEST]: requestYaml }, author: "alice", branch: `req-${method}` });
    // A second commit on the branch: rebase must replay both, squash folds them.
    pr.push({ [REQUEST]: `${requestYaml}ticket: INC-1234\n` });
    const review = pr.approve("bob");
    expect(review.commitId).toBe(pr.headSha);

    const octokit = getOctokit(token, { baseUrl: github.url });
    const files = await octokit.paginate(octokit.rest.pulls.listFiles, {
      owner: "acme",
      repo: "infra",
      pull_number: pr.number,
    });
    expect(files.map((file) => [file.filename, file.status, file.additions])).toEqual([[REQUEST, "added", 5]]);

    const prCommits = pr.record.commitShas;
    expect(prCommits).toHaveLength(2);
    const outcome = pr.merge(method, { mergedBy: "bob", mergedAt: new Date("2026-03-01T12:00:00Z") });

    expect(outcome.changedFiles.map((file) => [file.filename, file.status])).toEqual([[REQUEST, "added"]]);
    expect(outcome.after).toBe(scenario.mainSha());
    expect(runGit(scenario.git.originDir, ["show", `${outcome.after}:${REQUEST}`])).toContain("ticket: INC-1234");
    const parents = runGit(scenario.git.originDir, ["rev-list", "--parents", "-n", "1", outcome.after])
      .trim()
      .split(" ");
    if (method === "merge") {
      expect(parents).toHaveLength(3);
      expect(outcome.landedShas).toEqual([...prCommits, outcome.after]);
    } else if (method === "squash") {
      expect(parents).toEqual([outcome.after, outcome.before]);
      expect(outcome.landedShas).toEqual([outcome.after]);
    } else {
      expect(outcome.landedShas).toHaveLength(2);
      expect(outcome.landedShas.some((sha) => prCommits.includes(sha))).toBe(false);
    }

    // The GitHub side agrees with git.
    const { data: merged } = await octokit.rest.pulls.get({ owner: "acme", repo: "infra", pull_number: pr.number });
    expect(merged).toMatchObject({ merged: true, merge_commit_sha: outcome.after, merged_at: "2026-03-01T12:00:00Z" });
    const associated = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: "acme",
      repo: "infra",
      commit_sha: outcome.after,
    });
    expect(associated.data.map((pull) => pull.number)).toContain(pr.number);

    // The push event carries what GitHub would send.
    const { pushEvent } = outcome;
    expect(pushEvent).toMatchObject({ eventName: "push", ref: "refs/heads/main", sha: outcome.after });
    expect(pushEvent.payload).toMatchObject({ before: outcome.before, after: outcome.after, pusher: { name: "bob" } });
    const commits = pushEvent.payload.commits as Array<{ id: string; added: string[]; modified: string[] }>;
    expect(commits.map((commit) => commit.id)).toEqual(outcome.landedShas);
    expect(commits.flatMap((commit) => [...commit.added, ...commit.modified])).toContain(REQUEST);

    const workspace = scenario.checkoutWorkspace(pushEvent);
    expect(readFileSync(join(workspace, REQUEST), "utf8")).toContain("ticket: INC-1234");
    expect(runGit(workspace, ["rev-parse", "HEAD"]).trim()).toBe(outcome.after);
  });

  it("reports renames with previous_filename and deletions as removed, consistent with git", async () => {
    const scenario = newScenario();
    const renamed = scenario.openRequestPr({
      renames: { "requests/ec2-admin/old-request.yaml": "requests/ec2-admin/new-request.yaml" },
      author: "alice",
    });
    expect(renamed.record.files).toEqual([
      expect.objectContaining({
        filename: "requests/ec2-admin/new-request.yaml",
        status: "renamed",
        previousFilename: "requests/ec2-admin/old-request.yaml",
      }),
    ]);
    const octokit = getOctokit(token, { baseUrl: github.url });
    const { data: files } = await octokit.rest.pulls.listFiles({
      owner: "acme",
      repo: "infra",
      pull_number: renamed.number,
    });
    expect(files[0]).toMatchObject({ status: "renamed", previous_filename: "requests/ec2-admin/old-request.yaml" });

    const deletion = scenario.openRequestPr({ files: { "requests/ec2-admin/old-request.yaml": null }, author: "bob" });
    expect(deletion.record.files.map((file) => [file.filename, file.status])).toEqual([
      ["requests/ec2-admin/old-request.yaml", "removed"],
    ]);
    const outcome = deletion.merge("squash");
    expect(outcome.commits[0]?.removed).toEqual(["requests/ec2-admin/old-request.yaml"]);
  });

  it("builds the pull_request event on the test-merge ref and checks it out", () => {
    const scenario = newScenario();
    const pr = scenario.openRequestPr({ files: { [REQUEST]: requestYaml }, author: "alice" });
    const event = pr.pullRequestEvent("opened");
    expect(event.ref).toBe(`refs/pull/${pr.number}/merge`);
    expect(event.sha).toBe(scenario.git.originSha(`refs/pull/${pr.number}/merge`));
    expect(event.payload).toMatchObject({
      action: "opened",
      number: pr.number,
      pull_request: { head: { sha: pr.headSha }, user: { login: "alice" } },
      repository: { full_name: REPO },
    });
    const workspace = scenario.checkoutWorkspace(event);
    expect(existsSync(join(workspace, REQUEST))).toBe(true);

    // A later push moves head and the test merge; an approval on the old head stays on it.
    const oldHead = pr.headSha;
    pr.approve("bob");
    pr.push({ "README.md": "unrelated\n" });
    expect(pr.record.reviews[0]?.commitId).toBe(oldHead);
    expect(pr.record.files.map((file) => file.filename).sort()).toEqual(["README.md", REQUEST]);
    expect(pr.pullRequestEvent("synchronize").sha).not.toBe(event.sha);
  });

  it("models a direct push to main (no pull request)", async () => {
    const scenario = newScenario();
    const event = scenario.pushDirect({ [REQUEST]: requestYaml }, { author: "mallory" });
    expect(event.payload).toMatchObject({ pusher: { name: "mallory" }, after: scenario.mainSha() });
    const octokit = getOctokit(token, { baseUrl: github.url });
    const { data } = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({
      owner: "acme",
      repo: "infra",
      commit_sha: event.sha,
    });
    expect(data).toEqual([]);
  });
});
