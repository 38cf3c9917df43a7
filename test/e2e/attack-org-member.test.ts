/**
 * Attacks on the many-accounts path (infra/member-template.yaml and its execution role,
 * Elevate-MemberCutoff / Elevate-MemberClearCutoff, Elevate-Revoke's RoleAccountId), by
 * the attackers the threat model names: stolen grant- or revoke-role sessions, a member
 * account's administrator (its root), a requester's IAM user and its role session, and
 * a writer of a PR branch (an OIDC token for another ref). Each row asserts the attack is
 * refused AND that nothing changed (attack-org-support.ts snapshot: grant and cut-off
 * policies in every account, schedules, assignments).
 */
import {
  CreateRoleCommand,
  DeleteRolePolicyCommand,
  type IAMClient,
  IAMClient as IamClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { CreateDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import type { Credentials } from "../../sandbox/aws/index.js";
import { cutoffPolicyText } from "../../src/domain/grant-policy.js";
import {
  type AttackWorld,
  at,
  BARE,
  EXAMPLE_ROLE,
  eligibleIamUser,
  failure,
  finished,
  HUB,
  iamOf,
  MEMBER,
  MEMBER_ROLE_ARN,
  MEMBER2,
  NOW,
  OUTSIDE,
  putCutoff,
  type Started,
  snapshot,
  start,
  startAttackWorld,
} from "./attack-org-support.js";

vi.setConfig({ testTimeout: 120_000 });

const ADMIN_ROLE = "AWS-SystemsManager-AutomationAdministrationRole";
const EXECUTION_ROLE = "elevate-member-cutoff";

let world: AttackWorld;
/** A cut-off an earlier revoke wrote on MEMBER's role for ivan (at 09:00). */
const IVAN_CUTOFF = cutoffPolicyText("ivan", NOW);

beforeAll(async () => {
  world = await startAttackWorld();
  await eligibleIamUser(world, "ivan");
  await eligibleIamUser(world, "judy");
  // A role outside PrivilegedRolePath in the member, as an organisation would have.
  const iam = iamOf(world, MEMBER);
  await iam.send(
    new CreateRoleCommand({
      RoleName: "OrganizationAccountAccessRole",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${HUB}:root` }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  iam.destroy();
  await putCutoff(world, MEMBER, EXAMPLE_ROLE, "elevate-cutoff-ivan", IVAN_CUTOFF);
  // The owner of an account outside the organisation makes a role of the member stack's
  // name that trusts the hub's administration role, and a role of the example's name.
  const outside = iamOf(world, OUTSIDE);
  await outside.send(
    new CreateRoleCommand({
      RoleName: EXECUTION_ROLE,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${HUB}:role/${ADMIN_ROLE}` },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    }),
  );
  await outside.send(
    new PutRolePolicyCommand({
      RoleName: EXECUTION_ROLE,
      PolicyName: "everything-here",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }],
      }),
    }),
  );
  await outside.send(
    new CreateRoleCommand({
      RoleName: EXAMPLE_ROLE,
      Path: "/elevated/",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${OUTSIDE}:root` }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  outside.destroy();
}, 120_000);

afterAll(async () => {
  await world?.close();
});

beforeEach(() => {
  world.sandbox.clock.set(NOW);
});

const automationRole = () => world.deployed.outputs.AutomationRoleArn!;

function revokeParameters(p: Partial<Record<string, string>>): Record<string, string> {
  return {
    AutomationAssumeRole: automationRole(),
    RequestId: "no-such-request",
    UserName: "ivan",
    RoleName: EXAMPLE_ROLE,
    CutOff: "true",
    RevokedAt: at(-600),
    StampAtRunTime: "false",
    RoleAccountId: MEMBER,
    StampNotAfter: "9999-12-31T23:59:59Z",
    CoveringRequests: "-",
    ...p,
  } as Record<string, string>;
}

/** The child executions (in member accounts) of an execution's multi-account steps. */
function children(parentId: string) {
  const { executions } = world.sandbox.state;
  const parents = [...executions.values()].filter(
    (e) => e.parentAutomationExecutionId === parentId || e.id === parentId,
  );
  return [...executions.values()].filter(
    (e) => e.accountId !== HUB && parents.some((p) => p.childExecutionIds?.includes(e.id)),
  );
}

async function wholeRun(started: Started) {
  if (!started.started) throw new Error(started.error);
  const record = await finished(world, started.id);
  for (const child of children(started.id)) await finished(world, child.id).catch(() => undefined);
  return record;
}

const rejected = (s: Started) => (s.started ? `started ${s.id}` : s.error);

describe("stolen workflow credentials cannot start the member runbooks, nor reach a member role directly", () => {
  const rows: {
    attacker: "grant" | "revoke";
    attack: string;
    document: string;
    params: () => Record<string, string>;
    targets?: boolean;
  }[] = [
    {
      attacker: "revoke",
      attack: "Elevate-MemberClearCutoff in the member (clear ivan's cut-off now)",
      document: "Elevate-MemberClearCutoff",
      params: () => ({ UserName: "ivan", RoleName: EXAMPLE_ROLE }),
      targets: true,
    },
    {
      attacker: "revoke",
      attack: "Elevate-MemberCutoff in the member (deny anyone's sessions)",
      document: "Elevate-MemberCutoff",
      params: () => ({ UserName: "judy", RoleName: EXAMPLE_ROLE, RevokedAt: at(0) }),
      targets: true,
    },
    {
      attacker: "revoke",
      attack: "Elevate-MemberCutoff in the hub itself",
      document: "Elevate-MemberCutoff",
      params: () => ({ UserName: "judy", RoleName: EXAMPLE_ROLE, RevokedAt: at(0) }),
    },
    {
      attacker: "grant",
      attack: "Elevate-MemberClearCutoff in the member",
      document: "Elevate-MemberClearCutoff",
      params: () => ({ UserName: "ivan", RoleName: EXAMPLE_ROLE }),
      targets: true,
    },
    {
      attacker: "grant",
      attack: "Elevate-Revoke with a member RoleAccountId",
      document: "Elevate-Revoke",
      params: () => revokeParameters({}),
    },
    {
      attacker: "revoke",
      attack: "Elevate-ExpireGrant (the scheduler role's runbook)",
      document: "Elevate-ExpireGrant",
      params: () => ({
        AutomationAssumeRole: automationRole(),
        RequestId: "no-such-request",
        UserName: "ivan",
        NotAfter: at(0),
      }),
    },
  ];

  it.each(rows)(
    "$attacker role: $attack → AccessDenied; nothing changed",
    async ({ attacker, document, params, targets }) => {
      const ssm = attacker === "grant" ? world.grantSsm : world.revokeSsm;
      const before = snapshot(world, ["ivan"]);
      const started = await start(
        ssm,
        document,
        params(),
        targets
          ? [{ Accounts: [MEMBER], Regions: [world.sandbox.region], ExecutionRoleName: EXECUTION_ROLE }]
          : undefined,
      );
      expect(rejected(started)).toMatch(/AccessDenied/);
      expect(snapshot(world, ["ivan"])).toEqual(before);
    },
  );

  it.each([
    ["grant", `arn:aws:iam::${HUB}:role/${ADMIN_ROLE}`],
    ["grant", `arn:aws:iam::${MEMBER}:role/${EXECUTION_ROLE}`],
    ["revoke", `arn:aws:iam::${HUB}:role/${ADMIN_ROLE}`],
    ["revoke", `arn:aws:iam::${MEMBER}:role/${EXECUTION_ROLE}`],
    ["revoke", `arn:aws:iam::${HUB}:role/elevate-automation`],
  ] as const)("%s role: sts:AssumeRole %s → AccessDenied", async (attacker, roleArn) => {
    const ssm = attacker === "grant" ? world.grantSsm : world.revokeSsm;
    const sts = new STSClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: ssm.config.credentials,
      maxAttempts: 1,
    });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "ivan" }))).rejects.toMatchObject({
      name: "AccessDenied",
    });
    sts.destroy();
  });

  it.each([
    {
      attacker: "grant" as const,
      attack: "Elevate-GrantPermissionSet run in the member as its execution role (TargetLocations)",
      document: "Elevate-GrantPermissionSet",
      params: () => ({
        AutomationAssumeRole: `arn:aws:iam::${MEMBER}:role/${EXECUTION_ROLE}`,
        RequestId: "tl-grant",
        UserName: "ivan",
        PermissionSetArn: world.prodAdmin.arn,
        AccountId: MEMBER,
        NotBefore: at(0),
        NotAfter: at(60),
      }),
      role: EXECUTION_ROLE,
    },
    {
      attacker: "revoke" as const,
      attack: "Elevate-Revoke run in the member as its execution role, deleting ivan's cut-off's floor",
      document: "Elevate-Revoke",
      params: () => revokeParameters({ AutomationAssumeRole: `arn:aws:iam::${MEMBER}:role/${EXECUTION_ROLE}` }),
      role: EXECUTION_ROLE,
    },
    {
      attacker: "revoke" as const,
      attack: "Elevate-Revoke run in the hub through the administration role as elevate-automation",
      document: "Elevate-Revoke",
      params: () => revokeParameters({}),
      role: "elevate-automation",
      account: HUB,
    },
  ])("$attacker role: $attack → the child is refused; nothing changed", async (row) => {
    const ssm = row.attacker === "grant" ? world.grantSsm : world.revokeSsm;
    const params = row.params();
    const before = snapshot(world, ["ivan"]);
    const started = await start(ssm, row.document, params, [
      {
        Accounts: ["account" in row ? row.account : MEMBER],
        Regions: [world.sandbox.region],
        ExecutionRoleName: row.role,
      },
    ]);
    if (started.started) {
      const record = await wholeRun(started);
      expect(record.status).toBe("Failed");
      expect(failure(record)).toMatch(/not authorized to perform: (iam:PassRole|sts:AssumeRole)/);
    } else {
      expect(started.error).toMatch(/AccessDenied/);
    }
    expect(snapshot(world, ["ivan"])).toEqual(before);
  });
});

describe("Elevate-Revoke's RoleAccountId path, with the revoke role's credentials", () => {
  const rows: { attack: string; params: () => Record<string, string>; refusedBy: RegExp }[] = [
    {
      attack: "a member role outside PrivilegedRolePath (OrganizationAccountAccessRole)",
      params: () => revokeParameters({ RoleName: "OrganizationAccountAccessRole" }),
      refusedBy: /not authorized to perform: iam:(GetRolePolicy|PutRolePolicy)/,
    },
    {
      attack: "the member's execution role itself",
      params: () => revokeParameters({ RoleName: EXECUTION_ROLE }),
      refusedBy: /not authorized to perform: iam:(GetRolePolicy|PutRolePolicy)/,
    },
    {
      attack: "an organisation account with no member stack",
      params: () => revokeParameters({ RoleAccountId: BARE }),
      refusedBy: /not authorized to perform: sts:AssumeRole.*no such role|elevate-member-cutoff/,
    },
    {
      attack: "a hub role that is not a privileged role (elevate-grant)",
      params: () => revokeParameters({ RoleAccountId: HUB, RoleName: "elevate-grant" }),
      refusedBy: /not authorized to perform: iam:(GetRolePolicy|PutRolePolicy)/,
    },
    {
      attack: "a RevokedAt years ahead in the member (lock judy out of the role, later grants included, for good)",
      params: () => revokeParameters({ UserName: "judy", RevokedAt: "2030-01-01T00:00:00Z" }),
      refusedBy: /^stampCutOff: .*RevokedAt 2030-01-01T00:00:00Z is more than an hour after this execution's time/,
    },
    {
      attack: "a RevokedAt years ahead on the hub's role, stamped at run time",
      params: () =>
        revokeParameters({
          UserName: "judy",
          RoleAccountId: HUB,
          StampAtRunTime: "true",
          RevokedAt: "2030-01-01T00:00:00Z",
        }),
      refusedBy: /^stampCutOff: .*is more than an hour after this execution's time/,
    },
    {
      attack: "a RevokedAt that is not a date (2026-13-45T99:99:99Z)",
      params: () => revokeParameters({ RevokedAt: "2026-13-45T99:99:99Z" }),
      refusedBy: /^stampCutOff: /,
    },
  ];

  it.each(rows)("refuses $attack; nothing changed", async ({ params, refusedBy }) => {
    const before = snapshot(world, ["ivan"]);
    const record = await wholeRun(await start(world.revokeSsm, "Elevate-Revoke", params()));
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(refusedBy);
    expect(snapshot(world, ["ivan"])).toEqual(before);
  });

  it("an earlier RevokedAt never moves a member cut-off back, and its clearing waits for the role's sessions to expire", async () => {
    const before = snapshot(world, ["ivan"]);
    const record = await wholeRun(
      await start(world.revokeSsm, "Elevate-Revoke", revokeParameters({ RevokedAt: at(-600) })),
    );
    expect(record.status, failure(record)).toBe("Success");
    expect(world.sandbox.state.rolePolicies(EXAMPLE_ROLE, MEMBER)["elevate-cutoff-ivan"]).toEqual(
      JSON.parse(IVAN_CUTOFF),
    );
    // The clearing it started in the member waits (NotYet) until 10:00, 09:00 + MaxSessionDuration.
    const clear = [...world.sandbox.state.executions.values()].find(
      (e) => e.documentName === "Elevate-MemberClearCutoff" && e.accountId === MEMBER,
    );
    expect(clear).toBeDefined();
    for (let i = 0; i < 500 && !clear?.steps.some((s) => s.StepName === "clearCutOff" && s.Outputs); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(clear?.steps.find((s) => s.StepName === "clearCutOff")?.Outputs?.Outcome).toEqual(["NotYet"]);
    expect(snapshot(world, ["ivan"])).toEqual(before);
  });

  it("Elevate-ClearCutoff (the hub's) cannot reach a member's cut-off", async () => {
    const before = snapshot(world, ["ivan"]);
    const record = await wholeRun(
      await start(world.revokeSsm, "Elevate-ClearCutoff", {
        AutomationAssumeRole: automationRole(),
        UserName: "ivan",
        RoleName: EXAMPLE_ROLE,
      }),
    );
    expect(record.accountId).toBe(HUB);
    expect(snapshot(world, ["ivan"])).toEqual(before);
  });

  it("an account outside the organisation: the hub's automation runs only as that account's own role, there; nothing in the organisation changes", async () => {
    const before = snapshot(world, ["ivan"]) as { roles: Record<string, unknown> };
    const record = await wholeRun(
      await start(world.revokeSsm, "Elevate-Revoke", revokeParameters({ RoleAccountId: OUTSIDE, RevokedAt: at(0) })),
    );
    const after = snapshot(world, ["ivan"]) as { roles: Record<string, unknown> };
    // What changed is in the outsider's own account, written with the outsider's own role.
    const changed = Object.keys(after.roles).filter(
      (k) => JSON.stringify(after.roles[k]) !== JSON.stringify(before.roles[k]),
    );
    expect(
      changed.every((k) => k.startsWith(`${OUTSIDE}/`)),
      changed.join(),
    ).toBe(true);
    expect({ ...after, roles: {} }).toEqual({ ...before, roles: {} });
    const child = [...world.sandbox.state.executions.values()].find(
      (e) => e.documentName === "Elevate-MemberCutoff" && e.accountId === OUTSIDE,
    );
    expect(child?.executedBy).toMatch(new RegExp(`^arn:aws:sts::${OUTSIDE}:assumed-role/${EXECUTION_ROLE}/`));
    expect(record.accountId).toBe(HUB);
  });
});

describe("a member account's administrator", () => {
  let memberRoot: Credentials;
  beforeAll(() => {
    memberRoot = world.sandbox.rootCredentialsFor(MEMBER);
  });

  it.each([
    `arn:aws:iam::${HUB}:role/${ADMIN_ROLE}`,
    `arn:aws:iam::${HUB}:role/elevate-automation`,
    `arn:aws:iam::${HUB}:role/elevate-grant`,
    `arn:aws:iam::${MEMBER2}:role/${EXECUTION_ROLE}`,
  ])("cannot assume %s", async (roleArn) => {
    const sts = new STSClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: memberRoot,
      maxAttempts: 1,
    });
    await expect(sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: "ivan" }))).rejects.toMatchObject({
      name: "AccessDenied",
    });
    sts.destroy();
  });

  it("cannot start the hub's runbooks (they are not shared) nor reach another member through its own multi-account automation", async () => {
    const ssm = new SSMClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: memberRoot,
      maxAttempts: 1,
    });
    const before = snapshot(world, ["ivan"]);
    const hubs = await start(ssm, "Elevate-MemberClearCutoff", { UserName: "ivan", RoleName: EXAMPLE_ROLE });
    expect(rejected(hubs)).toMatch(/AutomationDefinitionNotFound|InvalidDocument|not found/i);
    // Its own administration role (the fixed name, in its own account) and its own runbook
    // that deletes ivan's cut-off, aimed at the other member: that member trusts only the hub.
    const iam: IAMClient = new IamClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: memberRoot,
    });
    await iam.send(
      new CreateRoleCommand({
        RoleName: ADMIN_ROLE,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "ssm.amazonaws.com" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "aws:SourceAccount": MEMBER } },
            },
          ],
        }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: ADMIN_ROLE,
        PolicyName: "assume",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }],
        }),
      }),
    );
    iam.destroy();
    await putCutoff(world, MEMBER2, EXAMPLE_ROLE, "elevate-cutoff-ivan", IVAN_CUTOFF);
    const withCutoff = snapshot(world, ["ivan"]);
    await ssm.send(
      new CreateDocumentCommand({
        Name: "Uncut",
        DocumentType: "Automation",
        DocumentFormat: "YAML",
        Content: stringify({
          schemaVersion: "0.3",
          description: "delete a cut-off",
          mainSteps: [
            {
              name: "uncut",
              action: "aws:executeAwsApi",
              inputs: {
                Service: "iam",
                Api: "DeleteRolePolicy",
                RoleName: EXAMPLE_ROLE,
                PolicyName: "elevate-cutoff-ivan",
              },
              isEnd: true,
            },
          ],
        }),
      }),
    );
    const record = await wholeRun(
      await start(ssm, "Uncut", {}, [
        { Accounts: [MEMBER2], Regions: [world.sandbox.region], ExecutionRoleName: EXECUTION_ROLE },
      ]),
    );
    expect(record.status).toBe("Failed");
    expect(failure(record)).toMatch(/not authorized to perform: sts:AssumeRole/);
    expect(snapshot(world, ["ivan"])).toEqual(withCutoff);
    expect(before).not.toEqual(withCutoff);
    ssm.destroy();
  });
});

describe("a requester's IAM user and its role session", () => {
  it("neither the user nor a session cut off in the member can start a runbook, clear its own cut-off, or pose as another session name", async () => {
    const kimKeys = await eligibleIamUser(world, "kim");
    const grant = await start(world.grantSsm, "Elevate-Grant", {
      AutomationAssumeRole: automationRole(),
      RequestId: "kim-member",
      UserName: "kim",
      RoleArn: MEMBER_ROLE_ARN,
      NotBefore: at(0),
      NotAfter: at(60),
    });
    expect((await wholeRun(grant)).status).toBe("Success");
    const kimSts = new STSClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: kimKeys,
      maxAttempts: 1,
    });
    await expect(
      kimSts.send(new AssumeRoleCommand({ RoleArn: MEMBER_ROLE_ARN, RoleSessionName: "not-kim" })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    const session = await kimSts.send(new AssumeRoleCommand({ RoleArn: MEMBER_ROLE_ARN, RoleSessionName: "kim" }));
    kimSts.destroy();
    const revoke = await wholeRun(
      await start(
        world.revokeSsm,
        "Elevate-Revoke",
        revokeParameters({
          RequestId: "kim-member",
          UserName: "kim",
          StampAtRunTime: "true",
          RevokedAt: at(0),
        }),
      ),
    );
    expect(revoke.status, failure(revoke)).toBe("Success");
    const before = snapshot(world, ["kim"]);
    expect(Object.keys(world.sandbox.state.rolePolicies(EXAMPLE_ROLE, MEMBER))).toContain("elevate-cutoff-kim");
    // The user: no Elevate runbook.
    const kimSsm = new SSMClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: kimKeys,
      maxAttempts: 1,
    });
    for (const document of ["Elevate-MemberClearCutoff", "Elevate-ClearCutoff", "Elevate-Revoke"]) {
      expect(rejected(await start(kimSsm, document, { UserName: "kim", RoleName: EXAMPLE_ROLE }))).toMatch(
        /AccessDenied|ValidationException/,
      );
    }
    kimSsm.destroy();
    // The session the cut-off denies: it cannot delete the cut-off (nor anything else).
    const c = session.Credentials!;
    const memberIamAsKim = new IamClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
      maxAttempts: 1,
    });
    await expect(
      memberIamAsKim.send(new DeleteRolePolicyCommand({ RoleName: EXAMPLE_ROLE, PolicyName: "elevate-cutoff-kim" })),
    ).rejects.toMatchObject({ name: "AccessDenied" });
    memberIamAsKim.destroy();
    expect(snapshot(world, ["kim"])).toEqual(before);
  });
});

describe("a writer of a PR branch (not main)", () => {
  it.each([
    ["elevate-grant.yml", "refs/heads/attack", "push"],
    ["elevate-revoke.yml", "refs/heads/attack", "workflow_dispatch"],
    ["elevate-grant.yml", "refs/pull/7/merge", "pull_request"],
  ] as const)("an OIDC token of %s on %s (%s) gets no role", async (workflow, ref, eventName) => {
    const token = world.issuer.issue(
      {
        repository: "acme/elevate",
        eventName,
        ref,
        sha: "b".repeat(40),
        workflowPath: `.github/workflows/${workflow}`,
        actor: "mallory",
        runId: 8,
      },
      { audience: "sts.amazonaws.com", now: world.sandbox.clock.now() },
    );
    const sts = new STSClient({
      region: world.sandbox.region,
      endpoint: world.sandbox.endpoint,
      credentials: { accessKeyId: "", secretAccessKey: "" },
      signer: { sign: async (request) => request },
      maxAttempts: 1,
    });
    for (const roleArn of [world.deployed.outputs.GrantRoleArn!, world.deployed.outputs.RevokeRoleArn!]) {
      await expect(
        sts.send(
          new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: "run-8", WebIdentityToken: token }),
        ),
      ).rejects.toMatchObject({ name: "AccessDenied" });
    }
    sts.destroy();
  });
});
