/**
 * `elevate doctor --smoke`: what the live round trip on the stack's canary does and
 * how its outcome reads. The canary (infra/template.yaml, CreateSmokeTestCanary) is
 * a role with no permissions and an eligible IAM user; the round trip grants the
 * role to the user for 15 minutes through Elevate-Grant, assumes it as the user,
 * revokes through Elevate-Revoke, and expects the next assume to be denied. This
 * module only decides (names, windows, parameters, findings); src/modes/doctor-smoke.ts
 * makes the calls.
 */
import type { ElevateConfig } from "./config.js";
import { type Finding, finding } from "./doctor-findings.js";
import { FILE_START } from "./errors.js";
import type { StackOutputs } from "./stack-outputs.js";

/** The canary's window, and its maximum in the stack's ceiling (infra/runbooks/elevate-grant.yaml). */
export const SMOKE_WINDOW_SECONDS = 15 * 60;
/** Elevate-Grant's schedule group (its scheduleExpiry step), unless the stack's outputs name another. */
export const DEFAULT_SCHEDULE_GROUP = "elevate";

export interface SmokeTarget {
  userName: string;
  roleArn: string;
  roleName: string;
  automationRoleArn: string;
  grantDocument: string;
  revokeDocument: string;
  scheduleGroup: string;
}

export type SmokeTargetRead = { ok: true; target: SmokeTarget } | { ok: false; message: string };

/** The canary and the runbooks, from the stack's outputs (the canary) and the config (the rest). */
export function smokeTarget(config: ElevateConfig, stack: StackOutputs | undefined): SmokeTargetRead {
  if (!stack) {
    return { ok: false, message: "--smoke needs the stack's outputs (--stack-outputs FILE|-) to find the canary" };
  }
  const userName = stack.values.get("SmokeTestUserName");
  const roleArn = stack.values.get("SmokeTestRoleArn");
  if (!userName || !roleArn) {
    return {
      ok: false,
      message:
        "the stack has no smoke-test canary (outputs SmokeTestUserName and SmokeTestRoleArn); update it with CreateSmokeTestCanary=true",
    };
  }
  return {
    ok: true,
    target: {
      userName,
      roleArn,
      roleName: roleArn.slice(roleArn.lastIndexOf("/") + 1),
      automationRoleArn: config.aws.automationRoleArn,
      grantDocument: config.aws.grantDocument,
      revokeDocument: config.aws.revokeDocument,
      scheduleGroup: stack.values.get("ScheduleGroupName") ?? DEFAULT_SCHEDULE_GROUP,
    },
  };
}

function utcSeconds(at: Date): string {
  return `${at.toISOString().slice(0, 19)}Z`;
}

export interface SmokeGrant {
  requestId: string;
  notBefore: string;
  notAfter: string;
}

/**
 * A fresh request id (the grant policy is elevate-<id>, the expiry schedule <id>) and
 * a 15-minute window starting at `awsNow`, AWS's own time: the grant policy's window
 * is judged by AWS's clock, not the operator's.
 */
export function smokeGrant(awsNow: Date): SmokeGrant {
  const stamp = utcSeconds(awsNow).replace(/[-:TZ]/g, "");
  const start = new Date(Math.floor(awsNow.getTime() / 1000) * 1000);
  return {
    requestId: `smoke-test-${stamp}`,
    notBefore: utcSeconds(start),
    notAfter: utcSeconds(new Date(start.getTime() + SMOKE_WINDOW_SECONDS * 1000)),
  };
}

export function grantParameters(target: SmokeTarget, grant: SmokeGrant): Record<string, string[]> {
  return {
    AutomationAssumeRole: [target.automationRoleArn],
    RequestId: [grant.requestId],
    UserName: [target.userName],
    RoleArn: [target.roleArn],
    NotBefore: [grant.notBefore],
    NotAfter: [grant.notAfter],
  };
}

/**
 * An early revoke without cut-off: the canary's session is not cut off (its role has
 * no permissions, and a cut-off policy would be one more thing to clean up); what the
 * smoke test checks is that the grant policy is gone, so a new assume is denied.
 */
export function revokeParameters(target: SmokeTarget, grant: SmokeGrant, revokedAt: Date): Record<string, string[]> {
  return {
    AutomationAssumeRole: [target.automationRoleArn],
    RequestId: [grant.requestId],
    UserName: [target.userName],
    RoleName: [target.roleName],
    CutOff: ["false"],
    RevokedAt: [utcSeconds(revokedAt)],
    StampAtRunTime: ["false"],
    StampNotAfter: ["9999-12-31T23:59:59Z"],
    CoveringRequests: ["-"],
    // The canary role is in the stack's (the hub's) own account.
    RoleAccountId: [/^arn:aws:iam::(\d{12}):/.exec(target.roleArn)?.[1] ?? ""],
  };
}

/** The assumed-role ARN GetCallerIdentity must return: the canary role, session named after the user. */
export function expectedSessionArn(target: SmokeTarget): RegExp {
  const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(
    `^arn:aws:sts::\\d{12}:assumed-role/${escapeRegExp(target.roleName)}/${escapeRegExp(target.userName)}$`,
  );
}

/** Errors AWS returns for an assume the caller may not make (as opposed to a broken call). */
export function isAccessDenied(errorName: string | undefined): boolean {
  return errorName === "AccessDenied" || errorName === "AccessDeniedException";
}

/** One step of the round trip, as it went. `skipped` steps did not run because an earlier one failed. */
export interface SmokeStep {
  step: string;
  outcome: "pass" | "fail" | "skipped";
  detail: string;
}

export function formatSmokeStep(s: SmokeStep): string {
  return `elevate doctor --smoke: ${s.outcome}: ${s.step}${s.detail ? `: ${s.detail}` : ""}`;
}

/** Each failed step is an error finding on the config (the smoke test has no file of its own). */
export function smokeFindings(steps: readonly SmokeStep[], configFile: string): Finding[] {
  return steps
    .filter((s) => s.outcome === "fail")
    .map((s) => finding(configFile, FILE_START, "error", `smoke test: ${s.step} failed: ${s.detail}`));
}
