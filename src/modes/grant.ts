/**
 * grant mode, on a push to the default branch: gather the facts
 * (grant-gather.ts) → one pure decision (src/domain/grant-decision.ts) → act
 * (grant-act.ts: start the runbooks, wait) → report (grant-report.ts: evidence
 * note, notifications, outputs, PR comment). Why a request was refused is
 * always the decision's, never the order of the reads.
 */
import * as core from "@actions/core";
import type { RoleSession } from "../adapters/aws.js";
import type { PullRequestInfo } from "../adapters/github.js";
import type { CeilingRead } from "../domain/ceiling.js";
import type { ElevateConfig } from "../domain/config.js";
import { decideGrant, type RequestEvidenceFacts } from "../domain/grant-decision.js";
import type { GrantEvidence } from "../domain/grant-report.js";
import { plannedOf } from "../domain/grant-target.js";
import { annotate, loadActionConfig } from "./action-config.js";
import type { ActionContext } from "./action-context.js";
import { grantRoleCredentials, readGrantCeiling, startGrants } from "./grant-act.js";
import { gatherGrantFacts } from "./grant-gather.js";
import { type GrantReport, notify, recordEvidence } from "./grant-report.js";

export { grantRunbookParameters } from "../domain/grant-decision.js";
export {
  describeAwsError,
  grantClientToken,
  MAX_GRANT_ATTEMPTS,
  readGrantCeiling,
  startGrantExecution,
} from "./grant-act.js";
export { type GrantOutcome, type GrantReport, grantCommentBody, grantFailed, reportGrant } from "./grant-report.js";

function evidenceNote(
  ctx: ActionContext,
  input: { file: string; requestId: string; pr: PullRequestInfo; mergeSha: string; now: Date },
  facts: RequestEvidenceFacts,
  event: GrantEvidence["event"],
): GrantEvidence {
  const { requester, approvals, ...rest } = facts;
  return {
    schema: "elevate.grant/v1",
    event,
    requestId: input.requestId,
    file: input.file,
    requester,
    pr: {
      number: input.pr.number,
      url: input.pr.htmlUrl,
      author: input.pr.author,
      headSha: input.pr.headSha,
      ...(input.pr.mergedAt ? { mergedAt: input.pr.mergedAt } : {}),
    },
    mergeSha: input.mergeSha,
    approvals,
    run: ctx.run,
    recordedAt: input.now.toISOString(),
    ...rest,
  };
}

export async function runGrant(ctx: ActionContext): Promise<GrantReport> {
  if (ctx.eventName !== "push") {
    throw new Error(`grant mode runs on 'push' to ${ctx.defaultBranch}; this run was triggered by '${ctx.eventName}'`);
  }
  if (ctx.ref !== `refs/heads/${ctx.defaultBranch}`) {
    throw new Error(`grant mode runs only for pushes to ${ctx.defaultBranch}; this push is to ${ctx.ref}`);
  }
  const config: ElevateConfig = await loadActionConfig(ctx, "nothing was granted");
  // The grant role's credentials are fetched while the PR is verified (the
  // grant-start budget is 300 ms). They are used only to act on the decision,
  // and refusals reuse them to notify.
  let credentials: Promise<RoleSession | string> | undefined;
  const startAws = () => {
    if (ctx.inputs.dryRun) return {};
    credentials = grantRoleCredentials(ctx, config);
    const ceiling: Promise<CeilingRead | undefined> = credentials.then((c) =>
      typeof c === "string" ? undefined : readGrantCeiling(config, c),
    );
    return { credentials, ceiling };
  };

  const { facts, pr } = await gatherGrantFacts(ctx, config, startAws);
  const decision = decideGrant(facts);
  const report: GrantReport = { outcomes: [], ignored: [], loadedConfig: config, capLines: {} };
  if (!decision.concernsRequests) {
    core.info("No request files were added by this push; nothing to grant.");
    return report;
  }
  if (pr) report.pr = pr;
  const now = facts.now;
  const mergeSha = facts.mergeSha;

  for (const line of decision.log) core.info(line);
  for (const r of decision.refusals) {
    if (r.annotation.errors.length > 0) annotate(r.annotation.errors);
    else core.error(r.annotation.message, { file: r.file, title: r.annotation.title });
    if (r.reason === "changed-after-approval") report.ignored.push({ file: r.file, why: r.message });
    const evidence =
      r.evidence && pr
        ? evidenceNote(ctx, { file: r.file, requestId: r.requestId, pr, mergeSha, now }, r.evidence, "refused")
        : undefined;
    if (evidence) evidence.refusal = r.message;
    report.outcomes.push({
      file: r.file,
      requestId: r.requestId,
      status: "refused",
      message: r.message,
      ...(r.plan ? { plan: r.plan } : {}),
      ...(evidence ? { evidence } : {}),
    });
  }
  for (const warning of decision.warnings) core.warning(warning);
  // Refused as a whole (changed files only, no PR, a force push …): reported on the PR, nothing else.
  if (!decision.requestsJudged) return report;

  const grants = decision.grants.map((grant) => {
    if (grant.capLines.length > 0) report.capLines[grant.requestId] = grant.capLines;
    // A grant always comes from a merged PR (the decision refuses everything else).
    const merged = pr as PullRequestInfo;
    const input = { file: grant.file, requestId: grant.requestId, pr: merged, mergeSha, now };
    return { grant, evidence: evidenceNote(ctx, input, grant.evidence, "granted") };
  });
  if (grants.length > 0 && ctx.inputs.dryRun) {
    for (const { grant } of grants) {
      report.outcomes.push({
        file: grant.file,
        requestId: grant.requestId,
        status: "planned",
        message: "dry run: would grant",
        plan: plannedOf(grant.target),
      });
    }
  } else {
    let sns: Awaited<ReturnType<typeof startGrants>>["sns"];
    if (grants.length > 0) {
      const acted = await startGrants(ctx, config, grants, mergeSha, credentials ?? grantRoleCredentials(ctx, config));
      report.outcomes.push(...acted.outcomes);
      sns = acted.sns;
    }
    await notify(ctx, config, report, sns, credentials);
  }
  await recordEvidence(ctx, mergeSha, report);
  return report;
}
