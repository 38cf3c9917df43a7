/**
 * `npx elevate demo` is the first thing a newcomer runs: run it exactly so,
 * through the committed CLI bundle, and hold it to its contract (exit 0 only
 * when every step proved its claim; a readable line per step). Its duration is
 * measured in bench/, not asserted here.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("elevate demo", () => {
  it("runs the whole loop and proves every step", async () => {
    const result = await run(process.execPath, ["action/dist/cli/index.js", "demo"], {
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 120_000,
    }).catch((error: { code?: unknown; signal?: unknown; stdout?: string; stderr?: string }) => error);
    // A failed demo says which step failed on stdout: show it, not only "Command failed".
    const stdout = result.stdout ?? "";
    expect(
      "code" in result ? { code: result.code, signal: result.signal } : { code: 0, signal: null },
      `${stdout}\n${result.stderr ?? ""}`,
    ).toEqual({ code: 0, signal: null });
    const steps = stdout.split("\n").filter((line) => /^\[\d+\/\d+\]/.test(line));
    expect(steps).toHaveLength(18);
    for (const line of steps) expect(line).toMatch(/ … ok \(\d+\.\d s\)$/);
    expect(stdout).toContain("alice can now assume the role");
    expect(stdout).toMatch(/bob: AccessDenied; alice as not-alice: AccessDenied/);
    expect(stdout).toContain("elevate-cutoff-alice.smith");
    // The grant's own schedule ends it at notAfter; the scheduled revoke run finds nothing left.
    expect(stdout).toMatch(/Elevate-ExpireGrant started by elevate-scheduler\//);
    expect(stdout).toContain("the scheduled revoke run (GitHub's safety net) found nothing left to revoke");
    expect(stdout).toMatch(/granted \([0-9a-f-]{36}\)/);
    expect(stdout).toMatch(/All 18 steps proved what they claim/);
    // Part two: an Identity Center permission set in the member account, same loop.
    const ps = "arn:aws:sso:::permissionSet/ssoins-[0-9a-f]{16}/ps-[0-9a-f]{16}";
    expect(stdout).toMatch(
      /\[11\/18\] Identity Center: the catalog's prod-admin is permission set ProdAdmin in member account 210987654321/,
    );
    expect(stdout).toMatch(new RegExp(`permissionSet: ${ps}\n\\s+account: "210987654321"`));
    expect(stdout).toContain("identityCenterUser: alice@acme.com");
    expect(stdout).toMatch(
      new RegExp(`\`alice@acme.com \\(Identity Center\\)\` \\| \`permission set ${ps} in account 210987654321\``),
    );
    expect(stdout).toMatch(/\[14\/18\] carol, a code owner of requests\/prod-admin\/, approves/);
    expect(stdout).toContain(
      "assignment: alice@acme.com -> ProdAdmin in 210987654321 (CreateAccountAssignment, status SUCCEEDED)",
    );
    expect(stdout).toContain(
      'SNS "granted": identityCenterUser alice@acme.com, permissionSetArn, accountId 210987654321',
    );
    expect(stdout).toMatch(/end scheduled: at\(\S+\) -> Elevate-RevokePermissionSet/);
    expect(stdout).toMatch(
      /session AWSReservedSSO_ProdAdmin_[0-9a-f]+\/alice@acme.com \(GetCallerIdentity: 210987654321\)/,
    );
    expect(stdout).toMatch(/bob: sign-in refused: bob@acme.com has no assignment/);
    expect(stdout).toMatch(/Elevate-RevokePermissionSet started by elevate-scheduler\//);
    expect(stdout).toMatch(/alice: sign-in refused: alice@acme.com has no assignment/);
    expect(stdout).toMatch(
      /\| rotate-prod-db-credentials \|.* in 210987654321 for Identity Center user .*\| granted \([0-9a-f-]{36}\)/,
    );
    // It ends by pointing to the adoption guide, and says how its config differs from the example.
    expect(stdout).toContain("Follow docs/adoption.md");
    expect(stdout.trimEnd().endsWith("npx elevate doctor")).toBe(true);
    expect(stdout).toContain("role ec2-admin needs 1 approval and no ticket");
  }, 150_000);
});
