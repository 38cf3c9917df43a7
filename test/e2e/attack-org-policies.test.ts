/**
 * The grant and revoke roles' own IAM policies (infra/template.yaml) against the actions
 * issue 15 brought in: called directly with the workflows' sessions (and a requester's
 * IAM user), evaluated by iam-simulate in the sandbox. Neither role may write an Identity
 * Center assignment or permission set, an identity store user, an Elevate schedule, nor
 * pass the scheduler or administration role to start a runbook as it: everything they
 * change goes through the runbooks. Each row asserts AccessDenied AND nothing changed.
 */

import { CreateUserCommand, IdentitystoreClient } from "@aws-sdk/client-identitystore";
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from "@aws-sdk/client-scheduler";
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  SSOAdminClient,
} from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Credentials } from "../../sandbox/aws/index.js";
import {
  type AttackWorld,
  at,
  eligibleIamUser,
  eligibleIdentityCenterUser,
  failure,
  finished,
  HUB,
  MEMBER,
  snapshot,
  start,
  startAttackWorld,
} from "./attack-org-support.js";

vi.setConfig({ testTimeout: 120_000 });

let world: AttackWorld;
let requester: Credentials;

beforeAll(async () => {
  world = await startAttackWorld();
  world.sandbox.state.identityCenter.knobs.statusPolls = 0;
  eligibleIdentityCenterUser(world, "carol@acme.com");
  requester = await eligibleIamUser(world, "kim");
  // A legitimate grant whose end schedule the rows try to delete.
  const started = await start(world.grantSsm, "Elevate-GrantPermissionSet", {
    AutomationAssumeRole: world.deployed.outputs.AutomationRoleArn!,
    RequestId: "carol-ps",
    UserName: "carol@acme.com",
    PermissionSetArn: world.prodAdmin.arn,
    AccountId: MEMBER,
    NotBefore: at(0),
    NotAfter: at(60),
  });
  if (!started.started) throw new Error(started.error);
  const record = await finished(world, started.id);
  if (record.status !== "Success") throw new Error(failure(record));
}, 120_000);

afterAll(async () => {
  await world?.close();
});

type Who = "grant role" | "revoke role" | "requester";

function credentialsOf(who: Who): Credentials | (() => Promise<unknown>) {
  if (who === "requester") return requester;
  return (who === "grant role" ? world.grantSsm : world.revokeSsm).config.credentials as () => Promise<unknown>;
}

function clientConfig(who: Who) {
  return {
    region: world.sandbox.region,
    endpoint: world.sandbox.endpoint,
    credentials: credentialsOf(who) as Credentials,
    maxAttempts: 1,
  };
}

const WHO: Who[] = ["grant role", "revoke role", "requester"];

const attacks: { attack: string; call: (who: Who) => Promise<unknown> }[] = [
  {
    attack: "sso:CreateAccountAssignment of a catalogued pair",
    call: (who) => {
      const ic = world.sandbox.state.identityCenter;
      return new SSOAdminClient(clientConfig(who)).send(
        new CreateAccountAssignmentCommand({
          InstanceArn: ic.instanceArn,
          TargetId: MEMBER,
          TargetType: "AWS_ACCOUNT",
          PermissionSetArn: world.prodAdmin.arn,
          PrincipalType: "USER",
          PrincipalId: ic.userByName("carol@acme.com")!.userId,
        }),
      );
    },
  },
  {
    attack: "sso:DeleteAccountAssignment of an Elevate grant",
    call: (who) => {
      const ic = world.sandbox.state.identityCenter;
      return new SSOAdminClient(clientConfig(who)).send(
        new DeleteAccountAssignmentCommand({
          InstanceArn: ic.instanceArn,
          TargetId: MEMBER,
          TargetType: "AWS_ACCOUNT",
          PermissionSetArn: world.prodAdmin.arn,
          PrincipalType: "USER",
          PrincipalId: ic.userByName("carol@acme.com")!.userId,
        }),
      );
    },
  },
  {
    attack: "sso:CreatePermissionSet",
    call: (who) =>
      new SSOAdminClient(clientConfig(who)).send(
        new CreatePermissionSetCommand({
          InstanceArn: world.sandbox.state.identityCenter.instanceArn,
          Name: "Mine",
          SessionDuration: "PT12H",
        }),
      ),
  },
  {
    attack: "identitystore:CreateUser",
    call: (who) =>
      new IdentitystoreClient(clientConfig(who)).send(
        new CreateUserCommand({
          IdentityStoreId: world.sandbox.state.identityCenter.identityStoreId,
          UserName: "mallory",
          DisplayName: "mallory",
          Name: { GivenName: "m", FamilyName: "m" },
        }),
      ),
  },
  {
    attack: "scheduler:DeleteSchedule of a grant's end (elevate/carol-ps)",
    call: (who) =>
      new SchedulerClient(clientConfig(who)).send(
        new DeleteScheduleCommand({ Name: "carol-ps", GroupName: "elevate" }),
      ),
  },
  {
    attack: "scheduler:CreateSchedule in group elevate as elevate-scheduler",
    call: (who) =>
      new SchedulerClient(clientConfig(who)).send(
        new CreateScheduleCommand({
          Name: "mine",
          GroupName: "elevate",
          ScheduleExpression: "at(2026-11-30T10:00:00)",
          FlexibleTimeWindow: { Mode: "OFF" },
          Target: {
            Arn: "arn:aws:scheduler:::aws-sdk:ssm:startAutomationExecution",
            RoleArn: `arn:aws:iam::${HUB}:role/elevate-scheduler`,
            Input: "{}",
          },
        }),
      ),
  },
];

describe("direct calls outside the runbooks", () => {
  const rows = WHO.flatMap((who) => attacks.map((a) => ({ who, ...a })));
  it.each(rows)("$who: $attack → AccessDenied; nothing changed", async ({ who, call }) => {
    const before = snapshot(world, ["kim"]);
    await expect(call(who)).rejects.toMatchObject({ name: expect.stringMatching(/^AccessDenied(Exception)?$/) });
    expect(snapshot(world, ["kim"])).toEqual(before);
  });
});

describe("iam:PassRole: only elevate-automation, only to SSM", () => {
  it.each([
    ["grant role", "Elevate-GrantPermissionSet", `arn:aws:iam::${HUB}:role/elevate-scheduler`],
    [
      "grant role",
      "Elevate-GrantPermissionSet",
      `arn:aws:iam::${HUB}:role/AWS-SystemsManager-AutomationAdministrationRole`,
    ],
    ["revoke role", "Elevate-RevokePermissionSet", `arn:aws:iam::${HUB}:role/elevate-scheduler`],
    [
      "revoke role",
      "Elevate-RevokePermissionSet",
      `arn:aws:iam::${HUB}:role/AWS-SystemsManager-AutomationAdministrationRole`,
    ],
    ["revoke role", "Elevate-RevokePermissionSet", `arn:aws:iam::${MEMBER}:role/elevate-member-cutoff`],
  ] as const)("%s: %s as %s → AccessDenied; nothing changed", async (who, document, roleArn) => {
    const ssm = who === "grant role" ? world.grantSsm : world.revokeSsm;
    const before = snapshot(world, ["kim"]);
    const params: Record<string, string> =
      document === "Elevate-GrantPermissionSet"
        ? {
            AutomationAssumeRole: roleArn,
            RequestId: "passrole",
            UserName: "carol@acme.com",
            PermissionSetArn: world.prodAdmin.arn,
            AccountId: MEMBER,
            NotBefore: at(0),
            NotAfter: at(60),
          }
        : {
            AutomationAssumeRole: roleArn,
            RequestId: "carol-ps",
            UserName: "carol@acme.com",
            PermissionSetArn: world.prodAdmin.arn,
            AccountId: MEMBER,
          };
    const started = await start(ssm, document, params);
    expect(started.started ? "started" : started.error).toMatch(/AccessDenied.*iam:PassRole/);
    expect(snapshot(world, ["kim"])).toEqual(before);
  });
});
