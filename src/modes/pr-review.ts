/**
 * The review facts that both the PR check and the grant need: which request
 * files a change touches, who owns them (CODEOWNERS on the base branch), and
 * whether the counted approvals satisfy invariant 1. Composes pure domain
 * code with the GitHub and git adapters.
 */

import { readFileAt } from "../adapters/git.js";
import {
  isActiveTeamMember,
  type Octokit,
  type RepoRef,
  RepositoryPermissionUnreadable,
  type Review,
  repositoryPermission,
  TeamMembershipUnreadable,
} from "../adapters/github.js";
import { type ApprovalResult, type ExpandedOwners, evaluateApprovals, hasWriteAccess } from "../domain/approvals.js";
import { type CapWindowResult, capWindow } from "../domain/approver-cap.js";
import {
  type CodeownersError,
  type CodeownersRule,
  formatOwner,
  type Owner,
  ownersOf,
  parseCodeowners,
} from "../domain/codeowners.js";
import type { GrantPlan } from "../domain/plan.js";

/**
 * Where GitHub looks for CODEOWNERS, in order; the first one found is used.
 * https://docs.github.com/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners#codeowners-file-location
 */
export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;

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

/** CODEOWNERS as it was at `rev` (the base branch), or undefined when there is none. */
export async function loadCodeownersAt(cwd: string, rev: string): Promise<LoadedCodeowners | undefined> {
  for (const path of CODEOWNERS_LOCATIONS) {
    const text = await readFileAt(cwd, rev, path);
    if (text !== undefined) {
      const parsed = parseCodeowners(text);
      return { path, rules: parsed.rules, errors: parsed.errors };
    }
  }
  return undefined;
}

/**
 * The approver-set window caps for a planned window (src/domain/approver-cap.ts):
 * the counted approvals' review bodies are the caps; every review is passed so
 * that caps which do not count are reported. The check and the grant judge alike.
 */
export function approverCaps(
  plan: Pick<GrantPlan, "notBefore" | "notAfter">,
  approval: ApprovalResult,
  reviews: readonly Review[],
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

export interface ApprovalCheckInput {
  owners: readonly Owner[];
  reviews: readonly Review[];
  prAuthor: string;
  headSha: string;
  required: number;
  /** Reads team membership; a token that cannot read it makes the check fail closed. */
  membersOctokit: Octokit;
  /** Reads the reviewers' repository permission (the job's token: Metadata read). */
  octokit: Octokit;
  repo: RepoRef;
}

/**
 * Expands team owners for the reviewers who matter (those whose latest review
 * could count) and evaluates invariant 1. Email owners cannot be matched to a
 * review and never count. An approval that would count is then checked against
 * the approver's repository permission now: GitHub ignores code owners without
 * write access, and so does Elevate (unreadable permission fails closed). The
 * PR check and the grant both call this, so they judge alike.
 */
export async function checkApprovals(input: ApprovalCheckInput): Promise<ApprovalResult> {
  const reviewers = new Set<string>();
  for (const r of input.reviews) if (r.user?.login) reviewers.add(r.user.login.toLowerCase());
  const ownerLogins = new Set<string>();
  const unreadableTeams: string[] = [];
  for (const owner of input.owners) {
    if (owner.kind === "user") ownerLogins.add(owner.login.toLowerCase());
  }
  for (const owner of input.owners) {
    if (owner.kind !== "team") continue;
    for (const login of reviewers) {
      if (ownerLogins.has(login)) continue;
      try {
        if (await isActiveTeamMember(input.membersOctokit, owner.org, owner.slug, login)) ownerLogins.add(login);
      } catch (error) {
        if (error instanceof TeamMembershipUnreadable) {
          unreadableTeams.push(error.team);
          break;
        }
        throw error;
      }
    }
  }
  const owners: ExpandedOwners = { logins: [...ownerLogins], unreadableTeams };
  const evaluate = () =>
    evaluateApprovals({
      reviews: input.reviews,
      owners,
      prAuthor: input.prAuthor,
      headSha: input.headSha,
      required: input.required,
    });
  let result = evaluate();
  if (result.counted.length > 0) {
    const withoutWriteAccess: { login: string; role: string }[] = [];
    const unreadablePermissions: { login: string; why: string }[] = [];
    await Promise.all(
      result.counted.map(async ({ login }) => {
        try {
          const permission = await repositoryPermission(input.octokit, input.repo, login);
          const write = hasWriteAccess(permission);
          const role = permission.roleName ?? permission.permission;
          if (write === undefined) {
            unreadablePermissions.push({
              login,
              why: `unrecognised permission "${permission.permission}"${permission.roleName ? ` (role ${permission.roleName})` : ""}`,
            });
          } else if (!write) withoutWriteAccess.push({ login, role });
        } catch (error) {
          if (!(error instanceof RepositoryPermissionUnreadable)) throw error;
          unreadablePermissions.push({ login, why: error.message });
        }
      }),
    );
    if (withoutWriteAccess.length > 0 || unreadablePermissions.length > 0) {
      owners.withoutWriteAccess = withoutWriteAccess;
      owners.unreadablePermissions = unreadablePermissions;
      result = evaluate();
    }
  }
  if (unreadableTeams.length > 0 && result.failure !== undefined) {
    // The domain message says what is missing; say how to give it to the action too.
    result.failure = `${result.failure}. ${MEMBERS_TOKEN_HINT}`;
  }
  return result;
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
