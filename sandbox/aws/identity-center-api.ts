/**
 * The sso-admin and identitystore APIs Elevate calls, over AWS JSON 1.1, with the
 * request and response shapes of the API references:
 * https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_Operations.html
 * https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_Operations.html
 * Every call is authorized with the signer's IAM policies against the resource types of
 * the Service Authorization Reference (sso: Instance, PermissionSet, Account;
 * identitystore: Identitystore, User), all of which must be allowed.
 */
import { authorizeCall, type CallContext, requirePrincipal } from "./context.js";
import { AwsServiceError } from "./errors.js";
import type {
  AccountAssignment,
  AssignmentOperation,
  IdentityCenter,
  IdentityStoreUser,
  PermissionSet,
} from "./identity-center.js";
import type { JsonHandler } from "./ssm.js";
import { epochSeconds } from "./wire.js";

const INSTANCE_ARN = /^arn:aws(-[a-z]{1,5}){0,3}:sso:::instance\/(sso)?ins-[a-zA-Z0-9-.]{16}$/;
const PERMISSION_SET_ARN =
  /^arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;
const PRINCIPAL_ID = /^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/;
const IDENTITY_STORE_ID = /^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const REQUEST_ID = /^\b[0-9a-f]{8}\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\b[0-9a-f]{12}\b$/;

function validation(message: string): AwsServiceError {
  return new AwsServiceError("ValidationException", message, 400);
}

function notFound(message: string): AwsServiceError {
  return new AwsServiceError("ResourceNotFoundException", message, 404);
}

function str(body: Record<string, unknown>, name: string, pattern?: RegExp): string {
  const v = body[name];
  if (typeof v !== "string" || v === "") {
    throw validation(
      `1 validation error detected: Value null at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must not be null`,
    );
  }
  if (pattern && !pattern.test(v)) {
    throw validation(
      `1 validation error detected: Value '${v}' at '${name.charAt(0).toLowerCase()}${name.slice(1)}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern.source}`,
    );
  }
  return v;
}

function page<T>(items: T[], body: Record<string, unknown>): { items: T[]; nextToken: string | undefined } {
  const max = body.MaxResults === undefined ? 100 : Number(body.MaxResults);
  if (!Number.isInteger(max) || max < 1 || max > 100) throw validation("MaxResults must be between 1 and 100");
  let start = 0;
  if (body.NextToken !== undefined) {
    const decoded = Number(Buffer.from(String(body.NextToken), "base64url").toString("utf8"));
    if (!Number.isInteger(decoded) || decoded < 0) throw validation("The NextToken is invalid");
    start = decoded;
  }
  const slice = items.slice(start, start + max);
  const next = start + max < items.length ? Buffer.from(String(start + max)).toString("base64url") : undefined;
  return { items: slice, nextToken: next };
}

const omitUndefined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function operationStatus(op: AssignmentOperation): Record<string, unknown> {
  return omitUndefined({
    Status: op.status,
    RequestId: op.requestId,
    FailureReason: op.failureReason,
    TargetId: op.assignment.accountId,
    TargetType: "AWS_ACCOUNT",
    PermissionSetArn: op.assignment.permissionSetArn,
    PrincipalType: op.assignment.principalType,
    PrincipalId: op.assignment.principalId,
    CreatedDate: epochSeconds(op.createdDate),
  });
}

function permissionSetShape(ps: PermissionSet): Record<string, unknown> {
  return omitUndefined({
    Name: ps.name,
    PermissionSetArn: ps.arn,
    Description: ps.description,
    CreatedDate: epochSeconds(ps.createdDate),
    SessionDuration: ps.sessionDuration,
  });
}

export function ssoAdminHandlers(ic: IdentityCenter): Record<string, JsonHandler> {
  /** The instance named by the request; other instances do not exist for this caller. */
  function instance(body: Record<string, unknown>, ctx: CallContext): string {
    const arn = str(body, "InstanceArn", INSTANCE_ARN);
    const principal = requirePrincipal(ctx);
    if (arn !== ic.instanceArn || principal.accountId !== ic.ownerAccountId) {
      // The instance lives in the management (or delegated administrator) account only.
      throw new AwsServiceError("AccessDeniedException", "User is not authorized to perform this action.", 403);
    }
    return arn;
  }

  async function authorizeAll(ctx: CallContext, action: string, resources: string[]): Promise<void> {
    for (const resource of resources) {
      await authorizeCall(ctx, { action, resource, resourceAccountId: ic.ownerAccountId });
    }
  }

  function assignmentInput(body: Record<string, unknown>): AccountAssignment {
    const accountId = str(body, "TargetId", /^\d{12}$/);
    const targetType = str(body, "TargetType");
    if (targetType !== "AWS_ACCOUNT")
      throw validation(
        `Value '${targetType}' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT]`,
      );
    const permissionSetArn = str(body, "PermissionSetArn", PERMISSION_SET_ARN);
    const principalType = str(body, "PrincipalType");
    if (principalType !== "USER" && principalType !== "GROUP") {
      throw validation(
        `Value '${principalType}' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]`,
      );
    }
    const principalId = str(body, "PrincipalId", PRINCIPAL_ID);
    return { accountId, permissionSetArn, principalType, principalId };
  }

  async function startAssignment(kind: "create" | "delete", body: Record<string, unknown>, ctx: CallContext) {
    const instanceArn = instance(body, ctx);
    const a = assignmentInput(body);
    await authorizeAll(ctx, kind === "create" ? "sso:CreateAccountAssignment" : "sso:DeleteAccountAssignment", [
      instanceArn,
      a.permissionSetArn,
      `arn:aws:sso:::account/${a.accountId}`,
    ]);
    if (!ic.permissionSets.has(a.permissionSetArn)) throw notFound("Could not find PermissionSet with the given ARN");
    if (a.principalType === "USER" && !ic.users.has(a.principalId)) {
      throw notFound(`Principal ${a.principalId} does not exist in the identity store`);
    }
    if (a.principalType === "GROUP") throw notFound(`Group ${a.principalId} does not exist in the identity store`);
    if (!ic.accountIds().includes(a.accountId)) {
      throw validation(`TargetId ${a.accountId} is not an account of the organization`);
    }
    if (kind === "delete" && !ic.assignments.has(assignmentKey(a))) {
      throw notFound("The specified account assignment does not exist");
    }
    return ic.startOperation(kind, a);
  }

  function describeStatus(kind: "create" | "delete", idField: string) {
    return async (body: Record<string, unknown>, ctx: CallContext) => {
      const instanceArn = instance(body, ctx);
      const id = str(body, idField, REQUEST_ID);
      await authorizeAll(
        ctx,
        kind === "create"
          ? "sso:DescribeAccountAssignmentCreationStatus"
          : "sso:DescribeAccountAssignmentDeletionStatus",
        [instanceArn],
      );
      const op = ic.operations.get(id);
      if (!op || op.kind !== kind) throw notFound(`Could not find request ${id}`);
      return operationStatus(ic.poll(op));
    };
  }

  return {
    async ListInstances(body, ctx) {
      await authorizeAll(ctx, "sso:ListInstances", ["*"]);
      const visible = requirePrincipal(ctx).accountId === ic.ownerAccountId;
      const { items, nextToken } = page(visible ? [ic] : [], body);
      return omitUndefined({
        Instances: items.map((i) => ({
          InstanceArn: i.instanceArn,
          IdentityStoreId: i.identityStoreId,
          OwnerAccountId: i.ownerAccountId,
          Status: "ACTIVE",
        })),
        NextToken: nextToken,
      });
    },

    async CreateAccountAssignment(body, ctx) {
      return { AccountAssignmentCreationStatus: operationStatus(await startAssignment("create", body, ctx)) };
    },

    async DeleteAccountAssignment(body, ctx) {
      return { AccountAssignmentDeletionStatus: operationStatus(await startAssignment("delete", body, ctx)) };
    },

    async DescribeAccountAssignmentCreationStatus(body, ctx) {
      return {
        AccountAssignmentCreationStatus: await describeStatus("create", "AccountAssignmentCreationRequestId")(
          body,
          ctx,
        ),
      };
    },

    async DescribeAccountAssignmentDeletionStatus(body, ctx) {
      return {
        AccountAssignmentDeletionStatus: await describeStatus("delete", "AccountAssignmentDeletionRequestId")(
          body,
          ctx,
        ),
      };
    },

    async ListAccountAssignments(body, ctx) {
      const instanceArn = instance(body, ctx);
      const accountId = str(body, "AccountId", /^\d{12}$/);
      const permissionSetArn = str(body, "PermissionSetArn", PERMISSION_SET_ARN);
      await authorizeAll(ctx, "sso:ListAccountAssignments", [
        instanceArn,
        permissionSetArn,
        `arn:aws:sso:::account/${accountId}`,
      ]);
      if (!ic.permissionSets.has(permissionSetArn)) throw notFound("Could not find PermissionSet with the given ARN");
      const all = [...ic.assignments.values()].filter(
        (a) => a.accountId === accountId && a.permissionSetArn === permissionSetArn,
      );
      const { items, nextToken } = page(all, body);
      return omitUndefined({
        AccountAssignments: items.map((a) => ({
          AccountId: a.accountId,
          PermissionSetArn: a.permissionSetArn,
          PrincipalType: a.principalType,
          PrincipalId: a.principalId,
        })),
        NextToken: nextToken,
      });
    },

    async ListAccountAssignmentsForPrincipal(body, ctx) {
      const instanceArn = instance(body, ctx);
      const principalId = str(body, "PrincipalId", PRINCIPAL_ID);
      const principalType = str(body, "PrincipalType");
      await authorizeAll(ctx, "sso:ListAccountAssignmentsForPrincipal", [instanceArn]);
      const filter = body.Filter as { AccountId?: string } | undefined;
      const all = [...ic.assignments.values()].filter(
        (a) =>
          a.principalId === principalId &&
          a.principalType === principalType &&
          (filter?.AccountId === undefined || a.accountId === filter.AccountId),
      );
      const { items, nextToken } = page(all, body);
      return omitUndefined({
        AccountAssignments: items.map((a) => ({
          AccountId: a.accountId,
          PermissionSetArn: a.permissionSetArn,
          PrincipalId: a.principalId,
          PrincipalType: a.principalType,
        })),
        NextToken: nextToken,
      });
    },

    // https://docs.aws.amazon.com/singlesignon/latest/APIReference/API_ListPermissionSetsProvisionedToAccount.html
    async ListPermissionSetsProvisionedToAccount(body, ctx) {
      const instanceArn = instance(body, ctx);
      const accountId = str(body, "AccountId", /^\d{12}$/);
      const status = body.ProvisioningStatus;
      if (
        status !== undefined &&
        status !== "LATEST_PERMISSION_SET_PROVISIONED" &&
        status !== "LATEST_PERMISSION_SET_NOT_PROVISIONED"
      ) {
        throw validation(
          `Value '${String(status)}' at 'provisioningStatus' failed to satisfy constraint: Member must satisfy enum value set: [LATEST_PERMISSION_SET_PROVISIONED, LATEST_PERMISSION_SET_NOT_PROVISIONED]`,
        );
      }
      await authorizeAll(ctx, "sso:ListPermissionSetsProvisionedToAccount", [
        instanceArn,
        `arn:aws:sso:::account/${accountId}`,
      ]);
      // The sandbox provisions a permission set's latest version whenever it provisions it:
      // none is ever outdated, so NOT_PROVISIONED (provisioned, but not its latest) is empty.
      const all = status === "LATEST_PERMISSION_SET_NOT_PROVISIONED" ? [] : ic.permissionSetsProvisionedTo(accountId);
      const { items, nextToken } = page(all, body);
      return omitUndefined({ PermissionSets: items, NextToken: nextToken });
    },

    async CreatePermissionSet(body, ctx) {
      const instanceArn = instance(body, ctx);
      const name = str(body, "Name");
      await authorizeAll(ctx, "sso:CreatePermissionSet", [instanceArn]);
      const ps = ic.createPermissionSet({
        name,
        ...(typeof body.SessionDuration === "string" ? { sessionDuration: body.SessionDuration } : {}),
        ...(typeof body.Description === "string" ? { description: body.Description } : {}),
      });
      return { PermissionSet: permissionSetShape(ps) };
    },

    async DescribePermissionSet(body, ctx) {
      const instanceArn = instance(body, ctx);
      const arn = str(body, "PermissionSetArn", PERMISSION_SET_ARN);
      await authorizeAll(ctx, "sso:DescribePermissionSet", [instanceArn, arn]);
      const ps = ic.permissionSets.get(arn);
      if (!ps) throw notFound("Could not find PermissionSet with the given ARN");
      return { PermissionSet: permissionSetShape(ps) };
    },

    async ListPermissionSets(body, ctx) {
      const instanceArn = instance(body, ctx);
      await authorizeAll(ctx, "sso:ListPermissionSets", [instanceArn]);
      const { items, nextToken } = page([...ic.permissionSets.keys()], body);
      return omitUndefined({ PermissionSets: items, NextToken: nextToken });
    },
  };
}

function assignmentKey(a: AccountAssignment): string {
  return `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`;
}

function userShape(ic: IdentityCenter, u: IdentityStoreUser): Record<string, unknown> {
  return {
    IdentityStoreId: ic.identityStoreId,
    UserId: u.userId,
    UserName: u.userName,
    DisplayName: u.displayName,
    Emails: u.emails.map((e, i) => ({ Value: e, Type: "work", Primary: i === 0 })),
  };
}

export function identityStoreHandlers(ic: IdentityCenter): Record<string, JsonHandler> {
  function store(body: Record<string, unknown>, ctx: CallContext): void {
    const id = str(body, "IdentityStoreId", IDENTITY_STORE_ID);
    if (id !== ic.identityStoreId || requirePrincipal(ctx).accountId !== ic.ownerAccountId) {
      throw new AwsServiceError("AccessDeniedException", "User is not authorized to perform this action.", 403);
    }
  }

  async function authorizeAll(ctx: CallContext, action: string, resources: string[]): Promise<void> {
    for (const resource of resources) {
      await authorizeCall(ctx, { action, resource, resourceAccountId: ic.ownerAccountId });
    }
  }

  const userNotFound = () => new AwsServiceError("ResourceNotFoundException", "USER not found.", 404);
  const groupNotFound = () => new AwsServiceError("ResourceNotFoundException", "GROUP not found.", 404);

  /** MemberId is a union with one member, UserId. */
  function memberUserId(body: Record<string, unknown>): string {
    const member = body.MemberId as { UserId?: unknown } | undefined;
    if (!member || typeof member !== "object" || Object.keys(member).length !== 1) {
      throw validation("MemberId must have exactly one member, UserId");
    }
    if (typeof member.UserId !== "string" || !PRINCIPAL_ID.test(member.UserId)) {
      throw validation(`Invalid UserId ${JSON.stringify(member.UserId)}`);
    }
    return member.UserId;
  }

  return {
    async GetUserId(body, ctx) {
      store(body, ctx);
      const alt = body.AlternateIdentifier as
        | { UniqueAttribute?: { AttributePath?: unknown; AttributeValue?: unknown }; ExternalId?: unknown }
        | undefined;
      if (!alt || typeof alt !== "object") throw validation("AlternateIdentifier is required");
      if (alt.ExternalId !== undefined) {
        await authorizeAll(ctx, "identitystore:GetUserId", [ic.identityStoreArn, "arn:aws:identitystore:::user/*"]);
        throw userNotFound();
      }
      const path = alt.UniqueAttribute?.AttributePath;
      const value = alt.UniqueAttribute?.AttributeValue;
      if (typeof path !== "string" || !/^(userName|emails\.value)$/i.test(path)) {
        throw validation("Invalid AttributePath: the only valid unique attribute paths are userName and emails.value");
      }
      if (typeof value !== "string") throw validation("AttributeValue must be a string");
      // Exact match: AWS documents user names as unique, not the lookup as case-insensitive
      // (moto matches exactly too); Elevate always sends the exact configured name.
      const user = /^userName$/i.test(path)
        ? [...ic.users.values()].find((u) => u.userName === value)
        : [...ic.users.values()].find((u) => u.emails.some((e) => e.toLowerCase() === value.toLowerCase()));
      await authorizeAll(ctx, "identitystore:GetUserId", [
        ic.identityStoreArn,
        user ? `arn:aws:identitystore:::user/${user.userId}` : "arn:aws:identitystore:::user/*",
      ]);
      if (!user) throw userNotFound();
      return { UserId: user.userId, IdentityStoreId: ic.identityStoreId };
    },

    // IsMemberInGroups: {IdentityStoreId, MemberId: {UserId}, GroupIds: [1..100]} ->
    // {Results: [{GroupId, MemberId: {UserId}, MembershipExists}]}
    // (https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_IsMemberInGroups.html).
    // Authorized on the identity store, every group asked about and the user.
    async IsMemberInGroups(body, ctx) {
      store(body, ctx);
      const userId = memberUserId(body);
      const groupIds = body.GroupIds;
      if (!Array.isArray(groupIds) || groupIds.length < 1 || groupIds.length > 100) {
        throw validation("GroupIds must list 1 to 100 group ids");
      }
      for (const id of groupIds) {
        if (typeof id !== "string" || !PRINCIPAL_ID.test(id)) throw validation(`Invalid GroupId ${JSON.stringify(id)}`);
      }
      await authorizeAll(ctx, "identitystore:IsMemberInGroups", [
        ic.identityStoreArn,
        ...groupIds.map((id) => `arn:aws:identitystore:::group/${id}`),
        `arn:aws:identitystore:::user/${userId}`,
      ]);
      if (!ic.users.has(userId)) throw userNotFound();
      return {
        Results: (groupIds as string[]).map((id) => {
          const group = ic.groups.get(id);
          if (!group) throw groupNotFound();
          return { GroupId: id, MemberId: { UserId: userId }, MembershipExists: group.members.has(userId) };
        }),
      };
    },

    // GetGroupMembershipId: {IdentityStoreId, GroupId, MemberId: {UserId}} -> {MembershipId, IdentityStoreId};
    // ResourceNotFoundException when the user is not a member
    // (https://docs.aws.amazon.com/singlesignon/latest/IdentityStoreAPIReference/API_GetGroupMembershipId.html).
    async GetGroupMembershipId(body, ctx) {
      store(body, ctx);
      const groupId = str(body, "GroupId", PRINCIPAL_ID);
      const userId = memberUserId(body);
      await authorizeAll(ctx, "identitystore:GetGroupMembershipId", [
        ic.identityStoreArn,
        `arn:aws:identitystore:::group/${groupId}`,
        `arn:aws:identitystore:::user/${userId}`,
      ]);
      const membershipId = ic.groups.get(groupId)?.members.get(userId);
      if (!membershipId) throw new AwsServiceError("ResourceNotFoundException", "GROUP_MEMBERSHIP not found.", 404);
      return { MembershipId: membershipId, IdentityStoreId: ic.identityStoreId };
    },

    async CreateUser(body, ctx) {
      store(body, ctx);
      const userName = str(body, "UserName");
      const displayName = typeof body.DisplayName === "string" ? body.DisplayName : userName;
      await authorizeAll(ctx, "identitystore:CreateUser", [ic.identityStoreArn]);
      if (ic.userByName(userName)) throw new AwsServiceError("ConflictException", "Duplicate UserName", 409);
      const emails = Array.isArray(body.Emails)
        ? (body.Emails as { Value?: unknown }[]).flatMap((e) => (typeof e.Value === "string" ? [e.Value] : []))
        : [];
      let user: IdentityStoreUser;
      try {
        user = ic.createUser(userName, displayName, emails);
      } catch (err) {
        throw validation((err as Error).message);
      }
      return { UserId: user.userId, IdentityStoreId: ic.identityStoreId };
    },

    async DescribeUser(body, ctx) {
      store(body, ctx);
      const userId = str(body, "UserId", PRINCIPAL_ID);
      await authorizeAll(ctx, "identitystore:DescribeUser", [
        ic.identityStoreArn,
        `arn:aws:identitystore:::user/${userId}`,
      ]);
      const user = ic.users.get(userId);
      if (!user) throw userNotFound();
      return userShape(ic, user);
    },

    async ListUsers(body, ctx) {
      store(body, ctx);
      await authorizeAll(ctx, "identitystore:ListUsers", [ic.identityStoreArn, "arn:aws:identitystore:::user/*"]);
      const filters = (body.Filters as { AttributePath?: string; AttributeValue?: string }[] | undefined) ?? [];
      let users = [...ic.users.values()];
      for (const f of filters) {
        if (f.AttributePath !== "UserName") throw validation("Only the UserName filter is supported");
        users = users.filter((u) => u.userName.toLowerCase() === String(f.AttributeValue).toLowerCase());
      }
      const { items, nextToken } = page(users, body);
      return omitUndefined({ Users: items.map((u) => userShape(ic, u)), NextToken: nextToken });
    },
  };
}
