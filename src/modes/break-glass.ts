import * as core from "@actions/core";
import type { SNSClient } from "@aws-sdk/client-sns";
import {
  type AutomationResult,
  automationClientToken,
  createClients,
  openRoleSession,
  sessionSecondsFor,
  startAutomation,
  waitForAutomation,
} from "../adapters/aws.js";
import { describeAwsError } from "../adapters/aws-errors.js";
import { appendNote, fetchNotes, git, pushNotes } from "../adapters/git.js";
import { statusOf } from "../adapters/github.js";
import {
  authorizeBreakGlass,
  type BreakGlassEvidence,
  type BreakGlassPlan,
  breakGlassIssue,
  breakGlassRequestId,
} from "../domain/break-glass.js";
import { ceilingRefusal } from "../domain/ceiling.js";
import { formatOwner } from "../domain/codeowners.js";
import type { ElevateConfig } from "../domain/config.js";
import { mdEscape } from "../domain/markdown.js";
import type { ElevateEvent, NotificationRun } from "../domain/notifications.js";
import { REQUESTS_DIR } from "../domain/request-path.js";
import { loadActionConfig } from "./action-config.js";
import type { ActionContext } from "./action-context.js";
import { grantRunbookParameters, readGrantCeiling } from "./grant.js";
import { publishEvents } from "./notify.js";
import { loadCodeownersAt, ownersFor } from "./pr-review.js";

export interface BreakGlassReport {
  status: "granted" | "refused" | "failed" | "planned";
  /** One line for people: what happened, or why not. */
  message: string;
  /** `breakglass-<run id>`. */
  requestId: string;
  requester: string;
  plan?: BreakGlassPlan;
  executionId?: string;
  issue?: { number: number; url: string };
  /** Set when the grant stands but its review issue could not be opened (the run fails so someone looks). */
  issueError?: string;
  evidence?: BreakGlassEvidence;
  config?: ElevateConfig;
}

/** The dispatch inputs of elevate-breakglass.yml, read from the event payload. */
function dispatchInput(ctx: ActionContext, name: string): string | undefined {
  const inputs = ctx.payload.inputs;
  if (inputs === null || typeof inputs !== "object") return undefined;
  const value = (inputs as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

export async function runBreakGlass(ctx: ActionContext): Promise<BreakGlassReport> {
  if (ctx.eventName !== "workflow_dispatch") {
    throw new Error(
      `break-glass runs on 'workflow_dispatch' of elevate-breakglass.yml; this run was '${ctx.eventName}'`,
    );
  }
  if (ctx.ref !== `refs/heads/${ctx.defaultBranch}`) {
    throw new Error(
      `break-glass runs only from ${ctx.defaultBranch} (the config and the workflow there are the reviewed ones); this run is for ${ctx.ref}`,
    );
  }
  // sender: the user who dispatched (webhook "workflow_dispatch"); a bot login ("x[bot]") is no GitHub user login.
  const sender = ctx.payload.sender as { login?: unknown } | undefined;
  const actor = typeof sender?.login === "string" ? sender.login : "";
  const requestId = breakGlassRequestId(ctx.run.id);
  const config = await loadActionConfig(ctx, "nothing was granted");
  const now = ctx.now();

  const authorized = authorizeBreakGlass({
    config,
    actor,
    role: dispatchInput(ctx, "role"),
    duration: dispatchInput(ctx, "duration"),
    reason: dispatchInput(ctx, "reason"),
    ticket: dispatchInput(ctx, "ticket"),
    runId: ctx.run.id,
    runAttempt: ctx.run.attempt,
    now,
  });
  const base = { requestId, requester: actor, config };
  if (!authorized.ok) {
    for (const e of authorized.errors) core.error(e, { title: "Elevate: break-glass refused" });
    const report: BreakGlassReport = {
      ...base,
      status: "refused",
      message: `break-glass refused for ${actor || "an unknown dispatcher"}: ${authorized.errors.join("; ")}`,
    };
    // Nothing was granted and nothing is written: a refusal is reported in the run only.
    // It is not published either: notifying needs the grant role, and a refused
    // dispatcher gets no AWS call made on their behalf.
    return report;
  }
  const plan = authorized.plan;
  // Request ids are unique across requests/; a request file with this id would share the policy name.
  const clash = (await git(ctx.workspace, ["ls-files", "--", REQUESTS_DIR]))
    .split("\n")
    .filter((p) => new RegExp(`^requests/[^/]+/${requestId}\\.ya?ml$`).test(p));
  if (clash.length > 0) {
    const why = `${clash.join(", ")} already uses the request id ${requestId} (the grant policy would be shared); rename that request`;
    core.error(why, { title: "Elevate: break-glass refused" });
    return { ...base, status: "refused", message: why };
  }
  if (ctx.inputs.dryRun) {
    return {
      ...base,
      status: "planned",
      plan,
      message: `dry run: would grant ${plan.grant.roleArn} to ${plan.iamUser} from ${plan.grant.notBefore} until ${plan.grant.notAfter}`,
    };
  }

  const runInfo: NotificationRun = { id: ctx.run.id, attempt: ctx.run.attempt, url: ctx.run.url };
  const evidence: BreakGlassEvidence = {
    schema: "elevate.breakglass/v1",
    event: "granted",
    requestId,
    requester: plan.requester,
    iamUser: plan.iamUser,
    role: plan.role,
    roleArn: plan.grant.roleArn,
    reason: plan.reason,
    ...(plan.ticket ? { ticket: plan.ticket } : {}),
    commit: ctx.sha,
    window: { notBefore: plan.grant.notBefore, notAfter: plan.grant.notAfter },
    run: runInfo,
    recordedAt: now.toISOString(),
  };

  // AWS: OIDC for the grant role (its trust admits elevate-breakglass.yml on main), then the runbook.
  const credentials = await openRoleSession({
    region: config.aws.region,
    roleArn: config.aws.grantRoleArn,
    durationSeconds: sessionSecondsFor(ctx.inputs.timeoutSeconds),
    webIdentityToken: () => ctx.getIdToken("sts.amazonaws.com"),
    sessionName: `elevate-breakglass-${ctx.run.id}`.slice(0, 64),
    onShortSession: (message) => core.warning(message, { title: "Elevate: short AWS session" }),
  });
  const { ssm, sns } = createClients(config.aws.region, credentials);
  // The stack's ceiling: a role or window it would refuse is refused here, naming
  // the stack parameter, instead of starting a runbook that fails.
  const ceiling = await readGrantCeiling(config, credentials);
  if (!ceiling.ok) core.warning(`the stack's grant ceiling could not be checked before starting: ${ceiling.message}`);
  const beyond = ceiling.ok ? ceilingRefusal(ceiling.ceiling, plan.grant, plan.role) : undefined;
  if (beyond) {
    core.error(beyond, { title: "Elevate: not allowed by the AWS stack" });
    evidence.event = "refused";
    evidence.refusal = beyond;
    await recordEvidence(ctx, evidence);
    await notify(sns, config, ctx, plan, evidence, "refused", beyond);
    return { ...base, status: "refused", plan, message: beyond, evidence };
  }
  let result: AutomationResult;
  try {
    const executionId = await startAutomation(ssm, {
      documentName: config.aws.grantDocument,
      parameters: grantRunbookParameters(config, plan.grant),
      // One execution per run attempt (re-runs are refused above, so one per dispatch).
      clientToken: automationClientToken("breakglass", ctx.run.id, ctx.run.attempt),
    });
    core.info(`${requestId}: started ${config.aws.grantDocument} execution ${executionId}`);
    result = await waitForAutomation(ssm, executionId, { timeoutMs: ctx.inputs.timeoutSeconds * 1000 });
  } catch (error) {
    const why = `could not start the grant runbook: ${describeAwsError(error)}`;
    core.error(why, { title: "Elevate: break-glass failed" });
    evidence.event = "refused";
    evidence.refusal = why;
    await recordEvidence(ctx, evidence);
    await notify(sns, config, ctx, plan, evidence, "refused", why);
    return { ...base, status: "failed", plan, message: why, evidence };
  }
  evidence.execution = { id: result.executionId, status: result.status };
  if (!result.succeeded) {
    const why = `automation ${result.executionId} ended ${result.status}${result.failureMessage ? `: ${result.failureMessage}` : ""}`;
    core.error(why, { title: "Elevate: break-glass failed" });
    evidence.event = "refused";
    evidence.refusal = why;
    await recordEvidence(ctx, evidence);
    await notify(sns, config, ctx, plan, evidence, "refused", why);
    return { ...base, status: "failed", plan, executionId: result.executionId, message: why, evidence };
  }

  const report: BreakGlassReport = {
    ...base,
    status: "granted",
    plan,
    executionId: result.executionId,
    evidence,
    message: `granted ${plan.grant.roleArn} to ${plan.iamUser} from ${plan.grant.notBefore} until ${plan.grant.notAfter} (break-glass, no prior review)`,
  };
  try {
    report.issue = await openReviewIssue(ctx, plan, result.executionId);
    evidence.issue = report.issue;
  } catch (error) {
    report.issueError = `the after-the-fact review issue could not be opened (${(error as Error).message}); the grant STANDS: open an issue for the code owners of requests/${plan.role}/ by hand`;
    core.error(report.issueError, { title: "Elevate: break-glass review issue missing" });
  }
  await recordEvidence(ctx, evidence);
  await notify(sns, config, ctx, plan, evidence, "granted");
  return report;
}

/** Opens the review issue, assigned to the user code owners of requests/<role>/ (teams are @-mentioned). */
async function openReviewIssue(
  ctx: ActionContext,
  plan: BreakGlassPlan,
  executionId: string,
): Promise<{ number: number; url: string }> {
  const codeowners = await loadCodeownersAt(ctx.workspace, ctx.sha);
  // The owners a request of this id would have: the last matching CODEOWNERS line for its path.
  const { owners } = ownersFor(codeowners, `${REQUESTS_DIR}/${plan.role}/${plan.requestId}.yaml`);
  const issue = breakGlassIssue({
    plan,
    roleArn: plan.grant.roleArn,
    executionId,
    runUrl: ctx.run.url,
    owners: owners.map(formatOwner),
    commit: ctx.sha,
  });
  const create = (assignees: string[]) =>
    ctx.octokit.request("POST /repos/{owner}/{repo}/issues", {
      ...ctx.repo,
      title: issue.title,
      body: issue.body,
      assignees,
    });
  try {
    const { data } = await create(issue.assignees);
    return { number: data.number, url: data.html_url };
  } catch (error) {
    // An owner who cannot be assigned (no access to the repository) fails the whole call
    // with 422 (REST API, "Create an issue"); the @-mentions in the body still reach them.
    if (statusOf(error) !== 422 || issue.assignees.length === 0) throw error;
    core.warning(
      `could not assign ${issue.assignees.map((a) => `@${a}`).join(", ")} to the break-glass issue (${(error as Error).message}); opened it unassigned`,
    );
    const { data } = await create([]);
    return { number: data.number, url: data.html_url };
  }
}

/** The evidence note on the commit the workflow ran at; a failure is reported, never undoes the grant. */
async function recordEvidence(ctx: ActionContext, evidence: BreakGlassEvidence): Promise<void> {
  try {
    await fetchNotes(ctx.workspace);
    await appendNote(ctx.workspace, ctx.sha, `${JSON.stringify(evidence)}\n`);
    await pushNotes(ctx.workspace);
  } catch (error) {
    core.warning(
      `could not write the break-glass evidence note on ${ctx.sha.slice(0, 12)} (refs/notes/elevate): ${(error as Error).message}. The grant stands; the evidence is in this run's summary and the review issue. Until the note exists, the scheduled revoke may treat the grant as drift.`,
    );
  }
}

async function notify(
  sns: SNSClient,
  config: ElevateConfig,
  ctx: ActionContext,
  plan: BreakGlassPlan,
  evidence: BreakGlassEvidence,
  event: "granted" | "refused",
  detail?: string,
): Promise<void> {
  const message: ElevateEvent = {
    event,
    occurredAt: ctx.now(),
    repository: `${ctx.repo.owner}/${ctx.repo.repo}`,
    breakGlass: true,
    requestId: plan.requestId,
    requester: plan.requester,
    iamUser: plan.iamUser,
    role: plan.role,
    roleArn: plan.grant.roleArn,
    window: { notBefore: new Date(plan.grant.notBefore), notAfter: new Date(plan.grant.notAfter) },
    reason: plan.reason,
    ...(plan.ticket ? { ticket: plan.ticket } : {}),
    ...(evidence.issue ? { issue: evidence.issue } : {}),
    ...(evidence.execution ? { executionId: evidence.execution.id } : {}),
    ...(detail ? { detail } : {}),
    run: evidence.run,
  };
  await publishEvents(sns, config.aws.notifyTopicArn, [message], (w) => core.warning(w));
}

/** Markdown for the job summary and the `summary` output. */
export function breakGlassSummary(report: BreakGlassReport): string {
  const lines = ["### Elevate break-glass", ""];
  const plan = report.plan;
  if (report.status === "granted" && plan) {
    lines.push(
      `**${report.requestId}**: granted without prior review. \`${plan.iamUser}\` may assume \`${plan.grant.roleArn}\` from **${plan.grant.notBefore}** until **${plan.grant.notAfter}** (${plan.duration}).`,
      "",
      `- Execution: \`${report.executionId ?? ""}\``,
      report.issue
        ? `- Review issue: [#${report.issue.number}](${report.issue.url})`
        : `- Review issue: ${report.issueError ?? "none"}`,
      `- Revoke early: run the Elevate revoke workflow with \`request: ${report.requestId}\``,
    );
  } else {
    // Refusals quote dispatch inputs: escaped, never Markdown.
    lines.push(`**${mdEscape(report.requestId)}**: ${report.status}. ${mdEscape(report.message)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Outputs and job summary, with the same output names as grant mode. */
export async function reportBreakGlass(report: BreakGlassReport): Promise<void> {
  core.setOutput("request-ids", JSON.stringify([report.requestId]));
  core.setOutput("granted", JSON.stringify(report.status === "granted" ? [report.requestId] : []));
  core.setOutput(
    "refused",
    JSON.stringify(report.status === "refused" || report.status === "failed" ? [report.requestId] : []),
  );
  core.setOutput("execution-ids", JSON.stringify(report.executionId ? [report.executionId] : []));
  const body = breakGlassSummary(report);
  core.setOutput("summary", body);
  await core.summary.addRaw(body, true).write();
}

/** The run fails when nothing was granted, or when the grant has no review issue. */
export function breakGlassFailed(report: BreakGlassReport): boolean {
  return report.status === "refused" || report.status === "failed" || report.issueError !== undefined;
}
