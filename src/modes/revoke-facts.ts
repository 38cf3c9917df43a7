/**
 * Gathers a revoke run's facts (src/domain/revoke-decision.ts `RevokeFacts`): the
 * workflow event (dispatch input, request files deleted by a push), IAM's inventory,
 * the request files merged on the default branch, and the Elevate-Grant executions in
 * SSM. Independent reads run in parallel: IAM with git history, then SSM with the
 * request files of the live grants. Reads only: nothing is decided or written here.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { describeAwsError } from "../adapters/aws-errors.js";
import { changedFiles, commitExists, ZERO_SHA } from "../adapters/git.js";
import { listPullRequestsForCommit } from "../adapters/github.js";
import type { ElevateConfig } from "../domain/config.js";
import type { DualControlOutcome } from "../domain/dual-control.js";
import { parseRequestPath, RESERVED_ID_PREFIX } from "../domain/request-path.js";
import { type GrantRecord, grantRecordsSince, type KnownRequest } from "../domain/revoke-authority.js";
import type { Readout, RevokeFacts } from "../domain/revoke-decision.js";
import type { ActionContext } from "./action-context.js";
import { completeRequestFacts, readAllNotes, readGrantRecords, readInventory, readKnownRequests } from "./inventory.js";

/** Request ids to revoke early, each with the reason shown in the report. */
export async function earlyRevokeIds(ctx: ActionContext): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  if (ctx.inputs.request) {
    const actor = typeof ctx.payload.sender?.login === "string" ? ` by @${ctx.payload.sender.login}` : "";
    ids.set(ctx.inputs.request, `revoked early on request (manual run${actor})`);
  }
  if (ctx.eventName !== "push") return ids;
  if (ctx.ref !== `refs/heads/${ctx.defaultBranch}`) {
    throw new Error(`revoke mode handles pushes to ${ctx.defaultBranch} only; this push is to ${ctx.ref}`);
  }
  const after = String(ctx.payload.after ?? ctx.sha);
  const before = String(ctx.payload.before ?? "");
  if (!/^[0-9a-f]{40}$/.test(after) || !/^[0-9a-f]{40}$/.test(before) || before === ZERO_SHA) return ids;
  for (const sha of [before, after]) {
    if (!(await commitExists(ctx.workspace, sha))) {
      throw new Error(
        `commit ${sha.slice(0, 12)} is not in the checkout; check out with 'fetch-depth: 0' so deleted request files can be found`,
      );
    }
  }
  const deleted = (await changedFiles(ctx.workspace, before, after)).filter(
    (c) => c.status === "D" && parseRequestPath(c.path).ok,
  );
  if (deleted.length === 0) return ids;
  let by = "a direct push (revoked anyway: revoking only takes access away)";
  try {
    const pulls = await listPullRequestsForCommit(ctx.octokit, ctx.repo, after);
    const pr = pulls.find((p) => p.merged && p.mergeCommitSha === after && p.baseRef === ctx.defaultBranch);
    if (pr) by = `PR #${pr.number}`;
  } catch (error) {
    by = `a push whose PR could not be looked up (${(error as Error).message})`;
  }
  for (const c of deleted) {
    const parsed = parseRequestPath(c.path);
    if (parsed.ok) ids.set(parsed.value.id, `its request file ${c.path} was deleted by ${by}`);
  }
  return ids;
}

export interface GatheredFacts {
  facts: RevokeFacts;
  /** GetAccountAuthorizationDetails calls made (the listing budget). */
  listingCalls: number;
}

/**
 * Everything `decideRevoke` needs after the gates are resolved. Throws only when IAM
 * cannot be read (nothing can be decided without the inventory); an unreadable git
 * history or SSM becomes a fact the decision reports.
 */
export async function gatherRevokeFacts(
  ctx: ActionContext,
  config: ElevateConfig,
  clients: { iam: IAMClient; ssm: SSMClient },
  awsNow: () => Date,
  early: ReadonlyMap<string, string>,
  approvalGates: readonly DualControlOutcome[],
): Promise<GatheredFacts> {
  const [inventoryRead, gitKnown] = await Promise.all([
    readInventory(clients.iam, config.aws.accountId, awsNow).catch((error: unknown) => {
      throw new Error(
        `could not read the grants from IAM (${describeAwsError(error)}); nothing was revoked this run. Every grant still expires by itself; the next run retries.`,
      );
    }),
    readout(
      () => readKnownRequests(ctx.workspace, "HEAD"),
      (error) => (error as Error).message,
    ),
  ]);
  const { inventory } = inventoryRead;
  const liveIds = inventory.grants.map((g) => g.requestId);
  let mergedRequests: Readout<ReadonlyMap<string, KnownRequest>> = gitKnown;
  let grantRecords: Readout<readonly GrantRecord[]> | undefined;
  let evidenceNotes: readonly string[] = [];
  if (gitKnown.ok) {
    const known = gitKnown.value;
    // What Elevate granted comes from AWS, not from the evidence notes: the successful
    // Elevate-Grant executions with their exact parameters. The notes only describe a
    // break-glass grant's dispatcher, and are read only when there is one.
    const readRecords = async (): Promise<{ records: GrantRecord[]; notes: string[] }> => {
      const records = await readGrantRecords(
        clients.ssm,
        config.aws.grantDocument,
        grantRecordsSince(inventory.grants, awsNow()),
      );
      const glass = liveIds.some((id) => id.startsWith(RESERVED_ID_PREFIX) && !known.has(id));
      return { records, notes: glass ? [...(await readAllNotes(ctx.workspace)).values()] : [] };
    };
    const [completed, fromSsm] = await Promise.all([
      readout(
        () => completeRequestFacts(ctx.workspace, config, known, liveIds),
        (error) => (error as Error).message,
      ),
      liveIds.length === 0 ? undefined : readout(readRecords, describeAwsError),
    ]);
    if (!completed.ok) mergedRequests = completed;
    else if (fromSsm?.ok) {
      grantRecords = { ok: true, value: fromSsm.value.records };
      evidenceNotes = fromSsm.value.notes;
    } else if (fromSsm) grantRecords = fromSsm;
  }
  return {
    facts: {
      now: awsNow(),
      driftMode: ctx.inputs.drift,
      settings: config,
      iam: inventory,
      earlyRevokeIds: early,
      mergedRequests,
      grantRecords,
      evidenceNotes,
      approvalGates,
    },
    listingCalls: inventoryRead.listingCalls,
  };
}

async function readout<T>(read: () => Promise<T>, describe: (error: unknown) => string): Promise<Readout<T>> {
  try {
    return { ok: true, value: await read() };
  } catch (error) {
    return { ok: false, error: describe(error) };
  }
}
