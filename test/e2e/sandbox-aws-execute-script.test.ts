/**
 * aws:executeScript in the sandbox's SSM Automation engine: the step's Python
 * script runs in the local python3 with AWS's contract (handler(events,
 * context), InputPayload → events, the returned value → Payload, outputs by
 * `$.Payload…` selectors, an exception fails the step), and reads the sandbox
 * clock for AWS's.
 */
import {
  type AutomationExecution,
  CreateDocumentCommand,
  GetAutomationExecutionCommand,
  SSMClient,
  StartAutomationExecutionCommand,
} from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { type AwsSandbox, startAwsSandbox } from "../../sandbox/aws/index.js";

let sandbox: AwsSandbox;
let ssm: SSMClient;

const SCRIPT = `
from datetime import datetime, timezone
import time

def handler(events, context):
    if events.get("Fail"):
        raise ValueError("refused: " + events["Fail"])
    now = datetime.now(timezone.utc)
    return {
        "Echo": events["Text"],
        "Count": len(events["Items"]),
        "Items": events["Items"],
        "Now": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Epoch": int(time.time()),
        "Flag": True,
    }
`;

function scriptDocument(script = SCRIPT, extra: Record<string, unknown> = {}) {
  return {
    schemaVersion: "0.3",
    parameters: {
      Text: { type: "String", allowedPattern: "^[a-z]+$" },
      Fail: { type: "String", default: "" },
    },
    mainSteps: [
      {
        name: "run",
        action: "aws:executeScript",
        inputs: {
          Runtime: "python3.11",
          Handler: "handler",
          Script: script,
          InputPayload: { Text: "{{ Text }}", Items: ["a", "b", "c"], Fail: "{{ Fail }}" },
          ...extra,
        },
        outputs: [
          { Name: "Echo", Selector: "$.Payload.Echo", Type: "String" },
          { Name: "Count", Selector: "$.Payload.Count", Type: "Integer" },
          { Name: "Items", Selector: "$.Payload.Items", Type: "StringList" },
          { Name: "Now", Selector: "$.Payload.Now", Type: "String" },
          { Name: "Epoch", Selector: "$.Payload.Epoch", Type: "Integer" },
          { Name: "Flag", Selector: "$.Payload.Flag", Type: "Boolean" },
        ],
      },
      {
        name: "after",
        action: "aws:branch",
        inputs: {
          Choices: [{ NextStep: "done", Variable: "{{ run.Echo }}", StringEquals: "{{ Text }}" }],
          Default: "done",
        },
      },
      { name: "done", action: "aws:sleep", inputs: { Duration: "PT0S" }, isEnd: true },
    ],
    outputs: ["run.Echo", "run.Count", "run.Now"],
  };
}

async function create(name: string, content: object) {
  return ssm.send(
    new CreateDocumentCommand({
      Name: name,
      DocumentType: "Automation",
      DocumentFormat: "YAML",
      Content: stringify(content),
    }),
  );
}

async function run(name: string, parameters: Record<string, string[]>): Promise<AutomationExecution> {
  const { AutomationExecutionId: id } = await ssm.send(
    new StartAutomationExecutionCommand({ DocumentName: name, Parameters: parameters }),
  );
  for (let i = 0; i < 1000; i++) {
    const { AutomationExecution: e } = await ssm.send(new GetAutomationExecutionCommand({ AutomationExecutionId: id }));
    if (e && ["Success", "Failed", "Cancelled", "TimedOut"].includes(e.AutomationExecutionStatus ?? "")) return e;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`execution ${id} did not finish`);
}

beforeAll(async () => {
  sandbox = await startAwsSandbox({ clockMode: "frozen", now: new Date("2026-11-30T09:00:00Z") });
  ssm = new SSMClient({ endpoint: sandbox.endpoint, region: sandbox.region, credentials: sandbox.rootCredentials });
  await create("Script-Doc", scriptDocument());
});

afterAll(async () => {
  ssm.destroy();
  await sandbox.close();
});

describe("aws:executeScript", () => {
  it("calls the handler with InputPayload and selects typed outputs from the returned Payload", async () => {
    const e = await run("Script-Doc", { Text: ["hello"] });
    expect(e.AutomationExecutionStatus).toBe("Success");
    const step = e.StepExecutions?.find((s) => s.StepName === "run");
    expect(step?.Outputs).toMatchObject({
      Echo: ["hello"],
      Count: ["3"],
      Items: ["a", "b", "c"],
      Flag: ["true"],
    });
    expect(JSON.parse(step?.Outputs?.Payload?.[0] ?? "null")).toMatchObject({ Echo: "hello", Count: 3 });
    expect(e.Outputs?.["run.Echo"]).toEqual(["hello"]);
  });

  it("gives the script the sandbox clock (AWS's clock), not the machine's", async () => {
    sandbox.clock.set(new Date("2031-05-06T07:08:09Z"));
    try {
      const e = await run("Script-Doc", { Text: ["clock"] });
      expect(e.Outputs?.["run.Now"]).toEqual(["2031-05-06T07:08:09Z"]);
      const epoch = Number(e.StepExecutions?.find((s) => s.StepName === "run")?.Outputs?.Epoch?.[0]);
      expect(Math.abs(epoch - Date.parse("2031-05-06T07:08:09Z") / 1000)).toBeLessThan(5);
    } finally {
      sandbox.clock.set(new Date("2026-11-30T09:00:00Z"));
    }
  });

  it("fails the step and the execution when the handler raises, with the exception's message", async () => {
    const e = await run("Script-Doc", { Text: ["boom"], Fail: ["too late"] });
    expect(e.AutomationExecutionStatus).toBe("Failed");
    const step = e.StepExecutions?.find((s) => s.StepName === "run");
    expect(step?.StepStatus).toBe("Failed");
    expect(step?.FailureMessage).toContain("ValueError - refused: too late");
    expect(e.FailureMessage).toContain("refused: too late");
    // Nothing after a failed critical step runs.
    expect(e.StepExecutions?.map((s) => s.StepName)).toEqual(["run"]);
  });

  it("fails on a missing handler, a script that does not compile, and an output the Payload lacks", async () => {
    await create("Script-NoHandler", scriptDocument(SCRIPT.replace("def handler", "def other")));
    const noHandler = await run("Script-NoHandler", { Text: ["x"] });
    expect(noHandler.AutomationExecutionStatus).toBe("Failed");
    expect(noHandler.FailureMessage).toContain("handler 'handler' is not a function");

    await create("Script-Syntax", scriptDocument("def handler(events, context)\n    return {}\n"));
    const syntax = await run("Script-Syntax", { Text: ["x"] });
    expect(syntax.AutomationExecutionStatus).toBe("Failed");
    expect(syntax.FailureMessage).toContain("SyntaxError");

    await create("Script-NoOutput", scriptDocument("def handler(events, context):\n    return {'Echo': 'x'}\n"));
    const missing = await run("Script-NoOutput", { Text: ["x"] });
    expect(missing.AutomationExecutionStatus).toBe("Failed");
    expect(missing.FailureMessage).toContain("Output Count");
  });

  it("refuses at CreateDocument what the sandbox cannot run the way AWS would", async () => {
    const bad = async (name: string, extra: Record<string, unknown>) => {
      try {
        await create(name, scriptDocument(SCRIPT, extra));
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error(`${name} was accepted`);
    };
    expect(await bad("Script-Pwsh", { Runtime: "PowerShell 7.4" })).toMatch(/Runtime/);
    expect(await bad("Script-Attach", { Attachment: "script.zip" })).toMatch(/Attachment/);
    expect(await bad("Script-Handler", { Handler: "not a name" })).toMatch(/Handler/);
    expect(await bad("Script-Unknown", { Extra: "x" })).toMatch(/unknown input 'Extra'/);
  });
});
