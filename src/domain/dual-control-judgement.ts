/**
 * Dual control, judging a finished gate execution (Elevate-GrantWithApproval):
 * reading the request back from the gate's parameters, who approved, whether
 * the gate is one Elevate may act on, and the window an approval opens.
 * Pure: the scheduled revoke run reads the executions (src/modes/dual-control.ts)
 * and acts on the verdict. The gate's parameters and the PR text are in
 * ./dual-control.ts.
 */
import { APPROVAL_TOPIC_ARN, type ElevateConfig, findRole } from "./config.js";
import { GATE_DOCUMENT, GATE_TIMEOUT_SECONDS, gateApprovers, isRequesterPrincipal } from "./dual-control.js";
import { formatIamTime } from "./grant-policy.js";
import { computeWindow, type GrantWindow } from "./window.js";

/** What the resolver reads of one gate execution (GetAutomationExecution, narrowed). */
export interface GateExecution {
  executionId: string;
  documentName: string;
  /** AutomationExecutionStatus. */
  status: string;
  /** ARN of the principal that started it (SSM records it; callers cannot set it). */
  executedBy: string | undefined;
  parameters: Record<string, string[]>;
  /** The aws:approve step, if it has started. */
  approveStep:
    | {
        status: string;
        /** When the step ended: the decisive approval, the rejection or the timeout. */
        endTime: Date | undefined;
        outputs: Record<string, string[]>;
        failureMessage: string | undefined;
      }
    | undefined;
  failureMessage: string | undefined;
}

/** The request a gate is about, read back from its parameters. */
export interface GateRequest {
  requestId: string;
  iamUser: string;
  roleArn: string;
  earliestStart: Date;
  durationMs: number;
  prNumber: number;
  mergeSha: string;
  approvers: string[];
  minApprovals: number;
}

export interface ApprovalDecisionView {
  approver: string;
  decision: string;
  at: string | undefined;
  comment: string | undefined;
}

export type GateVerdict =
  | { kind: "pending"; request: GateRequest; status: string }
  | { kind: "approved"; request: GateRequest; approvedAt: Date; window: GrantWindow; decisions: ApprovalDecisionView[] }
  | {
      kind: "refused";
      request: GateRequest;
      reason: "rejected" | "timed-out" | "cancelled" | "failed" | "window-closed" | "revoked" | "self-approved";
      message: string;
      decisions: ApprovalDecisionView[];
    }
  /** Not a gate Elevate may act on (not started by the grant role, or no longer matching the config). */
  | { kind: "untrusted"; request: GateRequest | undefined; message: string };

const PENDING_STATUSES = new Set(["Pending", "InProgress", "Waiting", "Cancelling"]);

function single(parameters: Record<string, string[]>, name: string): string | undefined {
  const v = parameters[name];
  return v && v.length === 1 ? v[0] : undefined;
}

/** Reads the request back from a gate's parameters; undefined when any is missing or malformed. */
export function gateRequest(parameters: Record<string, string[]>): GateRequest | undefined {
  const requestId = single(parameters, "RequestId");
  const iamUser = single(parameters, "UserName");
  const roleArn = single(parameters, "RoleArn");
  const earliest = single(parameters, "EarliestStart");
  const duration = single(parameters, "DurationSeconds");
  const pr = single(parameters, "PullRequest");
  const mergeSha = single(parameters, "MergeSha");
  const min = single(parameters, "MinApprovals");
  const approvers = parameters.Approvers;
  if (!requestId || !iamUser || !roleArn || !earliest || !duration || !pr || !mergeSha || !min || !approvers) {
    return undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(earliest) || !/^[1-9]\d{2,7}$/.test(duration)) return undefined;
  if (!/^[1-9]\d{0,9}$/.test(pr) || !/^[0-9a-f]{40}$/.test(mergeSha) || !/^([1-9]|10)$/.test(min)) return undefined;
  return {
    requestId,
    iamUser,
    roleArn,
    earliestStart: new Date(earliest),
    durationMs: Number(duration) * 1000,
    prNumber: Number(pr),
    mergeSha,
    approvers: [...approvers],
    minApprovals: Number(min),
  };
}

/**
 * Whether `executedBy` is a session of `roleArn`. SSM records the starter as
 * the STS assumed-role ARN, which names the role without its path:
 * arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION.
 */
export function isSessionOfRole(executedBy: string | undefined, roleArn: string): boolean {
  const role = /^arn:([a-z-]+):iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn);
  if (!role || !executedBy) return false;
  const [, partition, account, name] = role;
  const session = /^arn:([a-z-]+):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/.exec(executedBy);
  return !!session && session[1] === partition && session[2] === account && session[3] === name;
}

/**
 * Whether a decision's caller (the signer's ARN: an IAM user ARN, or an STS
 * assumed-role ARN for a role session) is the listed approver `approverArn`
 * (an IAM user or role ARN).
 */
export function callerIsApprover(callerArn: string, approverArn: string): boolean {
  if (callerArn === approverArn) return /:user\//.test(approverArn);
  return /:role\//.test(approverArn) && isSessionOfRole(callerArn, approverArn);
}

/** The ApproverDecisions output: one JSON object per decision (MapList). */
export function parseDecisions(outputs: Record<string, string[]>): ApprovalDecisionView[] {
  const out: ApprovalDecisionView[] = [];
  for (const raw of outputs.ApproverDecisions ?? []) {
    let d: unknown;
    try {
      d = JSON.parse(raw);
    } catch {
      continue;
    }
    if (typeof d !== "object" || d === null) continue;
    const r = d as Record<string, unknown>;
    if (typeof r.Approver !== "string" || typeof r.Decision !== "string") continue;
    out.push({
      approver: r.Approver,
      decision: r.Decision,
      at: typeof r.ApprovalDecisionTime === "string" ? r.ApprovalDecisionTime : undefined,
      comment: typeof r.Comment === "string" ? r.Comment : undefined,
    });
  }
  return out;
}

/** Distinct listed approvers with an Approve decision. */
export function countApprovals(decisions: readonly ApprovalDecisionView[], approvers: readonly string[]): number {
  return approvers.filter((a) => decisions.some((d) => d.decision === "Approve" && callerIsApprover(d.approver, a)))
    .length;
}

/**
 * The grant window of an approved gate: the window starts at approval (never
 * before the earliest start the merge allowed) and lasts the requested
 * duration. Computed the same way as any window (window.ts), so re-judging the
 * same gate always yields the same window: it is fixed by the approval time
 * SSM recorded, never by when the resolver runs (invariant 4).
 */
export function gateWindow(request: GateRequest, approvedAt: Date): GrantWindow {
  return computeWindow({ mergedAt: approvedAt, start: request.earliestStart, durationMs: request.durationMs });
}

export interface JudgeContext {
  config: ElevateConfig;
  now: Date;
  /** Request ids whose request file has been deleted (early revoke): never granted. */
  revokedRequestIds?: ReadonlySet<string>;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x)) && b.every((x) => a.includes(x));
}

/**
 * Decides what a gate execution means. Only `approved` may lead to a grant,
 * and only when every check holds: SSM says Success, the approve step says
 * Approved with enough distinct listed approvers, the gate was started by the
 * grant role, and its user, role, approvers and duration still match the
 * config. Any other or unknown status is not success (invariant 5).
 */
export function judgeGate(gate: GateExecution, ctx: JudgeContext): GateVerdict {
  const request = gateRequest(gate.parameters);
  if (!request) {
    return { kind: "untrusted", request, message: `gate ${gate.executionId} has missing or malformed parameters` };
  }
  if (gate.documentName !== GATE_DOCUMENT) {
    return { kind: "untrusted", request, message: `execution ${gate.executionId} is not a ${GATE_DOCUMENT} gate` };
  }
  if (!isSessionOfRole(gate.executedBy, ctx.config.aws.grantRoleArn)) {
    return {
      kind: "untrusted",
      request,
      message: `gate ${gate.executionId} was started by ${gate.executedBy ?? "an unknown principal"}, not by the grant role ${ctx.config.aws.grantRoleArn}; it is never honoured`,
    };
  }
  const mismatch = configMismatch(request, ctx.config);
  if (mismatch) {
    return {
      kind: "untrusted",
      request,
      message: `gate ${gate.executionId} no longer matches the config: ${mismatch}`,
    };
  }
  if (PENDING_STATUSES.has(gate.status)) return { kind: "pending", request, status: gate.status };
  const decisions = parseDecisions(gate.approveStep?.outputs ?? {});
  const refused = (reason: Extract<GateVerdict, { kind: "refused" }>["reason"], message: string): GateVerdict => ({
    kind: "refused",
    request,
    reason,
    message,
    decisions,
  });
  // The requester's own decision never counts, and a gate she approved is
  // refused outright: dual control means someone else agreed.
  const own = decisions.find((d) => d.decision === "Approve" && isRequesterPrincipal(d.approver, request.iamUser));
  if (own) {
    return refused(
      "self-approved",
      `the requester approved her own gate in AWS (${own.approver}, a principal of IAM user ${request.iamUser}); the requester never counts as an approver, so nothing was granted. Open a new request for another approver`,
    );
  }
  if (gate.status === "Success") {
    const step = gate.approveStep;
    const approvedAt = step?.endTime;
    const approvals = countApprovals(decisions, request.approvers);
    if (
      step?.status !== "Success" ||
      step.outputs.ApprovalStatus?.[0] !== "Approved" ||
      !approvedAt ||
      approvals < request.minApprovals
    ) {
      return refused(
        "failed",
        `gate ${gate.executionId} ended Success but its approve step does not show ${request.minApprovals} approval(s) from the listed approvers (${approvals} found); nothing was granted`,
      );
    }
    if (ctx.revokedRequestIds?.has(request.requestId)) {
      return refused(
        "revoked",
        `the request ${request.requestId} was revoked (its file deleted) before the grant; nothing was granted`,
      );
    }
    const window = gateWindow(request, approvedAt);
    if (ctx.now.getTime() > window.notAfter.getTime()) {
      return refused(
        "window-closed",
        `approved at ${formatIamTime(approvedAt)}, but the window ${formatIamTime(window.notBefore)} – ${formatIamTime(window.notAfter)} closed before a revoke run could attach the grant; nothing was granted`,
      );
    }
    return { kind: "approved", request, approvedAt, window, decisions };
  }
  const rejection = decisions.find((d) => d.decision === "Reject");
  if (rejection) {
    return refused(
      "rejected",
      `rejected in AWS by ${rejection.approver}${rejection.comment ? ` ("${rejection.comment}")` : ""}; nothing was granted`,
    );
  }
  if (gate.status === "TimedOut") {
    return refused(
      "timed-out",
      `no AWS-side approval within ${GATE_TIMEOUT_SECONDS / 3600} h (${countApprovals(decisions, request.approvers)} of ${request.minApprovals} approvals); nothing was granted, open a new request`,
    );
  }
  if (gate.status === "Cancelled") {
    return refused("cancelled", `the approval gate ${gate.executionId} was stopped; nothing was granted`);
  }
  return refused(
    "failed",
    `the approval gate ${gate.executionId} ended ${gate.status}${gate.failureMessage ? `: ${gate.failureMessage}` : ""}; nothing was granted`,
  );
}

/** Why a gate's request no longer matches the config, or undefined. */
function configMismatch(request: GateRequest, config: ElevateConfig): string | undefined {
  const keys = Object.keys(config.roles).filter((k) => {
    const target = findRole(config, k)?.target;
    return target?.kind === "role" && target.roleArn === request.roleArn;
  });
  const role = keys.map((k) => findRole(config, k)).find((r) => r?.awsApproval);
  if (!role?.awsApproval) return `no role in the catalog with ARN ${request.roleArn} requires AWS-side approval`;
  if (!Object.values(config.users).some((user) => user.iamUser === request.iamUser))
    return `IAM user ${request.iamUser} is not under users`;
  if (!sameSet(request.approvers, gateApprovers(role.awsApproval, request.iamUser))) {
    return `its approvers differ from roles.${role.key}.awsApproval.approvers (without the requester's own IAM user)`;
  }
  if (request.minApprovals < role.awsApproval.minApprovals) {
    return `it required ${request.minApprovals} approval(s), roles.${role.key}.awsApproval.minApprovals is ${role.awsApproval.minApprovals}`;
  }
  if (request.durationMs > role.maxDurationMs) {
    return `its duration is longer than roles.${role.key} maxDuration ${role.maxDuration}`;
  }
  return undefined;
}

/** Whether a topic ARN is acceptable to aws:approve (name starts with "Automation"). */
export function isApprovalTopicArn(arn: string): boolean {
  return APPROVAL_TOPIC_ARN.test(arn);
}
