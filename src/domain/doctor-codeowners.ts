/**
 * `elevate doctor`: CODEOWNERS against the config. Every role folder must have owners
 * (otherwise no request for it can ever be approved), the files that decide who gets
 * access must be owned, and a role's owners must not be only its own requesters (who
 * would then approve each other's access). Team owners are resolved online only
 * (`doctor --github`); here a team counts as an owner who is not a requester.
 */
import { formatOwner, type Owner, ownersOf, parseCodeowners, sameLogin } from "./codeowners.js";
import { type ElevateConfig, findRole } from "./config.js";
import { type Finding, finding } from "./doctor-findings.js";
import { FILE_START } from "./errors.js";

/** Files whose owners decide who gets access and what a grant does. */
export const GUARDED_PATHS = [
  ".github/elevate.yml",
  ".github/CODEOWNERS",
  ".github/workflows/elevate-check.yml",
  ".github/workflows/elevate-grant.yml",
  ".github/workflows/elevate-revoke.yml",
] as const;

function lineOf(line: number | undefined) {
  return line === undefined ? FILE_START : { line, col: 1 };
}

/** Users the approvals rule can count (emails never match a reviewer's login). */
function userOwners(owners: readonly Owner[]): string[] {
  return owners.flatMap((owner) => (owner.kind === "user" ? [owner.login] : []));
}

export function codeownersFindings(text: string, file: string, config: ElevateConfig | undefined): Finding[] {
  const findings: Finding[] = [];
  const { rules, errors } = parseCodeowners(text);
  for (const error of errors) {
    findings.push(
      finding(
        file,
        error,
        "error",
        `${error.kind}: ${error.message}; GitHub skips this line, so its paths lose their owners`,
      ),
    );
  }
  for (const rule of rules) {
    if (rule.owners.length === 0 && /^\/?requests\b/.test(rule.pattern)) {
      findings.push(
        finding(
          file,
          { line: rule.line, col: 1 },
          "error",
          `${rule.pattern} has no owners: requests under it can never be approved`,
        ),
      );
    }
    for (const owner of rule.owners) {
      if (owner.kind === "email") {
        findings.push(
          finding(
            file,
            { line: rule.line, col: 1 },
            "warning",
            `${owner.email}: Elevate counts approvals by GitHub login, so an email owner never counts; write @login or @org/team`,
          ),
        );
      }
    }
  }
  for (const path of GUARDED_PATHS) {
    const owned = ownersOf(rules, path);
    if (owned.owners.length === 0) {
      findings.push(
        finding(
          file,
          lineOf(owned.line),
          "error",
          `${path} has no code owner; whoever can merge a change to it decides who gets access (own /.github/ by the platform team)`,
        ),
      );
    }
  }
  if (!config) return findings;
  for (const key of Object.keys(config.roles)) {
    const role = findRole(config, key);
    if (!role) continue;
    const samplePath = `requests/${key}/example.yaml`;
    const owned = ownersOf(rules, samplePath);
    const at = lineOf(owned.line);
    if (owned.owners.length === 0) {
      findings.push(
        finding(
          file,
          at,
          "error",
          `requests/${key}/ (role ${key}) has no code owner: no request for it can ever be approved; add "/requests/${key}/ @org/approvers"`,
        ),
      );
      continue;
    }
    const countable = owned.owners.filter((owner) => owner.kind !== "email");
    const teams = countable.filter((owner) => owner.kind === "team");
    const users = userOwners(countable);
    const isRequester = (login: string) => role.requesters.some((r) => sameLogin(r, login));
    if (teams.length === 0) {
      // Each requester needs `approvals` owners other than themselves.
      const short = role.requesters.filter((r) => users.filter((u) => !sameLogin(u, r)).length < role.approvals);
      if (short.length > 0) {
        findings.push(
          finding(
            file,
            at,
            "error",
            `role ${key} needs ${role.approvals} approval(s), but requests/${key}/ has only ${users.length} user owner(s) (${countable.map(formatOwner).join(", ")}), so requests by ${short.join(", ")} can never be approved`,
          ),
        );
      } else if (users.length > 0 && users.every(isRequester)) {
        findings.push(
          finding(
            file,
            at,
            "warning",
            `every owner of requests/${key}/ (${users.map((u) => `@${u}`).join(", ")}) may also request role ${key}: requesters approve each other; add an owner who does not request it`,
          ),
        );
      }
    }
  }
  return findings;
}
