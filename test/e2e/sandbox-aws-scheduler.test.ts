/**
 * The sandbox's EventBridge Scheduler, driven by the real @aws-sdk/client-scheduler
 * over REST-JSON: the calls Elevate makes (CreateSchedule, GetSchedule,
 * DeleteSchedule, ListSchedules, and CreateScheduleGroup for the stack), its
 * errors, its authorization, and one-time schedules firing a universal target
 * (SSM StartAutomationExecution) when the sandbox clock moves, with the knobs
 * that drop, fail, duplicate or delay an invocation.
 */
import {
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from "@aws-sdk/client-scheduler";
import { CreateDocumentCommand, SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/index.js";

const ACCOUNT = "123456789012";
const REGION = "ap-northeast-1";
const GROUP = "elevate";
const SCHEDULER_ROLE = `arn:aws:iam::${ACCOUNT}:role/fixture-scheduler`;
const AUTOMATION_ROLE = `arn:aws:iam::${ACCOUNT}:role/fixture-automation`;
const TARGET = "arn:aws:scheduler:::aws-sdk:ssm:startAutomationExecution";
const START = new Date("2026-11-30T08:00:00Z");

/** A runbook that writes one marker policy on a user: proof the schedule ran it. */
const markerDocument = {
  schemaVersion: "0.3",
  description: "Scheduler fixture",
  assumeRole: "{{ AutomationAssumeRole }}",
  parameters: {
    AutomationAssumeRole: { type: "String", allowedPattern: "^arn:aws:iam::\\d{12}:role/[\\w+=,.@/-]+$" },
    Marker: { type: "String", allowedPattern: "^[a-z0-9-]{1,40}$" },
  },
  mainSteps: [
    {
      name: "mark",
      action: "aws:executeAwsApi",
      inputs: {
        Service: "iam",
        Api: "PutUserPolicy",
        UserName: "marked",
        PolicyName: "{{ Marker }}",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Deny", Action: "s3:GetObject", Resource: "*" }],
        }),
      },
      isEnd: true,
    },
  ],
};

let aws: AwsSandbox;
let scheduler: SchedulerClient;
let creator: Credentials;

function client(credentials: Credentials): SchedulerClient {
  return new SchedulerClient({ region: REGION, endpoint: aws.endpoint, credentials, maxAttempts: 1 });
}

function oneTime(name: string, at: string, marker = name, extra: Partial<CreateScheduleCommandInput> = {}) {
  return new CreateScheduleCommand({
    Name: name,
    GroupName: GROUP,
    ScheduleExpression: `at(${at})`,
    ScheduleExpressionTimezone: "UTC",
    FlexibleTimeWindow: { Mode: "OFF" },
    ActionAfterCompletion: "DELETE",
    Target: {
      Arn: TARGET,
      RoleArn: SCHEDULER_ROLE,
      Input: JSON.stringify({
        DocumentName: "Fixture-Mark",
        Parameters: { AutomationAssumeRole: [AUTOMATION_ROLE], Marker: [marker] },
      }),
    },
    ...extra,
  });
}

function markers(): string[] {
  return Object.keys(aws.state.userPolicies("marked")).sort();
}

beforeAll(async () => {
  aws = await startAwsSandbox({ now: START, clockMode: "frozen" });
  const root = aws.rootCredentials;
  const iam = new IAMClient({ region: REGION, endpoint: aws.endpoint, credentials: root });
  await iam.send(new CreateUserCommand({ UserName: "marked" }));
  await iam.send(
    new CreateRoleCommand({
      RoleName: "fixture-automation",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "ssm.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: "fixture-automation",
      PolicyName: "mark",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "iam:PutUserPolicy", Resource: `arn:aws:iam::${ACCOUNT}:user/marked` }],
      }),
    }),
  );
  // The execution role, trusted by Scheduler only for this account's "elevate" group.
  await iam.send(
    new CreateRoleCommand({
      RoleName: "fixture-scheduler",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "scheduler.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: {
              StringEquals: {
                "aws:SourceAccount": ACCOUNT,
                "aws:SourceArn": `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${GROUP}`,
              },
            },
          },
        ],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: "fixture-scheduler",
      PolicyName: "start-fixture",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "ssm:StartAutomationExecution",
            Resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:automation-definition/Fixture-Mark:*`,
          },
          {
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: AUTOMATION_ROLE,
            Condition: { StringEquals: { "iam:PassedToService": "ssm.amazonaws.com" } },
          },
        ],
      }),
    }),
  );
  // A caller allowed only Elevate's group, and to pass only the scheduler role.
  await iam.send(new CreateUserCommand({ UserName: "creator" }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: "creator",
      PolicyName: "schedules",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["scheduler:CreateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"],
            Resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${GROUP}/*`,
          },
          {
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: SCHEDULER_ROLE,
            Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
          },
        ],
      }),
    }),
  );
  creator = aws.state.createAccessKey("creator");
  const ssm = new SSMClient({ region: REGION, endpoint: aws.endpoint, credentials: root });
  await ssm.send(
    new CreateDocumentCommand({
      Name: "Fixture-Mark",
      DocumentType: "Automation",
      DocumentFormat: "YAML",
      Content: stringify(markerDocument),
    }),
  );
  scheduler = client(root);
  await scheduler.send(new CreateScheduleGroupCommand({ Name: GROUP }));
});

afterAll(async () => {
  await aws?.close();
});

beforeEach(async () => {
  aws.knobs.reset();
  aws.clock.set(START);
  for (const s of [...aws.state.schedules.values()]) {
    await scheduler.send(new DeleteScheduleCommand({ Name: s.name, GroupName: s.groupName }));
  }
  aws.state.user("marked")?.inlinePolicies.clear();
});

describe("Scheduler wire protocol (REST-JSON)", () => {
  it("creates, gets, lists and deletes a one-time schedule", async () => {
    const created = await scheduler.send(oneTime("wire-1", "2026-11-30T09:00:00"));
    expect(created.ScheduleArn).toBe(`arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${GROUP}/wire-1`);
    const got = await scheduler.send(new GetScheduleCommand({ Name: "wire-1", GroupName: GROUP }));
    expect(got).toMatchObject({
      Arn: created.ScheduleArn,
      Name: "wire-1",
      GroupName: GROUP,
      ScheduleExpression: "at(2026-11-30T09:00:00)",
      ScheduleExpressionTimezone: "UTC",
      State: "ENABLED",
      ActionAfterCompletion: "DELETE",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: { Arn: TARGET, RoleArn: SCHEDULER_ROLE },
    });
    expect(got.CreationDate).toEqual(START);
    await scheduler.send(oneTime("wire-2", "2026-11-30T10:00:00"));
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: GROUP, NamePrefix: "wire-" }));
    expect(listed.Schedules?.map((s) => s.Name)).toEqual(["wire-1", "wire-2"]);
    expect(listed.Schedules?.[0]).toMatchObject({ GroupName: GROUP, State: "ENABLED", Target: { Arn: TARGET } });
    const paged = await scheduler.send(new ListSchedulesCommand({ GroupName: GROUP, MaxResults: 1 }));
    expect(paged.Schedules).toHaveLength(1);
    const rest = await scheduler.send(new ListSchedulesCommand({ GroupName: GROUP, NextToken: paged.NextToken }));
    expect(rest.Schedules?.map((s) => s.Name)).toEqual(["wire-2"]);
    await scheduler.send(new DeleteScheduleCommand({ Name: "wire-1", GroupName: GROUP }));
    await expect(scheduler.send(new GetScheduleCommand({ Name: "wire-1", GroupName: GROUP }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it("answers with the modeled errors: not found, conflict, validation", async () => {
    const missing = await scheduler
      .send(new DeleteScheduleCommand({ Name: "nope", GroupName: GROUP }))
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    expect((missing as Error).message).toBe("Schedule nope does not exist.");
    await expect(scheduler.send(new GetScheduleCommand({ Name: "x", GroupName: "no-such-group" }))).rejects.toThrow(
      "Schedule group no-such-group does not exist.",
    );
    await scheduler.send(oneTime("dup", "2026-11-30T09:00:00"));
    const again = await scheduler.send(oneTime("dup", "2026-11-30T09:00:00")).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ConflictException);
    expect((again as ConflictException).$metadata.httpStatusCode).toBe(409);
    // The same idempotency token is a retry, not a second schedule.
    await scheduler.send(oneTime("token", "2026-11-30T09:00:00", "token", { ClientToken: "t-1" }));
    await expect(
      scheduler.send(oneTime("token", "2026-11-30T09:00:00", "token", { ClientToken: "t-1" })),
    ).resolves.toMatchObject({ ScheduleArn: expect.stringContaining("/token") });
    for (const bad of ["at(2026-11-31T09:00:00)", "at(2026-11-30 09:00:00)", "tomorrow"]) {
      await expect(scheduler.send(oneTime("bad", "x", "bad", { ScheduleExpression: bad }))).rejects.toBeInstanceOf(
        ValidationException,
      );
    }
    await expect(scheduler.send(oneTime("bad name!", "2026-11-30T09:00:00"))).rejects.toBeInstanceOf(
      ValidationException,
    );
    // Read-only actions are not universal targets.
    await expect(
      scheduler.send(
        oneTime("readonly", "2026-11-30T09:00:00", "readonly", {
          Target: { Arn: "arn:aws:scheduler:::aws-sdk:ssm:getAutomationExecution", RoleArn: SCHEDULER_ROLE },
        }),
      ),
    ).rejects.toThrow("read-only");
  });

  it("authorizes like AWS: the schedule ARN for CreateSchedule and PassRole to scheduler.amazonaws.com", async () => {
    const limited = client(creator);
    await expect(limited.send(oneTime("mine", "2026-11-30T09:00:00"))).resolves.toBeDefined();
    await expect(limited.send(oneTime("other", "2026-11-30T09:00:00", "x", { GroupName: "default" }))).rejects.toThrow(
      /not authorized to perform: scheduler:CreateSchedule on resource: arn:aws:scheduler:ap-northeast-1:123456789012:schedule\/default\/other/,
    );
    await expect(
      limited.send(
        oneTime("passes-other", "2026-11-30T09:00:00", "x", {
          Target: { Arn: TARGET, RoleArn: AUTOMATION_ROLE, Input: "{}" },
        }),
      ),
    ).rejects.toThrow(/iam:PassRole/);
    await expect(limited.send(new ListSchedulesCommand({}))).rejects.toMatchObject({
      name: "AccessDeniedException",
      $metadata: { httpStatusCode: 403 },
    });
  });
});

describe("one-time schedules fire when the clock moves", () => {
  it("fires at the end of the schedule's minute, starts the runbook as the execution role, then deletes itself", async () => {
    await scheduler.send(oneTime("fire", "2026-11-30T09:00:00", "fired"));
    aws.clock.set(new Date("2026-11-30T09:00:00Z"));
    await aws.state.settleSchedules();
    // 60-second precision: AWS may wait until 09:00:59; the sandbox does.
    expect(markers()).toEqual([]);
    aws.clock.set(new Date("2026-11-30T09:00:59Z"));
    await aws.state.settleSchedules();
    expect(markers()).toEqual(["fired"]);
    const invocation = aws.state.scheduleInvocations.at(-1)!;
    expect(invocation).toMatchObject({ name: "fire", outcome: "Invoked", targetArn: TARGET });
    const executionId = invocation.response?.AutomationExecutionId as string;
    const execution = aws.state.executions.get(executionId)!;
    expect(execution.status).toBe("Success");
    expect(execution.executedBy).toMatch(/^arn:aws:sts::123456789012:assumed-role\/fixture-scheduler\//);
    // ActionAfterCompletion DELETE.
    await expect(scheduler.send(new GetScheduleCommand({ Name: "fire", GroupName: GROUP }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
    // Never twice, however often the clock moves.
    aws.clock.advance(3_600_000);
    await aws.state.settleSchedules();
    expect(aws.state.scheduleInvocations.filter((i) => i.name === "fire")).toHaveLength(1);
  });

  it("keeps a completed schedule with ActionAfterCompletion NONE, and never fires a deleted or disabled one", async () => {
    await scheduler.send(oneTime("kept", "2026-11-30T09:00:00", "kept", { ActionAfterCompletion: "NONE" }));
    await scheduler.send(oneTime("deleted", "2026-11-30T09:00:00", "deleted"));
    await scheduler.send(oneTime("disabled", "2026-11-30T09:00:00", "disabled", { State: "DISABLED" }));
    await scheduler.send(new DeleteScheduleCommand({ Name: "deleted", GroupName: GROUP }));
    aws.clock.set(new Date("2026-11-30T09:05:00Z"));
    await aws.state.settleSchedules();
    expect(markers()).toEqual(["kept"]);
    await expect(scheduler.send(new GetScheduleCommand({ Name: "kept", GroupName: GROUP }))).resolves.toMatchObject({
      State: "ENABLED",
    });
  });

  it("waits out a flexible time window to its end", async () => {
    await scheduler.send(
      oneTime("flex", "2026-11-30T09:00:00", "flex", {
        FlexibleTimeWindow: { Mode: "FLEXIBLE", MaximumWindowInMinutes: 15 },
      }),
    );
    aws.clock.set(new Date("2026-11-30T09:14:00Z"));
    await aws.state.settleSchedules();
    expect(markers()).toEqual([]);
    aws.clock.set(new Date("2026-11-30T09:16:00Z"));
    await aws.state.settleSchedules();
    expect(markers()).toEqual(["flex"]);
  });

  it("reports a target the execution role may not call as a failed invocation", async () => {
    await scheduler.send(
      oneTime("denied", "2026-11-30T09:00:00", "denied", {
        Target: {
          Arn: TARGET,
          RoleArn: SCHEDULER_ROLE,
          Input: JSON.stringify({ DocumentName: "Other-Doc", Parameters: {} }),
        },
      }),
    );
    aws.clock.set(new Date("2026-11-30T09:01:00Z"));
    await aws.state.settleSchedules();
    expect(aws.state.scheduleInvocations.at(-1)).toMatchObject({
      name: "denied",
      outcome: "Failed",
      errorCode: "AccessDeniedException",
    });
  });

  it("knobs: drop, fail, duplicate and delay an invocation", async () => {
    for (const name of ["dropped", "failed", "twice", "late"]) {
      await scheduler.send(oneTime(name, "2026-11-30T09:00:00", name));
    }
    // Invocations are taken in schedule order (all due at once here: by name).
    aws.knobs.invocationDelayMs = 10 * 60_000;
    aws.clock.set(new Date("2026-11-30T09:05:00Z"));
    await aws.state.settleSchedules();
    expect(markers()).toEqual([]);
    aws.knobs.invocationDelayMs = 0;
    aws.knobs.dropNextInvocation();
    aws.knobs.failNextInvocation("InternalServerException");
    aws.knobs.duplicateNextInvocation();
    await aws.state.settleSchedules();
    const byName = (n: string) => aws.state.scheduleInvocations.filter((i) => i.name === n).map((i) => i.outcome);
    const outcomes = ["dropped", "failed", "late", "twice"].map((n) => [n, byName(n)]);
    // Sorted by fire time, ties in insertion order: dropped, failed, twice (duplicated), late.
    expect(Object.fromEntries(outcomes)).toEqual({
      dropped: ["Dropped"],
      failed: ["Failed"],
      twice: ["Invoked", "Invoked"],
      late: ["Invoked"],
    });
    expect(markers()).toEqual(["late", "twice"]);
    expect(aws.state.schedules.size).toBe(0);
  });

  it("does not invoke a one-time schedule created after its minute has passed", async () => {
    aws.clock.set(new Date("2026-11-30T10:00:00Z"));
    await scheduler.send(oneTime("past", "2026-11-30T09:00:00", "past", { ActionAfterCompletion: "NONE" }));
    aws.clock.advance(60_000);
    await aws.state.settleSchedules();
    expect(markers()).toEqual([]);
  });
});
