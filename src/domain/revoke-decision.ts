/**
 * The revoke run's one decision. Revoke mode gathers the facts (IAM, git, SSM, the
 * workflow event; src/modes/revoke-facts.ts), calls `decideRevoke`, performs the
 * actions it returns and reports. Pure: no I/O, and the only time is `facts.now`,
 * which revoke mode takes from AWS's responses (docs/threat-model.md "Time").
 *
 * Actions are a discriminated union (`kind`, and `target` for the kind of access they
 * act on), so that another kind of grant (Identity Center account assignments) or a
 * cut-off in another account joins as another member, not as optional fields.
 */
import { breakGlassGrantOf, parseBreakGlassEvidence } from "./break-glass.js";
import type { DualControlOutcome } from "./dual-control.js";
import type { GrantRecord, KnownRequest } from "./revoke-authority.js";
import { accountGrantRecords, sourceOf } from "./revoke-authority.js";
import type { Inventory } from "./revoke-inventory.js";
import { type CutoffClear, planRevocations, type Revocation, type RevokePlan } from "./revoke-plan.js";
import { clearCutoffStart, type RunbookSettings, type RunbookStart, revokeStart } from "./revoke-runbooks.js";

/** A fact read from a source that may fail: the decision says what it could not judge without it. */
export type Readout<T> = { ok: true; value: T } | { ok: false; error: string };

export interface RevokeFacts {
  /** AWS's time (the Date of its responses), never the runner's clock. */
  now: Date;
  /** The `drift` input: revoke drifting grants, or only report them. */
  driftMode: "revoke" | "report";
  /** Where the runbooks run: the automation role and the documents. */
  settings: RunbookSettings;
  /** Every grant policy, cut-off and role budget in the hub account (IAM). */
  iam: Inventory;
  /** Request ids to revoke now, each with the reason for the report (dispatch input, request files deleted by this push). */
  earlyRevokeIds: ReadonlyMap<string, string>;
  /**
   * Request files added on the default branch, with the request facts of the live
   * grants; an error when git history could not be read (drift is then not judged).
   */
  mergedRequests: Readout<ReadonlyMap<string, KnownRequest>>;
  /**
   * The successful Elevate-Grant executions with their parameters (SSM), since
   * `grantRecordsSince`; undefined when not read (needed only with live grants and
   * readable git history: with live grants and no records, drift is not judged).
   */
  grantRecords: Readout<readonly GrantRecord[]> | undefined;
  /** Texts of the evidence notes, read only when a live grant is a break-glass one: who dispatched it, for messages. Never an authority. */
  evidenceNotes: readonly string[];
  /** The AWS-side approval gates resolved before the inventory was read (an approved gate fixes its grant's window). */
  approvalGates: readonly DualControlOutcome[];
}

export type RevokeAction =
  | {
      kind: "clear-cutoff";
      /** An `elevate-cutoff-<user>` inline policy on a role of the hub account. */
      target: "iam-role";
      clear: CutoffClear;
      runbook: RunbookStart;
    }
  | {
      kind: "revoke-grant";
      /** An `elevate-<id>` inline policy on an IAM user (and its cut-off on the role). */
      target: "iam-user-policy";
      revocation: Revocation;
      /** An error when the runbook cannot be given this revocation (the revoke then fails). */
      runbook: RunbookStart | { error: string };
    };

export interface Annotation {
  title: string;
  message: string;
}

export interface RevokeDecision {
  plan: RevokePlan;
  /** The requests as judged (merged requests, gates, Elevate-Grant records, break-glass); undefined when drift was not judged. */
  known: ReadonlyMap<string, KnownRequest> | undefined;
  /** In order: every cut-off clear first (they free the role budget this run's new cut-offs were planned against), then the revokes. */
  actions: RevokeAction[];
  /** Why this run's judgment is incomplete; each fails the run. */
  problems: string[];
  /** Warning annotations, in order. */
  warnings: Annotation[];
}

const NOT_JUDGED = "drift was not judged this run, expired and withdrawn grants were still revoked";

export function decideRevoke(facts: RevokeFacts): RevokeDecision {
  const problems: string[] = [];
  const warnings: Annotation[] = [];
  const notJudged = (why: string): void => {
    problems.push(why);
    warnings.push({ title: "Elevate: drift not checked", message: why });
  };
  const known = judgedRequests(facts, notJudged);
  const plan = planRevocations({
    inventory: facts.iam,
    now: facts.now,
    earlyRevokeIds: known ? facts.earlyRevokeIds : withdrawnInGit(facts),
    knownRequests: known,
    driftMode: facts.driftMode,
  });
  for (const d of plan.drift) {
    warnings.push({
      title: `Elevate: drift (${d.kind}, ${d.action === "revoke" ? "revoked" : "reported"})`,
      message: d.message,
    });
  }
  const actions: RevokeAction[] = [
    ...plan.clearCutoffs.map(
      (clear): RevokeAction => ({
        kind: "clear-cutoff",
        target: "iam-role",
        clear,
        runbook: clearCutoffStart(facts.settings, clear),
      }),
    ),
    ...plan.revoke.map(
      (revocation): RevokeAction => ({
        kind: "revoke-grant",
        target: "iam-user-policy",
        revocation,
        runbook: revokeStart(facts.settings, revocation),
      }),
    ),
  ];
  return { plan, known, actions, problems, warnings };
}

/**
 * With drift not judged for want of SSM, git history still says which request files
 * were deleted (a push run that was missed): those grants are withdrawn all the same,
 * as the problem line promises. Revoking only takes access away.
 */
function withdrawnInGit(facts: RevokeFacts): ReadonlyMap<string, string> {
  if (!facts.mergedRequests.ok) return facts.earlyRevokeIds;
  const early = new Map(facts.earlyRevokeIds);
  for (const g of facts.iam.grants) {
    const entry = facts.mergedRequests.value.get(g.requestId);
    if (entry?.deleted && !early.has(g.requestId)) {
      early.set(g.requestId, `its request file ${sourceOf(entry)} is no longer on the default branch`);
    }
  }
  return early;
}

/**
 * The merged requests completed with what AWS says was granted: the window an approved
 * gate fixed, the Elevate-Grant records of each live grant, a break-glass grant known
 * from its execution alone (described from its evidence line when that line matches).
 * Undefined (drift not judged) when git or SSM could not be read: without the records
 * a break-glass grant would look unaccounted for and be revoked.
 */
function judgedRequests(
  facts: RevokeFacts,
  notJudged: (why: string) => void,
): ReadonlyMap<string, KnownRequest> | undefined {
  if (!facts.mergedRequests.ok) {
    notJudged(`git history could not be read (${facts.mergedRequests.error}); ${NOT_JUDGED}`);
    return undefined;
  }
  // Copies: the facts stay as gathered.
  const known = new Map<string, KnownRequest>();
  for (const [id, entry] of facts.mergedRequests.value) known.set(id, { ...entry });
  // A grant attached for an approved AWS-side gate starts at the approval, which the
  // gate's own record in SSM fixes: the trusted gate is the authority for its window.
  for (const gate of facts.approvalGates) {
    const entry = gate.requestId === undefined ? undefined : known.get(gate.requestId);
    if (gate.status !== "granted" || !entry || entry.granted) continue;
    if (!gate.iamUser || !gate.roleArn || !gate.notBefore || !gate.notAfter) continue;
    entry.granted = {
      iamUser: gate.iamUser,
      roleArn: gate.roleArn,
      notBefore: new Date(gate.notBefore),
      notAfter: new Date(gate.notAfter),
    };
  }
  const liveIds = facts.iam.grants.map((g) => g.requestId);
  if (liveIds.length === 0) return known;
  const records = facts.grantRecords ?? { ok: false, error: "they were not read" };
  if (!records.ok) {
    notJudged(`the Elevate-Grant executions could not be read from SSM (${records.error}); ${NOT_JUDGED}`);
    return undefined;
  }
  accountGrantRecords(known, records.value, liveIds);
  describeBreakGlass(known, facts.evidenceNotes);
  return known;
}

/**
 * Who dispatched a break-glass grant and for which catalog role, for the messages
 * people read (notifications): taken from its evidence line only when that line
 * describes exactly the grant its Elevate-Grant execution made. Accounts for nothing:
 * the execution already did (accountGrantRecords). Mutates the entries of `known`.
 */
export function describeBreakGlass(known: ReadonlyMap<string, KnownRequest>, notes: Iterable<string>): void {
  for (const text of notes) {
    for (const evidence of parseBreakGlassEvidence(text)) {
      const entry = known.get(evidence.requestId);
      const grant = breakGlassGrantOf(evidence);
      if (!entry?.breakGlass || !grant || entry.requester !== undefined) continue;
      const matches = (entry.grantRecords ?? []).some(
        (r) =>
          r.iamUser === grant.iamUser &&
          r.roleArn === grant.roleArn &&
          r.notBefore.getTime() === grant.notBefore.getTime() &&
          r.notAfter.getTime() === grant.notAfter.getTime(),
      );
      if (!matches) continue;
      entry.requester = evidence.requester;
      if (evidence.role) entry.role = evidence.role;
    }
  }
}
