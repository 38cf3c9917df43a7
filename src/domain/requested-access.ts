/**
 * What a validated request grants, and to whom. Each kind carries exactly its
 * own fields: an IAM role goes to the requester's IAM user, a permission set in
 * an account to their Identity Center user. Code that handles one kind switches
 * on `kind` and so can never take a permission set's ARN for a role, nor a
 * missing IAM user for an empty one.
 */
import type { IamRoleTarget, PermissionSetTarget, RoleTarget, UserEntry } from "./config.js";

/** An IAM role the requester's IAM user may assume (a grant policy on that user, by Elevate-Grant). */
export interface IamRoleAccess extends IamRoleTarget {
  /** The requester's IAM user, which the grant policy is put on. */
  iamUser: string;
}

/** A permission set in an account, assigned to the requester's Identity Center user (Elevate-GrantPermissionSet). */
export interface PermissionSetAccess extends PermissionSetTarget {
  /** The requester's Identity Center UserName, which the account assignment is for. */
  identityCenterUser: string;
}

/** What a request grants to whom; switch on `kind`. */
export type RequestedAccess = IamRoleAccess | PermissionSetAccess;

/**
 * The access a catalog entry's `target` gives `user`; undefined when the user
 * has no identity of the kind the target needs (no IAM user for a role, no
 * Identity Center user for a permission set).
 */
export function requestedAccess(target: RoleTarget, user: UserEntry): RequestedAccess | undefined {
  if (target.kind === "role") {
    return user.iamUser === undefined ? undefined : { ...target, iamUser: user.iamUser };
  }
  return user.identityCenterUser === undefined ? undefined : { ...target, identityCenterUser: user.identityCenterUser };
}

/** The catalog entry's target an access is of (what is granted, without to whom), fields in the catalog's order. */
export function targetOf(access: RequestedAccess): RoleTarget {
  if (access.kind === "role") return { kind: "role", roleArn: access.roleArn };
  const { instanceArn, identityStoreId, permissionSetArn, accountId } = access;
  return { kind: "permissionSet", instanceArn, identityStoreId, permissionSetArn, accountId };
}
