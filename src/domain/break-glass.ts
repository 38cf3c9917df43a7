/**
 * Break-glass ("Approval variants" item 4): a role with `breakGlass:` in the
 * config can be granted to a listed user by a manual dispatch of
 * elevate-breakglass.yml, without prior review, for at most the role's
 * `breakGlass.maxDuration` (never above 1h). The review happens afterwards, in
 * an issue assigned to the role's code owners (docs/break-glass.md).
 *
 * Who may dispatch is decided here, from the config, and not assumed from the
 * trigger: GitHub lets anyone with write access dispatch a workflow, so the
 * dispatcher is checked against `users` and the break-glass requesters like
 * any requester. Pure: no I/O, time is a parameter.
 */
import { type ElevateConfig, findRole, findUser, GITHUB_LOGIN, MIN_REQUEST_DURATION_MS, sameLogin } from "./config.js";
import { formatDuration, parseDuration } from "./duration.js";
import { quote } from "./errors.js";
import { formatIamTime, grantPolicyBudgetProblem, grantPolicyDocument, grantPolicyName } from "./grant-policy.js";
import { mdEscape } from "./markdown.js";
import type { GrantPlan } from "./plan.js";
import { REASON_MAX_CHARS, REASON_MIN_CHARS, TICKET } from "./request.js";
import { computeWindow } from "./window.js";

/** Request ids of break-glass grants: `breakglass-<workflow run id>`; the policy is `elevate-breakglass-<run id>`. */
export const BREAK_GLASS_ID_PREFIX = "breakglass-";

export function breakGlassRequestId(runId: string): string {
  return `${BREAK_GLASS_ID_PREFIX}${runId}`;
}

export interface BreakGlassInput {
  config: ElevateConfig;
  /** The dispatcher: `sender.login` of the workflow_dispatch event. */
  actor: string;
  /** The dispatch inputs, as the runner delivers them (strings; absent or empty when not given). */
  role: string | undefined;
  duration: string | undefined;
  reason: string | undefined;
  ticket: string | undefined;
  /** GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT of the break-glass run. */
  runId: string;
  runAttempt: string;
  now: Date;
}

export interface BreakGlassPlan {
  requestId: string;
  /** Catalog key of the role. */
  role: string;
  /** The dispatcher's login as listed under `users`. */
  requester: string;
  iamUser: string;
  /** Canonical duration (`45m`). */
  duration: string;
  durationMs: number;
  /** The role's break-glass ceiling, canonical. */
  maxDuration: string;
  reason: string;
  ticket?: string;
  /** The grant exactly as a reviewed request would get it: same policy text, same runbook. */
  grant: GrantPlan;
}

export type BreakGlassResult = { ok: true; plan: BreakGlassPlan } | { ok: false; errors: string[] };

/**
 * Characters a reason may not contain; the same rule as `reason` in request
 * files (src/domain/request.ts, a test holds the two to the same answers):
 * controls, separators, surrogates, private-use, unassigned and bidi controls.
 */
const NOT_PRINTABLE = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u;

function reasonProblem(reason: string): string | undefined {
  const bad = NOT_PRINTABLE.exec(reason);
  if (bad) {
    const ch = bad[0];
    const what =
      ch === "\n" || ch === "\r"
        ? "a line break; keep it on one line"
        : `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
    return `reason contains a non-printable character (${what})`;
  }
  const length = [...reason.trim()].length;
  if (length < REASON_MIN_CHARS) {
    return `reason is ${length} characters; write at least ${REASON_MIN_CHARS} saying why you need access`;
  }
  if (length > REASON_MAX_CHARS) return `reason is ${length} characters; the limit is ${REASON_MAX_CHARS}`;
  return undefined;
}

/**
 * Decides whether `actor` may break glass on `role` now, and builds the grant.
 * Every problem is reported, not just the first.
 */
export function authorizeBreakGlass(input: BreakGlassInput): BreakGlassResult {
  const { config } = input;
  const errors: string[] = [];
  const roleKey = (input.role ?? "").trim();
  const durationText = (input.duration ?? "").trim();
  const reason = input.reason ?? "";
  const ticket = (input.ticket ?? "").trim();

  if (!/^[1-9][0-9]{0,19}$/.test(input.runId)) errors.push(`the run id ${quote(input.runId)} is not a workflow run id`);
  if (input.runAttempt !== "1") {
    // A re-run would grant again with a fresh window (an extension nobody dispatched):
    // the payload of a re-run still names the original dispatcher.
    errors.push(
      `this is attempt ${input.runAttempt} of run ${input.runId}; a break-glass run cannot be re-run (it would grant a new window on the original dispatcher's behalf), dispatch the workflow again instead`,
    );
  }

  const role = roleKey === "" ? undefined : findRole(config, roleKey);
  if (roleKey === "") {
    errors.push("no role given; set the 'role' input to a role of the config's catalog");
  } else if (!role) {
    const glassRoles = Object.keys(config.roles).filter((key) => findRole(config, key)?.breakGlass);
    errors.push(
      `role ${quote(roleKey)} is not in the config's role catalog${glassRoles.length > 0 ? ` (break-glass roles: ${glassRoles.join(", ")})` : ""}`,
    );
  } else if (!role.breakGlass) {
    errors.push(
      `role ${quote(roleKey)} does not allow break-glass (roles.${roleKey}.breakGlass is not set); request it with a pull request instead`,
    );
  }
  const glass = role?.breakGlass;
  // loadConfig allows breakGlass on IAM roles only; a permission set is refused here all the same.
  const target = role?.target.kind === "role" ? role.target : undefined;
  if (glass && !target)
    errors.push(`role ${quote(roleKey)} is an Identity Center permission set; break-glass grants IAM roles only`);

  const user = GITHUB_LOGIN.test(input.actor) ? findUser(config, input.actor) : undefined;
  if (!GITHUB_LOGIN.test(input.actor)) {
    errors.push(`the dispatcher ${quote(input.actor)} is not a GitHub user login; only people can break glass`);
  } else if (!user) {
    errors.push(`${quote(input.actor)} is not listed under users in the config, so they cannot break glass`);
  } else if (glass && !glass.requesters.some((login) => sameLogin(login, input.actor))) {
    const list = config.roles[roleKey]?.breakGlass?.requesters ? "breakGlass.requesters" : "requesters";
    errors.push(
      `${quote(input.actor)} may not break glass on role ${quote(roleKey)} (not in roles.${roleKey}.${list})`,
    );
  }

  let durationMs: number | undefined;
  if (glass) {
    if (durationText === "") {
      durationMs = glass.maxDurationMs;
    } else {
      const parsed = parseDuration(durationText);
      if (!parsed.ok) errors.push(parsed.message);
      else if (parsed.ms < MIN_REQUEST_DURATION_MS) {
        errors.push(
          `duration ${quote(durationText)} is shorter than the minimum of ${formatDuration(MIN_REQUEST_DURATION_MS)}`,
        );
      } else if (parsed.ms > glass.maxDurationMs) {
        errors.push(
          `duration ${quote(durationText)} is longer than the break-glass maximum of ${glass.maxDuration} for role ${quote(roleKey)}`,
        );
      } else durationMs = parsed.ms;
    }
  }

  const reasonIssue = reasonProblem(reason);
  if (reasonIssue) errors.push(reasonIssue);
  if (ticket !== "" && !TICKET.test(ticket)) {
    errors.push(
      `ticket ${quote(ticket)} is not a ticket reference (letters, digits and . _ / # : -, at most 64, e.g. INC-1234)`,
    );
  }
  if (role?.requireTicket && ticket === "")
    errors.push(`role ${quote(roleKey)} requires a ticket; set the 'ticket' input`);

  if (errors.length > 0 || !role || !target || !glass || !user || durationMs === undefined)
    return { ok: false, errors };

  const requestId = breakGlassRequestId(input.runId);
  const window = computeWindow({ mergedAt: input.now, durationMs });
  const policyInput = {
    requestId,
    iamUser: user.iamUser,
    roleArn: target.roleArn,
    notBefore: window.notBefore,
    notAfter: window.notAfter,
  };
  const overBudget = grantPolicyBudgetProblem(policyInput);
  if (overBudget) return { ok: false, errors: [overBudget] };
  const plan: BreakGlassPlan = {
    requestId,
    role: role.key,
    requester: user.login,
    iamUser: user.iamUser,
    duration: formatDuration(durationMs),
    durationMs,
    maxDuration: glass.maxDuration,
    reason: reason.trim(),
    grant: {
      requestId,
      iamUser: user.iamUser,
      roleArn: target.roleArn,
      notBefore: formatIamTime(window.notBefore),
      notAfter: formatIamTime(window.notAfter),
      policyName: grantPolicyName(requestId),
      policyDocument: grantPolicyDocument(policyInput),
    },
  };
  if (ticket !== "") plan.ticket = ticket;
  return { ok: true, plan };
}

// --- Evidence ---------------------------------------------------------------------------------

/**
 * The git note line a break-glass grant leaves on the commit the workflow ran
 * at (refs/notes/elevate), so the audit log and the revoker can account for a
 * grant that has no request file. Nothing secret: who, what, when, why.
 */
export interface BreakGlassEvidence {
  schema: "elevate.breakglass/v1";
  event: "granted" | "refused";
  requestId: string;
  requester: string;
  iamUser?: string;
  role?: string;
  roleArn?: string;
  reason?: string;
  ticket?: string;
  /** The commit of the default branch the workflow ran at (GITHUB_SHA). */
  commit: string;
  window?: { notBefore: string; notAfter: string };
  execution?: { id: string; status: string };
  issue?: { number: number; url: string };
  refusal?: string;
  run: { id: string; attempt: string; url: string };
  recordedAt: string;
}

/** Break-glass evidence lines of a note; other lines (grant evidence, people's notes) are skipped. */
export function parseBreakGlassEvidence(text: string): BreakGlassEvidence[] {
  const out: BreakGlassEvidence[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed.startsWith("{")) continue;
    try {
      const value = JSON.parse(trimmed) as Partial<BreakGlassEvidence> | null;
      if (
        value?.schema === "elevate.breakglass/v1" &&
        (value.event === "granted" || value.event === "refused") &&
        typeof value.requestId === "string" &&
        value.requestId.startsWith(BREAK_GLASS_ID_PREFIX) &&
        typeof value.requester === "string"
      ) {
        out.push(value as BreakGlassEvidence);
      }
    } catch {
      // Not ours.
    }
  }
  return out;
}

/**
 * The grant a "granted" break-glass evidence line accounts for, in the shape
 * the revoker compares IAM against (`KnownRequest.granted`); undefined for
 * refusals and incomplete lines.
 */
export function breakGlassGrantOf(
  evidence: BreakGlassEvidence,
): { requestId: string; iamUser: string; roleArn: string; notBefore: Date; notAfter: Date } | undefined {
  if (evidence.event !== "granted" || !evidence.iamUser || !evidence.roleArn || !evidence.window) return undefined;
  const notBefore = new Date(evidence.window.notBefore);
  const notAfter = new Date(evidence.window.notAfter);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) return undefined;
  return { requestId: evidence.requestId, iamUser: evidence.iamUser, roleArn: evidence.roleArn, notBefore, notAfter };
}

// --- The after-the-fact review issue -----------------------------------------------------------

export interface BreakGlassIssueInput {
  plan: BreakGlassPlan;
  roleArn: string;
  executionId: string;
  runUrl: string;
  /** The code owners of requests/<role>/ as written in CODEOWNERS: `@user`, `@org/team`, emails. */
  owners: readonly string[];
  /** Where the evidence note is (commit of the default branch). */
  commit: string;
}

/**
 * Title and body of the review issue. Dispatcher-supplied text (reason, ticket)
 * is escaped (src/domain/markdown.ts), never Markdown; the other values come
 * from the config, IAM and SSM in their own restricted alphabets.
 */
export function breakGlassIssue(input: BreakGlassIssueInput): { title: string; body: string; assignees: string[] } {
  const { plan } = input;
  const title = `Break-glass: ${plan.requester} assumed ${plan.role} until ${plan.grant.notAfter}`;
  const mentions = input.owners.filter((o) => o.startsWith("@"));
  const assignees = mentions.filter((o) => !o.includes("/")).map((o) => o.slice(1));
  const body = [
    `@${plan.requester} granted themselves role **${plan.role}** without prior review (break-glass).`,
    "",
    "| | |",
    "|---|---|",
    `| IAM user | \`${plan.iamUser}\` |`,
    `| Role | \`${input.roleArn}\` |`,
    `| Window | ${plan.grant.notBefore} – ${plan.grant.notAfter} (${plan.duration}; break-glass maximum ${plan.maxDuration}) |`,
    `| Reason | ${mdEscape(plan.reason)} |`,
    `| Ticket | ${plan.ticket ? mdEscape(plan.ticket) : "none given"} |`,
    `| Grant policy | \`${plan.grant.policyName}\` |`,
    `| Execution | \`${input.executionId}\` |`,
    `| Run | ${input.runUrl} |`,
    `| Evidence | git note \`refs/notes/elevate\` on ${input.commit} |`,
    "",
    `Review requested from the code owners of \`requests/${plan.role}/\`: ${mentions.length > 0 ? mentions.join(" ") : "(none found in CODEOWNERS)"}.`,
    "",
    "Please review this access after the fact: was it needed, was it used as stated? To end it early, run",
    `the Elevate revoke workflow with \`request: ${plan.requestId}\`. It expires by itself at ${plan.grant.notAfter}.`,
    "Close this issue when the review is done.",
  ].join("\n");
  return { title, body, assignees };
}
