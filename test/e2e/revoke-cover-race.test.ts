/**
 * An early revoke that the revoker planned without a cut-off, because another active grant
 * of the same user covered the role, racing that other grant's own end at its notAfter.
 * On the AWS sandbox with the deployed template, the runbooks run by the automation engine,
 * the grant's end fired by Scheduler, and the revoker's own plan and runbook call.
 *
 * The revoker plans the revoke of `rotate-keys` with no cut-off: `debug-asg` covers the role.
 * Before its Elevate-Revoke runs, `debug-asg` ends: its Elevate-ExpireGrant sees
 * `rotate-keys` still there and active, and leaves the cut-off to it. Trusting the plan,
 * Elevate-Revoke would delete `rotate-keys` without a cut-off, and the sessions of both
 * grants would live on for the role's MaxSessionDuration. It checks the covering grants
 * again (CoveringRequests) once its own policy is gone, finds none left, and cuts off.
 *
 * The interleaving is forced by the frozen sandbox clock: the plan at 08:30, the other
 * grant's end at 09:00 (Scheduler fires when the clock gets there), the revoke after it.
 */
import { CreateUserCommand, type IAMClient } from "@aws-sdk/client-iam";
import type { SSMClient } from "@aws-sdk/client-ssm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import type { AwsSandbox } from "../../sandbox/aws/index.js";
import { runbookScriptStep } from "../../sandbox/cfn/runbook.js";
import { ELIGIBLE_TAG } from "../../sandbox/world.js";
import { cutoffPolicyName, cutoffPolicyText, grantPolicyText } from "../../src/domain/grant-policy.js";
import { type KnownRequest, planRevocations, type Revocation } from "../../src/domain/revoke-plan.js";
import { revokeStart } from "../../src/domain/revoke-runbooks.js";
import { readInventory } from "../../src/modes/inventory.js";
import { performRevoke } from "../../src/modes/revoke-runbooks.js";
import { type StackSandbox, startStackSandbox } from "./stack-sandbox-support.js";

const START = new Date("2026-11-30T08:00:00Z");
let stack: StackSandbox;
let sandbox: AwsSandbox;
let iam: IAMClient;
let ssm: SSMClient;
let roleArn: string;

const grant: StackSandbox["grant"] = (...args) => stack.grant(...args);

const settings = () => stack.config({ alice: "alice.smith", bob: "bob" });

const known: StackSandbox["known"] = (...entries) => stack.known(...entries);

/** The revoker's plan for an early revoke of `id`, now. */
async function planEarly(id: string, knownRequests: Map<string, KnownRequest>): Promise<Revocation> {
  const now = sandbox.clock.now();
  const { inventory } = await readInventory(iam, sandbox.defaultAccountId, now);
  const plan = planRevocations({ inventory, now, earlyRevokeIds: [id], knownRequests, driftMode: "revoke" });
  const r = plan.revoke.find((x) => x.requestId === id);
  if (!r) throw new Error(`no revocation of ${id}`);
  return r;
}

async function revoke(r: Revocation) {
  const runbook = revokeStart(settings(), r);
  if ("error" in runbook) throw new Error(runbook.error);
  const outcome = await performRevoke(
    ssm,
    { kind: "revoke-grant", target: "iam-user-policy", revocation: r, runbook },
    { timeoutMs: 30_000, now: () => sandbox.clock.now().getTime() },
  );
  const execution = outcome.executionId ? sandbox.state.executions.get(outcome.executionId) : undefined;
  return { outcome, execution, parameters: runbook.parameters };
}

const cutoffOf = (user: string) =>
  sandbox.state.rolePolicies(roleArn.split("/").at(-1) as string)[cutoffPolicyName(user)] as unknown;

beforeAll(async () => {
  stack = await startStackSandbox(START);
  ({ sandbox, iam, ssm, roleArn } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe("a revoke planned without a cut-off because another grant covered the role", () => {
  it("the covering grant ended (and its expiry left the cut-off to this one) before it ran: it cuts off", async () => {
    await grant("rotate-keys", "alice.smith", "2026-11-30T08:00:00Z", "2026-11-30T10:00:00Z");
    await grant("debug-asg", "alice.smith", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    // 08:30: the revoker plans the early revoke of rotate-keys; debug-asg covers the role.
    sandbox.clock.set(new Date("2026-11-30T08:30:00Z"));
    const r = await planEarly(
      "rotate-keys",
      known(
        ["rotate-keys", "alice.smith", "2026-11-30T08:00:00Z", "2026-11-30T10:00:00Z"],
        ["debug-asg", "alice.smith", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z"],
      ),
    );
    expect(r).toMatchObject({ cutOff: false, coveringRequests: ["debug-asg"] });
    // 09:00: debug-asg ends. Its Elevate-ExpireGrant (fired by Scheduler) finds rotate-keys
    // still there and active, so it leaves the cut-off to it.
    sandbox.clock.set(new Date("2026-11-30T09:00:00Z"));
    await sandbox.state.settleSchedules();
    const expiries = [...sandbox.state.executions.values()].filter((e) => e.documentName === "Elevate-ExpireGrant");
    expect(expiries).toHaveLength(1);
    expect(expiries[0]?.status).toBe("Success");
    expect(expiries[0]?.outputs?.["expireGrant.Reason"]?.[0]).toMatch(/another active grant .* covers the same role/);
    expect(Object.keys(sandbox.state.userPolicies("alice.smith"))).toEqual(["elevate-rotate-keys"]);
    expect(cutoffOf("alice.smith")).toBeUndefined();
    // 09:00:30: the revoke planned at 08:30 runs. debug-asg is gone: it cuts off, stamped at
    // its own time plus 60 s, and the report says so.
    sandbox.clock.set(new Date("2026-11-30T09:00:30Z"));
    const { outcome, execution, parameters } = await revoke(r);
    expect(parameters).toMatchObject({ CutOff: "false", CoveringRequests: "debug-asg" });
    expect(execution?.steps.find((s) => s.StepName === "decideCutOff")?.Outputs).toMatchObject({
      CutOff: ["true"],
      StampAtRunTime: ["true"],
    });
    expect(outcome).toMatchObject({ status: "revoked", cutOff: true });
    expect(outcome.cutOffNote).toBeUndefined();
    expect(outcome.revokedAt.toISOString()).toBe("2026-11-30T09:01:30.000Z");
    expect(Object.keys(sandbox.state.userPolicies("alice.smith"))).toEqual([]);
    expect(cutoffOf("alice.smith")).toEqual(
      JSON.parse(cutoffPolicyText("alice.smith", new Date("2026-11-30T09:01:30Z"))),
    );
  }, 120_000);

  it("the covering grant still active when it runs: no cut-off, the other grant's sessions stay valid", async () => {
    sandbox.clock.set(new Date("2026-11-30T09:05:00Z"));
    await grant("bob-keys", "bob", "2026-11-30T09:05:00Z", "2026-11-30T12:00:00Z");
    await grant("bob-debug", "bob", "2026-11-30T09:05:00Z", "2026-11-30T11:00:00Z");
    sandbox.clock.set(new Date("2026-11-30T09:30:00Z"));
    const r = await planEarly(
      "bob-keys",
      known(
        ["bob-keys", "bob", "2026-11-30T09:05:00Z", "2026-11-30T12:00:00Z"],
        ["bob-debug", "bob", "2026-11-30T09:05:00Z", "2026-11-30T11:00:00Z"],
      ),
    );
    expect(r.cutOff).toBe(false);
    const { outcome, execution, parameters } = await revoke(r);
    expect(parameters).toMatchObject({ CutOff: "false", CoveringRequests: "bob-debug" });
    expect(outcome.status).toBe("revoked");
    expect(outcome.cutOff).toBe(false);
    expect(execution?.steps.find((s) => s.StepName === "decideCutOff")?.Outputs).toMatchObject({
      CutOff: ["false"],
      StillCovering: ["bob-debug"],
    });
    expect(cutoffOf("bob")).toBeUndefined();
    expect(Object.keys(sandbox.state.userPolicies("bob"))).toEqual(["elevate-bob-debug"]);
  }, 120_000);
});

describe("decideCutOff on its own (the runbook's script against the sandbox's IAM)", () => {
  const inputs = runbookScriptStep("infra/runbooks/elevate-revoke.yaml", "decideCutOff");
  const decide = (covering: string, roleName = "EC2_FullAccess_Role") =>
    runPythonScript({
      script: inputs.Script,
      handler: inputs.Handler,
      payload: {
        UserName: "carol",
        RoleName: roleName,
        RoleAccountId: sandbox.defaultAccountId,
        CutOff: "false",
        StampAtRunTime: "false",
        CoveringRequests: covering,
      },
      now: sandbox.clock.now(),
      aws: {
        credential: sandbox.rootCredentials,
        endpoint: sandbox.endpoint,
        region: sandbox.region,
      },
    });
  const put = (id: string, notBefore: string, notAfter: string) =>
    sandbox.state.iam.putUserPolicy(
      sandbox.defaultAccountId,
      "carol",
      `elevate-${id}`,
      grantPolicyText({
        requestId: id,
        iamUser: "carol",
        roleArn,
        notBefore: new Date(notBefore),
        notAfter: new Date(notAfter),
      }),
    );

  it("a covering grant past its window (its expiry has not run yet) no longer covers; one inside it does", async () => {
    await iam.send(new CreateUserCommand({ UserName: "carol", Path: "/elevate/", Tags: [ELIGIBLE_TAG] }));
    sandbox.clock.set(new Date("2026-11-30T12:00:00Z"));
    await sandbox.state.settleSchedules(); // bob-debug's end fires on the way; it concerns bob only
    put("carol-ended", "2026-11-30T10:00:00Z", "2026-11-30T12:00:00Z");
    put("carol-active", "2026-11-30T11:00:00Z", "2026-11-30T13:00:00Z");
    expect((await decide("carol-ended")).Payload).toEqual({
      CutOff: "true",
      StampAtRunTime: "true",
      StillCovering: "",
    });
    expect((await decide("carol-gone")).Payload).toEqual({ CutOff: "true", StampAtRunTime: "true", StillCovering: "" });
    expect((await decide("carol-ended,carol-active")).Payload).toEqual({
      CutOff: "false",
      StampAtRunTime: "false",
      StillCovering: "carol-active",
    });
    // Without CoveringRequests the caller's CutOff stands, and IAM is not asked.
    expect((await decide("-")).Payload).toEqual({ CutOff: "false", StampAtRunTime: "false", StillCovering: "" });
  }, 60_000);

  it("a covering grant on another role than RoleName fails the step (inconsistent parameters)", async () => {
    const result = await decide("carol-active", "SomeOtherRole");
    expect(result.ErrorType).toBeDefined();
    expect(String(result.ErrorMessage)).toMatch(/cannot be what covers/);
  }, 60_000);
});
