/**
 * grant mode, on a push to the default branch: gather the facts
 * (grant-gather.ts) → one pure decision (src/domain/grant-decision.ts) → act
 * (grant-act.ts: start the runbooks, wait) → report (grant-report.ts: evidence
 * note, notifications, outputs, PR comment). Why a request was refused is
 * always the decision's, never the order of the reads.
 *
 * The grant-start budget is 300 ms from process start, and loading the AWS SDK
 * is a good part of it: this module imports grant-act.ts and grant-report.ts
 * (which hold the SDK clients) only with import(), started once the push is
 * known to add requests, so the SDK loads while the PR is being looked up and
 * the job's OIDC token fetched. The action loads this module, not grant.ts.
 */
import * as core from "@actions/core";
import type { RoleSession } from "../adapters/aws-session.js";
import type { PullRequestInfo } from "../adapters/github.js";
import type { CeilingRead } from "../domain/ceiling.js";
import type { ElevateConfig } from "../domain/config.js";
import { decideGrant, type RequestEvidenceFacts } from "../domain/grant-decision.js";
import type { GrantEvidence } from "../domain/grant-report.js";
import { plannedOf } from "../domain/grant-target.js";
import { annotate, loadActionConfig } from "./action-config.js";
import type { ActionContext } from "./action-context.js";
import { gatherGrantFacts } from "./grant-gather.js";
import type { GrantReport } from "./grant-report.js";

/** The modules that hold the AWS SDK, loaded when first needed (see above). */
const actModule = () => import("./grant-act.js");
const reportModule = () => import("./grant-report.js");

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
  // The grant role's credentials are fetched while the PR is verified (the
  // grant-start budget is 300 ms). They are used only to act on the decision,
  // and refusals reuse them to notify.
  let credentials: Promise<RoleSession | string> | undefined;
  const startAws = (config: ElevateConfig) => {
    if (ctx.inputs.dryRun) return {};
    // The OIDC token is the first link of the chain (token → role session →
    // ceiling): asked for before the SDK is loaded.
    const token = ctx.getIdToken("sts.amazonaws.com");
    token.catch(() => undefined);
    credentials = actModule().then((act) => act.grantRoleCredentials(ctx, config, token));
    const ceiling: Promise<CeilingRead | undefined> = credentials.then((c) =>
      typeof c === "string" ? undefined : actModule().then((act) => act.readGrantCeiling(config, c)),
    );
    return { credentials, ceiling };
  };

  // The config is parsed while git reads the pushed range.
  const { facts, pr, config } = await gatherGrantFacts(
    ctx,
    () => loadActionConfig(ctx, "nothing was granted"),
    startAws,
  );
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
    if (grants.length > 0) {
      const act = await actModule();
      const outcomes = await act.startGrants(
        ctx,
        config,
        grants,
        mergeSha,
        credentials ?? act.grantRoleCredentials(ctx, config),
      );
      report.outcomes.push(...outcomes);
    }
    await (await reportModule()).notify(ctx, config, report, credentials);
  }
  await (await reportModule()).recordEvidence(ctx, mergeSha, report);
  return report;
}
