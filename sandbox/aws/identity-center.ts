/**
 * IAM Identity Center in the sandbox: one instance (in the default account, the
 * organisation's management account), its identity store (users), permission sets
 * and account assignments, served on the real wire protocols:
 *
 * - sso-admin: AWS JSON 1.1, `X-Amz-Target: SWBExternalService.<Action>`, SigV4 scope `sso`.
 * - identitystore: AWS JSON 1.1, `X-Amz-Target: AWSIdentityStore.<Action>`, scope `identitystore`.
 *
 * Account assignments are asynchronous as in AWS ("CreateAccountAssignment … is
 * asynchronous. Call DescribeAccountAssignmentCreationStatus to describe the status":
 * https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_CreateAccountAssignment.html):
 * an operation answers IN_PROGRESS for `knobs.statusPolls` status reads, then SUCCEEDED
 * (or FAILED when `knobs.failNextOperation` says so). Only then does the assignment
 * appear (or disappear) and the permission set's role get provisioned in the account.
 *
 * "Using" an assignment: `signIn` stands in for the AWS access portal
 * (sign in, pick account and permission set, get role credentials). It needs an
 * assignment at sign-in time and returns credentials of the provisioned
 * `AWSReservedSSO_<name>_<hash>` role, valid for the permission set's SessionDuration.
 * Deleting the assignment later does not end them: AWS documents no such revocation
 * (the remedy it documents is a deny policy on the permission set or an SCP,
 * https://docs.aws.amazon.com/singlesignon/latest/userguide/authconcept-revoke-access.html).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { AwsServiceError } from "./errors.js";
import type { IamRole, IamStore, IssuedCredential } from "./iam-store.js";

export interface IdentityStoreUser {
  userId: string;
  userName: string;
  displayName: string;
  emails: string[];
}

/** A group of the identity store and its direct members (Identity Center has no nested groups). */
export interface IdentityStoreGroup {
  groupId: string;
  displayName: string;
  /** Members: user id -> membership id (GetGroupMembershipId's answer). */
  members: Map<string, string>;
}

export interface PermissionSet {
  arn: string;
  name: string;
  description: string | undefined;
  /** ISO 8601 duration as given (e.g. "PT1H"). */
  sessionDuration: string;
  sessionSeconds: number;
  /** Inline policy document text, if any. */
  inlinePolicy: string | undefined;
  createdDate: Date;
}

export interface AccountAssignment {
  accountId: string;
  permissionSetArn: string;
  principalType: "USER" | "GROUP";
  principalId: string;
}

export type OperationStatus = "IN_PROGRESS" | "FAILED" | "SUCCEEDED";

export interface AssignmentOperation {
  requestId: string;
  kind: "create" | "delete";
  assignment: AccountAssignment;
  status: OperationStatus;
  failureReason: string | undefined;
  createdDate: Date;
  /** Status reads still answered IN_PROGRESS. */
  pollsLeft: number;
  /** Decided when the operation started (a knob), applied when it completes. */
  willFail: string | undefined;
}

export interface IdentityCenterKnobs {
  /** Status reads (Describe…Status) that answer IN_PROGRESS before an operation completes. Default 1. */
  statusPolls: number;
  /** The next `count` assignment operations of `kind` end FAILED with `reason`. */
  failNextOperation(kind: "create" | "delete", reason: string, count?: number): void;
}

/** One sign-in: who, where, which role session it produced. */
export interface PortalSignIn {
  userName: string;
  accountId: string;
  permissionSetArn: string;
  roleArn: string;
  credential: IssuedCredential;
  time: Date;
}

const HEX = (n: number) =>
  randomBytes(Math.ceil(n / 2))
    .toString("hex")
    .slice(0, n);

/** ISO 8601 durations as Identity Center takes them (hours/minutes/seconds); seconds or undefined. */
export function sessionDurationSeconds(text: string): number | undefined {
  const m = /^PT(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$/.exec(text);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

export const ASSIGNMENT_KEY = (a: AccountAssignment) =>
  `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`;

export class IdentityCenter {
  readonly instanceArn: string;
  readonly instanceId: string;
  readonly identityStoreId: string;
  /** The account that holds the instance (management account). */
  readonly ownerAccountId: string;
  readonly users = new Map<string, IdentityStoreUser>();
  readonly groups = new Map<string, IdentityStoreGroup>();
  readonly permissionSets = new Map<string, PermissionSet>();
  /** Current assignments, keyed by ASSIGNMENT_KEY. */
  readonly assignments = new Map<string, AccountAssignment>();
  readonly operations = new Map<string, AssignmentOperation>();
  /** Provisioned roles, keyed `${accountId}|${permissionSetArn}`. */
  readonly provisionedRoles = new Map<string, IamRole>();
  readonly signIns: PortalSignIn[] = [];
  readonly knobs: IdentityCenterKnobs;
  private readonly pendingFailures: { kind: "create" | "delete"; reason: string; count: number }[] = [];
  private readonly samlProviderId = HEX(16);

  constructor(
    private readonly store: IamStore,
    ownerAccountId: string,
    private readonly region: string,
    private readonly now: () => Date,
  ) {
    this.ownerAccountId = ownerAccountId;
    this.instanceId = `ssoins-${HEX(16)}`;
    this.instanceArn = `arn:aws:sso:::instance/${this.instanceId}`;
    this.identityStoreId = `d-${HEX(10)}`;
    let statusPolls = 1;
    const pending = this.pendingFailures;
    this.knobs = {
      get statusPolls() {
        return statusPolls;
      },
      set statusPolls(v: number) {
        if (!Number.isInteger(v) || v < 0) throw new Error(`statusPolls must be an integer >= 0, got ${v}`);
        statusPolls = v;
      },
      failNextOperation(kind, reason, count = 1) {
        if (!Number.isInteger(count) || count < 1) throw new Error(`count must be >= 1, got ${count}`);
        pending.push({ kind, reason, count });
      },
    };
  }

  /** The organisation's accounts (every account of the sandbox). */
  accountIds(): string[] {
    return [...this.store.accounts.keys()];
  }

  get identityStoreArn(): string {
    return `arn:aws:identitystore::${this.ownerAccountId}:identitystore/${this.identityStoreId}`;
  }

  // ---- fixtures (what an administrator sets up in the console or CloudFormation) ----------

  createUser(userName: string, displayName = userName, emails: string[] = []): IdentityStoreUser {
    if (!/^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u.test(userName) || userName.length > 128) {
      throw new Error(`invalid identity store user name ${JSON.stringify(userName)}`);
    }
    if (this.userByName(userName)) throw new Error(`user ${userName} already exists`);
    const user: IdentityStoreUser = { userId: randomUUID(), userName, displayName, emails };
    this.users.set(user.userId, user);
    return user;
  }

  deleteUser(userName: string): void {
    const user = this.userByName(userName);
    if (!user) return;
    this.users.delete(user.userId);
    // Deleting a user deletes its memberships too.
    for (const group of this.groups.values()) group.members.delete(user.userId);
  }

  createGroup(displayName: string): IdentityStoreGroup {
    if (!displayName || displayName.length > 1024) throw new Error(`invalid group name ${JSON.stringify(displayName)}`);
    for (const g of this.groups.values()) {
      if (g.displayName.toLowerCase() === displayName.toLowerCase())
        throw new Error(`group ${displayName} already exists`);
    }
    const group: IdentityStoreGroup = { groupId: randomUUID(), displayName, members: new Map() };
    this.groups.set(group.groupId, group);
    return group;
  }

  /** Puts the named users in the group (the platform team's CreateGroupMembership). */
  addToGroup(groupId: string, ...userNames: string[]): void {
    const group = this.groups.get(groupId);
    if (!group) throw new Error(`no group ${groupId}`);
    for (const name of userNames) {
      const user = this.userByName(name);
      if (!user) throw new Error(`no user ${name}`);
      if (!group.members.has(user.userId)) group.members.set(user.userId, randomUUID());
    }
  }

  removeFromGroup(groupId: string, userName: string): void {
    const user = this.userByName(userName);
    if (user) this.groups.get(groupId)?.members.delete(user.userId);
  }

  /** Identity Center user names are unique ignoring case. */
  userByName(userName: string): IdentityStoreUser | undefined {
    const wanted = userName.toLowerCase();
    for (const u of this.users.values()) if (u.userName.toLowerCase() === wanted) return u;
    return undefined;
  }

  createPermissionSet(input: {
    name: string;
    sessionDuration?: string;
    description?: string;
    inlinePolicy?: string | object;
  }): PermissionSet {
    // CreatePermissionSet: Name 1-32 of [\w+=,.@-]; SessionDuration an ISO 8601 duration,
    // 1 to 12 hours (the console's and the API's range; default PT1H).
    if (!/^[\w+=,.@-]{1,32}$/.test(input.name)) {
      throw new AwsServiceError("ValidationException", `Permission set name ${input.name} is invalid`, 400);
    }
    for (const ps of this.permissionSets.values()) {
      if (ps.name === input.name) throw new AwsServiceError("ConflictException", "PermissionSet already exists.", 409);
    }
    const sessionDuration = input.sessionDuration ?? "PT1H";
    const seconds = sessionDurationSeconds(sessionDuration);
    if (seconds === undefined || seconds < 3600 || seconds > 43200) {
      throw new AwsServiceError(
        "ValidationException",
        `SessionDuration ${sessionDuration} must be an ISO-8601 duration between PT1H and PT12H`,
        400,
      );
    }
    const ps: PermissionSet = {
      arn: `arn:aws:sso:::permissionSet/${this.instanceId}/ps-${HEX(16)}`,
      name: input.name,
      description: input.description,
      sessionDuration,
      sessionSeconds: seconds,
      inlinePolicy:
        input.inlinePolicy === undefined
          ? undefined
          : typeof input.inlinePolicy === "string"
            ? input.inlinePolicy
            : JSON.stringify(input.inlinePolicy),
      createdDate: this.now(),
    };
    this.permissionSets.set(ps.arn, ps);
    return ps;
  }

  deletePermissionSet(arn: string): void {
    for (const a of this.assignments.values()) {
      if (a.permissionSetArn === arn) {
        throw new AwsServiceError("ConflictException", "Permission set is provisioned to accounts.", 409);
      }
    }
    this.permissionSets.delete(arn);
  }

  // ---- assignments -----------------------------------------------------------------------

  /** Starts a creation or deletion; ConflictException while another operation on the same assignment runs. */
  startOperation(kind: "create" | "delete", assignment: AccountAssignment): AssignmentOperation {
    const key = ASSIGNMENT_KEY(assignment);
    for (const op of this.operations.values()) {
      if (op.status === "IN_PROGRESS" && ASSIGNMENT_KEY(op.assignment) === key) {
        throw new AwsServiceError(
          "ConflictException",
          "The request failed because another operation on this account assignment is in progress.",
          409,
        );
      }
    }
    let willFail: string | undefined;
    const failure = this.pendingFailures.find((f) => f.kind === kind);
    if (failure) {
      willFail = failure.reason;
      failure.count -= 1;
      if (failure.count === 0) this.pendingFailures.splice(this.pendingFailures.indexOf(failure), 1);
    }
    const op: AssignmentOperation = {
      requestId: randomUUID(),
      kind,
      assignment: { ...assignment },
      status: "IN_PROGRESS",
      failureReason: undefined,
      createdDate: this.now(),
      pollsLeft: this.knobs.statusPolls,
      willFail,
    };
    this.operations.set(op.requestId, op);
    if (op.pollsLeft === 0) this.complete(op);
    return op;
  }

  /** A status read: answers IN_PROGRESS `statusPolls` times, then completes the operation. */
  poll(op: AssignmentOperation): AssignmentOperation {
    if (op.status !== "IN_PROGRESS") return op;
    if (op.pollsLeft > 0) {
      op.pollsLeft -= 1;
      return op;
    }
    this.complete(op);
    return op;
  }

  /** Completes every operation still in progress (as AWS does on its own after a while). */
  settle(): void {
    for (const op of this.operations.values()) if (op.status === "IN_PROGRESS") this.complete(op);
  }

  private complete(op: AssignmentOperation): void {
    op.pollsLeft = 0;
    if (op.willFail !== undefined) {
      op.status = "FAILED";
      op.failureReason = op.willFail;
      return;
    }
    const key = ASSIGNMENT_KEY(op.assignment);
    if (op.kind === "create") {
      const ps = this.permissionSets.get(op.assignment.permissionSetArn);
      if (!ps) {
        op.status = "FAILED";
        op.failureReason = "Permission set not found";
        return;
      }
      this.provision(op.assignment.accountId, ps);
      this.assignments.set(key, { ...op.assignment });
    } else {
      this.assignments.delete(key);
      // The provisioned role stays in the account: Elevate assumes nothing from its deletion
      // (see docs/threat-model.md, "Identity Center sessions").
    }
    op.status = "SUCCEEDED";
  }

  /** Creates (or refreshes) `AWSReservedSSO_<name>_<hash>` in the account, as provisioning does. */
  private provision(accountId: string, ps: PermissionSet): IamRole {
    const key = `${accountId}|${ps.arn}`;
    let role = this.provisionedRoles.get(key);
    if (!role || this.store.roleByArn(role.arn) !== role) {
      const regionPath = this.region === "us-east-1" ? "" : `${this.region}/`;
      const samlProvider = `arn:aws:iam::${accountId}:saml-provider/AWSSSO_${this.samlProviderId}_DO_NOT_DELETE`;
      role = this.store.createRole(accountId, {
        roleName: `AWSReservedSSO_${ps.name}_${HEX(16)}`,
        path: `/aws-reserved/sso.amazonaws.com/${regionPath}`,
        maxSessionDuration: ps.sessionSeconds,
        assumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: samlProvider },
              Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
              Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
            },
          ],
        }),
      });
      this.provisionedRoles.set(key, role);
    }
    role.maxSessionDuration = ps.sessionSeconds;
    if (ps.inlinePolicy !== undefined)
      this.store.putRolePolicy(accountId, role.roleName, "AwsSSOInlinePolicy", ps.inlinePolicy);
    return role;
  }

  /** The role a permission set is provisioned as in an account, if it is. */
  provisionedRole(accountId: string, permissionSetArn: string): IamRole | undefined {
    const role = this.provisionedRoles.get(`${accountId}|${permissionSetArn}`);
    return role && this.store.roleByArn(role.arn) === role ? role : undefined;
  }

  /** Permission sets provisioned to an account (their role exists there), in provisioning order. */
  permissionSetsProvisionedTo(accountId: string): string[] {
    const arns: string[] = [];
    for (const [key, role] of this.provisionedRoles) {
      const [account, arn] = key.split("|") as [string, string];
      if (account === accountId && this.store.roleByArn(role.arn) === role) arns.push(arn);
    }
    return arns;
  }

  hasAssignment(userName: string, accountId: string, permissionSetArn: string): boolean {
    const user = this.userByName(userName);
    if (!user) return false;
    return this.assignments.has(
      ASSIGNMENT_KEY({ accountId, permissionSetArn, principalType: "USER", principalId: user.userId }),
    );
  }

  /**
   * The access portal: the user signs in and picks (account, permission set). Refused
   * unless an assignment exists now; otherwise role credentials valid for the permission
   * set's SessionDuration, with the user name as the role session name (as AWS names
   * Identity Center sessions: `assumed-role/AWSReservedSSO_…/<user name>`).
   */
  signIn(input: { userName: string; accountId: string; permissionSetArn: string }): PortalSignIn {
    const user = this.userByName(input.userName);
    if (!user) throw new Error(`sign-in refused: no user ${input.userName} in the identity store`);
    if (!this.hasAssignment(user.userName, input.accountId, input.permissionSetArn)) {
      throw new Error(
        `sign-in refused: ${user.userName} has no assignment of ${input.permissionSetArn} in account ${input.accountId}`,
      );
    }
    const ps = this.permissionSets.get(input.permissionSetArn);
    const role = this.provisionedRole(input.accountId, input.permissionSetArn);
    if (!ps || !role) throw new Error("sign-in refused: the permission set is not provisioned in the account");
    const credential = this.store.issueRoleSession(role, user.userName, ps.sessionSeconds);
    const signIn: PortalSignIn = {
      userName: user.userName,
      accountId: input.accountId,
      permissionSetArn: ps.arn,
      roleArn: role.arn,
      credential,
      time: this.now(),
    };
    this.signIns.push(signIn);
    return signIn;
  }
}
