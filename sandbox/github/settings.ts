/**
 * Repository settings the sandbox GitHub serves for `elevate doctor --github`: rulesets,
 * classic branch protection and the OIDC subject customization, rendered in the shapes
 * GitHub's REST reference documents:
 *   - "Get rules for a branch" (GET /repos/{owner}/{repo}/rules/branches/{branch}): the
 *     active rules of every ruleset whose conditions include the branch, each with
 *     `ruleset_source_type`, `ruleset_source` and `ruleset_id`;
 *     https://docs.github.com/rest/repos/rules#get-rules-for-a-branch
 *   - "Get a repository ruleset" (GET /repos/{owner}/{repo}/rulesets/{ruleset_id}):
 *     `bypass_actors` only for callers who can edit the ruleset (admins), and
 *     `current_user_can_bypass`; https://docs.github.com/rest/repos/rules#get-a-repository-ruleset
 *   - "Get branch protection" (GET /repos/{owner}/{repo}/branches/{branch}/protection):
 *     404 "Branch not protected" when there is none; needs Administration: read;
 *     https://docs.github.com/rest/branches/branch-protection#get-branch-protection
 *   - "Get the customization template for an OIDC subject claim for a repository"
 *     (GET /repos/{owner}/{repo}/actions/oidc/customization/sub): `use_default` and
 *     `include_claim_keys`; https://docs.github.com/rest/actions/oidc
 */
import type { RepositoryRecord } from "./state.js";

export interface RulesetRule {
  type: string;
  parameters?: Record<string, unknown>;
}

export interface BypassActor {
  actor_id: number | null;
  actor_type: "Integration" | "OrganizationAdmin" | "RepositoryRole" | "Team" | "DeployKey";
  bypass_mode: "always" | "pull_request";
}

export interface RulesetRecord {
  id: number;
  name: string;
  enforcement: "active" | "evaluate" | "disabled";
  /** `conditions.ref_name.include`: `~DEFAULT_BRANCH`, `~ALL` or `refs/heads/<name>`. */
  include: string[];
  bypassActors: BypassActor[];
  rules: RulesetRule[];
}

/** Classic protection as "Get branch protection" returns it (the fields Elevate reads). */
export interface BranchProtectionRecord {
  required_pull_request_reviews?: {
    dismiss_stale_reviews: boolean;
    require_code_owner_reviews: boolean;
    required_approving_review_count: number;
    require_last_push_approval: boolean;
    bypass_pull_request_allowances?: { users: unknown[]; teams: unknown[]; apps: unknown[] };
  };
  required_status_checks?: { strict: boolean; contexts: string[] };
  enforce_admins: { enabled: boolean };
  allow_force_pushes: { enabled: boolean };
  allow_deletions: { enabled: boolean };
}

export interface RepositorySettings {
  rulesets: RulesetRecord[];
  protection: Map<string, BranchProtectionRecord>;
  oidcSubject: { use_default: boolean; include_claim_keys?: string[] };
}

export function emptySettings(): RepositorySettings {
  return { rulesets: [], protection: new Map(), oidcSubject: { use_default: true } };
}

function includesBranch(ruleset: RulesetRecord, repo: RepositoryRecord, branch: string): boolean {
  return ruleset.include.some(
    (pattern) =>
      pattern === "~ALL" ||
      (pattern === "~DEFAULT_BRANCH" && branch === repo.defaultBranch) ||
      pattern === `refs/heads/${branch}`,
  );
}

export function renderBranchRules(repo: RepositoryRecord, settings: RepositorySettings, branch: string): unknown[] {
  return settings.rulesets
    .filter((ruleset) => ruleset.enforcement === "active" && includesBranch(ruleset, repo, branch))
    .flatMap((ruleset) =>
      ruleset.rules.map((rule) => ({
        ...rule,
        ruleset_source_type: "Repository",
        ruleset_source: repo.fullName,
        ruleset_id: ruleset.id,
      })),
    );
}

export function renderRuleset(repo: RepositoryRecord, ruleset: RulesetRecord, callerIsAdmin: boolean) {
  return {
    id: ruleset.id,
    name: ruleset.name,
    target: "branch",
    source_type: "Repository",
    source: repo.fullName,
    enforcement: ruleset.enforcement,
    conditions: { ref_name: { include: ruleset.include, exclude: [] } },
    rules: ruleset.rules,
    ...(callerIsAdmin ? { bypass_actors: ruleset.bypassActors } : {}),
    current_user_can_bypass: "never",
  };
}
