/**
 * docs/threat-model.md invariant 1 as a pure function over a pull request's reviews:
 * the merge grants only if the PR head commit carries at least `required` APPROVED
 * reviews from distinct code owners of the request file, none of them the PR author,
 * each the reviewer's latest review, on the PR head SHA. Unreadable team membership
 * fails closed.
 *
 * Which review is a reviewer's "latest":
 *   - Reviews are ordered by `submitted_at`, then by `id` (the REST endpoint "List
 *     reviews for a pull request" returns them in chronological order; the explicit sort
 *     keeps the result independent of how the adapter paged them).
 *   - Only state-bearing reviews supersede an earlier one: APPROVED, CHANGES_REQUESTED,
 *     and DISMISSED (a dismissed approval is the same review with its state changed to
 *     DISMISSED; GitHub Docs, "Dismissing a pull request review").
 *   - A COMMENTED review does not withdraw an earlier approval. GitHub Docs, "About
 *     pull request reviews": a comment review is "general feedback without explicitly
 *     approving the changes or requesting additional changes", and branch protection
 *     keeps counting the earlier approval. Only a later "Request changes" or a dismissal
 *     removes it ("the pull request cannot be merged until the same collaborator submits
 *     another review approving the changes").
 *   - PENDING reviews are drafts visible only to their author; they carry no decision.
 *   - Any other state (GitHub may add states) is treated as state-bearing and not an
 *     approval, so an unknown state can only withhold a grant, never give one.
 */

import { sameLogin } from "./codeowners.js";

/** A review as GitHub's REST API returns it (`GET /repos/{o}/{r}/pulls/{n}/reviews`). */
export interface PullRequestReview {
  id: number;
  /** `null` for reviews by deleted accounts ("ghost"). */
  user: { login: string } | null;
  state: string;
  /** `null` when GitHub no longer knows the commit (e.g. force-pushed away). */
  commit_id: string | null;
  /** Absent or `null` for PENDING reviews. */
  submitted_at?: string | null;
  body?: string | null;
}

/** The code owners of the request file, with teams already expanded by an adapter. */
export interface ExpandedOwners {
  /** Logins of users named directly and of members of every readable owning team. */
  logins: readonly string[];
  /** Owning teams (`org/slug`) whose membership could not be read; any entry fails closed. */
  unreadableTeams: readonly string[];
  /**
   * Owners whose repository permission is below write now, with the role GitHub
   * reported. GitHub ignores such code owners ("code owners must have write
   * permissions for the repository"), so their approvals do not count.
   */
  withoutWriteAccess?: readonly { login: string; role: string }[];
  /** Owners whose repository permission could not be read (and why); any entry fails closed. */
  unreadablePermissions?: readonly { login: string; why: string }[];
}

/**
 * A user's repository permission as `GET /repos/{owner}/{repo}/collaborators/{username}/permission`
 * reports it: `permission` is the legacy base role (`admin`, `write`, `read`,
 * `none`; `maintain` maps to `write`, `triage` to `read`, a custom role to its
 * base), `role_name` the assigned role, and `user.permissions.push` whether it
 * may push. https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user
 */
export interface RepositoryPermission {
  permission: string;
  roleName?: string;
  /** `user.permissions.push`, when the response carries it. */
  push?: boolean;
}

/**
 * Whether a permission gives write access: true for `admin` and `write`, false
 * for `read` and `none`, undefined (the caller fails closed) for anything else
 * or when `permission` and `user.permissions.push` disagree.
 */
export function hasWriteAccess(p: RepositoryPermission): boolean | undefined {
  const write = p.permission === "admin" || p.permission === "write";
  const below = p.permission === "read" || p.permission === "none";
  if (!write && !below) return undefined;
  if (p.push !== undefined && p.push !== write) return undefined;
  return write;
}

export interface ApprovalInput {
  reviews: readonly PullRequestReview[];
  owners: ExpandedOwners;
  prAuthor: string;
  headSha: string;
  required: number;
}

export interface CountedApproval {
  login: string;
  reviewId: number;
  commitId: string;
  submittedAt: string;
}

export interface IgnoredReview {
  /** Empty string for a review by a deleted account. */
  login: string;
  reviewId: number;
  reason: string;
}

export interface ApprovalResult {
  satisfied: boolean;
  required: number;
  /** Sorted by login (case-insensitive), then review id. */
  counted: CountedApproval[];
  /** Every review that did not count, sorted by review id. */
  ignored: IgnoredReview[];
  /** Approvals still needed; 0 once `counted` reaches `required`. */
  missing: number;
  /** Set when the check fails closed for a reason other than too few approvals. */
  failure?: string;
}

const STATE_NEUTRAL = new Set(["COMMENTED", "PENDING"]);

interface OrderedReview {
  review: PullRequestReview;
  login: string;
  at: number;
}

function compareReviews(a: OrderedReview, b: OrderedReview): number {
  return a.at - b.at || a.review.id - b.review.id;
}

export function evaluateApprovals(input: ApprovalInput): ApprovalResult {
  const { required } = input;
  const headSha = input.headSha.toLowerCase();
  const ownerLogins = new Set(input.owners.logins.map((login) => login.toLowerCase()));
  const roleWithoutWrite = new Map((input.owners.withoutWriteAccess ?? []).map((o) => [o.login.toLowerCase(), o.role]));
  const permissionUnreadable = new Set((input.owners.unreadablePermissions ?? []).map((o) => o.login.toLowerCase()));
  const counted: CountedApproval[] = [];
  const ignored: IgnoredReview[] = [];
  const ignore = (review: PullRequestReview, reason: string) =>
    ignored.push({ login: review.user?.login ?? "", reviewId: review.id, reason });

  // Group submitted reviews by reviewer (logins are case-insensitive).
  const byReviewer = new Map<string, OrderedReview[]>();
  const unorderable = new Set<string>();
  for (const review of input.reviews) {
    if (!review.user) {
      ignore(review, "review by a deleted account");
      continue;
    }
    if (review.state === "PENDING") {
      ignore(review, "pending review (not submitted)");
      continue;
    }
    const key = review.user.login.toLowerCase();
    const at = review.submitted_at ? Date.parse(review.submitted_at) : Number.NaN;
    if (Number.isNaN(at)) {
      // Without a time this review cannot be placed before or after the reviewer's
      // others, so none of that reviewer's reviews can be trusted as the latest.
      ignore(review, `submitted review without a valid submitted_at (${String(review.submitted_at)})`);
      unorderable.add(key);
      continue;
    }
    const list = byReviewer.get(key) ?? [];
    list.push({ review, login: review.user.login, at });
    byReviewer.set(key, list);
  }

  for (const [key, reviews] of byReviewer) {
    reviews.sort(compareReviews);
    const decisive = reviews.filter((r) => !STATE_NEUTRAL.has(r.review.state));
    const latest = decisive[decisive.length - 1];
    for (const { review } of reviews) {
      if (review !== latest?.review) {
        ignore(
          review,
          review.state === "COMMENTED"
            ? "comment-only review (neither approves nor withdraws an approval)"
            : `superseded by the reviewer's later review ${latest?.review.id}`,
        );
      }
    }
    if (!latest) continue;
    const { review, login } = latest;
    if (unorderable.has(key)) {
      ignore(review, "another review by the same reviewer has no valid submitted_at, so the latest is unknown");
    } else if (review.state !== "APPROVED") {
      ignore(review, `latest review is ${review.state}`);
    } else if (sameLogin(login, input.prAuthor)) {
      ignore(review, "the pull request author cannot approve their own request");
    } else if (!ownerLogins.has(key)) {
      ignore(review, "not a code owner of the request file");
    } else if (review.commit_id?.toLowerCase() !== headSha) {
      ignore(review, `stale approval on commit ${review.commit_id ?? "(unknown)"}, not the head commit ${headSha}`);
    } else if (roleWithoutWrite.has(key)) {
      ignore(
        review,
        `code owner without write access to the repository now (role: ${roleWithoutWrite.get(key)}); GitHub ignores such owners`,
      );
    } else if (permissionUnreadable.has(key)) {
      ignore(review, "code owner whose repository permission could not be read");
    } else {
      counted.push({
        login,
        reviewId: review.id,
        commitId: review.commit_id,
        submittedAt: review.submitted_at ?? "",
      });
    }
  }

  counted.sort((a, b) => {
    const x = a.login.toLowerCase();
    const y = b.login.toLowerCase();
    return x < y ? -1 : x > y ? 1 : a.reviewId - b.reviewId;
  });
  ignored.sort((a, b) => a.reviewId - b.reviewId);

  const failure = failureOf(input, ownerLogins.size);
  const missing = Math.max(0, (Number.isInteger(required) ? required : 0) - counted.length);
  const result: ApprovalResult = {
    satisfied: failure === undefined && missing === 0,
    required,
    counted,
    ignored,
    missing,
  };
  if (failure !== undefined) result.failure = failure;
  return result;
}

/** Reasons to fail closed that no number of approvals can fix. */
function failureOf(input: ApprovalInput, ownerCount: number): string | undefined {
  if (!Number.isInteger(input.required) || input.required < 1) {
    return `required approvals must be a whole number of at least 1 (got ${input.required})`;
  }
  if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(input.headSha)) {
    return `the pull request head SHA is not a commit id (got "${input.headSha}")`;
  }
  const teams = [...input.owners.unreadableTeams].sort();
  if (teams.length > 0) {
    const names = teams.map((team) => `@${team}`).join(", ");
    return (
      `cannot read the membership of code-owner team${teams.length > 1 ? "s" : ""} ${names}; ` +
      "the token needs permission to read team membership (organization Members: read)"
    );
  }
  if (ownerCount === 0) {
    return "the request file has no code owners; add a CODEOWNERS line for its folder";
  }
  const unreadable = [...(input.owners.unreadablePermissions ?? [])].sort((a, b) => (a.login < b.login ? -1 : 1));
  if (unreadable.length > 0) {
    return (
      `cannot read the repository permission of ${unreadable.map((u) => `@${u.login} (${u.why})`).join(", ")}; ` +
      "an approval counts only from a code owner with write access, so none is counted until it can be read " +
      "(the job's token needs Metadata: read on the repository)"
    );
  }
  return undefined;
}

/** One line for the PR comment: "1 of 2 approvals from @acme/prod-approvers; missing 1". */
export function approvalSummary(result: ApprovalResult, ownersDisplay: readonly string[]): string {
  const from = ownersDisplay.length > 0 ? ownersDisplay.join(", ") : "no code owners";
  const noun = result.required === 1 ? "approval" : "approvals";
  let line = `${result.counted.length} of ${result.required} ${noun} from ${from}`;
  if (result.missing > 0) line += `; missing ${result.missing}`;
  if (result.failure !== undefined) line += `; ${result.failure}`;
  return line;
}
