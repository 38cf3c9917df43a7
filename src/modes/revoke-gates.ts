/**
 * A revoke run's AWS-side approval gates (roles with `awsApproval`): finished before
 * the inventory is read, so a grant attached in this run is seen (and judged) by the
 * same run. Each newly resolved gate is reported on its PR once.
 */
import * as core from "@actions/core";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { describeAwsError } from "../adapters/aws-errors.js";
import { createComment, hasBotCommentWithMarker } from "../adapters/github.js";
import type { ElevateConfig } from "../domain/config.js";
import { type DualControlOutcome, outcomeCommentBody, outcomeMarker } from "../domain/dual-control.js";
import type { ActionContext } from "./action-context.js";
import { resolvePendingApprovals } from "./dual-control.js";

export interface ResolvedGates {
  /** Undefined when the gates could not be resolved (then `problems` says why). */
  outcomes?: DualControlOutcome[];
  problems: string[];
}

/**
 * Resolves AWS-side approval gates (src/modes/dual-control.ts) and reports
 * each newly resolved one on its PR, once: the comment carries a marker, and
 * every run sees finished gates again.
 */
export async function resolveApprovalGates(
  ctx: ActionContext,
  ssm: SSMClient,
  config: ElevateConfig,
  revokedRequestIds: ReadonlySet<string>,
  now: Date,
): Promise<ResolvedGates> {
  const problems: string[] = [];
  let outcomes: DualControlOutcome[];
  try {
    outcomes = await resolvePendingApprovals(ssm, config, {
      now,
      timeoutMs: ctx.inputs.timeoutSeconds * 1000,
      revokedRequestIds,
    });
  } catch (error) {
    return { problems: [`AWS-side approval gates could not be resolved: ${describeAwsError(error)}`] };
  }
  for (const o of outcomes) {
    if (o.status === "pending") continue;
    if (o.status === "failed" || o.status === "untrusted") {
      problems.push(`approval gate ${o.gateExecutionId}${o.requestId ? ` (${o.requestId})` : ""}: ${o.message}`);
    }
    if (!o.prNumber || o.status === "untrusted") continue;
    try {
      // Markers count only from the bot: a person could plant one to hide an outcome.
      const reported = (marker: string) => hasBotCommentWithMarker(ctx.octokit, ctx.repo, o.prNumber as number, marker);
      // A gate granted by an earlier run reads as "window closed" or "revoked"
      // once that grant ends; its end belongs to the revoke report, not here.
      const grantedEarlier =
        o.status === "refused" &&
        (await reported(outcomeMarker({ gateExecutionId: o.gateExecutionId, status: "granted" })));
      if (!grantedEarlier && !(await reported(outcomeMarker(o)))) {
        await createComment(ctx.octokit, ctx.repo, o.prNumber, outcomeCommentBody(o));
      }
    } catch (error) {
      core.warning(
        `could not report approval gate ${o.gateExecutionId} on PR #${o.prNumber}: ${(error as Error).message}`,
      );
    }
  }
  return { outcomes, problems };
}
