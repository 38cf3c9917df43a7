/**
 * The grant decision: which requests a merge grants, with the exact runbook
 * parameters, and which it refuses, with the reason, the annotation and what
 * the evidence note records. Pure: the facts (src/domain/grant-facts.ts) are
 * gathered by src/modes/grant-gather.ts (the grant) and src/modes/check.ts
 * (the PR check, on pre-merge facts: src/domain/grant-pre-merge.ts), and
 * src/modes/grant-act.ts carries the decision out.
 */
import { capReportLines } from "./approver-cap.js";
import { ceilingRefusal } from "./ceiling.js";
import { codeownersProblem, ownersFor } from "./code-owner-review.js";
import type { LocatedError } from "./errors.js";
import { type RequestEvidenceFacts, requestEvidenceFacts } from "./grant-evidence-facts.js";
import type {
  GrantFacts,
  MergedGrantFacts,
  MergedPullRequestFacts,
  PathChange,
  PreMergeGrantFacts,
} from "./grant-facts.js";
import { decidePreMergeGrant, type PreMergeVerdict } from "./grant-pre-merge.js";
import { type JudgedRequest, judgeRequest, type RequestRefusalReason, roleKeyOf } from "./grant-request-judgement.js";
import { type GrantTarget, grantTargetFor, plannedOf } from "./grant-target.js";
import type { PlannedGrant } from "./permission-set-plan.js";
import { isUnderRequests, looksLikeRequestFile, requestIdOf as requestPathId } from "./request-path.js";

export interface GrantToStart {
  file: string;
  requestId: string;
  roleKey: string;
  target: GrantTarget;
  evidence: RequestEvidenceFacts;
  /** The approver-cap report lines (who shortened the window; caps ignored and why). */
  capLines: string[];
}

export type GrantRefusalReason =
  | RequestRefusalReason
  | "changed-after-approval"
  | "not-a-merge"
  | "force-push"
  | "outside-requests"
  | "branch-tip-unreadable"
  | "merge-not-on-branch"
  | "head-missing"
  | "codeowners-untrusted"
  | "not-the-approved-file"
  | "deleted-from-branch"
  | "changed-on-branch"
  | "duplicate-id"
  | "missing-from-merge"
  | "stack-ceiling";

export interface GrantRefusal {
  file: string;
  requestId: string;
  reason: GrantRefusalReason;
  message: string;
  /** The error annotation: `errors` at their lines when there are any, else `message` on the file. */
  annotation: { title: string; message: string; errors: LocatedError[] };
  /** Absent: the refusal gets no evidence note (it is not about one request's approval). */
  evidence?: RequestEvidenceFacts;
  /** Set when the request was planned before being refused (the stack's ceiling). */
  plan?: PlannedGrant;
}

export interface GrantDecision {
  /** False when the push added or changed no request file: nothing to do, nothing to report. */
  concernsRequests: boolean;
  /**
   * True once each added request was judged on its own (no merge-wide refusal):
   * only then does the run notify and write evidence, as before the decision existed.
   */
  requestsJudged: boolean;
  /** In report order: changed files, then requests refused by the checks, then by the stack's ceiling. */
  refusals: GrantRefusal[];
  grants: GrantToStart[];
  /** Lines for the job log (approver caps). */
  log: string[];
  warnings: string[];
}

export const ANNOTATION_TITLES = {
  changed: "Elevate: request changed after approval",
  refused: "Elevate: not granted",
  ceiling: "Elevate: not allowed by the AWS stack",
} as const;

export function requestIdOf(path: string): string {
  return requestPathId(path) ?? path;
}

/**
 * The push's changes under requests/: added request files (to grant) and
 * edited or renamed ones (refused: an approved request must not change after
 * the fact). Deletions are the revoke workflow's.
 */
export function requestChanges(pushed: readonly PathChange[]): {
  added: string[];
  changed: { file: string; why: string }[];
} {
  const added: string[] = [];
  const changed: { file: string; why: string }[] = [];
  for (const c of pushed) {
    if (!isUnderRequests(c.path) && !(c.oldPath !== undefined && isUnderRequests(c.oldPath))) continue;
    if (c.status === "A" && looksLikeRequestFile(c.path)) added.push(c.path);
    else if (c.status === "D") continue;
    else if (looksLikeRequestFile(c.path) || (c.oldPath && looksLikeRequestFile(c.oldPath))) {
      changed.push({
        file: c.path,
        why:
          c.status === "R"
            ? `${c.path} was renamed from ${c.oldPath}: a rename grants nothing; add a new request instead`
            : `${c.path} is an existing request that was edited: edits grant nothing (an approved request must not change after the fact); add a new request instead`,
      });
    }
  }
  return { added, changed };
}

/**
 * Why the whole merge grants nothing, whatever its requests say; undefined
 * when each request is to be judged on its own. The gather reads per-file
 * facts only when this is undefined.
 */
export function mergeRefusal(
  facts: Pick<MergedGrantFacts, "defaultBranch" | "before" | "mergeSha" | "pushed">,
  pr: Omit<MergedPullRequestFacts, "files" | "ceiling">,
): { reason: GrantRefusalReason; message: string } | undefined {
  const { defaultBranch: branch, before, mergeSha } = facts;
  // A merge, a squash and a rebase all land on top of the branch as it was
  // (`before`), so the push's diff is exactly what the PR brought in. A push
  // that is not a descendant of `before` (a force push) has no such diff.
  if (!pr.linear) {
    return {
      reason: "force-push",
      message: `commit ${mergeSha.slice(0, 12)} does not descend from ${before.slice(0, 12)} (a force push?), so git cannot tell which files PR #${pr.number} changed; nothing is granted`,
    };
  }
  const outside = facts.pushed.filter((c) => !isUnderRequests(c.path) || (c.oldPath && !isUnderRequests(c.oldPath)));
  if (outside.length > 0) {
    const listed = outside
      .slice(0, 3)
      .map((c) => c.path)
      .join(", ");
    return {
      reason: "outside-requests",
      message: `PR #${pr.number} also changes files outside requests/ (${listed}${outside.length > 3 ? `, and ${outside.length - 3} more` : ""}); a request PR may change only requests/`,
    };
  }
  if ("error" in pr.tip) {
    return {
      reason: "branch-tip-unreadable",
      message: `could not read the current tip of ${branch} from origin (${pr.tip.error}); a request is granted only while its file is still on ${branch}, so nothing is granted. Re-run the workflow`,
    };
  }
  if (!pr.tip.containsMerge) {
    return {
      reason: "merge-not-on-branch",
      message: `the merge ${mergeSha.slice(0, 12)} is no longer on ${branch} (its tip ${pr.tip.sha.slice(0, 12)} does not contain it; history rewritten?); nothing is granted`,
    };
  }
  if (!pr.headPresent) {
    return {
      reason: "head-missing",
      message: `the head commit ${pr.headSha.slice(0, 12)} of PR #${pr.number} is not in the checkout and could not be fetched, so git cannot tell whether the merged files are the approved ones; nothing is granted`,
    };
  }
  const ownersProblem = codeownersProblem(pr.codeowners, branch);
  if (ownersProblem) return { reason: "codeowners-untrusted", message: ownersProblem };
  return undefined;
}

/** The grant's decision on a merge into the default branch. */
export function decideMergedGrant(facts: MergedGrantFacts): GrantDecision {
  const { config, defaultBranch: branch, mergeSha, pr } = facts;
  const decision: GrantDecision = {
    concernsRequests: false,
    requestsJudged: false,
    refusals: [],
    grants: [],
    log: [],
    warnings: [],
  };
  const { added, changed } = requestChanges(facts.pushed);
  if (added.length === 0 && changed.length === 0) return decision;
  decision.concernsRequests = true;
  // An edited or renamed request grants nothing (docs/request-file.md). It is
  // a refusal, not a note: the run fails and the PR is told, because such a merge
  // usually means someone tried to change an approved request (a longer
  // duration, another role) without a fresh approval. No evidence note: the notes
  // on a merge describe the requests it added.
  for (const { file, why } of changed) {
    decision.refusals.push({
      file,
      requestId: requestIdOf(file),
      reason: "changed-after-approval",
      message: why,
      annotation: { title: ANNOTATION_TITLES.changed, message: why, errors: [] },
    });
  }
  const refuseAll = (reason: GrantRefusalReason, message: string) => {
    for (const file of added) {
      decision.refusals.push({
        file,
        requestId: requestIdOf(file),
        reason,
        message,
        annotation: { title: ANNOTATION_TITLES.refused, message, errors: [] },
      });
    }
    return decision;
  };
  if (added.length === 0) return decision;
  if (!pr) {
    return refuseAll(
      "not-a-merge",
      `commit ${mergeSha.slice(0, 12)} is not the merge of a pull request into ${branch} (a direct push?); requests are granted only through an approved PR`,
    );
  }
  const whole = mergeRefusal(facts, pr);
  if (whole) return refuseAll(whole.reason, whole.message);
  decision.requestsJudged = true;
  const tipSha = "sha" in pr.tip ? pr.tip.sha : "";
  const mergedAt = new Date(pr.mergedAt ?? facts.now.toISOString());
  const planned: { grant: GrantToStart; judged: JudgedRequest }[] = [];
  for (const file of added) {
    const requestId = requestIdOf(file);
    const f = pr.files[file] ?? {};
    const refuse = (reason: GrantRefusalReason, message: string, errors: LocatedError[] = []) =>
      decision.refusals.push({
        file,
        requestId,
        reason,
        message,
        annotation: { title: ANNOTATION_TITLES.refused, message, errors },
        evidence: { requester: pr.author, approvals: [] },
      });
    // What was approved is the file at the PR head; what is granted must be
    // exactly that, and still on the default branch now: a queued grant job
    // must not grant a request whose file was deleted (revoked) or changed since.
    if (f.blobAtMerge === undefined || f.blobAtHead !== f.blobAtMerge) {
      refuse(
        "not-the-approved-file",
        `${file} in the merge ${mergeSha.slice(0, 12)} is not the file PR #${pr.number} added at its head ${pr.headSha.slice(0, 12)}; only the approved file is granted`,
      );
      continue;
    }
    if (f.blobAtTip === undefined) {
      refuse(
        "deleted-from-branch",
        `${file} was deleted from ${branch} (tip ${tipSha.slice(0, 12)}) before this grant job ran; a deleted request is revoked, never granted`,
      );
      continue;
    }
    if (f.blobAtTip !== f.blobAtMerge) {
      refuse(
        "changed-on-branch",
        `${file} was changed on ${branch} (tip ${tipSha.slice(0, 12)}) after the merge and before this grant job ran; only the file as approved and still on ${branch} is granted`,
      );
      continue;
    }
    // Ids are unique across requests/ (docs/request-file.md): the policy is elevate-<id>, so
    // a second file with the same id would replace the first one's grant.
    const sameId = pr.requestFilesAfter.filter((p) => p !== file && requestIdOf(p) === requestId);
    if (sameId.length > 0) {
      refuse(
        "duplicate-id",
        `request id ${requestId} is already used by ${sameId.join(", ")}; ids must be unique across requests/ (the grant policy is named elevate-<id>), so pick another file name`,
      );
      continue;
    }
    if (f.text === undefined) {
      refuse("missing-from-merge", `${file} is not in the merge commit`);
      continue;
    }
    const judgement = judgeRequest({
      phase: "merged",
      config,
      file,
      text: f.text,
      author: pr.author,
      now: facts.now,
      mergedAt,
      headSha: pr.headSha,
      owners: ownersFor(pr.codeowners, file).owners,
      approvers: f.approvers,
      reviews: pr.reviews,
      noOwnersMessage: `${file} has no code owners on ${branch}${pr.codeowners ? ` (${pr.codeowners.path})` : " (no CODEOWNERS file)"}; nobody can approve it`,
    });
    const capLines = judgement.verdict !== "refused" && judgement.caps ? capReportLines(judgement.caps) : [];
    if (judgement.verdict === "refused") {
      if (judgement.reason === "window-closed" && judgement.judged?.caps) {
        capLines.push(...capReportLines(judgement.judged.caps));
      }
      for (const line of capLines) decision.log.push(`${requestId}: ${line.replace(/^- /, "")}`);
      refuse(judgement.reason, judgement.message, judgement.errors);
      continue;
    }
    for (const line of capLines) decision.log.push(`${requestId}: ${line.replace(/^- /, "")}`);
    const { plan } = judgement;
    planned.push({
      judged: judgement,
      grant: {
        file,
        requestId,
        roleKey: judgement.roleKey,
        target: grantTargetFor(config, plan, judgement.awsApproval),
        evidence: requestEvidenceFacts(judgement),
        capLines,
      },
    });
  }
  // The stack's ceiling: a grant it would refuse is refused here, naming the stack
  // parameter to update, instead of starting a runbook that fails.
  const { ceiling } = pr;
  if (planned.length > 0 && ceiling && !ceiling.ok) {
    decision.warnings.push(`the stack's grant ceiling could not be checked before starting: ${ceiling.message}`);
  }
  for (const { grant } of planned) {
    // The early refusal reads Elevate-Grant's ceiling (IAM roles); a permission set's
    // ceiling (GrantablePermissionSets) is enforced by Elevate-GrantPermissionSet itself.
    const why =
      ceiling?.ok && grant.target.kind === "iam-role"
        ? ceilingRefusal(ceiling.ceiling, grant.target.plan, grant.roleKey)
        : undefined;
    if (!why) {
      decision.grants.push(grant);
      continue;
    }
    decision.refusals.push({
      file: grant.file,
      requestId: grant.requestId,
      reason: "stack-ceiling",
      message: why,
      annotation: { title: ANNOTATION_TITLES.ceiling, message: `${grant.requestId}: ${why}`, errors: [] },
      evidence: grant.evidence,
      plan: plannedOf(grant.target),
    });
  }
  return decision;
}

/**
 * The one grant decision: on a merge (the grant), or on a PR before its merge
 * (the check, "if merged now"). Both judge each request with judgeRequest.
 */
export function decideGrant(facts: MergedGrantFacts): GrantDecision;
export function decideGrant(facts: PreMergeGrantFacts): PreMergeVerdict[];
export function decideGrant(facts: GrantFacts): GrantDecision | PreMergeVerdict[] {
  return facts.phase === "merged" ? decideMergedGrant(facts) : decidePreMergeGrant(facts);
}

export type { RequestEvidenceFacts } from "./grant-evidence-facts.js";
export { type GrantTarget, grantRunbookParameters } from "./grant-target.js";
export { roleKeyOf };
