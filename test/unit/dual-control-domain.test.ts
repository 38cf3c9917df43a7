/**
 * src/domain/dual-control.ts: the gate's parameters against the runbook's own
 * constraints, and judging gate executions (only a trusted, approved gate with
 * enough distinct approvers grants; the window starts at the approval).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  parseDocumentContent,
  resolveParameters,
  validateAutomationDocument,
} from "../../sandbox/aws/automation-document.js";
import { type ElevateConfig, findRole, loadConfig } from "../../src/domain/config.js";
import {
  approvalTopicArn,
  gateApproverProblem,
  gateApprovers,
  gateParameters,
  isRequesterPrincipal,
  outcomeCommentBody,
  outcomeMarker,
} from "../../src/domain/dual-control.js";
import {
  callerIsApprover,
  countApprovals,
  type GateExecution,
  gateRequest,
  isSessionOfRole,
  judgeGate,
  parseDecisions,
} from "../../src/domain/dual-control-judgement.js";
import { grantPolicyDocument } from "../../src/domain/grant-policy.js";
import type { GrantPlan } from "../../src/domain/plan.js";

const A = "123456789012";
const BOB = `arn:aws:iam::${A}:user/bob`;
const SEC = `arn:aws:iam::${A}:role/team/sec-approver`;
const ROLE = `arn:aws:iam::${A}:role/elevated/EC2_FullAccess_Role`;
const GRANT_SESSION = `arn:aws:sts::${A}:assumed-role/elevate-grant/gh-123`;

function configWith(approval: string): ElevateConfig {
  const loaded = loadConfig(
    `version: 1
aws:
  region: ap-northeast-1
  accountId: "${A}"
  grantRoleArn: arn:aws:iam::${A}:role/elevate-grant
  revokeRoleArn: arn:aws:iam::${A}:role/elevate-revoke
  automationRoleArn: arn:aws:iam::${A}:role/elevate-automation
  grantDocument: Elevate-Grant
  revokeDocument: Elevate-Revoke
users:
  alice: alice.smith
roles:
  ec2-admin:
    arn: ${ROLE}
    maxDuration: 2h
${approval}`,
    "elevate.yml",
  );
  if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
  return loaded.config;
}

const config = configWith(`    awsApproval:\n      approvers: [${BOB}, ${SEC}]\n      minApprovals: 2\n`);
const approval = findRole(config, "ec2-admin")!.awsApproval!;

const plan: GrantPlan = {
  requestId: "inc-1234",
  iamUser: "alice.smith",
  roleArn: ROLE,
  notBefore: "2026-11-30T09:00:00Z",
  notAfter: "2026-11-30T10:30:00Z",
  policyName: "elevate-inc-1234",
  policyDocument: grantPolicyDocument({
    requestId: "inc-1234",
    iamUser: "alice.smith",
    roleArn: ROLE,
    notBefore: new Date("2026-11-30T09:00:00Z"),
    notAfter: new Date("2026-11-30T10:30:00Z"),
  }),
};
const SHA = "0123456789abcdef0123456789abcdef01234567";
const parameters = gateParameters(config, { plan, approval, prNumber: 7, mergeSha: SHA });

const decision = (approver: string, d: "Approve" | "Reject", at: string, comment?: string) =>
  JSON.stringify({
    Approver: approver,
    Decision: d,
    ApprovalDecisionTime: at,
    ...(comment ? { Comment: comment } : {}),
  });

function gate(overrides: Partial<GateExecution> = {}): GateExecution {
  return {
    executionId: "e-1",
    documentName: "Elevate-GrantWithApproval",
    status: "Success",
    executedBy: GRANT_SESSION,
    parameters,
    approveStep: {
      status: "Success",
      endTime: new Date("2026-11-30T09:40:12.345Z"),
      outputs: {
        ApprovalStatus: ["Approved"],
        ApproverDecisions: [
          decision(BOB, "Approve", "2026-11-30T09:20:00Z"),
          decision(`arn:aws:sts::${A}:assumed-role/sec-approver/dave`, "Approve", "2026-11-30T09:40:12Z"),
        ],
      },
      failureMessage: undefined,
    },
    failureMessage: undefined,
    ...overrides,
  };
}

const NOW = new Date("2026-11-30T09:45:00Z");

describe("gate parameters", () => {
  it("satisfy the runbook's own constraints and carry what the revoke run needs", () => {
    // The sandbox's SSM parameter validation (types, allowedPattern per StringList item,
    // allowedValues, min/maxItems), exactly as StartAutomationExecution applies it.
    const path = "infra/runbooks/elevate-grant-approval.yaml";
    const doc = validateAutomationDocument(parseDocumentContent(readFileSync(path, "utf8"), "YAML"));
    expect(() => resolveParameters(doc, parameters)).not.toThrow();
    expect(() => resolveParameters(doc, { ...parameters, Approvers: [`${BOB}*`] })).toThrow(/allowed pattern/);
    expect(() => resolveParameters(doc, { ...parameters, MinApprovals: ["11"] })).toThrow(/allowed values/);
    expect(() => resolveParameters(doc, { ...parameters, MinApprovals: ["0"] })).toThrow(/allowed values/);
    expect(() => resolveParameters(doc, { ...parameters, MinApprovals: ["1.0"] })).toThrow(/must be an integer/);
    // The Integer parameter's allowedValues are integers: strings would leave the
    // comparison to behaviour AWS does not document, and the sandbox refuses them.
    const raw = parseDocumentContent(readFileSync(path, "utf8"), "YAML") as {
      parameters: Record<string, { allowedValues?: unknown[] }>;
    };
    expect(raw.parameters.MinApprovals?.allowedValues).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    raw.parameters.MinApprovals!.allowedValues = ["1", "2"];
    expect(() => validateAutomationDocument(raw)).toThrow(/allowedValues must be a list of integers/);
    expect(parameters).toMatchObject({
      RequestId: ["inc-1234"],
      EarliestStart: ["2026-11-30T09:00:00Z"],
      DurationSeconds: ["5400"],
      PullRequest: ["7"],
      MergeSha: [SHA],
      Approvers: [BOB, SEC],
      MinApprovals: ["2"],
      NotificationArn: [`arn:aws:sns:ap-northeast-1:${A}:AutomationElevateApproval`],
    });
    expect(gateRequest(parameters)).toMatchObject({ requestId: "inc-1234", durationMs: 5_400_000, prNumber: 7 });
  });

  it("use the role's own topic when configured", () => {
    const topic = `arn:aws:sns:ap-northeast-1:${A}:Automation-SecOps`;
    const own = configWith(
      `    awsApproval:\n      approvers: [${BOB}]\n      minApprovals: 1\n      notificationTopicArn: ${topic}\n`,
    );
    expect(approvalTopicArn(own, findRole(own, "ec2-admin")!.awsApproval!)).toBe(topic);
  });

  it("refuse a bad PR number or merge commit", () => {
    expect(() => gateParameters(config, { plan, approval, prNumber: 0, mergeSha: SHA })).toThrow(/pull request/);
    expect(() => gateParameters(config, { plan, approval, prNumber: 1, mergeSha: "HEAD" })).toThrow(/commit/);
  });
});

describe("who counts as an approver", () => {
  it("a user by its ARN, a role by any of its sessions, nothing else", () => {
    expect(callerIsApprover(BOB, BOB)).toBe(true);
    expect(callerIsApprover(`arn:aws:sts::${A}:assumed-role/sec-approver/anyone`, SEC)).toBe(true);
    expect(callerIsApprover(`arn:aws:sts::${A}:assumed-role/other/anyone`, SEC)).toBe(false);
    expect(callerIsApprover(`arn:aws:sts::210987654321:assumed-role/sec-approver/x`, SEC)).toBe(false);
    expect(callerIsApprover(`arn:aws:iam::${A}:user/bobby`, BOB)).toBe(false);
    expect(callerIsApprover(SEC, SEC)).toBe(false);
    expect(isSessionOfRole(GRANT_SESSION, config.aws.grantRoleArn)).toBe(true);
    expect(isSessionOfRole(`arn:aws:iam::${A}:root`, config.aws.grantRoleArn)).toBe(false);
  });

  it("counts distinct listed approvers; repeated or unlisted decisions do not add up", () => {
    const decisions = parseDecisions({
      ApproverDecisions: [
        decision(BOB, "Approve", "t1"),
        decision(BOB, "Approve", "t2"),
        decision(`arn:aws:iam::${A}:user/mallory`, "Approve", "t3"),
        "not json",
      ],
    });
    expect(decisions).toHaveLength(3);
    expect(countApprovals(decisions, [BOB, SEC])).toBe(1);
  });
});

describe("judgeGate", () => {
  it("approved: the window starts at the approval (whole second) and lasts the duration", () => {
    const verdict = judgeGate(gate(), { config, now: NOW });
    expect(verdict.kind).toBe("approved");
    if (verdict.kind !== "approved") return;
    expect(verdict.window.notBefore.toISOString()).toBe("2026-11-30T09:40:12.000Z");
    expect(verdict.window.notAfter.toISOString()).toBe("2026-11-30T11:10:12.000Z");
    // Judging again later gives the same window: it comes from the recorded approval time.
    const later = judgeGate(gate(), { config, now: new Date("2026-11-30T10:30:00Z") });
    expect(later.kind === "approved" && later.window).toEqual(verdict.window);
  });

  it("approved before the request's start: the window starts at EarliestStart", () => {
    const early = gate({
      approveStep: { ...gate().approveStep!, endTime: new Date("2026-11-30T08:10:00Z") },
    });
    const verdict = judgeGate(early, { config, now: new Date("2026-11-30T08:20:00Z") });
    expect(verdict.kind === "approved" && verdict.window.notBefore.toISOString()).toBe("2026-11-30T09:00:00.000Z");
  });

  it("Success without enough distinct approvals is not success", () => {
    const thin = gate({
      approveStep: {
        ...gate().approveStep!,
        outputs: { ApprovalStatus: ["Approved"], ApproverDecisions: [decision(BOB, "Approve", "t")] },
      },
    });
    expect(judgeGate(thin, { config, now: NOW })).toMatchObject({ kind: "refused", reason: "failed" });
  });

  it("rejected, timed out, cancelled, unknown statuses are refusals with the reason", () => {
    const rejected = gate({
      status: "Failed",
      approveStep: {
        status: "Failed",
        endTime: NOW,
        outputs: { ApprovalStatus: ["Rejected"], ApproverDecisions: [decision(BOB, "Reject", "t", "freeze")] },
        failureMessage: "rejected",
      },
    });
    expect(judgeGate(rejected, { config, now: NOW })).toMatchObject({
      kind: "refused",
      reason: "rejected",
      message: `rejected in AWS by ${BOB} ("freeze"); nothing was granted`,
    });
    const noDecisions = { ...gate().approveStep!, outputs: {} };
    expect(judgeGate(gate({ status: "TimedOut", approveStep: noDecisions }), { config, now: NOW })).toMatchObject({
      kind: "refused",
      reason: "timed-out",
    });
    expect(judgeGate(gate({ status: "Cancelled", approveStep: noDecisions }), { config, now: NOW })).toMatchObject({
      reason: "cancelled",
    });
    expect(judgeGate(gate({ status: "Exited", approveStep: noDecisions }), { config, now: NOW })).toMatchObject({
      reason: "failed",
    });
    expect(judgeGate(gate({ status: "Waiting" }), { config, now: NOW })).toMatchObject({ kind: "pending" });
  });

  it("a closed window or a revoked request grants nothing", () => {
    expect(judgeGate(gate(), { config, now: new Date("2026-11-30T11:10:13Z") })).toMatchObject({
      kind: "refused",
      reason: "window-closed",
    });
    expect(judgeGate(gate(), { config, now: NOW, revokedRequestIds: new Set(["inc-1234"]) })).toMatchObject({
      kind: "refused",
      reason: "revoked",
    });
  });

  it("never honours a gate the grant role did not start, or one that no longer matches the config", () => {
    for (const executedBy of [`arn:aws:iam::${A}:root`, `arn:aws:sts::${A}:assumed-role/admin/x`, undefined]) {
      expect(judgeGate(gate({ executedBy }), { config, now: NOW })).toMatchObject({ kind: "untrusted" });
    }
    const cases: Record<string, string[]>[] = [
      { Approvers: [BOB, `arn:aws:iam::${A}:user/mallory`] },
      { MinApprovals: ["1"] },
      { UserName: ["mallory"] },
      { RoleArn: [`arn:aws:iam::${A}:role/Admin`] },
      { DurationSeconds: ["7201"] },
      { MergeSha: ["HEAD"] },
    ];
    for (const change of cases) {
      const verdict = judgeGate(gate({ parameters: { ...parameters, ...change } }), { config, now: NOW });
      expect(verdict.kind, JSON.stringify(change)).toBe("untrusted");
    }
    const noApproval = configWith("");
    expect(judgeGate(gate(), { config: noApproval, now: NOW })).toMatchObject({
      kind: "untrusted",
      message: expect.stringContaining("requires AWS-side approval"),
    });
    expect(judgeGate(gate({ documentName: "Elevate-GrantWithApprovalX" }), { config, now: NOW }).kind).toBe(
      "untrusted",
    );
  });
});

describe("the requester never approves her own gate", () => {
  const ALICE = `arn:aws:iam::${A}:user/elevate/alice.smith`;
  const withAlice = configWith(
    `    awsApproval:\n      approvers: [${ALICE}, ${BOB}, ${SEC}]\n      minApprovals: 2\n`,
  );
  const aliceApproval = findRole(withAlice, "ec2-admin")!.awsApproval!;

  it("recognises her IAM user (any path, any case) and sessions named after her, nothing else", () => {
    for (const arn of [
      ALICE,
      `arn:aws:iam::${A}:user/alice.smith`,
      `arn:aws:iam::${A}:user/Alice.Smith`,
      `arn:aws:sts::${A}:assumed-role/sec-approver/alice.smith`,
      `arn:aws-us-gov:sts::${A}:assumed-role/team-x/ALICE.SMITH`,
      `arn:aws:sts::${A}:federated-user/alice.smith`,
    ]) {
      expect(isRequesterPrincipal(arn, "alice.smith"), arn).toBe(true);
    }
    for (const arn of [
      BOB,
      SEC,
      `arn:aws:iam::${A}:user/alice.smith2`,
      `arn:aws:sts::${A}:assumed-role/alice.smith/dave`,
      `arn:aws:iam::${A}:role/alice.smith`,
    ]) {
      expect(isRequesterPrincipal(arn, "alice.smith"), arn).toBe(false);
    }
  });

  it("leaves her IAM user out of the gate's approvers, and the gate still matches the config", () => {
    expect(gateApprovers(aliceApproval, "alice.smith")).toEqual([BOB, SEC]);
    expect(gateApprovers(aliceApproval, "bob")).toEqual([ALICE, SEC]);
    const params = gateParameters(withAlice, { plan, approval: aliceApproval, prNumber: 7, mergeSha: SHA });
    expect(params.Approvers).toEqual([BOB, SEC]);
    expect(judgeGate(gate({ parameters: params }), { config: withAlice, now: NOW }).kind).toBe("approved");
    // A gate that still lists her (started by an older version, or by hand) is not honoured.
    const listed = { ...params, Approvers: [ALICE, BOB, SEC] };
    expect(judgeGate(gate({ parameters: listed }), { config: withAlice, now: NOW })).toMatchObject({
      kind: "untrusted",
      message: expect.stringMatching(/without the requester's own IAM user/),
    });
  });

  it("refuses to open a gate that only she could complete", () => {
    const only = configWith(`    awsApproval:\n      approvers: [${ALICE}, ${BOB}]\n      minApprovals: 2\n`);
    const onlyApproval = findRole(only, "ec2-admin")!.awsApproval!;
    expect(gateApproverProblem(onlyApproval, "ec2-admin", "alice.smith")).toMatch(
      /^the requester's IAM user alice\.smith is one of roles\.ec2-admin\.awsApproval\.approvers and never approves her own request; the 1 other approver\(s\) cannot reach minApprovals 2/,
    );
    expect(gateApproverProblem(onlyApproval, "ec2-admin", "carol")).toBeUndefined();
    expect(() => gateParameters(only, { plan, approval: onlyApproval, prNumber: 7, mergeSha: SHA })).toThrow(
      RangeError,
    );
  });

  it("refuses a gate she approved, through a listed role's session, even with enough other approvals", () => {
    for (const own of [`arn:aws:sts::${A}:assumed-role/sec-approver/alice.smith`, ALICE]) {
      const verdict = judgeGate(
        gate({
          approveStep: {
            ...gate().approveStep!,
            outputs: {
              ApprovalStatus: ["Approved"],
              ApproverDecisions: [
                decision(BOB, "Approve", "2026-11-30T09:20:00Z"),
                decision(own, "Approve", "2026-11-30T09:40:12Z"),
              ],
            },
          },
        }),
        { config, now: NOW },
      );
      expect(verdict, own).toMatchObject({
        kind: "refused",
        reason: "self-approved",
        message: expect.stringMatching(/^the requester approved her own gate in AWS/),
      });
    }
  });
});

describe("PR text", () => {
  it("marks each outcome once and says what happened", () => {
    const body = outcomeCommentBody({
      gateExecutionId: "e-1",
      requestId: "inc-1234",
      prNumber: 7,
      status: "granted",
      message: "granted",
      iamUser: "alice.smith",
      roleArn: ROLE,
      notBefore: "2026-11-30T09:40:12Z",
      notAfter: "2026-11-30T11:10:12Z",
      approvedAt: "2026-11-30T09:40:12Z",
      grantExecutionId: "g-1",
      decisions: [{ approver: BOB, decision: "Approve", at: "t", comment: undefined }],
    });
    expect(body).toContain(outcomeMarker({ gateExecutionId: "e-1", status: "granted" }));
    expect(body).toContain("from **2026-11-30T09:40:12Z** until **2026-11-30T11:10:12Z**");
    expect(body).toContain(`Approve by \`${BOB}\``);
    expect(
      outcomeCommentBody({ gateExecutionId: "e-2", requestId: "x", prNumber: 1, status: "refused", message: "why" }),
    ).toContain("**x**: refused. why");
  });
});
