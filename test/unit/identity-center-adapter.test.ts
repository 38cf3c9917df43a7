/**
 * The exact Identity Center calls the adapter makes (aws-sdk-client-mock): the catalogued
 * pairs' assignments (paginated, bounded concurrency, malformed answers refused), principal
 * id → UserName (cached per run, deleted users), and the permission-set runbook starts.
 */
import { DescribeUserCommand, IdentitystoreClient, ResourceNotFoundException } from "@aws-sdk/client-identitystore";
import { SSMClient, StartAutomationExecutionCommand } from "@aws-sdk/client-ssm";
import { ListAccountAssignmentsCommand, SSOAdminClient } from "@aws-sdk/client-sso-admin";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it } from "vitest";
import {
  createUserNameResolver,
  listCatalogAssignments,
  startGrantPermissionSet,
  startRevokePermissionSet,
} from "../../src/adapters/identity-center.js";
import { loadConfig } from "../../src/domain/config.js";
import { buildPermissionSetPlan, permissionSetGrantParameters } from "../../src/domain/permission-set-plan.js";
import { validateRequest } from "../../src/domain/request.js";
import { IC_CONFIG, IC_INSTANCE, IC_PERMISSION_SET } from "./domain-fixtures.js";

const sso = mockClient(SSOAdminClient);
const ids = mockClient(IdentitystoreClient);
const ssm = mockClient(SSMClient);
afterEach(() => {
  sso.reset();
  ids.reset();
  ssm.reset();
});

const PS2 = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-fedcba9876543210";
const USER_A = "906744f8-1011-70f2-6b9b-0a1b2c3d4e5f";
const USER_B = "d-0123456789-a1b2c3d4-0000-1111-2222-333344445555";

describe("listCatalogAssignments", () => {
  it("walks every page of every catalogued pair with exactly the instance, account and permission set", async () => {
    sso
      .on(ListAccountAssignmentsCommand, { AccountId: "210987654321", PermissionSetArn: IC_PERMISSION_SET })
      .resolvesOnce({
        AccountAssignments: [
          {
            AccountId: "210987654321",
            PermissionSetArn: IC_PERMISSION_SET,
            PrincipalType: "USER",
            PrincipalId: USER_A,
          },
        ],
        NextToken: "page-2",
      })
      .resolvesOnce({
        AccountAssignments: [
          {
            AccountId: "210987654321",
            PermissionSetArn: IC_PERMISSION_SET,
            PrincipalType: "GROUP",
            PrincipalId: USER_B,
          },
        ],
      });
    sso
      .on(ListAccountAssignmentsCommand, { AccountId: "111122223333", PermissionSetArn: PS2 })
      .resolves({ AccountAssignments: [] });
    const found = await listCatalogAssignments(new SSOAdminClient({ region: "ap-northeast-1" }), {
      instanceArn: IC_INSTANCE,
      pairs: [
        { permissionSetArn: IC_PERMISSION_SET, accountId: "210987654321" },
        { permissionSetArn: PS2, accountId: "111122223333" },
      ],
    });
    expect(found).toEqual([
      { permissionSetArn: IC_PERMISSION_SET, accountId: "210987654321", principalType: "USER", principalId: USER_A },
      { permissionSetArn: IC_PERMISSION_SET, accountId: "210987654321", principalType: "GROUP", principalId: USER_B },
    ]);
    const inputs = sso.commandCalls(ListAccountAssignmentsCommand).map((c) => c.args[0].input);
    expect(inputs).toHaveLength(3);
    expect(inputs).toContainEqual({
      InstanceArn: IC_INSTANCE,
      AccountId: "210987654321",
      PermissionSetArn: IC_PERMISSION_SET,
      MaxResults: 100,
    });
    expect(inputs).toContainEqual({
      InstanceArn: IC_INSTANCE,
      AccountId: "210987654321",
      PermissionSetArn: IC_PERMISSION_SET,
      MaxResults: 100,
      NextToken: "page-2",
    });
    expect(inputs).toContainEqual({
      InstanceArn: IC_INSTANCE,
      AccountId: "111122223333",
      PermissionSetArn: PS2,
      MaxResults: 100,
    });
  });

  it("keeps at most `concurrency` pairs in flight", async () => {
    let inFlight = 0;
    let most = 0;
    sso.on(ListAccountAssignmentsCommand).callsFake(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight--;
      return { AccountAssignments: [] };
    });
    const pairs = Array.from({ length: 20 }, (_, i) => ({
      permissionSetArn: IC_PERMISSION_SET,
      accountId: String(100000000000 + i),
    }));
    await listCatalogAssignments(new SSOAdminClient({ region: "ap-northeast-1" }), {
      instanceArn: IC_INSTANCE,
      pairs,
      concurrency: 3,
    });
    expect(most).toBe(3);
    expect(sso.commandCalls(ListAccountAssignmentsCommand)).toHaveLength(20);
  });

  it.each([
    ["no principal id", { PrincipalType: "USER" }],
    ["an empty principal id", { PrincipalType: "USER", PrincipalId: "" }],
    ["an unknown principal type", { PrincipalType: "ROLE", PrincipalId: USER_A }],
    ["another account's assignment", { PrincipalType: "USER", PrincipalId: USER_A, AccountId: "999999999999" }],
    ["another permission set's assignment", { PrincipalType: "USER", PrincipalId: USER_A, PermissionSetArn: PS2 }],
  ])("refuses an answer with %s instead of dropping it", async (_name, assignment) => {
    sso.on(ListAccountAssignmentsCommand).resolves({ AccountAssignments: [assignment as never] });
    await expect(
      listCatalogAssignments(new SSOAdminClient({ region: "ap-northeast-1" }), {
        instanceArn: IC_INSTANCE,
        pairs: [{ permissionSetArn: IC_PERMISSION_SET, accountId: "210987654321" }],
      }),
    ).rejects.toThrow(/ListAccountAssignments for arn:aws:sso:::permissionSet\/.* in 210987654321 returned/);
  });

  it("passes hostile principal ids through as data, unaltered", async () => {
    const hostile = ['"; DROP', "../../etc", "\u202eresu", "a".repeat(300)];
    sso.on(ListAccountAssignmentsCommand).resolves({
      AccountAssignments: hostile.map((id) => ({ PrincipalType: "USER", PrincipalId: id })),
    });
    const found = await listCatalogAssignments(new SSOAdminClient({ region: "ap-northeast-1" }), {
      instanceArn: IC_INSTANCE,
      pairs: [{ permissionSetArn: IC_PERMISSION_SET, accountId: "210987654321" }],
    });
    expect(found.map((a) => a.principalId)).toEqual(hostile);
  });
});

describe("createUserNameResolver", () => {
  it("asks DescribeUser once per principal id per run, with exactly the identity store and user id", async () => {
    ids
      .on(DescribeUserCommand, { UserId: USER_A })
      .resolves({ UserId: USER_A, UserName: "dora@acme.com", IdentityStoreId: "d-0123456789" });
    const userName = createUserNameResolver(new IdentitystoreClient({ region: "ap-northeast-1" }), "d-0123456789");
    const names = await Promise.all([userName(USER_A), userName(USER_A), userName(USER_A)]);
    expect(names).toEqual(["dora@acme.com", "dora@acme.com", "dora@acme.com"]);
    expect(ids.commandCalls(DescribeUserCommand).map((c) => c.args[0].input)).toEqual([
      { IdentityStoreId: "d-0123456789", UserId: USER_A },
    ]);
  });

  it("a deleted user resolves to undefined; other errors surface", async () => {
    ids
      .on(DescribeUserCommand, { UserId: USER_A })
      .rejects(new ResourceNotFoundException({ message: "no such user", $metadata: {} }));
    ids.on(DescribeUserCommand, { UserId: USER_B }).rejects(new Error("AccessDeniedException"));
    const userName = createUserNameResolver(new IdentitystoreClient({ region: "ap-northeast-1" }), "d-0123456789");
    await expect(userName(USER_A)).resolves.toBeUndefined();
    await expect(userName(USER_B)).rejects.toThrow(/AccessDenied/);
  });

  it("returns a hostile UserName as AWS gave it (the domain compares; nothing here interprets it)", async () => {
    ids
      .on(DescribeUserCommand)
      .resolves({ UserId: USER_A, UserName: "x\n## injected", IdentityStoreId: "d-0123456789" });
    const userName = createUserNameResolver(new IdentitystoreClient({ region: "ap-northeast-1" }), "d-0123456789");
    await expect(userName(USER_A)).resolves.toBe("x\n## injected");
  });
});

describe("permission-set runbook starts", () => {
  const config = loadConfig(IC_CONFIG, "cfg.yml").config;
  if (!config) throw new Error("fixture");

  it("Elevate-GrantPermissionSet: exactly the contract's parameters, $LATEST, the client token", async () => {
    ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-1" });
    const { request } = validateRequest({
      text: "requester: dora\nrole: prod-admin\nduration: 1h\nreason: Repair the prod database INC-77\n",
      path: "requests/prod-admin/fix-prod-db.yaml",
      config,
      now: new Date("2026-11-30T08:00:00Z"),
    });
    if (!request) throw new Error("fixture");
    const planned = buildPermissionSetPlan(request, config, new Date("2026-11-30T08:00:00Z"));
    if (!planned.ok) throw new Error(planned.message);
    const id = await startGrantPermissionSet(new SSMClient({ region: "ap-northeast-1" }), {
      parameters: permissionSetGrantParameters(config, planned.plan),
      clientToken: "4f1d1d2e-0000-5000-8000-000000000000",
    });
    expect(id).toBe("exec-1");
    expect(ssm.commandCalls(StartAutomationExecutionCommand).map((c) => c.args[0].input)).toEqual([
      {
        DocumentName: "Elevate-GrantPermissionSet",
        DocumentVersion: "$LATEST",
        ClientToken: "4f1d1d2e-0000-5000-8000-000000000000",
        Parameters: {
          AutomationAssumeRole: ["arn:aws:iam::123456789012:role/elevate-automation"],
          RequestId: ["fix-prod-db"],
          UserName: ["dora@acme.com"],
          PermissionSetArn: [IC_PERMISSION_SET],
          AccountId: ["210987654321"],
          NotBefore: ["2026-11-30T08:00:00Z"],
          NotAfter: ["2026-11-30T09:00:00Z"],
        },
      },
    ]);
  });

  it("Elevate-RevokePermissionSet: the contract's parameters, NotAfter left at its default (now)", async () => {
    ssm.on(StartAutomationExecutionCommand).resolves({ AutomationExecutionId: "exec-2" });
    await startRevokePermissionSet(new SSMClient({ region: "ap-northeast-1" }), {
      automationRoleArn: "arn:aws:iam::123456789012:role/elevate-automation",
      requestId: "fix-prod-db",
      userName: "dora@acme.com",
      permissionSetArn: IC_PERMISSION_SET,
      accountId: "210987654321",
      clientToken: "4f1d1d2e-0000-5000-8000-000000000001",
    });
    expect(ssm.commandCalls(StartAutomationExecutionCommand)[0]?.args[0].input).toEqual({
      DocumentName: "Elevate-RevokePermissionSet",
      DocumentVersion: "$LATEST",
      ClientToken: "4f1d1d2e-0000-5000-8000-000000000001",
      Parameters: {
        AutomationAssumeRole: ["arn:aws:iam::123456789012:role/elevate-automation"],
        RequestId: ["fix-prod-db"],
        UserName: ["dora@acme.com"],
        PermissionSetArn: [IC_PERMISSION_SET],
        AccountId: ["210987654321"],
      },
    });
  });
});
