/**
 * IAM Identity Center, read side and runbook starts: the account assignments
 * of the catalogued (permission set, account) pairs (the revoker's inventory),
 * principal id → UserName, and starting Elevate-GrantPermissionSet /
 * Elevate-RevokePermissionSet. The assignment itself is created and deleted
 * inside those runbooks, never here. docs/architecture.md, "Identity Center",
 * says why these two official clients.
 *
 * https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListAccountAssignments.html
 * https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_DescribeUser.html
 */
import { DescribeUserCommand, IdentitystoreClient, ResourceNotFoundException } from "@aws-sdk/client-identitystore";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { ListAccountAssignmentsCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { mapLimited } from "../domain/map-limited.js";
import { GRANT_PERMISSION_SET_DOCUMENT, REVOKE_PERMISSION_SET_DOCUMENT } from "../domain/permission-set-plan.js";
import type { PermissionSetGrantRecord } from "../domain/permission-set-revoke.js";
import { readSucceededExecutions, startAutomation } from "./aws-automation.js";
import { type AwsClock, observeAwsTime } from "./aws-clock.js";
import { AWS_RETRY, type AwsCredentials, type RoleSession } from "./aws-session.js";

export interface IdentityCenterClients {
  ssoAdmin: SSOAdminClient;
  identityStore: IdentitystoreClient;
}

/** Both clients in the hub's region (Identity Center's APIs are called where its instance lives). */
export function createIdentityCenterClients(
  region: string,
  /** Undefined: the SDK's default credential chain (the CLI's `status`). */
  credentials: AwsCredentials | RoleSession | undefined,
  clock?: AwsClock,
  /** `elevate status --profile`: a named profile of the shared files, for the default chain. */
  profile?: string,
): IdentityCenterClients {
  const common = {
    region,
    ...(credentials ? { credentials } : {}),
    ...(profile !== undefined && !credentials ? { profile } : {}),
    ...AWS_RETRY,
  };
  const clients = { ssoAdmin: new SSOAdminClient(common), identityStore: new IdentitystoreClient(common) };
  if (clock) for (const client of Object.values(clients)) observeAwsTime(client, clock);
  return clients;
}

/** A catalogued permission set in one account: what the revoker lists. */
export interface CatalogPair {
  permissionSetArn: string;
  accountId: string;
}

export interface AccountAssignment {
  permissionSetArn: string;
  accountId: string;
  principalType: "USER" | "GROUP";
  principalId: string;
}

/** ListAccountAssignments' largest page (API reference: MaxResults 1..100). */
export const ASSIGNMENTS_PAGE_SIZE = 100;
/** Pairs listed at once: Identity Center throttles per account; the SDK's retries absorb the rest. */
export const ASSIGNMENT_LISTING_CONCURRENCY = 8;

/**
 * Every assignment (users and groups) of each catalogued pair, one paginated
 * ListAccountAssignments walk per pair, at most `concurrency` pairs at once.
 * Only the catalogued pairs are read: an assignment of another permission set
 * is not Elevate's to judge. An entry missing a field is an error, never
 * skipped: a silently dropped assignment would be access nobody revokes.
 */
export async function listCatalogAssignments(
  client: SSOAdminClient,
  input: { instanceArn: string; pairs: readonly CatalogPair[]; concurrency?: number },
): Promise<AccountAssignment[]> {
  const pages = await mapLimited(input.pairs, input.concurrency ?? ASSIGNMENT_LISTING_CONCURRENCY, async (pair) => {
    const found: AccountAssignment[] = [];
    let nextToken: string | undefined;
    do {
      const out = await client.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: input.instanceArn,
          AccountId: pair.accountId,
          PermissionSetArn: pair.permissionSetArn,
          MaxResults: ASSIGNMENTS_PAGE_SIZE,
          ...(nextToken !== undefined ? { NextToken: nextToken } : {}),
        }),
      );
      for (const a of out.AccountAssignments ?? []) {
        const { PrincipalId, PrincipalType } = a;
        if (!PrincipalId || (PrincipalType !== "USER" && PrincipalType !== "GROUP")) {
          throw new Error(
            `ListAccountAssignments for ${pair.permissionSetArn} in ${pair.accountId} returned an assignment without a principal id and type (${JSON.stringify(a)})`,
          );
        }
        // The pair asked for, not the response's echo: an answer about another pair would be a bug to surface, not data.
        if (
          (a.AccountId ?? pair.accountId) !== pair.accountId ||
          (a.PermissionSetArn ?? pair.permissionSetArn) !== pair.permissionSetArn
        ) {
          throw new Error(
            `ListAccountAssignments for ${pair.permissionSetArn} in ${pair.accountId} returned an assignment of ${a.PermissionSetArn} in ${a.AccountId}`,
          );
        }
        found.push({
          permissionSetArn: pair.permissionSetArn,
          accountId: pair.accountId,
          principalType: PrincipalType,
          principalId: PrincipalId,
        });
      }
      nextToken = out.NextToken || undefined;
    } while (nextToken !== undefined);
    return found;
  });
  return pages.flat();
}

/**
 * Principal id → UserName through DescribeUser, each id asked once per run
 * (the promise is cached, so concurrent lookups of one id share a call). A
 * user that no longer exists resolves to undefined: its assignment is still
 * reported, by id.
 */
export function createUserNameResolver(
  client: IdentitystoreClient,
  identityStoreId: string,
): (principalId: string) => Promise<string | undefined> {
  const cache = new Map<string, Promise<string | undefined>>();
  return (principalId) => {
    let pending = cache.get(principalId);
    if (!pending) {
      pending = client.send(new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: principalId })).then(
        (out) => out.UserName,
        (error: unknown) => {
          if (error instanceof ResourceNotFoundException) return undefined;
          throw error;
        },
      );
      cache.set(principalId, pending);
    }
    return pending;
  };
}

/** Starts Elevate-GrantPermissionSet with its parameters (permissionSetGrantParameters), at `$LATEST`. */
export function startGrantPermissionSet(
  ssm: SSMClient,
  input: { parameters: Record<string, string>; clientToken: string },
): Promise<string> {
  return startAutomation(ssm, { documentName: GRANT_PERMISSION_SET_DOCUMENT, ...input });
}

/**
 * Starts Elevate-RevokePermissionSet now (NotAfter left at its default,
 * "now"): the revoker's early revokes, expiry repair and drift.
 */
export function startRevokePermissionSet(
  ssm: SSMClient,
  input: {
    automationRoleArn: string;
    requestId: string;
    userName: string;
    permissionSetArn: string;
    accountId: string;
    clientToken: string;
  },
): Promise<string> {
  return startAutomation(ssm, {
    documentName: REVOKE_PERMISSION_SET_DOCUMENT,
    parameters: {
      AutomationAssumeRole: input.automationRoleArn,
      RequestId: input.requestId,
      UserName: input.userName,
      PermissionSetArn: input.permissionSetArn,
      AccountId: input.accountId,
    },
    clientToken: input.clientToken,
  });
}

/**
 * The successful Elevate-GrantPermissionSet executions started since `since`, with
 * their parameters (DescribeAutomationExecutions, then GetAutomationExecution each,
 * as readGrantRecords does for Elevate-Grant). With merged requests, the authority
 * on which assignments Elevate made.
 */
export async function readPermissionSetGrantRecords(ssm: SSMClient, since: Date): Promise<PermissionSetGrantRecord[]> {
  const records: PermissionSetGrantRecord[] = [];
  for (const { executionId, parameter } of await readSucceededExecutions(
    ssm,
    GRANT_PERMISSION_SET_DOCUMENT,
    since,
    ASSIGNMENT_LISTING_CONCURRENCY,
  )) {
    const [requestId, userName, permissionSetArn, accountId] = [
      "RequestId",
      "UserName",
      "PermissionSetArn",
      "AccountId",
    ].map(parameter);
    const notBefore = new Date(parameter("NotBefore") ?? "");
    const notAfter = new Date(parameter("NotAfter") ?? "");
    if (
      !requestId ||
      !userName ||
      !permissionSetArn ||
      !accountId ||
      Number.isNaN(notBefore.getTime()) ||
      Number.isNaN(notAfter.getTime())
    ) {
      continue;
    }
    records.push({ executionId, requestId, userName, permissionSetArn, accountId, notBefore, notAfter });
  }
  return records;
}
