/**
 * `elevate doctor --github`: what GitHub must enforce for Elevate's guarantees to hold
 * (docs/adoption.md step 4), judged from facts read through the REST API. A setting
 * counts when either a ruleset (GET /repos/{owner}/{repo}/rules/branches/{branch}) or
 * classic branch protection (GET …/branches/{branch}/protection) enforces it.
 */
import { type Finding, finding } from "./doctor-findings.js";
import { FILE_START } from "./errors.js";

/** The branch the AWS roles trust. */
export const PROTECTED_BRANCH = "main";
/** The required status check: the `check` job of elevate-check.yml. */
export const REQUIRED_CHECK = "check";
/** GitHub: the immutable subject format is the default for repositories created on or after this day. */
export const IMMUTABLE_SUBJECT_SINCE = new Date("2026-07-15T00:00:00Z");

/** One entry of "Get rules for a branch". */
export interface BranchRule {
  type: string;
  parameters?: Record<string, unknown>;
  rulesetId?: number;
}

export interface RulesetFacts {
  id: number;
  name: string;
  /** Undefined when the token may not see the bypass list (it needs admin). */
  bypassActors: unknown[] | undefined;
}

/** The subset of "Get branch protection" Elevate needs. */
export interface ClassicProtection {
  requiredReviews?: {
    requireCodeOwnerReviews: boolean;
    dismissStaleReviews: boolean;
    requireLastPushApproval: boolean;
    requiredApprovingReviewCount: number;
    bypassAllowances: number;
  };
  enforceAdmins: boolean;
  requiredChecks: string[];
  allowForcePushes: boolean;
  allowDeletions: boolean;
}

export type Readable<T> = { ok: true; value: T } | { ok: false; status: number };

export interface TeamFacts {
  /** `@org/slug` as written in CODEOWNERS. */
  team: string;
  file: string;
  line: number;
  /** Members, or the HTTP status that refused the listing. */
  members: Readable<number>;
}

export interface GitHubFacts {
  repository: string;
  repositoryId: number;
  ownerId: number;
  createdAt: Date;
  defaultBranch: string;
  rules: Readable<BranchRule[]>;
  rulesets: RulesetFacts[];
  classic: Readable<ClassicProtection | undefined>;
  subject: Readable<{ useDefault: boolean; includeClaimKeys: string[] }>;
  teams: TeamFacts[];
}

/** The `sub` claim of a workflow run on `main` of this repository, in the format GitHub will issue. */
export function expectedSubjects(facts: GitHubFacts): string[] {
  const [owner, name] = facts.repository.split("/");
  const names = `repo:${facts.repository}:ref:refs/heads/${PROTECTED_BRANCH}`;
  const immutable = `repo:${owner}@${facts.ownerId}/${name}@${facts.repositoryId}:ref:refs/heads/${PROTECTED_BRANCH}`;
  // Older repositories keep the name format unless an admin opted them in: either may be issued.
  return facts.createdAt >= IMMUTABLE_SUBJECT_SINCE ? [immutable] : [names, immutable];
}

function settingsFile(facts: GitHubFacts, page: string): string {
  return `github.com/${facts.repository}/settings/${page}`;
}

export function githubFindings(facts: GitHubFacts): Finding[] {
  const findings: Finding[] = [];
  const rulesFile = settingsFile(facts, "rules");
  const error = (message: string, file = rulesFile) => findings.push(finding(file, FILE_START, "error", message));
  const warning = (message: string, file = rulesFile) => findings.push(finding(file, FILE_START, "warning", message));

  if (facts.defaultBranch !== PROTECTED_BRANCH) {
    error(
      `the default branch is ${facts.defaultBranch}, but the AWS roles trust refs/heads/${PROTECTED_BRANCH}: grants would never run`,
      settingsFile(facts, "branches"),
    );
  }

  const rules = facts.rules.ok ? facts.rules.value : [];
  const classic = facts.classic.ok ? facts.classic.value : undefined;
  if (!facts.rules.ok) warning(`cannot read the rules of ${PROTECTED_BRANCH} (HTTP ${facts.rules.status})`);
  if (!facts.classic.ok && facts.classic.status !== 404) {
    warning(
      `cannot read the classic branch protection of ${PROTECTED_BRANCH} (HTTP ${facts.classic.status}; it needs Administration: read)`,
    );
  }
  const pullRequestRules = rules.filter((rule) => rule.type === "pull_request");
  const reviews = classic?.requiredReviews;
  if (pullRequestRules.length === 0 && !reviews) {
    error(
      `nothing requires a pull request to merge into ${PROTECTED_BRANCH}: anyone who can push can change the config and the workflows`,
    );
  } else {
    const anyRule = (key: string, test: (value: unknown) => boolean) =>
      pullRequestRules.some((rule) => test(rule.parameters?.[key]));
    const require = (ruleKey: string, classicValue: boolean | undefined, message: string) => {
      if (!anyRule(ruleKey, (v) => v === true) && classicValue !== true) error(message);
    };
    require("require_code_owner_review", reviews?.requireCodeOwnerReviews, "code-owner review is not required: GitHub lets a request merge without its role's approvers");
    require("dismiss_stale_reviews_on_push", reviews?.dismissStaleReviews, "stale approvals are not dismissed on push: an approval would cover later edits of the request");
    require("require_last_push_approval", reviews?.requireLastPushApproval, "approval of the most recent push is not required: the last pusher could approve their own change");
    const count = Math.max(
      reviews?.requiredApprovingReviewCount ?? 0,
      ...pullRequestRules.map((rule) => Number(rule.parameters?.required_approving_review_count ?? 0)),
    );
    if (count < 1) error("no approving review is required to merge");
  }

  const checkRules = rules.filter((rule) => rule.type === "required_status_checks");
  const ruleChecks = checkRules.flatMap((rule) => {
    const list = rule.parameters?.required_status_checks;
    return Array.isArray(list) ? list.map((entry) => String((entry as { context?: unknown }).context)) : [];
  });
  if (![...ruleChecks, ...(classic?.requiredChecks ?? [])].includes(REQUIRED_CHECK)) {
    warning(
      `the status check "${REQUIRED_CHECK}" (elevate-check.yml) is not required: a request can merge before its plan was checked`,
    );
  }
  if (!rules.some((rule) => rule.type === "non_fast_forward") && classic?.allowForcePushes !== false) {
    warning(`force pushes to ${PROTECTED_BRANCH} are not blocked: history is the audit log`);
  }
  if (!rules.some((rule) => rule.type === "deletion") && classic?.allowDeletions !== false) {
    warning(`deleting ${PROTECTED_BRANCH} is not blocked`);
  }

  // Bypass: any actor who may bypass the rules can merge without the reviews above.
  const rulesetIds = new Set(rules.flatMap((rule) => (rule.rulesetId === undefined ? [] : [rule.rulesetId])));
  for (const ruleset of facts.rulesets.filter((r) => rulesetIds.has(r.id))) {
    if (ruleset.bypassActors === undefined) {
      warning(
        `cannot see who may bypass ruleset "${ruleset.name}" (the token needs admin); its bypass list must be empty`,
      );
    } else if (ruleset.bypassActors.length > 0) {
      error(
        `ruleset "${ruleset.name}" has ${ruleset.bypassActors.length} bypass actor(s): they can merge without the required reviews; empty its bypass list`,
      );
    }
  }
  if (classic && !classic.enforceAdmins && reviews) {
    error(
      `classic branch protection of ${PROTECTED_BRANCH} does not apply to administrators ("Do not allow bypassing the above settings" is off)`,
    );
  }
  if (reviews && reviews.bypassAllowances > 0) {
    error(`classic branch protection lets ${reviews.bypassAllowances} actor(s) bypass the required pull request`);
  }

  const actionsFile = settingsFile(facts, "actions");
  if (!facts.subject.ok) {
    warning(`cannot read the OIDC subject customization (HTTP ${facts.subject.status})`, actionsFile);
  } else if (!facts.subject.value.useDefault) {
    error(
      `the OIDC subject is customized (${facts.subject.value.includeClaimKeys.join(", ")}): the grant and revoke roles trust only the default format; set use_default back to true`,
      actionsFile,
    );
  }

  for (const team of facts.teams) {
    if (!team.members.ok) {
      findings.push(
        finding(
          team.file,
          { line: team.line, col: 1 },
          "error",
          team.members.status === 404
            ? `${team.team} does not exist, or the members token cannot see it: approvals from it never count`
            : `cannot read the members of ${team.team} with the members token (HTTP ${team.members.status}): approvals from it fail closed`,
        ),
      );
    } else if (team.members.value === 0) {
      findings.push(
        finding(
          team.file,
          { line: team.line, col: 1 },
          "error",
          `${team.team} has no members: nobody in it can approve`,
        ),
      );
    }
  }
  return findings;
}
