/**
 * Thin adapter over the GitHub REST API (Octokit with its pagination plugin,
 * over @actions/http-client: github-http.ts says why). Returns plain data; every
 * decision lives in src/domain or src/modes.
 */
import { Octokit as OctokitCore } from "@octokit/core";
import { paginateRest } from "@octokit/plugin-paginate-rest";
import type { PullRequestReview, RepositoryPermission } from "../domain/approvals.js";
import { httpClientFetch } from "./github-http.js";

// Routes are named as strings ("GET /repos/{owner}/{repo}/pulls/{pull_number}"),
// typed by @octokit/types: the REST plugin's table of every endpoint (83 KB,
// walked when it loads) is not bundled, which every mode's start pays for.
const GitHubClient = OctokitCore.plugin(paginateRest);
export type Octokit = InstanceType<typeof GitHubClient>;

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface PullRequestInfo {
  number: number;
  author: string;
  state: string;
  merged: boolean;
  mergedAt?: string;
  mergeCommitSha?: string;
  headSha: string;
  headRef: string;
  baseRef: string;
  baseSha: string;
  htmlUrl: string;
  title: string;
}

export interface PullRequestFile {
  filename: string;
  status: "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";
  previousFilename?: string;
}

/** A review in the REST shape the approval rule reads (src/domain/approvals.ts). */
export type Review = PullRequestReview;

/** Requests time out rather than hang a job that holds a concurrency slot. */
export const GITHUB_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Requests go through the runner's proxy when one is set (`https_proxy`/`HTTPS_PROXY`,
 * or the `http_` pair for an http:// API URL, minus `no_proxy`/`NO_PROXY` and loopback
 * hosts: @actions/http-client's rules, which @actions/github applies too).
 */
export function createOctokit(token: string, baseUrl = "https://api.github.com"): Octokit {
  const userAgent = orchestrationUserAgent(process.env.ACTIONS_ORCHESTRATION_ID);
  return new GitHubClient({
    auth: `token ${token}`,
    baseUrl,
    ...(userAgent ? { userAgent } : {}),
    request: { fetch: httpClientFetch(GITHUB_REQUEST_TIMEOUT_MS) },
  });
}

/** @actions/github's user agent suffix for runs that carry an orchestration id. */
function orchestrationUserAgent(orchestrationId: string | undefined): string | undefined {
  const id = orchestrationId?.trim();
  return id ? `actions_orchestration_id/${id.replace(/[^a-z0-9_.-]/gi, "_")}` : undefined;
}

/** The fields we read, common to the "get", "list" and "commit pulls" shapes. */
interface RawPull {
  number: number;
  user: { login: string } | null;
  state: string;
  merged_at: string | null;
  merge_commit_sha: string | null;
  head: { sha: string; ref: string };
  base: { sha: string; ref: string };
  html_url: string;
  title: string;
}

function toPullRequestInfo(p: RawPull): PullRequestInfo {
  return {
    number: p.number,
    author: p.user?.login ?? "",
    state: p.state,
    merged: Boolean(p.merged_at),
    ...(p.merged_at ? { mergedAt: p.merged_at } : {}),
    ...(p.merge_commit_sha ? { mergeCommitSha: p.merge_commit_sha } : {}),
    headSha: p.head.sha,
    headRef: p.head.ref,
    baseRef: p.base.ref,
    baseSha: p.base.sha,
    htmlUrl: p.html_url,
    title: p.title,
  };
}

export async function getPullRequest(octokit: Octokit, repo: RepoRef, number: number): Promise<PullRequestInfo> {
  const { data } = await octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", {
    ...repo,
    pull_number: number,
  });
  return toPullRequestInfo(data);
}

export async function listPullRequestFiles(
  octokit: Octokit,
  repo: RepoRef,
  number: number,
): Promise<PullRequestFile[]> {
  const files = await octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/files", {
    ...repo,
    pull_number: number,
    per_page: 100,
  });
  return files.map((f) => ({
    filename: f.filename,
    status: f.status,
    ...(f.previous_filename ? { previousFilename: f.previous_filename } : {}),
  }));
}

/**
 * The commit a branch points at now, by GitHub's "Get a reference"
 * (GET /repos/{owner}/{repo}/git/ref/heads/{branch}): one API call, no git process.
 */
export async function branchTipSha(octokit: Octokit, repo: RepoRef, branch: string): Promise<string> {
  const { data } = await octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
    ...repo,
    ref: `heads/${branch}`,
  });
  if (data.object.type !== "commit" || !/^[0-9a-f]{40,64}$/.test(data.object.sha)) {
    throw new Error(`refs/heads/${branch} does not point at a commit`);
  }
  return data.object.sha;
}

export async function listReviews(octokit: Octokit, repo: RepoRef, number: number): Promise<Review[]> {
  const reviews = await octokit.paginate("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", {
    ...repo,
    pull_number: number,
    per_page: 100,
  });
  return reviews.map((r) => ({
    id: r.id,
    user: r.user ? { login: r.user.login } : null,
    state: r.state,
    commit_id: r.commit_id ?? null,
    submitted_at: r.submitted_at ?? null,
    body: r.body ?? null,
  }));
}

/** GET /repos/{owner}/{repo}/commits/{sha}/pulls: the PRs associated with a commit. */
export async function listPullRequestsForCommit(
  octokit: Octokit,
  repo: RepoRef,
  sha: string,
): Promise<PullRequestInfo[]> {
  const pulls = await octokit.paginate("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", {
    ...repo,
    commit_sha: sha,
    per_page: 100,
  });
  return pulls.map((p) => toPullRequestInfo(p));
}

export async function listOpenPullRequests(octokit: Octokit, repo: RepoRef): Promise<PullRequestInfo[]> {
  const pulls = await octokit.paginate("GET /repos/{owner}/{repo}/pulls", { ...repo, state: "open", per_page: 100 });
  return pulls.map((p) => toPullRequestInfo(p));
}

export class TeamMembershipUnreadable extends Error {
  constructor(
    readonly team: string,
    readonly status: number,
  ) {
    super(
      `cannot read membership of team @${team} (HTTP ${status}); give the action a members-token that can read organization team membership (a GitHub App token with members:read), or list users instead of teams in CODEOWNERS`,
    );
  }
}

/**
 * Whether `login` is an active member of `org/slug`.
 * Reading the team first tells "not a member" (404 on the membership) apart
 * from "this token cannot see the team" (404/403 on the team), which must fail
 * closed. https://docs.github.com/rest/teams/members#get-team-membership-for-a-user
 */
export async function isActiveTeamMember(octokit: Octokit, org: string, slug: string, login: string): Promise<boolean> {
  try {
    await octokit.request("GET /orgs/{org}/teams/{team_slug}", { org, team_slug: slug });
  } catch (error) {
    throw new TeamMembershipUnreadable(`${org}/${slug}`, statusOf(error) ?? 0);
  }
  try {
    const { data } = await octokit.request("GET /orgs/{org}/teams/{team_slug}/memberships/{username}", {
      org,
      team_slug: slug,
      username: login,
    });
    return data.state === "active";
  } catch (error) {
    const status = statusOf(error);
    if (status === 404) return false;
    throw new TeamMembershipUnreadable(`${org}/${slug}`, status ?? 0);
  }
}

export class RepositoryPermissionUnreadable extends Error {
  constructor(
    readonly login: string,
    readonly status: number,
    detail: string,
  ) {
    super(`HTTP ${status || "error"}: ${detail}`);
  }
}

/**
 * `login`'s permission on the repository now: GET
 * /repos/{owner}/{repo}/collaborators/{username}/permission (fine-grained
 * tokens: Metadata read, which every GITHUB_TOKEN has). Any failure, a 404
 * included, is "cannot tell", never "no access".
 * https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user
 */
export async function repositoryPermission(
  octokit: Octokit,
  repo: RepoRef,
  login: string,
): Promise<RepositoryPermission> {
  let data: { permission?: unknown; role_name?: unknown; user?: { permissions?: { push?: unknown } } | null };
  try {
    ({ data } = await octokit.request("GET /repos/{owner}/{repo}/collaborators/{username}/permission", {
      ...repo,
      username: login,
    }));
  } catch (error) {
    const status = statusOf(error) ?? 0;
    throw new RepositoryPermissionUnreadable(login, status, (error as Error).message.split("\n")[0] ?? "");
  }
  if (typeof data.permission !== "string") {
    throw new RepositoryPermissionUnreadable(login, 200, "the response has no 'permission'");
  }
  const push = data.user?.permissions?.push;
  return {
    permission: data.permission,
    ...(typeof data.role_name === "string" ? { roleName: data.role_name } : {}),
    ...(typeof push === "boolean" ? { push } : {}),
  };
}

export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/**
 * Creates the PR comment that carries `marker` once, then updates it in place.
 * Only comments written by the same bot identity are considered ours, so a
 * user cannot plant a marker to hijack the comment.
 */
export async function upsertStickyComment(
  octokit: Octokit,
  repo: RepoRef,
  issueNumber: number,
  marker: string,
  body: string,
): Promise<{ id: number; created: boolean }> {
  const text = `${marker}\n${body}`;
  const comments = await octokit.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    ...repo,
    issue_number: issueNumber,
    per_page: 100,
  });
  const mine = comments.find(
    (c) => c.body?.startsWith(marker) && (c.user?.type === "Bot" || c.user?.login === "github-actions[bot]"),
  );
  if (mine) {
    await octokit.request("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}", {
      ...repo,
      comment_id: mine.id,
      body: text,
    });
    return { id: mine.id, created: false };
  }
  const { data } = await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    ...repo,
    issue_number: issueNumber,
    body: text,
  });
  // Typed number | bigint by the route's schema; the same value the REST method typed as a number.
  return { id: data.id as number, created: true };
}

/**
 * Whether an issue or PR has a comment containing `marker` written by a bot
 * (`user.type` "Bot": the Actions bot, or a GitHub App the workflow's token belongs
 * to). People's comments do not count, so a requester cannot plant the marker to
 * suppress what it stands for.
 */
export async function hasBotCommentWithMarker(
  octokit: Octokit,
  repo: RepoRef,
  issueNumber: number,
  marker: string,
): Promise<boolean> {
  const comments = await octokit.paginate("GET /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    ...repo,
    issue_number: issueNumber,
    per_page: 100,
  });
  return comments.some((c) => c.user?.type === "Bot" && c.body?.includes(marker) === true);
}

export async function createComment(
  octokit: Octokit,
  repo: RepoRef,
  issueNumber: number,
  body: string,
): Promise<number> {
  const { data } = await octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
    ...repo,
    issue_number: issueNumber,
    body,
  });
  return data.id as number;
}

export async function closePullRequest(octokit: Octokit, repo: RepoRef, number: number): Promise<void> {
  await octokit.request("PATCH /repos/{owner}/{repo}/pulls/{pull_number}", {
    ...repo,
    pull_number: number,
    state: "closed",
  });
}
