/**
 * The sandbox's SSM multi-account execution (sandbox/aws/multi-account.ts):
 * StartAutomationExecution and aws:executeAutomation with TargetLocations run a
 * child in each target account as that account's execution role, which the
 * central account's administration role assumes (trust in the target, identity
 * policy in the central account). Cross-account AssumeRole itself is pinned in
 * sandbox-aws-sts.test.ts.
 */
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import {
  CreateDocumentCommand,
  DescribeAutomationExecutionsCommand,
  GetAutomationExecutionCommand,
  type GetAutomationExecutionCommandOutput,
  SSMClient,
  StartAutomationExecutionCommand,
} from "@aws-sdk/client-ssm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type AwsSandbox, startAwsSandbox } from "../../sandbox/aws/index.js";
import { ADMINISTRATION_ROLE_NAME } from "../../sandbox/aws/multi-account.js";

const HUB = "111111111111";
const MEMBER = "222222222222";
const OTHER = "333333333333";
const EXECUTION_ROLE = "member-execution";

const trust = (principal: Record<string, string>, condition?: unknown) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: principal,
        Action: "sts:AssumeRole",
        ...(condition ? { Condition: condition } : {}),
      },
    ],
  });
const policy = (statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement: statement });

/** Runs in the member: writes a marker policy on a role there, as its caller (no assumeRole). */
const memberDocument = {
  schemaVersion: "0.3",
  description: "mark a role",
  parameters: { RoleName: { type: "String", allowedPattern: "^[\\w+=,.@-]{1,64}$" } },
  mainSteps: [
    {
      name: "mark",
      action: "aws:executeAwsApi",
      inputs: {
        Service: "iam",
        Api: "PutRolePolicy",
        RoleName: "{{ RoleName }}",
        PolicyName: "marker",
        PolicyDocument: policy([{ Effect: "Deny", Action: "*", Resource: "*" }]),
      },
    },
    {
      name: "whoAmI",
      action: "aws:executeAwsApi",
      inputs: { Service: "sts", Api: "GetCallerIdentity" },
      outputs: [{ Name: "Arn", Selector: "$.Arn", Type: "String" }],
      isEnd: true,
    },
  ],
  outputs: ["whoAmI.Arn"],
};

/** Runs in the hub with its service role: starts memberDocument in one account through aws:executeAutomation. */
const primaryDocument = {
  schemaVersion: "0.3",
  description: "fan out",
  assumeRole: "{{ AutomationAssumeRole }}",
  parameters: {
    AutomationAssumeRole: { type: "String" },
    Account: { type: "String", allowedPattern: "^[0-9]{12}$" },
  },
  mainSteps: [
    {
      name: "inMember",
      action: "aws:executeAutomation",
      inputs: {
        DocumentName: "Mark",
        RuntimeParameters: { RoleName: ["target"] },
        TargetLocations: [
          { Accounts: ["{{ Account }}"], Regions: ["{{ global:REGION }}"], ExecutionRoleName: EXECUTION_ROLE },
        ],
      },
      isEnd: true,
    },
  ],
  outputs: ["inMember.Status"],
};

let aws: AwsSandbox;
let hubIam: IAMClient;
let ssm: SSMClient;

async function until(id: string): Promise<GetAutomationExecutionCommandOutput> {
  const exec = await aws.state.waitForExecution(id);
  for (const childId of exec.childExecutionIds ?? []) await aws.state.waitForExecution(childId);
  await aws.state.waitForExecution(id);
  return ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: id }));
}

beforeEach(async () => {
  aws = await startAwsSandbox({
    accountIds: [HUB, MEMBER, OTHER],
    clockMode: "frozen",
    now: new Date("2026-11-30T08:00:00Z"),
  });
  const endpoint = aws.endpoint;
  hubIam = new IAMClient({ region: aws.region, endpoint, credentials: aws.rootCredentials });
  ssm = new SSMClient({ region: aws.region, endpoint, credentials: aws.rootCredentials });
  await hubIam.send(
    new CreateRoleCommand({
      RoleName: ADMINISTRATION_ROLE_NAME,
      AssumeRolePolicyDocument: trust({ Service: "ssm.amazonaws.com" }, { StringEquals: { "aws:SourceAccount": HUB } }),
    }),
  );
  await hubIam.send(
    new PutRolePolicyCommand({
      RoleName: ADMINISTRATION_ROLE_NAME,
      PolicyName: "assume-execution-roles",
      PolicyDocument: policy([
        { Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::*:role/${EXECUTION_ROLE}` },
      ]),
    }),
  );
  for (const account of [MEMBER, OTHER]) {
    const iam = new IAMClient({ region: aws.region, endpoint, credentials: aws.rootCredentialsFor(account) });
    // OTHER's execution role trusts another account's role, not the hub's administration role.
    const trusted = account === MEMBER ? HUB : OTHER;
    await iam.send(
      new CreateRoleCommand({
        RoleName: EXECUTION_ROLE,
        AssumeRolePolicyDocument: trust({ AWS: `arn:aws:iam::${trusted}:role/${ADMINISTRATION_ROLE_NAME}` }),
      }),
    );
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: EXECUTION_ROLE,
        PolicyName: "mark",
        PolicyDocument: policy([
          { Effect: "Allow", Action: "iam:PutRolePolicy", Resource: `arn:aws:iam::${account}:role/target` },
        ]),
      }),
    );
    await iam.send(new CreateRoleCommand({ RoleName: "target", AssumeRolePolicyDocument: trust({ AWS: account }) }));
  }
  await ssm.send(
    new CreateDocumentCommand({
      Name: "Mark",
      DocumentType: "Automation",
      DocumentFormat: "YAML",
      Content: stringify(memberDocument),
    }),
  );
});

afterEach(async () => {
  await aws.close();
});

describe("StartAutomationExecution with TargetLocations", () => {
  it("runs the central account's runbook in the target account as its execution role", async () => {
    const { AutomationExecutionId } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Mark",
        Parameters: { RoleName: ["target"] },
        TargetLocations: [{ Accounts: [MEMBER], Regions: [aws.region], ExecutionRoleName: EXECUTION_ROLE }],
      }),
    );
    const parent = (await until(AutomationExecutionId!)).AutomationExecution!;
    expect(parent.TargetLocations?.[0]?.Accounts).toEqual([MEMBER]);
    expect(parent.AutomationExecutionStatus).toBe("Success");
    expect(parent.StepExecutions?.map((s) => [s.StepName, s.StepStatus])).toEqual([
      [`${MEMBER}:${aws.region}`, "Success"],
    ]);
    expect(Object.keys(aws.state.rolePolicies("target", MEMBER))).toEqual(["marker"]);
    expect(Object.keys(aws.state.rolePolicies("target", HUB) ?? {})).toEqual([]);
    // The child lives in the member account, run by the execution role's session.
    const childId = parent.StepExecutions?.[0]?.Outputs?.ExecutionId?.[0] as string;
    const child = aws.state.executions.get(childId)!;
    expect(child.accountId).toBe(MEMBER);
    expect(child.parentAutomationExecutionId).toBe(AutomationExecutionId);
    expect(child.outputs["whoAmI.Arn"]).toEqual([
      `arn:aws:sts::${MEMBER}:assumed-role/${EXECUTION_ROLE}/${AutomationExecutionId}`,
    ]);
    const listed = await ssm.send(
      new DescribeAutomationExecutionsCommand({ Filters: [{ Key: "AutomationType", Values: ["CrossAccount"] }] }),
    );
    expect(listed.AutomationExecutionMetadataList?.map((m) => m.AutomationExecutionId)).toEqual([
      AutomationExecutionId,
    ]);
  });

  it("fails the location whose execution role does not trust the hub's administration role", async () => {
    const { AutomationExecutionId } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Mark",
        Parameters: { RoleName: ["target"] },
        TargetLocations: [{ Accounts: [MEMBER, OTHER], ExecutionRoleName: EXECUTION_ROLE }],
      }),
    );
    const parent = (await until(AutomationExecutionId!)).AutomationExecution!;
    expect(parent.AutomationExecutionStatus).toBe("Failed");
    expect(Object.fromEntries(parent.StepExecutions!.map((s) => [s.StepName, s.StepStatus]))).toEqual({
      [`${MEMBER}:${aws.region}`]: "Success",
      [`${OTHER}:${aws.region}`]: "Failed",
    });
    expect(parent.FailureMessage).toContain(`arn:aws:iam::${OTHER}:role/${EXECUTION_ROLE}`);
    expect(Object.keys(aws.state.rolePolicies("target", OTHER))).toEqual([]);
  });

  it("needs the administration role's own policy to allow the assumption, not only the member's trust", async () => {
    await hubIam.send(
      new PutRolePolicyCommand({
        RoleName: ADMINISTRATION_ROLE_NAME,
        PolicyName: "assume-execution-roles",
        PolicyDocument: policy([
          { Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::*:role/someone-else` },
        ]),
      }),
    );
    const { AutomationExecutionId } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Mark",
        Parameters: { RoleName: ["target"] },
        TargetLocations: [{ Accounts: [MEMBER], ExecutionRoleName: EXECUTION_ROLE }],
      }),
    );
    const parent = (await until(AutomationExecutionId!)).AutomationExecution!;
    expect(parent.AutomationExecutionStatus).toBe("Failed");
    expect(Object.keys(aws.state.rolePolicies("target", MEMBER))).toEqual([]);
  });

  it("fails without the central account's administration role", async () => {
    await hubIam.send(
      new (await import("@aws-sdk/client-iam")).DeleteRolePolicyCommand({
        RoleName: ADMINISTRATION_ROLE_NAME,
        PolicyName: "assume-execution-roles",
      }),
    );
    await hubIam.send(
      new (await import("@aws-sdk/client-iam")).DeleteRoleCommand({ RoleName: ADMINISTRATION_ROLE_NAME }),
    );
    const { AutomationExecutionId } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Mark",
        Parameters: { RoleName: ["target"] },
        TargetLocations: [{ Accounts: [MEMBER], ExecutionRoleName: EXECUTION_ROLE }],
      }),
    );
    const parent = (await until(AutomationExecutionId!)).AutomationExecution!;
    expect(parent.AutomationExecutionStatus).toBe("Failed");
    expect(parent.FailureMessage).toContain(ADMINISTRATION_ROLE_NAME);
  });
});

describe("aws:executeAutomation with TargetLocations", () => {
  beforeEach(async () => {
    await hubIam.send(
      new CreateRoleCommand({
        RoleName: "automation",
        AssumeRolePolicyDocument: trust(
          { Service: "ssm.amazonaws.com" },
          { StringEquals: { "aws:SourceAccount": HUB } },
        ),
      }),
    );
    await ssm.send(
      new CreateDocumentCommand({
        Name: "FanOut",
        DocumentType: "Automation",
        DocumentFormat: "YAML",
        Content: stringify(primaryDocument),
      }),
    );
  });

  const start = () =>
    ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "FanOut",
        Parameters: { AutomationAssumeRole: [`arn:aws:iam::${HUB}:role/automation`], Account: [MEMBER] },
      }),
    );

  it("starts the secondary runbook as the primary's role and waits for it", async () => {
    await hubIam.send(
      new PutRolePolicyCommand({
        RoleName: "automation",
        PolicyName: "start-mark",
        PolicyDocument: policy([
          {
            Effect: "Allow",
            Action: "ssm:StartAutomationExecution",
            Resource: `arn:aws:ssm:${aws.region}:${HUB}:automation-definition/Mark:*`,
          },
        ]),
      }),
    );
    const { AutomationExecutionId } = await start();
    const primary = await aws.state.waitForExecution(AutomationExecutionId!);
    expect(primary.status).toBe("Success");
    expect(primary.outputs["inMember.Status"]).toEqual(["Success"]);
    expect(Object.keys(aws.state.rolePolicies("target", MEMBER))).toEqual(["marker"]);
    const parent = [...aws.state.executions.values()].find(
      (e) => e.parentAutomationExecutionId === AutomationExecutionId,
    );
    expect(parent?.automationType).toBe("CrossAccount");
  });

  it("fails the step when the primary's role may not start the secondary runbook", async () => {
    const { AutomationExecutionId } = await start();
    const primary = await aws.state.waitForExecution(AutomationExecutionId!);
    expect(primary.status).toBe("Failed");
    expect(primary.failureMessage).toContain("ssm:StartAutomationExecution");
    expect(Object.keys(aws.state.rolePolicies("target", MEMBER))).toEqual([]);
  });
});
