/**
 * A revoke run's housekeeping of open request PRs (stale windows, "requested"
 * notifications) and the publishing of its notifications. Errors here are warnings:
 * housekeeping never blocks revocation.
 */
import * as core from "@actions/core";
import type { SNSClient } from "@aws-sdk/client-sns";
import { git, readFileAt } from "../adapters/git.js";
import {
  closePullRequest,
  createComment,
  hasBotCommentWithMarker,
  listOpenPullRequests,
  listPullRequestFiles,
  type PullRequestInfo,
} from "../adapters/github.js";
import type { ElevateConfig } from "../domain/config.js";
import { formatIamTime } from "../domain/grant-policy.js";
import { mdEscape } from "../domain/markdown.js";
import type { ElevateEvent, NotificationRun } from "../domain/notifications.js";
import { readRequestFacts, staleRequestEnd } from "../domain/request-facts.js";
import { parseRequestPath } from "../domain/request-path.js";
import { requestedEvents } from "../domain/revoke-notifications.js";
import type { RequestedOutcome, RevokeReport, StaleOutcome } from "../domain/revoke-report.js";
import type { ActionContext } from "./action-context.js";
import { publishEvents } from "./notify.js";

/**
 * The hidden marker of the comment that says a PR's "requested" notification went
 * out. Only a bot's comment counts (hasBotCommentWithMarker).
 */
export const REQUESTED_MARKER = "<!-- elevate:requested-notified -->";

export function runOf(ctx: ActionContext): NotificationRun {
  return { id: ctx.run.id, attempt: ctx.run.attempt, url: ctx.run.url };
}

/** Publishes `events` (never throws: a failed publish is a warning) and counts them in the report. */
export async function publish(
  sns: SNSClient,
  config: ElevateConfig,
  events: readonly ElevateEvent[],
  report: Pick<RevokeReport, "notifications">,
): Promise<{ failed: string[] }> {
  const summary = await publishEvents(sns, config.aws.notifyTopicArn, events, (w) =>
    core.warning(w, { title: "Elevate: notification not sent" }),
  );
  report.notifications.published += summary.published.length;
  report.notifications.failed.push(...summary.failed);
  return summary;
}

/** The marker comment posted once a PR's "requested" notification is out. */
function requestedCommentBody(requestIds: readonly string[]): string {
  return [
    REQUESTED_MARKER,
    `Elevate announced this request (${requestIds.map(mdEscape).join(", ")}) to the notification topic, so approvers know it is waiting for review.`,
  ].join("\n");
}

/**
 * One pass over the open PRs into the default branch that add request files:
 *   - a PR whose every request's window (start + duration) has already closed can
 *     never be granted (grant refuses a closed window): it gets a comment and is closed;
 *   - on a scheduled run with a topic, a PR without the bot's marker comment gets its
 *     "requested" notification, then the marker (docs/notifications.md). The check job
 *     has no AWS access, so this is where "requested" is published.
 * Errors here are warnings: housekeeping never blocks revocation.
 */
export async function reviewOpenRequests(
  ctx: ActionContext,
  config: ElevateConfig,
  sns: SNSClient,
  now: Date,
  report: Pick<RevokeReport, "notifications">,
): Promise<{ stale: StaleOutcome[]; requested: RequestedOutcome[] }> {
  const stale: StaleOutcome[] = [];
  const requested: RequestedOutcome[] = [];
  const announce = ctx.eventName === "schedule" && config.aws.notifyTopicArn !== undefined;
  let pulls: PullRequestInfo[];
  try {
    pulls = (await listOpenPullRequests(ctx.octokit, ctx.repo)).filter((p) => p.baseRef === ctx.defaultBranch);
  } catch (error) {
    core.warning(`could not list open pull requests to find stale requests: ${(error as Error).message}`);
    return { stale, requested };
  }
  for (const pr of pulls) {
    let added: { path: string; id: string; text: string | undefined }[];
    try {
      const files = await listPullRequestFiles(ctx.octokit, ctx.repo, pr.number);
      const paths = files.filter((f) => f.status === "added" && parseRequestPath(f.filename).ok);
      if (paths.length === 0) continue;
      // GitHub keeps refs/pull/N/head on the base repository, also for PRs from forks.
      const localRef = `refs/elevate/pull/${pr.number}`;
      await git(ctx.workspace, ["fetch", "--quiet", "--no-tags", "origin", `+refs/pull/${pr.number}/head:${localRef}`]);
      added = [];
      for (const f of paths) {
        const parsed = parseRequestPath(f.filename);
        if (!parsed.ok) continue;
        added.push({
          path: f.filename,
          id: parsed.value.id,
          text: await readFileAt(ctx.workspace, localRef, f.filename),
        });
      }
    } catch (error) {
      const message = `could not handle PR #${pr.number}: ${(error as Error).message}`;
      core.warning(message, { title: "Elevate: open request" });
      stale.push({ pr: pr.number, file: "", requestId: "", windowClosedAt: "", status: "failed", message });
      continue;
    }
    const closed = await closeIfStale(ctx, pr, added, now);
    stale.push(...closed);
    // A PR whose every request is stale is not announced: it is being closed (or failed to be).
    if (closed.length > 0 || !announce) continue;
    requested.push(...(await announceRequest(ctx, config, sns, pr, added, now, report)));
  }
  return { stale, requested };
}

/** Closes `pr` when every request it adds has a window that already closed. */
async function closeIfStale(
  ctx: ActionContext,
  pr: PullRequestInfo,
  added: readonly { path: string; id: string; text: string | undefined }[],
  now: Date,
): Promise<StaleOutcome[]> {
  const stale: { file: string; requestId: string; end: Date }[] = [];
  for (const f of added) {
    const end = staleRequestEnd(f.text === undefined ? undefined : readRequestFacts(f.text), now);
    if (end) stale.push({ file: f.path, requestId: f.id, end });
  }
  // Only when every request of the PR is stale: closing a PR also drops its live requests.
  if (stale.length === 0 || stale.length !== added.length) return [];
  const outcome = (s: (typeof stale)[number], status: StaleOutcome["status"], message: string): StaleOutcome => ({
    pr: pr.number,
    file: s.file,
    requestId: s.requestId,
    windowClosedAt: formatIamTime(s.end),
    status,
    message,
  });
  if (ctx.inputs.dryRun) return stale.map((s) => outcome(s, "planned", "dry run: would close"));
  try {
    const lines = stale.map((s) => `- ${mdEscape(s.file)}: the requested window closed at ${formatIamTime(s.end)}.`);
    const body = [
      "### Elevate: request window has passed",
      "",
      ...lines,
      "",
      "A request whose window has closed can no longer be granted, so this PR is being closed. Open a new request with a later `start` (or none) if the access is still needed.",
    ].join("\n");
    await createComment(ctx.octokit, ctx.repo, pr.number, body);
    await closePullRequest(ctx.octokit, ctx.repo, pr.number);
    return stale.map((s) => outcome(s, "closed", `PR #${pr.number} closed`));
  } catch (error) {
    const message = `could not close stale PR #${pr.number}: ${(error as Error).message}`;
    core.warning(message, { title: "Elevate: stale request" });
    return [{ pr: pr.number, file: "", requestId: "", windowClosedAt: "", status: "failed", message }];
  }
}

/**
 * Publishes the "requested" notification of `pr` once: skipped when the bot's marker
 * comment is there; the marker is written only after every message of the PR was
 * published, so a failed publish is retried by the next run (at least once delivery).
 */
async function announceRequest(
  ctx: ActionContext,
  config: ElevateConfig,
  sns: SNSClient,
  pr: PullRequestInfo,
  added: readonly { path: string; id: string; text: string | undefined }[],
  now: Date,
  report: Pick<RevokeReport, "notifications">,
): Promise<RequestedOutcome[]> {
  const requestIds = added.map((f) => f.id);
  try {
    if (await hasBotCommentWithMarker(ctx.octokit, ctx.repo, pr.number, REQUESTED_MARKER)) return [];
  } catch (error) {
    const message = `could not read the comments of PR #${pr.number}: ${(error as Error).message}; its "requested" notification waits for the next run`;
    core.warning(message, { title: "Elevate: notification not sent" });
    return [{ pr: pr.number, requestIds, status: "failed", message }];
  }
  if (ctx.inputs.dryRun) return [{ pr: pr.number, requestIds, status: "planned", message: "dry run: would notify" }];
  const events = requestedEvents({
    config,
    pr,
    files: added,
    now,
    repository: `${ctx.repo.owner}/${ctx.repo.repo}`,
    run: runOf(ctx),
  });
  const { failed } = await publish(sns, config, events, report);
  if (failed.length > 0) {
    return [
      {
        pr: pr.number,
        requestIds,
        status: "failed",
        message: `${failed.length} of ${events.length} "requested" message(s) not published; the next run retries`,
      },
    ];
  }
  try {
    await createComment(ctx.octokit, ctx.repo, pr.number, requestedCommentBody(requestIds));
  } catch (error) {
    const message = `published, but the marker comment on PR #${pr.number} failed (${(error as Error).message}); the next run publishes again`;
    core.warning(message, { title: "Elevate: notification marker" });
    return [{ pr: pr.number, requestIds, status: "unmarked", message }];
  }
  return [{ pr: pr.number, requestIds, status: "notified", message: `published ${events.length} message(s)` }];
}
