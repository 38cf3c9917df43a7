/**
 * The action: read inputs, build the context, run one mode. The single
 * top-level catch turns any error into `core.setFailed` with a message a
 * person can act on.
 */
import * as core from "@actions/core";
import { breakGlassFailed, reportBreakGlass, runBreakGlass } from "../modes/break-glass.js";
import { runCheck } from "../modes/check.js";
import { grantFailed, reportGrant, runGrant } from "../modes/grant.js";
import { revokeFailed, runRevoke } from "../modes/revoke.js";
import { contextFromEnvironment } from "./context.js";
import { getInputs } from "./inputs.js";

export async function run(): Promise<void> {
  try {
    const inputs = getInputs();
    const ctx = contextFromEnvironment(inputs);
    switch (inputs.mode) {
      case "check": {
        const result = await core.group("Elevate check", () => runCheck(ctx));
        if (result.failed) core.setFailed(result.headline);
        return;
      }
      case "grant": {
        // Break-glass is grant mode dispatched from elevate-breakglass.yml; the
        // action, not the trigger, decides who may use it (src/domain/break-glass.ts).
        if (ctx.eventName === "workflow_dispatch") {
          const glass = await core.group("Elevate break-glass", () => runBreakGlass(ctx));
          await reportBreakGlass(glass);
          if (breakGlassFailed(glass)) core.setFailed(glass.issueError ?? glass.message);
          return;
        }
        const report = await core.group("Elevate grant", () => runGrant(ctx));
        const { loadedConfig } = report;
        if (loadedConfig) await reportGrant(ctx, loadedConfig, report);
        if (grantFailed(report)) {
          const bad = report.outcomes.filter((o) => o.status !== "granted" && o.status !== "planned");
          core.setFailed(
            `${bad.length} request(s) not granted: ${bad.map((o) => `${o.requestId} (${o.message})`).join("; ")}`,
          );
        }
        return;
      }
      case "revoke": {
        const report = await core.group("Elevate revoke", () => runRevoke(ctx));
        if (revokeFailed(report)) core.setFailed(report.headline);
        return;
      }
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
