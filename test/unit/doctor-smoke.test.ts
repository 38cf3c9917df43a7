/**
 * `elevate doctor --smoke`, its pure half (src/domain/doctor-smoke.ts): the canary from
 * the stack's outputs, the window from AWS's clock, the runbook parameters (which must
 * pass the runbooks' allowedPatterns), and how failed steps become findings.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { loadConfig } from "../../src/domain/config.js";
import {
  expectedSessionArn,
  formatSmokeStep,
  grantParameters,
  revokeParameters,
  smokeFindings,
  smokeGrant,
  smokeTarget,
} from "../../src/domain/doctor-smoke.js";
import type { StackOutputs } from "../../src/domain/stack-outputs.js";

const ACCOUNT = "123456789012";
const CONFIG = `version: 1
aws:
  accountId: "${ACCOUNT}"
  region: eu-central-1
  grantRoleArn: arn:aws:iam::${ACCOUNT}:role/elevate-grant
  revokeRoleArn: arn:aws:iam::${ACCOUNT}:role/elevate-revoke
  automationRoleArn: arn:aws:iam::${ACCOUNT}:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice
roles:
  ec2-admin:
    arn: arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role
    maxDuration: 2h
`;
const loaded = loadConfig(CONFIG, ".github/elevate.yml");
if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
const config = loaded.config;

function stack(values: Record<string, string>): StackOutputs {
  return { values: new Map(Object.entries(values)), parameters: new Map() };
}
const CANARY = {
  SmokeTestUserName: "elevate-smoke-test",
  SmokeTestRoleArn: `arn:aws:iam::${ACCOUNT}:role/elevated/elevate-smoke-test-canary`,
};

function runbookPatterns(path: string): Record<string, RegExp> {
  const doc = parse(readFileSync(path, "utf8").replace(/!(If|Join|Sub|Ref)\b/g, "")) as {
    parameters: Record<string, { allowedPattern?: string }>;
  };
  return Object.fromEntries(
    Object.entries(doc.parameters).map(([name, p]) => [name, new RegExp(p.allowedPattern ?? ".*")]),
  );
}

describe("smokeTarget", () => {
  it("takes the canary from the stack's outputs and the runbooks from the config", () => {
    const read = smokeTarget(config, stack({ ...CANARY, ScheduleGroupName: "elevate" }));
    expect(read).toEqual({
      ok: true,
      target: {
        userName: "elevate-smoke-test",
        roleArn: CANARY.SmokeTestRoleArn,
        roleName: "elevate-smoke-test-canary",
        automationRoleArn: `arn:aws:iam::${ACCOUNT}:role/elevate-automation`,
        grantDocument: "Elevate-Grant",
        revokeDocument: "Elevate-Revoke",
        scheduleGroup: "elevate",
      },
    });
  });

  it("refuses a stack without the canary, naming the parameter, and no stack at all", () => {
    expect(smokeTarget(config, stack({ SmokeTestUserName: "x" }))).toEqual({
      ok: false,
      message: expect.stringContaining("update it with CreateSmokeTestCanary=true"),
    });
    expect(smokeTarget(config, undefined)).toEqual({ ok: false, message: expect.stringContaining("--stack-outputs") });
  });
});

describe("the round trip's grant and revoke", () => {
  const read = smokeTarget(config, stack(CANARY));
  if (!read.ok) throw new Error(read.message);
  const target = read.target;
  const grant = smokeGrant(new Date("2026-11-30T08:00:02.789Z"));

  it("is a 15-minute window from AWS's time, whole seconds, under a fresh request id", () => {
    expect(grant).toEqual({
      requestId: "smoke-test-20261130080002",
      notBefore: "2026-11-30T08:00:02Z",
      notAfter: "2026-11-30T08:15:02Z",
    });
  });

  it("passes every allowedPattern of Elevate-Grant and Elevate-Revoke", () => {
    const grantPatterns = runbookPatterns("infra/runbooks/elevate-grant.yaml");
    const grantParams = grantParameters(target, grant);
    expect(Object.keys(grantParams).sort()).toEqual(Object.keys(grantPatterns).sort());
    for (const [name, [value]] of Object.entries(grantParams)) expect(value).toMatch(grantPatterns[name] as RegExp);

    const revokePatterns = runbookPatterns("infra/runbooks/elevate-revoke.yaml");
    const revokeParams = revokeParameters(target, grant, new Date("2026-11-30T08:01:00.500Z"));
    expect(revokeParams).toMatchObject({
      CutOff: ["false"],
      StampAtRunTime: ["false"],
      RevokedAt: ["2026-11-30T08:01:00Z"],
    });
    expect(Object.keys(revokeParams).sort()).toEqual(Object.keys(revokePatterns).sort());
    for (const [name, [value]] of Object.entries(revokeParams)) expect(value).toMatch(revokePatterns[name] as RegExp);
  });

  it("expects the canary session, named after the user, and nothing else", () => {
    const arn = expectedSessionArn(target);
    expect(`arn:aws:sts::${ACCOUNT}:assumed-role/elevate-smoke-test-canary/elevate-smoke-test`).toMatch(arn);
    expect(`arn:aws:sts::${ACCOUNT}:assumed-role/elevate-smoke-test-canary/someone-else`).not.toMatch(arn);
    expect(`arn:aws:sts::${ACCOUNT}:assumed-role/EC2_FullAccess_Role/elevate-smoke-test`).not.toMatch(arn);
  });
});

describe("smokeFindings", () => {
  it("makes each failed step an error finding and leaves passes and skips to the progress lines", () => {
    const steps = [
      { step: "grant", outcome: "fail" as const, detail: "execution 1 ended Failed: AccessDenied" },
      { step: "assume", outcome: "skipped" as const, detail: "the grant failed" },
      { step: "clean up", outcome: "pass" as const, detail: "absent" },
    ];
    expect(smokeFindings(steps, ".github/elevate.yml")).toEqual([
      {
        file: ".github/elevate.yml",
        line: 1,
        col: 1,
        severity: "error",
        message: "smoke test: grant failed: execution 1 ended Failed: AccessDenied",
      },
    ]);
    expect(steps.map(formatSmokeStep)).toEqual([
      "elevate doctor --smoke: fail: grant: execution 1 ended Failed: AccessDenied",
      "elevate doctor --smoke: skipped: assume: the grant failed",
      "elevate doctor --smoke: pass: clean up: absent",
    ]);
  });
});
