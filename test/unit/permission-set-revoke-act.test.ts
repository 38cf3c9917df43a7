// The revoker's Identity Center act and report: Elevate-RevokePermissionSet started with exactly
// the contract's parameters for each decision, waited on; failures and drift left for a person fail the run.
import { GetAutomationExecutionCommand, SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import type { PermissionSetRevoke } from "../../src/domain/permission-set-revoke.js";
import {
  emptyRevokeReport,
  headlineOf,
  type RevokeReport,
  revokeFailed,
  revokeSummaryMarkdown,
} from "../../src/domain/revoke-report.js";
import { catalogPairs, performPermissionSetRevokes } from "../../src/modes/permission-set-inventory.js";
import { exampleConfig, IC_CONFIG, IC_PERMISSION_SET } from "./domain-fixtures.js";

const ssm = mockClient(SSMClient);
afterEach(() => ssm.reset());
const config = exampleConfig(IC_CONFIG);

const revoke: PermissionSetRevoke = {
  reason: "revoked-early",
  requestId: "fix-prod-db",
  userName: "dora@acme.com",
  permissionSetArn: IC_PERMISSION_SET,
  accountId: "210987654321",
  why: "request fix-prod-db was deleted from the default branch",
};

describe("performPermissionSetRevokes", () => {
  it("drift: report leaves drift in place (no runbook started), still revokes the rest, and fails the run", async () => {
    const drift: PermissionSetRevoke = {
      ...revoke,
      reason: "drift",
      requestId: "drift-0123456789abcdef",
      why: "no grant",
    };
    ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-r1" });
    ssm.on(GetAutomationExecutionCommand).resolves({ AutomationExecution: { AutomationExecutionStatus: "Success" } });
    const outcomes = await performPermissionSetRevokes(
      new SSMClient({ region: "ap-northeast-1" }),
      config,
      [drift, revoke],
      { id: "42", timeoutMs: 5_000, dryRun: false, drift: "report" },
    );
    expect(outcomes.map((o) => [o.requestId, o.status])).toEqual([
      ["drift-0123456789abcdef", "reported"],
      ["fix-prod-db", "revoked"],
    ]);
    expect(ssm.commandCalls(StartAutomationExecutionCommand).map((c) => c.args[0].input.Parameters?.RequestId)).toEqual(
      [["fix-prod-db"]],
    );
    const report: RevokeReport = {
      ...emptyRevokeReport(false),
      permissionSets: { outcomes, kept: 0, report: [] },
    };
    expect(revokeFailed(report)).toBe(true);
    expect(headlineOf(report)).toContain(
      "1 drifting Identity Center assignment(s) left in place: dora@acme.com (drift-0123456789abcdef)",
    );
    // The totals count both kinds.
    expect(headlineOf(report)).toMatch(/revoked 1, kept 0, 1 drift finding\(s\)$/);
  });

  it("starts Elevate-RevokePermissionSet with the contract's parameters at $LATEST and waits for Success", async () => {
    ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-r1" });
    ssm.on(GetAutomationExecutionCommand).resolves({ AutomationExecution: { AutomationExecutionStatus: "Success" } });
    const [outcome] = await performPermissionSetRevokes(new SSMClient({ region: "ap-northeast-1" }), config, [revoke], {
      id: "42",
      timeoutMs: 5_000,
      dryRun: false,
    });
    expect(outcome).toMatchObject({ status: "revoked", executionId: "exec-r1", requestId: "fix-prod-db" });
    const input = ssm.commandCalls(StartAutomationExecutionCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      DocumentName: "Elevate-RevokePermissionSet",
      DocumentVersion: "$LATEST",
      Parameters: {
        AutomationAssumeRole: ["arn:aws:iam::123456789012:role/elevate-automation"],
        RequestId: ["fix-prod-db"],
        UserName: ["dora@acme.com"],
        PermissionSetArn: [IC_PERMISSION_SET],
        AccountId: ["210987654321"],
      },
    });
    expect(Object.keys(input?.Parameters ?? {})).toHaveLength(5);
    expect(input?.ClientToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("a failed execution or a refused start is a failed outcome, never thrown", async () => {
    ssm
      .on(StartAutomationExecutionCommand)
      .resolvesOnce({ AutomationExecutionId: "exec-f" })
      .rejectsOnce(new Error("AccessDenied"));
    ssm.on(GetAutomationExecutionCommand).resolves({
      AutomationExecution: { AutomationExecutionStatus: "Failed", FailureMessage: "not Elevate's pair" },
    });
    const outcomes = await performPermissionSetRevokes(
      new SSMClient({ region: "ap-northeast-1" }),
      config,
      [revoke, { ...revoke, requestId: "other" }],
      { id: "42", timeoutMs: 5_000, dryRun: false },
    );
    expect(outcomes.map((o) => o.status)).toEqual(["failed", "failed"]);
    expect(outcomes.map((o) => o.message).join(" ")).toMatch(
      /Failed: not Elevate's pair.*AccessDenied|AccessDenied.*Failed: not Elevate's pair/,
    );
  });

  it("a dry run starts nothing", async () => {
    const outcomes = await performPermissionSetRevokes(new SSMClient({ region: "ap-northeast-1" }), config, [revoke], {
      id: "42",
      timeoutMs: 5_000,
      dryRun: true,
    });
    expect(outcomes[0]?.status).toBe("planned");
    expect(ssm.commandCalls(StartAutomationExecutionCommand)).toHaveLength(0);
  });

  it("the catalog's pairs, once each; none for a config of IAM roles only (then nothing of Identity Center is read)", () => {
    expect(catalogPairs(config)).toEqual([{ permissionSetArn: IC_PERMISSION_SET, accountId: "210987654321" }]);
    expect(catalogPairs(exampleConfig())).toEqual([]);
  });
});

describe("the revoke report's Identity Center section", () => {
  const base: RevokeReport = emptyRevokeReport(false);

  it("lists each revoke; a failure or drift left for a person fails the run", () => {
    const ok: RevokeReport = {
      ...base,
      permissionSets: {
        outcomes: [{ ...revoke, status: "revoked", message: "", executionId: "e1" }],
        kept: 1,
        report: [],
      },
    };
    expect(revokeFailed(ok)).toBe(false);
    expect(revokeSummaryMarkdown(ok, new Date())).toContain("| fix-prod-db | dora\\@\u200bacme.com |");
    const failed: RevokeReport = {
      ...base,
      permissionSets: { outcomes: [{ ...revoke, status: "failed", message: "Failed" }], kept: 0, report: [] },
    };
    expect(revokeFailed(failed)).toBe(true);
    expect(headlineOf(failed)).toMatch(/1 permission-set revoke\(s\) failed: fix-prod-db/);
    const left: RevokeReport = {
      ...base,
      permissionSets: {
        outcomes: [],
        kept: 0,
        report: [
          {
            permissionSetArn: IC_PERMISSION_SET,
            accountId: "210987654321",
            principalType: "GROUP",
            principalId: "g-1",
            userName: undefined,
            why: "group g-1 is assigned",
          },
        ],
      },
    };
    expect(revokeFailed(left)).toBe(true);
    expect(revokeSummaryMarkdown(left, new Date())).toContain(":warning: group g-1 is assigned");
  });
});
