/**
 * `elevate doctor --aws`: the GitHub side of the stack — the OIDC provider's audience and
 * the grant and revoke roles' trusts naming this repository (its id pinned). Pure: the
 * facts come from src/modes/doctor-aws.ts; each finding says what to run.
 */
import type { ElevateConfig } from "./config.js";
import type { AwsFacts, Locate } from "./doctor-aws.js";
import { type Finding, finding } from "./doctor-findings.js";

/** The audience GitHub's OIDC tokens carry for AWS (the trusts pin it). */
export const STS_AUDIENCE = "sts.amazonaws.com";

/** Every `token.actions.githubusercontent.com:<claim>` value the statements of a trust policy require. */
export function trustedClaims(trust: unknown, claim: string): string[] {
  const statements = (trust as { Statement?: unknown })?.Statement;
  const list = Array.isArray(statements) ? statements : statements ? [statements] : [];
  const values: string[] = [];
  for (const statement of list as { Condition?: Record<string, Record<string, unknown>> }[]) {
    for (const operator of Object.values(statement.Condition ?? {})) {
      const value = operator[`token.actions.githubusercontent.com:${claim}`];
      if (typeof value === "string") values.push(value);
      else if (Array.isArray(value)) values.push(...value.map(String));
    }
  }
  return values;
}

function subjectNames(sub: string, repository: string): boolean {
  const [owner, name] = repository.split("/");
  const lower = sub.toLowerCase();
  return (
    lower.startsWith(`repo:${repository.toLowerCase()}:`) ||
    new RegExp(`^repo:${owner}@\\d+/${name}@\\d+:`, "i").test(sub)
  );
}

export function trustFindings(
  facts: Pick<AwsFacts, "oidcProvider" | "trusts" | "repository">,
  config: ElevateConfig,
  file: string,
  locate: Locate,
): Finding[] {
  const out: Finding[] = [];
  const provider = facts.oidcProvider;
  if (!provider.clientIds.ok) {
    out.push(
      finding(
        file,
        locate(["aws", "grantRoleArn"]),
        "error",
        `the GitHub OIDC provider ${provider.arn} cannot be read: ${provider.clientIds.message}; the grant and revoke workflows could not assume their roles (deploy the stack with CreateOidcProvider=true unless the account has the provider)`,
      ),
    );
  } else if (!provider.clientIds.value.includes(STS_AUDIENCE)) {
    out.push(
      finding(
        file,
        locate(["aws", "grantRoleArn"]),
        "error",
        `the GitHub OIDC provider ${provider.arn} does not list the audience ${STS_AUDIENCE}; add it (aws iam add-client-id-to-open-id-connect-provider --open-id-connect-provider-arn ${provider.arn} --client-id ${STS_AUDIENCE})`,
      ),
    );
  }

  for (const role of facts.trusts) {
    const at = locate(["aws", role.configKey]);
    if (!role.trust.ok) {
      out.push(
        finding(
          file,
          at,
          "error",
          `cannot read the trust policy of ${role.arn}: ${role.trust.message}; is the stack deployed in account ${config.aws.accountId}, and may these credentials call iam:GetRole?`,
        ),
      );
      continue;
    }
    const subjects = trustedClaims(role.trust.value, "sub");
    if (subjects.length === 0) {
      out.push(
        finding(
          file,
          at,
          "error",
          `${role.arn} trusts no GitHub OIDC subject; its trust must pin the repository, main and its workflow: redeploy the stack (infra/template.yaml) with GitHubOwner, GitHubRepo and GitHubRepoId of this repository`,
        ),
      );
    } else if (facts.repository) {
      const repository = facts.repository;
      const others = subjects.filter((sub) => !subjectNames(sub, repository));
      if (others.length > 0) {
        out.push(
          finding(
            file,
            at,
            "error",
            `${role.arn} trusts ${others.join(", ")}, not this repository ${repository}; redeploy the stack with GitHubOwner/GitHubRepo of ${repository}`,
          ),
        );
      }
    }
    if (trustedClaims(role.trust.value, "repository_id").length === 0) {
      out.push(
        finding(
          file,
          at,
          "warning",
          `${role.arn} does not pin the repository id; a re-created repository of the same name would be trusted: redeploy the stack from the current template with GitHubRepoId (gh api repos/${facts.repository ?? "OWNER/REPO"} --jq .id)`,
        ),
      );
    }
  }
  return out;
}
