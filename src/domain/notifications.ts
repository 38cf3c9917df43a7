/**
 * Notifications ("Approval variants" item 2): when `aws.notifyTopicArn` is set,
 * Elevate publishes one SNS message per event. The message body is JSON with a
 * stable, versioned schema (docs/notifications.md holds the same JSON Schema as
 * `NOTIFICATION_JSON_SCHEMA`; a test keeps the two equal and validates built
 * messages against it). The SNS subject is a plain-text line that reads well
 * as an email subject.
 *
 * Pure: builds text only. Publishing (and turning a failed publish into a
 * warning that never undoes a grant) is src/modes/notify.ts.
 */
import { formatIamTime } from "./grant-policy.js";

/** The `schema` field of every message; bumped only for incompatible changes. */
export const NOTIFICATION_SCHEMA = "elevate.notification/v1";

export const NOTIFICATION_EVENTS = ["requested", "granted", "refused", "revoked", "expired", "drift"] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENTS)[number];

/**
 * SNS `Subject`: "must be ASCII text that begins with a letter, number, or
 * punctuation mark; must not include line breaks or control characters; and
 * must be less than 100 characters long" (Amazon SNS API Reference, Publish):
 * at most 99.
 */
export const SNS_SUBJECT_MAX = 99;
/** SNS message size limit for a Publish call: 256 KiB (Amazon SNS API Reference, Publish). */
export const SNS_MESSAGE_MAX_BYTES = 256 * 1024;

export interface NotificationRun {
  id: string;
  attempt: string;
  url: string;
}

/** What happened, as the modes know it. Optional fields are left out of the message when absent. */
export interface ElevateEvent {
  event: NotificationEventType;
  /** When it happened (the run's clock). */
  occurredAt: Date;
  /** "owner/repo". */
  repository: string;
  /** The request id (`requests/<role>/<id>.yaml`); break-glass grants use `breakglass-<run id>`. */
  requestId?: string;
  /** The request file, repository-relative. */
  file?: string;
  /** GitHub login of the requester (or the break-glass dispatcher). */
  requester?: string;
  iamUser?: string;
  /** Catalog key of the role (folder under requests/). */
  role?: string;
  roleArn?: string;
  /** A permission-set role: the Identity Center user name, the permission set and the account it is assigned in. */
  identityCenterUser?: string;
  permissionSetArn?: string;
  accountId?: string;
  window?: { notBefore: Date; notAfter: Date };
  reason?: string;
  ticket?: string;
  pr?: { number: number; url: string };
  /** Counted approvals (granted). */
  approvals?: readonly { login: string; reviewId: number }[];
  /** The approver cap that shortened the window (granted). */
  cappedBy?: { login: string; reviewId: number; cap: string };
  /** Granted without prior review by elevate-breakglass.yml. */
  breakGlass?: boolean;
  /** The after-the-fact review issue of a break-glass grant. */
  issue?: { number: number; url: string };
  executionId?: string;
  /** The IAM policy concerned (revoked, expired, drift). */
  policyName?: string;
  /** Drift: what kind (`unknown-request`, `window-mismatch`, …), and what Elevate did about it. */
  drift?: { kind: string; action: "revoke" | "report" };
  /** A sentence for people: why it was refused, what drifted, why it was revoked. */
  detail?: string;
  run?: NotificationRun;
}

/** The JSON message body, exactly as published (see docs/notifications.md). */
export interface NotificationMessage {
  schema: typeof NOTIFICATION_SCHEMA;
  event: NotificationEventType;
  occurredAt: string;
  repository: string;
  breakGlass: boolean;
  requestId?: string;
  file?: string;
  requester?: string;
  iamUser?: string;
  role?: string;
  roleArn?: string;
  identityCenterUser?: string;
  permissionSetArn?: string;
  accountId?: string;
  window?: { notBefore: string; notAfter: string };
  reason?: string;
  ticket?: string;
  pr?: { number: number; url: string };
  approvals?: { login: string; reviewId: number }[];
  cappedBy?: { login: string; reviewId: number; cap: string };
  issue?: { number: number; url: string };
  executionId?: string;
  policyName?: string;
  drift?: { kind: string; action: "revoke" | "report" };
  detail?: string;
  run?: NotificationRun;
}

export interface Notification {
  subject: string;
  /** JSON text of a `NotificationMessage`. */
  message: string;
}

/** The longest `detail` kept; anything longer is cut with an ellipsis (reasons are at most 500). */
const DETAIL_MAX = 2000;

/** The message object for one event; fields that are not known are left out, never null. */
export function notificationMessage(event: ElevateEvent): NotificationMessage {
  if (Number.isNaN(event.occurredAt.getTime())) throw new RangeError("notificationMessage: occurredAt is not a date");
  const out: NotificationMessage = {
    schema: NOTIFICATION_SCHEMA,
    event: event.event,
    occurredAt: formatIamTime(event.occurredAt),
    repository: event.repository,
    breakGlass: event.breakGlass === true,
  };
  if (event.requestId !== undefined) out.requestId = event.requestId;
  if (event.file !== undefined) out.file = event.file;
  if (event.requester !== undefined) out.requester = event.requester;
  if (event.iamUser !== undefined) out.iamUser = event.iamUser;
  if (event.role !== undefined) out.role = event.role;
  if (event.roleArn !== undefined) out.roleArn = event.roleArn;
  if (event.identityCenterUser !== undefined) out.identityCenterUser = event.identityCenterUser;
  if (event.permissionSetArn !== undefined) out.permissionSetArn = event.permissionSetArn;
  if (event.accountId !== undefined) out.accountId = event.accountId;
  if (event.window) {
    out.window = { notBefore: formatIamTime(event.window.notBefore), notAfter: formatIamTime(event.window.notAfter) };
  }
  if (event.reason !== undefined) out.reason = event.reason;
  if (event.ticket !== undefined) out.ticket = event.ticket;
  if (event.pr) out.pr = { number: event.pr.number, url: event.pr.url };
  if (event.approvals) out.approvals = event.approvals.map((a) => ({ login: a.login, reviewId: a.reviewId }));
  if (event.cappedBy) {
    out.cappedBy = { login: event.cappedBy.login, reviewId: event.cappedBy.reviewId, cap: event.cappedBy.cap };
  }
  if (event.issue) out.issue = { number: event.issue.number, url: event.issue.url };
  if (event.executionId !== undefined) out.executionId = event.executionId;
  if (event.policyName !== undefined) out.policyName = event.policyName;
  if (event.drift) out.drift = { kind: event.drift.kind, action: event.drift.action };
  if (event.detail !== undefined) {
    out.detail = event.detail.length > DETAIL_MAX ? `${event.detail.slice(0, DETAIL_MAX - 1)}…` : event.detail;
  }
  if (event.run) out.run = { id: event.run.id, attempt: event.run.attempt, url: event.run.url };
  return out;
}

/**
 * A subject line that is valid for SNS whatever the input: ASCII printable
 * only (anything else becomes "?"), one line, white space collapsed, at most
 * SNS_SUBJECT_MAX characters (cut with "..."), starting with a letter.
 */
export function snsSubject(text: string): string {
  let s = text
    .replace(/\s+/g, " ")
    .replace(/[^\x20-\x7e]/g, "?")
    .trim();
  if (!/^[A-Za-z0-9]/.test(s)) s = `Elevate ${s}`.trim();
  if (s.length > SNS_SUBJECT_MAX) s = `${s.slice(0, SNS_SUBJECT_MAX - 3).trimEnd()}...`;
  return s;
}

/** "alice (ec2-admin) [resize-web-asg]": who, which role and which request, as far as known. */
function whoWhat(event: ElevateEvent): string {
  const who = event.requester ?? event.iamUser ?? event.identityCenterUser;
  const parts = [
    who ?? "",
    event.role ? (who ? `(${event.role})` : event.role) : "",
    event.requestId ? `[${event.requestId}]` : "",
  ];
  const text = parts.filter((p) => p !== "").join(" ");
  return text === "" ? "a grant" : text;
}

/** The subject line for an event, e.g. "Elevate: granted alice ec2-admin until 2026-11-30 11:00 UTC". */
export function notificationSubject(event: ElevateEvent): string {
  const until = event.window ? ` until ${readableUtc(event.window.notAfter)}` : "";
  const who = event.requester ?? event.iamUser ?? event.identityCenterUser ?? "someone";
  const role = event.role ?? event.requestId ?? "a role";
  switch (event.event) {
    case "requested":
      return snsSubject(`Elevate: ${who} requests ${role}${event.pr ? ` (PR #${event.pr.number})` : ""}`);
    case "granted":
      return snsSubject(
        event.breakGlass
          ? `Elevate BREAK-GLASS: ${who} assumed ${role}${until}`
          : `Elevate: granted ${who} ${role}${until}`,
      );
    case "refused":
      return snsSubject(`Elevate: refused ${whoWhat(event)}`);
    case "revoked":
      return snsSubject(`Elevate: revoked ${whoWhat(event)}`);
    case "expired":
      return snsSubject(`Elevate: expired ${whoWhat(event)}`);
    case "drift": {
      const where = event.iamUser ? ` on ${event.iamUser}` : "";
      const action = event.drift?.action === "revoke" ? "revoked" : "reported";
      return snsSubject(`Elevate: drift ${action}${where}${event.policyName ? `: ${event.policyName}` : ""}`);
    }
  }
}

/** "2026-11-30 11:00 UTC": shorter than ISO and unambiguous in an inbox. */
function readableUtc(date: Date): string {
  const iso = formatIamTime(date);
  const seconds = iso.slice(17, 19);
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds === "00" ? 16 : 19)} UTC`;
}

/** Subject and JSON message for one event. */
export function buildNotification(event: ElevateEvent): Notification {
  return { subject: notificationSubject(event), message: JSON.stringify(notificationMessage(event)) };
}

/**
 * The JSON Schema (draft 2020-12) of `NotificationMessage`; docs/notifications.md
 * shows the same document. Additive changes (new optional fields, new event
 * names) keep the schema id; consumers should ignore fields they do not know.
 */
export const NOTIFICATION_JSON_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "elevate.notification/v1",
  title: "Elevate notification",
  type: "object",
  required: ["schema", "event", "occurredAt", "repository", "breakGlass"],
  additionalProperties: false,
  properties: {
    schema: { const: "elevate.notification/v1" },
    event: { enum: ["requested", "granted", "refused", "revoked", "expired", "drift"] },
    occurredAt: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$" },
    repository: { type: "string", pattern: "^[^/\\s]+/[^/\\s]+$" },
    breakGlass: { type: "boolean" },
    requestId: { type: "string", pattern: "^[a-z0-9][a-z0-9-]{2,62}$" },
    file: { type: "string" },
    requester: { type: "string" },
    iamUser: { type: "string" },
    role: { type: "string" },
    roleArn: { type: "string", pattern: "^arn:aws[a-z-]*:iam::\\d{12}:role/" },
    identityCenterUser: { type: "string" },
    permissionSetArn: {
      type: "string",
      pattern: "^arn:aws[a-z-]*:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9.-]{16}/ps-[a-zA-Z0-9.-]{16}$",
    },
    accountId: { type: "string", pattern: "^\\d{12}$" },
    window: {
      type: "object",
      required: ["notBefore", "notAfter"],
      additionalProperties: false,
      properties: {
        notBefore: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$" },
        notAfter: { type: "string", pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$" },
      },
    },
    reason: { type: "string" },
    ticket: { type: "string" },
    pr: {
      type: "object",
      required: ["number", "url"],
      additionalProperties: false,
      properties: { number: { type: "integer" }, url: { type: "string" } },
    },
    approvals: {
      type: "array",
      items: {
        type: "object",
        required: ["login", "reviewId"],
        additionalProperties: false,
        properties: { login: { type: "string" }, reviewId: { type: "integer" } },
      },
    },
    cappedBy: {
      type: "object",
      required: ["login", "reviewId", "cap"],
      additionalProperties: false,
      properties: { login: { type: "string" }, reviewId: { type: "integer" }, cap: { type: "string" } },
    },
    issue: {
      type: "object",
      required: ["number", "url"],
      additionalProperties: false,
      properties: { number: { type: "integer" }, url: { type: "string" } },
    },
    executionId: { type: "string" },
    policyName: { type: "string" },
    drift: {
      type: "object",
      required: ["kind", "action"],
      additionalProperties: false,
      properties: { kind: { type: "string" }, action: { enum: ["revoke", "report"] } },
    },
    detail: { type: "string" },
    run: {
      type: "object",
      required: ["id", "attempt", "url"],
      additionalProperties: false,
      properties: { id: { type: "string" }, attempt: { type: "string" }, url: { type: "string" } },
    },
  },
} as const;
