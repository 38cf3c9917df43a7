/**
 * `elevate doctor` (offline): each role's requesters have the identity its kind
 * grants to. A requester of a permission set without `identityCenterUser`, or of
 * an IAM role without an IAM user, can open requests that are always refused
 * (src/domain/request.ts); the config is valid, so this is a warning that names
 * the logins to complete.
 */
import { type ElevateConfig, findRole, findUserEntry } from "./config.js";
import { type Finding, finding } from "./doctor-findings.js";
import type { SourcePosition } from "./errors.js";

export function roleKindFindings(
  config: ElevateConfig,
  file: string,
  locate: (path: readonly (string | number)[]) => SourcePosition,
): Finding[] {
  const out: Finding[] = [];
  for (const key of Object.keys(config.roles)) {
    const role = findRole(config, key);
    if (!role) continue;
    const permissionSet = role.target.kind === "permissionSet";
    const missing = role.requesters.filter((login) => {
      const user = findUserEntry(config, login);
      return permissionSet ? user?.identityCenterUser === undefined : user?.iamUser === undefined;
    });
    if (missing.length === 0) continue;
    const needs = permissionSet
      ? "is an Identity Center permission set, but these requesters have no identityCenterUser"
      : "is an IAM role, but these requesters have no IAM user (iamUser)";
    out.push(
      finding(
        file,
        locate(["roles", key]),
        "warning",
        `roles.${key} ${needs}: ${missing.map((l) => `users.${l}`).join(", ")}; their requests are refused until it is added (or they are left out of roles.${key}.requesters)`,
      ),
    );
  }
  return out;
}
