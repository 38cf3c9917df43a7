/**
 * The `request` object `elevate validate --format json` prints for a valid
 * file. Tools read it, so its shape stays what it was before requests carried
 * a RequestedAccess: the catalog entry's `target`, `roleArn` as the ARN of
 * what is granted (the role's, or the permission set's), and the requester's
 * identities as listed under `users` whatever the access (`iamUser` "" when
 * the user has none, `identityCenterUser` only when the user has one).
 */
import { type ElevateConfig, findUserEntry, type RoleTarget } from "./config.js";
import type { ValidRequest } from "./request.js";
import { targetOf } from "./requested-access.js";

export interface ValidRequestJson {
  path: string;
  id: string;
  role: string;
  target: RoleTarget;
  roleArn: string;
  requester: string;
  iamUser: string;
  duration: string;
  durationMs: number;
  reason: string;
  approvals: number;
  identityCenterUser?: string;
  ticket?: string;
  start?: Date;
}

/** The JSON of `request`, validated against `config`. */
export function validRequestJson(request: ValidRequest, config: ElevateConfig): ValidRequestJson {
  const user = findUserEntry(config, request.requester);
  if (!user)
    throw new Error(`validRequestJson: ${request.requester} is not under users in the config it was validated against`);
  const { access } = request;
  const json: ValidRequestJson = {
    path: request.path,
    id: request.id,
    role: request.role,
    target: targetOf(access),
    roleArn: access.kind === "role" ? access.roleArn : access.permissionSetArn,
    requester: request.requester,
    iamUser: user.iamUser ?? "",
    duration: request.duration,
    durationMs: request.durationMs,
    reason: request.reason,
    approvals: request.approvals,
  };
  if (user.identityCenterUser !== undefined) json.identityCenterUser = user.identityCenterUser;
  if (request.ticket !== undefined) json.ticket = request.ticket;
  if (request.start !== undefined) json.start = request.start;
  return json;
}
