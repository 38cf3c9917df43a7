/**
 * A local stand-in for the GitHub REST API and the Actions OIDC token endpoint.
 *
 * The real Octokit (from @actions/github) talks to it through GITHUB_API_URL, so the
 * action's GitHub adapter runs unmodified. It implements the endpoints the action uses,
 * with GitHub's shapes (see state.ts), pagination (`Link` headers, `per_page` default 30,
 * max 100: https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api),
 * token permissions (fine-grained names: contents, pull_requests, issues, members), the
 * read-only GITHUB_TOKEN of fork pull requests ("Automatic token authentication",
 * https://docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication),
 * and knobs for latency and injected failures. Every call is logged for assertions.
 *
 * Never imported by product code.
 */

import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  GitHubOidcIssuer,
  githubActionsClaims,
  type IssueOptions,
  stableId,
  type WorkflowRunIdentity,
} from "./oidc.js";
import { emptySettings, type RulesetRecord, renderBranchRules, renderRuleset } from "./settings.js";
import {
  type CodeownersErrorRecord,
  type CollaboratorRole,
  type IssueCommentRecord,
  type IssueRecord,
  type MergeMethod,
  type PullFileInput,
  type PullRequestRecord,
  type RepositoryRecord,
  type ReviewRecord,
  type ReviewState,
  renderCollaboratorPermission,
  renderIssue,
  renderIssueComment,
  renderPullFile,
  renderPullRequest,
  renderRepository,
  renderReview,
  renderUser,
  type TeamRecord,
  type UrlBases,
  type UserRecord,
} from "./state.js";

export type Permission = "contents" | "pullRequests" | "issues" | "members" | "metadata" | "administration" | "actions";
export type Access = "read" | "write";

/** What a registered token may do. */
export interface TokenGrant {
  /**
   * "installation": the workflow's GITHUB_TOKEN or a GitHub App token (acts as a bot,
   * cannot call GET /user); "user": a personal access token acting as `login`.
   */
  kind?: "installation" | "user";
  /** User tokens: the user. Installation tokens: the bot (default github-actions[bot]). */
  login?: string;
  permissions: Partial<Record<Permission, Access>>;
  /** "owner/repo" names the token can reach; default: every repository. */
  repositories?: string[];
  /**
   * The GITHUB_TOKEN of a workflow triggered from a fork: every write is refused with
   * 403 "Resource not accessible by integration", whatever `permissions` says.
   */
  readOnly?: boolean;
  /**
   * Status GitHub answers when the token lacks `members: read` on a team membership
   * lookup. Both are seen in practice (403 "Resource not accessible by integration" for
   * app tokens, 404 "Not Found" for others), and a 404 is indistinguishable from "not a
   * member": the product must not read either as a membership answer.
   */
  membershipDenialStatus?: 403 | 404;
  /** Name shown in the call log instead of the secret. */
  label?: string;
}

/**
 * The default GITHUB_TOKEN with the "permissive" setting. A GITHUB_TOKEN never carries
 * organization `members` permission, so it cannot read team membership.
 */
export const DEFAULT_GITHUB_TOKEN_PERMISSIONS: Readonly<Partial<Record<Permission, Access>>> = {
  contents: "write",
  pullRequests: "write",
  issues: "write",
  metadata: "read",
};

export const GITHUB_ACTIONS_BOT: UserRecord = { login: "github-actions[bot]", id: 41898282, type: "Bot" };

/** Route template of the Actions OIDC token endpoint (for failNext and the call log). */
export const OIDC_TOKEN_ROUTE = "GET /_apis/distributedtask/hubs/Actions/plans/{plan_id}/jobs/{job_id}/idtoken";

export interface GitHubSandboxOptions {
  /** Delay before every response, in milliseconds. */
  latencyMs?: number;
  /** Web base for html_url fields (GITHUB_SERVER_URL). */
  webUrl?: string;
  /** Clock for created_at/submitted_at defaults and OIDC iat. */
  now?: () => Date;
  issuer?: GitHubOidcIssuer;
}

export interface CallLogEntry {
  method: string;
  /** Octokit-style route template, e.g. "GET /repos/{owner}/{repo}/pulls/{pull_number}"; null if unmatched. */
  route: string | null;
  /** Path and query as requested. */
  path: string;
  status: number;
  /** Label of the token used (never the secret); null when unauthenticated or unknown. */
  token: string | null;
  /** Parsed JSON body of writes. */
  body?: unknown;
}

export interface InjectedFailure {
  status: number;
  message?: string;
  headers?: Record<string, string>;
  /** How many consecutive calls fail; default 1. */
  times?: number;
}

export interface OpenPullRequestInput {
  number?: number;
  title?: string;
  body?: string | null;
  author: string;
  headRef: string;
  headSha: string;
  baseRef?: string;
  baseSha: string;
  files: PullFileInput[];
  /** The PR's commits, oldest first; default [headSha]. */
  commitShas?: string[];
  draft?: boolean;
  /** "owner/repo" of a fork the head branch lives in (registered as a repository if new). */
  headRepository?: string;
  createdAt?: Date;
}

export interface AddReviewInput {
  user: string;
  state: ReviewState;
  /** Commit the review was made on; default the PR's current head. */
  commitId?: string;
  body?: string;
  submittedAt?: Date;
}

export interface MergePullRequestInput {
  mergeCommitSha: string;
  method: MergeMethod;
  mergedAt?: Date;
  mergedBy?: string;
  /** Commits the merge put on the base branch; default [mergeCommitSha]. */
  landedShas?: string[];
}

export interface OidcRequestConfig {
  /** ACTIONS_ID_TOKEN_REQUEST_URL (already has a query string, as the runner's does). */
  requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  requestToken: string;
}

export interface IssuedOidcToken {
  planId: string;
  audience: string | null;
  token: string;
}

interface ResolvedAuth {
  grant: TokenGrant;
  label: string;
  actor: UserRecord;
}

interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  auth: ResolvedAuth | null;
  url: URL;
  authorization: string | null;
}

interface RouteResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RouteDefinition {
  template: string;
  method: string;
  pattern: RegExp;
  keys: string[];
  /** GitHub's documentation_url for errors on this route. */
  docs: string;
  handler: (request: RouteRequest) => RouteResponse;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const NOT_ACCESSIBLE = "Resource not accessible by integration";
const COMMENT_BODY_LIMIT = 65536;

function compileTemplate(template: string): { method: string; pattern: RegExp; keys: string[] } {
  const [method, path] = template.split(" ") as [string, string];
  const keys: string[] = [];
  const source = path.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_match, key: string) => {
    keys.push(key);
    return "([^/]+)";
  });
  return { method, pattern: new RegExp(`^${source}$`), keys };
}

function positiveInt(value: string | null, name: string, fallback: number): number {
  if (value === null) return fallback;
  if (!/^\d+$/.test(value)) throw new ApiError(422, `Invalid value for ${name}: ${JSON.stringify(value)}`);
  return Number(value);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class GitHubSandbox {
  readonly issuer: GitHubOidcIssuer;
  latencyMs: number;
  readonly #webUrl: string;
  readonly #now: () => Date;
  readonly #server: Server;
  readonly #routes: RouteDefinition[] = [];
  readonly #repos = new Map<string, RepositoryRecord>();
  readonly #users = new Map<string, UserRecord>();
  readonly #teams = new Map<string, TeamRecord>();
  readonly #tokens = new Map<string, TokenGrant>();
  readonly #oidcRuns = new Map<string, { requestToken: string; run: WorkflowRunIdentity; options: IssueOptions }>();
  readonly #issuedOidc: IssuedOidcToken[] = [];
  readonly #failures = new Map<string, InjectedFailure[]>();
  readonly #calls: CallLogEntry[] = [];
  #nextId = 1_000_000;
  #url = "";

  private constructor(options: GitHubSandboxOptions) {
    this.issuer = options.issuer ?? new GitHubOidcIssuer();
    this.latencyMs = options.latencyMs ?? 0;
    this.#webUrl = options.webUrl ?? "https://github.com";
    this.#now = options.now ?? (() => new Date());
    this.#server = createServer((request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        response.writeHead(500, { "content-type": "application/json; charset=utf-8" });
        response.end(JSON.stringify({ message: `sandbox failure: ${String(error)}` }));
      });
    });
    // Tests block the event loop with synchronous git calls; a short keep-alive would let
    // the server close a pooled socket the client is about to reuse (ECONNRESET).
    this.#server.keepAliveTimeout = 120_000;
    this.#defineRoutes();
  }

  /** Starts a server on 127.0.0.1 and an ephemeral port. */
  static async start(options: GitHubSandboxOptions = {}): Promise<GitHubSandbox> {
    const sandbox = new GitHubSandbox(options);
    await new Promise<void>((resolve, reject) => {
      sandbox.#server.once("error", reject);
      sandbox.#server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = sandbox.#server.address() as AddressInfo;
    sandbox.#url = `http://127.0.0.1:${port}`;
    return sandbox;
  }

  /** GITHUB_API_URL for clients. */
  get url(): string {
    return this.#url;
  }

  /** GITHUB_SERVER_URL (html_url base). */
  get webUrl(): string {
    return this.#webUrl;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve, reject) => this.#server.close((error) => (error ? reject(error) : resolve())));
  }

  // ---------------------------------------------------------------- state API

  /** Gets or creates a user record with a stable id. */
  user(login: string): UserRecord {
    if (login === GITHUB_ACTIONS_BOT.login) return GITHUB_ACTIONS_BOT;
    let user = this.#users.get(login.toLowerCase());
    if (!user) {
      user = { login, id: stableId(`user:${login}`), type: login.endsWith("[bot]") ? "Bot" : "User" };
      this.#users.set(login.toLowerCase(), user);
    }
    return user;
  }

  createRepo(
    fullName: string,
    options: {
      id?: number;
      ownerId?: number;
      ownerType?: "Organization" | "User";
      visibility?: "public" | "private" | "internal";
      defaultBranch?: string;
    } = {},
  ): RepositoryRecord {
    const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(fullName);
    if (!match) throw new Error(`createRepo: repository must be "owner/name", got ${JSON.stringify(fullName)}`);
    if (this.#repos.has(fullName.toLowerCase())) throw new Error(`createRepo: ${fullName} already exists`);
    const ownerLogin = match[1]!;
    const owner: UserRecord = {
      login: ownerLogin,
      id: options.ownerId ?? stableId(ownerLogin),
      type: options.ownerType ?? "Organization",
    };
    this.#users.set(ownerLogin.toLowerCase(), owner);
    const repo: RepositoryRecord = {
      owner,
      name: match[2]!,
      fullName,
      id: options.id ?? stableId(fullName),
      visibility: options.visibility ?? "private",
      defaultBranch: options.defaultBranch ?? "main",
      createdAt: this.#now(),
      pulls: new Map(),
      issues: new Map(),
      comments: [],
      codeownersErrors: [],
      collaborators: new Map([[ownerLogin.toLowerCase(), "admin"]]),
      settings: emptySettings(),
      lastNumber: 0,
    };
    this.#repos.set(fullName.toLowerCase(), repo);
    return repo;
  }

  repository(fullName: string): RepositoryRecord {
    const repo = this.#repos.get(fullName.toLowerCase());
    if (!repo) throw new Error(`unknown repository ${fullName}; call createRepo first`);
    return repo;
  }

  openPullRequest(repository: string, input: OpenPullRequestInput): PullRequestRecord {
    const repo = this.repository(repository);
    const number = input.number ?? repo.lastNumber + 1;
    if (repo.pulls.has(number) || repo.issues.has(number)) {
      throw new Error(`openPullRequest: #${number} already exists in ${repository}`);
    }
    validateFiles(input.files, `openPullRequest #${number}`);
    const headRepository = input.headRepository ?? repo.fullName;
    if (!this.#repos.has(headRepository.toLowerCase())) this.createRepo(headRepository, { ownerType: "User" });
    const createdAt = input.createdAt ?? this.#now();
    const pull: PullRequestRecord = {
      number,
      id: this.#id(),
      title: input.title ?? `Pull request ${number}`,
      body: input.body ?? null,
      author: this.user(input.author),
      state: "open",
      draft: input.draft ?? false,
      headRef: input.headRef,
      headSha: input.headSha,
      headRepository,
      baseRef: input.baseRef ?? repo.defaultBranch,
      baseSha: input.baseSha,
      files: input.files.map((file) => ({ ...file })),
      commitShas: input.commitShas ?? [input.headSha],
      reviews: [],
      createdAt,
      updatedAt: createdAt,
      closedAt: null,
      mergedAt: null,
      mergeCommitSha: null,
      mergedBy: null,
      mergeMethod: null,
      landedShas: [],
    };
    repo.pulls.set(number, pull);
    repo.lastNumber = Math.max(repo.lastNumber, number);
    return pull;
  }

  pullRequest(repository: string, number: number): PullRequestRecord {
    const pull = this.repository(repository).pulls.get(number);
    if (!pull) throw new Error(`unknown pull request ${repository}#${number}`);
    return pull;
  }

  /** The REST resource of a pull request (also the `pull_request` object of webhook payloads). */
  pullRequestResource(
    repository: string,
    number: number,
  ): Record<string, unknown> & { number: number; head: { sha: string } } {
    const repo = this.repository(repository);
    const pull = this.pullRequest(repository, number);
    const headRepo = this.#repos.get(pull.headRepository.toLowerCase())!;
    return renderPullRequest(repo, pull, this.#urls, this.#association, headRepo, true) as Record<string, unknown> & {
      number: number;
      head: { sha: string };
    };
  }

  /** The REST resource of a repository (the `repository` object of webhook payloads). */
  repositoryResource(repository: string): Record<string, unknown> {
    return renderRepository(this.repository(repository), this.#urls);
  }

  /** A push to the PR branch: new head, new file list (reviews stay on their old commit). */
  pushToPullRequest(
    repository: string,
    number: number,
    update: { headSha: string; files: PullFileInput[]; commitShas?: string[] },
  ): PullRequestRecord {
    const pull = this.pullRequest(repository, number);
    validateFiles(update.files, `pushToPullRequest #${number}`);
    pull.headSha = update.headSha;
    pull.files = update.files.map((file) => ({ ...file }));
    pull.commitShas = update.commitShas ?? [...pull.commitShas, update.headSha];
    pull.updatedAt = this.#now();
    return pull;
  }

  addReview(repository: string, number: number, input: AddReviewInput): ReviewRecord {
    const pull = this.pullRequest(repository, number);
    const review: ReviewRecord = {
      id: this.#id(),
      user: this.user(input.user),
      body: input.body ?? "",
      state: input.state,
      commitId: input.commitId ?? pull.headSha,
      submittedAt: input.submittedAt ?? this.#now(),
    };
    pull.reviews.push(review);
    return review;
  }

  mergePullRequest(repository: string, number: number, input: MergePullRequestInput): PullRequestRecord {
    const pull = this.pullRequest(repository, number);
    if (pull.state !== "open") throw new Error(`mergePullRequest: ${repository}#${number} is not open`);
    const mergedAt = input.mergedAt ?? this.#now();
    pull.state = "closed";
    pull.mergedAt = mergedAt;
    pull.closedAt = mergedAt;
    pull.updatedAt = mergedAt;
    // For rebase merges GitHub reports the commit the base branch was updated to.
    pull.mergeCommitSha = input.mergeCommitSha;
    pull.mergeMethod = input.method;
    pull.mergedBy = this.user(input.mergedBy ?? pull.author.login);
    pull.landedShas = input.landedShas ?? [input.mergeCommitSha];
    return pull;
  }

  /** Creates an issue directly (e.g. a pre-existing drift report). */
  createIssue(repository: string, input: { title: string; body?: string; author: string; labels?: string[] }) {
    const repo = this.repository(repository);
    return this.#createIssue(repo, this.user(input.author), input.title, input.body ?? null, input.labels ?? [], []);
  }

  addTeam(org: string, slug: string, members: Array<string | { login: string; role: "member" | "maintainer" }>) {
    const team: TeamRecord = { org, slug, id: stableId(`team:${org}/${slug}`), members: new Map() };
    for (const member of members) {
      const { login, role } = typeof member === "string" ? { login: member, role: "member" as const } : member;
      team.members.set(this.user(login).login.toLowerCase(), role);
    }
    this.#teams.set(`${org}/${slug}`.toLowerCase(), team);
    return team;
  }

  /**
   * Sets `login`'s role on the repository (the highest from every source, as the
   * permission endpoint reports it); `null` removes every access.
   */
  setCollaborator(repository: string, login: string, role: CollaboratorRole | null): void {
    const repo = this.repository(repository);
    const key = this.user(login).login.toLowerCase();
    if (role === null) repo.collaborators.delete(key);
    else repo.collaborators.set(key, role);
  }

  setCodeownersErrors(repository: string, errors: CodeownersErrorRecord[]): void {
    this.repository(repository).codeownersErrors = errors.map((error) => ({ ...error }));
  }

  /** Registers a token; returns it. Without `token`, a random `ghs_…` value is made. */
  registerToken(grant: TokenGrant, token: string = `ghs_${randomBytes(18).toString("base64url")}`): string {
    if (grant.kind === "user" && !grant.login) throw new Error("registerToken: user tokens need a login");
    this.#tokens.set(token, grant);
    return token;
  }

  /** Comments, oldest first, optionally of one issue or pull request. */
  comments(repository: string, issueNumber?: number): IssueCommentRecord[] {
    const all = this.repository(repository).comments;
    return issueNumber === undefined ? [...all] : all.filter((comment) => comment.issueNumber === issueNumber);
  }

  issues(repository: string): IssueRecord[] {
    return [...this.repository(repository).issues.values()];
  }

  /**
   * Registers one workflow run's OIDC identity and returns what the runner would put in
   * ACTIONS_ID_TOKEN_REQUEST_URL / _TOKEN. Each call is a separate run with its own
   * request token, so a test can issue tokens "from a PR", "from another branch" …
   */
  registerOidcRun(run: WorkflowRunIdentity, options: Omit<IssueOptions, "audience"> = {}): OidcRequestConfig {
    const planId = randomUUID();
    const requestToken = randomBytes(24).toString("base64url");
    // The token's repository_id / repository_owner_id are the repository's own ids
    // (what GET /repos/OWNER/REPO returns), unless the test overrides them.
    const known = this.#repos.get(run.repository.toLowerCase());
    const identity: WorkflowRunIdentity = known
      ? {
          ...run,
          repositoryId: run.repositoryId ?? known.id,
          repositoryOwnerId: run.repositoryOwnerId ?? known.owner.id,
        }
      : run;
    this.#oidcRuns.set(planId, { requestToken, run: identity, options });
    return {
      requestUrl: `${this.#url}/_apis/distributedtask/hubs/Actions/plans/${planId}/jobs/${randomUUID()}/idtoken?api-version=2.0`,
      requestToken,
    };
  }

  /** Every OIDC token handed out, in order. */
  issuedOidcTokens(): IssuedOidcToken[] {
    return [...this.#issuedOidc];
  }

  // ------------------------------------------------------------------- knobs

  /**
   * Makes the next call(s) to `route` (an Octokit-style template such as
   * "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", or OIDC_TOKEN_ROUTE) fail.
   */
  failNext(route: string, status: number, options: Omit<InjectedFailure, "status"> = {}): void {
    if (!this.#routes.some((definition) => definition.template === route)) {
      throw new Error(`failNext: unknown route ${JSON.stringify(route)}; known: ${this.routes().join(", ")}`);
    }
    const queue = this.#failures.get(route) ?? [];
    queue.push({ status, ...options });
    this.#failures.set(route, queue);
  }

  /** The route templates this server implements. */
  routes(): string[] {
    return this.#routes.map((definition) => definition.template);
  }

  calls(): CallLogEntry[] {
    return [...this.#calls];
  }

  clearCalls(): void {
    this.#calls.length = 0;
  }

  // --------------------------------------------------------------- internals

  #id(): number {
    this.#nextId += 1;
    return this.#nextId;
  }

  get #urls(): UrlBases {
    return { api: this.#url, web: this.#webUrl };
  }

  #association = (repo: RepositoryRecord, user: UserRecord): string => {
    if (user.login.toLowerCase() === repo.owner.login.toLowerCase()) return "OWNER";
    if (user.type === "Bot") return "NONE";
    for (const team of this.#teams.values()) {
      if (team.org.toLowerCase() === repo.owner.login.toLowerCase() && team.members.has(user.login.toLowerCase())) {
        return "MEMBER";
      }
    }
    return "CONTRIBUTOR";
  };

  #createIssue(
    repo: RepositoryRecord,
    author: UserRecord,
    title: string,
    body: string | null,
    labels: string[],
    assignees: UserRecord[],
  ): IssueRecord {
    const now = this.#now();
    repo.lastNumber += 1;
    const issue: IssueRecord = {
      number: repo.lastNumber,
      id: this.#id(),
      title,
      body,
      author,
      labels,
      assignees,
      state: "open",
      createdAt: now,
      updatedAt: now,
    };
    repo.issues.set(issue.number, issue);
    return issue;
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", this.#url);
    const method = (request.method ?? "GET").toUpperCase();
    const raw = await readBody(request);
    if (this.latencyMs > 0) await sleep(this.latencyMs);

    const authorization = request.headers.authorization ?? null;
    let auth: ResolvedAuth | null = null;
    let tokenLabel: string | null = null;
    const logEntry: CallLogEntry = { method, route: null, path: url.pathname + url.search, status: 0, token: null };
    const send = (result: RouteResponse) => {
      logEntry.status = result.status;
      logEntry.token = tokenLabel;
      this.#calls.push(logEntry);
      response.writeHead(result.status, {
        "content-type": "application/json; charset=utf-8",
        "x-github-api-version-selected": "2022-11-28",
        "x-github-media-type": "github.v3; format=json",
        ...result.headers,
      });
      response.end(result.body === undefined ? "" : JSON.stringify(result.body));
    };

    const definition = this.#routes.find(
      (candidate) => candidate.method === method && candidate.pattern.test(url.pathname),
    );
    if (!definition) {
      send({ status: 404, body: { message: "Not Found", documentation_url: "https://docs.github.com/rest" } });
      return;
    }
    logEntry.route = definition.template;
    // Label the call with its token before anything can fail, so injected failures are attributed too.
    const presented = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization?.trim() ?? "")?.[1];
    const presentedGrant = presented !== undefined ? this.#tokens.get(presented) : undefined;
    if (presentedGrant) tokenLabel = labelOf(presentedGrant);
    const failure = this.#failures.get(definition.template)?.[0];
    if (failure) {
      failure.times = (failure.times ?? 1) - 1;
      if (failure.times <= 0) this.#failures.get(definition.template)!.shift();
      send({
        status: failure.status,
        headers: failure.headers ?? {},
        body: {
          message: failure.message ?? defaultMessage(failure.status),
          documentation_url: definition.docs,
          status: String(failure.status),
        },
      });
      return;
    }

    try {
      let body: unknown;
      if (raw.length > 0 && method !== "GET") {
        try {
          body = JSON.parse(raw);
        } catch {
          throw new ApiError(400, "Problems parsing JSON");
        }
        logEntry.body = body;
      }
      if (!definition.template.includes("/idtoken")) {
        const token = parseAuthorization(authorization);
        if (token !== null) {
          const grant = this.#tokens.get(token);
          if (!grant) throw new ApiError(401, "Bad credentials");
          tokenLabel = labelOf(grant);
          const actor =
            grant.kind === "user" ? this.user(grant.login!) : grant.login ? this.user(grant.login) : GITHUB_ACTIONS_BOT;
          auth = { grant, label: tokenLabel, actor };
        }
      }
      const match = definition.pattern.exec(url.pathname)!;
      const params: Record<string, string> = {};
      definition.keys.forEach((key, index) => {
        params[key] = decodeURIComponent(match[index + 1]!);
      });
      send(definition.handler({ params, query: url.searchParams, body, auth, url, authorization }));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      send({
        status: error.status,
        body: {
          message: error.message,
          documentation_url: definition.docs,
          status: String(error.status),
          ...error.extra,
        },
      });
    }
  }

  #route(template: string, docs: string, handler: (request: RouteRequest) => RouteResponse): void {
    this.#routes.push({ template, docs, handler, ...compileTemplate(template) });
  }

  /** Authenticated access to a repository with a permission, GitHub's way: 404 hides, 403 refuses. */
  #repoFor(request: RouteRequest, permission: Permission | Permission[], access: Access): RepositoryRecord {
    const auth = request.auth;
    if (!auth) throw new ApiError(401, "Requires authentication");
    const fullName = `${request.params.owner}/${request.params.repo}`;
    const repo = this.#repos.get(fullName.toLowerCase());
    const reachable = auth.grant.repositories?.some((name) => name.toLowerCase() === fullName.toLowerCase()) ?? true;
    if (!repo || !reachable) throw new ApiError(404, "Not Found");
    const permissions = Array.isArray(permission) ? permission : [permission];
    const allowed = permissions.some((name) => {
      const granted = auth.grant.permissions[name];
      if (access === "read") return granted === "read" || granted === "write";
      return granted === "write" && !auth.grant.readOnly;
    });
    if (!allowed) throw new ApiError(403, NOT_ACCESSIBLE);
    return repo;
  }

  #pullFor(repo: RepositoryRecord, request: RouteRequest): PullRequestRecord {
    const pull = repo.pulls.get(positiveInt(request.params.pull_number ?? null, "pull_number", 0));
    if (!pull) throw new ApiError(404, "Not Found");
    return pull;
  }

  #paginate<T>(request: RouteRequest, items: T[], render: (item: T) => unknown): RouteResponse {
    const perPage = Math.min(Math.max(positiveInt(request.query.get("per_page"), "per_page", 30), 1), 100);
    const page = Math.max(positiveInt(request.query.get("page"), "page", 1), 1);
    const lastPage = Math.max(Math.ceil(items.length / perPage), 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const pageUrl = (target: number) => {
      const url = new URL(request.url.toString());
      url.searchParams.set("page", String(target));
      if (request.query.has("per_page")) url.searchParams.set("per_page", String(perPage));
      return `<${url.toString()}>`;
    };
    // GitHub's Link header order: prev, next, last, first (each only when it applies).
    const links: string[] = [];
    if (page > 1) links.push(`${pageUrl(Math.min(page - 1, lastPage))}; rel="prev"`);
    if (page < lastPage) links.push(`${pageUrl(page + 1)}; rel="next"`, `${pageUrl(lastPage)}; rel="last"`);
    if (page > 1) links.push(`${pageUrl(1)}; rel="first"`);
    return { status: 200, body: slice.map(render), headers: links.length > 0 ? { link: links.join(", ") } : {} };
  }

  #defineRoutes(): void {
    const docs = (path: string) => `https://docs.github.com/rest/${path}`;

    this.#route("GET /repos/{owner}/{repo}", docs("repos/repos#get-a-repository"), (request) => {
      const repo = this.#repoFor(request, ["metadata", "contents", "pullRequests", "issues"], "read");
      return { status: 200, body: renderRepository(repo, this.#urls) };
    });

    this.#route("GET /repos/{owner}/{repo}/pulls", docs("pulls/pulls#list-pull-requests"), (request) => {
      const repo = this.#repoFor(request, "pullRequests", "read");
      const state = request.query.get("state") ?? "open";
      if (!["open", "closed", "all"].includes(state)) throw new ApiError(422, "Validation Failed");
      const head = request.query.get("head");
      const base = request.query.get("base");
      const direction = request.query.get("direction") ?? "desc";
      const pulls = [...repo.pulls.values()]
        .filter((pull) => state === "all" || pull.state === state)
        .filter((pull) => !base || pull.baseRef === base)
        .filter((pull) => {
          if (!head) return true;
          const [user, ref] = head.includes(":") ? head.split(":", 2) : [repo.owner.login, head];
          const headRepo = this.#repos.get(pull.headRepository.toLowerCase())!;
          return headRepo.owner.login.toLowerCase() === user!.toLowerCase() && pull.headRef === ref;
        })
        .sort(
          (a, b) =>
            (a.createdAt.getTime() - b.createdAt.getTime() || a.number - b.number) * (direction === "asc" ? 1 : -1),
        );
      return this.#paginate(request, pulls, (pull) =>
        renderPullRequest(
          repo,
          pull,
          this.#urls,
          this.#association,
          this.#repos.get(pull.headRepository.toLowerCase())!,
          false,
        ),
      );
    });

    this.#route("GET /repos/{owner}/{repo}/pulls/{pull_number}", docs("pulls/pulls#get-a-pull-request"), (request) => {
      const repo = this.#repoFor(request, "pullRequests", "read");
      const pull = this.#pullFor(repo, request);
      const headRepo = this.#repos.get(pull.headRepository.toLowerCase())!;
      return { status: 200, body: renderPullRequest(repo, pull, this.#urls, this.#association, headRepo, true) };
    });

    this.#route(
      "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
      docs("pulls/pulls#update-a-pull-request"),
      (request) => {
        const repo = this.#repoFor(request, "pullRequests", "write");
        const pull = this.#pullFor(repo, request);
        const body = objectBody(request.body);
        if (body.state !== undefined) {
          if (body.state !== "open" && body.state !== "closed") {
            throw validationFailed("PullRequest", "state", "invalid");
          }
          if (body.state === "open" && pull.mergedAt) {
            throw new ApiError(422, "Validation Failed", {
              errors: [
                {
                  resource: "PullRequest",
                  code: "custom",
                  message: "state cannot be changed. The pull request cannot be reopened since it was merged.",
                },
              ],
            });
          }
          pull.state = body.state;
          pull.closedAt = body.state === "closed" ? (pull.closedAt ?? this.#now()) : null;
        }
        if (typeof body.title === "string") pull.title = body.title;
        if (typeof body.body === "string" || body.body === null) pull.body = body.body;
        pull.updatedAt = this.#now();
        const headRepo = this.#repos.get(pull.headRepository.toLowerCase())!;
        return { status: 200, body: renderPullRequest(repo, pull, this.#urls, this.#association, headRepo, true) };
      },
    );

    // GitHub caps this list at 3000 files.
    this.#route(
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/files",
      docs("pulls/pulls#list-pull-requests-files"),
      (request) => {
        const repo = this.#repoFor(request, "pullRequests", "read");
        const pull = this.#pullFor(repo, request);
        return this.#paginate(request, pull.files.slice(0, 3000), (file) =>
          renderPullFile(repo, pull, file, this.#urls),
        );
      },
    );

    // Reviews come back in chronological order.
    this.#route(
      "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
      docs("pulls/reviews#list-reviews-for-a-pull-request"),
      (request) => {
        const repo = this.#repoFor(request, "pullRequests", "read");
        const pull = this.#pullFor(repo, request);
        return this.#paginate(request, pull.reviews, (review) =>
          renderReview(repo, pull, review, this.#urls, this.#association),
        );
      },
    );

    // "Lists the merged pull request that introduced the commit to the repository. If the
    // commit is not present in the default branch, will return merged and open pull
    // requests associated with the commit." (List pull requests associated with a commit)
    this.#route(
      "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
      docs("commits/commits#list-pull-requests-associated-with-a-commit"),
      (request) => {
        const repo = this.#repoFor(request, ["pullRequests", "contents"], "read");
        const sha = request.params.commit_sha!;
        const pulls = [...repo.pulls.values()];
        const landed = pulls.filter((pull) => pull.landedShas.includes(sha));
        const associated =
          landed.length > 0 ? landed : pulls.filter((pull) => pull.commitShas.includes(sha) || pull.headSha === sha);
        return this.#paginate(request, associated, (pull) =>
          renderPullRequest(
            repo,
            pull,
            this.#urls,
            this.#association,
            this.#repos.get(pull.headRepository.toLowerCase())!,
            false,
          ),
        );
      },
    );

    this.#route(
      "GET /repos/{owner}/{repo}/issues/{issue_number}/comments",
      docs("issues/comments#list-issue-comments"),
      (request) => {
        const repo = this.#repoFor(request, ["issues", "pullRequests"], "read");
        const number = this.#issueNumber(repo, request);
        const since = request.query.get("since");
        const comments = repo.comments
          .filter((comment) => comment.issueNumber === number)
          .filter((comment) => !since || comment.updatedAt.getTime() >= Date.parse(since));
        return this.#paginate(request, comments, (comment) =>
          renderIssueComment(repo, comment, this.#urls, this.#association),
        );
      },
    );

    this.#route(
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
      docs("issues/comments#create-an-issue-comment"),
      (request) => {
        const repo = this.#repoFor(request, ["issues", "pullRequests"], "write");
        const number = this.#issueNumber(repo, request);
        const text = commentBody(request.body);
        const now = this.#now();
        const comment: IssueCommentRecord = {
          id: this.#id(),
          repository: repo.fullName,
          issueNumber: number,
          author: request.auth!.actor,
          body: text,
          createdAt: now,
          updatedAt: now,
        };
        repo.comments.push(comment);
        const rendered = renderIssueComment(repo, comment, this.#urls, this.#association);
        return { status: 201, body: rendered, headers: { location: rendered.url } };
      },
    );

    this.#route(
      "PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}",
      docs("issues/comments#update-an-issue-comment"),
      (request) => {
        const repo = this.#repoFor(request, ["issues", "pullRequests"], "write");
        const id = positiveInt(request.params.comment_id ?? null, "comment_id", 0);
        const comment = repo.comments.find((candidate) => candidate.id === id);
        if (!comment) throw new ApiError(404, "Not Found");
        comment.body = commentBody(request.body);
        comment.updatedAt = this.#now();
        return { status: 200, body: renderIssueComment(repo, comment, this.#urls, this.#association) };
      },
    );

    this.#route("POST /repos/{owner}/{repo}/issues", docs("issues/issues#create-an-issue"), (request) => {
      const repo = this.#repoFor(request, "issues", "write");
      const body = objectBody(request.body);
      if (typeof body.title !== "string" || body.title.length === 0)
        throw validationFailed("Issue", "title", "missing_field");
      if (body.body !== undefined && body.body !== null && typeof body.body !== "string") {
        throw validationFailed("Issue", "body", "invalid");
      }
      if (typeof body.body === "string" && body.body.length > COMMENT_BODY_LIMIT) {
        throw validationFailed(
          "Issue",
          "body",
          "custom",
          `body is too long (maximum is ${COMMENT_BODY_LIMIT} characters)`,
        );
      }
      const labels = stringArray(body.labels, "labels");
      const assignees = stringArray(body.assignees, "assignees").map((login) => this.user(login));
      const issue = this.#createIssue(
        repo,
        request.auth!.actor,
        body.title,
        (body.body as string | undefined) ?? null,
        labels,
        assignees,
      );
      const rendered = renderIssue(repo, issue, this.#urls, this.#association);
      return { status: 201, body: rendered, headers: { location: rendered.url } };
    });

    // Fine-grained tokens need Metadata: read, which every installation token
    // (the GITHUB_TOKEN included) carries with any repository permission. An
    // unknown user is a 404; a known one without access gets "none".
    this.#route(
      "GET /repos/{owner}/{repo}/collaborators/{username}/permission",
      docs("collaborators/collaborators#get-repository-permissions-for-a-user"),
      (request) => {
        const repo = this.#repoFor(request, ["metadata", "contents", "pullRequests", "issues"], "read");
        const login = request.params.username!;
        const user = this.#users.get(login.toLowerCase());
        if (!user) throw new ApiError(404, `${login} is not a user`);
        const role = repo.collaborators.get(login.toLowerCase());
        return { status: 200, body: renderCollaboratorPermission(repo, user, role, this.#urls) };
      },
    );

    this.#route(
      "GET /repos/{owner}/{repo}/codeowners/errors",
      docs("repos/repos#list-codeowners-errors"),
      (request) => {
        const repo = this.#repoFor(request, ["contents", "metadata"], "read");
        return { status: 200, body: { errors: repo.codeownersErrors } };
      },
    );

    this.#route(
      "GET /repos/{owner}/{repo}/rules/branches/{branch}",
      docs("repos/rules#get-rules-for-a-branch"),
      (request) => {
        const repo = this.#repoFor(request, ["metadata", "contents", "pullRequests"], "read");
        return { status: 200, body: renderBranchRules(repo, repo.settings, request.params.branch ?? "") };
      },
    );

    this.#route(
      "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}",
      docs("repos/rules#get-a-repository-ruleset"),
      (request) => {
        const repo = this.#repoFor(request, ["metadata", "contents", "pullRequests"], "read");
        const id = positiveInt(request.params.ruleset_id ?? null, "ruleset_id", 0);
        const ruleset = repo.settings.rulesets.find((candidate: RulesetRecord) => candidate.id === id);
        if (!ruleset) throw new ApiError(404, "Not Found");
        const isAdmin = request.auth?.grant.permissions.administration === "write";
        return { status: 200, body: renderRuleset(repo, ruleset, isAdmin) };
      },
    );

    // "Get a reference" (ref without "refs/", e.g. "heads/main"; Octokit sends the
    // slash encoded). Branch refs are read from the repository's real git origin, so
    // the answer moves with every push, as GitHub's does.
    this.#route("GET /repos/{owner}/{repo}/git/ref/{ref}", docs("git/refs#get-a-reference"), (request) => {
      const repo = this.#repoFor(request, "contents", "read");
      const ref = request.params.ref ?? "";
      if (!repo.gitDir || !/^heads\/[^\0]+$/.test(ref)) throw new ApiError(404, "Not Found");
      let sha: string;
      try {
        sha = execFileSync("git", ["rev-parse", "--verify", "--quiet", `refs/${ref}^{commit}`], {
          cwd: repo.gitDir,
          encoding: "utf8",
        }).trim();
      } catch {
        throw new ApiError(404, "Not Found");
      }
      const api = `${this.url}/repos/${repo.fullName}`;
      return {
        status: 200,
        body: {
          ref: `refs/${ref}`,
          node_id: Buffer.from(`Ref:${repo.fullName}:refs/${ref}`).toString("base64"),
          url: `${api}/git/refs/${ref}`,
          object: { sha, type: "commit", url: `${api}/git/commits/${sha}` },
        },
      };
    });

    this.#route(
      "GET /repos/{owner}/{repo}/branches/{branch}/protection",
      docs("branches/branch-protection#get-branch-protection"),
      (request) => {
        const repo = this.#repoFor(request, "administration", "read");
        const protection = repo.settings.protection.get(request.params.branch ?? "");
        if (!protection) throw new ApiError(404, "Branch not protected");
        return { status: 200, body: protection };
      },
    );

    this.#route(
      "GET /repos/{owner}/{repo}/actions/oidc/customization/sub",
      docs("actions/oidc#get-the-customization-template-for-an-oidc-subject-claim-for-a-repository"),
      (request) => {
        const repo = this.#repoFor(request, ["actions", "administration"], "read");
        return { status: 200, body: repo.settings.oidcSubject };
      },
    );

    this.#route("GET /orgs/{org}/teams/{team_slug}", docs("teams/teams#get-a-team-by-name"), (request) => {
      const team = this.#teamFor(request);
      return { status: 200, body: this.#renderTeam(team) };
    });

    this.#route("GET /orgs/{org}/teams/{team_slug}/members", docs("teams/members#list-team-members"), (request) => {
      const team = this.#teamFor(request);
      const role = request.query.get("role") ?? "all";
      const logins = [...team.members.entries()].filter(([, memberRole]) => role === "all" || memberRole === role);
      return this.#paginate(request, logins, ([login]) => renderUser(this.user(login), this.#urls));
    });

    // 404 when the user is not a member: "To get a user's membership with a team … if the
    // user is not a member, the response is 404" (Get team membership for a user).
    this.#route(
      "GET /orgs/{org}/teams/{team_slug}/memberships/{username}",
      docs("teams/members#get-team-membership-for-a-user"),
      (request) => {
        const team = this.#teamFor(request);
        const login = request.params.username!.toLowerCase();
        const role = team.members.get(login);
        if (!role) throw new ApiError(404, "Not Found");
        return {
          status: 200,
          body: {
            url: `${this.#url}/organizations/${stableId(team.org)}/team/${team.id}/memberships/${request.params.username}`,
            role,
            state: "active",
          },
        };
      },
    );

    this.#route("GET /user", docs("users/users#get-the-authenticated-user"), (request) => {
      if (!request.auth) throw new ApiError(401, "Requires authentication");
      if (request.auth.grant.kind !== "user") throw new ApiError(403, NOT_ACCESSIBLE);
      const user = request.auth.actor;
      return {
        status: 200,
        body: {
          ...renderUser(user, this.#urls),
          name: null,
          company: null,
          blog: "",
          location: null,
          email: null,
          bio: null,
          public_repos: 0,
          followers: 0,
          following: 0,
          created_at: "2015-01-01T00:00:00Z",
          updated_at: "2025-01-01T00:00:00Z",
        },
      };
    });

    // The runner's OIDC endpoint (what core.getIDToken calls): bearer request token,
    // `audience` query parameter, answers {"count": n, "value": "<jwt>"}.
    this.#route(OIDC_TOKEN_ROUTE, "https://docs.github.com/actions/reference/security/oidc", (request) => {
      const registered = this.#oidcRuns.get(request.params.plan_id!);
      const bearer = /^Bearer (.+)$/i.exec(request.authorization ?? "")?.[1];
      if (!registered || bearer !== registered.requestToken) throw new ApiError(401, "Unauthorized");
      const audience = request.query.get("audience");
      const now = registered.options.now ?? this.#now();
      const claims = githubActionsClaims(registered.run, {
        ...registered.options,
        now,
        ...(audience !== null ? { audience } : {}),
      });
      const token = this.issuer.sign(claims);
      this.#issuedOidc.push({ planId: request.params.plan_id!, audience, token });
      return { status: 200, body: { count: this.#issuedOidc.length, value: token } };
    });

    this.#route(
      "GET /.well-known/openid-configuration",
      "https://docs.github.com/actions/reference/security/oidc",
      () => ({
        status: 200,
        body: this.issuer.openidConfiguration(),
      }),
    );
    this.#route("GET /.well-known/jwks", "https://docs.github.com/actions/reference/security/oidc", () => ({
      status: 200,
      body: this.issuer.jwks(),
    }));
  }

  #issueNumber(repo: RepositoryRecord, request: RouteRequest): number {
    const number = positiveInt(request.params.issue_number ?? null, "issue_number", 0);
    if (!repo.pulls.has(number) && !repo.issues.has(number)) throw new ApiError(404, "Not Found");
    return number;
  }

  /** Org-level team access needs the organization `members` permission. */
  #teamFor(request: RouteRequest): TeamRecord {
    const auth = request.auth;
    if (!auth) throw new ApiError(401, "Requires authentication");
    const permission = auth.grant.permissions.members;
    if (permission !== "read" && permission !== "write") {
      const status = auth.grant.membershipDenialStatus ?? 403;
      throw new ApiError(status, status === 403 ? NOT_ACCESSIBLE : "Not Found");
    }
    const team = this.#teams.get(`${request.params.org}/${request.params.team_slug}`.toLowerCase());
    if (!team) throw new ApiError(404, "Not Found");
    return team;
  }

  #renderTeam(team: TeamRecord): Record<string, unknown> {
    return {
      id: team.id,
      node_id: `T_${Buffer.from(`0:${team.id}`).toString("base64url")}`,
      url: `${this.#url}/organizations/${stableId(team.org)}/team/${team.id}`,
      html_url: `${this.#webUrl}/orgs/${team.org}/teams/${team.slug}`,
      name: team.slug,
      slug: team.slug,
      description: null,
      privacy: "closed",
      notification_setting: "notifications_enabled",
      permission: "pull",
      members_url: `${this.#url}/organizations/${stableId(team.org)}/team/${team.id}/members{/member}`,
      repositories_url: `${this.#url}/organizations/${stableId(team.org)}/team/${team.id}/repos`,
      parent: null,
      members_count: team.members.size,
    };
  }
}

function labelOf(grant: TokenGrant): string {
  return grant.label ?? `${grant.kind ?? "installation"}:${grant.login ?? GITHUB_ACTIONS_BOT.login}`;
}

function parseAuthorization(header: string | null): string | null {
  if (header === null) return null;
  // GitHub accepts both schemes for tokens ("Authenticating to the REST API").
  const match = /^(?:token|bearer)\s+(\S+)$/i.exec(header.trim());
  if (!match) throw new ApiError(401, "Bad credentials");
  return match[1]!;
}

function defaultMessage(status: number): string {
  if (status === 401) return "Bad credentials";
  if (status === 403) return "API rate limit exceeded for installation.";
  if (status === 404) return "Not Found";
  if (status === 422) return "Validation Failed";
  if (status === 429) return "You have exceeded a secondary rate limit.";
  if (status >= 500) return "Server Error";
  return "Error";
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "Problems parsing JSON");
  }
  return body as Record<string, unknown>;
}

function validationFailed(resource: string, field: string, code: string, message?: string): ApiError {
  return new ApiError(422, "Validation Failed", {
    errors: [{ resource, field, code, ...(message ? { message } : {}) }],
  });
}

function commentBody(body: unknown): string {
  const text = objectBody(body).body;
  if (typeof text !== "string" || text.length === 0) throw validationFailed("IssueComment", "body", "missing_field");
  if (text.length > COMMENT_BODY_LIMIT) {
    throw validationFailed(
      "IssueComment",
      "body",
      "custom",
      `body is too long (maximum is ${COMMENT_BODY_LIMIT} characters)`,
    );
  }
  return text;
}

function stringArray(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
    throw validationFailed("Issue", field, "invalid");
  }
  return value as string[];
}

function validateFiles(files: PullFileInput[], where: string): void {
  for (const file of files) {
    if ((file.status === "renamed" || file.status === "copied") && !file.previousFilename) {
      throw new Error(`${where}: ${file.filename} is ${file.status} but has no previousFilename`);
    }
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
