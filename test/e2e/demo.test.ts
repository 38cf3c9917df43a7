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
    const { stdout } = await run(process.execPath, ["action/dist/cli/index.js", "demo"], {
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 60_000,
    });
    const steps = stdout.split("\n").filter((line) => /^\[\d+\/\d+\]/.test(line));
    expect(steps).toHaveLength(10);
    for (const line of steps) expect(line).toMatch(/ … ok \(\d+\.\d s\)$/);
    expect(stdout).toContain("alice can now assume the role");
    expect(stdout).toMatch(/bob: AccessDenied; alice as not-alice: AccessDenied/);
    expect(stdout).toContain("elevate-cutoff-alice.smith");
    expect(stdout).toMatch(/granted \([0-9a-f-]{36}\)/);
    expect(stdout).toMatch(/All 10 steps proved what they claim/);
    // It ends by pointing to the adoption guide, and says how its config differs from the example.
    expect(stdout).toContain("Follow docs/adoption.md");
    expect(stdout.trimEnd().endsWith("npx elevate doctor")).toBe(true);
    expect(stdout).toContain("role ec2-admin needs 1 approval and no ticket");
  }, 90_000);
});
