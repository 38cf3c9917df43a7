/**
 * Dual control: roles with `awsApproval` are granted only after IAM principals
 * approve an aws:approve gate in AWS (Elevate-GrantWithApproval), on top of the
 * code-owner review. Pure logic: the gate's parameters, judging a finished gate
 * execution, its window, and the PR text. No I/O, no clock (time is a parameter).
 *
 * The flow (docs/dual-control.md): grant mode starts the gate instead of
 * Elevate-Grant and reports "waiting for AWS-side approval"; each scheduled
 * revoke run reads finished gates and, for an approved one, starts Elevate-Grant
 * with notBefore = max(approval time, EarliestStart), notAfter = notBefore +
 * duration. Everything that run needs is in the gate's own parameters, so no git
 * state is needed, and nothing it reads is trusted blindly: the gate must have
 * been started by the grant role and must still match the config.
 */
import { APPROVAL_TOPIC_ARN, type EffectiveAwsApproval, type ElevateConfig, findRole } from "./config.js";
import { formatIamTime } from "./grant-policy.js";
import { mdEscape } from "./markdown.js";
import type { GrantPlan } from "./plan.js";
import { computeWindow, type GrantWindow } from "./window.js";

/** The gate runbook's document name in the stack (infra/template.yaml GrantApprovalDocument). */
export const GATE_DOCUMENT = "Elevate-GrantWithApproval";
/** The gate's aws:approve step (infra/runbooks/elevate-grant-approval.yaml). */
export const GATE_STEP = "approve";
/** The gate step's timeoutSeconds: an approval not given within a day is refused. */
export const GATE_TIMEOUT_SECONDS = 86_400;
/** Name of the stack's approval topic (CreateApprovalTopic); AWS requires the "Automation" prefix. */
export const DEFAULT_APPROVAL_TOPIC_NAME = "AutomationElevateApproval";

/** Where the approval request goes: the role's topic, else the stack's topic in the config's account. */
export function approvalTopicArn(config: ElevateConfig, approval: EffectiveAwsApproval): string {
  if (approval.notificationTopicArn) return approval.notificationTopicArn;
  const partition = /^arn:([a-z-]+):/.exec(config.aws.grantRoleArn)?.[1] ?? "aws";
  return `arn:${partition}:sns:${config.aws.region}:${config.aws.accountId}:${DEFAULT_APPROVAL_TOPIC_NAME}`;
}

/**
 * Whether `arn` is the requester acting in AWS: her IAM user (any path), or a
 * session named after her (an assumed-role session, as the console's
 * switch-role names it, or a federated user). IAM user names are unique
 * case-insensitively, so the comparison is too. The requester never counts as
 * an approver of her own gate.
 */
export function isRequesterPrincipal(arn: string, iamUser: string): boolean {
  const name = iamUser.toLowerCase();
  const user = /^arn:[a-z-]+:iam::\d{12}:user\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
  if (user) return user[1]!.toLowerCase() === name;
  const session = /^arn:[a-z-]+:sts::\d{12}:(?:assumed-role\/[\w+=,.@-]+|federated-user)\/([\w+=,.@-]+)$/.exec(arn);
  return !!session && session[1]!.toLowerCase() === name;
}

/** The gate's approvers for a request: the role's, without the requester's own IAM user. */
export function gateApprovers(approval: Pick<EffectiveAwsApproval, "approvers">, iamUser: string): string[] {
  return approval.approvers.filter((arn) => !isRequesterPrincipal(arn, iamUser));
}

/**
 * Why a gate cannot be opened for this requester, or undefined: with her own
 * IAM user left out, fewer approvers remain than the role requires, so the
 * gate could only be approved by her (or never).
 */
export function gateApproverProblem(
  approval: Pick<EffectiveAwsApproval, "approvers" | "minApprovals">,
  roleKey: string,
  iamUser: string,
): string | undefined {
  const remaining = gateApprovers(approval, iamUser);
  if (remaining.length >= approval.minApprovals) return undefined;
  return `the requester's IAM user ${iamUser} is one of roles.${roleKey}.awsApproval.approvers and never approves her own request; the ${remaining.length} other approver(s) cannot reach minApprovals ${approval.minApprovals}, so no approval gate was started. Add another approver to the role`;
}

export interface GateInput {
  plan: GrantPlan;
  approval: EffectiveAwsApproval;
  prNumber: number;
  mergeSha: string;
}

/**
 * StartAutomationExecution parameters of the gate (every value a list, as the
 * API takes them). The plan's window gives the duration and the earliest start
 * (max(merge time, request start)); the real window is fixed at approval.
 */
export function gateParameters(config: ElevateConfig, input: GateInput): Record<string, string[]> {
  const { plan, approval } = input;
  const durationMs = Date.parse(plan.notAfter) - Date.parse(plan.notBefore);
  if (!Number.isSafeInteger(durationMs) || durationMs <= 0 || durationMs % 1000 !== 0) {
    throw new RangeError(`gateParameters: the plan's window ${plan.notBefore} – ${plan.notAfter} is not whole seconds`);
  }
  if (!Number.isSafeInteger(input.prNumber) || input.prNumber < 1) {
    throw new RangeError(`gateParameters: ${input.prNumber} is not a pull request number`);
  }
  if (!/^[0-9a-f]{40}$/.test(input.mergeSha)) throw new RangeError(`gateParameters: ${input.mergeSha} is not a commit`);
  if (gateApprovers(approval, plan.iamUser).length < approval.minApprovals) {
    throw new RangeError(
      `gateParameters: without ${plan.iamUser}, fewer than ${approval.minApprovals} approvers remain`,
    );
  }
  return {
    AutomationAssumeRole: [config.aws.automationRoleArn],
    RequestId: [plan.requestId],
    UserName: [plan.iamUser],
    RoleArn: [plan.roleArn],
    EarliestStart: [plan.notBefore],
    DurationSeconds: [String(durationMs / 1000)],
    PullRequest: [String(input.prNumber)],
    MergeSha: [input.mergeSha],
    Approvers: gateApprovers(approval, plan.iamUser),
    MinApprovals: [String(approval.minApprovals)],
    NotificationArn: [approvalTopicArn(config, approval)],
  };
}

// --- Judging a gate execution -------------------------------------------------------------

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
  const keys = Object.keys(config.roles).filter((k) => findRole(config, k)?.arn === request.roleArn);
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

// --- Reporting ----------------------------------------------------------------------------

/** A resolved (or still pending) gate, as the revoke run reports it on the PR. */
export interface DualControlOutcome {
  gateExecutionId: string;
  requestId: string | undefined;
  prNumber: number | undefined;
  status: "granted" | "refused" | "failed" | "pending" | "untrusted";
  message: string;
  iamUser?: string;
  roleArn?: string;
  /** `YYYY-MM-DDTHH:MM:SSZ`, set when granted. */
  notBefore?: string;
  notAfter?: string;
  approvedAt?: string;
  grantExecutionId?: string;
  decisions?: ApprovalDecisionView[];
  /** False when a previous revoke run already resolved this gate (its Elevate-Grant execution is older). */
  newlyResolved?: boolean;
}

/**
 * Hidden marker for the PR comment about one gate outcome: the reporter can
 * skip a gate whose marker is already on the PR, so each outcome is posted once
 * even though every scheduled run sees the finished gate again.
 */
export function outcomeMarker(outcome: Pick<DualControlOutcome, "gateExecutionId" | "status">): string {
  return `<!-- elevate:dual-control ${outcome.gateExecutionId} ${outcome.status} -->`;
}

/** What grant mode posts when the grant waits for AWS-side approval. */
export function waitingCommentLine(input: {
  requestId: string;
  /** The requester's IAM user: never one of her gate's approvers. */
  iamUser: string;
  gateExecutionId: string;
  approval: EffectiveAwsApproval;
  topicArn: string;
}): string {
  return `**${input.requestId}**: waiting for AWS-side approval. ${input.approval.minApprovals} of ${gateApprovers(
    input.approval,
    input.iamUser,
  )
    .map((a) => `\`${a}\``)
    .join(
      ", ",
    )} must approve automation execution \`${input.gateExecutionId}\` (approval request sent to \`${input.topicArn}\`) within ${GATE_TIMEOUT_SECONDS / 3600} h. The window starts when it is approved; a scheduled revoke run attaches the grant and reports here.`;
}

/** The PR comment body for one resolved gate (granted or refused). */
export function outcomeCommentBody(outcome: DualControlOutcome): string {
  const lines = ["### Elevate: AWS-side approval", "", outcomeMarker(outcome), ""];
  const who = outcome.decisions?.length
    ? `Decisions: ${outcome.decisions.map((d) => `${d.decision} by \`${d.approver}\`${d.at ? ` at ${d.at}` : ""}`).join("; ")}.`
    : "";
  const id = outcome.requestId ?? "(unknown request)";
  if (outcome.status === "granted") {
    lines.push(
      `**${id}**: approved in AWS${outcome.approvedAt ? ` at ${outcome.approvedAt}` : ""} and granted. \`${outcome.iamUser}\` may assume \`${outcome.roleArn}\` from **${outcome.notBefore}** until **${outcome.notAfter}**.`,
      "",
      `- Approval gate: \`${outcome.gateExecutionId}\``,
      `- Grant execution: \`${outcome.grantExecutionId ?? ""}\``,
    );
  } else {
    lines.push(
      `**${mdEscape(id)}**: ${outcome.status}. ${mdEscape(outcome.message)}`,
      "",
      `- Approval gate: \`${outcome.gateExecutionId}\``,
    );
  }
  if (who) lines.push(`- ${who}`);
  return `${lines.join("\n")}\n`;
}
