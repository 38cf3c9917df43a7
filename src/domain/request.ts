/**
 * Request files: `requests/<role>/<id>.yaml` (docs/request-file.md).
 *
 * `validateRequest` is the one place the request rules live; the PR check,
 * the grant, `elevate validate` and `elevate plan` all call it. It reports
 * every problem it can find in one pass (not just the first), each located at
 * the YAML node it is about, and never throws on any input.
 */
import {
  type EffectiveRole,
  type ElevateConfig,
  findRole,
  findUserEntry,
  GITHUB_LOGIN,
  MIN_REQUEST_DURATION_MS,
  sameLogin,
  type UserEntry,
} from "./config.js";
import { formatDuration, parseDuration } from "./duration.js";
import {
  FILE_START,
  type LocatedError,
  locatedError,
  quote,
  type SourcePosition,
  sortLocatedErrors,
} from "./errors.js";
import { parseRequestPath } from "./request-path.js";
import { type RequestedAccess, requestedAccess } from "./requested-access.js";
import { parseStrictYaml, type YamlMap } from "./strict-yaml.js";
import { isWindowClosed } from "./window.js";

export const REQUEST_KEYS = ["requester", "role", "duration", "reason", "ticket", "start"] as const;
export type RequestKey = (typeof REQUEST_KEYS)[number];
const REQUIRED_KEYS: readonly RequestKey[] = ["requester", "role", "duration", "reason"];

export const REASON_MIN_CHARS = 10;
export const REASON_MAX_CHARS = 500;

/**
 * How far ahead of now a request's `start` may be: 7 days. A request for next
 * quarter is a standing approval in disguise; ask nearer the time.
 */
export const MAX_START_LEAD_DAYS = 7;
export const MAX_START_LEAD_MS = MAX_START_LEAD_DAYS * 24 * 60 * 60 * 1000;

/** The error for a role that requires a ticket when the request has none. */
export function ticketRequiredMessage(roleKey: string): string {
  return `role ${quote(roleKey)} requires a ticket; add e.g. "ticket: INC-1234"`;
}

/** Ticket references such as `INC-1234`, `JIRA:OPS-42`, `org/repo#123`. */
export const TICKET = /^[A-Za-z0-9][A-Za-z0-9._/#:-]{0,63}$/;

/**
 * Characters a reason may not contain: controls (C0, C1, DEL), line and
 * paragraph separators, unpaired surrogates, private-use and unassigned code
 * points, and the bidirectional controls that can make a reason display
 * differently from what it says (CVE-2021-42574). Double-quoted YAML escapes
 * (`"\u202e"`) can produce any of these even in a file that is clean ASCII.
 */
const NOT_PRINTABLE = /[\p{Cc}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]/u;

export interface ValidRequest {
  /** Repository-relative path, `requests/<role>/<id>.yaml`. */
  path: string;
  id: string;
  role: string;
  /** What the request grants to whom (an IAM role to an IAM user, or a permission set to an Identity Center user). */
  access: RequestedAccess;
  /** The requester's GitHub login as listed under `users` in the config. */
  requester: string;
  /** Canonical duration (`1h30m`). */
  duration: string;
  durationMs: number;
  reason: string;
  ticket?: string;
  /** Requested start; the window begins at max(merge time, start). */
  start?: Date;
  /** Code-owner approvals the role requires (resolved from `defaults`). */
  approvals: number;
}

export interface ValidateRequestInput {
  /** File contents; bytes also get their UTF-8 encoding checked. */
  text: string | Uint8Array;
  /** Repository-relative path (`requests/<role>/<id>.yaml`), used for the path rules. */
  path: string;
  /** Name used in errors (the CLI passes the argument as typed); default: `path`. */
  file?: string;
  config: ElevateConfig;
  /** The PR author (or `--author`); when given, the requester must be this login. */
  author?: string | undefined;
  /** The time the request is judged at (merge time, grant time, or the CLI's `--now`). */
  now: Date;
}

export interface ValidateRequestResult {
  request?: ValidRequest;
  errors: LocatedError[];
}

// --- RFC 3339 ---------------------------------------------------------------------------------

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export type TimestampResult = { ok: true; date: Date } | { ok: false; message: string };

/**
 * An RFC 3339 timestamp with an explicit zone: `2026-11-30T09:00:00Z` or
 * `2026-11-30T18:00:00+09:00` (https://www.rfc-editor.org/rfc/rfc3339#section-5.6).
 * A missing zone is refused: the same text would mean different instants on
 * the requester's laptop and on the runner. Leap seconds (`:60`) are refused
 * because no clock Elevate compares against represents them.
 */
export function parseTimestamp(text: string): TimestampResult {
  const match = RFC3339.exec(text);
  if (!match) {
    if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i.test(text)) {
      return { ok: false, message: `${quote(text)} has no time zone; add Z (UTC) or an offset such as +09:00` };
    }
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
      return { ok: false, message: `${quote(text)} is a date without a time; write e.g. ${text}T09:00:00Z` };
    }
    return { ok: false, message: `${quote(text)} is not an RFC 3339 timestamp such as 2026-11-30T09:00:00Z` };
  }
  const [, y, mo, d, h, mi, s, frac, zone] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return { ok: false, message: `${quote(text)} is not a real date and time` };
  }
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 23 || zm > 59) return { ok: false, message: `${quote(text)} has an invalid UTC offset` };
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (zh * 60 + zm);
  }
  const millis = frac ? Math.floor(Number(`0${frac}`) * 1000) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis) - offsetMinutes * 60_000;
  // Date.UTC maps years 0..99 to 1900..1999; years that early are refused here anyway.
  if (year < 1970 || Number.isNaN(utc)) return { ok: false, message: `${quote(text)} is before 1970` };
  return { ok: true, date: new Date(utc) };
}

// --- Validation -------------------------------------------------------------------------------

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function describeCodePoint(ch: string): string {
  return `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * Validates one request file against the config and, when given, the PR author.
 * Returns the request when there are no errors, and every error otherwise.
 */
export function validateRequest(input: ValidateRequestInput): ValidateRequestResult {
  const file = input.file ?? input.path;
  const { config, now } = input;
  const errors: LocatedError[] = [];
  const fail = (at: SourcePosition, message: string) => errors.push(locatedError(file, at, message));

  const pathResult = parseRequestPath(input.path);
  if (!pathResult.ok) fail(FILE_START, pathResult.message);

  const parsed = parseStrictYaml(input.text);
  if (!parsed.ok) {
    for (const p of parsed.problems) fail(p, p.message);
    return { errors: sortLocatedErrors(errors) };
  }
  const { document } = parsed;
  const root = document.value;
  if (root === null || typeof root !== "object" || Array.isArray(root)) {
    fail(
      document.locate([]),
      `a request must be a map with ${REQUIRED_KEYS.join(", ")}; see requests/README.md for an example`,
    );
    return { errors: sortLocatedErrors(errors) };
  }
  const map: YamlMap = root;
  const at = (key: RequestKey): SourcePosition => document.locate([key]);

  for (const key of Object.keys(map)) {
    if (!(REQUEST_KEYS as readonly string[]).includes(key)) {
      fail(document.locateKey([key]), `unknown key ${quote(key)}; allowed keys: ${REQUEST_KEYS.join(", ")}`);
    }
  }

  /** The field as text, or undefined after reporting why it is not usable text. */
  const field = (key: RequestKey): string | undefined => {
    if (!Object.hasOwn(map, key)) {
      if (REQUIRED_KEYS.includes(key)) fail(document.locate([]), `missing required key ${quote(key)}`);
      return undefined;
    }
    const value = map[key];
    if (value === null || value === undefined) {
      fail(at(key), `${key} is empty`);
      return undefined;
    }
    if (typeof value !== "string") {
      fail(at(key), `${key} must be a text value, not ${Array.isArray(value) ? "a list" : "a map"}`);
      return undefined;
    }
    return value;
  };

  const requesterText = field("requester");
  const roleText = field("role");
  const durationText = field("duration");
  const reasonText = field("reason");
  const ticketText = field("ticket");
  const startText = field("start");

  // Role: equal to the folder, and in the catalog.
  let role: EffectiveRole | undefined;
  if (roleText !== undefined) {
    role = findRole(config, roleText);
    if (!role) {
      const known = Object.keys(config.roles);
      fail(
        at("role"),
        `role ${quote(roleText)} is not in the config's role catalog${known.length > 0 ? ` (roles: ${known.join(", ")})` : ""}`,
      );
    }
    if (pathResult.ok && roleText !== pathResult.value.role) {
      fail(
        at("role"),
        `role ${quote(roleText)} does not match the folder requests/${pathResult.value.role}/; move the file to requests/${roleText}/ or fix the role`,
      );
    }
  }

  // Requester: a listed user, allowed for the role, and the author when known.
  let user: UserEntry | undefined;
  if (requesterText !== undefined) {
    if (!GITHUB_LOGIN.test(requesterText)) {
      fail(at("requester"), `requester ${quote(requesterText)} is not a GitHub login`);
    } else {
      user = findUserEntry(config, requesterText);
      if (!user) {
        fail(
          at("requester"),
          `requester ${quote(requesterText)} is not listed under users in the config; ask the platform team to add them`,
        );
      } else if (role?.target.kind === "permissionSet" && user.identityCenterUser === undefined) {
        fail(
          at("requester"),
          `role ${quote(role.key)} is an Identity Center permission set, but users.${user.login} has no identityCenterUser; ask the platform team to add the requester's Identity Center user name`,
        );
      } else if (role?.target.kind === "role" && user.iamUser === undefined) {
        fail(
          at("requester"),
          `role ${quote(role.key)} is an IAM role, but users.${user.login} has no iamUser; ask the platform team to add the requester's IAM user name`,
        );
      } else if (role && !role.requesters.some((login) => sameLogin(login, requesterText))) {
        fail(
          at("requester"),
          `requester ${quote(requesterText)} may not request role ${quote(role.key)} (not in roles.${role.key}.requesters)`,
        );
      }
    }
    if (input.author !== undefined && !sameLogin(requesterText, input.author)) {
      fail(
        at("requester"),
        `requester ${quote(requesterText)} is not the pull request author ${quote(input.author)}; a request must be opened by its requester`,
      );
    }
  }

  // Duration: 15m <= d <= the role's maximum.
  let durationMs: number | undefined;
  if (durationText !== undefined) {
    const parsedDuration = parseDuration(durationText);
    if (!parsedDuration.ok) {
      fail(at("duration"), parsedDuration.message);
    } else if (parsedDuration.ms < MIN_REQUEST_DURATION_MS) {
      fail(
        at("duration"),
        `duration ${quote(durationText)} is shorter than the minimum of ${formatDuration(MIN_REQUEST_DURATION_MS)}`,
      );
    } else if (role && parsedDuration.ms > role.maxDurationMs) {
      fail(
        at("duration"),
        `duration ${quote(durationText)} is longer than the maximum of ${role.maxDuration} for role ${quote(role.key)}`,
      );
    } else {
      durationMs = parsedDuration.ms;
    }
  }

  // Reason: 10..500 printable characters on one line.
  if (reasonText !== undefined) {
    const bad = NOT_PRINTABLE.exec(reasonText);
    const length = codePoints(reasonText.trim());
    if (bad) {
      const what = bad[0] === "\n" || bad[0] === "\r" ? "a line break; keep it on one line" : describeCodePoint(bad[0]);
      fail(at("reason"), `reason contains a non-printable character (${what})`);
    } else if (length < REASON_MIN_CHARS) {
      fail(
        at("reason"),
        `reason is ${length} characters; write at least ${REASON_MIN_CHARS} saying why you need access`,
      );
    } else if (length > REASON_MAX_CHARS) {
      fail(at("reason"), `reason is ${length} characters; the limit is ${REASON_MAX_CHARS}`);
    }
  }

  // Ticket: required by some roles, always well-formed.
  if (ticketText !== undefined && !TICKET.test(ticketText)) {
    fail(
      at("ticket"),
      `ticket ${quote(ticketText)} is not a ticket reference (letters, digits and . _ / # : -, at most 64, e.g. INC-1234)`,
    );
  }
  if (role?.requireTicket && !Object.hasOwn(map, "ticket")) {
    fail(document.locate([]), ticketRequiredMessage(role.key));
  }

  // Start: RFC 3339 with a zone; the requested window must not have closed already,
  // and must not open more than MAX_START_LEAD_DAYS ahead (the stack's grant runbook
  // refuses such a NotBefore by itself: MaxGrantLeadTime, 168h by default).
  let start: Date | undefined;
  if (startText !== undefined) {
    const parsedStart = parseTimestamp(startText);
    if (!parsedStart.ok) {
      fail(at("start"), `start ${parsedStart.message}`);
    } else {
      start = parsedStart.date;
      const lead = start.getTime() - now.getTime();
      if (lead > MAX_START_LEAD_MS) {
        fail(
          at("start"),
          `start ${start.toISOString()} is more than ${MAX_START_LEAD_DAYS} days after ${now.toISOString()}; a request may start at most ${MAX_START_LEAD_DAYS} days ahead, so ask nearer the time`,
        );
      } else if (durationMs !== undefined) {
        const requestedEnd = new Date(start.getTime() + durationMs);
        if (isWindowClosed({ notBefore: start, notAfter: requestedEnd }, now)) {
          fail(
            at("start"),
            `the requested window closed at ${requestedEnd.toISOString()} (start + duration is before ${now.toISOString()}); remove start or pick a later one`,
          );
        }
      }
    }
  }

  // Undefined only when the user has no identity of the role's kind, which is refused above.
  const access = role && user ? requestedAccess(role.target, user) : undefined;
  if (
    errors.length > 0 ||
    !pathResult.ok ||
    !role ||
    !user ||
    !access ||
    durationMs === undefined ||
    reasonText === undefined
  ) {
    return { errors: sortLocatedErrors(errors) };
  }
  const request: ValidRequest = {
    path: input.path,
    id: pathResult.value.id,
    role: role.key,
    access,
    requester: user.login,
    duration: formatDuration(durationMs),
    durationMs,
    reason: reasonText,
    approvals: role.approvals,
  };
  if (ticketText !== undefined) request.ticket = ticketText;
  if (start !== undefined) request.start = start;
  return { request, errors: [] };
}
