/**
 * Elevate-GrantPermissionSet's checkCeiling script (infra/runbooks/elevate-grant-permission-set.yaml),
 * run with python3 exactly as the sandbox's Automation engine runs it. The catalog is the
 * stack's GrantablePermissionSets (PERMISSION_SET_ARN@ACCOUNT_ID=MAX_DURATION); instance
 * and identity store come from the stack; time is the execution's own clock.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import { parseRunbook } from "../../sandbox/cfn/runbook.js";

const runbook = parseRunbook(readFileSync("infra/runbooks/elevate-grant-permission-set.yaml", "utf8"));
const step = runbook.mainSteps.find((s) => s.name === "checkCeiling");
if (!step) throw new Error("no checkCeiling step");
const inputs = step.inputs as { Script: string; Handler: string; InputPayload: Record<string, unknown> };

const INSTANCE = "arn:aws:sso:::instance/ssoins-0123456789abcdef";
const PS = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef";
const OTHER_PS = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-aaaaaaaaaaaaaaaa";
const MEMBER = "210987654321";
const NOW = new Date("2026-11-30T09:00:00Z");

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const at = (offsetMinutes: number) => iso(NOW.getTime() + offsetMinutes * 60_000);

type Payload = Record<string, string>;
const base: Payload = {
  PermissionSetArn: PS,
  AccountId: MEMBER,
  NotBefore: at(0),
  NotAfter: at(120),
  GrantablePermissionSets: `${PS}@${MEMBER}=2h,${OTHER_PS}@${MEMBER}=30m`,
  InstanceArn: INSTANCE,
  IdentityStoreId: "d-0123456789",
  EligibleGroupId: "9067d8a4e2-5e1c4a3b-7f2d-4c6e-8a9b-0c1d2e3f4a5b",
  MaxGrantLeadTime: "168h",
  GrantStartTolerance: "2h",
};

async function check(overrides: Payload = {}, now = NOW): Promise<string> {
  const result = await runPythonScript({
    script: inputs.Script,
    handler: inputs.Handler,
    payload: { ...base, ...overrides },
    now,
  });
  if (result.ErrorType) return `${result.ErrorType}: ${result.ErrorMessage}`;
  return `ok ${JSON.stringify(result.Payload)}`;
}

describe("the runbook wires the stack into the step", () => {
  it("takes catalog, instance, identity store, lead time and tolerance from CloudFormation, the rest from the parameters", () => {
    expect(step.action).toBe("aws:executeScript");
    expect(inputs.InputPayload).toEqual({
      PermissionSetArn: "{{ PermissionSetArn }}",
      AccountId: "{{ AccountId }}",
      NotBefore: "{{ NotBefore }}",
      NotAfter: "{{ NotAfter }}",
      GrantablePermissionSets: { "Fn::Join": [",", { Ref: "GrantablePermissionSets" }] },
      InstanceArn: { Ref: "IdentityCenterInstanceArn" },
      IdentityStoreId: { Ref: "IdentityStoreId" },
      EligibleGroupId: { Ref: "IdentityCenterEligibleGroupId" },
      MaxGrantLeadTime: { Ref: "MaxGrantLeadTime" },
      GrantStartTolerance: { Ref: "GrantStartTolerance" },
    });
    expect(runbook.mainSteps[0]?.name).toBe("checkCeiling");
    // Nothing that assigns runs before the ceiling.
    expect(runbook.mainSteps.map((s) => s.name)).toEqual([
      "checkCeiling",
      "resolveUser",
      "checkEligible",
      "scheduleEnd",
      "waitForStart",
      "createAssignment",
    ]);
  });
});

describe("checkCeiling (permission sets)", () => {
  it("accepts a catalogued permission set in its account, a window up to its maximum, starting now", async () => {
    expect(await check()).toBe(`ok {"CheckedAt":"2026-11-30T09:00:00Z","MaxDurationSeconds":7200}`);
    expect(await check({ PermissionSetArn: OTHER_PS, NotAfter: at(30) })).toMatch(/^ok /);
  });

  it.each([
    [
      "a permission set outside the catalog",
      { PermissionSetArn: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-bbbbbbbbbbbbbbbb" },
    ],
    ["a catalogued permission set in another account", { AccountId: "123456789012" }],
    ["a prefix-sharing account", { AccountId: "210987654320" }],
  ])("refuses %s", async (_label, overrides) => {
    expect(await check(overrides)).toMatch(/ValueError: .* is not in the stack's GrantablePermissionSets/);
  });

  it("refuses a permission set of another instance, even one the catalog lists", async () => {
    const foreign = "arn:aws:sso:::permissionSet/ssoins-fedcba9876543210/ps-0123456789abcdef";
    expect(await check({ PermissionSetArn: foreign, GrantablePermissionSets: `${foreign}@${MEMBER}=2h` })).toMatch(
      /is not a permission set of the stack's instance/,
    );
  });

  it("refuses everything when the catalog is empty or Identity Center is not configured", async () => {
    expect(await check({ GrantablePermissionSets: "" })).toMatch(/not in the stack's GrantablePermissionSets/);
    expect(await check({ InstanceArn: "" })).toMatch(/Identity Center is not configured in this stack/);
    expect(await check({ IdentityStoreId: "" })).toMatch(/Identity Center is not configured in this stack/);
  });

  it("refuses every grant when no eligible group is configured (secure by default), naming the stack parameter", async () => {
    expect(await check({ EligibleGroupId: "" })).toMatch(
      /no Identity Center user is eligible: set the stack parameter IdentityCenterEligibleGroupId/,
    );
    expect(await check({ EligibleGroupId: "not-a-group" })).toMatch(/IdentityCenterEligibleGroupId/);
    expect(await check({ EligibleGroupId: "5e1c4a3b-7f2d-4c6e-8a9b-0c1d2e3f4a5b" })).toMatch(/^ok /);
  });

  it.each([
    ["no account", `${PS}=2h`],
    ["no duration", `${PS}@${MEMBER}`],
    ["a wildcard permission set", `arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/*@${MEMBER}=2h`],
    ["a wildcard account", `${PS}@*=2h`],
    ["a bad duration", `${PS}@${MEMBER}=2d`],
  ])("fails closed on a malformed catalog entry (%s), naming the stack parameter", async (_label, catalog) => {
    expect(await check({ GrantablePermissionSets: catalog })).toMatch(
      /ValueError: stack parameter GrantablePermissionSets/,
    );
  });

  it("takes the larger maximum when a pair is listed twice, and trims spaces", async () => {
    expect(await check({ GrantablePermissionSets: ` ${PS}@${MEMBER}=1h , ${PS}@${MEMBER}=2h ` })).toMatch(
      /"MaxDurationSeconds":7200/,
    );
  });

  it("refuses a window one second longer than the entry's maximum, and an empty or inverted one", async () => {
    expect(await check({ NotAfter: iso(NOW.getTime() + 7_201_000) })).toMatch(
      /the window is 7201 s long; the stack's GrantablePermissionSets allows at most 7200 s/,
    );
    expect(await check({ PermissionSetArn: OTHER_PS, NotAfter: at(31) })).toMatch(/allows at most 1800 s/);
    expect(await check({ NotAfter: at(0) })).toMatch(/is not after NotBefore/);
  });

  it("applies GrantStartTolerance and MaxGrantLeadTime (capped at what aws:sleep can wait)", async () => {
    expect(await check({ NotBefore: at(-119), NotAfter: at(-10) })).toMatch(/^ok /);
    expect(await check({ NotBefore: at(-121), NotAfter: at(-10) })).toMatch(/GrantStartTolerance \(7200 s\)/);
    const week = 7 * 24 * 60;
    expect(await check({ NotBefore: at(week - 1), NotAfter: at(week + 59) })).toMatch(/^ok /);
    // 168h is 604,800 s; an automation waits at most 604,799 s.
    expect(await check({ NotBefore: iso(NOW.getTime() + 604_800_000), NotAfter: at(week + 60) })).toMatch(
      /is more than 604799 s \(MaxGrantLeadTime, at most the 604799 s an automation can wait\)/,
    );
    expect(await check({ NotBefore: at(61), NotAfter: at(90), MaxGrantLeadTime: "1h" })).toMatch(/MaxGrantLeadTime/);
  });

  it("judges by the execution's clock, never a caller's", async () => {
    const window = { NotBefore: at(60), NotAfter: at(120) };
    expect(await check(window)).toMatch(/^ok /);
    expect(await check(window, new Date(NOW.getTime() + 7 * 24 * 3600_000))).toMatch(/GrantStartTolerance/);
    const far = { NotBefore: at(30 * 24 * 60), NotAfter: at(30 * 24 * 60 + 60) };
    expect(await check({ ...far, Now: far.NotBefore, CurrentTime: far.NotBefore })).toMatch(/MaxGrantLeadTime/);
  });
});
