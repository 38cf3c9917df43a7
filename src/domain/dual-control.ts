/**
 * Dual control: roles with `awsApproval` are granted only after IAM principals
 * approve an aws:approve gate in AWS (Elevate-GrantWithApproval), on top of the
 * code-owner review. Pure logic: the gate's parameters and the PR text here;
 * judging a finished gate execution and its window in ./dual-control-judgement.ts.
 * No I/O, no clock (time is a parameter).
 *
 * The flow (docs/dual-control.md): grant mode starts the gate instead of
 * Elevate-Grant and reports "waiting for AWS-side approval"; each scheduled
 * revoke run reads finished gates and, for an approved one, starts Elevate-Grant
 * with notBefore = max(approval time, EarliestStart), notAfter = notBefore +
 * duration. Everything that run needs is in the gate's own parameters, so no git
 * state is needed, and nothing it reads is trusted blindly: the gate must have
 * been started by the grant role and must still match the config.
 */
import type { EffectiveAwsApproval, ElevateConfig } from "./config.js";
import type { ApprovalDecisionView } from "./dual-control-judgement.js";
import { mdEscape } from "./markdown.js";
import type { GrantPlan } from "./plan.js";

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
