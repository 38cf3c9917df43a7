/**
 * The AWS stack's grant ceiling, as the deployed Elevate-Grant runbook carries
 * it: infra/template.yaml resolves the stack parameters GrantableRoles,
 * MaxGrantLeadTime and GrantStartTolerance into the InputPayload of the
 * runbook's `checkCeiling` step (infra/runbooks/elevate-grant.yaml), which
 * refuses anything above them inside AWS. The action reads the same values
 * (ssm:GetDocument) to refuse early, with a message that names the stack
 * parameter to update, instead of starting a runbook that will fail. The
 * runbook stays the authority: this is only the earlier, clearer refusal.
 */
import { formatDuration, parseDuration } from "./duration.js";

/** The step of Elevate-Grant that enforces the ceiling. */
export const CEILING_STEP = "checkCeiling";

export interface GrantCeiling {
  /** Role ARN → the longest window the stack allows, in ms. */
  roles: Map<string, number>;
}

export type CeilingRead = { ok: true; ceiling: GrantCeiling } | { ok: false; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Parses GrantableRoles (`ROLE_ARN=MAX_DURATION`, comma separated; an ARN listed
 * twice gets its longest maximum), exactly as the runbook's script does.
 */
export function parseGrantableRoles(text: string): CeilingRead {
  const roles = new Map<string, number>();
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const cut = entry.lastIndexOf("=");
    const arn = cut < 0 ? "" : entry.slice(0, cut);
    const limit = cut < 0 ? undefined : parseDuration(entry.slice(cut + 1));
    if (!/^arn:aws:iam::[0-9]{12}:role\/\S+$/.test(arn) || !limit?.ok || entry.slice(cut + 1) === "") {
      return {
        ok: false,
        message: `the stack parameter GrantableRoles has an entry ${JSON.stringify(entry)} that is not ROLE_ARN=MAX_DURATION`,
      };
    }
    roles.set(arn, Math.max(roles.get(arn) ?? 0, limit.ms));
  }
  return { ok: true, ceiling: { roles } };
}

/**
 * The ceiling inside a deployed Elevate-Grant document (its content as
 * GetDocument returns it, already parsed from JSON or YAML).
 */
export function ceilingFromDocument(content: unknown): CeilingRead {
  const steps = isRecord(content) && Array.isArray(content.mainSteps) ? content.mainSteps : [];
  const step = steps.find((s: unknown) => isRecord(s) && s.name === CEILING_STEP);
  const payload = isRecord(step) && isRecord(step.inputs) ? step.inputs.InputPayload : undefined;
  if (!isRecord(payload) || typeof payload.GrantableRoles !== "string") {
    return {
      ok: false,
      message: `the grant runbook has no ${CEILING_STEP} step with GrantableRoles (a stack deployed from an older infra/template.yaml); update the stack`,
    };
  }
  return parseGrantableRoles(payload.GrantableRoles);
}

/**
 * Why the stack would refuse this grant, naming the stack parameter to update;
 * undefined when it fits. `roleKey` is the config's catalog key, for the message.
 */
export function ceilingRefusal(
  ceiling: GrantCeiling,
  grant: { roleArn: string; notBefore: string; notAfter: string },
  roleKey: string,
): string | undefined {
  const windowMs = Date.parse(grant.notAfter) - Date.parse(grant.notBefore);
  const max = ceiling.roles.get(grant.roleArn);
  if (max === undefined) {
    return `role ${roleKey} (${grant.roleArn}) is not in the AWS stack's grant catalog, so the grant runbook would refuse it: add "${grant.roleArn}=${formatDuration(Math.max(windowMs, 0))}" to the stack parameter GrantableRoles and update the stack, or remove the role from the config. Nothing was started.`;
  }
  if (windowMs > max) {
    return `the window ${grant.notBefore} – ${grant.notAfter} is ${formatDuration(windowMs)} long, but the stack parameter GrantableRoles allows at most ${formatDuration(max)} for ${grant.roleArn}, so the grant runbook would refuse it: raise it there ("${grant.roleArn}=${formatDuration(windowMs)}") and update the stack, or lower roles.${roleKey}.maxDuration in the config. Nothing was started.`;
  }
  return undefined;
}

// --- Permission sets ------------------------------------------------------------------------

/**
 * The stack's permission-set ceiling: (permission set ARN, account) → the
 * longest window, in ms. Elevate-GrantPermissionSet's `checkCeiling` step
 * refuses anything outside it, as Elevate-Grant's does for roles.
 */
export interface PermissionSetCeiling {
  /** Keyed by `permissionSetCeilingKey(arn, account)`. */
  entries: Map<string, number>;
}

export type PermissionSetCeilingRead = { ok: true; ceiling: PermissionSetCeiling } | { ok: false; message: string };

export function permissionSetCeilingKey(permissionSetArn: string, accountId: string): string {
  return `${permissionSetArn}@${accountId}`;
}

const CEILING_PERMISSION_SET = /^arn:aws:sso:::permissionSet\/(?:sso)?ins-[a-zA-Z0-9.-]{16}\/ps-[a-zA-Z0-9.-]{16}$/;

/**
 * Parses GrantablePermissionSets (`PERMISSION_SET_ARN@ACCOUNT_ID=MAX_DURATION`,
 * comma separated; a pair listed twice gets its longest maximum), exactly as
 * Elevate-GrantPermissionSet's script does: the last `=` ends the pair, the
 * last `@` ends the ARN. The one parser for the action and `doctor --aws`.
 */
export function parseGrantablePermissionSets(text: string): PermissionSetCeilingRead {
  const entries = new Map<string, number>();
  for (const raw of text.split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    const cut = entry.lastIndexOf("=");
    const target = cut < 0 ? "" : entry.slice(0, cut);
    const at = target.lastIndexOf("@");
    const arn = at < 0 ? "" : target.slice(0, at);
    const account = at < 0 ? "" : target.slice(at + 1);
    const limitText = cut < 0 ? "" : entry.slice(cut + 1);
    const limit = parseDuration(limitText);
    if (!CEILING_PERMISSION_SET.test(arn) || !/^[0-9]{12}$/.test(account) || limitText === "" || !limit.ok) {
      return {
        ok: false,
        message: `the stack parameter GrantablePermissionSets has an entry ${JSON.stringify(entry)} that is not PERMISSION_SET_ARN@ACCOUNT_ID=MAX_DURATION`,
      };
    }
    const key = permissionSetCeilingKey(arn, account);
    entries.set(key, Math.max(entries.get(key) ?? 0, limit.ms));
  }
  return { ok: true, ceiling: { entries } };
}
