/**
 * The action: read inputs, build the context, run one mode. The single
 * top-level catch turns any error into `core.setFailed` with a message a
 * person can act on.
 *
 * Each mode is loaded with a dynamic import() only when it runs: the bundle
 * splits there (scripts/build.mjs), so check mode, which runs on every PR
 * push, never loads the AWS SDK, and grant loads only what grant uses.
 */
import * as core from "@actions/core";
import { contextFromEnvironment } from "./context.js";
import { getInputs } from "./inputs.js";

export async function run(): Promise<void> {
  try {
    const inputs = getInputs();
    const ctx = contextFromEnvironment(inputs);
    switch (inputs.mode) {
      case "check": {
        const { runCheck } = await import("../modes/check.js");
        const result = await core.group("Elevate check", () => runCheck(ctx));
        if (result.failed) core.setFailed(result.headline);
        return;
      }
      case "grant": {
        // Break-glass is grant mode dispatched from elevate-breakglass.yml; the
        // action, not the trigger, decides who may use it (src/domain/break-glass.ts).
        if (ctx.eventName === "workflow_dispatch") {
          const { breakGlassFailed, reportBreakGlass, runBreakGlass } = await import("../modes/break-glass.js");
          const glass = await core.group("Elevate break-glass", () => runBreakGlass(ctx));
          await reportBreakGlass(glass);
          if (breakGlassFailed(glass)) core.setFailed(glass.issueError ?? glass.message);
          return;
        }
        // grant-run.js holds no AWS SDK code; it loads that itself once it is needed.
        const { runGrant } = await import("../modes/grant-run.js");
        const report = await core.group("Elevate grant", () => runGrant(ctx));
        const { grantFailed, reportGrant } = await import("../modes/grant-report.js");
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
        const { revokeFailed, runRevoke } = await import("../modes/revoke.js");
        const report = await core.group("Elevate revoke", () => runRevoke(ctx));
        if (revokeFailed(report)) core.setFailed(report.headline);
        return;
      }
    }
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error));
  }
}
