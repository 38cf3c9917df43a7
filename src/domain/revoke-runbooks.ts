/**
 * The exact runbook starts a revoke run performs, from the plan: the parameters of
 * Elevate-Revoke (infra/runbooks/elevate-revoke.yaml) and Elevate-ClearCutoff, and the
 * ClientToken parts that make the same revocation the same execution (invariant 4).
 * Pure; src/modes/revoke-runbooks.ts starts them and waits.
 */
import { formatIamTime } from "./grant-policy.js";
import { parseRoleArn } from "./grant-report.js";
import { RUNBOOK_NAME } from "./revoke-inventory.js";
import type { CutoffClear, Revocation } from "./revoke-plan.js";

/**
 * The Elevate-ClearCutoff runbook's name. The config has no key for it yet (only
 * grantDocument and revokeDocument); infra/template.yaml creates it under this name.
 */
export const CLEAR_CUTOFF_DOCUMENT = "Elevate-ClearCutoff";

/** Elevate-Revoke's StampNotAfter when no pending grant limits the stamp. */
export const NO_STAMP_LIMIT = "9999-12-31T23:59:59Z";

/** The output in which Elevate-Revoke reports the revocation time it wrote. */
export const STAMP_OUTPUT = "stampCutOff.RevokedAt";

/** One runbook execution to start: the document, its exact parameters, its ClientToken parts. */
export interface RunbookStart {
  documentName: string;
  parameters: Record<string, string>;
  tokenParts: string[];
}

/** What the runbook parameters need from the config. */
export interface RunbookSettings {
  aws: { automationRoleArn: string; revokeDocument: string; accountId: string };
}

/** The Elevate-Revoke parameters (infra/runbooks/elevate-revoke.yaml) for one revocation. */
export function revokeParameters(
  config: { aws: { automationRoleArn: string; accountId: string } },
  r: Revocation,
): Record<string, string> {
  const roleName = roleNameOf(r);
  if (r.cutOff && roleName === undefined) {
    // The plan only sets cutOff for a parsed role of the account with a runbook-safe name;
    // a cut-off must never land on a placeholder role.
    throw new Error(`${r.requestId}: a session cut-off needs the role's name, and ${r.roleArn ?? "no role"} has none`);
  }
  return {
    AutomationAssumeRole: config.aws.automationRoleArn,
    RequestId: r.requestId,
    UserName: r.iamUser,
    // The runbook requires RoleName even when CutOff is 'false', and then its only step
    // that reads RoleName (putCutOffPolicy) is skipped. Without a parsed role (drift) the
    // user's name stands in: a value the pattern accepts that is never used, because
    // CutOff is then always 'false' (checked above).
    RoleName: roleName ?? r.iamUser,
    // The role's account: a member account's cut-off runs there (multi-account automation).
    RoleAccountId: (r.roleArn ? parseRoleArn(r.roleArn)?.accountId : undefined) ?? config.aws.accountId,
    CutOff: r.cutOff ? "true" : "false",
    RevokedAt: formatIamTime(r.revokedAt),
    // An early or drift revoke's cut-off is stamped by the runbook, on AWS's clock.
    StampAtRunTime: r.stampAtRunTime ? "true" : "false",
    StampNotAfter: r.stampNotAfter ? formatIamTime(r.stampNotAfter) : NO_STAMP_LIMIT,
    // No cut-off because other active grants cover the role: the runbook checks them
    // again when it runs (one may have ended since this plan) and cuts off when none is
    // left. Only with the role's real name: the check compares it. "-": none.
    CoveringRequests:
      !r.cutOff && r.coveringRequests?.length && roleName !== undefined ? r.coveringRequests.join(",") : "-",
  };
}

function roleNameOf(r: Revocation): string | undefined {
  const name = r.roleName ?? (r.roleArn ? parseRoleArn(r.roleArn)?.name : undefined);
  return name !== undefined && RUNBOOK_NAME.test(name) ? name : undefined;
}

/** Everything the execution depends on: the same revocation gets the same token, any change a new one. */
export function revokeTokenParts(r: Revocation, parameters: Record<string, string>): string[] {
  const window = r.window ? `${formatIamTime(r.window.notBefore)}/${formatIamTime(r.window.notAfter)}` : "unparsed";
  return [
    "revoke",
    r.requestId,
    window,
    ...Object.keys(parameters)
      .sort()
      .map((k) => `${k}=${parameters[k]}`),
  ];
}

/** The Elevate-Revoke start for one revocation, or why it cannot be started. */
export function revokeStart(settings: RunbookSettings, r: Revocation): RunbookStart | { error: string } {
  let parameters: Record<string, string>;
  try {
    parameters = revokeParameters(settings, r);
  } catch (error) {
    return { error: (error as Error).message };
  }
  return { documentName: settings.aws.revokeDocument, parameters, tokenParts: revokeTokenParts(r, parameters) };
}

/** The Elevate-ClearCutoff start for one cut-off old enough to go. */
export function clearCutoffStart(settings: RunbookSettings, c: CutoffClear): RunbookStart {
  return {
    documentName: CLEAR_CUTOFF_DOCUMENT,
    parameters: { AutomationAssumeRole: settings.aws.automationRoleArn, UserName: c.iamUser, RoleName: c.roleName },
    tokenParts: ["clear-cutoff", c.roleArn, c.iamUser, formatIamTime(c.revokedAt)],
  };
}

/**
 * The revocation time a successful Elevate-Revoke execution wrote into the cut-off
 * (its stampCutOff output), or undefined when it wrote none or the output is not a
 * whole-second UTC time.
 */
export function stampedRevokedAt(outputs: Record<string, string[]> | undefined): Date | undefined {
  const text = outputs?.[STAMP_OUTPUT]?.[0];
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
