/**
 * The pure half of reviewing a request PR, shared by the PR check and the
 * grant: whether CODEOWNERS can be trusted, who owns a request file, the
 * approver-set window caps, and why approvals fall short. The I/O half
 * (loading CODEOWNERS, expanding teams, reading permissions) is
 * src/modes/pr-review.ts.
 */
import { type ApprovalInput, type ApprovalResult, evaluateApprovals, type PullRequestReview } from "./approvals.js";
import { type CapWindowResult, capWindow } from "./approver-cap.js";
import { type CodeownersError, type CodeownersRule, formatOwner, type Owner, ownersOf } from "./codeowners.js";
import type { GrantPlan } from "./plan.js";

export interface LoadedCodeowners {
  path: string;
  /** Lines with invalid syntax are left out, as GitHub skips them. */
  rules: CodeownersRule[];
  /**
   * Invalid lines. GitHub skips them, which can silently hand a path back to
   * an earlier, broader rule; so the grant refuses while any exist.
   */
  errors: CodeownersError[];
}

/**
 * The approver-set window caps for a planned window (src/domain/approver-cap.ts):
 * the counted approvals' review bodies are the caps; every review is passed so
 * that caps which do not count are reported. The check and the grant judge alike.
 */
export function approverCaps(
  plan: Pick<GrantPlan, "notBefore" | "notAfter">,
  approval: ApprovalResult,
  reviews: readonly PullRequestReview[],
): CapWindowResult {
  const bodyOf = new Map(reviews.map((r) => [r.id, r.body ?? null]));
  return capWindow({
    window: { notBefore: new Date(plan.notBefore), notAfter: new Date(plan.notAfter) },
    countedApprovals: approval.counted.map((a) => ({
      login: a.login,
      reviewId: a.reviewId,
      body: bodyOf.get(a.reviewId) ?? null,
    })),
    allReviews: reviews,
  });
}

/** How to fix unreadable team membership: the job's GITHUB_TOKEN can never read it. */
export const MEMBERS_TOKEN_HINT =
  "The job's GITHUB_TOKEN cannot read organization teams: set the action's 'members-token' input to a token that can (a GitHub App installation token with Members: read), or name users instead of teams in CODEOWNERS";

/**
 * Why the approvals fall short, for a refusal annotation or the plan comment:
 * the count, who may approve, and why each reviewer's decisive review did not
 * count (self-approval, stale commit, not an owner, changes requested).
 */
export function approvalShortfall(approval: ApprovalResult, owners: readonly Owner[], headSha: string): string {
  if (approval.failure !== undefined) return approval.failure;
  let message = `${approval.counted.length} of ${approval.required} required approval(s) from code owners (${owners.map(formatOwner).join(", ")}) on the PR head ${headSha.slice(0, 12)}`;
  // Superseded and comment-only reviews are history, not the reason: each
  // reviewer's decisive (latest) review carries the reason that matters.
  const reasons = approval.ignored
    .filter((i) => i.login !== "" && !/^(superseded|comment-only)/.test(i.reason))
    .map((i) => `@${i.login}: ${i.reason}`);
  if (reasons.length > 0) message += `; not counted: ${reasons.join("; ")}`;
  return message;
}

/** A refusal message when CODEOWNERS cannot be trusted, else undefined. */
export function codeownersProblem(codeowners: LoadedCodeowners | undefined, branch: string): string | undefined {
  if (!codeowners) return `there is no CODEOWNERS file on ${branch}; nobody can approve requests`;
  if (codeowners.errors.length === 0) return undefined;
  const first = codeowners.errors[0]!;
  return `${codeowners.path} on ${branch} has ${codeowners.errors.length} invalid line(s) (first: line ${first.line}: ${first.message}); GitHub skips them, which can change who owns a request, so nothing is granted until it is fixed`;
}

export function ownersFor(codeowners: LoadedCodeowners | undefined, path: string): { owners: Owner[]; line?: number } {
  if (!codeowners) return { owners: [] };
  return ownersOf(codeowners.rules, path);
}

/**
 * Invariant 1 over gathered facts: `evaluateApprovals`, plus how to fix
 * unreadable team membership when that is what makes it fail.
 */
export function judgeApprovals(input: ApprovalInput): ApprovalResult {
  const result = evaluateApprovals(input);
  if (input.owners.unreadableTeams.length > 0 && result.failure !== undefined) {
    // The domain message says what is missing; say how to give it to the action too.
    result.failure = `${result.failure}. ${MEMBERS_TOKEN_HINT}`;
  }
  return result;
}
