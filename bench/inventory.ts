/**
 * Benchmark 1, Inventory: how many AWS calls, and how long, the revoker needs to
 * read every Elevate grant in an account, against the naive per-user walk.
 *
 * Method (one sandbox per size, both walks against the same sandbox, same knobs):
 *   - The account holds N IAM users (10% with one Elevate grant policy, rendered
 *     by grantPolicyText) and three privileged roles. Users are put into the
 *     sandbox's IAM store directly (no HTTP), so populating 50,000 users takes
 *     well under a second; the grant policies go through IamStore.putUserPolicy,
 *     i.e. IAM's own validation and size budget.
 *   - Ours: `readInventory` from src/modes/inventory.ts, the revoker's entry point
 *     (GetAccountAuthorizationDetails, Filter User+Role, MaxItems 1000, then
 *     GetRole only where a cut-off needs it), with the clients of
 *     src/adapters/aws.ts `createClients` (adaptive retry, 6 attempts).
 *   - Naive: ListUsers (MaxItems 1000) → ListUserPolicies per user →
 *     GetUserPolicy per policy, and the same for roles (ListRoles →
 *     ListRolePolicies → GetRolePolicy), one call at a time, with the same
 *     clients; its result is fed to the same `buildInventory`, and the bench
 *     checks that both walks found the same grants.
 *   - Both run with the same injected per-call latency and throttling rate
 *     (sandbox knobs; the throttling generator is re-seeded before each walk so
 *     both see the same sequence). Calls are counted from the sandbox's call log,
 *     throttled attempts included; "listing calls" are the successful
 *     GetAccountAuthorizationDetails calls (the budget ⌈users / 1,000⌉ + 1).
 *   - The naive walk runs fully up to `naiveFullUpTo` users; above that its calls
 *     are computed exactly from the walk's definition and its time is
 *     extrapolated linearly from the largest measured size, and the row says so.
 */
import type { IAMClient } from "@aws-sdk/client-iam";
import {
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  type ListRolesCommandOutput,
  ListUserPoliciesCommand,
  ListUsersCommand,
  type ListUsersCommandOutput,
} from "@aws-sdk/client-iam";
import { iamId } from "../sandbox/aws/ids.js";
import { startAwsSandbox } from "../sandbox/aws/index.js";
import type { AwsSandbox } from "../sandbox/aws/server.js";
import { createClients, type RoleDetail, type UserDetail } from "../src/adapters/aws.js";
import { grantPolicyName, grantPolicyText } from "../src/domain/grant-policy.js";
import { buildInventory, readInventory } from "../src/modes/inventory.js";
import { type BenchResult, type BenchRow, type CommonOptions, fmtInt, fmtMs, ratioText } from "./lib/result.js";

export interface InventoryOptions extends CommonOptions {
  sizes: number[];
  /** The naive walk runs in full up to this many users; larger sizes are extrapolated. */
  naiveFullUpTo: number;
  latencyMs: number;
  throttleRate: number;
  /** Fraction of users holding a grant. */
  grantFraction: number;
}

export const INVENTORY_FULL: Omit<InventoryOptions, keyof CommonOptions> = {
  sizes: [1000, 10_000, 50_000],
  naiveFullUpTo: 10_000,
  latencyMs: 2,
  throttleRate: 0.001,
  grantFraction: 0.1,
};

export const INVENTORY_QUICK: Omit<InventoryOptions, keyof CommonOptions> = {
  sizes: [1000, 10_000],
  naiveFullUpTo: 1000,
  latencyMs: 2,
  throttleRate: 0.001,
  grantFraction: 0.1,
};

const ACCOUNT = "123456789012";
const ROLE_NAMES = ["EC2_FullAccess_Role", "RDS_Admin_Role", "Billing_Admin_Role"];
const TRUST = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" }],
});

/**
 * Puts `users` IAM users straight into the sandbox store. IamStore.createUser
 * checks case-insensitive uniqueness by scanning every user (quadratic over
 * 50,000), so the bench builds the same record itself; names are unique by
 * construction. Every `1 / grantFraction`-th user gets a grant through
 * putUserPolicy (IAM's validation and 2,048-character budget apply).
 */
export function populateAccount(sandbox: AwsSandbox, users: number, grantFraction: number, now: Date): number {
  const store = sandbox.state.iam;
  const account = store.account(ACCOUNT);
  for (const roleName of ROLE_NAMES) {
    store.createRole(ACCOUNT, { roleName, path: "/elevated/", assumeRolePolicyDocument: TRUST });
  }
  const every = Math.max(1, Math.round(1 / grantFraction));
  let grants = 0;
  for (let i = 0; i < users; i++) {
    const userName = `user-${String(i).padStart(6, "0")}`;
    account.users.set(userName, {
      accountId: ACCOUNT,
      userName,
      userId: iamId("AIDA"),
      path: "/",
      arn: `arn:aws:iam::${ACCOUNT}:user/${userName}`,
      createDate: now,
      inlinePolicies: new Map(),
      tags: [],
    });
    if (i % every !== 0) continue;
    const requestId = `req-${String(i).padStart(6, "0")}`;
    // One in ten grants has already expired, as in an account the revoker has not swept yet.
    const expired = grants % 10 === 9;
    const notBefore = new Date(now.getTime() + (expired ? -3 : -1) * 3600_000);
    const notAfter = new Date(notBefore.getTime() + 2 * 3600_000);
    const roleName = ROLE_NAMES[grants % ROLE_NAMES.length] as string;
    store.putUserPolicy(
      ACCOUNT,
      userName,
      grantPolicyName(requestId),
      grantPolicyText({
        requestId,
        iamUser: userName,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/elevated/${roleName}`,
        notBefore,
        notAfter,
      }),
    );
    grants++;
  }
  return grants;
}

/** The naive per-entity walk; returns what GetAccountAuthorizationDetails would have, for buildInventory. */
export async function naiveWalk(iam: IAMClient): Promise<{ users: UserDetail[]; roles: RoleDetail[] }> {
  const users: UserDetail[] = [];
  let marker: string | undefined;
  do {
    const page: ListUsersCommandOutput = await iam.send(
      new ListUsersCommand({ MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const u of page.Users ?? []) {
      const detail: UserDetail = { UserName: u.UserName, Arn: u.Arn, Path: u.Path, UserPolicyList: [] };
      let policyMarker: string | undefined;
      do {
        const names = await iam.send(
          new ListUserPoliciesCommand({
            UserName: u.UserName,
            MaxItems: 1000,
            ...(policyMarker ? { Marker: policyMarker } : {}),
          }),
        );
        for (const policyName of names.PolicyNames ?? []) {
          const policy = await iam.send(new GetUserPolicyCommand({ UserName: u.UserName, PolicyName: policyName }));
          detail.UserPolicyList?.push({ PolicyName: policyName, PolicyDocument: policy.PolicyDocument });
        }
        policyMarker = names.IsTruncated ? names.Marker : undefined;
      } while (policyMarker);
      users.push(detail);
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);

  const roles: RoleDetail[] = [];
  marker = undefined;
  do {
    const page: ListRolesCommandOutput = await iam.send(
      new ListRolesCommand({ MaxItems: 1000, ...(marker ? { Marker: marker } : {}) }),
    );
    for (const r of page.Roles ?? []) {
      const detail: RoleDetail = { RoleName: r.RoleName, Arn: r.Arn, Path: r.Path, RolePolicyList: [] };
      const names = await iam.send(new ListRolePoliciesCommand({ RoleName: r.RoleName, MaxItems: 1000 }));
      for (const policyName of names.PolicyNames ?? []) {
        const policy = await iam.send(new GetRolePolicyCommand({ RoleName: r.RoleName, PolicyName: policyName }));
        detail.RolePolicyList?.push({ PolicyName: policyName, PolicyDocument: policy.PolicyDocument });
      }
      roles.push(detail);
    }
    marker = page.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return { users, roles };
}

/** Exact call count of the naive walk without throttling (for sizes it does not run). */
export function naiveCalls(users: number, grants: number, roles: number, rolePolicies: number): number {
  return (
    Math.max(1, Math.ceil(users / 1000)) + users + grants + Math.max(1, Math.ceil(roles / 1000)) + roles + rolePolicies
  );
}

interface WalkMeasurement {
  ms: number;
  /** HTTP requests the sandbox answered, throttled attempts included. */
  requests: number;
  throttled: number;
  listingCalls: number;
  grantsFound: number;
}

async function measure(sandbox: AwsSandbox, walk: () => Promise<number>): Promise<WalkMeasurement> {
  const from = sandbox.callLog.length;
  const start = performance.now();
  const grantsFound = await walk();
  const ms = performance.now() - start;
  const entries = sandbox.callLog.slice(from);
  return {
    ms,
    requests: entries.length,
    throttled: entries.filter((e) => e.outcome === "Throttling").length,
    listingCalls: entries.filter((e) => e.action === "GetAccountAuthorizationDetails" && e.outcome === "ok").length,
    grantsFound,
  };
}

export async function runInventoryBench(options: InventoryOptions): Promise<BenchResult> {
  const rows: BenchRow[] = [];
  const notes: string[] = [
    `Inventory: ours = readInventory (src/modes/inventory.ts: GetAccountAuthorizationDetails, Filter User+Role, MaxItems 1000); naive = ListUsers + ListUserPolicies per user + GetUserPolicy per policy (and the same for roles), sequential. Same sandbox, ${options.latencyMs} ms injected latency per call and ${options.throttleRate * 100}% throttling (seeded) for both; SDK clients from createClients (adaptive retry). ${options.grantFraction * 100}% of users hold a grant; 3 roles. Calls include throttled attempts.`,
  ];
  let lastNaive: { users: number; ms: number } | undefined;
  const SEED = 7;
  for (const users of options.sizes) {
    const now = new Date();
    const sandbox = await startAwsSandbox({ seed: SEED });
    try {
      const populateStart = performance.now();
      const grants = populateAccount(sandbox, users, options.grantFraction, now);
      options.log(
        `inventory: ${fmtInt(users)} users, ${fmtInt(grants)} grants populated in ${fmtMs(performance.now() - populateStart)}`,
      );
      // createClients takes its endpoint from the SDK's environment configuration.
      process.env.AWS_ENDPOINT_URL_IAM = sandbox.endpoint;
      const { iam } = createClients(sandbox.region, sandbox.rootCredentials);
      const { iam: naiveIam } = createClients(sandbox.region, sandbox.rootCredentials);
      sandbox.knobs.reset();
      sandbox.knobs.latencyMs = options.latencyMs;
      sandbox.knobs.throttleRate = options.throttleRate;
      const ours = await measure(sandbox, async () => {
        const result = await readInventory(iam, ACCOUNT, now);
        return result.inventory.grants.length;
      });
      if (ours.grantsFound !== grants) throw new Error(`ours found ${ours.grantsFound} grants of ${grants}`);
      options.log(`inventory: ${fmtInt(users)} ours ${ours.requests} requests, ${fmtMs(ours.ms)}`);

      const budget = Math.ceil(users / 1000) + 1;
      rows.push({
        benchmark: "1 Inventory",
        measure: `${fmtInt(users)} users: listing calls (GetAccountAuthorizationDetails)`,
        ours: fmtInt(ours.listingCalls),
        baseline: "",
        ratio: "",
        budget: `≤ ${fmtInt(budget)}`,
        verdict: ours.listingCalls <= budget ? "ok" : "MISSED",
      });

      let naive: WalkMeasurement & { extrapolated: boolean };
      if (users <= options.naiveFullUpTo) {
        sandbox.knobs.reset();
        sandbox.knobs.latencyMs = options.latencyMs;
        sandbox.knobs.throttleRate = options.throttleRate;
        const measured = await measure(sandbox, async () => {
          const { users: u, roles: r } = await naiveWalk(naiveIam);
          return buildInventory(ACCOUNT, u, r).grants.length;
        });
        if (measured.grantsFound !== grants) throw new Error(`naive found ${measured.grantsFound} grants of ${grants}`);
        naive = { ...measured, extrapolated: false };
        lastNaive = { users, ms: measured.ms };
        options.log(`inventory: ${fmtInt(users)} naive ${measured.requests} requests, ${fmtMs(measured.ms)}`);
      } else {
        const calls = naiveCalls(users, grants, ROLE_NAMES.length, 0);
        const ms = lastNaive ? (lastNaive.ms * users) / lastNaive.users : Number.NaN;
        naive = { ms, requests: calls, throttled: 0, listingCalls: 0, grantsFound: grants, extrapolated: true };
      }
      const tag = naive.extrapolated ? " (computed, not run)" : "";
      const timeTag = naive.extrapolated
        ? ` (extrapolated ×${users / (lastNaive?.users ?? 1)} from ${fmtInt(lastNaive?.users ?? 0)}, not run)`
        : "";
      rows.push({
        benchmark: "1 Inventory",
        measure: `${fmtInt(users)} users: AWS calls, throttled retries included`,
        ours: `${fmtInt(ours.requests)} (${ours.throttled} throttled)`,
        baseline: `naive ${fmtInt(naive.requests)}${naive.extrapolated ? tag : ` (${naive.throttled} throttled)`}`,
        ratio: ratioText("naive ÷ ours", naive.requests, ours.requests),
        budget: "",
        verdict: "info",
      });
      rows.push({
        benchmark: "1 Inventory",
        measure: `${fmtInt(users)} users: wall time`,
        ours: fmtMs(ours.ms),
        baseline: `naive ${fmtMs(naive.ms)}${timeTag}`,
        ratio: ratioText("naive ÷ ours", naive.ms, ours.ms),
        budget: "",
        verdict: "info",
      });
    } finally {
      await sandbox.close();
    }
  }
  return { name: "inventory", rows, notes };
}
