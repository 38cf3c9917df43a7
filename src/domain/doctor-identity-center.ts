/**
 * `elevate doctor --aws`: the config's Identity Center users against the identity store,
 * as Elevate-GrantPermissionSet will see them (resolveUser: GetUserId by UserName;
 * checkEligible: IsMemberInGroups with the stack's IdentityCenterEligibleGroupId) — the
 * counterpart of the IAM users' EligibleUserPath and tag. Pure: src/modes/doctor-aws.ts
 * reads the facts.
 */
import type { ElevateConfig } from "./config.js";
import { type Finding, finding } from "./doctor-findings.js";
import type { SourcePosition } from "./errors.js";

export interface IdentityCenterUserFacts {
  login: string;
  /** `users.<login>.identityCenterUser`: the identity store UserName. */
  userName: string;
  /** Not found in the identity store; or its id and, when the stack names the eligible group, its membership. */
  user:
    | { ok: true; value: { found: false } | { found: true; userId: string; groupId?: string; member?: boolean } }
    | { ok: false; message: string };
}

/** The Identity Center counterpart of the IAM users' eligibility: in the identity store, and in the group. */
export function identityCenterUserFindings(
  users: readonly IdentityCenterUserFacts[],
  config: ElevateConfig,
  file: string,
  locate: (path: readonly (string | number)[]) => SourcePosition,
): Finding[] {
  const out: Finding[] = [];
  const store = config.aws.identityCenter?.identityStoreId ?? "";
  for (const entry of users) {
    const at = locate(["users", entry.login]);
    const who = `users.${entry.login}: Identity Center user ${entry.userName}`;
    if (!entry.user.ok) {
      out.push(
        finding(
          file,
          at,
          "error",
          `${who} cannot be looked up in identity store ${store}: ${entry.user.message} (run doctor --aws with credentials of the account that administers Identity Center, allowed identitystore:GetUserId and identitystore:IsMemberInGroups)`,
        ),
      );
      continue;
    }
    const user = entry.user.value;
    if (!user.found) {
      out.push(
        finding(
          file,
          at,
          "error",
          `${who} is not in identity store ${store}, so every permission-set grant to it fails; use the user's exact UserName (aws identitystore list-users --identity-store-id ${store})`,
        ),
      );
    } else if (user.groupId !== undefined && user.member === false) {
      out.push(
        finding(
          file,
          at,
          "error",
          `${who} is not a member of the stack's IdentityCenterEligibleGroupId ${user.groupId}, so Elevate-GrantPermissionSet refuses every grant to it (aws identitystore create-group-membership --identity-store-id ${store} --group-id ${user.groupId} --member-id UserId=${user.userId})`,
        ),
      );
    }
  }
  return out;
}
