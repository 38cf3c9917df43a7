import {
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  type AutomationExecution,
  CreateDocumentCommand,
  DescribeAutomationExecutionsCommand,
  GetAutomationExecutionCommand,
  GetDocumentCommand,
  SendAutomationSignalCommand,
  SSMClient,
  StartAutomationExecutionCommand,
  StopAutomationExecutionCommand,
  UpdateDocumentCommand,
} from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type AwsSandbox, type Credentials, startAwsSandbox } from "../../sandbox/aws/index.js";

const ACCOUNT = "123456789012";
const AUTOMATION_ROLE = `arn:aws:iam::${ACCOUNT}:role/elevate-automation`;
const UNTRUSTED_ROLE = `arn:aws:iam::${ACCOUNT}:role/not-for-ssm`;
const TOPIC = `arn:aws:sns:ap-northeast-1:${ACCOUNT}:Elevate`;
const GRANT_DOC = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: `arn:aws:iam::${ACCOUNT}:role/x` }],
});

/** A small grant-like runbook: put a user policy, read it back, optionally notify. */
const fixtureDocument = {
  schemaVersion: "0.3",
  description: "Sandbox fixture grant",
  assumeRole: "{{ AutomationAssumeRole }}",
  parameters: {
    AutomationAssumeRole: { type: "String", allowedPattern: "^arn:aws:iam::\\d{12}:role/[\\w+=,.@/-]+$" },
    UserName: { type: "String", allowedPattern: "^[\\w+=,.@-]{1,64}$" },
    PolicyName: { type: "String", allowedPattern: "^elevate-[a-z0-9-]{3,63}$" },
    Notify: { type: "Boolean", default: false },
    TopicArn: { type: "String", default: TOPIC },
  },
  mainSteps: [
    {
      name: "putPolicy",
      action: "aws:executeAwsApi",
      inputs: {
        Service: "iam",
        Api: "PutUserPolicy",
        UserName: "{{ UserName }}",
        PolicyName: "{{ PolicyName }}",
        PolicyDocument: GRANT_DOC,
      },
    },
    {
      name: "readBack",
      action: "aws:executeAwsApi",
      inputs: { Service: "iam", Api: "GetUserPolicy", UserName: "{{ UserName }}", PolicyName: "{{ PolicyName }}" },
      outputs: [{ Name: "Document", Selector: "$.PolicyDocument", Type: "String" }],
    },
    {
      name: "shouldNotify",
      action: "aws:branch",
      inputs: { Choices: [{ NextStep: "notify", Variable: "{{ Notify }}", BooleanEquals: true }], Default: "done" },
    },
    {
      name: "notify",
      action: "aws:executeAwsApi",
      inputs: {
        Service: "sns",
        Api: "Publish",
        TopicArn: "{{ TopicArn }}",
        Subject: "Elevate grant",
        Message: "granted {{ PolicyName }} to {{ UserName }}",
      },
      outputs: [{ Name: "MessageId", Selector: "$.MessageId", Type: "String" }],
    },
    { name: "done", action: "aws:sleep", inputs: { Duration: "PT0S" }, isEnd: true },
  ],
  outputs: ["readBack.Document"],
};

/** A revoke-like runbook whose first step may hit NoSuchEntity; the failure mode is a parameter of the fixture. */
function revokeDocument(onFailure: string, isCritical?: boolean) {
  return {
    schemaVersion: "0.3",
    assumeRole: "{{ AutomationAssumeRole }}",
    parameters: {
      AutomationAssumeRole: { type: "String" },
      UserName: { type: "String", allowedPattern: "^[\\w+=,.@-]{1,64}$" },
      PolicyName: { type: "String", allowedPattern: "^elevate-[a-z0-9-]{3,63}$" },
    },
    mainSteps: [
      {
        name: "deletePolicy",
        action: "aws:executeAwsApi",
        onFailure,
        ...(isCritical === undefined ? {} : { isCritical }),
        inputs: { Service: "iam", Api: "DeleteUserPolicy", UserName: "{{ UserName }}", PolicyName: "{{ PolicyName }}" },
      },
      { name: "afterDelete", action: "aws:sleep", inputs: { Duration: "PT0S" }, isEnd: true },
      { name: "recover", action: "aws:sleep", inputs: { Duration: "PT0S" }, isEnd: true },
    ],
  };
}

let sandbox: AwsSandbox;
let ssm: SSMClient;
let iam: IAMClient;

const ssmAs = (credentials: Credentials, maxAttempts = 1) =>
  new SSMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials, maxAttempts });

async function errorOf(p: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error("expected the call to fail");
}

const TERMINAL = new Set(["Success", "Failed", "Cancelled", "TimedOut"]);

/** Polls like a real client: the engine runs asynchronously after StartAutomationExecution returns. */
async function waitFor(id: string, client = ssm): Promise<AutomationExecution> {
  for (let i = 0; i < 500; i++) {
    const { AutomationExecution: e } = await client.send(
      new GetAutomationExecutionCommand({ AutomationExecutionId: id }),
    );
    if (e?.AutomationExecutionStatus && TERMINAL.has(e.AutomationExecutionStatus)) return e;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`execution ${id} did not finish`);
}

async function createDocument(name: string, content: object, format: "YAML" | "JSON" = "YAML") {
  return ssm.send(
    new CreateDocumentCommand({
      Name: name,
      DocumentType: "Automation",
      DocumentFormat: format,
      Content: format === "YAML" ? stringify(content) : JSON.stringify(content),
    }),
  );
}

beforeAll(async () => {
  sandbox = await startAwsSandbox({ clockMode: "frozen", now: new Date("2026-11-30T09:00:00Z") });
  ssm = ssmAs(sandbox.rootCredentials);
  iam = new IAMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials: sandbox.rootCredentials });
  const sns = new SNSClient({
    endpoint: sandbox.endpoint,
    region: sandbox.region,
    credentials: sandbox.rootCredentials,
  });
  await sns.send(new CreateTopicCommand({ Name: "Elevate" }));
  sns.destroy();
  await iam.send(
    new CreateRoleCommand({
      RoleName: "elevate-automation",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "ssm.amazonaws.com" },
            Action: "sts:AssumeRole",
            Condition: { StringEquals: { "aws:SourceAccount": ACCOUNT } },
          },
        ],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: "elevate-automation",
      PolicyName: "least-privilege",
      PolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["iam:PutUserPolicy", "iam:GetUserPolicy", "iam:DeleteUserPolicy"],
            Resource: `arn:aws:iam::${ACCOUNT}:user/eligible/*`,
          },
          { Effect: "Allow", Action: "sns:Publish", Resource: TOPIC },
        ],
      }),
    }),
  );
  await iam.send(
    new CreateRoleCommand({
      RoleName: "not-for-ssm",
      AssumeRolePolicyDocument: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" }],
      }),
    }),
  );
  await iam.send(new CreateUserCommand({ UserName: "alice", Path: "/eligible/" }));
  await iam.send(new CreateUserCommand({ UserName: "admin-user" }));
  await createDocument("Test-Grant", fixtureDocument);
});

afterAll(async () => {
  ssm.destroy();
  iam.destroy();
  await sandbox.close();
});

describe("Automation documents", () => {
  it("round-trips CreateDocument / GetDocument / UpdateDocument in YAML and JSON", async () => {
    const created = await createDocument("Doc-Roundtrip", revokeDocument("Abort"), "JSON");
    expect(created.DocumentDescription).toMatchObject({
      Name: "Doc-Roundtrip",
      DocumentVersion: "1",
      DocumentType: "Automation",
      SchemaVersion: "0.3",
    });
    expect(created.DocumentDescription?.Parameters?.map((p) => p.Name)).toEqual([
      "AutomationAssumeRole",
      "UserName",
      "PolicyName",
    ]);
    const asYaml = await ssm.send(new GetDocumentCommand({ Name: "Doc-Roundtrip", DocumentFormat: "YAML" }));
    expect(asYaml.DocumentFormat).toBe("YAML");
    expect(asYaml.Content).toContain("schemaVersion:");
    const updated = await ssm.send(
      new UpdateDocumentCommand({
        Name: "Doc-Roundtrip",
        DocumentVersion: "$LATEST",
        DocumentFormat: "YAML",
        Content: stringify(revokeDocument("Continue")),
      }),
    );
    expect(updated.DocumentDescription).toMatchObject({
      DocumentVersion: "2",
      LatestVersion: "2",
      DefaultVersion: "1",
    });
    expect(
      await errorOf(
        ssm.send(
          new UpdateDocumentCommand({
            Name: "Doc-Roundtrip",
            DocumentVersion: "$LATEST",
            DocumentFormat: "YAML",
            Content: stringify(revokeDocument("Continue")),
          }),
        ),
      ),
    ).toMatchObject({ name: "DuplicateDocumentContent" });
    expect(await errorOf(createDocument("Doc-Roundtrip", revokeDocument("Abort")))).toMatchObject({
      name: "DocumentAlreadyExists",
    });
    expect(await errorOf(ssm.send(new GetDocumentCommand({ Name: "Nope-Doc" })))).toMatchObject({
      name: "InvalidDocument",
    });
  });

  it("rejects documents the engine could not run, with the reason", async () => {
    const unknownVar = {
      ...revokeDocument("Abort"),
      mainSteps: [{ name: "a", action: "aws:sleep", inputs: { Duration: "{{ Missing }}" } }],
    };
    const e1 = await errorOf(createDocument("Bad-Var", unknownVar));
    expect(e1).toMatchObject({ name: "InvalidDocumentContent" });
    expect(e1.message).toContain("{{ Missing }}");
    const approve = { ...revokeDocument("Abort"), mainSteps: [{ name: "a", action: "aws:approve", inputs: {} }] };
    expect((await errorOf(createDocument("Bad-Action", approve))).message).toContain("aws:approve");
    expect(
      await errorOf(createDocument("Bad-Schema", { ...revokeDocument("Abort"), schemaVersion: "2.2" })),
    ).toMatchObject({
      name: "InvalidDocumentSchemaVersion",
    });
    expect(
      await errorOf(
        ssm.send(
          new CreateDocumentCommand({
            Name: "Bad-Yaml",
            DocumentType: "Automation",
            DocumentFormat: "YAML",
            Content: "a: [",
          }),
        ),
      ),
    ).toMatchObject({
      name: "InvalidDocumentContent",
    });
  });
});

describe("Automation executions", () => {
  it("runs a document to Success asynchronously, as the automation role, with branch, outputs and SNS", async () => {
    const { AutomationExecutionId: id } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Test-Grant",
        Parameters: {
          AutomationAssumeRole: [AUTOMATION_ROLE],
          UserName: ["alice"],
          PolicyName: ["elevate-req-1"],
          Notify: ["true"],
        },
      }),
    );
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const e = await waitFor(id!);
    expect(e.AutomationExecutionStatus).toBe("Success");
    expect(e.StepExecutions?.map((s) => [s.StepName, s.StepStatus])).toEqual([
      ["putPolicy", "Success"],
      ["readBack", "Success"],
      ["shouldNotify", "Success"],
      ["notify", "Success"],
      ["done", "Success"],
    ]);
    expect(decodeURIComponent(e.Outputs?.["readBack.Document"]?.[0] ?? "")).toBe(GRANT_DOC);
    expect(e.Parameters).toMatchObject({ UserName: ["alice"], Notify: ["true"], TopicArn: [TOPIC] });
    expect(sandbox.state.userPolicies("alice")).toHaveProperty("elevate-req-1");

    const session = `arn:aws:sts::${ACCOUNT}:assumed-role/elevate-automation/${id}`;
    expect(sandbox.calls("PutUserPolicy").at(-1)?.principal).toBe(session);
    expect(sandbox.state.published.at(-1)).toMatchObject({
      topicArn: TOPIC,
      subject: "Elevate grant",
      message: "granted elevate-req-1 to alice",
      publishedBy: session,
    });

    // Without Notify the branch goes straight to `done`.
    const quiet = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Test-Grant",
        Parameters: { AutomationAssumeRole: [AUTOMATION_ROLE], UserName: ["alice"], PolicyName: ["elevate-req-2"] },
      }),
    );
    const q = await waitFor(quiet.AutomationExecutionId!);
    expect(q.StepExecutions?.map((s) => s.StepName)).toEqual(["putPolicy", "readBack", "shouldNotify", "done"]);
  });

  it("fails like AWS when a step's API call fails: Abort, Continue, step:NAME and least privilege", async () => {
    await createDocument("Revoke-Abort", revokeDocument("Abort"));
    await createDocument("Revoke-Continue", revokeDocument("Continue"));
    await createDocument("Revoke-Jump", revokeDocument("step:recover"));
    const start = async (doc: string, user = "alice") =>
      waitFor(
        (
          await ssm.send(
            new StartAutomationExecutionCommand({
              DocumentName: doc,
              Parameters: {
                AutomationAssumeRole: [AUTOMATION_ROLE],
                UserName: [user],
                PolicyName: ["elevate-missing"],
              },
            }),
          )
        ).AutomationExecutionId!,
      );

    const aborted = await start("Revoke-Abort");
    expect(aborted.AutomationExecutionStatus).toBe("Failed");
    expect(aborted.StepExecutions).toHaveLength(1);
    const failedStep = aborted.StepExecutions?.[0];
    expect(failedStep?.StepStatus).toBe("Failed");
    expect(failedStep?.FailureMessage).toBe(
      "An error occurred (NoSuchEntity) when calling the DeleteUserPolicy operation: The user policy with name elevate-missing cannot be found.",
    );
    expect(failedStep?.FailureDetails).toMatchObject({
      FailureStage: "Invocation",
      FailureType: "Action",
      Details: { ErrorCode: ["NoSuchEntity"] },
    });
    expect(aborted.FailureMessage).toContain("NoSuchEntity");

    // onFailure: Continue makes the step non-critical unless isCritical says otherwise.
    const continued = await start("Revoke-Continue");
    expect(continued.AutomationExecutionStatus).toBe("Success");
    expect(continued.StepExecutions?.map((s) => [s.StepName, s.StepStatus])).toEqual([
      ["deletePolicy", "Failed"],
      ["afterDelete", "Success"],
    ]);
    const jumped = await start("Revoke-Jump");
    expect(jumped.StepExecutions?.map((s) => s.StepName)).toEqual(["deletePolicy", "recover"]);
    expect(jumped.AutomationExecutionStatus).toBe("Failed");

    // The automation role may only touch users under /eligible/.
    const denied = await start("Revoke-Abort", "admin-user");
    expect(denied.StepExecutions?.[0]?.FailureDetails).toMatchObject({
      FailureType: "Permission",
      Details: { ErrorCode: ["AccessDenied"] },
    });
  });

  it("fails the execution when the assume role does not trust ssm.amazonaws.com", async () => {
    const { AutomationExecutionId: id } = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Test-Grant",
        Parameters: { AutomationAssumeRole: [UNTRUSTED_ROLE], UserName: ["alice"], PolicyName: ["elevate-req-3"] },
      }),
    );
    const e = await waitFor(id!);
    expect(e.AutomationExecutionStatus).toBe("Failed");
    expect(e.StepExecutions?.[0]?.FailureDetails).toMatchObject({
      FailureStage: "InputValidation",
      FailureType: "Permission",
    });
    expect(e.StepExecutions?.[0]?.FailureMessage).toContain("The defined assume role is unable to be assumed");
    expect(sandbox.state.userPolicies("alice")).not.toHaveProperty("elevate-req-3");
  });

  it("validates parameters before starting anything", async () => {
    const start = (Parameters: Record<string, string[]>, extra: object = {}) =>
      errorOf(ssm.send(new StartAutomationExecutionCommand({ DocumentName: "Test-Grant", Parameters, ...extra })));
    const base = { AutomationAssumeRole: [AUTOMATION_ROLE], UserName: ["alice"], PolicyName: ["elevate-ok-1"] };
    const before = sandbox.state.executions.size;
    const badPattern = await start({ ...base, UserName: ["alice; rm -rf /"] });
    expect(badPattern).toMatchObject({ name: "InvalidAutomationExecutionParametersException", status: 400 });
    expect(badPattern.message).toContain("UserName");
    expect(await start({ ...base, PolicyName: ["not-elevate"] })).toMatchObject({
      name: "InvalidAutomationExecutionParametersException",
    });
    expect(await start({ AutomationAssumeRole: [AUTOMATION_ROLE], UserName: ["alice"] })).toMatchObject({
      name: "InvalidAutomationExecutionParametersException",
      message: 'The following required parameters are missing: ["PolicyName"]',
    });
    expect(await start({ ...base, Extra: ["x"] })).toMatchObject({
      name: "InvalidAutomationExecutionParametersException",
    });
    expect(await start({ ...base, UserName: ["a", "b"] })).toMatchObject({
      name: "InvalidAutomationExecutionParametersException",
    });
    expect(await start({ ...base, Notify: ["yes"] })).toMatchObject({
      name: "InvalidAutomationExecutionParametersException",
    });
    expect(await start(base, { ClientToken: "not-a-uuid" })).toMatchObject({ name: "ValidationException" });
    expect(await errorOf(ssm.send(new StartAutomationExecutionCommand({ DocumentName: "No-Such-Doc" })))).toMatchObject(
      {
        name: "AutomationDefinitionNotFoundException",
      },
    );
    expect(sandbox.state.executions.size).toBe(before);
  });

  it("honours ClientToken: same request → same execution, different parameters → IdempotentParameterMismatch", async () => {
    const token = "3f1c2b9e-8d7a-4c5b-9e0f-123456789abc";
    const params = { AutomationAssumeRole: [AUTOMATION_ROLE], UserName: ["alice"], PolicyName: ["elevate-idem-1"] };
    const first = await ssm.send(
      new StartAutomationExecutionCommand({ DocumentName: "Test-Grant", Parameters: params, ClientToken: token }),
    );
    const again = await ssm.send(
      new StartAutomationExecutionCommand({
        DocumentName: "Test-Grant",
        Parameters: params,
        ClientToken: token.toUpperCase(),
      }),
    );
    expect(again.AutomationExecutionId).toBe(first.AutomationExecutionId);
    const mismatch = await errorOf(
      ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: "Test-Grant",
          Parameters: { ...params, PolicyName: ["elevate-idem-2"] },
          ClientToken: token,
        }),
      ),
    );
    expect(mismatch).toMatchObject({ name: "IdempotentParameterMismatch", status: 400 });
    await waitFor(first.AutomationExecutionId!);
    const runs = [...sandbox.state.executions.values()].filter((e) => e.clientToken?.toLowerCase() === token);
    expect(runs).toHaveLength(1);
    expect(
      sandbox.calls("StartAutomationExecution").filter((c) => c.params.ClientToken?.toLowerCase() === token),
    ).toHaveLength(3);
  });

  it("requires ssm:StartAutomationExecution on the definition and iam:PassRole on the automation role", async () => {
    await iam.send(new CreateUserCommand({ UserName: "starter" }));
    const allowStart = {
      Effect: "Allow",
      Action: ["ssm:StartAutomationExecution", "ssm:GetAutomationExecution"],
      Resource: [
        `arn:aws:ssm:ap-northeast-1:${ACCOUNT}:automation-definition/Test-Grant:*`,
        `arn:aws:ssm:ap-northeast-1:${ACCOUNT}:automation-execution/*`,
      ],
    };
    await iam.send(
      new PutUserPolicyCommand({
        UserName: "starter",
        PolicyName: "start",
        PolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [allowStart] }),
      }),
    );
    const starter = ssmAs(sandbox.state.createAccessKey("starter"));
    const params = { AutomationAssumeRole: [AUTOMATION_ROLE], UserName: ["alice"], PolicyName: ["elevate-pass-1"] };
    const noPass = await errorOf(
      starter.send(new StartAutomationExecutionCommand({ DocumentName: "Test-Grant", Parameters: params })),
    );
    expect(noPass).toMatchObject({ name: "AccessDeniedException", status: 400 });
    expect(noPass.message).toContain("iam:PassRole");
    expect(
      await errorOf(
        starter.send(new StartAutomationExecutionCommand({ DocumentName: "Revoke-Abort", Parameters: params })),
      ),
    ).toMatchObject({
      name: "AccessDeniedException",
    });

    await iam.send(
      new PutUserPolicyCommand({
        UserName: "starter",
        PolicyName: "start",
        PolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            allowStart,
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
    const ok = await starter.send(
      new StartAutomationExecutionCommand({ DocumentName: "Test-Grant", Parameters: params }),
    );
    const e = await waitFor(ok.AutomationExecutionId!, starter);
    expect(e.AutomationExecutionStatus).toBe("Success");
    expect(e.ExecutedBy).toBe(`arn:aws:iam::${ACCOUNT}:user/starter`);
    starter.destroy();
  });

  it("lists, stops and refuses signals", async () => {
    const listed = await ssm.send(
      new DescribeAutomationExecutionsCommand({
        Filters: [
          { Key: "DocumentNamePrefix", Values: ["Test-Grant"] },
          { Key: "ExecutionStatus", Values: ["Success"] },
        ],
        MaxResults: 2,
      }),
    );
    expect(listed.AutomationExecutionMetadataList).toHaveLength(2);
    expect(
      listed.AutomationExecutionMetadataList?.every(
        (m) => m.DocumentName === "Test-Grant" && m.AutomationExecutionStatus === "Success",
      ),
    ).toBe(true);
    expect(listed.NextToken).toBeDefined();
    const next = await ssm.send(
      new DescribeAutomationExecutionsCommand({
        Filters: [{ Key: "DocumentNamePrefix", Values: ["Test-Grant"] }],
        MaxResults: 2,
        NextToken: listed.NextToken,
      }),
    );
    expect(next.AutomationExecutionMetadataList?.length).toBeGreaterThan(0);

    // Start-time filters: UTC, whole seconds (what Elevate sends); anything else is refused.
    const since = (value: string) =>
      ssm.send(
        new DescribeAutomationExecutionsCommand({
          Filters: [
            { Key: "DocumentNamePrefix", Values: ["Test-Grant"] },
            { Key: "StartTimeAfter", Values: [value] },
          ],
        }),
      );
    const start = sandbox.clock.now();
    const wholeSecond = `${new Date(start.getTime() - 60_000).toISOString().slice(0, 19)}Z`;
    expect((await since(wholeSecond)).AutomationExecutionMetadataList?.length).toBeGreaterThan(0);
    expect((await since("2999-01-01T00:00:00Z")).AutomationExecutionMetadataList).toEqual([]);
    for (const bad of ["2026-11-30T08:00:00.000Z", "2026-11-30T09:00:00+01:00", "yesterday"]) {
      expect(await errorOf(since(bad))).toMatchObject({ name: "ValidationException" });
    }

    sandbox.knobs.latencyMs = 30;
    try {
      const { AutomationExecutionId: id } = await ssm.send(
        new StartAutomationExecutionCommand({
          DocumentName: "Test-Grant",
          Parameters: { AutomationAssumeRole: [AUTOMATION_ROLE], UserName: ["alice"], PolicyName: ["elevate-stop-1"] },
        }),
      );
      await ssm.send(new StopAutomationExecutionCommand({ AutomationExecutionId: id }));
      const stopped = await waitFor(id!);
      expect(stopped.AutomationExecutionStatus).toBe("Cancelled");
      expect(await errorOf(ssm.send(new StopAutomationExecutionCommand({ AutomationExecutionId: id })))).toMatchObject({
        name: "InvalidAutomationStatusUpdateException",
      });
      expect(
        await errorOf(ssm.send(new SendAutomationSignalCommand({ AutomationExecutionId: id, SignalType: "Approve" }))),
      ).toMatchObject({
        name: "InvalidAutomationSignalException",
      });
    } finally {
      sandbox.knobs.latencyMs = 0;
    }
    expect(
      await errorOf(
        ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: "00000000-0000-0000-0000-000000000000" })),
      ),
    ).toMatchObject({
      name: "AutomationExecutionNotFoundException",
    });
  });

  it("surfaces throttling and injected limits to the SDK", async () => {
    const params = { AutomationAssumeRole: [AUTOMATION_ROLE], UserName: ["alice"], PolicyName: ["elevate-knob-1"] };
    sandbox.knobs.failNext("StartAutomationExecution", "AutomationExecutionLimitExceededException");
    expect(
      await errorOf(ssm.send(new StartAutomationExecutionCommand({ DocumentName: "Test-Grant", Parameters: params }))),
    ).toMatchObject({
      name: "AutomationExecutionLimitExceededException",
      status: 400,
    });
    sandbox.knobs.throttleRate = 1;
    try {
      const retrying = ssmAs(sandbox.rootCredentials, 2);
      const throttled = retrying.send(new DescribeAutomationExecutionsCommand({}));
      expect(await errorOf(throttled)).toMatchObject({ name: "ThrottlingException", status: 400 });
      expect(
        sandbox
          .calls("DescribeAutomationExecutions")
          .slice(-2)
          .map((c) => c.outcome),
      ).toEqual(["ThrottlingException", "ThrottlingException"]);
      retrying.destroy();
    } finally {
      sandbox.knobs.throttleRate = 0;
    }
  });
});
