/**
 * `elevate doctor --github`: reads, through the GitHub REST API, what the branch rules,
 * the team owners and the OIDC subject of the access repository are, and hands the
 * facts to src/domain/doctor-github.ts. Reads only.
 *
 * Tokens: GITHUB_TOKEN (or GH_TOKEN) for the repository; ELEVATE_MEMBERS_TOKEN, when
 * set, for team membership (what the grant's members-token will be), else the same.
 * GITHUB_API_URL points at GitHub Enterprise or the sandbox.
 */
import { git } from "../adapters/git.js";
import { createOctokit, type Octokit } from "../adapters/github.js";
import { parseCodeowners } from "../domain/codeowners.js";
import {
  type BranchRule,
  type ClassicProtection,
  type GitHubFacts,
  PROTECTED_BRANCH,
  type Readable,
  type RulesetFacts,
  type TeamFacts,
} from "../domain/doctor-github.js";
import { UserInputError } from "../domain/errors.js";
import { parseRepositorySlug } from "../domain/scaffold.js";

export interface GitHubAccess {
  token: string;
  membersToken: string;
  apiUrl: string | undefined;
}

export function githubAccess(env: NodeJS.ProcessEnv): GitHubAccess {
  const token = env.GITHUB_TOKEN || env.GH_TOKEN;
  if (!token) {
    throw new UserInputError("--github needs a token in GITHUB_TOKEN or GH_TOKEN (e.g. GITHUB_TOKEN=$(gh auth token))");
  }
  return { token, membersToken: env.ELEVATE_MEMBERS_TOKEN || token, apiUrl: env.GITHUB_API_URL || undefined };
}

/** OWNER/NAME from --repo, else from the origin remote (https, ssh or scp-like URL). */
export async function repositoryOf(root: string, given: string | undefined): Promise<string> {
  const text = given ?? (await git(root, ["remote", "get-url", "origin"]).catch(() => "")).trim();
  const match = given ? [given, given] : /[/:]([^/:]+\/[^/]+?)(?:\.git)?\/?$/.exec(text);
  const slug = parseRepositorySlug(match?.[1] ?? "");
  if (!slug.ok) {
    throw new UserInputError(
      given
        ? `--repo ${slug.message}`
        : "cannot tell the GitHub repository from the origin remote; pass --repo OWNER/NAME",
    );
  }
  return `${slug.value.owner}/${slug.value.name}`;
}

async function readable<T>(call: () => Promise<T>): Promise<Readable<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number") return { ok: false, status };
    throw error;
  }
}

function classicOf(data: Record<string, unknown>): ClassicProtection {
  const reviews = data.required_pull_request_reviews as Record<string, unknown> | undefined;
  const allowances = reviews?.bypass_pull_request_allowances as Record<string, unknown[]> | undefined;
  const checks = data.required_status_checks as { contexts?: string[] } | undefined;
  const enabled = (key: string) => (data[key] as { enabled?: boolean } | undefined)?.enabled === true;
  const protection: ClassicProtection = {
    enforceAdmins: enabled("enforce_admins"),
    requiredChecks: checks?.contexts ?? [],
    allowForcePushes: enabled("allow_force_pushes"),
    allowDeletions: enabled("allow_deletions"),
  };
  if (reviews) {
    protection.requiredReviews = {
      requireCodeOwnerReviews: reviews.require_code_owner_reviews === true,
      dismissStaleReviews: reviews.dismiss_stale_reviews === true,
      requireLastPushApproval: reviews.require_last_push_approval === true,
      requiredApprovingReviewCount: Number(reviews.required_approving_review_count ?? 0),
      bypassAllowances: Object.values(allowances ?? {}).reduce((n, list) => n + (list?.length ?? 0), 0),
    };
  }
  return protection;
}

async function teamFacts(
  members: Octokit,
  codeowners: { path: string; text: string } | undefined,
): Promise<TeamFacts[]> {
  if (!codeowners) return [];
  const seen = new Set<string>();
  const teams: TeamFacts[] = [];
  for (const rule of parseCodeowners(codeowners.text).rules) {
    for (const owner of rule.owners) {
      if (owner.kind !== "team") continue;
      const name = `@${owner.org}/${owner.slug}`;
      if (seen.has(name.toLowerCase())) continue;
      seen.add(name.toLowerCase());
      const count = await readable(async () => {
        const list = await members.paginate("GET /orgs/{org}/teams/{team_slug}/members", {
          org: owner.org,
          team_slug: owner.slug,
          per_page: 100,
        });
        return list.length;
      });
      teams.push({ team: name, file: codeowners.path, line: rule.line, members: count });
    }
  }
  return teams;
}

export async function gatherGitHubFacts(
  access: GitHubAccess,
  repository: string,
  codeowners: { path: string; text: string } | undefined,
): Promise<GitHubFacts> {
  const octokit = createOctokit(access.token, access.apiUrl);
  const [owner = "", repo = ""] = repository.split("/");
  const repoData = await readable(() => octokit.request("GET /repos/{owner}/{repo}", { owner, repo }));
  if (!repoData.ok) {
    throw new UserInputError(
      `cannot read ${repository} with the token (HTTP ${repoData.status}); check GITHUB_TOKEN and --repo`,
    );
  }
  const data = repoData.value.data as unknown as {
    id: number;
    owner: { id: number };
    created_at: string;
    default_branch: string;
  };
  const rules = await readable(async () => {
    const response = await octokit.request("GET /repos/{owner}/{repo}/rules/branches/{branch}", {
      owner,
      repo,
      branch: PROTECTED_BRANCH,
      per_page: 100,
    });
    return (response.data as unknown as Record<string, unknown>[]).map((rule): BranchRule => {
      const entry: BranchRule = { type: String(rule.type) };
      if (rule.parameters && typeof rule.parameters === "object")
        entry.parameters = rule.parameters as Record<string, unknown>;
      if (typeof rule.ruleset_id === "number") entry.rulesetId = rule.ruleset_id;
      return entry;
    });
  });
  const rulesetIds = new Set(
    rules.ok ? rules.value.flatMap((r) => (r.rulesetId === undefined ? [] : [r.rulesetId])) : [],
  );
  const rulesets: RulesetFacts[] = [];
  for (const id of rulesetIds) {
    const ruleset = await readable(() =>
      octokit.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", { owner, repo, ruleset_id: id }),
    );
    if (!ruleset.ok) continue;
    const body = ruleset.value.data as unknown as { name: string; bypass_actors?: unknown[] };
    rulesets.push({ id, name: body.name, bypassActors: body.bypass_actors });
  }
  const classicRead = await readable(() =>
    octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner,
      repo,
      branch: PROTECTED_BRANCH,
    }),
  );
  const classic: Readable<ClassicProtection | undefined> = classicRead.ok
    ? { ok: true, value: classicOf(classicRead.value.data as unknown as Record<string, unknown>) }
    : classicRead.status === 404
      ? { ok: true, value: undefined }
      : classicRead;
  const subjectRead = await readable(() =>
    octokit.request("GET /repos/{owner}/{repo}/actions/oidc/customization/sub", { owner, repo }),
  );
  const subject: GitHubFacts["subject"] = subjectRead.ok
    ? {
        ok: true,
        value: {
          useDefault: (subjectRead.value.data as { use_default: boolean }).use_default === true,
          includeClaimKeys: (subjectRead.value.data as { include_claim_keys?: string[] }).include_claim_keys ?? [],
        },
      }
    : subjectRead;
  const teams = await teamFacts(createOctokit(access.membersToken, access.apiUrl), codeowners);
  return {
    repository,
    repositoryId: data.id,
    ownerId: data.owner.id,
    createdAt: new Date(data.created_at),
    defaultBranch: data.default_branch,
    rules,
    rulesets,
    classic,
    subject,
    teams,
  };
}
