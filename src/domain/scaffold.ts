/**
 * What `elevate init` writes into an access repository, as pure functions of its
 * arguments (and of the stack's outputs when given). Nothing here touches the disk:
 * src/modes/init.ts checks the target and writes these files.
 */
import { parseGrantablePermissionSets, parseGrantableRoles } from "./ceiling.js";
import { AWS_ACCOUNT_ID, AWS_REGION, GITHUB_LOGIN, unsupportedPartitionProblem } from "./config.js";
import { formatDuration } from "./duration.js";
import { SCAFFOLD_WORKFLOWS } from "./scaffold-workflows.js";
import { type StackOutputs, stackOutput } from "./stack-outputs.js";

/** GitHub repository names: letters, digits, `.`, `_`, `-`, at most 100, never `.` or `..`. */
const REPOSITORY_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export interface RepositorySlug {
  owner: string;
  name: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

export function parseRepositorySlug(text: string): Parsed<RepositorySlug> {
  const parts = text.split("/");
  const [owner = "", name = ""] = parts;
  if (parts.length !== 2 || !GITHUB_LOGIN.test(owner) || !REPOSITORY_NAME.test(name) || name === "." || name === "..") {
    return {
      ok: false,
      message: `${JSON.stringify(text)} is not OWNER/NAME of a GitHub repository (e.g. acme/aws-access)`,
    };
  }
  return { ok: true, value: { owner, name } };
}

/** `OWNER/REPO/PATH@REF` as `uses:` takes it (Workflow syntax, jobs.<job_id>.steps[*].uses). */
export interface ActionReference {
  owner: string;
  repo: string;
  /** Folder of action.yml inside the repository, e.g. `action`. */
  path: string;
  ref: string;
  /** True when `ref` is a full commit SHA: the only reference a tag move or a force push cannot change. */
  pinned: boolean;
}

/** A git ref name or commit: no spaces, no `..`, no control characters, none of `~^:?*[\`. */
const GIT_REF = /^(?!.*\.\.)(?!.*\/\/)(?!\/)(?!.*\/$)(?!.*\.lock$)[A-Za-z0-9._/+-]{1,255}$/;
const COMMIT_SHA = /^[0-9a-f]{40}$/;

export function parseActionReference(text: string): Parsed<ActionReference> {
  const shape = `${JSON.stringify(text)} is not OWNER/REPO/action@REF (e.g. acme/elevate/action@<40-hex commit SHA>)`;
  const at = text.lastIndexOf("@");
  if (at < 0) return { ok: false, message: shape };
  const [owner = "", repo = "", ...path] = text.slice(0, at).split("/");
  const ref = text.slice(at + 1);
  if (!GITHUB_LOGIN.test(owner) || !REPOSITORY_NAME.test(repo) || path.length === 0) {
    return { ok: false, message: shape };
  }
  if (path.some((segment) => !/^[A-Za-z0-9._-]+$/.test(segment) || segment === "." || segment === "..")) {
    return { ok: false, message: shape };
  }
  if (!GIT_REF.test(ref)) return { ok: false, message: `${JSON.stringify(ref)} is not a git tag, branch or commit` };
  return { ok: true, value: { owner, repo, path: path.join("/"), ref, pinned: COMMIT_SHA.test(ref) } };
}

export function formatActionReference(action: ActionReference): string {
  return `${action.owner}/${action.repo}/${action.path}@${action.ref}`;
}

export interface ScaffoldInput {
  repository: RepositorySlug;
  accountId: string;
  region: string;
  action: ActionReference;
  /** The deployed stack's outputs; without them the template's fixed names are written. */
  stack?: StackOutputs;
}

export interface ScaffoldFile {
  /** Relative to the repository root, `/`-separated. */
  path: string;
  text: string;
}

/** Problems with arguments that parse but disagree with each other (the stack vs the flags). */
export function scaffoldInputProblems(input: ScaffoldInput): string[] {
  const problems: string[] = [];
  if (!AWS_ACCOUNT_ID.test(input.accountId))
    problems.push(`--account ${JSON.stringify(input.accountId)} is not a 12-digit AWS account id`);
  const partition = unsupportedPartitionProblem(input.region, "region");
  if (partition) problems.push(`--region ${partition}`);
  else if (!AWS_REGION.test(input.region))
    problems.push(`--region ${JSON.stringify(input.region)} is not an AWS region name (e.g. eu-west-1)`);
  if (input.stack) {
    const region = stackOutput(input.stack, "Region");
    const account = stackOutput(input.stack, "AccountId");
    if (region !== undefined && region !== input.region) {
      problems.push(`--region is ${input.region}, but the stack was deployed in ${region}`);
    }
    if (account !== undefined && account !== input.accountId) {
      problems.push(`--account is ${input.accountId}, but the stack was deployed in account ${account}`);
    }
  }
  return problems;
}

interface AwsSettings {
  grantRoleArn: string;
  revokeRoleArn: string;
  automationRoleArn: string;
  grantDocument: string;
  revokeDocument: string;
  notifyTopicArn?: string;
}

/** The `aws:` block: from the stack's outputs, else the names infra/template.yaml gives its resources. */
function awsSettings(input: ScaffoldInput): AwsSettings {
  const role = (name: string) => `arn:aws:iam::${input.accountId}:role/${name}`;
  const out = (key: Parameters<typeof stackOutput>[1]) => (input.stack ? stackOutput(input.stack, key) : undefined);
  const settings: AwsSettings = {
    grantRoleArn: out("GrantRoleArn") ?? role("elevate-grant"),
    revokeRoleArn: out("RevokeRoleArn") ?? role("elevate-revoke"),
    automationRoleArn: out("AutomationRoleArn") ?? role("elevate-automation"),
    grantDocument: out("GrantDocumentName") ?? "Elevate-Grant",
    revokeDocument: out("RevokeDocumentName") ?? "Elevate-Revoke",
  };
  const topic = out("NotifyTopicArn");
  if (topic !== undefined) settings.notifyTopicArn = topic;
  return settings;
}

/** `aws.identityCenter` from the stack's parameters, when it was deployed with an Identity Center instance. */
function identityCenterSettings(input: ScaffoldInput): { instanceArn: string; identityStoreId: string } | undefined {
  const instanceArn = input.stack?.parameters.get("IdentityCenterInstanceArn");
  const identityStoreId = input.stack?.parameters.get("IdentityStoreId");
  return instanceArn && identityStoreId ? { instanceArn, identityStoreId } : undefined;
}

/** A catalog key from a role name: lower case, letters, digits and single hyphens, at most 63. */
function suggestedKey(name: string): string {
  const key = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return key.length >= 1 ? key : "role";
}

/**
 * The stack's ceiling (parameters GrantableRoles and GrantablePermissionSets) as commented
 * catalog entries, so that the ARNs the stack already allows are not typed a second time.
 * Commented, not written: which of them to offer, under which key, is the adopter's choice.
 */
function ceilingExamples(input: ScaffoldInput): string[] {
  const lines: string[] = [];
  const used = new Set<string>();
  const unique = (key: string) => {
    let candidate = key;
    for (let n = 2; used.has(candidate); n++) candidate = `${key.slice(0, 60)}-${n}`;
    used.add(candidate);
    return candidate;
  };
  const roles = parseGrantableRoles(input.stack?.parameters.get("GrantableRoles") ?? "");
  if (roles.ok) {
    for (const [arn, max] of roles.ceiling.roles) {
      lines.push(`#   ${unique(suggestedKey(arn.slice(arn.lastIndexOf("/") + 1)))}:`);
      lines.push(`#     arn: ${arn}`, `#     maxDuration: ${formatDuration(max)}`);
    }
  }
  const sets = parseGrantablePermissionSets(input.stack?.parameters.get("GrantablePermissionSets") ?? "");
  if (sets.ok) {
    for (const [pair, max] of sets.ceiling.entries) {
      const at = pair.lastIndexOf("@");
      const [arn, account] = [pair.slice(0, at), pair.slice(at + 1)];
      lines.push(`#   ${unique(`permission-set-${account}`)}:`);
      lines.push(
        `#     permissionSet: ${arn}`,
        `#     account: "${account}"`,
        `#     maxDuration: ${formatDuration(max)}`,
      );
    }
  }
  return lines;
}

function configFile(input: ScaffoldInput): string {
  const aws = awsSettings(input);
  const source = input.stack
    ? `from the outputs of stack ${input.stack.stackName ?? "(unnamed)"}`
    : "with the names infra/template.yaml gives its resources; check them against the stack's outputs";
  const exampleRole =
    (input.stack ? stackOutput(input.stack, "ExampleRoleArn") : undefined) ??
    `arn:aws:iam::${input.accountId}:role/elevated/EC2_FullAccess_Role`;
  const center = identityCenterSettings(input);
  const examplePermissionSet = input.stack ? stackOutput(input.stack, "ExamplePermissionSetArn") : undefined;
  const ceiling = ceilingExamples(input);
  const fromCeiling =
    ceiling.length === 0
      ? ""
      : `# The stack's GrantableRoles / GrantablePermissionSets allow these; uncomment the ones to
# offer (rename the keys as you like; each key is a folder under requests/):
${ceiling.join("\n")}
`;
  return `# Elevate configuration for ${input.repository.owner}/${input.repository.name}: who may request which
# AWS role, for how long, with how many approvals. Owned by the platform team (.github/CODEOWNERS).
# Every key is checked and unknown keys are errors; the keys, their defaults and rules are in
# the Elevate docs, docs/config.md. Check this file with \`npx elevate doctor\`.
version: 1
aws:
  # Written by \`elevate init\` ${source}.
  region: ${input.region}
  accountId: "${input.accountId}" # quoted: an id, not a number
  grantRoleArn: ${aws.grantRoleArn} # assumed via OIDC by the grant workflow only
  revokeRoleArn: ${aws.revokeRoleArn} # assumed via OIDC by the revoke workflow only
  automationRoleArn: ${aws.automationRoleArn}
  grantDocument: ${aws.grantDocument}
  revokeDocument: ${aws.revokeDocument}
${aws.notifyTopicArn === undefined ? "  # notifyTopicArn: arn:aws:sns:REGION:ACCOUNT:Elevate # optional" : `  notifyTopicArn: ${aws.notifyTopicArn}`}
${
  center
    ? `  identityCenter: # the stack's IdentityCenterInstanceArn / IdentityStoreId (permission-set roles)
    instanceArn: ${center.instanceArn}
    identityStoreId: ${center.identityStoreId}`
    : "  # identityCenter: {instanceArn: arn:aws:sso:::instance/ssoins-…, identityStoreId: d-…} # for permission-set roles"
}
defaults:
  maxDuration: 1h
  approvals: 1 # distinct code-owner approvals required
  requireTicket: false
# GitHub login -> the user's identities; only listed logins may request. An IAM user must
# be under the stack's EligibleUserPath and tagged elevate:eligible=true; an Identity Center
# user (its UserName) a member of the stack's IdentityCenterEligibleGroupId
# (docs/adoption.md). For example:
#   alice: alice.smith                              # an IAM user
#   bob: {identityCenterUser: bob@example.com}      # signs in through Identity Center
#   carol: {iamUser: carol, identityCenterUser: carol@example.com}
users: {}
# One entry per role; the key is the folder under requests/, and .github/CODEOWNERS names
# its approvers. For example:
#   ec2-admin:
#     arn: ${exampleRole}
#     maxDuration: 2h
#     approvals: 2
#     requesters: [alice]
# or an Identity Center permission set in an account (users.<login>.identityCenterUser):
#   prod-admin:
#     permissionSet: ${examplePermissionSet ?? "arn:aws:sso:::permissionSet/ssoins-…/ps-…"}
#     account: "ACCOUNT_ID"
${fromCeiling}roles: {}
`;
}

/** Owners for everything until the adopter names their teams: `@OWNER/platform`. */
export function placeholderOwner(repository: RepositorySlug): string {
  return `@${repository.owner}/platform`;
}

function codeownersFile(input: ScaffoldInput): string {
  const owner = placeholderOwner(input.repository);
  return `# CODEOWNERS for Elevate: who approves which request, and who may change Elevate itself.
# Syntax: https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners
# One pattern per line, then its owners. The LAST matching line wins, so general lines come
# first. Every team listed needs write access to this repository, or GitHub ignores the line.
# Elevate reads this file from the pull request's BASE branch when it counts approvals.
#
# Replace ${owner} with your platform team, and add one line per role in
# .github/elevate.yml after the fallback, e.g.:
#   /requests/ec2-admin/ @${input.repository.owner}/ec2-approvers

# Fallback: a role without its own line is approved by the platform team.
/requests/ ${owner}

# The config, this file and the workflows decide who gets access: the platform team only.
/.github/ ${owner}
`;
}

function requestsReadme(input: ScaffoldInput): string {
  const slug = `${input.repository.owner}/${input.repository.name}`;
  return `# Access requests

Each file here asks for temporary access to one AWS role. To ask, open a pull request
on ${slug} that **adds** one file:

\`\`\`
requests/<role>/<id>.yaml
\`\`\`

- \`<role>\` is a key of \`roles:\` in [\`.github/elevate.yml\`](../.github/elevate.yml).
- \`<id>\` names the grant everywhere (the IAM policy \`elevate-<id>\`, the audit log):
  lower-case letters, digits and hyphens, 3 to 63 characters, starting with a letter or
  digit (\`^[a-z0-9][a-z0-9-]{2,62}$\`), unique across all of \`requests/\`. The file ends
  in \`.yaml\` or \`.yml\`.

\`\`\`yaml
requester: alice # your GitHub login; you must be the PR author
role: ec2-admin # must equal the folder name
duration: 2h # 90m, 2h, 1h30m; at least 15m, at most the role's maxDuration
reason: Resize the web ASG during INC-1234 # 10..500 printable characters, one line
ticket: INC-1234 # required when the role sets requireTicket
start: 2026-11-30T09:00:00Z # optional; RFC 3339 with Z or an offset; default: at merge
\`\`\`

The window is \`notBefore = max(merge time, start)\`, \`notAfter = notBefore + duration\`.

- Only **added** files grant. Editing or renaming an existing request grants nothing;
  deleting one in a merged PR revokes it early.
- A PR that adds a request file must change nothing outside \`requests/\`.
- The file is strict YAML: one document, no anchors, aliases, merge keys, tags or
  duplicate keys, at most 8 KiB. Values stay text (\`yes\` is the word "yes").

With the Elevate CLI (\`elevate\`), write and check a request before opening the PR:

\`\`\`sh
elevate request ec2-admin --duration 2h --reason "Resize the web ASG during INC-1234"
elevate validate requests/ec2-admin/<id>.yaml
elevate plan requests/ec2-admin/<id>.yaml   # the exact policy a merge would write
\`\`\`

The code owners of the role's folder (\`.github/CODEOWNERS\`) review and approve. The check
on the pull request posts the plan and the approvals still missing; after the merge the
grant workflow re-checks everything and comments the result, with the console link and
a CLI profile, on the pull request.
`;
}

/** Every file `elevate init` writes, in the order it reports them. */
export function scaffoldFiles(input: ScaffoldInput): ScaffoldFile[] {
  const uses = `${formatActionReference(input.action)}${input.action.pinned ? "" : " # pin to a commit SHA"}`;
  return [
    { path: ".github/elevate.yml", text: configFile(input) },
    { path: ".github/CODEOWNERS", text: codeownersFile(input) },
    ...Object.entries(SCAFFOLD_WORKFLOWS).map(([name, render]) => ({
      path: `.github/workflows/${name}`,
      text: render(uses),
    })),
    { path: "requests/README.md", text: requestsReadme(input) },
  ];
}
