/**
 * What a revoke run did, and how it reads: the outcome of each action, the one-line
 * headline, whether the run failed, and the job summary. Pure: revoke mode fills the
 * report from the decision and the actions' results, then writes it.
 */
import type { DualControlOutcome } from "./dual-control.js";
import { formatIamTime } from "./grant-policy.js";
import { humanDuration } from "./grant-report.js";
import { mdEscape } from "./markdown.js";
import type { PermissionSetRunReport } from "./permission-set-revoke.js";
import type { CutoffClear, DriftFinding, Revocation, RevokePlan } from "./revoke-plan.js";

export type RevokeStatus = "revoked" | "failed" | "planned";

export interface RevokeOutcome extends Revocation {
  status: RevokeStatus;
  message: string;
  executionId?: string;
}

export interface ClearOutcome extends CutoffClear {
  status: "cleared" | "failed" | "planned";
  message: string;
  executionId?: string;
}

export interface StaleOutcome {
  pr: number;
  file: string;
  requestId: string;
  windowClosedAt: string;
  status: "closed" | "failed" | "planned";
  message: string;
}

/** The "requested" notification of one open request PR (docs/notifications.md). */
export interface RequestedOutcome {
  pr: number;
  requestIds: string[];
  /** notified: published and marked; unmarked: published, but the marker comment failed (the next run publishes again). */
  status: "notified" | "unmarked" | "failed" | "planned";
  message: string;
}

export interface RevokeReport {
  /** One line: what happened, or why the run failed. */
  headline: string;
  plan?: RevokePlan;
  outcomes: RevokeOutcome[];
  clears: ClearOutcome[];
  stale: StaleOutcome[];
  drift: DriftFinding[];
  /** Early-revoke ids with no grant policy in IAM (nothing to do). */
  notFound: string[];
  /** Problems that make this run's result incomplete (e.g. git history unreadable). */
  problems: string[];
  listingCalls: number;
  dryRun: boolean;
  /** AWS-side approval gates resolved this run (roles with awsApproval). */
  approvalGates?: DualControlOutcome[];
  /** "requested" notifications for open request PRs (scheduled runs, with a topic). */
  requested: RequestedOutcome[];
  /** SNS messages this run published, and one line per message that could not be (warnings). */
  notifications: { published: number; failed: string[] };
  /** Identity Center assignments of the catalogued permission sets (configs with permission-set roles). */
  permissionSets?: PermissionSetRunReport;
}

/** A run's report before it has done anything: no outcomes, no problems, no headline yet. */
export function emptyRevokeReport(dryRun: boolean): RevokeReport {
  return {
    headline: "",
    outcomes: [],
    clears: [],
    stale: [],
    drift: [],
    notFound: [],
    problems: [],
    listingCalls: 0,
    dryRun,
    requested: [],
    notifications: { published: 0, failed: [] },
  };
}

/** Drift left in place (reported, not revoked). */
function driftLeft(report: RevokeReport): DriftFinding[] {
  return report.drift.filter((d) => d.action === "report");
}

/**
 * A run fails when a revoke or cut-off clear failed, when drift is left in place
 * (drift = report, or drift Elevate cannot remove itself: a person must look), or
 * when part of the check could not be done. Early-revoke ids with no policy left
 * are not failures: revoking is idempotent.
 */
export function revokeFailed(report: RevokeReport): boolean {
  return (
    report.outcomes.some((o) => o.status === "failed") ||
    (report.permissionSets?.outcomes.some((o) => o.status === "failed" || o.status === "reported") ?? false) ||
    (report.permissionSets?.report.length ?? 0) > 0 ||
    report.clears.some((c) => c.status === "failed") ||
    driftLeft(report).length > 0 ||
    report.problems.length > 0
  );
}

export function headlineOf(report: RevokeReport): string {
  const failed = report.outcomes.filter((o) => o.status === "failed");
  const revoked = report.outcomes.filter((o) => o.status === "revoked" || o.status === "planned");
  const parts: string[] = [];
  if (failed.length > 0)
    parts.push(`${failed.length} revoke(s) failed: ${failed.map((o) => `${o.requestId} (${o.message})`).join("; ")}`);
  const clearFailed = report.clears.filter((c) => c.status === "failed");
  if (clearFailed.length > 0) parts.push(`${clearFailed.length} cut-off clear(s) failed`);
  const left = driftLeft(report);
  if (left.length > 0)
    parts.push(
      `${left.length} drifting polic${left.length === 1 ? "y" : "ies"} left in place: ${left.map((d) => d.policyName).join(", ")}`,
    );
  const ps = report.permissionSets;
  const psFailed = ps?.outcomes.filter((o) => o.status === "failed") ?? [];
  if (psFailed.length > 0) {
    parts.push(
      `${psFailed.length} permission-set revoke(s) failed: ${psFailed.map((o) => `${o.requestId} (${o.message})`).join("; ")}`,
    );
  }
  const psReported = ps?.outcomes.filter((o) => o.status === "reported") ?? [];
  if (psReported.length > 0) {
    parts.push(
      `${psReported.length} drifting Identity Center assignment(s) left in place: ${psReported.map((o) => `${o.userName} (${o.requestId})`).join(", ")}`,
    );
  }
  if (ps && ps.report.length > 0) parts.push(`${ps.report.length} Identity Center assignment(s) left for a person`);
  parts.push(...report.problems);
  const verb = report.dryRun ? "would revoke" : "revoked";
  const kept = report.plan?.keep.length ?? 0;
  // Both kinds: grant policies and Identity Center assignments.
  const psRevoked = ps?.outcomes.filter((o) => o.status === "revoked" || o.status === "planned").length ?? 0;
  const psDrift = ps?.outcomes.filter((o) => o.reason === "drift").length ?? 0;
  parts.push(
    `${verb} ${revoked.length + psRevoked}, kept ${kept + (ps?.kept ?? 0)}, ${report.drift.length + psDrift} drift finding(s)`,
  );
  return parts.join("; ");
}

export function revokeSummaryMarkdown(report: RevokeReport, now: Date): string {
  const lines: string[] = ["### Elevate revoke", "", mdEscape(report.headline), ""];
  lines.push(...permissionSetSummaryLines(report.permissionSets));
  if (report.outcomes.length > 0) {
    lines.push(
      "| request | user | role | reason | result | session cut-off | execution |",
      "|---|---|---|---|---|---|---|",
    );
    for (const o of report.outcomes) {
      const cut = o.cutOff ? `before ${formatIamTime(o.revokedAt)}` : `none: ${o.cutOffNote ?? ""}`;
      lines.push(
        `| ${mdEscape(o.requestId)} | ${mdEscape(o.iamUser)} | ${mdEscape(o.roleArn ?? "?")} | ${mdEscape(`${o.reason}: ${o.why}`)} | ${mdEscape(o.status === "failed" ? `failed: ${o.message}` : o.status)} | ${mdEscape(cut)} | ${mdEscape(o.executionId ?? "")} |`,
      );
    }
    lines.push("");
  }
  const keep = report.plan?.keep ?? [];
  if (keep.length > 0) {
    lines.push("| kept | user | role | window | remaining |", "|---|---|---|---|---|");
    for (const k of keep) {
      const remaining =
        k.state === "pending"
          ? `starts in ${humanDuration(k.window.notBefore.getTime() - now.getTime())}`
          : humanDuration(k.remainingMs);
      lines.push(
        `| ${mdEscape(k.requestId)}${k.drift ? " (drift)" : ""} | ${mdEscape(k.iamUser)} | ${mdEscape(k.roleArn)} | ${formatIamTime(k.window.notBefore)} – ${formatIamTime(k.window.notAfter)} | ${mdEscape(remaining)} |`,
      );
    }
    lines.push("");
  }
  if (report.clears.length > 0) {
    lines.push("| cut-off cleared | role | result |", "|---|---|---|");
    for (const c of report.clears)
      lines.push(`| ${mdEscape(c.policyName)} | ${mdEscape(c.roleName)} | ${mdEscape(`${c.status}: ${c.why}`)} |`);
    lines.push("");
  }
  if (report.drift.length > 0) {
    lines.push("| drift | policy | where | action | details |", "|---|---|---|---|---|");
    for (const d of report.drift) {
      lines.push(
        `| ${d.kind} | ${mdEscape(d.policyName)} | ${mdEscape(d.iamUser ?? d.roleArn ?? "")} | ${d.action} | ${mdEscape(d.message)} |`,
      );
    }
    lines.push("");
  }
  for (const id of report.notFound)
    lines.push(`- ${mdEscape(id)}: no grant policy in IAM (already revoked or never granted).`);
  for (const s of report.stale) {
    lines.push(
      s.status === "failed"
        ? `- ${mdEscape(s.message)}`
        : `- PR #${s.pr} (${mdEscape(s.file)}): window closed at ${s.windowClosedAt}; ${s.status}.`,
    );
  }
  for (const r of report.requested) {
    lines.push(
      `- PR #${r.pr} (${mdEscape(r.requestIds.join(", "))}): "requested" notification ${r.status}: ${mdEscape(r.message)}`,
    );
  }
  for (const f of report.notifications.failed) lines.push(`- notification not sent: ${mdEscape(f)}`);
  return lines.join("\n");
}

/** The Identity Center section: each revoke (reason, result) and the drift left for a person. */
function permissionSetSummaryLines(ps: PermissionSetRunReport | undefined): string[] {
  if (!ps || (ps.outcomes.length === 0 && ps.report.length === 0)) return [];
  const lines: string[] = [];
  if (ps.outcomes.length > 0) {
    lines.push(
      "| request | Identity Center user | permission set | account | reason | result | execution |",
      "|---|---|---|---|---|---|---|",
    );
    for (const o of ps.outcomes) {
      lines.push(
        `| ${[o.requestId, o.userName, o.permissionSetArn, o.accountId, `${o.reason}: ${o.why}`, o.status === "failed" ? `failed: ${o.message}` : o.status, o.executionId ?? ""].map(mdEscape).join(" | ")} |`,
      );
    }
    lines.push("");
  }
  for (const r of ps.report) lines.push(`- :warning: ${mdEscape(r.why)}`);
  if (ps.report.length > 0) lines.push("");
  return lines;
}
