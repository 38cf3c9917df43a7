/**
 * The sandbox's IAM Identity Center, driven by the real @aws-sdk/client-sso-admin and
 * @aws-sdk/client-identitystore over AWS JSON 1.1: the calls Elevate makes, their
 * asynchronous assignment status, errors, IAM authorization, endpoint routing by the
 * SDK's environment variables, the provisioned AWSReservedSSO role in a member account,
 * and the portal sign-in whose session outlives the assignment until SessionDuration.
 */
import {
  CreateUserCommand,
  DeleteRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  DescribeUserCommand,
  GetGroupMembershipIdCommand,
  GetUserIdCommand,
  IdentitystoreClient,
  ResourceNotFoundException as IdsNotFound,
  IsMemberInGroupsCommand,
  ListUsersCommand,
} from "@aws-sdk/client-identitystore";
import {
  AccessDeniedException,
  ConflictException,
  CreateAccountAssignmentCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  ListInstancesCommand,
  ListPermissionSetsCommand,
  ListPermissionSetsProvisionedToAccountCommand,
  ResourceNotFoundException,
  SSOAdminClient,
  ValidationException,
} from "@aws-sdk/client-sso-admin";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AwsSandbox, type Credentials, type PermissionSet, startAwsSandbox } from "../../sandbox/aws/index.js";

const HUB = "111111111111";
const MEMBER = "222222222222";
const REGION = "ap-northeast-1";
const START = new Date("2026-11-30T08:00:00Z");

let sandbox: AwsSandbox;
let admin: PermissionSet;
let readOnly: PermissionSet;

const sso = (credentials: Credentials = sandbox.rootCredentials) =>
  new SSOAdminClient({ region: REGION, endpoint: sandbox.endpoint, credentials, maxAttempts: 1 });
const ids = (credentials: Credentials = sandbox.rootCredentials) =>
  new IdentitystoreClient({ region: REGION, endpoint: sandbox.endpoint, credentials, maxAttempts: 1 });

function assignmentInput(userId: string, ps: PermissionSet, account = MEMBER) {
  return {
    InstanceArn: sandbox.state.identityCenter.instanceArn,
    TargetId: account,
    TargetType: "AWS_ACCOUNT" as const,
    PermissionSetArn: ps.arn,
    PrincipalType: "USER" as const,
    PrincipalId: userId,
  };
}

async function assign(userId: string, ps: PermissionSet, account = MEMBER): Promise<void> {
  const client = sso();
  const created = await client.send(new CreateAccountAssignmentCommand(assignmentInput(userId, ps, account)));
  let status = created.AccountAssignmentCreationStatus?.Status;
  while (status === "IN_PROGRESS") {
    const d = await client.send(
      new DescribeAccountAssignmentCreationStatusCommand({
        InstanceArn: sandbox.state.identityCenter.instanceArn,
        AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus?.RequestId,
      }),
    );
    status = d.AccountAssignmentCreationStatus?.Status;
  }
  expect(status).toBe("SUCCEEDED");
}

beforeAll(async () => {
  sandbox = await startAwsSandbox({ accountIds: [HUB, MEMBER], region: REGION, now: START, clockMode: "frozen" });
  const ic = sandbox.state.identityCenter;
  ic.createUser("alice@acme.com", "Alice", ["alice@acme.com"]);
  ic.createUser("bob@acme.com", "Bob");
  admin = ic.createPermissionSet({
    name: "ProdAdmin",
    sessionDuration: "PT1H",
    inlinePolicy: {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "sts:GetCallerIdentity", Resource: "*" }],
    },
  });
  readOnly = ic.createPermissionSet({ name: "ReadOnly", sessionDuration: "PT2H" });
});

afterAll(async () => {
  await sandbox.close();
});

beforeEach(() => {
  sandbox.knobs.reset();
  sandbox.state.identityCenter.knobs.statusPolls = 1;
});

describe("wire protocol and routing", () => {
  it("answers sso-admin (SWBExternalService, scope sso) and identitystore (AWSIdentityStore) on JSON 1.1", async () => {
    const ic = sandbox.state.identityCenter;
    const instances = await sso().send(new ListInstancesCommand({}));
    expect(instances.Instances).toEqual([
      expect.objectContaining({
        InstanceArn: ic.instanceArn,
        IdentityStoreId: ic.identityStoreId,
        OwnerAccountId: HUB,
      }),
    ]);
    expect(ic.instanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/);
    expect(ic.identityStoreId).toMatch(/^d-[0-9a-f]{10}$/);
    const sets = await sso().send(new ListPermissionSetsCommand({ InstanceArn: ic.instanceArn }));
    expect(sets.PermissionSets).toEqual([admin.arn, readOnly.arn]);
    const described = await sso().send(
      new DescribePermissionSetCommand({ InstanceArn: ic.instanceArn, PermissionSetArn: readOnly.arn }),
    );
    expect(described.PermissionSet).toMatchObject({ Name: "ReadOnly", SessionDuration: "PT2H" });
    expect(described.PermissionSet?.CreatedDate).toEqual(START);
    expect(sandbox.calls("ListInstances", "sso")).toHaveLength(1);
    expect(sandbox.calls("DescribePermissionSet", "sso")[0]?.principal).toBe(`arn:aws:iam::${HUB}:root`);
  });

  it("routes the SDK by AWS_ENDPOINT_URL_SSO_ADMIN / AWS_ENDPOINT_URL_IDENTITYSTORE (no endpoint option)", async () => {
    expect(sandbox.env.AWS_ENDPOINT_URL_SSO_ADMIN).toBe(sandbox.endpoint);
    expect(sandbox.env.AWS_ENDPOINT_URL_IDENTITYSTORE).toBe(sandbox.endpoint);
    const saved = { ...process.env };
    Object.assign(process.env, sandbox.env);
    try {
      const credentials = sandbox.rootCredentials;
      const client = new SSOAdminClient({ region: REGION, credentials, maxAttempts: 1 });
      const store = new IdentitystoreClient({ region: REGION, credentials, maxAttempts: 1 });
      await client.send(new ListInstancesCommand({}));
      const id = await store.send(
        new GetUserIdCommand({
          IdentityStoreId: sandbox.state.identityCenter.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: "bob@acme.com" } },
        }),
      );
      expect(id.UserId).toBe(sandbox.state.identityCenter.userByName("bob@acme.com")?.userId);
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });
});

describe("identity store", () => {
  it("resolves a user name (exactly) and an email to the UserId; DescribeUser and ListUsers", async () => {
    const ic = sandbox.state.identityCenter;
    const alice = ic.userByName("alice@acme.com")!;
    for (const [path, value] of [
      ["userName", "alice@acme.com"],
      ["emails.value", "alice@acme.com"],
    ] as const) {
      const out = await ids().send(
        new GetUserIdCommand({
          IdentityStoreId: ic.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: path, AttributeValue: value } },
        }),
      );
      expect(out).toMatchObject({ UserId: alice.userId, IdentityStoreId: ic.identityStoreId });
    }
    const described = await ids().send(
      new DescribeUserCommand({ IdentityStoreId: ic.identityStoreId, UserId: alice.userId }),
    );
    expect(described).toMatchObject({ UserName: "alice@acme.com", DisplayName: "Alice" });
    const listed = await ids().send(
      new ListUsersCommand({
        IdentityStoreId: ic.identityStoreId,
        Filters: [{ AttributePath: "UserName", AttributeValue: "bob@acme.com" }],
      }),
    );
    expect(listed.Users?.map((u) => u.UserName)).toEqual(["bob@acme.com"]);
  });

  it("an unknown user (or another case of a known one) is ResourceNotFoundException; a bad attribute path is ValidationException", async () => {
    const ic = sandbox.state.identityCenter;
    const get = (AttributePath: string, AttributeValue: string) =>
      ids().send(
        new GetUserIdCommand({
          IdentityStoreId: ic.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath, AttributeValue } },
        }),
      );
    await expect(get("userName", "mallory@acme.com")).rejects.toBeInstanceOf(IdsNotFound);
    // Exact names only: the runbook resolves the configured name, never a look-alike.
    await expect(get("userName", "ALICE@acme.com")).rejects.toBeInstanceOf(IdsNotFound);
    await expect(get("displayName", "Alice")).rejects.toMatchObject({ name: "ValidationException" });
    await expect(
      ids().send(
        new GetUserIdCommand({
          IdentityStoreId: "d-0000000000",
          AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: "bob@acme.com" } },
        }),
      ),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});

describe("identity store groups (the eligibility marker)", () => {
  it("IsMemberInGroups answers per group on the JSON 1.1 shape; GetGroupMembershipId finds members only; unknown group or user is ResourceNotFoundException", async () => {
    const ic = sandbox.state.identityCenter;
    const eligible = ic.createGroup("elevate-eligible-wire");
    const other = ic.createGroup("other-wire");
    ic.addToGroup(eligible.groupId, "alice@acme.com");
    const alice = ic.userByName("alice@acme.com")!;
    const bob = ic.userByName("bob@acme.com")!;
    const ask = (userId: string, groupIds: string[], credentials?: Credentials) =>
      ids(credentials).send(
        new IsMemberInGroupsCommand({
          IdentityStoreId: ic.identityStoreId,
          MemberId: { UserId: userId },
          GroupIds: groupIds,
        }),
      );
    expect((await ask(alice.userId, [eligible.groupId, other.groupId])).Results).toEqual([
      { GroupId: eligible.groupId, MemberId: { UserId: alice.userId }, MembershipExists: true },
      { GroupId: other.groupId, MemberId: { UserId: alice.userId }, MembershipExists: false },
    ]);
    expect((await ask(bob.userId, [eligible.groupId])).Results?.[0]?.MembershipExists).toBe(false);
    const membership = await ids().send(
      new GetGroupMembershipIdCommand({
        IdentityStoreId: ic.identityStoreId,
        GroupId: eligible.groupId,
        MemberId: { UserId: alice.userId },
      }),
    );
    expect(membership).toMatchObject({ IdentityStoreId: ic.identityStoreId, MembershipId: expect.any(String) });
    await expect(
      ids().send(
        new GetGroupMembershipIdCommand({
          IdentityStoreId: ic.identityStoreId,
          GroupId: eligible.groupId,
          MemberId: { UserId: bob.userId },
        }),
      ),
    ).rejects.toBeInstanceOf(IdsNotFound);
    await expect(ask(alice.userId, ["5e1c4a3b-7f2d-4c6e-8a9b-0c1d2e3f4a5b"])).rejects.toBeInstanceOf(IdsNotFound);
    await expect(ask("5e1c4a3b-7f2d-4c6e-8a9b-0c1d2e3f4a5b", [eligible.groupId])).rejects.toBeInstanceOf(IdsNotFound);
    await expect(ask(alice.userId, [])).rejects.toMatchObject({ name: "ValidationException" });
    await expect(ask(alice.userId, ["not a group"])).rejects.toMatchObject({ name: "ValidationException" });
    // Removing the membership (and deleting a user) ends it.
    ic.removeFromGroup(eligible.groupId, "alice@acme.com");
    expect((await ask(alice.userId, [eligible.groupId])).Results?.[0]?.MembershipExists).toBe(false);

    // IAM: the caller needs identitystore:IsMemberInGroups on the store, every group asked about and the user.
    const iam = new IAMClient({ region: REGION, endpoint: sandbox.endpoint, credentials: sandbox.rootCredentials });
    await iam.send(new CreateUserCommand({ UserName: "group-checker" }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "group-checker",
        PolicyName: "check",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "identitystore:IsMemberInGroups",
              Resource: [
                ic.identityStoreArn,
                `arn:aws:identitystore:::group/${eligible.groupId}`,
                "arn:aws:identitystore:::user/*",
              ],
            },
          ],
        }),
      }),
    );
    const creds = sandbox.state.createAccessKey("group-checker", HUB);
    expect((await ask(bob.userId, [eligible.groupId], creds)).Results?.[0]?.MembershipExists).toBe(false);
    await expect(ask(bob.userId, [other.groupId], creds)).rejects.toThrow(
      new RegExp(
        `is not authorized to perform: identitystore:IsMemberInGroups on resource: arn:aws:identitystore:::group/${other.groupId}`,
      ),
    );
    await expect(ask(bob.userId, [eligible.groupId, other.groupId], creds)).rejects.toMatchObject({
      name: "AccessDeniedException",
    });
  });
});

describe("account assignments", () => {
  it("creation is asynchronous: IN_PROGRESS, then SUCCEEDED; the assignment and the member-account role appear only then", async () => {
    const ic = sandbox.state.identityCenter;
    ic.knobs.statusPolls = 2;
    const bob = ic.userByName("bob@acme.com")!;
    const client = sso();
    const created = await client.send(new CreateAccountAssignmentCommand(assignmentInput(bob.userId, readOnly)));
    expect(created.AccountAssignmentCreationStatus).toMatchObject({
      Status: "IN_PROGRESS",
      TargetId: MEMBER,
      TargetType: "AWS_ACCOUNT",
      PermissionSetArn: readOnly.arn,
      PrincipalType: "USER",
      PrincipalId: bob.userId,
    });
    const requestId = created.AccountAssignmentCreationStatus?.RequestId;
    expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const list = () =>
      client.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: ic.instanceArn,
          AccountId: MEMBER,
          PermissionSetArn: readOnly.arn,
        }),
      );
    expect((await list()).AccountAssignments).toEqual([]);
    // A second operation on the same assignment while one runs: ConflictException.
    await expect(
      client.send(new CreateAccountAssignmentCommand(assignmentInput(bob.userId, readOnly))),
    ).rejects.toBeInstanceOf(ConflictException);
    const describe = () =>
      client.send(
        new DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: ic.instanceArn,
          AccountAssignmentCreationRequestId: requestId,
        }),
      );
    expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
    expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
    expect((await describe()).AccountAssignmentCreationStatus?.Status).toBe("SUCCEEDED");
    expect((await list()).AccountAssignments).toEqual([
      { AccountId: MEMBER, PermissionSetArn: readOnly.arn, PrincipalType: "USER", PrincipalId: bob.userId },
    ]);
    const forPrincipal = await client.send(
      new ListAccountAssignmentsForPrincipalCommand({
        InstanceArn: ic.instanceArn,
        PrincipalId: bob.userId,
        PrincipalType: "USER",
      }),
    );
    expect(forPrincipal.AccountAssignments).toHaveLength(1);
    const role = ic.provisionedRole(MEMBER, readOnly.arn)!;
    expect(role.accountId).toBe(MEMBER);
    expect(role.roleName).toMatch(/^AWSReservedSSO_ReadOnly_[0-9a-f]{16}$/);
    expect(role.path).toBe(`/aws-reserved/sso.amazonaws.com/${REGION}/`);
    expect(role.maxSessionDuration).toBe(7200);
    expect(sandbox.state.role(role.roleName, HUB)).toBeUndefined();

    // Deletion is asynchronous too.
    const deleted = await client.send(new DeleteAccountAssignmentCommand(assignmentInput(bob.userId, readOnly)));
    expect(deleted.AccountAssignmentDeletionStatus?.Status).toBe("IN_PROGRESS");
    const deletionId = deleted.AccountAssignmentDeletionStatus?.RequestId;
    // A creation id is not a deletion id.
    await expect(
      client.send(
        new DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: ic.instanceArn,
          AccountAssignmentDeletionRequestId: requestId,
        }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    let status: string | undefined = "IN_PROGRESS";
    while (status === "IN_PROGRESS") {
      status = (
        await client.send(
          new DescribeAccountAssignmentDeletionStatusCommand({
            InstanceArn: ic.instanceArn,
            AccountAssignmentDeletionRequestId: deletionId,
          }),
        )
      ).AccountAssignmentDeletionStatus?.Status;
    }
    expect(status).toBe("SUCCEEDED");
    expect((await list()).AccountAssignments).toEqual([]);
    // Deleting what is not there.
    await expect(
      client.send(new DeleteAccountAssignmentCommand(assignmentInput(bob.userId, readOnly))),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("ListPermissionSetsProvisionedToAccount lists what an assignment provisioned in the account, paginated", async () => {
    const ic = sandbox.state.identityCenter;
    const account = "444444444444";
    sandbox.addAccount(account);
    const alice = ic.userByName("alice@acme.com")!;
    const list = (extra: { MaxResults?: number; NextToken?: string; ProvisioningStatus?: never } = {}) =>
      sso().send(
        new ListPermissionSetsProvisionedToAccountCommand({
          InstanceArn: ic.instanceArn,
          AccountId: account,
          ...extra,
        }),
      );
    expect((await list()).PermissionSets ?? []).toEqual([]);
    await assign(alice.userId, admin, account);
    await assign(alice.userId, readOnly, account);
    expect((await list()).PermissionSets).toEqual([admin.arn, readOnly.arn]);
    const first = await list({ MaxResults: 1 });
    expect(first.PermissionSets).toEqual([admin.arn]);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = await list({ MaxResults: 1, NextToken: first.NextToken as string });
    expect(second.PermissionSets).toEqual([readOnly.arn]);
    expect(second.NextToken).toBeUndefined();
    // Provisioned at their latest version: nothing is outdated ("not provisioned") in the sandbox.
    const outdated = await sso().send(
      new ListPermissionSetsProvisionedToAccountCommand({
        InstanceArn: ic.instanceArn,
        AccountId: account,
        ProvisioningStatus: "LATEST_PERMISSION_SET_NOT_PROVISIONED",
      }),
    );
    expect(outdated.PermissionSets ?? []).toEqual([]);
    // Another account's permission sets are not listed here.
    expect(ic.permissionSetsProvisionedTo(HUB)).not.toContain(admin.arn);
    await expect(
      sso().send(
        new ListPermissionSetsProvisionedToAccountCommand({
          InstanceArn: ic.instanceArn,
          AccountId: account,
          ProvisioningStatus: "PROVISIONED" as never,
        }),
      ),
    ).rejects.toBeInstanceOf(ValidationException);
    expect(sandbox.calls("ListPermissionSetsProvisionedToAccount", "sso")[0]?.principal).toBe(
      `arn:aws:iam::${HUB}:root`,
    );
  });

  it("a failure knob ends the operation FAILED with a reason; nothing is assigned", async () => {
    const ic = sandbox.state.identityCenter;
    const bob = ic.userByName("bob@acme.com")!;
    ic.knobs.failNextOperation("create", "Received a 409 status error: Conflict");
    const client = sso();
    const created = await client.send(new CreateAccountAssignmentCommand(assignmentInput(bob.userId, admin)));
    let out = created.AccountAssignmentCreationStatus;
    while (out?.Status === "IN_PROGRESS") {
      out = (
        await client.send(
          new DescribeAccountAssignmentCreationStatusCommand({
            InstanceArn: ic.instanceArn,
            AccountAssignmentCreationRequestId: out.RequestId,
          }),
        )
      ).AccountAssignmentCreationStatus;
    }
    expect(out).toMatchObject({ Status: "FAILED", FailureReason: "Received a 409 status error: Conflict" });
    expect(ic.hasAssignment("bob@acme.com", MEMBER, admin.arn)).toBe(false);
  });

  it("validates input like the API reference (enums, patterns, unknown permission set or principal, account outside the organisation)", async () => {
    const ic = sandbox.state.identityCenter;
    const bob = ic.userByName("bob@acme.com")!;
    const client = sso();
    const base = assignmentInput(bob.userId, admin);
    await expect(
      client.send(new CreateAccountAssignmentCommand({ ...base, TargetId: "12345" })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      client.send(new CreateAccountAssignmentCommand({ ...base, TargetId: "333333333333" })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      client.send(new CreateAccountAssignmentCommand({ ...base, PrincipalType: "ROLE" as never })),
    ).rejects.toBeInstanceOf(ValidationException);
    await expect(
      client.send(
        new CreateAccountAssignmentCommand({ ...base, PermissionSetArn: `${admin.arn.slice(0, -16)}0000000000000000` }),
      ),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(
      client.send(new CreateAccountAssignmentCommand({ ...base, PrincipalId: "00000000-0000-0000-0000-000000000000" })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(ic.operations.size).toBeGreaterThan(0);
  });

  it("knobs.failNext injects ThrottlingException (429) and ConflictException (409) on any call", async () => {
    sandbox.knobs.failNext("CreateAccountAssignment", "ConflictException");
    sandbox.knobs.failNext("ListAccountAssignments", "ThrottlingException");
    const ic = sandbox.state.identityCenter;
    const bob = ic.userByName("bob@acme.com")!;
    await expect(
      sso().send(new CreateAccountAssignmentCommand(assignmentInput(bob.userId, admin))),
    ).rejects.toMatchObject({
      name: "ConflictException",
      $metadata: { httpStatusCode: 409 },
    });
    await expect(
      sso().send(
        new ListAccountAssignmentsCommand({
          InstanceArn: ic.instanceArn,
          AccountId: MEMBER,
          PermissionSetArn: admin.arn,
        }),
      ),
    ).rejects.toMatchObject({ name: "ThrottlingException", $metadata: { httpStatusCode: 429 } });
  });
});

describe("IAM authorization of the caller", () => {
  it("allows exactly the permission sets and accounts the caller's policy names; identitystore needs its own actions", async () => {
    const ic = sandbox.state.identityCenter;
    const iam = new IAMClient({ region: REGION, endpoint: sandbox.endpoint, credentials: sandbox.rootCredentials });
    await iam.send(new CreateUserCommand({ UserName: "assigner" }));
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "assigner",
        PolicyName: "assign",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["sso:CreateAccountAssignment", "sso:DescribeAccountAssignmentCreationStatus"],
              Resource: [ic.instanceArn, readOnly.arn, `arn:aws:sso:::account/${MEMBER}`],
            },
          ],
        }),
      }),
    );
    const creds = sandbox.state.createAccessKey("assigner", HUB);
    const alice = ic.userByName("alice@acme.com")!;
    // Another permission set, another account: denied with AWS's wording.
    await expect(
      sso(creds).send(new CreateAccountAssignmentCommand(assignmentInput(alice.userId, admin))),
    ).rejects.toBeInstanceOf(AccessDeniedException);
    await expect(
      sso(creds).send(new CreateAccountAssignmentCommand(assignmentInput(alice.userId, readOnly, HUB))),
    ).rejects.toThrow(
      /is not authorized to perform: sso:CreateAccountAssignment on resource: arn:aws:sso:::account\/111111111111/,
    );
    await expect(
      ids(creds).send(
        new GetUserIdCommand({
          IdentityStoreId: ic.identityStoreId,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: "alice@acme.com" } },
        }),
      ),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
    const ok = await sso(creds).send(new CreateAccountAssignmentCommand(assignmentInput(alice.userId, readOnly)));
    expect(ok.AccountAssignmentCreationStatus?.Status).toBe("IN_PROGRESS");
    ic.settle();
    expect(ic.hasAssignment("alice@acme.com", MEMBER, readOnly.arn)).toBe(true);
    // A member account's own root cannot reach the hub's instance.
    await expect(
      sso(sandbox.rootCredentialsFor(MEMBER)).send(new ListPermissionSetsCommand({ InstanceArn: ic.instanceArn })),
    ).rejects.toBeInstanceOf(AccessDeniedException);
    await sso().send(new DeleteAccountAssignmentCommand(assignmentInput(alice.userId, readOnly)));
    ic.settle();
  });
});

describe("portal sign-in (using an assignment)", () => {
  it("refuses without an assignment; with one, gives AWSReservedSSO role credentials in the member account for SessionDuration", async () => {
    const ic = sandbox.state.identityCenter;
    const alice = ic.userByName("alice@acme.com")!;
    const input = { userName: "alice@acme.com", accountId: MEMBER, permissionSetArn: admin.arn };
    expect(() => ic.signIn(input)).toThrow(/no assignment/);
    await assign(alice.userId, admin);
    const session = ic.signIn(input);
    expect(session.credential.expiration?.getTime()).toBe(sandbox.clock.now().getTime() + 3600_000);
    const sts = new STSClient({
      region: REGION,
      endpoint: sandbox.endpoint,
      credentials: {
        accessKeyId: session.credential.accessKeyId,
        secretAccessKey: session.credential.secretAccessKey,
        sessionToken: session.credential.sessionToken!,
      },
      maxAttempts: 1,
    });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(MEMBER);
    expect(me.Arn).toMatch(
      new RegExp(`^arn:aws:sts::${MEMBER}:assumed-role/AWSReservedSSO_ProdAdmin_[0-9a-f]{16}/alice@acme.com$`),
    );

    // The assignment ends: new sign-ins are refused, the live session keeps working...
    const client = sso();
    const deleted = await client.send(new DeleteAccountAssignmentCommand(assignmentInput(alice.userId, admin)));
    ic.settle();
    expect(ic.operations.get(deleted.AccountAssignmentDeletionStatus!.RequestId!)?.status).toBe("SUCCEEDED");
    expect(() => ic.signIn(input)).toThrow(/no assignment/);
    sandbox.clock.advance(59 * 60_000);
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(MEMBER);
    // ...until its SessionDuration, and no longer.
    sandbox.clock.advance(60_000);
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({ name: "ExpiredToken" });
  });

  it("the AWSReservedSSO role is protected: IAM refuses to change or delete it (no cut-off can be written on it)", async () => {
    const ic = sandbox.state.identityCenter;
    const role = ic.provisionedRole(MEMBER, admin.arn)!;
    const iam = new IAMClient({
      region: REGION,
      endpoint: sandbox.endpoint,
      credentials: sandbox.rootCredentialsFor(MEMBER),
      maxAttempts: 1,
    });
    await expect(
      iam.send(
        new PutRolePolicyCommand({
          RoleName: role.roleName,
          PolicyName: "cutoff",
          PolicyDocument: JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }],
          }),
        }),
      ),
    ).rejects.toMatchObject({
      name: "UnmodifiableEntityException",
      message: expect.stringContaining("only modifiable by AWS"),
    });
    await expect(iam.send(new DeleteRoleCommand({ RoleName: role.roleName }))).rejects.toMatchObject({
      name: "UnmodifiableEntityException",
    });
  });
});
