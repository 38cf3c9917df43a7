/**
 * Keeps the benchmarks (bench/, `npm run bench`) from rotting: each one runs
 * at toy size and must produce its rows with the numbers the real run checks.
 * The numbers themselves are not asserted against budgets here (toy sizes on a
 * busy CI machine say nothing), only their shape and the counts that are exact.
 */
import { describe, expect, it } from "vitest";
import { runCliThroughputBench } from "../../bench/cli-throughput.js";
import { runColdStartBench } from "../../bench/cold-start.js";
import { runExpiryBench } from "../../bench/expiry.js";
import { runGrantOverheadBench } from "../../bench/grant-overhead.js";
import { runIdentityCenterBench } from "../../bench/identity-center.js";
import { naiveCalls, runInventoryBench } from "../../bench/inventory.js";
import { esbuildPlainBundle } from "../../bench/lib/builds.js";
import type { BenchRow } from "../../bench/lib/result.js";

const quiet = { quick: true, log: () => {} };

function row(rows: BenchRow[], measure: RegExp): BenchRow {
  const found = rows.find((r) => measure.test(r.measure));
  if (!found) throw new Error(`no row ${measure} in ${rows.map((r) => r.measure).join("; ")}`);
  return found;
}

describe("bench smoke", () => {
  it("inventory: ours reads 50 users in one listing call; the naive walk makes one call per user and grant", async () => {
    const result = await runInventoryBench({
      ...quiet,
      sizes: [50],
      naiveFullUpTo: 50,
      latencyMs: 0,
      throttleRate: 0,
      grantFraction: 0.1,
    });
    expect(row(result.rows, /listing calls/).ours).toBe("1");
    expect(row(result.rows, /listing calls/).verdict).toBe("ok");
    // 1 ListUsers + 50 ListUserPolicies + 5 GetUserPolicy + 1 ListRoles + 3 ListRolePolicies.
    expect(naiveCalls(50, 5, 3, 0)).toBe(60);
    expect(row(result.rows, /AWS calls/).baseline).toBe("naive 60 (0 throttled)");
  }, 60_000);

  it("identity center: ours lists the catalogued pairs and names each user once; the naive walk pays per account and per assignment; the ended grants' revokes start", async () => {
    const result = await runIdentityCenterBench({
      ...quiet,
      accountCounts: [2, 4],
      latencyMs: 0,
      throttleRate: 0,
      expiredFraction: 0.1,
      decisionAccounts: [2, 4],
    });
    // 2 accounts: ours = 4 pairs + 4 distinct users (DescribeUser); naive = 2 × (1 provisioned listing
    // + 3 ListAccountAssignments + 9 DescribeUser); per principal = 1 ListUsers page + 10 users.
    expect(row(result.rows, /^2 accounts .*inventory AWS calls/)).toMatchObject({
      ours: "8 (0 throttled)",
      baseline: "naive 26 (0 throttled)",
    });
    expect(row(result.rows, /^2 accounts .*per-principal walk/).baseline).toMatch(/^11 \(0 throttled\), /);
    expect(row(result.rows, /^2 accounts .*ListUsers pages/).baseline).toMatch(/^5 \(0 throttled\), /);
    expect(row(result.rows, /^4 accounts .*inventory AWS calls/)).toMatchObject({
      ours: "16 (0 throttled)",
      baseline: "naive 52 (0 throttled)",
    });
    // 4 of 40 assignments ended: 4 starts, their waits and no DescribeUser (names are cached from the inventory)
    // (each waited for: at least one status read per start).
    const revokeCalls = /^(\d+) \(0 throttled\): 4 starts, (\d+) status reads, 0 DescribeUser; /.exec(
      row(result.rows, /4 ended: revoke/).ours,
    );
    expect(Number(revokeCalls?.[2])).toBeGreaterThanOrEqual(4);
    expect(Number(revokeCalls?.[1])).toBe(4 + Number(revokeCalls?.[2]));
    expect(row(result.rows, /4 ended: revoke/).baseline).toMatch(
      /^decision \d+(\.\d+)? m?s of it; kept 28, 4 group assignments reported, not started$/,
    );
    expect(row(result.rows, /growth 2 → 4 accounts .*calls/).ours).toBe("8 → 16");
    expect(row(result.rows, /decision alone .*4 accounts: 36 assignments × 32 grants/).baseline).toMatch(
      /^2 accounts: \d/,
    );
  }, 60_000);

  it("throughput: validate and audit run on toy fixtures and report time and memory", async () => {
    const script = esbuildPlainBundle("src/cli/index.ts");
    const result = await runCliThroughputBench({
      ...quiet,
      small: 5,
      large: 50,
      runs: 1,
      cli: { nodeArgs: [], script, description: "esbuild bundle (smoke test)" },
    });
    for (const command of ["validate", "audit"]) {
      const time = row(result.rows, new RegExp(`^${command} 50 .*: time`));
      expect(time.ours).toMatch(/\d/);
      expect(row(result.rows, new RegExp(`^${command} 50 .*peak RSS`)).ours).toMatch(/MiB|KiB/);
    }
  }, 60_000);

  it("cold start: measures the tsx variant (and the committed bundle when HEAD has one)", async () => {
    const result = await runColdStartBench({ ...quiet, runs: 1, noBuilds: true });
    expect(row(result.rows, /tsx on src/).baseline).toMatch(/\d+(\.\d+)? m?s/);
  }, 60_000);

  it("grant overhead: one grant in the sandbox world yields start, notice and call counts", async () => {
    const path = esbuildPlainBundle("src/action/index.ts");
    const result = await runGrantOverheadBench({
      ...quiet,
      runs: 1,
      bundle: { path, description: "esbuild bundle (smoke test)" },
    });
    expect(row(result.rows, /StartAutomationExecution \(/).ours).toMatch(/^median \d/);
    expect(row(result.rows, /notices/).ours).toMatch(/^median \d/);
    const calls = Number(/\d+/.exec(row(result.rows, /AWS calls up to/).ours)?.[0]);
    expect(calls).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("expiry: one grant ends in the sandbox with no GitHub run; the Actions-run rows are exact", async () => {
    const result = await runExpiryBench({ ...quiet, runs: 1 });
    expect(row(result.rows, /notAfter → both sessions/).ours).toMatch(/^median \d/);
    expect(row(result.rows, /scheduled revoke runs per 30-day month/)).toMatchObject({
      ours: "720 (hourly)",
      baseline: "4320 (every 10 min)",
    });
    expect(row(result.rows, /one safety-net run/).ours).toMatch(/\d/);
  }, 120_000);
});
