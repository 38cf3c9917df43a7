/**
 * `elevate plan --format text`: the plan for people, laid out like
 * `terraform plan` (what will be created, its attributes, a one-line summary).
 * The JSON form stays the contract for tools; this says the same thing.
 */
import { humanDuration } from "./grant-report.js";
import type { GrantPlan } from "./plan.js";
import type { ValidRequest } from "./request.js";

export interface PlanTextInput {
  /** The file as given on the command line. */
  file: string;
  plan: GrantPlan;
  request: ValidRequest;
  /** The merge time planned for. */
  mergedAt: Date;
  note?: string | undefined;
}

export function planText(input: PlanTextInput): string {
  const { plan, request } = input;
  const notBefore = Date.parse(plan.notBefore);
  const notAfter = Date.parse(plan.notAfter);
  const opens =
    request.start && request.start.getTime() > input.mergedAt.getTime() ? "at the requested start" : "at merge";
  const rows: [string, string][] = [
    ["action", "sts:AssumeRole"],
    ["role", plan.roleArn],
    ["not before", `${plan.notBefore}  (${opens})`],
    ["not after", `${plan.notAfter}  (${humanDuration(notAfter - notBefore)} later; the policy expires by itself)`],
    ["session name", `${plan.iamUser}  (the switch-role session name must equal the IAM user name)`],
    ["requester", request.requester],
    ["reason", JSON.stringify(request.reason)],
  ];
  if (request.ticket !== undefined) rows.push(["ticket", request.ticket]);
  const width = Math.max(...rows.map(([name]) => name.length));
  const lines = [
    `Elevate plan for ${input.file}, merged at ${input.mergedAt.toISOString().replace(/\.\d{3}Z$/, "Z")} once approved:`,
    "",
    `  # grant ${plan.requestId}: IAM user ${plan.iamUser} may assume ${plan.roleArn}`,
    `  + inline policy "${plan.policyName}" on IAM user "${plan.iamUser}"`,
    ...rows.map(([name, value]) => `      ${name.padEnd(width)} = ${value}`),
    "",
    `Plan: 1 grant. Needs ${request.approvals} approval${request.approvals === 1 ? "" : "s"} from code owners of requests/${request.role}/ (not the requester).`,
  ];
  if (input.note) lines.push(`Note: ${input.note}.`);
  return `${lines.join("\n")}\n`;
}
