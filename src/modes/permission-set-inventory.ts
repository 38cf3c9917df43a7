/**
 * The Identity Center half of the revoker and of `elevate status`: gather the
 * catalogued pairs' assignments (named), the merged requests and the successful
 * Elevate-GrantPermissionSet executions → `planPermissionSetRevocations` (pure) →
 * for the revoker, start Elevate-RevokePermissionSet for each revoke and wait.
 */
import type { SSMClient } from "@aws-sdk/client-ssm";
import { automationClientToken, waitForAutomation } from "../adapters/aws-automation.js";
import type { AwsCredentials, RoleSession } from "../adapters/aws-session.js";
import { readFileAt } from "../adapters/git.js";
import {
  createIdentityCenterClients,
  createUserNameResolver,
  listCatalogAssignments,
  readPermissionSetGrantRecords,
  startRevokePermissionSet,
} from "../adapters/identity-center.js";
import { type ElevateConfig, findRole } from "../domain/config.js";
import { mapLimited } from "../domain/map-limited.js";
import {
  type MergedRequestFacts,
  type PermissionSetPlan,
  type PermissionSetRevoke,
  type PermissionSetRevokeOutcome,
  permissionSetGrantsOfRecords,
  permissionSetGrantsOfRequests,
  planPermissionSetRevocations,
} from "../domain/permission-set-revoke.js";
import { readRequestFacts } from "../domain/request-facts.js";
import { GRANT_RECORD_LOOKBACK_MS } from "../domain/revoke-authority.js";
import type { KnownEntry } from "./inventory.js";

/** The catalog's (permission set, account) pairs, once each; empty when the config has none. */
export function catalogPairs(config: ElevateConfig): { permissionSetArn: string; accountId: string }[] {
  const pairs = new Map<string, { permissionSetArn: string; accountId: string }>();
  for (const key of Object.keys(config.roles)) {
    const target = findRole(config, key)?.target;
    if (target?.kind !== "permissionSet") continue;
    pairs.set(`${target.permissionSetArn}@${target.accountId}`, {
      permissionSetArn: target.permissionSetArn,
      accountId: target.accountId,
    });
  }
  return [...pairs.values()];
}

/** Undefined when the config has no permission-set roles (then nothing of Identity Center is read). */
export async function gatherPermissionSetPlan(input: {
  cwd: string;
  config: ElevateConfig;
  credentials: AwsCredentials | RoleSession | undefined;
  ssm: SSMClient;
  now: Date;
  known: ReadonlyMap<string, KnownEntry>;
  profile?: string | undefined;
}): Promise<PermissionSetPlan | undefined> {
  const { config, now } = input;
  const pairs = catalogPairs(config);
  const center = config.aws.identityCenter;
  if (pairs.length === 0 || !center) return undefined;
  const since = new Date(now.getTime() - GRANT_RECORD_LOOKBACK_MS);
  const psFolders = new Set(
    Object.keys(config.roles).filter((k) => findRole(config, k)?.target.kind === "permissionSet"),
  );
  const entries = [...input.known.values()].filter(
    (e) => psFolders.has(e.file.split("/")[1] ?? "") && e.addedAt.getTime() >= since.getTime(),
  );
  const clients = createIdentityCenterClients(config.aws.region, input.credentials, undefined, input.profile);
  try {
    const [requests, records, assignments] = await Promise.all([
      mapLimited(entries, 8, async (e): Promise<MergedRequestFacts> => {
        const text = await readFileAt(input.cwd, e.addCommit, e.file);
        return {
          requestId: e.requestId,
          file: e.file,
          addedAt: e.addedAt,
          deleted: e.deleted,
          facts: text === undefined ? undefined : readRequestFacts(text),
        };
      }),
      readPermissionSetGrantRecords(input.ssm, since),
      listCatalogAssignments(clients.ssoAdmin, { instanceArn: center.instanceArn, pairs }),
    ]);
    const userName = createUserNameResolver(clients.identityStore, center.identityStoreId);
    const named = await mapLimited(assignments, 8, async (a) => ({
      ...a,
      userName: a.principalType === "USER" ? await userName(a.principalId) : undefined,
    }));
    const deleted = new Set(entries.filter((e) => e.deleted).map((e) => e.requestId));
    return planPermissionSetRevocations({
      now,
      assignments: named,
      grants: [...permissionSetGrantsOfRequests(config, requests), ...permissionSetGrantsOfRecords(records, deleted)],
    });
  } finally {
    clients.ssoAdmin.destroy();
    clients.identityStore.destroy();
  }
}

/** Starts Elevate-RevokePermissionSet for each revoke (a few at once) and waits for each. */
export async function performPermissionSetRevokes(
  ssm: SSMClient,
  config: ElevateConfig,
  revokes: readonly PermissionSetRevoke[],
  run: { id: string; timeoutMs: number; dryRun: boolean; drift?: "revoke" | "report" },
): Promise<PermissionSetRevokeOutcome[]> {
  if (run.dryRun) return revokes.map((r) => ({ ...r, status: "planned", message: "dry run: would revoke" }));
  return mapLimited(revokes, 8, async (r): Promise<PermissionSetRevokeOutcome> => {
    // The `drift` input applies to assignments as to grant policies: `report` changes nothing for them.
    if (r.reason === "drift" && run.drift === "report") {
      return { ...r, status: "reported", message: "drift reported and left in place (input drift: report)" };
    }
    let executionId: string | undefined;
    try {
      executionId = await startRevokePermissionSet(ssm, {
        automationRoleArn: config.aws.automationRoleArn,
        requestId: r.requestId,
        userName: r.userName,
        permissionSetArn: r.permissionSetArn,
        accountId: r.accountId,
        clientToken: automationClientToken(
          "revoke-permission-set",
          r.requestId,
          r.userName,
          r.permissionSetArn,
          r.accountId,
          run.id,
        ),
      });
      const result = await waitForAutomation(ssm, executionId, { timeoutMs: run.timeoutMs });
      return result.succeeded
        ? { ...r, status: "revoked", message: "assignment deleted (or kept for another active grant)", executionId }
        : {
            ...r,
            status: "failed",
            message: `${result.status}${result.failureMessage ? `: ${result.failureMessage}` : ""}`,
            executionId,
          };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      return {
        ...r,
        status: "failed",
        message: `${e.name ?? "Error"}: ${e.message ?? String(error)}`,
        ...(executionId ? { executionId } : {}),
      };
    }
  });
}
