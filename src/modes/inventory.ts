/**
 * The revoker's two sources of facts, shared by revoke mode and `elevate status`:
 *   - IAM (the only source of truth for what is granted, DESIGN.md invariant 6):
 *     every `elevate-*` inline policy of every user, and the cut-off policies on
 *     the roles, read with GetAccountAuthorizationDetails in ⌈(users + roles) / 1000⌉
 *     calls (its MaxItems counts users and roles together);
 *   - git (what was asked for and granted): request files added on the default
 *     branch and the grant evidence notes in refs/notes/elevate, read with one
 *     `git log`.
 */
import { GetRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import { type RoleDetail, readAuthorizationDetails, type UserDetail } from "../adapters/aws.js";
import { git, NOTES_REF, readFileAt } from "../adapters/git.js";
import { type ElevateConfig, findRole, findUser } from "../domain/config.js";
import { iamPolicySize, parseGrantPolicy } from "../domain/grant-policy.js";
import { parseEvidenceNote, parseRoleArn } from "../domain/grant-report.js";
import { parseRequestPath } from "../domain/request-path.js";
import {
  type Inventory,
  type InventoryRole,
  type KnownRequest,
  parseExactCutoff,
  readRequestFacts,
  requestIdOfPolicyName,
  rolesNeedingSessionDuration,
  userOfCutoffPolicyName,
} from "../domain/revoke-plan.js";

export interface InventoryReadResult {
  inventory: Inventory;
  /** GetAccountAuthorizationDetails calls made (the listing budget: ⌈users / 1000⌉ + 1 for up to 1,000 roles). */
  listingCalls: number;
  /** GetRole calls made for MaxSessionDuration. */
  getRoleCalls: number;
}

function decode(document: string | undefined): string {
  if (document === undefined) return "";
  // IAM returns policy documents URL-encoded (RFC 3986), GetAccountAuthorizationDetails included.
  return /^%7b/i.test(document) ? decodeURIComponent(document) : document;
}

/**
 * Builds the inventory from GetAccountAuthorizationDetails pages. Throws when
 * IAM answers for another account than the config's: the revoker would
 * otherwise report every grant as missing, or cut off on the wrong roles.
 */
export function buildInventory(
  accountId: string,
  users: readonly UserDetail[],
  roles: readonly RoleDetail[],
): Inventory {
  const inventory: Inventory = {
    accountId,
    grants: [],
    cutoffs: [],
    roles: new Map<string, InventoryRole>(),
  };
  const roleMap = inventory.roles as Map<string, InventoryRole>;
  for (const user of users) {
    const name = user.UserName ?? "";
    const account = user.Arn?.split(":")[4];
    if (account !== undefined && account !== accountId) {
      throw new Error(
        `IAM listed user ${user.Arn}, which is not in aws.accountId ${accountId}; the credentials are for another account`,
      );
    }
    for (const p of user.UserPolicyList ?? []) {
      const policyName = p.PolicyName ?? "";
      const requestId = requestIdOfPolicyName(policyName);
      if (requestId === undefined) continue;
      const policy = parseGrantPolicy(decode(p.PolicyDocument));
      inventory.grants.push({ iamUser: name, policyName, requestId, ...(policy ? { policy } : {}) });
    }
  }
  for (const role of roles) {
    const arn = role.Arn ?? "";
    const roleName = role.RoleName ?? "";
    const parsed = parseRoleArn(arn);
    if (parsed && parsed.accountId !== accountId) {
      throw new Error(`IAM listed role ${arn}, which is not in aws.accountId ${accountId}`);
    }
    const sizes = new Map<string, number>();
    for (const p of role.RolePolicyList ?? []) {
      const policyName = p.PolicyName ?? "";
      const document = decode(p.PolicyDocument);
      sizes.set(policyName, iamPolicySize(document));
      // On roles only cut-offs are Elevate's. Other elevate-* names there are
      // the stack's own policies (elevate-grant, elevate-automation …).
      const iamUser = userOfCutoffPolicyName(policyName);
      if (iamUser === undefined) continue;
      const revokedAt = parseExactCutoff(document, iamUser);
      inventory.cutoffs.push({ roleArn: arn, roleName, policyName, iamUser, ...(revokedAt ? { revokedAt } : {}) });
    }
    roleMap.set(arn, { arn, name: roleName, inlinePolicySizes: sizes });
  }
  return inventory;
}

/**
 * Reads the inventory from IAM. Throttling is retried by the SDK client
 * (adaptive retry, see createClients); a page that still fails fails the whole
 * read, because a partial inventory would look like revoked grants.
 */
export async function readInventory(iam: IAMClient, accountId: string, now: Date): Promise<InventoryReadResult> {
  const { users, roles, calls } = await readAuthorizationDetails(iam, ["User", "Role"]);
  const inventory = buildInventory(accountId, users, roles);
  let getRoleCalls = 0;
  for (const arn of rolesNeedingSessionDuration(inventory, now)) {
    const role = inventory.roles.get(arn) as InventoryRole;
    const out = await iam.send(new GetRoleCommand({ RoleName: role.name }));
    getRoleCalls++;
    const max = out.Role?.MaxSessionDuration;
    if (typeof max === "number") role.maxSessionDurationSeconds = max;
  }
  return { inventory, listingCalls: calls, getRoleCalls };
}

// --- git ------------------------------------------------------------------------------------

const RECORD = "\x1e";
const FIELD = "\x1f";
const NOTES_END = "\x1d";

/** A known request with where it was added: the commit and its committer time (the merge time). */
export type GitRequest = KnownRequest & { addCommit: string; addedAt: Date };

/**
 * Request files added (and deleted) on the first-parent history of `ref`, with
 * the grant evidence notes of those commits, in one `git log`. `-m
 * --first-parent` shows each merge commit's changes against the branch it was
 * merged into, so a PR's request file is "added" by its merge commit (where the
 * evidence note is) and a file added only on an unmerged branch is not seen.
 * The checkout must have full history (actions/checkout `fetch-depth: 0`).
 */
export async function readKnownRequests(cwd: string, ref: string): Promise<Map<string, GitRequest>> {
  // A revision given on the command line must never be read as a git option (`--output=…`).
  if (ref.startsWith("-") || ref.trim() === "") throw new Error(`${JSON.stringify(ref)} is not a git revision`);
  const shallow = (await git(cwd, ["rev-parse", "--is-shallow-repository"])).trim();
  if (shallow === "true") {
    throw new Error("the checkout is shallow; check out with 'fetch-depth: 0' so request history can be read");
  }
  const out = await git(cwd, [
    "-c",
    "core.quotePath=false",
    "log",
    "--reverse",
    "--first-parent",
    "-m",
    "--no-renames",
    "--diff-filter=AD",
    "--name-status",
    `--notes=${NOTES_REF}`,
    `--format=${RECORD}%H${FIELD}%ct${FIELD}%N${NOTES_END}`,
    ref,
    "--",
    "requests/",
  ]);
  const known = new Map<string, GitRequest>();
  for (const record of out.split(RECORD)) {
    if (!record.trim()) continue;
    const notesEnd = record.indexOf(NOTES_END);
    const header = notesEnd >= 0 ? record.slice(0, notesEnd) : record;
    const [sha = "", time = "0", notes = ""] = header.split(FIELD);
    const mergedAt = new Date(Number(time) * 1000);
    const body = notesEnd >= 0 ? record.slice(notesEnd + 1) : "";
    for (const line of body.split("\n")) {
      const match = /^([AD])\t(.+)$/.exec(line);
      if (!match) continue;
      const path = match[2] as string;
      const parsed = parseRequestPath(path);
      if (!parsed.ok) continue;
      const id = parsed.value.id;
      if (match[1] === "A") {
        known.set(id, { requestId: id, file: path, deleted: false, addCommit: sha, addedAt: mergedAt });
      } else {
        const entry = known.get(id);
        if (entry && entry.file === path) entry.deleted = true;
      }
    }
    for (const evidence of parseEvidenceNote(notes)) {
      const entry = known.get(evidence.requestId);
      if (!entry || evidence.event !== "granted" || !evidence.window || !evidence.iamUser || !evidence.roleArn)
        continue;
      const notBefore = new Date(evidence.window.notBefore);
      const notAfter = new Date(evidence.window.notAfter);
      if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) continue;
      entry.granted = { iamUser: evidence.iamUser, roleArn: evidence.roleArn, notBefore, notAfter };
    }
  }
  return known;
}

/**
 * For the given request ids that have no evidence note, reads the request file as
 * added and resolves its user and role against the config; a file that cannot be
 * read leaves `requested` unset (drift "unverifiable"). Only the ids of live grants
 * are passed, so this costs one `git show` per grant without evidence.
 */
export async function completeRequestFacts(
  cwd: string,
  config: ElevateConfig,
  known: Map<string, GitRequest>,
  requestIds: Iterable<string>,
): Promise<void> {
  for (const id of requestIds) {
    const entry = known.get(id);
    if (!entry) continue;
    if (entry.granted || entry.requested) continue;
    const text = await readFileAt(cwd, entry.addCommit, entry.file);
    const facts = text === undefined ? undefined : readRequestFacts(text);
    if (!facts || facts.durationMs === undefined) continue;
    const folder = entry.file.split("/")[1] ?? "";
    const iamUser = facts.requester === undefined ? undefined : findUser(config, facts.requester)?.iamUser;
    const roleArn = findRole(config, facts.role ?? folder)?.arn;
    entry.requested = {
      durationMs: facts.durationMs,
      mergedAt: entry.addedAt,
      ...(facts.start ? { start: facts.start } : {}),
      ...(iamUser ? { iamUser } : {}),
      ...(roleArn ? { roleArn } : {}),
    };
  }
}
