/**
 * Elevate-Grant's checkCeiling script (infra/runbooks/elevate-grant.yaml), run
 * with python3 exactly as the sandbox's Automation engine runs it (and as AWS
 * would: handler(events, context), an exception fails the step). Time is the
 * execution's own clock, given to the runner as AWS's; nothing the caller passes
 * can move it.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import { parseRunbook } from "../../sandbox/cfn/runbook.js";

const runbook = parseRunbook(readFileSync("infra/runbooks/elevate-grant.yaml", "utf8"));
const step = runbook.mainSteps.find((s) => s.name === "checkCeiling");
if (!step) throw new Error("no checkCeiling step");
const inputs = step.inputs as { Script: string; Handler: string; InputPayload: Record<string, unknown> };

const ROLE = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";
const OTHER = "arn:aws:iam::123456789012:role/prod-admin";
const NOW = new Date("2026-11-30T09:00:00Z");

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const at = (offsetMinutes: number) => iso(NOW.getTime() + offsetMinutes * 60_000);

interface Payload {
  RoleArn: string;
  NotBefore: string;
  NotAfter: string;
  GrantableRoles: string;
  MaxGrantLeadTime: string;
  GrantStartTolerance: string;
  [extra: string]: string;
}

const base: Payload = {
  RoleArn: ROLE,
  NotBefore: at(0),
  NotAfter: at(120),
  GrantableRoles: `${ROLE}=2h,${OTHER}=30m`,
  MaxGrantLeadTime: "168h",
  GrantStartTolerance: "2h",
};

async function check(overrides: Partial<Payload> = {}, now = NOW): Promise<string> {
  const result = await runPythonScript({
    script: inputs.Script,
    handler: inputs.Handler,
    payload: { ...base, ...overrides },
    now,
  });
  if (result.ErrorType) return `${result.ErrorType}: ${result.ErrorMessage}`;
  return `ok ${JSON.stringify(result.Payload)}`;
}

describe("the runbook wires the stack's ceiling into the step", () => {
  it("takes the catalog, lead time and tolerance from CloudFormation, the rest from the parameters", () => {
    expect(step.action).toBe("aws:executeScript");
    expect(inputs.InputPayload).toEqual({
      RoleArn: "{{ RoleArn }}",
      NotBefore: "{{ NotBefore }}",
      NotAfter: "{{ NotAfter }}",
      // The smoke-test canary joins the catalog only when the stack creates it.
      GrantableRoles: {
        "Fn::If": [
          "ShouldCreateSmokeTestCanary",
          {
            "Fn::Join": [
              ",",
              [
                { "Fn::Join": [",", { Ref: "GrantableRoles" }] },
                // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JS template
                { "Fn::Sub": "${SmokeTestRole.Arn}=15m" },
              ],
            ],
          },
          { "Fn::Join": [",", { Ref: "GrantableRoles" }] },
        ],
      },
      MaxGrantLeadTime: { Ref: "MaxGrantLeadTime" },
      GrantStartTolerance: { Ref: "GrantStartTolerance" },
    });
    // Nothing in the payload names a clock: the script reads the execution's own.
    expect(JSON.stringify(inputs.InputPayload)).not.toContain("global:");
    expect(runbook.mainSteps[0]?.name).toBe("checkCeiling");
  });
});

describe("checkCeiling", () => {
  it("accepts a catalog role, a window up to its maximum, starting now", async () => {
    expect(await check()).toBe(`ok {"CheckedAt":"2026-11-30T09:00:00Z","MaxDurationSeconds":7200}`);
    expect(await check({ RoleArn: OTHER, NotAfter: at(30) })).toMatch(/^ok /);
  });

  describe("role catalog", () => {
    it.each([
      ["a role outside the catalog", "arn:aws:iam::123456789012:role/Admin"],
      ["a catalog role's name under another path", "arn:aws:iam::123456789012:role/EC2_FullAccess_Role"],
      ["a catalog role in another account", "arn:aws:iam::210987654321:role/elevated/EC2_FullAccess_Role"],
      ["a longer name sharing the prefix", `${ROLE}2`],
      ["a prefix of a catalog role", "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess"],
      ["another partition", "arn:aws-cn:iam::123456789012:role/elevated/EC2_FullAccess_Role"],
      ["a case-changed ARN", ROLE.toLowerCase()],
      ["the whole catalog text", `${ROLE}=2h`],
    ])("refuses %s", async (_label, roleArn) => {
      expect(await check({ RoleArn: roleArn })).toMatch(/ValueError: .* is not in the stack's GrantableRoles/);
    });

    it("refuses everything when the catalog is empty", async () => {
      expect(await check({ GrantableRoles: "" })).toMatch(/not in the stack's GrantableRoles/);
    });

    it.each([
      ["no duration", ROLE],
      ["a wildcard ARN", "arn:aws:iam::123456789012:role/*=2h"],
      ["a bad duration", `${ROLE}=2d`],
      ["a negative duration", `${ROLE}=-2h`],
      ["an empty duration", `${ROLE}=`],
    ])("fails closed on a malformed catalog entry (%s), naming the stack parameter", async (_label, catalog) => {
      expect(await check({ GrantableRoles: catalog })).toMatch(/ValueError: stack parameter GrantableRoles/);
    });

    it("takes the larger maximum when a role is listed twice, and trims spaces", async () => {
      expect(await check({ GrantableRoles: ` ${ROLE}=1h , ${ROLE}=2h ` })).toMatch(/"MaxDurationSeconds":7200/);
    });
  });

  describe("window ceiling", () => {
    it("refuses a window one second longer than the role's maximum", async () => {
      expect(await check({ NotAfter: iso(NOW.getTime() + 7_201_000) })).toMatch(
        /the window is 7201 s long; the stack's GrantableRoles allows at most 7200 s/,
      );
      expect(await check({ RoleArn: OTHER, NotAfter: at(31) })).toMatch(/allows at most 1800 s/);
    });

    it("refuses an empty or inverted window", async () => {
      expect(await check({ NotAfter: at(0) })).toMatch(/is not after NotBefore/);
      expect(await check({ NotBefore: at(60), NotAfter: at(0) })).toMatch(/is not after NotBefore/);
    });

    it("refuses a NotBefore more than GrantStartTolerance in the past, accepts one within it", async () => {
      // (The runner's clock starts at NOW and moves on with real time: stay a minute inside the bound.)
      expect(await check({ NotBefore: at(-119), NotAfter: at(-10) })).toMatch(/^ok /);
      expect(await check({ NotBefore: at(-121), NotAfter: at(-10) })).toMatch(
        /NotBefore 2026-11-30T06:59:00Z is more than GrantStartTolerance \(7200 s\) before the execution time 2026-11-30T09:00:00Z/,
      );
      expect(await check({ NotBefore: at(-11), NotAfter: at(60), GrantStartTolerance: "10m" })).toMatch(
        /GrantStartTolerance/,
      );
    });

    it("refuses a NotBefore more than MaxGrantLeadTime ahead, accepts one within it", async () => {
      const week = 7 * 24 * 60;
      expect(await check({ NotBefore: at(week - 1), NotAfter: at(week + 59) })).toMatch(/^ok /);
      expect(await check({ NotBefore: at(week + 1), NotAfter: at(week + 61) })).toMatch(
        /is more than MaxGrantLeadTime \(604800 s\) after the execution time/,
      );
      expect(await check({ NotBefore: at(61), NotAfter: at(90), MaxGrantLeadTime: "1h" })).toMatch(/MaxGrantLeadTime/);
    });

    it("judges by the execution's clock: the same window passes today and fails a week later", async () => {
      const window = { NotBefore: at(60), NotAfter: at(120) };
      expect(await check(window)).toMatch(/^ok /);
      expect(await check(window, new Date(NOW.getTime() + 7 * 24 * 3600_000))).toMatch(/GrantStartTolerance/);
      expect(await check(window, new Date(NOW.getTime() - 8 * 24 * 3600_000))).toMatch(/MaxGrantLeadTime/);
    });

    it("ignores any clock a caller slips into the payload", async () => {
      const far = { NotBefore: at(30 * 24 * 60), NotAfter: at(30 * 24 * 60 + 60) };
      expect(
        await check({ ...far, Now: far.NotBefore, ExecutionTime: far.NotBefore, CurrentTime: far.NotBefore }),
      ).toMatch(/MaxGrantLeadTime/);
    });

    it.each([
      "2026-11-30T09:00:00",
      "2026-11-30T09:00:00+09:00",
      "2026-11-30 09:00:00Z",
      "2026-11-30T09:00:00.000Z",
      "",
    ])("refuses a time that is not UTC whole seconds: %j", async (time) => {
      expect(await check({ NotBefore: time })).toMatch(/is not a UTC time/);
    });
  });
});
