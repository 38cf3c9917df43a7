/**
 * The notifications of a revoke run (docs/notifications.md): "revoked", "expired" and
 * "drift" for what the run did, and "requested" for open request PRs. Pure.
 */
import type { ElevateConfig } from "./config.js";
import { findRole, findUserEntry } from "./config.js";
import { formatIamTime } from "./grant-policy.js";
import { parseRoleArn } from "./grant-report.js";
import type { ElevateEvent, NotificationRun } from "./notifications.js";
import type { PermissionSetRunReport } from "./permission-set-revoke.js";
import { validateRequest } from "./request.js";
import { parseRequestPath, REQUEST_ID } from "./request-path.js";
import type { RequestedAccess } from "./requested-access.js";
import type { KnownRequest } from "./revoke-authority.js";
import type { RevokeReport } from "./revoke-report.js";

/** The pull request a "requested" notification is about. */
export interface RequestPullRequest {
  number: number;
  htmlUrl: string;
  author: string;
}

/**
 * The notifications of a revoke run's actions (docs/notifications.md): "revoked"
 * for each grant removed early, "expired" for each expired grant deleted, and
 * "drift" for each drift finding, with what was done about it. Failed revokes are
 * not "revoked" (nothing was removed): they fail the run instead. Drift that is only
 * reported is published by every run that finds it, as the run fails each time.
 */
export function revokeEvents(
  report: Pick<RevokeReport, "outcomes" | "drift">,
  known: ReadonlyMap<string, KnownRequest> | undefined,
  base: { occurredAt: Date; repository: string; run: NotificationRun },
): ElevateEvent[] {
  const events: ElevateEvent[] = [];
  const common = (requestId: string | undefined) => commonFields(requestId, known, base);
  for (const o of report.outcomes) {
    if (o.status !== "revoked" || o.reason === "drift") continue;
    const cut = o.cutOff
      ? `; sessions issued before ${formatIamTime(o.revokedAt)} cut off`
      : o.cutOffNote
        ? `; no session cut-off: ${o.cutOffNote}`
        : "";
    events.push({
      ...common(o.requestId),
      event: o.reason === "early" ? "revoked" : "expired",
      iamUser: o.iamUser,
      ...(o.roleArn !== undefined ? { roleArn: o.roleArn } : {}),
      ...(o.window ? { window: o.window } : {}),
      policyName: o.policyName,
      ...(o.executionId !== undefined ? { executionId: o.executionId } : {}),
      detail: `${o.why}${cut}`,
    });
  }
  for (const d of report.drift) {
    const outcome = report.outcomes.find((o) => o.policyName === d.policyName && o.iamUser === d.iamUser);
    const roleArn = d.roleArn ?? outcome?.roleArn;
    const done =
      outcome === undefined
        ? ""
        : outcome.status === "revoked"
          ? "; revoked"
          : outcome.status === "failed"
            ? `; the revoke failed: ${outcome.message}`
            : "";
    events.push({
      ...common(d.requestId),
      event: "drift",
      ...(d.iamUser !== undefined ? { iamUser: d.iamUser } : {}),
      ...(roleArn !== undefined && parseRoleArn(roleArn) ? { roleArn } : {}),
      ...(outcome?.window ? { window: outcome.window } : {}),
      policyName: d.policyName,
      drift: { kind: d.kind, action: d.action },
      ...(outcome?.executionId !== undefined ? { executionId: outcome.executionId } : {}),
      detail: `${d.message}${done}`,
    });
  }
  return events;
}

/**
 * The "requested" events of one open PR: one per added request file. A file that
 * validates (against the config on the default branch, with the PR author as the
 * requester) gives the whole request; one that does not gives what the path says and
 * a detail line, since the PR check already tells the author why. Text from the PR
 * only ever reaches the JSON message (escaped) and the subject (made safe by snsSubject).
 */
export function requestedEvents(input: {
  config: ElevateConfig;
  pr: RequestPullRequest;
  files: readonly { path: string; text: string | undefined }[];
  now: Date;
  repository: string;
  run: NotificationRun;
}): ElevateEvent[] {
  const { config, pr, now } = input;
  const events: ElevateEvent[] = [];
  for (const f of input.files) {
    const parsed = parseRequestPath(f.path);
    if (!parsed.ok) continue;
    const base: ElevateEvent = {
      event: "requested",
      occurredAt: now,
      repository: input.repository,
      requestId: parsed.value.id,
      file: f.path,
      pr: { number: pr.number, url: pr.htmlUrl },
      run: input.run,
    };
    const checked =
      f.text === undefined
        ? undefined
        : validateRequest({ text: f.text, path: f.path, config, author: pr.author, now });
    const request = checked?.request;
    if (request) {
      events.push({
        ...base,
        requester: request.requester,
        ...accessFields(request.access),
        role: request.role,
        ...(request.start
          ? { window: { notBefore: request.start, notAfter: new Date(request.start.getTime() + request.durationMs) } }
          : {}),
        reason: request.reason,
        ...(request.ticket ? { ticket: request.ticket } : {}),
        detail: `${request.requester} requests ${request.role} for ${request.duration}${request.start ? ` from ${formatIamTime(request.start)}` : " from the merge"}; ${request.approvals} code-owner approval(s) required`,
      });
    } else {
      const role = findRole(config, parsed.value.role);
      const user = findUserEntry(config, pr.author);
      const errors = checked?.errors.length ?? 0;
      events.push({
        ...base,
        requester: pr.author,
        // Who would get what, as far as the config tells without a valid request: an IAM role
        // names the IAM user and role, a permission set the Identity Center user, set and account.
        ...(role?.target.kind === "permissionSet"
          ? {
              ...(user?.identityCenterUser ? { identityCenterUser: user.identityCenterUser } : {}),
              permissionSetArn: role.target.permissionSetArn,
              accountId: role.target.accountId,
            }
          : {
              ...(user?.iamUser ? { iamUser: user.iamUser } : {}),
              ...(role ? { roleArn: role.target.roleArn } : {}),
            }),
        role: parsed.value.role,
        detail:
          f.text === undefined
            ? "the request file could not be read from the pull request"
            : `the request file does not validate (${errors} error(s)); the pull request's Elevate check lists them`,
      });
    }
  }
  return events;
}

/** Who gets what, in an event's fields: the IAM user and role, or the Identity Center user, permission set and account. */
function accessFields(
  access: RequestedAccess,
): Pick<ElevateEvent, "iamUser" | "roleArn" | "identityCenterUser" | "permissionSetArn" | "accountId"> {
  return access.kind === "role"
    ? { iamUser: access.iamUser, roleArn: access.roleArn }
    : {
        identityCenterUser: access.identityCenterUser,
        permissionSetArn: access.permissionSetArn,
        accountId: access.accountId,
      };
}

/**
 * The notifications of a revoke run's Identity Center work: "revoked" for an
 * assignment deleted early, "expired" for one the run deleted after its window
 * (the schedule normally does that in AWS, with no run and no message), and
 * "drift" for an assignment no grant accounts for (deleted) or one only a person
 * can remove (reported). They carry the Identity Center user, the permission set
 * and the account instead of an IAM user and role ARN.
 */
export function permissionSetRevokeEvents(
  run: Pick<PermissionSetRunReport, "outcomes" | "report">,
  known: ReadonlyMap<string, KnownRequest> | undefined,
  base: { occurredAt: Date; repository: string; run: NotificationRun },
): ElevateEvent[] {
  const events: ElevateEvent[] = [];
  const common = (requestId: string | undefined) => commonFields(requestId, known, base);
  for (const o of run.outcomes) {
    const target = {
      identityCenterUser: o.userName,
      permissionSetArn: o.permissionSetArn,
      accountId: o.accountId,
      ...(o.window ? { window: o.window } : {}),
      ...(o.executionId !== undefined ? { executionId: o.executionId } : {}),
    };
    if (o.reason === "drift") {
      if (o.status === "planned") continue;
      // "reported": the run's drift input is `report`, so the assignment was left in place.
      const reported = o.status === "reported";
      const done = reported ? "" : o.status === "revoked" ? "; revoked" : `; the revoke failed: ${o.message}`;
      events.push({
        ...common(o.requestId),
        event: "drift",
        ...target,
        drift: { kind: "unknown-assignment", action: reported ? "report" : "revoke" },
        detail: `${o.why}${done}`,
      });
      continue;
    }
    if (o.status !== "revoked") continue;
    events.push({
      ...common(o.requestId),
      event: o.reason === "revoked-early" ? "revoked" : "expired",
      ...target,
      detail: o.why,
    });
  }
  for (const r of run.report) {
    events.push({
      ...common(undefined),
      event: "drift",
      ...(r.userName !== undefined ? { identityCenterUser: r.userName } : {}),
      permissionSetArn: r.permissionSetArn,
      accountId: r.accountId,
      drift: { kind: r.principalType === "GROUP" ? "group-assignment" : "unknown-assignment", action: "report" },
      detail: r.why,
    });
  }
  return events;
}

/** What every revoke-run event says: when, where, which run, and what the request file said. */
function commonFields(
  requestId: string | undefined,
  known: ReadonlyMap<string, KnownRequest> | undefined,
  base: { occurredAt: Date; repository: string; run: NotificationRun },
) {
  const k = requestId === undefined ? undefined : known?.get(requestId);
  return {
    occurredAt: base.occurredAt,
    repository: base.repository,
    run: base.run,
    // The schema's requestId pattern: drift on a name the runbook cannot take has none.
    ...(requestId !== undefined && REQUEST_ID.test(requestId) ? { requestId } : {}),
    ...(k?.file !== undefined ? { file: k.file } : {}),
    ...(k?.requester !== undefined ? { requester: k.requester } : {}),
    ...(k?.role !== undefined ? { role: k.role } : {}),
    ...(k?.breakGlass ? { breakGlass: true } : {}),
  };
}
