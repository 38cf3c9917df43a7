/**
 * A scenario builder that keeps the real git repositories and the GitHub stand-in's
 * pull-request state consistent: the PR's head SHA, commits and file list come from the
 * git objects, and a merge updates origin's `main` and the PR's merge fields together.
 * It also maintains `refs/pull/N/head` and `refs/pull/N/merge` in origin as GitHub does,
 * so a `pull_request` run can check out the test-merge commit.
 */
import type { GitHubSandbox } from "../github/server.js";
import type { MergeMethod, PullRequestRecord, ReviewRecord, ReviewState } from "../github/state.js";
import {
  type EventEnvelope,
  type PushCommit,
  pullRequestEvent,
  pushEvent,
  type WebhookRepository,
  webhookRepository,
} from "../harness/events.js";
import { type FileChanges, type GitClone, type GitIdentity, GitSandbox, type MergeResult, runGit } from "./repo.js";

export interface ScenarioOptions {
  github: GitHubSandbox;
  /** "owner/repo"; created in the GitHub stand-in if it does not exist yet. */
  repository: string;
  /** Contents of the first commit on the default branch (config, CODEOWNERS …). */
  initialFiles: FileChanges;
  defaultBranch?: string;
  /** Clock for commit dates and GitHub timestamps; default the wall clock. */
  now?: () => Date;
  /** Directory to create the temp repositories in; default the OS temp dir. */
  parentDir?: string;
}

export interface OpenPrInput {
  /** Files to add/modify (string) or delete (null). */
  files?: FileChanges;
  /** Renames applied in the same commit: from → to. */
  renames?: Record<string, string>;
  author: string;
  branch?: string;
  title?: string;
  body?: string;
  number?: number;
}

export interface MergeOutcome extends MergeResult {
  pullRequest: PullRequestRecord;
  /** Commits pushed to the base branch, as the push payload lists them. */
  commits: PushCommit[];
  /** The `push` event the merge triggers (ref, sha, payload). */
  pushEvent: EventEnvelope;
}

/** A GitHub-style identity for commits made "through the web" by a login. */
export function loginIdentity(login: string): GitIdentity {
  return { name: login, email: `${login}@users.noreply.github.com` };
}

export class RequestScenario {
  readonly github: GitHubSandbox;
  readonly git: GitSandbox;
  readonly repository: string;
  readonly defaultBranch: string;
  readonly now: () => Date;
  #workspace: GitClone | null = null;

  private constructor(options: ScenarioOptions, git: GitSandbox) {
    this.github = options.github;
    this.git = git;
    this.repository = options.repository;
    this.defaultBranch = options.defaultBranch ?? "main";
    this.now = options.now ?? (() => new Date());
  }

  static create(options: ScenarioOptions): RequestScenario {
    const defaultBranch = options.defaultBranch ?? "main";
    const git = GitSandbox.create({
      initialFiles: options.initialFiles,
      defaultBranch,
      ...(options.now ? { date: options.now() } : {}),
      ...(options.parentDir ? { parent: options.parentDir } : {}),
    });
    try {
      options.github.repository(options.repository);
    } catch {
      options.github.createRepo(options.repository, { defaultBranch });
    }
    // The API's refs are the origin's (GET …/git/ref/heads/<branch>).
    options.github.repository(options.repository).gitDir = git.originDir;
    return new RequestScenario(options, git);
  }

  /** The repository object for event payloads, consistent with the GitHub stand-in. */
  webhookRepository(): WebhookRepository {
    const record = this.github.repository(this.repository);
    return webhookRepository(this.repository, {
      id: record.id,
      defaultBranch: record.defaultBranch,
      visibility: record.visibility,
      ownerType: record.owner.type === "User" ? "User" : "Organization",
      apiUrl: this.github.url,
      webUrl: this.github.webUrl,
    });
  }

  /** Tip of the default branch in origin. */
  mainSha(): string {
    return this.git.originSha(`refs/heads/${this.defaultBranch}`);
  }

  /** A commit pushed straight to the default branch (no pull request). */
  pushDirect(files: FileChanges, options: { author: string; message?: string }): MergeOutcome["pushEvent"] {
    const before = this.mainSha();
    const after = this.git.commitOnBranch(this.defaultBranch, files, {
      message: options.message ?? "Direct push",
      author: loginIdentity(options.author),
      date: this.now(),
      from: `origin/${this.defaultBranch}`,
    });
    return pushEvent({
      repository: this.webhookRepository(),
      before,
      after,
      commits: [this.#pushCommit(after)],
      pusher: options.author,
      webUrl: this.github.webUrl,
    });
  }

  /** Commits the request on a new branch, pushes it, and opens the PR in the GitHub stand-in. */
  openRequestPr(input: OpenPrInput): ScenarioPullRequest {
    const record = this.github.repository(this.repository);
    const number = input.number ?? record.lastNumber + 1;
    const branch = input.branch ?? `elevate/request-${number}`;
    const baseSha = this.mainSha();
    const headSha = this.git.commitOnBranch(branch, input.files ?? {}, {
      message: input.title ?? `Request elevated access (#${number})`,
      author: loginIdentity(input.author),
      date: this.now(),
      from: `origin/${this.defaultBranch}`,
      ...(input.renames ? { renames: input.renames } : {}),
    });
    const maintainer = this.git.maintainer;
    const mergeBase = maintainer.git(["merge-base", `origin/${this.defaultBranch}`, headSha]).trim();
    this.github.openPullRequest(this.repository, {
      number,
      title: input.title ?? `Request elevated access (#${number})`,
      body: input.body ?? null,
      author: input.author,
      headRef: branch,
      headSha,
      baseRef: this.defaultBranch,
      baseSha,
      files: maintainer.changedFiles(mergeBase, headSha),
      commitShas: maintainer.commitsBetween(mergeBase, headSha),
      createdAt: this.now(),
    });
    const pr = new ScenarioPullRequest(this, number, branch, input.author);
    pr.updatePullRefs();
    return pr;
  }

  /** Records a review on the PR (default: on its current head). */
  approve(pr: ScenarioPullRequest, reviewer: string, options: { commitId?: string; body?: string } = {}): ReviewRecord {
    return pr.review(reviewer, "APPROVED", options);
  }

  /**
   * A clone at `envelope.sha`, as actions/checkout leaves GITHUB_WORKSPACE (full history,
   * notes fetched). Reused across calls, re-fetched each time.
   */
  checkoutWorkspace(envelope: Pick<EventEnvelope, "sha" | "ref">): string {
    if (!this.#workspace) this.#workspace = this.git.clone("workspace");
    const workspace = this.#workspace;
    workspace.git([
      "fetch",
      "-q",
      "--prune",
      "origin",
      "+refs/heads/*:refs/remotes/origin/*",
      "+refs/pull/*:refs/remotes/pull/*",
      "+refs/notes/*:refs/notes/*",
    ]);
    const branch = /^refs\/heads\/(.+)$/.exec(envelope.ref)?.[1];
    if (branch) workspace.git(["checkout", "-q", "--force", "-B", branch, envelope.sha]);
    else workspace.git(["checkout", "-q", "--force", "--detach", envelope.sha]);
    return workspace.dir;
  }

  #pushCommit(sha: string): PushCommit {
    const summary = this.git.maintainer.commitSummary(sha);
    const username = /^(.+)@users\.noreply\.github\.com$/.exec(summary.author.email)?.[1];
    return {
      sha,
      message: summary.message,
      timestamp: summary.timestamp,
      author: { ...summary.author, ...(username ? { username } : {}) },
      added: summary.added,
      removed: summary.removed,
      modified: summary.modified,
    };
  }

  /** @internal used by ScenarioPullRequest */
  pushCommits(shas: string[]): PushCommit[] {
    return shas.map((sha) => this.#pushCommit(sha));
  }

  dispose(): void {
    this.git.dispose();
  }
}

export class ScenarioPullRequest {
  constructor(
    readonly scenario: RequestScenario,
    readonly number: number,
    readonly branch: string,
    readonly author: string,
  ) {}

  get record(): PullRequestRecord {
    return this.scenario.github.pullRequest(this.scenario.repository, this.number);
  }

  get headSha(): string {
    return this.record.headSha;
  }

  /** Another commit on the PR branch; the PR's head and file list follow. */
  push(files: FileChanges, options: { message?: string; renames?: Record<string, string> } = {}): string {
    const { scenario } = this;
    const headSha = scenario.git.commitOnBranch(this.branch, files, {
      message: options.message ?? "Update request",
      author: loginIdentity(this.author),
      date: scenario.now(),
      ...(options.renames ? { renames: options.renames } : {}),
    });
    const maintainer = scenario.git.maintainer;
    const mergeBase = maintainer.git(["merge-base", `origin/${scenario.defaultBranch}`, headSha]).trim();
    scenario.github.pushToPullRequest(scenario.repository, this.number, {
      headSha,
      files: maintainer.changedFiles(mergeBase, headSha),
      commitShas: maintainer.commitsBetween(mergeBase, headSha),
    });
    this.updatePullRefs();
    return headSha;
  }

  review(
    reviewer: string,
    state: ReviewState,
    options: { commitId?: string; body?: string; submittedAt?: Date } = {},
  ): ReviewRecord {
    return this.scenario.github.addReview(this.scenario.repository, this.number, {
      user: reviewer,
      state,
      submittedAt: options.submittedAt ?? this.scenario.now(),
      ...(options.commitId ? { commitId: options.commitId } : {}),
      ...(options.body !== undefined ? { body: options.body } : {}),
    });
  }

  approve(reviewer: string, options: { commitId?: string; body?: string } = {}): ReviewRecord {
    return this.review(reviewer, "APPROVED", options);
  }

  /** The `pull_request` event for this PR now (checks run on refs/pull/N/merge). */
  pullRequestEvent(action: "opened" | "synchronize" | "reopened" | "edited" = "opened"): EventEnvelope {
    const { scenario } = this;
    let mergeSha: string | undefined;
    try {
      mergeSha = scenario.git.originSha(`refs/pull/${this.number}/merge`);
    } catch {
      mergeSha = undefined; // conflicting PR: GitHub has no test merge either
    }
    return pullRequestEvent({
      action,
      repository: scenario.webhookRepository(),
      pullRequest: scenario.github.pullRequestResource(scenario.repository, this.number),
      sender: this.author,
      webUrl: scenario.github.webUrl,
      ...(mergeSha ? { mergeSha } : {}),
    });
  }

  /** Merges with `method` in git and in the GitHub stand-in; returns the push it causes. */
  merge(method: MergeMethod, options: { mergedBy?: string; mergedAt?: Date } = {}): MergeOutcome {
    const { scenario } = this;
    const mergedBy = options.mergedBy ?? this.author;
    const mergedAt = options.mergedAt ?? scenario.now();
    const pull = this.record;
    const owner = scenario.repository.split("/")[0]!;
    const message =
      method === "merge"
        ? `Merge pull request #${this.number} from ${owner}/${this.branch}\n\n${pull.title}`
        : `${pull.title} (#${this.number})`;
    const result = scenario.git.mergeBranch(this.branch, scenario.defaultBranch, method, {
      message,
      committer: loginIdentity(mergedBy),
      date: mergedAt,
    });
    const pullRequest = scenario.github.mergePullRequest(scenario.repository, this.number, {
      mergeCommitSha: result.after,
      method,
      mergedAt,
      mergedBy,
      landedShas: result.landedShas,
    });
    const commits = scenario.pushCommits(result.landedShas);
    return {
      ...result,
      pullRequest,
      commits,
      pushEvent: pushEvent({
        repository: scenario.webhookRepository(),
        before: result.before,
        after: result.after,
        commits,
        pusher: mergedBy,
        webUrl: scenario.github.webUrl,
      }),
    };
  }

  /**
   * Keeps origin's refs/pull/N/head and refs/pull/N/merge like GitHub does. The test
   * merge is built without touching the work tree (merge-tree + commit-tree); a
   * conflicting PR has no merge ref, as on GitHub.
   */
  updatePullRefs(): void {
    const { scenario } = this;
    const maintainer = scenario.git.maintainer;
    const head = this.headSha;
    const base = scenario.mainSha();
    let mergeSha: string | null = null;
    try {
      const tree = maintainer.git(["merge-tree", "--write-tree", base, head]).split("\n")[0]!.trim();
      mergeSha = maintainer
        .git(["commit-tree", tree, "-p", base, "-p", head, "-m", `Merge ${head} into ${base}`])
        .trim();
    } catch {
      mergeSha = null;
    }
    maintainer.push(
      [`${head}:refs/pull/${this.number}/head`, ...(mergeSha ? [`${mergeSha}:refs/pull/${this.number}/merge`] : [])],
      { force: true },
    );
    if (!mergeSha) runGit(scenario.git.originDir, ["update-ref", "-d", `refs/pull/${this.number}/merge`]);
  }
}
