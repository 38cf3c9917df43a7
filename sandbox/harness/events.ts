/**
 * Event payloads as the runner writes them to GITHUB_EVENT_PATH: the webhook payload of
 * the triggering event. Shapes follow "Webhook events and payloads"
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads) and "Events that
 * trigger workflows" (https://docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-runs/events-that-trigger-workflows).
 */
import { stableId } from "../github/oidc.js";

export interface WebhookUser {
  login: string;
  id: number;
  type: "User" | "Bot" | "Organization";
  [field: string]: unknown;
}

export interface WebhookRepository {
  id: number;
  name: string;
  full_name: string;
  private: boolean;
  visibility: "public" | "private" | "internal";
  owner: WebhookUser;
  default_branch: string;
  html_url: string;
  url: string;
  [field: string]: unknown;
}

export interface EventEnvelope {
  eventName: "push" | "pull_request" | "pull_request_target" | "schedule" | "workflow_dispatch";
  /** GITHUB_REF for the run. */
  ref: string;
  /** GITHUB_SHA for the run. */
  sha: string;
  payload: Record<string, unknown>;
}

export function webhookUser(
  login: string,
  type: WebhookUser["type"] = "User",
  webUrl = "https://github.com",
): WebhookUser {
  const id = login === "github-actions[bot]" ? 41898282 : stableId(type === "Organization" ? login : `user:${login}`);
  return {
    login,
    id,
    node_id: `${type === "Organization" ? "O" : "U"}_${Buffer.from(`0:${id}`).toString("base64url")}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    html_url: `${webUrl}/${login}`,
    type,
    site_admin: false,
  };
}

/** A repository object for payloads; ids match the GitHub stand-in's defaults (stableId). */
export function webhookRepository(
  fullName: string,
  options: {
    id?: number;
    defaultBranch?: string;
    visibility?: WebhookRepository["visibility"];
    ownerType?: "Organization" | "User";
    apiUrl?: string;
    webUrl?: string;
  } = {},
): WebhookRepository {
  const [owner, name] = fullName.split("/") as [string, string];
  if (!owner || !name) throw new Error(`repository must be "owner/name", got ${JSON.stringify(fullName)}`);
  const webUrl = options.webUrl ?? "https://github.com";
  const visibility = options.visibility ?? "private";
  return {
    id: options.id ?? stableId(fullName),
    name,
    full_name: fullName,
    private: visibility !== "public",
    visibility,
    owner: webhookUser(owner, options.ownerType ?? "Organization", webUrl),
    default_branch: options.defaultBranch ?? "main",
    master_branch: options.defaultBranch ?? "main",
    html_url: `${webUrl}/${fullName}`,
    url: `${options.apiUrl ?? "https://api.github.com"}/repos/${fullName}`,
    fork: false,
  };
}

export interface PushCommit {
  sha: string;
  message: string;
  timestamp: string;
  author: { name: string; email: string; username?: string };
  added: string[];
  removed: string[];
  modified: string[];
}

/** A `push` event (webhook "push"). `commits` is capped at 20 like GitHub's payload. */
export function pushEvent(input: {
  repository: WebhookRepository;
  ref?: string;
  before: string;
  after: string;
  commits: PushCommit[];
  pusher: string;
  forced?: boolean;
  webUrl?: string;
}): EventEnvelope {
  const webUrl = input.webUrl ?? "https://github.com";
  const ref = input.ref ?? `refs/heads/${input.repository.default_branch}`;
  const render = (commit: PushCommit) => ({
    id: commit.sha,
    tree_id: null,
    distinct: true,
    message: commit.message,
    timestamp: commit.timestamp,
    url: `${webUrl}/${input.repository.full_name}/commit/${commit.sha}`,
    author: commit.author,
    committer: { name: "GitHub", email: "noreply@github.com", username: "web-flow" },
    added: commit.added,
    removed: commit.removed,
    modified: commit.modified,
  });
  const head = input.commits.at(-1);
  const zeros = /^0+$/;
  return {
    eventName: "push",
    ref,
    sha: input.after,
    payload: {
      ref,
      before: input.before,
      after: input.after,
      repository: input.repository,
      pusher: { name: input.pusher, email: `${input.pusher}@users.noreply.github.com` },
      sender: webhookUser(input.pusher, "User", webUrl),
      ...(input.repository.owner.type === "Organization" ? { organization: input.repository.owner } : {}),
      created: zeros.test(input.before),
      deleted: zeros.test(input.after),
      forced: input.forced ?? false,
      base_ref: null,
      compare: `${webUrl}/${input.repository.full_name}/compare/${input.before.slice(0, 12)}...${input.after.slice(0, 12)}`,
      commits: input.commits.slice(-20).map(render),
      head_commit: head ? render(head) : null,
    },
  };
}

/**
 * A `pull_request` event. `pullRequest` is the REST pull request resource (the webhook
 * embeds the same object); take it from GitHubSandbox.pullRequestResource.
 * GITHUB_REF is refs/pull/N/merge and GITHUB_SHA the test-merge commit, which the
 * caller passes as `mergeSha` (default the head SHA, when no test merge exists).
 */
export function pullRequestEvent(input: {
  action: "opened" | "synchronize" | "reopened" | "edited" | "closed" | "ready_for_review";
  repository: WebhookRepository;
  pullRequest: Record<string, unknown> & { number: number; head: { sha: string } };
  sender: string;
  mergeSha?: string;
  before?: string;
  eventName?: "pull_request" | "pull_request_target";
  webUrl?: string;
}): EventEnvelope {
  const number = input.pullRequest.number;
  const eventName = input.eventName ?? "pull_request";
  const base = (input.pullRequest.base as { ref?: string; sha?: string } | undefined) ?? {};
  return {
    eventName,
    // pull_request_target runs on the base branch; pull_request on the test merge ref.
    ref:
      eventName === "pull_request_target"
        ? `refs/heads/${base.ref ?? input.repository.default_branch}`
        : `refs/pull/${number}/merge`,
    sha:
      eventName === "pull_request_target"
        ? (base.sha ?? input.pullRequest.head.sha)
        : (input.mergeSha ?? input.pullRequest.head.sha),
    payload: {
      action: input.action,
      number,
      pull_request: input.pullRequest,
      repository: input.repository,
      sender: webhookUser(input.sender, "User", input.webUrl),
      ...(input.repository.owner.type === "Organization" ? { organization: input.repository.owner } : {}),
      ...(input.action === "synchronize" && input.before
        ? { before: input.before, after: input.pullRequest.head.sha }
        : {}),
    },
  };
}

/** A `schedule` event: the payload carries the cron expression that fired. */
export function scheduleEvent(input: { repository: WebhookRepository; cron: string; sha: string }): EventEnvelope {
  return {
    eventName: "schedule",
    ref: `refs/heads/${input.repository.default_branch}`,
    sha: input.sha,
    payload: {
      schedule: input.cron,
      repository: input.repository,
      ...(input.repository.owner.type === "Organization" ? { organization: input.repository.owner } : {}),
    },
  };
}

/** A `workflow_dispatch` event; `inputs` are strings as the runner delivers them. */
export function workflowDispatchEvent(input: {
  repository: WebhookRepository;
  sender: string;
  sha: string;
  workflowPath: string;
  inputs?: Record<string, string>;
  ref?: string;
  webUrl?: string;
}): EventEnvelope {
  const ref = input.ref ?? `refs/heads/${input.repository.default_branch}`;
  return {
    eventName: "workflow_dispatch",
    ref,
    sha: input.sha,
    payload: {
      inputs: input.inputs ?? null,
      ref,
      repository: input.repository,
      ...(input.repository.owner.type === "Organization" ? { organization: input.repository.owner } : {}),
      sender: webhookUser(input.sender, "User", input.webUrl),
      workflow: input.workflowPath,
    },
  };
}
