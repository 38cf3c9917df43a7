/**
 * `elevate plan --format text`: the plan for people, laid out like
 * `terraform plan` (what will be created, its attributes, a one-line summary).
 * The JSON form stays the contract for tools; this says the same thing.
 */
import { humanDuration } from "./grant-report.js";
import {
  GRANT_PERMISSION_SET_DOCUMENT,
  type PermissionSetGrantPlan,
  type PlannedGrant,
} from "./permission-set-plan.js";
import type { ValidRequest } from "./request.js";

export interface PlanTextInput {
  /** The file as given on the command line. */
  file: string;
  plan: PlannedGrant;
  request: ValidRequest;
  /** The merge time planned for. */
  mergedAt: Date;
  note?: string | undefined;
}

/** One line on what a valid request would grant, whichever its kind (`elevate validate`). */
export function requestGrantSummary(request: ValidRequest): string {
  const { access } = request;
  if (access.kind === "role") return `${request.requester} (IAM user ${access.iamUser}) may assume ${access.roleArn}`;
  return `${request.requester} (Identity Center user ${access.identityCenterUser}) may use permission set ${access.permissionSetArn} in account ${access.accountId}`;
}

function opensAt(input: PlanTextInput): string {
  const { request } = input;
  return request.start && request.start.getTime() > input.mergedAt.getTime() ? "at the requested start" : "at merge";
}

function header(input: PlanTextInput): string {
  return `Elevate plan for ${input.file}, merged at ${input.mergedAt.toISOString().replace(/\.\d{3}Z$/, "Z")} once approved:`;
}

function footer(input: PlanTextInput): string[] {
  const { request } = input;
  const lines = [
    "",
    `Plan: 1 grant. Needs ${request.approvals} approval${request.approvals === 1 ? "" : "s"} from code owners of requests/${request.role}/ (not the requester).`,
  ];
  if (input.note) lines.push(`Note: ${input.note}.`);
  return lines;
}

function table(rows: [string, string][]): string[] {
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `      ${name.padEnd(width)} = ${value}`);
}

/** The plan of a permission set: who, which permission set in which account, the window, the runbook start. */
function permissionSetPlanText(input: PlanTextInput, plan: PermissionSetGrantPlan): string {
  const ms = Date.parse(plan.notAfter) - Date.parse(plan.notBefore);
  const rows: [string, string][] = [
    ["permission set", plan.permissionSetArn],
    ["account", plan.accountId],
    ["user", `${plan.identityCenterUser}  (Identity Center user)`],
    ["instance", plan.instanceArn],
    ["not before", `${plan.notBefore}  (${opensAt(input)})`],
    ["not after", `${plan.notAfter}  (${humanDuration(ms)} later; a schedule deletes the assignment then)`],
    ["runbook", GRANT_PERMISSION_SET_DOCUMENT],
  ];
  return planLines(
    input,
    `# grant ${plan.requestId}: Identity Center user ${plan.identityCenterUser} may use ${plan.permissionSetArn} in account ${plan.accountId}`,
    `+ account assignment of the permission set in account ${plan.accountId} to user "${plan.identityCenterUser}"`,
    rows,
  );
}

/** A plan's text: the header, what it grants and changes, its rows then the request's, the footer. */
function planLines(input: PlanTextInput, grants: string, change: string, rows: [string, string][]): string {
  const { request } = input;
  const all: [string, string][] = [
    ...rows,
    ["requester", request.requester],
    ["reason", JSON.stringify(request.reason)],
  ];
  if (request.ticket !== undefined) all.push(["ticket", request.ticket]);
  return `${[header(input), "", `  ${grants}`, `  ${change}`, ...table(all), ...footer(input)].join("\n")}\n`;
}

export function planText(input: PlanTextInput): string {
  const { plan } = input;
  if (plan.kind === "permissionSet") return permissionSetPlanText(input, plan);
  const ms = Date.parse(plan.notAfter) - Date.parse(plan.notBefore);
  const rows: [string, string][] = [
    ["action", "sts:AssumeRole"],
    ["role", plan.roleArn],
    ["not before", `${plan.notBefore}  (${opensAt(input)})`],
    ["not after", `${plan.notAfter}  (${humanDuration(ms)} later; the policy expires by itself)`],
    ["session name", `${plan.iamUser}  (the switch-role session name must equal the IAM user name)`],
  ];
  return planLines(
    input,
    `# grant ${plan.requestId}: IAM user ${plan.iamUser} may assume ${plan.roleArn}`,
    `+ inline policy "${plan.policyName}" on IAM user "${plan.iamUser}"`,
    rows,
  );
}
