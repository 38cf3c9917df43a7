/**
 * The grant decision before the merge, for the PR check: each request file
 * the PR touches judged by the same steps as the grant (judgeRequest), on
 * the PR's facts, as if it were merged now. Where the grant refuses for
 * approvals still missing, the check says "pending"; everything else the
 * grant would refuse, the check refuses.
 */

import { ownersFor } from "./code-owner-review.js";
import type { Owner } from "./codeowners.js";
import type { LocatedError } from "./errors.js";
import type { PreMergeGrantFacts, PullRequestRequestFile } from "./grant-facts.js";
import { type JudgedRequest, judgeRequest, type RequestRefusalReason } from "./grant-request-judgement.js";
import { duplicateIdMessage } from "./request-path.js";

/** Why the check refuses: the grant's reason for the same request (GrantRefusalReason). */
export type PreMergeRefusalReason =
  | RequestRefusalReason
  | "changed-after-approval"
  | "outside-requests"
  | "duplicate-id"
  | "config-unavailable"
  | "missing-from-checkout";

export type PreMergeVerdict = {
  file: string;
  status: PullRequestRequestFile["status"];
  /** The file's code owners on the base branch (who may approve it). */
  owners: Owner[];
} & (
  | { verdict: "revokes" }
  | { verdict: "refused"; reason: PreMergeRefusalReason; errors: LocatedError[]; judged?: JudgedRequest }
  | { verdict: "grant" | "pending"; judged: JudgedRequest }
);

/** One verdict per request file of the PR, in the PR's order. */
export function decidePreMergeGrant(facts: PreMergeGrantFacts): PreMergeVerdict[] {
  const added = facts.files.some((f) => f.status === "added");
  const mixed = added && facts.outside.length > 0;
  return facts.files.map((f): PreMergeVerdict => {
    const { file, status } = f;
    const owners = ownersFor(facts.codeowners, file).owners;
    const refuse = (reason: PreMergeRefusalReason, message: string): PreMergeVerdict => ({
      file,
      status,
      owners,
      verdict: "refused",
      reason,
      errors: [{ file, line: 1, col: 1, message }],
    });
    if (status === "removed") return { file, status, owners, verdict: "revokes" };
    if (status !== "added") {
      return refuse(
        "changed-after-approval",
        status === "renamed"
          ? `renamed from ${f.previousFilename ?? "?"}: a rename grants nothing; add a new request file instead`
          : "edits an existing request: edits grant nothing; add a new request file instead",
      );
    }
    if (mixed) {
      const others = facts.outside;
      return refuse(
        "outside-requests",
        `this PR also changes files outside requests/ (${others.slice(0, 3).join(", ")}${others.length > 3 ? `, and ${others.length - 3} more` : ""}); a request PR may change only requests/, or nothing will be granted`,
      );
    }
    const sameId = facts.duplicates.get(file);
    if (sameId) return refuse("duplicate-id", duplicateIdMessage(file, sameId));
    if (!facts.config)
      return refuse(
        "config-unavailable",
        `cannot validate: ${facts.configPath} on ${facts.baseRef} is missing or invalid`,
      );
    if (f.text === undefined) {
      return refuse(
        "missing-from-checkout",
        "the file is not in the checkout; check out the PR (actions/checkout) before this step",
      );
    }
    const judgement = judgeRequest({
      phase: "pre-merge",
      config: facts.config,
      file,
      text: f.text,
      author: facts.author,
      now: facts.now,
      mergedAt: facts.now,
      headSha: facts.headSha,
      owners,
      approvers: f.approvers,
      reviews: facts.reviews,
      noOwnersMessage: "no code owner matches this file on the base branch; nobody can approve it",
    });
    if (judgement.verdict !== "refused") {
      const { verdict, ...judged } = judgement;
      return { file, status, owners, verdict, judged };
    }
    return {
      file,
      status,
      owners,
      verdict: "refused",
      reason: judgement.reason,
      errors: judgement.errors.length > 0 ? judgement.errors : [{ file, line: 1, col: 1, message: judgement.message }],
      ...(judgement.judged ? { judged: judgement.judged } : {}),
    };
  });
}
