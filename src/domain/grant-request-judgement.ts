/**
 * One request file judged on gathered facts, the same steps in the same order
 * for the grant (after the merge) and the PR check (before it): valid request,
 * code owners, approvals, plan, dual-control approvers, approver caps, window.
 * The only difference is the phase: before the merge, missing approvals (and a
 * file nobody owns) leave the request "pending" with its plan shown, where
 * after the merge they refuse it.
 */
import type { ApprovalResult, ExpandedOwners, PullRequestReview } from "./approvals.js";
import type { CapWindowResult } from "./approver-cap.js";
import { approvalShortfall, approverCaps, judgeApprovals } from "./code-owner-review.js";
import type { Owner } from "./codeowners.js";
import { type EffectiveAwsApproval, type ElevateConfig, findRole } from "./config.js";
import { gateApproverProblem } from "./dual-control.js";
import type { LocatedError } from "./errors.js";
import type { ApproverFacts } from "./grant-facts.js";
import { buildPlannedGrant, type PlannedGrant } from "./permission-set-plan.js";
import { type ValidRequest, validateRequest } from "./request.js";

export interface RequestToJudge {
  phase: "merged" | "pre-merge";
  config: ElevateConfig;
  file: string;
  text: Uint8Array;
  /** The PR author: the requester must be them. */
  author: string;
  /** The run's clock; before the merge, also the merge time. */
  now: Date;
  mergedAt: Date;
  headSha: string;
  owners: readonly Owner[];
  /** Undefined when the file has no owners. */
  approvers: ApproverFacts | undefined;
  reviews: readonly PullRequestReview[];
  /** The refusal for a file nobody owns, worded for the phase. */
  noOwnersMessage: string;
}

export type RequestJudgement =
  | {
      verdict: "refused";
      reason: RequestRefusalReason;
      message: string;
      /** Located errors of an invalid request file (annotated instead of `message`). */
      errors: LocatedError[];
      /** What was judged before the refusal, for the check's plan row. */
      judged?: JudgedRequest;
    }
  | ({ verdict: "grant" | "pending" } & JudgedRequest);

/** Why one request file was refused (request-level; see GrantRefusalReason for the rest). */
export type RequestRefusalReason =
  | "invalid-request"
  | "no-code-owners"
  | "approvals"
  | "plan"
  | "dual-control-approvers"
  | "approver-cap"
  | "window-closed";

export interface JudgedRequest {
  request: ValidRequest;
  roleKey: string;
  /** The plan before any approver cap (the check shows this window). */
  uncapped: PlannedGrant;
  /** The plan to grant: the approvers' shortest cap applied. */
  plan: PlannedGrant;
  /** Undefined when the approvers could not be read (the check says why). */
  approval?: ApprovalResult;
  approversError?: string;
  caps?: CapWindowResult;
  awsApproval?: EffectiveAwsApproval;
}

const NO_OWNERS: ExpandedOwners = { logins: [], unreadableTeams: [] };

/** requests/<role>/<id>.yaml → <role>. */
export function roleKeyOf(path: string): string {
  return path.split("/")[1] ?? "";
}

export function judgeRequest(input: RequestToJudge): RequestJudgement {
  const { phase, config, file } = input;
  const merged = phase === "merged";
  const refuse = (
    reason: RequestRefusalReason,
    message: string,
    errors: LocatedError[] = [],
    judged?: JudgedRequest,
  ): RequestJudgement => ({
    verdict: "refused",
    reason,
    message,
    errors,
    ...(judged ? { judged } : {}),
  });
  const validated = validateRequest({ text: input.text, path: file, config, author: input.author, now: input.now });
  if (!validated.request) {
    return refuse(
      "invalid-request",
      `${file} is not a valid request (${validated.errors.length} error(s))`,
      validated.errors,
    );
  }
  const request = validated.request;
  const noOwners = input.owners.length === 0;
  if (noOwners && merged) return refuse("no-code-owners", input.noOwnersMessage);

  const approvers = input.approvers ?? NO_OWNERS;
  const approval =
    "error" in approvers
      ? undefined
      : judgeApprovals({
          reviews: input.reviews,
          owners: approvers,
          prAuthor: input.author,
          headSha: input.headSha,
          required: request.approvals,
        });
  if (merged && !approval?.satisfied) {
    return refuse(
      "approvals",
      approval
        ? approvalShortfall(approval, input.owners, input.headSha)
        : `could not read who may approve ${file}: ${"error" in approvers ? approvers.error : ""}`,
    );
  }
  const uncapped = buildPlannedGrant(request, config, input.mergedAt);
  if (!uncapped.ok) return refuse("plan", uncapped.message);
  const roleKey = roleKeyOf(file);
  const awsApproval = findRole(config, roleKey)?.awsApproval;
  // The grant refuses a dual-control request only its requester could approve in AWS.
  const gateProblem =
    awsApproval && uncapped.plan.kind === "role" && gateApproverProblem(awsApproval, roleKey, uncapped.plan.iamUser);
  if (gateProblem) return refuse("dual-control-approvers", gateProblem);
  // Approver-set window: the shortest cap among counted approvals; never longer.
  const caps = approval ? approverCaps(uncapped.plan, approval, input.reviews) : undefined;
  const judged: JudgedRequest = {
    request,
    roleKey,
    uncapped: uncapped.plan,
    plan: uncapped.plan,
    ...(approval ? { approval } : {}),
    ...("error" in approvers ? { approversError: approvers.error } : {}),
    ...(caps ? { caps } : {}),
    ...(awsApproval ? { awsApproval } : {}),
  };
  if (caps?.refusal) return refuse("approver-cap", caps.refusal, [], judged);
  if (caps?.cappedBy) {
    const capped = buildPlannedGrant(request, config, input.mergedAt, { capNotAfter: caps.window.notAfter });
    if (!capped.ok) return refuse("plan", capped.message, [], judged);
    judged.plan = capped.plan;
  }
  if (noOwners) return refuse("no-code-owners", input.noOwnersMessage, [], judged);
  if (new Date(judged.plan.notAfter).getTime() <= input.now.getTime()) {
    return refuse(
      "window-closed",
      `the window ${judged.plan.notBefore} – ${judged.plan.notAfter} has already closed; nothing was granted`,
      [],
      judged,
    );
  }
  return { verdict: approval?.satisfied ? "grant" : "pending", ...judged };
}
