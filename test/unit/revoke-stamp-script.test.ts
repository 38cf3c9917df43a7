/**
 * Elevate-Revoke's stampCutOff script (infra/runbooks/elevate-revoke.yaml), run with
 * python3 exactly as the sandbox's Automation engine runs it (and as AWS would:
 * handler(events, context), an exception fails the step). The time it stamps is the
 * execution's own clock, AWS's: nothing the caller passes can move it earlier than
 * the moment the runbook runs, except the two bounds the revoker passes on purpose.
 */
import { describe, expect, it } from "vitest";
import { runPythonScript } from "../../sandbox/aws/automation-engine.js";
import { runbookScriptStep } from "../../sandbox/cfn/runbook.js";

const inputs = runbookScriptStep("infra/runbooks/elevate-revoke.yaml", "stampCutOff");

/** AWS's time when the step runs. */
const NOW = new Date("2026-11-30T10:15:07.640Z");
const NO_LIMIT = "9999-12-31T23:59:59Z";

async function stamp(payload: Record<string, string>, now = NOW): Promise<string> {
  const result = await runPythonScript({ script: inputs.Script, handler: inputs.Handler, payload, now });
  if (result.ErrorType) return `${result.ErrorType}: ${result.ErrorMessage}`;
  return (result.Payload as { RevokedAt: string }).RevokedAt;
}

describe("stampCutOff: the cut-off time on AWS's clock", () => {
  it("an early revoke is stamped at the step's own time (whole seconds) + 60 s, however old the plan", async () => {
    // The revoker planned at 09:00 (or its clock says so): sessions up to 10:15:07 are still cut off.
    expect(await stamp({ RevokedAt: "2026-11-30T09:00:00Z", StampAtRunTime: "true", StampNotAfter: NO_LIMIT })).toBe(
      "2026-11-30T10:16:07Z",
    );
  });

  it("never before RevokedAt: an existing later cut-off is never moved back", async () => {
    expect(await stamp({ RevokedAt: "2026-11-30T11:00:00Z", StampAtRunTime: "true", StampNotAfter: NO_LIMIT })).toBe(
      "2026-11-30T11:00:00Z",
    );
  });

  it("never into a pending grant of the same user on the role (StampNotAfter)", async () => {
    expect(
      await stamp({ RevokedAt: "2026-11-30T10:00:00Z", StampAtRunTime: "true", StampNotAfter: "2026-11-30T10:15:30Z" }),
    ).toBe("2026-11-30T10:15:30Z");
  });

  it("an expired grant's cut-off is written exactly as given (notAfter + 1 s), whatever the time", async () => {
    expect(await stamp({ RevokedAt: "2026-11-30T09:00:01Z", StampAtRunTime: "false", StampNotAfter: NO_LIMIT })).toBe(
      "2026-11-30T09:00:01Z",
    );
  });

  it("refuses a RevokedAt more than an hour after the step's own time (a cut-off dated ahead would deny later grants' sessions and never clear)", async () => {
    for (const mode of ["true", "false"]) {
      expect(await stamp({ RevokedAt: "2026-11-30T11:15:08Z", StampAtRunTime: mode, StampNotAfter: NO_LIMIT })).toMatch(
        /^ValueError: RevokedAt 2026-11-30T11:15:08Z is more than an hour after this execution's time 2026-11-30T10:15:07Z/,
      );
    }
    expect(await stamp({ RevokedAt: "2026-11-30T11:15:07Z", StampAtRunTime: "false", StampNotAfter: NO_LIMIT })).toBe(
      "2026-11-30T11:15:07Z",
    );
  });

  it("fails the step on anything else (the runbook's allowedPatterns already refuse it)", async () => {
    expect(await stamp({ RevokedAt: "2026-11-30 09:00:00", StampAtRunTime: "true", StampNotAfter: NO_LIMIT })).toMatch(
      /^ValueError: RevokedAt: /,
    );
    expect(await stamp({ RevokedAt: "2026-11-30T09:00:00Z", StampAtRunTime: "yes", StampNotAfter: NO_LIMIT })).toMatch(
      /^ValueError: StampAtRunTime: /,
    );
    expect(await stamp({ RevokedAt: "2026-11-30T09:00:00Z", StampAtRunTime: "true", StampNotAfter: "" })).toMatch(
      /^ValueError: StampNotAfter: /,
    );
  });
});
