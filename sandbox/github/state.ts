/**
 * The GitHub stand-in's state: repositories, pull requests, reviews, issues, comments,
 * teams, and how they render as GitHub REST resources.
 *
 * Resource shapes follow the GitHub REST API reference (API version 2022-11-28):
 *   pulls:     https://docs.github.com/en/rest/pulls/pulls
 *   files:     https://docs.github.com/en/rest/pulls/pulls#list-pull-requests-files
 *   reviews:   https://docs.github.com/en/rest/pulls/reviews
 *   comments:  https://docs.github.com/en/rest/issues/comments
 *   issues:    https://docs.github.com/en/rest/issues/issues
 *   teams:     https://docs.github.com/en/rest/teams/members
 *   permission: https://docs.github.com/en/rest/collaborators/collaborators#get-repository-permissions-for-a-user
 * Only fields a client can rely on are rendered; null-valued optional fields are kept
 * where GitHub sends them, so code that checks for `null` sees what it would in production.
 */
import type { RepositorySettings } from "./settings.js";

export type PullFileStatus = "added" | "removed" | "modified" | "renamed" | "copied" | "changed" | "unchanged";

export interface PullFileInput {
  filename: string;
  status: PullFileStatus;
  /** Required when status is "renamed" or "copied". */
  previousFilename?: string;
  additions?: number;
  deletions?: number;
  /** Blob SHA of the file at the head commit (zeros for removals). */
  sha?: string;
  patch?: string;
}

export type ReviewState = "APPROVED" | "CHANGES_REQUESTED" | "COMMENTED" | "DISMISSED" | "PENDING";
export type MergeMethod = "merge" | "squash" | "rebase";

export interface UserRecord {
  login: string;
  id: number;
  type: "User" | "Bot" | "Organization";
}

/** GitHub's base repository roles, weakest first. */
export const REPOSITORY_ROLES = ["read", "triage", "write", "maintain", "admin"] as const;
export type RepositoryRole = (typeof REPOSITORY_ROLES)[number];

/** A user's role on a repository: a base role, or an organization's custom role built on one. */
export type CollaboratorRole = RepositoryRole | { custom: string; base: RepositoryRole };

export interface RepositoryRecord {
  owner: UserRecord;
  name: string;
  fullName: string;
  id: number;
  visibility: "public" | "private" | "internal";
  defaultBranch: string;
  createdAt: Date;
  /** The repository's git origin (a bare repository), when a scenario serves one: refs are read from it. */
  gitDir?: string;
  pulls: Map<number, PullRequestRecord>;
  issues: Map<number, IssueRecord>;
  comments: IssueCommentRecord[];
  codeownersErrors: CodeownersErrorRecord[];
  /** Lower-cased login -> role, from every source (direct, team, organization); the owner is admin. */
  collaborators: Map<string, CollaboratorRole>;
  /** Rulesets, classic branch protection and the OIDC subject customization. */
  settings: RepositorySettings;
  /** Issues and pull requests share one number sequence on GitHub. */
  lastNumber: number;
}

export interface PullRequestRecord {
  number: number;
  id: number;
  title: string;
  body: string | null;
  author: UserRecord;
  state: "open" | "closed";
  draft: boolean;
  headRef: string;
  headSha: string;
  /** "owner/repo" the head branch lives in; differs from the base repository for forks. */
  headRepository: string;
  baseRef: string;
  baseSha: string;
  files: PullFileInput[];
  /** SHAs of the PR's commits, oldest first (used by GET /commits/{sha}/pulls). */
  commitShas: string[];
  reviews: ReviewRecord[];
  createdAt: Date;
  updatedAt: Date;
  closedAt: Date | null;
  mergedAt: Date | null;
  mergeCommitSha: string | null;
  mergedBy: UserRecord | null;
  mergeMethod: MergeMethod | null;
  /** Commits the merge put on the base branch (the merge commit, the squash, or the rebased commits). */
  landedShas: string[];
}

export interface ReviewRecord {
  id: number;
  user: UserRecord;
  body: string;
  state: ReviewState;
  commitId: string;
  submittedAt: Date;
}

export interface IssueRecord {
  number: number;
  id: number;
  title: string;
  body: string | null;
  author: UserRecord;
  labels: string[];
  assignees: UserRecord[];
  state: "open" | "closed";
  createdAt: Date;
  updatedAt: Date;
}

export interface IssueCommentRecord {
  id: number;
  repository: string;
  issueNumber: number;
  author: UserRecord;
  body: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface TeamRecord {
  org: string;
  slug: string;
  id: number;
  members: Map<string, "member" | "maintainer">;
}

/** One entry of GET /repos/{owner}/{repo}/codeowners/errors. */
export interface CodeownersErrorRecord {
  line: number;
  column: number;
  kind: string;
  source: string;
  suggestion: string | null;
  message: string;
  path: string;
}

/** Where rendered resources point: the API base (`url` fields) and the web base (`html_url`). */
export interface UrlBases {
  api: string;
  web: string;
}

const ZERO_SHA = "0000000000000000000000000000000000000000";

function nodeId(prefix: string, id: number): string {
  return `${prefix}_${Buffer.from(`0:${id}`).toString("base64url")}`;
}

function iso(date: Date): string {
  // GitHub timestamps have whole seconds: 2011-04-14T16:00:49Z.
  return `${date.toISOString().slice(0, 19)}Z`;
}

export function renderUser(user: UserRecord, urls: UrlBases): Record<string, unknown> {
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId(user.type === "Bot" ? "BOT" : user.type === "Organization" ? "O" : "U", user.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${user.id}?v=4`,
    gravatar_id: "",
    url: `${urls.api}/users/${encodeURIComponent(user.login)}`,
    html_url: `${urls.web}/${encodeURIComponent(user.login)}`,
    type: user.type,
    site_admin: false,
  };
}

export function renderRepository(repo: RepositoryRecord, urls: UrlBases): Record<string, unknown> {
  return {
    id: repo.id,
    node_id: nodeId("R", repo.id),
    name: repo.name,
    full_name: repo.fullName,
    private: repo.visibility !== "public",
    visibility: repo.visibility,
    owner: renderUser(repo.owner, urls),
    html_url: `${urls.web}/${repo.fullName}`,
    url: `${urls.api}/repos/${repo.fullName}`,
    fork: false,
    default_branch: repo.defaultBranch,
    created_at: iso(repo.createdAt),
  };
}

/** `author_association` as GitHub computes it, reduced to what the sandbox models. */
export type AssociationOf = (repo: RepositoryRecord, user: UserRecord) => string;

export function renderPullRequest(
  repo: RepositoryRecord,
  pull: PullRequestRecord,
  urls: UrlBases,
  association: AssociationOf,
  headRepo: RepositoryRecord,
  detail: boolean,
): Record<string, unknown> {
  const apiBase = `${urls.api}/repos/${repo.fullName}`;
  const rendered: Record<string, unknown> = {
    url: `${apiBase}/pulls/${pull.number}`,
    id: pull.id,
    node_id: nodeId("PR", pull.id),
    html_url: `${urls.web}/${repo.fullName}/pull/${pull.number}`,
    diff_url: `${urls.web}/${repo.fullName}/pull/${pull.number}.diff`,
    patch_url: `${urls.web}/${repo.fullName}/pull/${pull.number}.patch`,
    issue_url: `${apiBase}/issues/${pull.number}`,
    commits_url: `${apiBase}/pulls/${pull.number}/commits`,
    review_comments_url: `${apiBase}/pulls/${pull.number}/comments`,
    review_comment_url: `${apiBase}/pulls/comments{/number}`,
    comments_url: `${apiBase}/issues/${pull.number}/comments`,
    statuses_url: `${apiBase}/statuses/${pull.headSha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: renderUser(pull.author, urls),
    body: pull.body,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: iso(pull.createdAt),
    updated_at: iso(pull.updatedAt),
    closed_at: pull.closedAt ? iso(pull.closedAt) : null,
    merged_at: pull.mergedAt ? iso(pull.mergedAt) : null,
    merge_commit_sha: pull.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: {
      label: `${headRepo.owner.login}:${pull.headRef}`,
      ref: pull.headRef,
      sha: pull.headSha,
      user: renderUser(headRepo.owner, urls),
      repo: { ...renderRepository(headRepo, urls), fork: headRepo !== repo },
    },
    base: {
      label: `${repo.owner.login}:${pull.baseRef}`,
      ref: pull.baseRef,
      sha: pull.baseSha,
      user: renderUser(repo.owner, urls),
      repo: renderRepository(repo, urls),
    },
    _links: {
      self: { href: `${apiBase}/pulls/${pull.number}` },
      html: { href: `${urls.web}/${repo.fullName}/pull/${pull.number}` },
      issue: { href: `${apiBase}/issues/${pull.number}` },
      comments: { href: `${apiBase}/issues/${pull.number}/comments` },
      review_comments: { href: `${apiBase}/pulls/${pull.number}/comments` },
      commits: { href: `${apiBase}/pulls/${pull.number}/commits` },
      statuses: { href: `${apiBase}/statuses/${pull.headSha}` },
    },
    author_association: association(repo, pull.author),
    auto_merge: null,
    draft: pull.draft,
  };
  if (detail) {
    // Only "Get a pull request" carries the merge and size fields; list endpoints omit them.
    const additions = pull.files.reduce((sum, file) => sum + (file.additions ?? 0), 0);
    const deletions = pull.files.reduce((sum, file) => sum + (file.deletions ?? 0), 0);
    Object.assign(rendered, {
      merged: pull.mergedAt !== null,
      mergeable: pull.state === "open" ? true : null,
      rebaseable: pull.state === "open" ? true : null,
      mergeable_state: pull.state === "open" ? "clean" : "unknown",
      merged_by: pull.mergedBy ? renderUser(pull.mergedBy, urls) : null,
      comments: repo.comments.filter((comment) => comment.issueNumber === pull.number).length,
      review_comments: 0,
      maintainer_can_modify: false,
      commits: pull.commitShas.length,
      additions,
      deletions,
      changed_files: pull.files.length,
    });
  }
  return rendered;
}

export function renderPullFile(repo: RepositoryRecord, pull: PullRequestRecord, file: PullFileInput, urls: UrlBases) {
  const additions = file.additions ?? 0;
  const deletions = file.deletions ?? 0;
  const path = file.filename.split("/").map(encodeURIComponent).join("/");
  const rendered: Record<string, unknown> = {
    sha: file.sha ?? ZERO_SHA,
    filename: file.filename,
    status: file.status,
    additions,
    deletions,
    changes: additions + deletions,
    blob_url: `${urls.web}/${repo.fullName}/blob/${pull.headSha}/${path}`,
    raw_url: `${urls.web}/${repo.fullName}/raw/${pull.headSha}/${path}`,
    contents_url: `${urls.api}/repos/${repo.fullName}/contents/${path}?ref=${pull.headSha}`,
  };
  if (file.patch !== undefined) rendered.patch = file.patch;
  if (file.previousFilename !== undefined) rendered.previous_filename = file.previousFilename;
  return rendered;
}

export function renderReview(
  repo: RepositoryRecord,
  pull: PullRequestRecord,
  review: ReviewRecord,
  urls: UrlBases,
  association: AssociationOf,
) {
  const htmlUrl = `${urls.web}/${repo.fullName}/pull/${pull.number}#pullrequestreview-${review.id}`;
  return {
    id: review.id,
    node_id: nodeId("PRR", review.id),
    user: renderUser(review.user, urls),
    body: review.body,
    state: review.state,
    html_url: htmlUrl,
    pull_request_url: `${urls.api}/repos/${repo.fullName}/pulls/${pull.number}`,
    author_association: association(repo, review.user),
    _links: {
      html: { href: htmlUrl },
      pull_request: { href: `${urls.api}/repos/${repo.fullName}/pulls/${pull.number}` },
    },
    // Pending reviews have not been submitted yet: GitHub omits submitted_at for them.
    ...(review.state === "PENDING" ? {} : { submitted_at: iso(review.submittedAt) }),
    commit_id: review.commitId,
  };
}

export function renderIssueComment(
  repo: RepositoryRecord,
  comment: IssueCommentRecord,
  urls: UrlBases,
  association: AssociationOf,
) {
  return {
    id: comment.id,
    node_id: nodeId("IC", comment.id),
    url: `${urls.api}/repos/${repo.fullName}/issues/comments/${comment.id}`,
    html_url: `${urls.web}/${repo.fullName}/issues/${comment.issueNumber}#issuecomment-${comment.id}`,
    body: comment.body,
    user: renderUser(comment.author, urls),
    created_at: iso(comment.createdAt),
    updated_at: iso(comment.updatedAt),
    issue_url: `${urls.api}/repos/${repo.fullName}/issues/${comment.issueNumber}`,
    author_association: association(repo, comment.author),
    performed_via_github_app: null,
  };
}

export function renderIssue(repo: RepositoryRecord, issue: IssueRecord, urls: UrlBases, association: AssociationOf) {
  const apiBase = `${urls.api}/repos/${repo.fullName}`;
  return {
    id: issue.id,
    node_id: nodeId("I", issue.id),
    url: `${apiBase}/issues/${issue.number}`,
    repository_url: apiBase,
    labels_url: `${apiBase}/issues/${issue.number}/labels{/name}`,
    comments_url: `${apiBase}/issues/${issue.number}/comments`,
    events_url: `${apiBase}/issues/${issue.number}/events`,
    html_url: `${urls.web}/${repo.fullName}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: null,
    title: issue.title,
    body: issue.body,
    user: renderUser(issue.author, urls),
    labels: issue.labels.map((name, index) => ({
      id: issue.id * 100 + index,
      node_id: nodeId("LA", issue.id * 100 + index),
      url: `${apiBase}/labels/${encodeURIComponent(name)}`,
      name,
      color: "ededed",
      default: false,
      description: null,
    })),
    assignee: issue.assignees[0] ? renderUser(issue.assignees[0], urls) : null,
    assignees: issue.assignees.map((user) => renderUser(user, urls)),
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: repo.comments.filter((comment) => comment.issueNumber === issue.number).length,
    closed_at: null,
    created_at: iso(issue.createdAt),
    updated_at: iso(issue.updatedAt),
    closed_by: null,
    author_association: association(repo, issue.author),
  };
}

/**
 * The body of "Get repository permissions for a user". `permission` is the
 * legacy base role: maintain maps to write, triage to read, a custom role to its
 * base; `role_name` names the assigned role (a custom role by its name); the
 * `user.permissions` hash says what the role may do. A user with no role gets
 * permission "none" on a private repository and "read" on a public one.
 */
export function renderCollaboratorPermission(
  repo: RepositoryRecord,
  user: UserRecord,
  role: CollaboratorRole | undefined,
  urls: UrlBases,
): Record<string, unknown> {
  const base: RepositoryRole | undefined =
    role === undefined
      ? repo.visibility === "public"
        ? "read"
        : undefined
      : typeof role === "string"
        ? role
        : role.base;
  const rank = base === undefined ? -1 : REPOSITORY_ROLES.indexOf(base);
  const legacy = base === undefined ? "none" : base === "maintain" ? "write" : base === "triage" ? "read" : base;
  const roleName = role === undefined ? (base ?? "none") : typeof role === "string" ? role : role.custom;
  return {
    permission: legacy,
    role_name: roleName,
    user: {
      ...renderUser(user, urls),
      permissions: {
        admin: rank >= REPOSITORY_ROLES.indexOf("admin"),
        maintain: rank >= REPOSITORY_ROLES.indexOf("maintain"),
        push: rank >= REPOSITORY_ROLES.indexOf("write"),
        triage: rank >= REPOSITORY_ROLES.indexOf("triage"),
        pull: rank >= REPOSITORY_ROLES.indexOf("read"),
      },
      role_name: roleName,
    },
  };
}
