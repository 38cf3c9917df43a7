/**
 * `elevate plan FILE`: what merging the request would grant, as JSON
 * (README.md "CLI"): the same plan the PR check posts and grant mode executes.
 */
import type { ElevateConfig } from "../domain/config.js";
import type { LocatedError } from "../domain/errors.js";
import { FILE_START, locatedError } from "../domain/errors.js";
import {
  buildPermissionSetPlan,
  GRANT_PERMISSION_SET_DOCUMENT,
  type PermissionSetGrantPlan,
  type PlannedGrant,
  permissionSetGrantParameters,
} from "../domain/permission-set-plan.js";
import { buildGrantPlan } from "../domain/plan.js";
import type { ValidRequest } from "../domain/request.js";
import { checkRequestFiles, loadWorkspaceConfig, openWorkspace } from "./validate.js";

export interface PlanInput {
  cwd: string;
  config?: string | undefined;
  file: string;
  /** The merge time to plan for (the CLI's `--merged-at`, default now). */
  mergedAt: Date;
}

export type PlanOutcome =
  | { status: "config-error"; errors: LocatedError[] }
  | { status: "unreadable"; errors: LocatedError[] }
  | { status: "invalid"; errors: LocatedError[] }
  | {
      status: "planned";
      plan: PlannedGrant;
      /** What `elevate plan` prints as JSON: the plan; for a permission set, also the runbook start. */
      json: PlannedGrant | PermissionSetPlanOutput;
      request: ValidRequest;
      note?: string | undefined;
    };

/** `elevate plan`'s JSON for a permission set: the plan, and the runbook start it stands for. */
export type PermissionSetPlanOutput = PermissionSetGrantPlan & {
  runbook: { document: string; parameters: Record<string, string> };
};

export async function runPlan(input: PlanInput): Promise<PlanOutcome> {
  const workspace = await openWorkspace(input.cwd);
  const loaded = await loadWorkspaceConfig(workspace, input.config);
  if (!loaded.ok) return { status: "config-error", errors: loaded.errors };
  // The grant judges the request at merge time, so the plan does too.
  const [check] = await checkRequestFiles({
    workspace,
    config: loaded.config,
    files: [input.file],
    now: input.mergedAt,
  });
  if (!check) throw new Error("runPlan: no result for the file");
  if (check.unreadable) return { status: "unreadable", errors: check.errors };
  if (!check.request) return { status: "invalid", errors: check.errors };
  const request = check.request;
  if (request.access.kind === "permissionSet") {
    const planned = buildPermissionSetPlan(request, loaded.config, input.mergedAt);
    if (!planned.ok) return { status: "invalid", errors: [locatedError(input.file, FILE_START, planned.message)] };
    return {
      status: "planned",
      plan: planned.plan,
      json: planJson(planned.plan, loaded.config),
      request,
      note: check.note,
    };
  }
  const planned = buildGrantPlan(request, loaded.config, input.mergedAt);
  if (!planned.ok) return { status: "invalid", errors: [locatedError(input.file, FILE_START, planned.message)] };
  const plan: PlannedGrant = { kind: "role", ...planned.plan };
  return { status: "planned", plan, json: plan, request, note: check.note };
}

function planJson(plan: PermissionSetGrantPlan, config: ElevateConfig): PermissionSetPlanOutput {
  return {
    ...plan,
    runbook: { document: GRANT_PERMISSION_SET_DOCUMENT, parameters: permissionSetGrantParameters(config, plan) },
  };
}
