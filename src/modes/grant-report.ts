/**
 * Grant mode, step 4: report what the run did. The evidence note on the merge
 * commit, one notification per outcome, the action's outputs, the job summary
 * and the PR comment. A failure to note or notify never undoes a grant.
 */
import * as core from "@actions/core";
import { createClients, type RoleSession } from "../adapters/aws.js";
import { appendNote, fetchNotes, pushNotes } from "../adapters/git.js";
import { createComment, type PullRequestInfo } from "../adapters/github.js";
import type { ElevateConfig } from "../domain/config.js";
import { roleKeyOf } from "../domain/grant-decision.js";
import {
  cliProfileSnippet,
  evidenceLine,
  type GrantEvidence,
  humanDuration,
  switchRoleUrl,
} from "../domain/grant-report.js";
import { mdEscape } from "../domain/markdown.js";
import type { ElevateEvent } from "../domain/notifications.js";
import { accessPortalUrl, type PlannedGrant, ssoProfileSnippet } from "../domain/permission-set-plan.js";
import type { ActionContext } from "./action-context.js";
import { grantRoleCredentials } from "./grant-act.js";
import { publishEvents } from "./notify.js";

export interface GrantOutcome {
  file: string;
  requestId: string;
  /** "waiting": an AWS-side approval gate was started (roles with awsApproval); the revoke run finishes it. */
  status: "granted" | "refused" | "failed" | "planned" | "waiting";
  message: string;
  plan?: PlannedGrant;
  executionId?: string;
  evidence?: GrantEvidence;
}

export interface GrantReport {
  outcomes: GrantOutcome[];
  /**
   * Request files changed in ways that grant nothing (edited, renamed); each
   * is also a "refused" outcome, so the run fails and the PR is told.
   */
  ignored: { file: string; why: string }[];
  pr?: PullRequestInfo;
  /** The config the run used, for reporting. */
  loadedConfig?: ElevateConfig;
  /** Approver-cap report lines per request id (who shortened the window, caps ignored and why). */
  capLines: Record<string, string[]>;
}

/** Evidence note on the merge commit; a failure here is reported, never undoes a grant. */
export async function recordEvidence(ctx: ActionContext, mergeSha: string, report: GrantReport): Promise<void> {
  const lines = report.outcomes.flatMap((o) => (o.evidence ? [evidenceLine(o.evidence)] : []));
  if (lines.length === 0) return;
  try {
    await fetchNotes(ctx.workspace);
    await appendNote(ctx.workspace, mergeSha, `${lines.join("\n")}\n`);
    await pushNotes(ctx.workspace);
  } catch (error) {
    core.warning(
      `could not write the evidence note on ${mergeSha.slice(0, 12)} (refs/notes/elevate): ${(error as Error).message}. The grant stands; the evidence is in this run's summary.`,
    );
  }
}

/**
 * One SNS message per grant outcome when the config names a topic. A failed
 * publish is a warning: notifications never undo or block a grant.
 */
export async function notify(
  ctx: ActionContext,
  config: ElevateConfig,
  report: GrantReport,
  pending: Promise<RoleSession | string> | undefined,
): Promise<void> {
  const topicArn = config.aws.notifyTopicArn;
  const outcomes = report.outcomes.filter(
    (o) => o.status === "granted" || o.status === "refused" || o.status === "failed",
  );
  if (!topicArn || outcomes.length === 0) return;
  // The grant role's session of the run; when everything was refused before AWS was
  // needed, one is opened now: security teams still want to hear of refusals.
  const credentials = await (pending ?? grantRoleCredentials(ctx, config));
  if (typeof credentials === "string") {
    core.warning(`refusals were not published to ${topicArn}: ${credentials}`);
    return;
  }
  const sns = createClients(config.aws.region, credentials).sns;
  const events: ElevateEvent[] = outcomes.map((o) => ({
    event: o.status === "granted" ? "granted" : "refused",
    occurredAt: ctx.now(),
    repository: `${ctx.repo.owner}/${ctx.repo.repo}`,
    requestId: o.requestId,
    file: o.file,
    ...(o.evidence?.requester ? { requester: o.evidence.requester } : {}),
    ...(o.plan?.kind === "role" ? { iamUser: o.plan.iamUser, roleArn: o.plan.roleArn } : {}),
    ...(o.plan?.kind === "permissionSet"
      ? {
          identityCenterUser: o.plan.identityCenterUser,
          permissionSetArn: o.plan.permissionSetArn,
          accountId: o.plan.accountId,
        }
      : {}),
    role: roleKeyOf(o.file),
    ...(o.plan && o.status === "granted"
      ? { window: { notBefore: new Date(o.plan.notBefore), notAfter: new Date(o.plan.notAfter) } }
      : {}),
    ...(o.evidence?.reason ? { reason: o.evidence.reason } : {}),
    ...(o.evidence?.ticket ? { ticket: o.evidence.ticket } : {}),
    ...(report.pr ? { pr: { number: report.pr.number, url: report.pr.htmlUrl } } : {}),
    ...(o.evidence?.approvals.length
      ? { approvals: o.evidence.approvals.map((a) => ({ login: a.login, reviewId: a.reviewId })) }
      : {}),
    ...(o.evidence?.cappedBy ? { cappedBy: o.evidence.cappedBy } : {}),
    ...(o.executionId ? { executionId: o.executionId } : {}),
    ...(o.status !== "granted" ? { detail: o.message } : {}),
    run: ctx.run,
  }));
  // A failure to notify is a warning: it never undoes or blocks a grant.
  await publishEvents(sns, topicArn, events, (message) => core.warning(message));
}

/**
 * A granted permission set on the PR: who may use which permission set in which
 * account until when, and how: the AWS access portal, or an `aws sso login`
 * profile (AWS CLI User Guide, "Configuring IAM Identity Center authentication").
 */
function permissionSetGrantedLines(
  o: GrantOutcome,
  plan: Extract<PlannedGrant, { kind: "permissionSet" }>,
  report: GrantReport,
  config: ElevateConfig,
): string[] {
  const ms = new Date(plan.notAfter).getTime() - new Date(plan.notBefore).getTime();
  const storeId = config.aws.identityCenter?.identityStoreId ?? "";
  const portal = accessPortalUrl(storeId);
  return [
    `**${o.requestId}**: granted. Identity Center user \`${plan.identityCenterUser}\` may use permission set \`${plan.permissionSetArn}\` in account \`${plan.accountId}\` from **${plan.notBefore}** until **${plan.notAfter}** (${humanDuration(ms)}); the assignment is deleted then.`,
    "",
    portal
      ? `- Console: sign in at the [AWS access portal](${portal}) and pick account \`${plan.accountId}\` (it appears once the assignment is provisioned)`
      : `- Console: sign in at your AWS access portal and pick account \`${plan.accountId}\``,
    `- Execution: \`${o.executionId ?? ""}\``,
    ...(report.capLines[o.requestId] ?? []),
    `- CLI profile (\`~/.aws/config\`), then \`aws sso login --profile elevate-${o.requestId}\`:`,
    "",
    "```ini",
    ssoProfileSnippet({
      profile: `elevate-${o.requestId}`,
      identityStoreId: storeId,
      region: config.aws.region,
      accountId: plan.accountId,
    }),
    "```",
    "",
  ];
}

export function grantCommentBody(report: GrantReport, config: ElevateConfig): string {
  const lines: string[] = ["### Elevate grant", ""];
  for (const o of report.outcomes) {
    if (o.status === "granted" && o.plan?.kind === "permissionSet") {
      lines.push(...permissionSetGrantedLines(o, o.plan, report, config));
    } else if (o.status === "granted" && o.plan?.kind === "role") {
      const ms = new Date(o.plan.notAfter).getTime() - new Date(o.plan.notBefore).getTime();
      const url = switchRoleUrl(o.plan.roleArn, `elevate-${o.requestId}`);
      lines.push(
        `**${o.requestId}**: granted. \`${o.plan.iamUser}\` may assume \`${o.plan.roleArn}\` from **${o.plan.notBefore}** until **${o.plan.notAfter}** (${humanDuration(ms)}).`,
        "",
        url ? `- Console: [switch role](${url}) (signed in as IAM user \`${o.plan.iamUser}\`)` : "",
        `- Execution: \`${o.executionId ?? ""}\``,
        ...(report.capLines[o.requestId] ?? []),
        "- CLI profile (`~/.aws/config`); the session name must be your IAM user name:",
        "",
        "```ini",
        cliProfileSnippet({
          profile: `elevate-${o.requestId}`,
          roleArn: o.plan.roleArn,
          iamUser: o.plan.iamUser,
          region: config.aws.region,
        }),
        "```",
        "",
      );
    } else if (o.status === "waiting") {
      lines.push(o.message, "");
    } else {
      // Refusals quote file names and request values: escaped, never Markdown.
      lines.push(`**${mdEscape(o.requestId)}**: ${o.status}. ${mdEscape(o.message)}`, "");
    }
  }
  // Changed (edited, renamed) requests are outcomes too; list only those that are not.
  for (const i of report.ignored) {
    if (!report.outcomes.some((o) => o.file === i.file)) lines.push(`${mdEscape(i.file)}: ${mdEscape(i.why)}`, "");
  }
  return lines.filter((l, idx, all) => !(l === "" && all[idx - 1] === "")).join("\n");
}

/** Reports a finished grant run: outputs, job summary and the PR comment. */
export async function reportGrant(ctx: ActionContext, config: ElevateConfig, report: GrantReport): Promise<void> {
  const ids = (s: GrantOutcome["status"]) => report.outcomes.filter((o) => o.status === s).map((o) => o.requestId);
  core.setOutput("request-ids", JSON.stringify(report.outcomes.map((o) => o.requestId)));
  core.setOutput("granted", JSON.stringify(ids("granted")));
  core.setOutput("refused", JSON.stringify([...ids("refused"), ...ids("failed")]));
  core.setOutput(
    "execution-ids",
    JSON.stringify(report.outcomes.flatMap((o) => (o.executionId ? [o.executionId] : []))),
  );
  const body = grantCommentBody(report, config);
  core.setOutput("summary", body);
  await core.summary.addRaw(body, true).write();
  if (report.pr && (report.outcomes.length > 0 || report.ignored.length > 0)) {
    try {
      await createComment(ctx.octokit, ctx.repo, report.pr.number, body);
    } catch (error) {
      throw new Error(
        `the grant result could not be posted on PR #${report.pr.number} (${(error as Error).message}); the grants above STAND and are in this run's summary`,
      );
    }
  }
}

export function grantFailed(report: GrantReport): boolean {
  return report.outcomes.some((o) => o.status === "refused" || o.status === "failed");
}
