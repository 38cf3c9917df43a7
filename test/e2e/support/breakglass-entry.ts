/**
 * A temporary action entry for the break-glass end-to-end test: the action's
 * own input and context handling, with `mode: grant` on `workflow_dispatch`
 * routed to break-glass mode. src/action/main.ts gets the same routing when
 * break-glass is wired in; until then this entry is bundled on its own (never
 * shipped).
 */
import * as core from "@actions/core";
import { contextFromEnvironment } from "../../../src/action/context.js";
import { getInputs } from "../../../src/action/inputs.js";
import { breakGlassFailed, reportBreakGlass, runBreakGlass } from "../../../src/modes/break-glass.js";

async function run(): Promise<void> {
  try {
    const inputs = getInputs();
    const ctx = contextFromEnvironment(inputs);
    if (inputs.mode !== "grant" || ctx.eventName !== "workflow_dispatch") {
      throw new Error(
        `this test entry only runs break-glass (mode grant on workflow_dispatch), not ${inputs.mode} on ${ctx.eventName}`,
      );
    }
    const report = await core.group("Elevate break-glass", () => runBreakGlass(ctx));
    await reportBreakGlass(report);
    if (breakGlassFailed(report)) core.setFailed(report.issueError ?? report.message);
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}

await run();
