/**
 * The revoker's two sources of facts, shared by revoke mode and `elevate status`:
 *   - IAM (the only source of truth for what is granted, docs/threat-model.md invariant 6):
 *     every `elevate-*` inline policy of every user, and the cut-off policies on
 *     the roles, read with GetAccountAuthorizationDetails in ⌈(users + roles) / 1000⌉
 *     calls (its MaxItems counts users and roles together);
 *   - git (what was asked for): request files added on the default branch, read with
 *     one `git log` of its first-parent history;
 *   - SSM (what Elevate granted): the successful Elevate-Grant executions and their exact
 *     parameters (readGrantRecords), the authority for break-glass grants, which have
 *     no request file.
 * The evidence notes in refs/notes/elevate are evidence for people (`elevate audit`),
 * never an authority here: anyone who can push that ref could write one.
 */
import { GetRoleCommand, type IAMClient } from "@aws-sdk/client-iam";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { type RoleDetail, readAuthorizationDetails, type UserDetail } from "../adapters/aws.js";
import { readSucceededExecutions } from "../adapters/aws-automation.js";
import { git, gitBytes, NOTES_REF, readFileAt } from "../adapters/git.js";
import { type ElevateConfig, findRole, findUser } from "../domain/config.js";
import { iamPolicySize, parseGrantPolicy } from "../domain/grant-policy.js";
import { parseRoleArn } from "../domain/grant-report.js";
import { parseRequestPath } from "../domain/request-path.js";
import {
  type GrantRecord,
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
export async function readInventory(
  iam: IAMClient,
  accountId: string,
  now: Date | (() => Date),
): Promise<InventoryReadResult> {
  const { users, roles, calls } = await readAuthorizationDetails(iam, ["User", "Role"]);
  const inventory = buildInventory(accountId, users, roles);
  let getRoleCalls = 0;
  // A clock is read after the listing: revoke mode passes AWS's, learnt from these very responses.
  for (const arn of rolesNeedingSessionDuration(inventory, typeof now === "function" ? now() : now)) {
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
const HEADER_END = "\x1d";

/** A request file added on the default branch, with the commit that added it and its committer time (the merge time). */
export type GitRequest = KnownRequest & { file: string; addCommit: string; addedAt: Date };
export type KnownEntry = GitRequest;

/**
 * Every note of `ref`, by the object it annotates, in two git calls: `git notes
 * list` (one line `<note blob> <annotated object>` each) and one `git cat-file
 * --batch` for all the blobs. A missing notes ref is no notes (`git notes list`
 * prints nothing for it). Notes are read as UTF-8; a note that is not (people can
 * append to notes) only has its bad bytes replaced, the batch stays aligned.
 */
export async function readAllNotes(cwd: string, ref: string = NOTES_REF): Promise<Map<string, string>> {
  const notes = new Map<string, string>();
  const listed = (await git(cwd, ["notes", `--ref=${ref}`, "list"]))
    .split("\n")
    .map((line) => /^([0-9a-f]{40,64}) ([0-9a-f]{40,64})$/.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null);
  if (listed.length === 0) return notes;
  const out = await gitBytes(cwd, ["cat-file", "--batch"], {
    input: `${listed.map((m) => m[1]).join("\n")}\n`,
  });
  // Output per object (git-cat-file(1), BATCH OUTPUT): `<oid> <type> <size>\n<contents>\n`,
  // or `<object> missing\n`; in the order asked.
  let offset = 0;
  for (const m of listed) {
    const eol = out.indexOf(0x0a, offset);
    if (eol < 0) throw new Error(`git cat-file --batch ended early while reading the notes of ${ref}`);
    const header = out.toString("utf8", offset, eol);
    offset = eol + 1;
    const h = /^([0-9a-f]+) (\S+) (\d+)$/.exec(header);
    if (!h) {
      if (/ missing$/.test(header)) continue;
      throw new Error(`unexpected git cat-file --batch output ${JSON.stringify(header)} while reading ${ref}`);
    }
    const size = Number(h[3]);
    if (h[2] === "blob") notes.set(m[2] as string, out.toString("utf8", offset, offset + size));
    offset += size + 1;
  }
  return notes;
}

/**
 * What git says was asked for and granted, for the history of `ref`:
 *   - request files added (and deleted) on its first-parent history, in one `git
 *     log`. `-m --first-parent` shows each merge commit's changes against the branch
 *     it was merged into, so a PR's request file is "added" by its merge commit (where
 *     the evidence note is) and a file added only on an unmerged branch is not seen;
 * Nothing is taken from the evidence notes: what was granted comes from AWS
 * (readGrantRecords, the approval gates). The checkout must have full history
 * (actions/checkout `fetch-depth: 0`).
 */
export async function readKnownRequests(cwd: string, ref: string): Promise<Map<string, KnownEntry>> {
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
    `--format=${RECORD}%H${FIELD}%ct${HEADER_END}`,
    ref,
    "--",
    "requests/",
  ]);
  const known = new Map<string, KnownEntry>();
  const files = new Map<string, GitRequest>();
  for (const record of out.split(RECORD)) {
    if (!record.trim()) continue;
    const headerEnd = record.indexOf(HEADER_END);
    const header = headerEnd >= 0 ? record.slice(0, headerEnd) : record;
    const [sha = "", time = "0"] = header.split(FIELD);
    const mergedAt = new Date(Number(time) * 1000);
    const body = headerEnd >= 0 ? record.slice(headerEnd + 1) : "";
    for (const line of body.split("\n")) {
      const match = /^([AD])\t(.+)$/.exec(line);
      if (!match) continue;
      const path = match[2] as string;
      const parsed = parseRequestPath(path);
      if (!parsed.ok) continue;
      const id = parsed.value.id;
      if (match[1] === "A") {
        files.set(id, {
          requestId: id,
          file: path,
          deleted: false,
          role: parsed.value.role,
          addCommit: sha,
          addedAt: mergedAt,
        });
      } else {
        const entry = files.get(id);
        if (entry && entry.file === path) entry.deleted = true;
      }
    }
  }
  for (const [id, entry] of files) known.set(id, entry);

  return known;
}

/**
 * For the given request ids, reads the request file as added and resolves its user
 * and role against the config; a file that cannot be read leaves `requested` unset
 * (drift "unverifiable"). Only the ids of live grants are passed, so this costs one
 * `git show` per live grant.
 */
export async function completeRequestFacts(
  cwd: string,
  config: ElevateConfig,
  known: ReadonlyMap<string, KnownEntry>,
  requestIds: Iterable<string>,
): Promise<void> {
  for (const id of requestIds) {
    const entry = known.get(id);
    if (!entry || !("addCommit" in entry)) continue;
    if (entry.requested) continue;
    const text = await readFileAt(cwd, entry.addCommit, entry.file);
    const facts = text === undefined ? undefined : readRequestFacts(text);
    if (!facts || facts.durationMs === undefined) continue;
    const folder = entry.file.split("/")[1] ?? "";
    const iamUser = facts.requester === undefined ? undefined : findUser(config, facts.requester)?.iamUser;
    const target = findRole(config, facts.role ?? folder)?.target;
    if (facts.requester !== undefined && entry.requester === undefined) entry.requester = facts.requester;
    entry.requested = {
      durationMs: facts.durationMs,
      mergedAt: entry.addedAt,
      ...(facts.start ? { start: facts.start } : {}),
      ...(iamUser ? { iamUser } : {}),
      ...(target ? { target } : {}),
    };
  }
}

// --- SSM ------------------------------------------------------------------------------------

export { GRANT_RECORD_LOOKBACK_MS } from "../domain/revoke-authority.js";

/** GetAutomationExecution calls in flight at once; the SDK client retries throttling adaptively. */
const RECORD_READS_IN_FLIGHT = 8;

/**
 * The successful executions of the grant document `document` started since `since`,
 * with their parameters: one DescribeAutomationExecutions listing (50 a page) and one
 * GetAutomationExecution each (the listing has no parameters). Oldest first.
 * Needs ssm:DescribeAutomationExecutions and ssm:GetAutomationExecution (the revoke role
 * has both).
 */
export async function readGrantRecords(ssm: SSMClient, document: string, since: Date): Promise<GrantRecord[]> {
  const records: { record: GrantRecord; startedAt: number }[] = [];
  for (const { executionId, parameter, startedAt } of await readSucceededExecutions(
    ssm,
    document,
    since,
    RECORD_READS_IN_FLIGHT,
  )) {
    const requestId = parameter("RequestId");
    const iamUser = parameter("UserName");
    const roleArn = parameter("RoleArn");
    const notBefore = new Date(parameter("NotBefore") ?? "");
    const notAfter = new Date(parameter("NotAfter") ?? "");
    if (!requestId || !iamUser || !roleArn || Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) {
      continue;
    }
    records.push({ record: { executionId, requestId, iamUser, roleArn, notBefore, notAfter }, startedAt });
  }
  return records.sort((a, b) => a.startedAt - b.startedAt).map((r) => r.record);
}
