/**
 * IAM over the AWS query protocol (Version 2010-05-08). Shapes follow the IAM
 * API Reference (https://docs.aws.amazon.com/IAM/latest/APIReference/); policy
 * documents are returned URL-encoded (RFC 3986), as IAM does.
 */
import { authorizeCall, type CallContext, requirePrincipal, type SandboxCore } from "./context.js";
import { AwsServiceError, errors } from "./errors.js";
import type { IamRole, IamUser, OidcProvider } from "./iam-store.js";
import { checkPath } from "./iam-store.js";
import { memberList, optional, optionalInt, type QueryParams, required, tagList, type XmlValue } from "./wire.js";

export type QueryHandler = (params: QueryParams, ctx: CallContext, core: SandboxCore) => Promise<XmlValue | null>;

const enc = (doc: string): string => encodeURIComponent(doc);

function userXml(u: IamUser): XmlValue {
  return {
    Path: u.path,
    UserName: u.userName,
    UserId: u.userId,
    Arn: u.arn,
    CreateDate: u.createDate,
    Tags: u.tags.length > 0 ? u.tags : undefined,
  };
}

function roleXml(r: IamRole): XmlValue {
  return {
    Path: r.path,
    RoleName: r.roleName,
    RoleId: r.roleId,
    Arn: r.arn,
    CreateDate: r.createDate,
    AssumeRolePolicyDocument: enc(r.assumeRolePolicyDocument),
    Description: r.description,
    MaxSessionDuration: r.maxSessionDuration,
    Tags: r.tags.length > 0 ? r.tags : undefined,
  };
}

/** The ARN IAM authorizes a user action against: the existing user's (with its path), else `user/NAME`. */
function userArn(core: SandboxCore, accountId: string, userName: string): string {
  return core.store.accounts.get(accountId)?.users.get(userName)?.arn ?? `arn:aws:iam::${accountId}:user/${userName}`;
}

function roleArn(core: SandboxCore, accountId: string, roleName: string): string {
  return core.store.accounts.get(accountId)?.roles.get(roleName)?.arn ?? `arn:aws:iam::${accountId}:role/${roleName}`;
}

/**
 * The resource-tag condition keys of a user resource: IAM user actions support
 * `aws:ResourceTag/${TagKey}` and `iam:ResourceTag/${TagKey}` (Service
 * Authorization Reference, IAM, resource type "user"). Empty for a user that
 * does not exist (IAM then answers NoSuchEntity after authorizing).
 */
function userTagContext(core: SandboxCore, accountId: string, userName: string): Record<string, string> {
  const user = core.store.accounts.get(accountId)?.users.get(userName);
  const context: Record<string, string> = {};
  for (const tag of user?.tags ?? []) {
    context[`aws:ResourceTag/${tag.Key}`] = tag.Value;
    context[`iam:ResourceTag/${tag.Key}`] = tag.Value;
  }
  return context;
}

/** Authorizes an action on an IAM user, with the user's tags as resource-tag condition keys. */
function authorizeOnUser(
  ctx: CallContext,
  core: SandboxCore,
  action: string,
  account: string,
  userName: string,
  extraContext: Record<string, string | string[]> = {},
): Promise<void> {
  return authorizeCall(ctx, {
    action,
    resource: userArn(core, account, userName),
    resourceAccountId: account,
    extraContext: { ...userTagContext(core, account, userName), ...extraContext },
  });
}

/** MaxItems: "Valid Range: Minimum value of 1. Maximum value of 1000." Default 100. */
function maxItems(params: QueryParams): number {
  const value = optionalInt(params, "MaxItems") ?? 100;
  if (value < 1 || value > 1000) {
    throw errors.validation(
      `1 validation error detected: Value '${value}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`,
    );
  }
  return value;
}

/** Markers are opaque to callers; here they name the next item to return. */
function encodeMarker(position: [string, string]): string {
  return Buffer.from(JSON.stringify(position)).toString("base64url");
}

function decodeMarker(marker: string | undefined): [string, string] | undefined {
  if (marker === undefined) return undefined;
  try {
    const value = JSON.parse(Buffer.from(marker, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === "string")) {
      return value as [string, string];
    }
  } catch {
    // fall through
  }
  throw errors.validation(`Invalid Marker: ${marker}`);
}

/** Pages a sorted list of `[kind, name, item]` rows with the marker scheme above. */
function paginate<T>(rows: [string, string, T][], params: QueryParams): { page: T[]; marker: string | undefined } {
  const limit = maxItems(params);
  const start = decodeMarker(optional(params, "Marker"));
  let from = 0;
  if (start) {
    from = rows.findIndex(([k, n]) => k > start[0] || (k === start[0] && n >= start[1]));
    if (from < 0) from = rows.length;
  }
  const slice = rows.slice(from, from + limit);
  const next = rows[from + limit];
  return { page: slice.map((r) => r[2]), marker: next ? encodeMarker([next[0], next[1]]) : undefined };
}

function pageResult(marker: string | undefined): { IsTruncated: boolean; Marker: string | undefined } {
  return { IsTruncated: marker !== undefined, Marker: marker };
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function pathPrefix(params: QueryParams): string {
  const prefix = optional(params, "PathPrefix") ?? "/";
  if (!prefix.startsWith("/") || prefix.length > 512) {
    throw errors.validation(
      `1 validation error detected: Value '${prefix}' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \\u002F[\\u0021-\\u007F]*`,
    );
  }
  return prefix;
}

function oidcXml(p: OidcProvider): XmlValue {
  return { Url: p.url, ClientIDList: p.clientIds, ThumbprintList: p.thumbprints, CreateDate: p.createDate };
}

/**
 * Roles Identity Center provisions (path /aws-reserved/sso.amazonaws.com/) are
 * protected: IAM refuses to change them ("Cannot perform the operation on the protected
 * role … - this role is only modifiable by AWS"). This is why no per-session cut-off
 * can be written on an AWSReservedSSO role (docs/threat-model.md).
 */
function refuseProtectedRole(core: SandboxCore, account: string, roleName: string): void {
  const role = core.store.account(account).roles.get(roleName);
  if (role?.path.startsWith("/aws-reserved/sso.amazonaws.com/")) {
    throw new AwsServiceError(
      "UnmodifiableEntity",
      `Cannot perform the operation on the protected role '${roleName}' - this role is only modifiable by AWS`,
      400,
    );
  }
}

export const iamHandlers: Record<string, QueryHandler> = {
  async CreateUser(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    const path = optional(params, "Path") ?? "/";
    checkPath(path, "path");
    await authorizeCall(ctx, {
      action: "iam:CreateUser",
      resource: `arn:aws:iam::${account}:user${path}${userName}`,
      resourceAccountId: account,
    });
    return { User: userXml(core.store.createUser(account, userName, path, tagList(params))) };
  },

  async GetUser(params, ctx, core) {
    const principal = requirePrincipal(ctx);
    const account = principal.accountId;
    // Without UserName, GetUser describes the calling user.
    const userName = optional(params, "UserName") ?? (principal.kind === "user" ? principal.user.userName : undefined);
    if (userName === undefined) {
      throw errors.validation("Must specify userName when calling with non-User credentials");
    }
    await authorizeCall(ctx, {
      action: "iam:GetUser",
      resource: userArn(core, account, userName),
      resourceAccountId: account,
    });
    return { User: userXml(core.store.getUser(account, userName)) };
  },

  async DeleteUser(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    await authorizeOnUser(ctx, core, "iam:DeleteUser", account, userName);
    core.store.deleteUser(account, userName);
    return null;
  },

  async ListUsers(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    await authorizeCall(ctx, { action: "iam:ListUsers", resource: "*", resourceAccountId: account });
    const prefix = pathPrefix(params);
    const rows = [...core.store.account(account).users.values()]
      .filter((u) => u.path.startsWith(prefix))
      .sort((a, b) => byName(a.userName, b.userName))
      .map((u): [string, string, IamUser] => ["user", u.userName, u]);
    const { page, marker } = paginate(rows, params);
    return { Users: page.map(userXml), ...pageResult(marker) };
  },

  async CreateAccessKey(params, ctx, core) {
    const principal = requirePrincipal(ctx);
    const account = principal.accountId;
    const userName = optional(params, "UserName") ?? (principal.kind === "user" ? principal.user.userName : undefined);
    if (userName === undefined) throw errors.validation("Must specify userName when calling with non-User credentials");
    await authorizeOnUser(ctx, core, "iam:CreateAccessKey", account, userName);
    const cred = core.store.createAccessKey(account, userName);
    return {
      AccessKey: {
        UserName: userName,
        AccessKeyId: cred.accessKeyId,
        Status: "Active",
        SecretAccessKey: cred.secretAccessKey,
        CreateDate: cred.createDate,
      },
    };
  },

  async DeleteAccessKey(params, ctx, core) {
    const principal = requirePrincipal(ctx);
    const account = principal.accountId;
    const userName = optional(params, "UserName") ?? (principal.kind === "user" ? principal.user.userName : undefined);
    if (userName === undefined) throw errors.validation("Must specify userName when calling with non-User credentials");
    await authorizeOnUser(ctx, core, "iam:DeleteAccessKey", account, userName);
    core.store.deleteAccessKey(account, userName, required(params, "AccessKeyId"));
    return null;
  },

  async ListAccessKeys(params, ctx, core) {
    const principal = requirePrincipal(ctx);
    const account = principal.accountId;
    const userName = optional(params, "UserName") ?? (principal.kind === "user" ? principal.user.userName : undefined);
    if (userName === undefined) throw errors.validation("Must specify userName when calling with non-User credentials");
    await authorizeOnUser(ctx, core, "iam:ListAccessKeys", account, userName);
    const keys = core.store.listAccessKeys(account, userName).sort((a, b) => byName(a.accessKeyId, b.accessKeyId));
    return {
      AccessKeyMetadata: keys.map((k) => ({
        UserName: userName,
        AccessKeyId: k.accessKeyId,
        Status: "Active",
        CreateDate: k.createDate,
      })),
      IsTruncated: false,
    };
  },

  async PutUserPolicy(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    await authorizeOnUser(ctx, core, "iam:PutUserPolicy", account, userName);
    core.store.putUserPolicy(account, userName, required(params, "PolicyName"), required(params, "PolicyDocument"));
    return null;
  },

  async GetUserPolicy(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    const policyName = required(params, "PolicyName");
    await authorizeOnUser(ctx, core, "iam:GetUserPolicy", account, userName);
    const doc = core.store.getUserPolicy(account, userName, policyName);
    return { UserName: userName, PolicyName: policyName, PolicyDocument: enc(doc) };
  },

  async DeleteUserPolicy(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    await authorizeOnUser(ctx, core, "iam:DeleteUserPolicy", account, userName);
    core.store.deleteUserPolicy(account, userName, required(params, "PolicyName"));
    return null;
  },

  async ListUserPolicies(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    await authorizeOnUser(ctx, core, "iam:ListUserPolicies", account, userName);
    const names = [...core.store.getUser(account, userName).inlinePolicies.keys()].sort(byName);
    const { page, marker } = paginate(
      names.map((n): [string, string, string] => ["policy", n, n]),
      params,
    );
    return { PolicyNames: page, ...pageResult(marker) };
  },

  // "Tagging IAM users", https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags_users.html
  async TagUser(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    const tags = tagList(params);
    if (tags.length === 0)
      throw errors.validation(
        "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
      );
    const requestTags: Record<string, string | string[]> = { "aws:TagKeys": tags.map((t) => t.Key) };
    for (const t of tags) requestTags[`aws:RequestTag/${t.Key}`] = t.Value;
    await authorizeOnUser(ctx, core, "iam:TagUser", account, userName, requestTags);
    core.store.tagUser(account, userName, tags);
    return null;
  },

  async UntagUser(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    const keys = memberList(params, "TagKeys");
    await authorizeOnUser(ctx, core, "iam:UntagUser", account, userName, { "aws:TagKeys": keys });
    core.store.untagUser(account, userName, keys);
    return null;
  },

  async ListUserTags(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const userName = required(params, "UserName");
    await authorizeOnUser(ctx, core, "iam:ListUserTags", account, userName);
    const tags = [...core.store.getUser(account, userName).tags].sort((a, b) => byName(a.Key, b.Key));
    const { page, marker } = paginate(
      tags.map((t): [string, string, { Key: string; Value: string }] => ["tag", t.Key, t]),
      params,
    );
    return { Tags: page, ...pageResult(marker) };
  },

  async CreateRole(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    const path = optional(params, "Path") ?? "/";
    checkPath(path, "path");
    await authorizeCall(ctx, {
      action: "iam:CreateRole",
      resource: `arn:aws:iam::${account}:role${path}${roleName}`,
      resourceAccountId: account,
    });
    const role = core.store.createRole(account, {
      roleName,
      path,
      assumeRolePolicyDocument: required(params, "AssumeRolePolicyDocument"),
      maxSessionDuration: optionalInt(params, "MaxSessionDuration"),
      description: optional(params, "Description"),
      tags: tagList(params),
    });
    return { Role: roleXml(role) };
  },

  async GetRole(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    await authorizeCall(ctx, {
      action: "iam:GetRole",
      resource: roleArn(core, account, roleName),
      resourceAccountId: account,
    });
    return { Role: roleXml(core.store.getRole(account, roleName)) };
  },

  async DeleteRole(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    await authorizeCall(ctx, {
      action: "iam:DeleteRole",
      resource: roleArn(core, account, roleName),
      resourceAccountId: account,
    });
    refuseProtectedRole(core, account, roleName);
    core.store.deleteRole(account, roleName);
    return null;
  },

  async ListRoles(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    await authorizeCall(ctx, { action: "iam:ListRoles", resource: "*", resourceAccountId: account });
    const prefix = pathPrefix(params);
    const rows = [...core.store.account(account).roles.values()]
      .filter((r) => r.path.startsWith(prefix))
      .sort((a, b) => byName(a.roleName, b.roleName))
      .map((r): [string, string, IamRole] => ["role", r.roleName, r]);
    const { page, marker } = paginate(rows, params);
    return { Roles: page.map(roleXml), ...pageResult(marker) };
  },

  async UpdateAssumeRolePolicy(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    await authorizeCall(ctx, {
      action: "iam:UpdateAssumeRolePolicy",
      resource: roleArn(core, account, roleName),
      resourceAccountId: account,
    });
    refuseProtectedRole(core, account, roleName);
    core.store.updateAssumeRolePolicy(account, roleName, required(params, "PolicyDocument"));
    return null;
  },

  async UpdateRole(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    await authorizeCall(ctx, {
      action: "iam:UpdateRole",
      resource: roleArn(core, account, roleName),
      resourceAccountId: account,
    });
    refuseProtectedRole(core, account, roleName);
    core.store.updateRole(
      account,
      roleName,
      optionalInt(params, "MaxSessionDuration"),
      optional(params, "Description"),
    );
    return {};
  },

  async PutRolePolicy(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    await authorizeCall(ctx, {
      action: "iam:PutRolePolicy",
      resource: roleArn(core, account, roleName),
      resourceAccountId: account,
    });
    refuseProtectedRole(core, account, roleName);
    core.store.putRolePolicy(account, roleName, required(params, "PolicyName"), required(params, "PolicyDocument"));
    return null;
  },

  async GetRolePolicy(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    const policyName = required(params, "PolicyName");
    await authorizeCall(ctx, {
      action: "iam:GetRolePolicy",
      resource: roleArn(core, account, roleName),
      resourceAccountId: account,
    });
    const doc = core.store.getRolePolicy(account, roleName, policyName);
    return { RoleName: roleName, PolicyName: policyName, PolicyDocument: enc(doc) };
  },

  async DeleteRolePolicy(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    await authorizeCall(ctx, {
      action: "iam:DeleteRolePolicy",
      resource: roleArn(core, account, roleName),
      resourceAccountId: account,
    });
    refuseProtectedRole(core, account, roleName);
    core.store.deleteRolePolicy(account, roleName, required(params, "PolicyName"));
    return null;
  },

  async ListRolePolicies(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const roleName = required(params, "RoleName");
    await authorizeCall(ctx, {
      action: "iam:ListRolePolicies",
      resource: roleArn(core, account, roleName),
      resourceAccountId: account,
    });
    const names = [...core.store.getRole(account, roleName).inlinePolicies.keys()].sort(byName);
    const { page, marker } = paginate(
      names.map((n): [string, string, string] => ["policy", n, n]),
      params,
    );
    return { PolicyNames: page, ...pageResult(marker) };
  },

  async CreateOpenIDConnectProvider(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const url = required(params, "Url");
    const host = url.replace(/^https:\/\//, "").replace(/\/$/, "");
    await authorizeCall(ctx, {
      action: "iam:CreateOpenIDConnectProvider",
      resource: `arn:aws:iam::${account}:oidc-provider/${host}`,
      resourceAccountId: account,
    });
    const provider = core.store.createOidcProvider(
      account,
      url,
      memberList(params, "ClientIDList"),
      memberList(params, "ThumbprintList"),
    );
    return { OpenIDConnectProviderArn: provider.arn };
  },

  async GetOpenIDConnectProvider(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const arn = required(params, "OpenIDConnectProviderArn");
    await authorizeCall(ctx, { action: "iam:GetOpenIDConnectProvider", resource: arn, resourceAccountId: account });
    return oidcXml(core.store.getOidcProvider(arn));
  },

  async DeleteOpenIDConnectProvider(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    const arn = required(params, "OpenIDConnectProviderArn");
    await authorizeCall(ctx, { action: "iam:DeleteOpenIDConnectProvider", resource: arn, resourceAccountId: account });
    core.store.deleteOidcProvider(arn);
    return null;
  },

  async ListOpenIDConnectProviders(_params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    await authorizeCall(ctx, { action: "iam:ListOpenIDConnectProviders", resource: "*", resourceAccountId: account });
    return {
      OpenIDConnectProviderList: [...core.store.account(account).oidcProviders.keys()].map((arn) => ({ Arn: arn })),
    };
  },

  /**
   * GetAccountAuthorizationDetails: users then roles (groups and managed
   * policies are not modelled and come back empty), paginated with MaxItems and
   * Marker across the combined list, as IAM does.
   */
  async GetAccountAuthorizationDetails(params, ctx, core) {
    const account = requirePrincipal(ctx).accountId;
    await authorizeCall(ctx, {
      action: "iam:GetAccountAuthorizationDetails",
      resource: "*",
      resourceAccountId: account,
    });
    const allowedFilters = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"];
    const filter = memberList(params, "Filter");
    for (const f of filter) {
      if (!allowedFilters.includes(f)) {
        throw errors.validation(
          `1 validation error detected: Value '[${f}]' at 'filter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [${allowedFilters.join(", ")}]]`,
        );
      }
    }
    const want = (kind: string): boolean => filter.length === 0 || filter.includes(kind);
    const state = core.store.account(account);
    type Row = [string, string, { user: IamUser } | { role: IamRole }];
    const rows: Row[] = [];
    // Kind tags sort users ("1") before roles ("2") so markers order the combined list.
    if (want("User")) {
      for (const u of [...state.users.values()].sort((a, b) => byName(a.userName, b.userName))) {
        rows.push(["1user", u.userName, { user: u }]);
      }
    }
    if (want("Role")) {
      for (const r of [...state.roles.values()].sort((a, b) => byName(a.roleName, b.roleName))) {
        rows.push(["2role", r.roleName, { role: r }]);
      }
    }
    const { page, marker } = paginate(rows, params);
    const users: XmlValue[] = [];
    const roles: XmlValue[] = [];
    for (const item of page) {
      if ("user" in item) {
        const u = item.user;
        users.push({
          Path: u.path,
          UserName: u.userName,
          UserId: u.userId,
          Arn: u.arn,
          CreateDate: u.createDate,
          UserPolicyList: [...u.inlinePolicies].map(([name, doc]) => ({ PolicyName: name, PolicyDocument: enc(doc) })),
          GroupList: [],
          AttachedManagedPolicies: [],
          Tags: u.tags.length > 0 ? u.tags : undefined,
        });
      } else {
        const r = item.role;
        roles.push({
          Path: r.path,
          RoleName: r.roleName,
          RoleId: r.roleId,
          Arn: r.arn,
          CreateDate: r.createDate,
          AssumeRolePolicyDocument: enc(r.assumeRolePolicyDocument),
          InstanceProfileList: [],
          RolePolicyList: [...r.inlinePolicies].map(([name, doc]) => ({ PolicyName: name, PolicyDocument: enc(doc) })),
          AttachedManagedPolicies: [],
          Tags: r.tags.length > 0 ? r.tags : undefined,
        });
      }
    }
    return {
      UserDetailList: users,
      GroupDetailList: [],
      RoleDetailList: roles,
      Policies: [],
      ...pageResult(marker),
    };
  },
};

export function unknownAction(service: string, action: string): AwsServiceError {
  return new AwsServiceError(
    "InvalidAction",
    `The action ${action} is not valid for this web service (${service}).`,
    400,
  );
}
