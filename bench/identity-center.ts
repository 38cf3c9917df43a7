/**
 * Benchmark 6, Identity Center: how many AWS calls, and how long, the revoker
 * needs to read the account assignments of the catalogued permission sets across
 * an organisation, and to start the revokes of the expired ones, against naive
 * walks; and how both grow from 10 to 100 accounts.
 *
 * Method (one sandbox per size; every walk against the same sandbox, same knobs):
 *   - Fixture, put straight into the sandbox's Identity Center store (no HTTP; the
 *     store's own create operation, completed at once, so each (permission set,
 *     account) is provisioned as an assignment provisions it in AWS). N member
 *     accounts; permission sets Admin and ReadOnly are catalogued in every account
 *     (2N catalogued pairs), Legacy is not. Per account, 10 assignments: 4 users with
 *     Admin, 4 with ReadOnly, 1 user with Legacy (not catalogued: the reader must
 *     not read it) and 1 group with Admin (catalogued: the reader must return it,
 *     flagged as a group, which no Elevate grant creates). So 10N assignments (1,000
 *     at 100 accounts): 8N catalogued user assignments, N group, N non-catalogued.
 *     The identity store holds 5N users; the catalogued user assignments go round-
 *     robin to 2N of them (4 each), the Legacy ones to others; N/10 groups (min. 1).
 *     The growth keeps 10 assignments and 5 users per account (so 10× the accounts
 *     is 10× everything).
 *   - Ours: the revoker's Identity Center inventory, src/adapters/identity-center.ts:
 *     `listCatalogAssignments` (ListAccountAssignments per catalogued pair, MaxResults
 *     100, paginated, 8 pairs at once), then `createUserNameResolver` (DescribeUser,
 *     cached per run) for every distinct user principal found, 8 at once; clients
 *     from `createIdentityCenterClients` (adaptive retry, 6 attempts).
 *   - Naive (per account): for every account, ListPermissionSetsProvisionedToAccount,
 *     then ListAccountAssignments for every provisioned permission set, DescribeUser for
 *     every user assignment (no cache), one call at a time; then keep the catalogued
 *     pairs. It walks the organisation without using the catalog to narrow it.
 *   - Per principal: ListUsers (identity store, 100 a page, names included) then
 *     ListAccountAssignmentsForPrincipal for every user, one at a time; then keep the
 *     catalogued pairs. It cannot see group assignments without ListGroups + one call
 *     per group (the sandbox's identity store has no groups API), so it is compared on
 *     user assignments only, and the row says so.
 *   - The bench checks that every walk finds exactly the catalogued assignments the
 *     fixture holds (user and group; users only for the per-principal walk).
 *   - Revoke: a tenth of all assignments (N, one Admin grant per account) have ended;
 *     each catalogued user assignment has a grant (a PermissionSetGrant from a merged
 *     request: request id, user name, pair, two-hour window) standing in for the
 *     merged requests. The revoke is the revoke mode's own decision and act:
 *     `planPermissionSetRevocations` (src/domain/permission-set-revoke.ts) on our
 *     inventory, then `performPermissionSetRevokes` (src/modes/permission-set-inventory.ts:
 *     start Elevate-RevokePermissionSet and wait for each, 8 at once). What the mode
 *     also reads before deciding (the merged requests from git, the successful
 *     Elevate-GrantPermissionSet executions from SSM) is not Identity Center's and is
 *     replaced by the fixture's grants. The bench checks the
 *     decision: exactly the ended grants revoked (as expired), the live ones kept,
 *     the group assignments reported and never started. The
 *     sandbox's Elevate-RevokePermissionSet is a stand-in with the contract's
 *     parameters (identitystore GetUserId, then sso-admin DeleteAccountAssignment; the
 *     real one runs a python3 + boto3 script per execution, AWS's side, not the
 *     revoker's). Every revoke must end "revoked", and exactly the ended assignments
 *     must be gone. Calls of the revoke are the revoker's own (StartAutomationExecution,
 *     GetAutomationExecution while waiting, DescribeUser), not the executions'.
 *   - Knobs for every walk: 2 ms injected latency per call, 0.1% seeded throttling
 *     (re-seeded before each walk so every walk sees the same sequence). Calls are
 *     counted from the sandbox's call log, throttled attempts included. One untimed
 *     pass of ours at each size warms the process before the timed walks.
 */

import { randomUUID } from "node:crypto";
import {
  DescribeUserCommand,
  type IdentitystoreClient,
  ListUsersCommand,
  type ListUsersCommandOutput,
} from "@aws-sdk/client-identitystore";
import { CreateDocumentCommand, type SSMClient } from "@aws-sdk/client-ssm";
import {
  ListAccountAssignmentsCommand,
  type ListAccountAssignmentsCommandOutput,
  ListAccountAssignmentsForPrincipalCommand,
  type ListAccountAssignmentsForPrincipalCommandOutput,
  ListPermissionSetsProvisionedToAccountCommand,
  type ListPermissionSetsProvisionedToAccountCommandOutput,
  type SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import { startAwsSandbox } from "../sandbox/aws/index.js";
import type { AwsSandbox } from "../sandbox/aws/server.js";
import { createClients } from "../src/adapters/aws.js";
import {
  type AccountAssignment,
  ASSIGNMENT_LISTING_CONCURRENCY,
  type CatalogPair,
  createIdentityCenterClients,
  createUserNameResolver,
  listCatalogAssignments,
} from "../src/adapters/identity-center.js";
import type { ElevateConfig } from "../src/domain/config.js";
import { mapLimited } from "../src/domain/map-limited.js";
import { REVOKE_PERMISSION_SET_DOCUMENT } from "../src/domain/permission-set-plan.js";
import { type PermissionSetGrant, planPermissionSetRevocations } from "../src/domain/permission-set-revoke.js";
import { performPermissionSetRevokes } from "../src/modes/permission-set-inventory.js";
import { type BenchResult, type BenchRow, type CommonOptions, fmtInt, fmtMs, median, ratioText } from "./lib/result.js";

export interface IdentityCenterOptions extends CommonOptions {
  /** Member account counts, smallest first; the revoke runs at the largest. */
  accountCounts: number[];
  latencyMs: number;
  throttleRate: number;
  /** Fraction of all assignments whose grant has ended when the revoke runs. */
  expiredFraction: number;
  /** The decision alone (pure, no AWS), at these account counts of the same shape: its growth. */
  decisionAccounts: [number, number];
}

export const IDENTITY_CENTER_FULL: Omit<IdentityCenterOptions, keyof CommonOptions> = {
  accountCounts: [10, 30, 100],
  latencyMs: 2,
  throttleRate: 0.001,
  expiredFraction: 0.1,
  decisionAccounts: [100, 1000],
};

export const IDENTITY_CENTER_QUICK: Omit<IdentityCenterOptions, keyof CommonOptions> = {
  accountCounts: [10, 30],
  latencyMs: 2,
  throttleRate: 0.001,
  expiredFraction: 0.1,
  decisionAccounts: [100, 1000],
};

const HUB = "123456789012";
const ASSIGNMENTS_PER_ACCOUNT = 10;
const STORE_USERS_PER_ACCOUNT = 5;
const SEED = 11;

const memberAccount = (i: number) => String(200_000_000_000 + i);
const pairKey = (accountId: string, permissionSetArn: string) => `${accountId}|${permissionSetArn}`;
const assignmentKey = (a: {
  accountId: string;
  permissionSetArn: string;
  principalType: string;
  principalId: string;
}) => `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`;

/** A merged request's grant as the revoker's decision takes it, plus the user id (to check names). */
export interface GrantRecord extends PermissionSetGrant {
  userId: string;
}

export interface IdentityCenterFixture {
  instanceArn: string;
  identityStoreId: string;
  accounts: string[];
  pairs: CatalogPair[];
  grants: GrantRecord[];
  /** Keys (assignmentKey) of every catalogued assignment, users and groups. */
  catalogued: Set<string>;
  groupAssignments: number;
  totalAssignments: number;
  storeUsers: number;
  expired: number;
}

/**
 * Puts the organisation into the sandbox's Identity Center store (see the method
 * above). The store's create operations complete at once (statusPolls 0), which
 * also provisions each permission set's role in its account.
 */
export function populateIdentityCenter(
  sandbox: AwsSandbox,
  accounts: string[],
  expiredFraction: number,
  now: Date,
): IdentityCenterFixture {
  const ic = sandbox.state.identityCenter;
  const n = accounts.length;
  const admin = ic.createPermissionSet({ name: "Admin", sessionDuration: "PT1H" });
  const readOnly = ic.createPermissionSet({ name: "ReadOnly", sessionDuration: "PT1H" });
  const legacy = ic.createPermissionSet({ name: "Legacy", sessionDuration: "PT1H" });
  const users = Array.from({ length: STORE_USERS_PER_ACCOUNT * n }, (_, i) =>
    ic.createUser(`user${String(i).padStart(5, "0")}@example.com`),
  );
  const assignedUsers = Math.max(4, 2 * n);
  const groups = Array.from({ length: Math.max(1, Math.floor(n / 10)) }, () => randomUUID());
  const catalogUserAssignments = 8 * n;
  const expired = Math.round(expiredFraction * ASSIGNMENTS_PER_ACCOUNT * n);
  const expiredEvery = expired > 0 ? Math.max(1, Math.floor(catalogUserAssignments / expired)) : 0;

  const polls = ic.knobs.statusPolls;
  ic.knobs.statusPolls = 0;
  const pairs: CatalogPair[] = [];
  const grants: GrantRecord[] = [];
  const catalogued = new Set<string>();
  let k = 0;
  let expiredSoFar = 0;
  let total = 0;
  const assign = (a: Omit<AccountAssignment, "principalType"> & { principalType: "USER" | "GROUP" }) => {
    const op = ic.startOperation("create", a);
    if (op.status !== "SUCCEEDED") throw new Error(`fixture assignment ${assignmentKey(a)} ended ${op.status}`);
    total++;
  };
  accounts.forEach((accountId, i) => {
    pairs.push({ permissionSetArn: admin.arn, accountId }, { permissionSetArn: readOnly.arn, accountId });
    for (let slot = 0; slot < 8; slot++, k++) {
      const user = users[k % assignedUsers];
      if (!user) throw new Error("fixture: too few users");
      const permissionSetArn = slot < 4 ? admin.arn : readOnly.arn;
      const a = { accountId, permissionSetArn, principalType: "USER" as const, principalId: user.userId };
      assign(a);
      catalogued.add(assignmentKey(a));
      const ended = expiredEvery > 0 && k % expiredEvery === expiredEvery - 1 && expiredSoFar < expired;
      if (ended) expiredSoFar++;
      // Two-hour windows: an ended one closed an hour ago, a live one closes in an hour.
      const notAfter = new Date(now.getTime() + (ended ? -3_600_000 : 3_600_000));
      const requestId = `req-${String(k).padStart(6, "0")}`;
      grants.push({
        requestId,
        userName: user.userName,
        userId: user.userId,
        permissionSetArn,
        accountId,
        notBefore: new Date(notAfter.getTime() - 2 * 3_600_000),
        notAfter,
        file: `requests/${requestId}.yml`,
        deleted: false,
        source: "request",
      });
    }
    const legacyUser = users[assignedUsers + (i % (users.length - assignedUsers || 1))] ?? users[0];
    if (!legacyUser) throw new Error("fixture: no users");
    assign({ accountId, permissionSetArn: legacy.arn, principalType: "USER", principalId: legacyUser.userId });
    const group = { accountId, permissionSetArn: admin.arn, principalType: "GROUP" as const };
    const g = { ...group, principalId: groups[i % groups.length] as string };
    assign(g);
    catalogued.add(assignmentKey(g));
  });
  ic.operations.clear();
  ic.knobs.statusPolls = polls;
  return {
    instanceArn: ic.instanceArn,
    identityStoreId: ic.identityStoreId,
    accounts,
    pairs,
    grants,
    catalogued,
    groupAssignments: n,
    totalAssignments: total,
    storeUsers: users.length,
    expired: expiredSoFar,
  };
}

export interface ResolvedAssignment extends AccountAssignment {
  /** Identity Center UserName of a USER principal (undefined: a group, or a deleted user). */
  userName: string | undefined;
}

/** Ours: the adapter's catalogued listing, then each distinct user principal's name (cached resolver). */
export async function ourInventory(
  clients: { ssoAdmin: SSOAdminClient; identityStore: IdentitystoreClient },
  fixture: Pick<IdentityCenterFixture, "instanceArn" | "identityStoreId" | "pairs">,
  resolve = createUserNameResolver(clients.identityStore, fixture.identityStoreId),
): Promise<ResolvedAssignment[]> {
  const assignments = await listCatalogAssignments(clients.ssoAdmin, {
    instanceArn: fixture.instanceArn,
    pairs: fixture.pairs,
  });
  const userIds = [...new Set(assignments.filter((a) => a.principalType === "USER").map((a) => a.principalId))];
  const names = new Map<string, string | undefined>();
  await mapLimited(userIds, ASSIGNMENT_LISTING_CONCURRENCY, async (id) => {
    names.set(id, await resolve(id));
  });
  return assignments.map((a) => ({
    ...a,
    userName: a.principalType === "USER" ? names.get(a.principalId) : undefined,
  }));
}

/**
 * A variant of ours, not what the product does: the same catalogued listing, but
 * names from the identity store's ListUsers pages (100 users a page) instead of one
 * DescribeUser per distinct principal. Cheaper while the store holds fewer than
 * 100 × the distinct assigned users.
 */
export async function inventoryWithListedNames(
  clients: { ssoAdmin: SSOAdminClient; identityStore: IdentitystoreClient },
  fixture: Pick<IdentityCenterFixture, "instanceArn" | "identityStoreId" | "pairs">,
): Promise<ResolvedAssignment[]> {
  const [assignments, names] = await Promise.all([
    listCatalogAssignments(clients.ssoAdmin, { instanceArn: fixture.instanceArn, pairs: fixture.pairs }),
    (async () => {
      const byId = new Map<string, string | undefined>();
      let token: string | undefined;
      do {
        const page: ListUsersCommandOutput = await clients.identityStore.send(
          new ListUsersCommand({
            IdentityStoreId: fixture.identityStoreId,
            MaxResults: 100,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const u of page.Users ?? []) if (u.UserId) byId.set(u.UserId, u.UserName);
        token = page.NextToken || undefined;
      } while (token);
      return byId;
    })(),
  ]);
  return assignments.map((a) => ({
    ...a,
    userName: a.principalType === "USER" ? names.get(a.principalId) : undefined,
  }));
}

/** Naive: every account's provisioned permission sets, every assignment, DescribeUser per user assignment. */
export async function naiveAccountWalk(
  clients: { ssoAdmin: SSOAdminClient; identityStore: IdentitystoreClient },
  fixture: Pick<IdentityCenterFixture, "instanceArn" | "identityStoreId" | "pairs" | "accounts">,
): Promise<ResolvedAssignment[]> {
  const catalog = new Set(fixture.pairs.map((p) => pairKey(p.accountId, p.permissionSetArn)));
  const found: ResolvedAssignment[] = [];
  for (const accountId of fixture.accounts) {
    const permissionSets: string[] = [];
    let token: string | undefined;
    do {
      const page: ListPermissionSetsProvisionedToAccountCommandOutput = await clients.ssoAdmin.send(
        new ListPermissionSetsProvisionedToAccountCommand({
          InstanceArn: fixture.instanceArn,
          AccountId: accountId,
          MaxResults: 100,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      permissionSets.push(...(page.PermissionSets ?? []));
      token = page.NextToken || undefined;
    } while (token);
    for (const permissionSetArn of permissionSets) {
      do {
        const page: ListAccountAssignmentsCommandOutput = await clients.ssoAdmin.send(
          new ListAccountAssignmentsCommand({
            InstanceArn: fixture.instanceArn,
            AccountId: accountId,
            PermissionSetArn: permissionSetArn,
            MaxResults: 100,
            ...(token ? { NextToken: token } : {}),
          }),
        );
        for (const a of page.AccountAssignments ?? []) {
          const principalType = a.PrincipalType === "GROUP" ? "GROUP" : "USER";
          const principalId = a.PrincipalId ?? "";
          let userName: string | undefined;
          if (principalType === "USER") {
            const user = await clients.identityStore.send(
              new DescribeUserCommand({ IdentityStoreId: fixture.identityStoreId, UserId: principalId }),
            );
            userName = user.UserName;
          }
          found.push({ accountId, permissionSetArn, principalType, principalId, userName });
        }
        token = page.NextToken || undefined;
      } while (token);
    }
  }
  return found.filter((a) => catalog.has(pairKey(a.accountId, a.permissionSetArn)));
}

/** Per principal: every identity-store user, then each user's assignments (user assignments only). */
export async function perPrincipalWalk(
  clients: { ssoAdmin: SSOAdminClient; identityStore: IdentitystoreClient },
  fixture: Pick<IdentityCenterFixture, "instanceArn" | "identityStoreId" | "pairs">,
): Promise<ResolvedAssignment[]> {
  const catalog = new Set(fixture.pairs.map((p) => pairKey(p.accountId, p.permissionSetArn)));
  const found: ResolvedAssignment[] = [];
  let token: string | undefined;
  const users: { id: string; name: string | undefined }[] = [];
  do {
    const page: ListUsersCommandOutput = await clients.identityStore.send(
      new ListUsersCommand({
        IdentityStoreId: fixture.identityStoreId,
        MaxResults: 100,
        ...(token ? { NextToken: token } : {}),
      }),
    );
    for (const u of page.Users ?? []) users.push({ id: u.UserId ?? "", name: u.UserName });
    token = page.NextToken || undefined;
  } while (token);
  for (const user of users) {
    do {
      const page: ListAccountAssignmentsForPrincipalCommandOutput = await clients.ssoAdmin.send(
        new ListAccountAssignmentsForPrincipalCommand({
          InstanceArn: fixture.instanceArn,
          PrincipalId: user.id,
          PrincipalType: "USER",
          MaxResults: 100,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const a of page.AccountAssignments ?? []) {
        const accountId = a.AccountId ?? "";
        const permissionSetArn = a.PermissionSetArn ?? "";
        if (!catalog.has(pairKey(accountId, permissionSetArn))) continue;
        found.push({ accountId, permissionSetArn, principalType: "USER", principalId: user.id, userName: user.name });
      }
      token = page.NextToken || undefined;
    } while (token);
  }
  return found;
}

/** Elevate-RevokePermissionSet as the sandbox runs it here: the contract's parameters, the deletion's two calls. */
function standInRevokeDocument(instanceArn: string, identityStoreId: string): string {
  return JSON.stringify({
    schemaVersion: "0.3",
    description: "Bench stand-in for Elevate-RevokePermissionSet: resolves the user and deletes the assignment.",
    parameters: {
      AutomationAssumeRole: { type: "String" },
      RequestId: { type: "String" },
      UserName: { type: "String" },
      PermissionSetArn: { type: "String" },
      AccountId: { type: "String" },
    },
    mainSteps: [
      {
        name: "resolveUser",
        action: "aws:executeAwsApi",
        inputs: {
          Service: "identitystore",
          Api: "GetUserId",
          IdentityStoreId: identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: "{{ UserName }}" } },
        },
        outputs: [{ Name: "UserId", Selector: "$.UserId", Type: "String" }],
      },
      {
        name: "deleteAssignment",
        action: "aws:executeAwsApi",
        inputs: {
          Service: "sso-admin",
          Api: "DeleteAccountAssignment",
          InstanceArn: instanceArn,
          TargetId: "{{ AccountId }}",
          TargetType: "AWS_ACCOUNT",
          PermissionSetArn: "{{ PermissionSetArn }}",
          PrincipalType: "USER",
          PrincipalId: "{{ resolveUser.UserId }}",
        },
      },
    ],
  });
}

interface Measurement<T> {
  ms: number;
  requests: number;
  throttled: number;
  byAction: Record<string, number>;
  result: T;
}

async function measure<T>(
  sandbox: AwsSandbox,
  options: IdentityCenterOptions,
  walk: () => Promise<T>,
  counted: (action: string) => boolean = () => true,
): Promise<Measurement<T>> {
  sandbox.knobs.reset();
  sandbox.knobs.latencyMs = options.latencyMs;
  sandbox.knobs.throttleRate = options.throttleRate;
  const from = sandbox.callLog.length;
  const start = performance.now();
  const result = await walk();
  const ms = performance.now() - start;
  sandbox.knobs.reset();
  const entries = sandbox.callLog.slice(from).filter((e) => counted(e.action));
  return {
    ms,
    requests: entries.length,
    throttled: entries.filter((e) => /Throttl/.test(e.outcome)).length,
    byAction: entries.reduce<Record<string, number>>((m, e) => {
      m[e.action] = (m[e.action] ?? 0) + 1;
      return m;
    }, {}),
    result,
  };
}

function sameAssignments(
  label: string,
  found: readonly ResolvedAssignment[],
  expected: Set<string>,
  grants: GrantRecord[],
) {
  const keys = new Set(found.map(assignmentKey));
  if (keys.size !== found.length) throw new Error(`${label}: duplicate assignments`);
  const missing = [...expected].filter((k) => !keys.has(k));
  const extra = [...keys].filter((k) => !expected.has(k));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `${label}: ${missing.length} missing, ${extra.length} not expected (e.g. ${missing[0] ?? extra[0]})`,
    );
  }
  const nameOf = new Map(grants.map((g) => [g.userId, g.userName]));
  for (const a of found) {
    if (a.principalType === "USER" && a.userName !== nameOf.get(a.principalId)) {
      throw new Error(`${label}: ${a.principalId} resolved to ${a.userName}`);
    }
  }
}

const calls = (m: Measurement<unknown>) => `${fmtInt(m.requests)} (${m.throttled} throttled)`;

export async function runIdentityCenterBench(options: IdentityCenterOptions): Promise<BenchResult> {
  const rows: BenchRow[] = [];
  const B = "6 Identity Center";
  const notes: string[] = [
    `Identity Center: per account 10 assignments (4 users Admin, 4 users ReadOnly, 1 user Legacy, 1 group Admin); Admin and ReadOnly catalogued in every account (2 pairs per account), Legacy not; 5 identity-store users per account, the catalogued user assignments on 2 per account (4 each); growth keeps these per-account figures. Ours = listCatalogAssignments (ListAccountAssignments per catalogued pair, 8 pairs at once) + createUserNameResolver (DescribeUser per distinct user, cached, 8 at once). Naive = per account ListPermissionSetsProvisionedToAccount → ListAccountAssignments per provisioned permission set → DescribeUser per user assignment, sequential, then filtered to the catalog. Per principal = identitystore ListUsers → ListAccountAssignmentsForPrincipal per user, sequential (users only: groups would add ListGroups + one call per group). Every walk is checked to find exactly the fixture's catalogued assignments. ${options.latencyMs} ms injected latency per call, ${options.throttleRate * 100}% seeded throttling, re-seeded per walk; calls include throttled attempts.`,
  ];
  const saved = { ...process.env };
  const perSize: { accounts: number; ours: Measurement<unknown>; naive: Measurement<unknown> }[] = [];
  const largest = Math.max(...options.accountCounts);
  try {
    for (const n of options.accountCounts) {
      const now = new Date();
      const accounts = Array.from({ length: n }, (_, i) => memberAccount(i));
      const sandbox = await startAwsSandbox({ seed: SEED, accountIds: [HUB, ...accounts], now });
      try {
        const populateStart = performance.now();
        const fixture = populateIdentityCenter(sandbox, accounts, options.expiredFraction, now);
        options.log(
          `identity-center: ${n} accounts, ${fmtInt(fixture.totalAssignments)} assignments, ${fmtInt(fixture.storeUsers)} users populated in ${fmtMs(performance.now() - populateStart)}`,
        );
        // The clients take their endpoints from the SDK's environment configuration.
        Object.assign(process.env, sandbox.env);
        const fresh = () => createIdentityCenterClients(sandbox.region, sandbox.rootCredentials);
        const label = `${n} accounts × ${fmtInt(fixture.totalAssignments)} assignments`;

        // One untimed pass first: the first walk in a process otherwise pays for loading
        // and compiling the SDK's and the sandbox's code, and ours runs first.
        await ourInventory(fresh(), fixture);
        const ourClients = fresh();
        const resolve = createUserNameResolver(ourClients.identityStore, fixture.identityStoreId);
        const ours = await measure(sandbox, options, () => ourInventory(ourClients, fixture, resolve));
        sameAssignments("ours", ours.result, fixture.catalogued, fixture.grants);
        options.log(`identity-center: ${label} ours ${ours.requests} requests, ${fmtMs(ours.ms)}`);

        const naive = await measure(sandbox, options, () => naiveAccountWalk(fresh(), fixture));
        sameAssignments("naive", naive.result, fixture.catalogued, fixture.grants);
        options.log(`identity-center: ${label} naive ${naive.requests} requests, ${fmtMs(naive.ms)}`);

        const principal = await measure(sandbox, options, () => perPrincipalWalk(fresh(), fixture));
        const usersOnly = new Set([...fixture.catalogued].filter((k) => k.split("|")[2] === "USER"));
        sameAssignments("per principal", principal.result, usersOnly, fixture.grants);
        options.log(`identity-center: ${label} per principal ${principal.requests} requests, ${fmtMs(principal.ms)}`);

        const listed = await measure(sandbox, options, () => inventoryWithListedNames(fresh(), fixture));
        sameAssignments("listed names", listed.result, fixture.catalogued, fixture.grants);
        options.log(`identity-center: ${label} listed names ${listed.requests} requests, ${fmtMs(listed.ms)}`);

        perSize.push({ accounts: n, ours, naive });
        rows.push(
          {
            benchmark: B,
            measure: `${label}: inventory AWS calls, throttled retries included`,
            ours: calls(ours),
            baseline: `naive ${calls(naive)}`,
            ratio: ratioText("naive ÷ ours", naive.requests, ours.requests),
            budget: "",
            verdict: "info",
          },
          {
            benchmark: B,
            measure: `${label}: inventory wall time`,
            ours: fmtMs(ours.ms),
            baseline: `naive ${fmtMs(naive.ms)}`,
            ratio: ratioText("naive ÷ ours", naive.ms, ours.ms),
            budget: "",
            verdict: "info",
          },
          {
            benchmark: B,
            measure: `${label}: per-principal walk (user assignments only), calls and time`,
            ours: `${calls(ours)}, ${fmtMs(ours.ms)}`,
            baseline: `${calls(principal)}, ${fmtMs(principal.ms)}`,
            ratio: ratioText("it ÷ ours (calls)", principal.requests, ours.requests),
            budget: "",
            verdict: "info",
          },
          {
            benchmark: B,
            measure: `${label}: variant, names from ListUsers pages instead of DescribeUser (not the product)`,
            ours: `${calls(ours)}, ${fmtMs(ours.ms)}`,
            baseline: `${calls(listed)}, ${fmtMs(listed.ms)}`,
            ratio: ratioText("ours ÷ it (calls)", ours.requests, listed.requests),
            budget: "",
            verdict: "info",
          },
        );

        if (n === largest) {
          const ssm = createClients(sandbox.region, sandbox.rootCredentials).ssm;
          await createStandInRunbook(ssm, fixture);
          sandbox.state.identityCenter.knobs.statusPolls = 0;
          // The revoker's own calls: its starts, its waits, and any name not yet cached.
          const revokerActions = new Set(["StartAutomationExecution", "GetAutomationExecution", "DescribeUser"]);
          // performPermissionSetRevokes reads nothing of the config but aws.automationRoleArn.
          const revokeConfig = {
            aws: { automationRoleArn: `arn:aws:iam::${HUB}:role/elevate-automation` },
          } as unknown as ElevateConfig;
          const revoke = await measure(
            sandbox,
            options,
            async () => {
              const decisionStart = performance.now();
              const plan = planPermissionSetRevocations({ now, assignments: ours.result, grants: fixture.grants });
              const decisionMs = performance.now() - decisionStart;
              const outcomes = await performPermissionSetRevokes(ssm, revokeConfig, plan.revoke, {
                id: "bench-identity-center",
                timeoutMs: 300_000,
                dryRun: false,
              });
              return { outcomes, plan, decisionMs };
            },
            (action) => revokerActions.has(action),
          );
          const { plan, decisionMs } = revoke.result;
          const expiredRevokes = plan.revoke.filter((r) => r.reason === "expired").length;
          if (expiredRevokes !== fixture.expired || plan.revoke.length !== fixture.expired) {
            throw new Error(
              `the decision revokes ${plan.revoke.length} (${expiredRevokes} expired) of ${fixture.expired} ended grants`,
            );
          }
          const groupReports = plan.report.filter((r) => r.principalType === "GROUP").length;
          if (groupReports !== fixture.groupAssignments || plan.report.length !== groupReports) {
            throw new Error(
              `the decision reports ${plan.report.length} assignments, expected the ${fixture.groupAssignments} groups`,
            );
          }
          if (plan.keep.length !== fixture.grants.length - fixture.expired) {
            throw new Error(
              `the decision keeps ${plan.keep.length} of ${fixture.grants.length - fixture.expired} live grants`,
            );
          }
          const failed = revoke.result.outcomes.filter((o) => o.status !== "revoked");
          if (failed.length > 0) {
            throw new Error(`${failed.length} revokes did not succeed (e.g. ${failed[0]?.message ?? ""})`);
          }
          const remaining = [...sandbox.state.identityCenter.assignments.values()].filter((a) =>
            fixture.catalogued.has(assignmentKey(a)),
          ).length;
          if (remaining !== fixture.catalogued.size - fixture.expired) {
            throw new Error(
              `after the revokes ${remaining} catalogued assignments remain, expected ${fixture.catalogued.size - fixture.expired}`,
            );
          }
          options.log(
            `identity-center: revoke ${fixture.expired} starts, ${revoke.requests} requests, ${fmtMs(revoke.ms)}`,
          );
          rows.push(
            {
              benchmark: B,
              measure: `${label}, ${fmtInt(fixture.expired)} ended: revoke = planPermissionSetRevocations + performPermissionSetRevokes (start, wait for each; stand-in runbook)`,
              ours: `${calls(revoke)}: ${revoke.byAction.StartAutomationExecution ?? 0} starts, ${revoke.byAction.GetAutomationExecution ?? 0} status reads, ${revoke.byAction.DescribeUser ?? 0} DescribeUser; ${fmtMs(revoke.ms)}`,
              baseline: `decision ${fmtMs(decisionMs)} of it; kept ${fmtInt(plan.keep.length)}, ${fmtInt(groupReports)} group assignments reported, not started`,
              ratio: "",
              budget: "",
              verdict: "info",
            },
            {
              benchmark: B,
              measure: `${label}: whole pass, inventory + revoke (naive: its walk + the same revoke, computed)`,
              ours: `${fmtInt(ours.requests + revoke.requests)} calls, ${fmtMs(ours.ms + revoke.ms)}`,
              baseline: `naive ${fmtInt(naive.requests + revoke.requests)} calls, ${fmtMs(naive.ms + revoke.ms)}`,
              ratio: ratioText(
                "naive ÷ ours (calls)",
                naive.requests + revoke.requests,
                ours.requests + revoke.requests,
              ),
              budget: "",
              verdict: "info",
            },
          );
        }
      } finally {
        await sandbox.close();
      }
    }
  } finally {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  }
  rows.push(decisionGrowthRow(B, options.decisionAccounts));
  const first = perSize[0];
  const last = perSize[perSize.length - 1];
  if (first && last && last !== first) {
    const scale = last.accounts / first.accounts;
    rows.push(
      {
        benchmark: B,
        measure: `growth ${first.accounts} → ${last.accounts} accounts (${scale}× accounts, same per account): inventory AWS calls`,
        ours: `${fmtInt(first.ours.requests)} → ${fmtInt(last.ours.requests)}`,
        baseline: `naive ${fmtInt(first.naive.requests)} → ${fmtInt(last.naive.requests)}`,
        ratio: `ours ${ratioText("growth", last.ours.requests, first.ours.requests).replace(/^growth = /, "")}, naive ${ratioText("growth", last.naive.requests, first.naive.requests).replace(/^growth = /, "")}`,
        budget: "",
        verdict: "info",
      },
      {
        benchmark: B,
        measure: `growth ${first.accounts} → ${last.accounts} accounts: inventory wall time`,
        ours: `${fmtMs(first.ours.ms)} → ${fmtMs(last.ours.ms)}`,
        baseline: `naive ${fmtMs(first.naive.ms)} → ${fmtMs(last.naive.ms)}`,
        ratio: `ours ${ratioText("growth", last.ours.ms, first.ours.ms).replace(/^growth = /, "")}, naive ${ratioText("growth", last.naive.ms, first.naive.ms).replace(/^growth = /, "")}`,
        budget: "",
        verdict: "info",
      },
    );
  }
  return { name: "identity-center", rows, notes };
}

async function createStandInRunbook(ssm: SSMClient, fixture: IdentityCenterFixture): Promise<void> {
  await ssm.send(
    new CreateDocumentCommand({
      Name: REVOKE_PERMISSION_SET_DOCUMENT,
      DocumentType: "Automation",
      DocumentFormat: "JSON",
      Content: standInRevokeDocument(fixture.instanceArn, fixture.identityStoreId),
    }),
  );
}

/**
 * The revoker's decision alone at organisation scale: the fixture's shape per account
 * (8 user assignments with a grant each, one ended, and a group assignment), built
 * in memory with synthetic ids, median of 3 runs at each size. Pure CPU: this is
 * the row that shows whether the decision stays linear.
 */
function decisionGrowthRow(benchmark: string, [small, large]: [number, number]): BenchRow {
  const timeAt = (accounts: number) => {
    const now = new Date();
    const assignments: ResolvedAssignment[] = [];
    const grants: PermissionSetGrant[] = [];
    const users = Math.max(4, 2 * accounts);
    for (let i = 0; i < accounts; i++) {
      const accountId = memberAccount(i);
      for (let slot = 0; slot < 8; slot++) {
        const k = i * 8 + slot;
        const userName = `user${k % users}@example.com`;
        const permissionSetArn = slot < 4 ? "ps-admin" : "ps-readonly";
        assignments.push({ accountId, permissionSetArn, principalType: "USER", principalId: userName, userName });
        const notAfter = new Date(now.getTime() + (slot === 0 ? -3_600_000 : 3_600_000));
        grants.push({
          requestId: `req-${k}`,
          userName,
          permissionSetArn,
          accountId,
          notBefore: new Date(notAfter.getTime() - 7_200_000),
          notAfter,
          deleted: false,
          source: "request",
        });
      }
      assignments.push({
        accountId,
        permissionSetArn: "ps-admin",
        principalType: "GROUP",
        principalId: `group-${i}`,
        userName: undefined,
      });
    }
    planPermissionSetRevocations({ now, assignments, grants }); // warm-up
    const runs = [0, 1, 2].map(() => {
      const start = performance.now();
      planPermissionSetRevocations({ now, assignments, grants });
      return performance.now() - start;
    });
    return { ms: median(runs), assignments: assignments.length, grants: grants.length };
  };
  const a = timeAt(small);
  const b = timeAt(large);
  const scale = large / small;
  const growth = b.ms / a.ms;
  // Linear work grows about `scale`×; the quadratic version grew about scale²× (100× for 10×).
  const budget = 3 * scale;
  return {
    benchmark,
    measure: `decision alone (planPermissionSetRevocations, pure), ${fmtInt(large)} accounts: ${fmtInt(b.assignments)} assignments × ${fmtInt(b.grants)} grants (median of 3)`,
    ours: fmtMs(b.ms),
    baseline: `${fmtInt(small)} accounts: ${fmtMs(a.ms)}`,
    ratio: `growth ${growth >= 10 ? growth.toFixed(1) : growth.toFixed(2)}× for ${scale}× input`,
    budget: `growth ≤ ${budget}×`,
    verdict: growth <= budget ? "ok" : "MISSED",
  };
}
