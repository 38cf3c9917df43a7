/**
 * IAM state of the sandbox: accounts, users, roles, inline policies, OIDC
 * providers and issued credentials, with IAM's own validation rules. Both the
 * wire handlers (iam.ts) and the test-facing state accessors go through here,
 * so a fixture seeded directly obeys the same rules as one made over HTTP.
 */
import { validateIdentityPolicy, validateTrustPolicy } from "@cloud-copilot/iam-policy";
import { AwsServiceError, errors } from "./errors.js";
import { iamId, secretKey, sessionToken } from "./ids.js";

export interface IamUser {
  accountId: string;
  userName: string;
  userId: string;
  path: string;
  arn: string;
  createDate: Date;
  /** Policy name -> document text exactly as supplied (IAM returns it URL-encoded). */
  inlinePolicies: Map<string, string>;
  tags: { Key: string; Value: string }[];
}

export interface IamRole {
  accountId: string;
  roleName: string;
  roleId: string;
  path: string;
  arn: string;
  createDate: Date;
  assumeRolePolicyDocument: string;
  maxSessionDuration: number;
  description: string | undefined;
  inlinePolicies: Map<string, string>;
  tags: { Key: string; Value: string }[];
}

export interface OidcProvider {
  accountId: string;
  arn: string;
  /** Issuer URL without scheme, as IAM stores it (e.g. `token.actions.githubusercontent.com`). */
  url: string;
  clientIds: string[];
  thumbprints: string[];
  createDate: Date;
}

export interface Account {
  accountId: string;
  users: Map<string, IamUser>;
  roles: Map<string, IamRole>;
  /** Keyed by provider ARN. */
  oidcProviders: Map<string, OidcProvider>;
}

/** Who signed a request. */
export type Principal =
  | { kind: "root"; accountId: string; arn: string }
  | { kind: "user"; accountId: string; arn: string; user: IamUser }
  | {
      kind: "role-session";
      accountId: string;
      /** `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION` */
      arn: string;
      role: IamRole;
      sessionName: string;
      /** `aws:TokenIssueTime` of the session. */
      issuedAt: Date;
    };

export interface IssuedCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
  expiration: Date | undefined;
  principal: Principal;
  createDate: Date;
}

// IAM input constraints, from the IAM API reference (CreateUser, CreateRole, PutUserPolicy, …).
const NAME_PATTERN = /^[\w+=,.@-]+$/;
const PATH_PATTERN = /^(\/|\/[\u0021-\u007E]+\/)$/;
/** "IAM and AWS STS quotas": user inline policies 2,048 characters, role 10,240, white space not counted. */
export const USER_INLINE_BUDGET = 2048;
export const ROLE_INLINE_BUDGET = 10240;
/** Trust policy length quota (default 2,048 characters). */
export const TRUST_POLICY_MAX = 2048;

function constraint(value: string, member: string, rule: string): AwsServiceError {
  return errors.validation(
    `1 validation error detected: Value '${value}' at '${member}' failed to satisfy constraint: ${rule}`,
  );
}

export function checkName(value: string, member: string, maxLength: number): void {
  if (value.length < 1 || value.length > maxLength) {
    throw constraint(value, member, `Member must have length less than or equal to ${maxLength}`);
  }
  if (!NAME_PATTERN.test(value)) {
    throw constraint(value, member, "Member must satisfy regular expression pattern: [\\w+=,.@-]+");
  }
}

export function checkPath(value: string, member: string): void {
  if (value.length > 512 || !PATH_PATTERN.test(value)) {
    throw constraint(
      value,
      member,
      "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
    );
  }
}

/** IAM does not count white space toward policy size quotas. */
export function policySize(text: string): number {
  return text.replace(/\s/g, "").length;
}

function parsePolicyJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw errors.malformedPolicy("Syntax errors in policy.");
  }
}

/** Validates an identity (user/role inline) policy like IAM does on PutUserPolicy/PutRolePolicy. */
export function validateIdentityPolicyText(text: string): unknown {
  const doc = parsePolicyJson(text);
  const problems = validateIdentityPolicy(doc);
  if (problems.length > 0) {
    throw errors.malformedPolicy(problems.map((p) => `${p.path}: ${p.message}`).join("; "));
  }
  return doc;
}

export function validateTrustPolicyText(text: string): unknown {
  const doc = parsePolicyJson(text);
  const problems = validateTrustPolicy(doc);
  if (problems.length > 0) {
    throw errors.malformedPolicy(problems.map((p) => `${p.path}: ${p.message}`).join("; "));
  }
  if (policySize(text) > TRUST_POLICY_MAX) {
    throw errors.limitExceeded(`Cannot exceed quota for ACLSizePerRole: ${TRUST_POLICY_MAX}`);
  }
  return doc;
}

export class IamStore {
  readonly accounts = new Map<string, Account>();
  readonly credentials = new Map<string, IssuedCredential>();
  readonly defaultAccountId: string;
  private readonly now: () => Date;

  constructor(accountIds: string[], now: () => Date) {
    if (accountIds.length === 0) throw new Error("IamStore needs at least one account");
    for (const id of accountIds) {
      if (!/^\d{12}$/.test(id)) throw new Error(`account id must be 12 digits, got '${id}'`);
      this.accounts.set(id, { accountId: id, users: new Map(), roles: new Map(), oidcProviders: new Map() });
    }
    this.defaultAccountId = accountIds[0]!;
    this.now = now;
  }

  /** A new (empty) account, e.g. one created in or invited to an organization. */
  addAccount(accountId: string): Account {
    if (!/^\d{12}$/.test(accountId)) throw new Error(`account id must be 12 digits, got '${accountId}'`);
    const existing = this.accounts.get(accountId);
    if (existing) return existing;
    const account: Account = { accountId, users: new Map(), roles: new Map(), oidcProviders: new Map() };
    this.accounts.set(accountId, account);
    return account;
  }

  account(accountId: string): Account {
    const account = this.accounts.get(accountId);
    if (!account) throw errors.noSuchEntity(`Account ${accountId} does not exist in the sandbox.`);
    return account;
  }

  // ---- users ---------------------------------------------------------------

  createUser(accountId: string, userName: string, path = "/", tags: IamUser["tags"] = []): IamUser {
    checkName(userName, "userName", 64);
    checkPath(path, "path");
    const account = this.account(accountId);
    // IAM user and role names are case-insensitively unique.
    for (const existing of account.users.keys()) {
      if (existing.toLowerCase() === userName.toLowerCase()) {
        throw errors.alreadyExists(`User with name ${userName} already exists.`);
      }
    }
    const user: IamUser = {
      accountId,
      userName,
      userId: iamId("AIDA"),
      path,
      arn: `arn:aws:iam::${accountId}:user${path}${userName}`,
      createDate: this.now(),
      inlinePolicies: new Map(),
      tags,
    };
    account.users.set(userName, user);
    return user;
  }

  /**
   * TagUser: adds or overwrites tags. IAM's limits ("Tagging IAM resources",
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html): at most 50
   * tags; keys 1–128 and values 0–256 characters of letters, digits, spaces and
   * _ . : / = + - @; keys are case-insensitively unique; the aws: prefix is reserved.
   */
  tagUser(accountId: string, userName: string, tags: IamUser["tags"]): void {
    const user = this.getUser(accountId, userName);
    const allowed = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
    for (const tag of tags) {
      if (tag.Key.length < 1 || tag.Key.length > 128 || !allowed.test(tag.Key)) {
        throw errors.validation(
          `1 validation error detected: Value '${tag.Key}' at 'tags.key' failed to satisfy constraint`,
        );
      }
      if (tag.Value.length > 256 || !allowed.test(tag.Value)) {
        throw errors.validation(
          `1 validation error detected: Value '${tag.Value}' at 'tags.value' failed to satisfy constraint`,
        );
      }
      if (tag.Key.toLowerCase().startsWith("aws:")) {
        throw new AwsServiceError("InvalidInput", "User tag keys cannot start with the reserved prefix 'aws:'.", 400);
      }
    }
    const merged = new Map(user.tags.map((t) => [t.Key.toLowerCase(), t]));
    for (const tag of tags) merged.set(tag.Key.toLowerCase(), { Key: tag.Key, Value: tag.Value });
    if (merged.size > 50) throw errors.limitExceeded("Cannot exceed quota for TagsPerUser: 50.");
    user.tags = [...merged.values()];
  }

  untagUser(accountId: string, userName: string, keys: string[]): void {
    const user = this.getUser(accountId, userName);
    const drop = new Set(keys.map((k) => k.toLowerCase()));
    user.tags = user.tags.filter((t) => !drop.has(t.Key.toLowerCase()));
  }

  getUser(accountId: string, userName: string): IamUser {
    const user = this.account(accountId).users.get(userName);
    if (!user) throw errors.noSuchEntity(`The user with name ${userName} cannot be found.`);
    return user;
  }

  deleteUser(accountId: string, userName: string): void {
    const user = this.getUser(accountId, userName);
    if (user.inlinePolicies.size > 0) {
      throw new AwsServiceError("DeleteConflict", "Cannot delete entity, must delete policies first.", 409);
    }
    for (const cred of this.credentials.values()) {
      if (cred.principal.kind === "user" && cred.principal.user === user) {
        throw new AwsServiceError("DeleteConflict", "Cannot delete entity, must delete access keys first.", 409);
      }
    }
    this.account(accountId).users.delete(userName);
  }

  putUserPolicy(accountId: string, userName: string, policyName: string, document: string): void {
    checkName(policyName, "policyName", 128);
    const user = this.getUser(accountId, userName);
    validateIdentityPolicyText(document);
    let total = policySize(document);
    for (const [name, text] of user.inlinePolicies) if (name !== policyName) total += policySize(text);
    if (total > USER_INLINE_BUDGET) {
      throw errors.limitExceeded(`Maximum policy size of ${USER_INLINE_BUDGET} bytes exceeded for user ${userName}`);
    }
    user.inlinePolicies.set(policyName, document);
  }

  getUserPolicy(accountId: string, userName: string, policyName: string): string {
    const user = this.getUser(accountId, userName);
    const doc = user.inlinePolicies.get(policyName);
    if (doc === undefined) throw errors.noSuchEntity(`The user policy with name ${policyName} cannot be found.`);
    return doc;
  }

  deleteUserPolicy(accountId: string, userName: string, policyName: string): void {
    const user = this.getUser(accountId, userName);
    if (!user.inlinePolicies.delete(policyName)) {
      throw errors.noSuchEntity(`The user policy with name ${policyName} cannot be found.`);
    }
  }

  createAccessKey(accountId: string, userName: string): IssuedCredential {
    const user = this.getUser(accountId, userName);
    const cred: IssuedCredential = {
      accessKeyId: iamId("AKIA"),
      secretAccessKey: secretKey(),
      sessionToken: undefined,
      expiration: undefined,
      principal: { kind: "user", accountId, arn: user.arn, user },
      createDate: this.now(),
    };
    this.credentials.set(cred.accessKeyId, cred);
    return cred;
  }

  /** The user's access keys (not the sessions issued from them). */
  listAccessKeys(accountId: string, userName: string): IssuedCredential[] {
    const user = this.getUser(accountId, userName);
    return [...this.credentials.values()].filter(
      (c) => c.principal.kind === "user" && c.principal.user === user && c.accessKeyId.startsWith("AKIA"),
    );
  }

  deleteAccessKey(accountId: string, userName: string, accessKeyId: string): void {
    const cred = this.credentials.get(accessKeyId);
    const user = this.getUser(accountId, userName);
    if (cred?.principal.kind !== "user" || cred.principal.user !== user) {
      throw errors.noSuchEntity(`The Access Key with id ${accessKeyId} cannot be found.`);
    }
    this.credentials.delete(accessKeyId);
  }

  // ---- roles ---------------------------------------------------------------

  createRole(
    accountId: string,
    input: {
      roleName: string;
      assumeRolePolicyDocument: string;
      path?: string | undefined;
      maxSessionDuration?: number | undefined;
      description?: string | undefined;
      tags?: IamRole["tags"] | undefined;
    },
  ): IamRole {
    const path = input.path ?? "/";
    checkName(input.roleName, "roleName", 64);
    checkPath(path, "path");
    const maxSessionDuration = input.maxSessionDuration ?? 3600;
    checkMaxSessionDuration(maxSessionDuration);
    validateTrustPolicyText(input.assumeRolePolicyDocument);
    const account = this.account(accountId);
    for (const existing of account.roles.keys()) {
      if (existing.toLowerCase() === input.roleName.toLowerCase()) {
        throw errors.alreadyExists(`Role with name ${input.roleName} already exists.`);
      }
    }
    const role: IamRole = {
      accountId,
      roleName: input.roleName,
      roleId: iamId("AROA"),
      path,
      arn: `arn:aws:iam::${accountId}:role${path}${input.roleName}`,
      createDate: this.now(),
      assumeRolePolicyDocument: input.assumeRolePolicyDocument,
      maxSessionDuration,
      description: input.description,
      inlinePolicies: new Map(),
      tags: input.tags ?? [],
    };
    account.roles.set(input.roleName, role);
    return role;
  }

  getRole(accountId: string, roleName: string): IamRole {
    const role = this.account(accountId).roles.get(roleName);
    if (!role) throw errors.noSuchEntity(`The role with name ${roleName} cannot be found.`);
    return role;
  }

  /** Resolves `arn:aws:iam::ACCOUNT:role/PATH/NAME`; the path must match too. */
  roleByArn(arn: string): IamRole | undefined {
    const m = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
    if (!m) return undefined;
    const role = this.accounts.get(m[1]!)?.roles.get(m[2]!);
    return role && role.arn === arn ? role : undefined;
  }

  deleteRole(accountId: string, roleName: string): void {
    const role = this.getRole(accountId, roleName);
    if (role.inlinePolicies.size > 0) {
      throw new AwsServiceError("DeleteConflict", "Cannot delete entity, must delete policies first.", 409);
    }
    this.account(accountId).roles.delete(roleName);
  }

  updateAssumeRolePolicy(accountId: string, roleName: string, document: string): void {
    const role = this.getRole(accountId, roleName);
    validateTrustPolicyText(document);
    role.assumeRolePolicyDocument = document;
  }

  updateRole(accountId: string, roleName: string, maxSessionDuration?: number, description?: string): void {
    const role = this.getRole(accountId, roleName);
    if (maxSessionDuration !== undefined) {
      checkMaxSessionDuration(maxSessionDuration);
      role.maxSessionDuration = maxSessionDuration;
    }
    if (description !== undefined) role.description = description;
  }

  putRolePolicy(accountId: string, roleName: string, policyName: string, document: string): void {
    checkName(policyName, "policyName", 128);
    const role = this.getRole(accountId, roleName);
    validateIdentityPolicyText(document);
    let total = policySize(document);
    for (const [name, text] of role.inlinePolicies) if (name !== policyName) total += policySize(text);
    if (total > ROLE_INLINE_BUDGET) {
      throw errors.limitExceeded(`Maximum policy size of ${ROLE_INLINE_BUDGET} bytes exceeded for role ${roleName}`);
    }
    role.inlinePolicies.set(policyName, document);
  }

  getRolePolicy(accountId: string, roleName: string, policyName: string): string {
    const doc = this.getRole(accountId, roleName).inlinePolicies.get(policyName);
    if (doc === undefined) throw errors.noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
    return doc;
  }

  deleteRolePolicy(accountId: string, roleName: string, policyName: string): void {
    if (!this.getRole(accountId, roleName).inlinePolicies.delete(policyName)) {
      throw errors.noSuchEntity(`The role policy with name ${policyName} cannot be found.`);
    }
  }

  // ---- OIDC providers ------------------------------------------------------

  createOidcProvider(accountId: string, url: string, clientIds: string[], thumbprints: string[]): OidcProvider {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new AwsServiceError("InvalidInput", `Invalid OpenID Connect provider URL: ${url}`, 400);
    }
    if (parsed.protocol !== "https:") {
      throw new AwsServiceError("InvalidInput", "The URL of an OpenID Connect provider must begin with https://", 400);
    }
    for (const t of thumbprints) {
      if (!/^[0-9a-fA-F]{40}$/.test(t)) throw constraint(t, "thumbprintList.member", "Member must have length 40");
    }
    const host = `${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
    const arn = `arn:aws:iam::${accountId}:oidc-provider/${host}`;
    const account = this.account(accountId);
    if (account.oidcProviders.has(arn)) {
      throw errors.alreadyExists(`Provider with url ${url} already exists.`);
    }
    const provider: OidcProvider = { accountId, arn, url: host, clientIds, thumbprints, createDate: this.now() };
    account.oidcProviders.set(arn, provider);
    return provider;
  }

  getOidcProvider(arn: string): OidcProvider {
    const m = /^arn:aws:iam::(\d{12}):oidc-provider\/.+$/.exec(arn);
    const provider = m ? this.accounts.get(m[1]!)?.oidcProviders.get(arn) : undefined;
    if (!provider) throw errors.noSuchEntity(`OpenIDConnect Provider not found for arn ${arn}`);
    return provider;
  }

  deleteOidcProvider(arn: string): void {
    const provider = this.getOidcProvider(arn);
    this.account(provider.accountId).oidcProviders.delete(arn);
  }

  // ---- credentials ----------------------------------------------------------

  rootCredential(accountId: string): IssuedCredential {
    const cred: IssuedCredential = {
      accessKeyId: iamId("AKIA"),
      secretAccessKey: secretKey(),
      sessionToken: undefined,
      expiration: undefined,
      principal: { kind: "root", accountId, arn: `arn:aws:iam::${accountId}:root` },
      createDate: this.now(),
    };
    this.credentials.set(cred.accessKeyId, cred);
    return cred;
  }

  issueRoleSession(role: IamRole, sessionName: string, durationSeconds: number): IssuedCredential {
    const issuedAt = this.now();
    const cred: IssuedCredential = {
      accessKeyId: iamId("ASIA"),
      secretAccessKey: secretKey(),
      sessionToken: sessionToken(),
      expiration: new Date(issuedAt.getTime() + durationSeconds * 1000),
      principal: {
        kind: "role-session",
        accountId: role.accountId,
        arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`,
        role,
        sessionName,
        issuedAt,
      },
      createDate: issuedAt,
    };
    this.credentials.set(cred.accessKeyId, cred);
    return cred;
  }
}

function checkMaxSessionDuration(value: number): void {
  // CreateRole: "MaxSessionDuration … Valid Range: Minimum value of 3600. Maximum value of 43200."
  if (!Number.isInteger(value) || value < 3600 || value > 43200) {
    throw constraint(String(value), "maxSessionDuration", "Member must have value between 3600 and 43200");
  }
}
