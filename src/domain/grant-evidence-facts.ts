/**
 * What the evidence note on a merge records about one request, before the run
 * adds its own fields (src/modes/grant.ts). The note is flat JSON whose keys
 * the audit log (src/domain/audit-log.ts) and people's scripts read, so who was
 * granted what is flat too, but typed so that it holds the fields of exactly one
 * kind: an IAM role to an IAM user, a permission set in an account to an
 * Identity Center user, or neither (a request refused before it was planned).
 */
import type { CountedApproval } from "./grant-report.js";
import type { JudgedRequest } from "./grant-request-judgement.js";

interface NoGrantee {
  iamUser?: never;
  roleArn?: never;
  identityCenterUser?: never;
  permissionSetArn?: never;
  accountId?: never;
}

/** An IAM role granted to an IAM user. */
type IamRoleGrantee = Omit<NoGrantee, "iamUser" | "roleArn"> & { iamUser: string; roleArn: string };

/** A permission set in an account granted to an Identity Center user. */
type PermissionSetGrantee = Omit<NoGrantee, "identityCenterUser" | "permissionSetArn" | "accountId"> & {
  identityCenterUser: string;
  permissionSetArn: string;
  accountId: string;
};

export type RequestEvidenceFacts = (IamRoleGrantee | PermissionSetGrantee | NoGrantee) & {
  requester: string;
  reason?: string;
  ticket?: string;
  approvals: CountedApproval[];
  window?: { notBefore: string; notAfter: string };
  cappedBy?: { login: string; reviewId: number; cap: string };
};

/** The evidence facts of a planned request: its grantee of the plan's kind, approvals, window and cap. */
export function requestEvidenceFacts(judged: JudgedRequest): RequestEvidenceFacts {
  const { request, plan, caps } = judged;
  return {
    requester: request.requester,
    ...(plan.kind === "role"
      ? { iamUser: plan.iamUser, roleArn: plan.roleArn }
      : {
          identityCenterUser: plan.identityCenterUser,
          permissionSetArn: plan.permissionSetArn,
          accountId: plan.accountId,
        }),
    reason: request.reason,
    ...(request.ticket ? { ticket: request.ticket } : {}),
    approvals: (judged.approval?.counted ?? []).map((a) => ({
      login: a.login,
      reviewId: a.reviewId,
      commitId: a.commitId,
      ...(a.submittedAt ? { submittedAt: a.submittedAt } : {}),
    })),
    window: { notBefore: plan.notBefore, notAfter: plan.notAfter },
    ...(caps?.cappedBy
      ? { cappedBy: { login: caps.cappedBy.login, reviewId: caps.cappedBy.reviewId, cap: caps.cappedBy.cap } }
      : {}),
  };
}
