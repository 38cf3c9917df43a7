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
import { judgeApprovals, type LoadedCodeowners } from "../domain/code-owner-review.js";
import { type Owner, parseCodeowners } from "../domain/codeowners.js";

export {
  approvalShortfall,
  approverCaps,
  codeownersProblem,
  type LoadedCodeowners,
  MEMBERS_TOKEN_HINT,
  ownersFor,
} from "../domain/code-owner-review.js";

/**
 * Where GitHub looks for CODEOWNERS, in order; the first one found is used.
 * https://docs.github.com/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners#codeowners-file-location
 */
export const CODEOWNERS_LOCATIONS = [".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"] as const;

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

/** What expanding the owners needs: everything but the number of approvals required. */
export type OwnerExpansionInput = Omit<ApprovalCheckInput, "required">;

/**
 * The facts invariant 1 is judged on: team owners expanded for the reviewers
 * who matter (those whose latest review could count). Email owners cannot be matched to a
 * review and never count. An approval that would count is then checked against
 * the approver's repository permission now: GitHub ignores code owners without
 * write access, and so does Elevate (unreadable permission fails closed). The
 * grant and the PR check gather these facts alike and judge them in
 * src/domain/grant-decision.ts.
 */
export async function expandOwners(input: OwnerExpansionInput): Promise<ExpandedOwners> {
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
      // Who counts does not depend on how many are required; the decision applies that.
      required: 1,
    });
  const result = evaluate();
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
    }
  }
  return owners;
}

/** Expands the owners and evaluates invariant 1 on them (src/domain/code-owner-review.ts). */
export async function checkApprovals(input: ApprovalCheckInput): Promise<ApprovalResult> {
  const owners = await expandOwners(input);
  return judgeApprovals({ ...input, owners });
}
