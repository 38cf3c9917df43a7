/**
 * The revoke side of the approval variants: break-glass grants known from their
 * evidence notes, the reserved `breakglass-` id prefix, approver-capped windows
 * judged against their evidence, and the notifications a revoke run publishes.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BREAK_GLASS_ID_PREFIX, type BreakGlassEvidence } from "../../src/domain/break-glass.js";
import { loadConfig } from "../../src/domain/config.js";
import { grantPolicyText, parseGrantPolicy } from "../../src/domain/grant-policy.js";
import type { GrantEvidence } from "../../src/domain/grant-report.js";
import { buildNotification } from "../../src/domain/notifications.js";
import { validateRequest } from "../../src/domain/request.js";
import { parseRequestPath, RESERVED_ID_PREFIX } from "../../src/domain/request-path.js";
import {
  accountGrantRecords,
  driftOf,
  type Inventory,
  type InventoryGrant,
  type KnownRequest,
  planRevocations,
} from "../../src/domain/revoke-plan.js";
import { readAllNotes, readKnownRequests } from "../../src/modes/inventory.js";
import { type RevokeOutcome, requestedEvents, revokeEvents } from "../../src/modes/revoke.js";
import { schemaProblems } from "../e2e/revoke-variants-support.js";
import { exampleConfig, IC_CONFIG, IC_PERMISSION_SET, requestText, VALID_EC2 } from "./domain-fixtures.js";

const ACCOUNT = "123456789012";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/elevated/EC2_FullAccess_Role`;
const T = (iso: string) => new Date(iso);

function grant(requestId: string, iamUser: string, notBefore: string, notAfter: string): InventoryGrant {
  const text = grantPolicyText({ requestId, iamUser, roleArn: ROLE, notBefore: T(notBefore), notAfter: T(notAfter) });
  const policy = parseGrantPolicy(text);
  if (!policy) throw new Error("fixture policy does not parse");
  return { iamUser, policyName: `elevate-${requestId}`, requestId, policy };
}

function inventory(grants: InventoryGrant[]): Inventory {
  return {
    accountId: ACCOUNT,
    grants,
    cutoffs: [],
    roles: new Map([[ROLE, { arn: ROLE, name: "EC2_FullAccess_Role", inlinePolicySizes: new Map() }]]),
  };
}

describe("the breakglass- id prefix is reserved", () => {
  it("is the prefix break-glass grants use", () => {
    expect(RESERVED_ID_PREFIX).toBe(BREAK_GLASS_ID_PREFIX);
  });

  it("refuses a request file named breakglass-*, with a located error; other ids starting alike are fine", () => {
    const refused = parseRequestPath("requests/ec2-admin/breakglass-123.yaml");
    expect(refused).toEqual({
      ok: false,
      message: expect.stringContaining('ids starting with "breakglass-" are reserved for break-glass grants'),
    });
    expect(parseRequestPath("requests/ec2-admin/breakglassy.yaml").ok).toBe(true);
    expect(parseRequestPath("requests/ec2-admin/my-breakglass-drill.yml").ok).toBe(true);

    const checked = validateRequest({
      text: requestText(VALID_EC2),
      path: "requests/ec2-admin/breakglass-7.yaml",
      config: exampleConfig(),
      author: "alice",
      now: T("2026-11-30T08:00:00Z"),
    });
    expect(checked.request).toBeUndefined();
    expect(checked.errors).toEqual([
      expect.objectContaining({
        file: "requests/ec2-admin/breakglass-7.yaml",
        line: 1,
        col: 1,
        message: expect.stringContaining("reserved for break-glass grants"),
      }),
    ]);
  });
});

describe("approver-capped windows are judged against the merged request and the Elevate-Grant execution", () => {
  // Requested 2h from 11:00; an approver capped it to 30m, and Elevate-Grant ran with 30m (SSM).
  const capped = grant("resize", "alice", "2026-11-30T11:00:00Z", "2026-11-30T11:30:00Z");
  const known: KnownRequest = {
    requestId: "resize",
    file: "requests/ec2-admin/resize.yaml",
    deleted: false,
    grantRecords: [
      {
        executionId: "exec-resize",
        requestId: "resize",
        iamUser: "alice",
        roleArn: ROLE,
        notBefore: T("2026-11-30T11:00:00Z"),
        notAfter: T("2026-11-30T11:30:00Z"),
      },
    ],
    requested: {
      durationMs: 2 * 3_600_000,
      mergedAt: T("2026-11-30T11:00:00Z"),
      iamUser: "alice",
      target: { kind: "role", roleArn: ROLE },
    },
  };

  it("a policy with the capped window is not drift, though the request asked for longer", () => {
    expect(driftOf(capped as InventoryGrant & { policy: NonNullable<InventoryGrant["policy"]> }, known)).toBe(
      undefined,
    );
    const plan = planRevocations({
      inventory: inventory([capped]),
      now: T("2026-11-30T11:10:00Z"),
      earlyRevokeIds: [],
      knownRequests: new Map([["resize", known]]),
      driftMode: "revoke",
    });
    expect(plan.drift).toEqual([]);
    expect(plan.keep.map((k) => k.requestId)).toEqual(["resize"]);
  });

  it("a policy widened back to the requested window is drift, and revoked", () => {
    const widened = grant("resize", "alice", "2026-11-30T11:00:00Z", "2026-11-30T13:00:00Z");
    const plan = planRevocations({
      inventory: inventory([widened]),
      now: T("2026-11-30T11:10:00Z"),
      earlyRevokeIds: [],
      knownRequests: new Map([["resize", known]]),
      driftMode: "revoke",
    });
    expect(plan.drift).toEqual([
      expect.objectContaining({
        kind: "window-mismatch",
        message: expect.stringContaining(
          "no successful Elevate-Grant execution has its parameters (the latest, exec-resize, granted",
        ),
      }),
    ]);
    expect(plan.revoke.map((r) => [r.requestId, r.reason])).toEqual([["resize", "drift"]]);
  });

  it("the capped grant expires at the capped end", () => {
    const plan = planRevocations({
      inventory: inventory([capped]),
      now: T("2026-11-30T11:31:00Z"),
      earlyRevokeIds: [],
      knownRequests: new Map([["resize", known]]),
      driftMode: "revoke",
    });
    expect(plan.drift).toEqual([]);
    expect(plan.revoke).toEqual([
      expect.objectContaining({ reason: "expired", cutOff: true, revokedAt: T("2026-11-30T11:30:01Z") }),
    ]);
  });
});

describe("break-glass grants in the plan", () => {
  const glass = grant("breakglass-4242", "bob", "2026-11-30T08:00:00Z", "2026-11-30T08:30:00Z");
  const known: KnownRequest = {
    requestId: "breakglass-4242",
    deleted: false,
    grantRecords: [
      {
        executionId: "exec-glass",
        requestId: "breakglass-4242",
        iamUser: "bob",
        roleArn: ROLE,
        notBefore: T("2026-11-30T08:00:00Z"),
        notAfter: T("2026-11-30T08:30:00Z"),
      },
    ],
    breakGlass: { executionId: "exec-glass" },
  };

  it("is kept inside its window, revoked as expired after it, and early on request", () => {
    const plan = (now: string, early: string[] = []) =>
      planRevocations({
        inventory: inventory([glass]),
        now: T(now),
        earlyRevokeIds: early,
        knownRequests: new Map([["breakglass-4242", known]]),
        driftMode: "revoke",
      });
    const inside = plan("2026-11-30T08:10:00Z");
    expect(inside.drift).toEqual([]);
    expect(inside.keep).toEqual([expect.objectContaining({ requestId: "breakglass-4242", drift: false })]);
    expect(inside.keep[0]).not.toHaveProperty("file");
    const after = plan("2026-11-30T08:31:00Z");
    expect(after.drift).toEqual([]);
    expect(after.revoke).toEqual([expect.objectContaining({ reason: "expired", cutOff: true })]);
    const early = plan("2026-11-30T08:10:00Z", ["breakglass-4242"]);
    expect(early.revoke).toEqual([expect.objectContaining({ reason: "early", cutOff: true })]);
  });

  it("without its Elevate-Grant execution it is drift, and the message says a note is no authority", () => {
    const plan = planRevocations({
      inventory: inventory([glass]),
      now: T("2026-11-30T08:10:00Z"),
      earlyRevokeIds: [],
      knownRequests: new Map(),
      driftMode: "report",
    });
    expect(plan.drift).toEqual([
      expect.objectContaining({
        kind: "unknown-request",
        action: "report",
        message: expect.stringContaining(
          "no successful Elevate-Grant execution for breakglass-4242 (SSM) accounts for it; a break-glass evidence note is no authority",
        ),
      }),
    ]);
  });

  it("a different window than its execution is drift that names the execution", () => {
    const longer = grant("breakglass-4242", "bob", "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    const found = driftOf(longer as InventoryGrant & { policy: NonNullable<InventoryGrant["policy"]> }, known);
    expect(found?.kind).toBe("window-mismatch");
    expect(found?.message).toContain("(break-glass Elevate-Grant execution exec-glass)");
  });

  it("is known from its execution alone (accountGrantRecords), never from a note", () => {
    const fromSsm = new Map<string, KnownRequest>();
    accountGrantRecords(fromSsm, known.grantRecords ?? [], ["breakglass-4242", "breakglass-9999", "resize"]);
    expect([...fromSsm.keys()]).toEqual(["breakglass-4242"]);
    expect(fromSsm.get("breakglass-4242")).toEqual(known);
  });
});

// --- Reading the notes from a real repository ---------------------------------------------

function gitIn(dir: string, args: string[], input?: string | Buffer): string {
  return execFileSync("git", args, {
    cwd: dir,
    input,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
      GIT_COMMITTER_DATE: "2026-11-30T08:00:00Z",
      GIT_AUTHOR_DATE: "2026-11-30T08:00:00Z",
    },
  }).trim();
}

function commitFile(dir: string, path: string, text: string, message: string): string {
  const full = join(dir, path);
  execFileSync("mkdir", ["-p", join(full, "..")]);
  writeFileSync(full, text);
  gitIn(dir, ["add", path]);
  gitIn(dir, ["commit", "-q", "-m", message]);
  return gitIn(dir, ["rev-parse", "HEAD"]);
}

function addNote(dir: string, sha: string, text: string | Buffer): void {
  gitIn(dir, ["notes", "--ref=refs/notes/elevate", "append", "-F", "-", sha], text);
}

function glassLine(fields: Partial<BreakGlassEvidence> & { requestId: string; commit: string }): string {
  const evidence: BreakGlassEvidence = {
    schema: "elevate.breakglass/v1",
    event: "granted",
    requester: "bob",
    iamUser: "bob",
    role: "prod-admin",
    roleArn: ROLE,
    reason: "Payments API is down (INC-77)",
    window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T08:30:00Z" },
    run: { id: "4242", attempt: "1", url: "https://github.com/acme/elevate/actions/runs/4242" },
    recordedAt: "2026-11-30T08:00:05Z",
    ...fields,
  };
  return `${JSON.stringify(evidence)}\n`;
}

describe("readKnownRequests: request files from git; evidence notes are read for people, never as authority", () => {
  let dir: string;
  let requestCommit: string;
  let glassCommit: string;
  let sideCommit: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "elevate-known-"));
    gitIn(dir, ["init", "-q", "-b", "main"]);
    commitFile(dir, "README.md", "hello\n", "init");
    requestCommit = commitFile(
      dir,
      "requests/ec2-admin/resize.yaml",
      requestText({ ...VALID_EC2, duration: "2h" }),
      "add resize",
    );
    const evidence: Partial<GrantEvidence> = {
      schema: "elevate.grant/v1",
      event: "granted",
      requestId: "resize",
      file: "requests/ec2-admin/resize.yaml",
      requester: "alice",
      iamUser: "alice.smith",
      roleArn: ROLE,
      window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T08:30:00Z" },
      cappedBy: { login: "bob", reviewId: 7, cap: "duration 30m" },
    };
    addNote(dir, requestCommit, `${JSON.stringify(evidence)}\n`);
    // The break-glass workflow ran at a commit that touches nothing under requests/.
    glassCommit = commitFile(dir, "docs/x.md", "x\n", "docs");
    addNote(
      dir,
      glassCommit,
      [
        glassLine({ requestId: "breakglass-4242", commit: glassCommit }),
        glassLine({ requestId: "breakglass-4243", commit: glassCommit, event: "refused", refusal: "runbook failed" }),
        // A line copied from another commit does not count here.
        glassLine({ requestId: "breakglass-4244", commit: requestCommit }),
        "a person's remark\n",
      ].join(""),
    );
    // People may append anything to a note, even bytes that are not UTF-8.
    addNote(dir, requestCommit, Buffer.from([0xff, 0xfe, 0x0a]));
    // A branch that never reached main.
    gitIn(dir, ["checkout", "-q", "-b", "side"]);
    sideCommit = commitFile(dir, "docs/y.md", "y\n", "side");
    addNote(dir, sideCommit, glassLine({ requestId: "breakglass-5000", commit: sideCommit }));
    gitIn(dir, ["checkout", "-q", "main"]);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads every note with one list and one batch, by annotated commit, bytes kept aligned", async () => {
    const notes = await readAllNotes(dir);
    expect([...notes.keys()].sort()).toEqual([requestCommit, glassCommit, sideCommit].sort());
    expect(notes.get(requestCommit)).toContain('"cappedBy"');
    expect(notes.get(requestCommit)).toMatch(/\ufffd/);
    expect(notes.get(glassCommit)).toContain("a person's remark");
    expect(await readAllNotes(dir, "refs/notes/nothing-here")).toEqual(new Map());
  });

  it("knows the merged request file, but takes no grant from its note and no break-glass grant from a note", async () => {
    const known = await readKnownRequests(dir, "main");
    expect([...known.keys()].sort()).toEqual(["resize"]);
    expect(known.get("resize")).toMatchObject({
      file: "requests/ec2-admin/resize.yaml",
      deleted: false,
      role: "ec2-admin",
    });
    expect(known.get("resize")).not.toHaveProperty("granted");
    expect((await readKnownRequests(dir, "side")).has("breakglass-5000")).toBe(false);
  });
});

// --- Notifications ----------------------------------------------------------------------------

describe("revoke run notifications", () => {
  const base = {
    occurredAt: T("2026-11-30T09:00:00Z"),
    repository: "acme/elevate",
    run: { id: "9", attempt: "1", url: "https://github.com/acme/elevate/actions/runs/9" },
  };
  const outcome = (fields: Partial<RevokeOutcome>): RevokeOutcome => ({
    requestId: "resize",
    policyName: "elevate-resize",
    iamUser: "alice.smith",
    roleArn: ROLE,
    window: { notBefore: T("2026-11-30T08:00:00Z"), notAfter: T("2026-11-30T08:30:00Z") },
    reason: "expired",
    why: "its window ended at 2026-11-30T08:30:00Z",
    cutOff: true,
    revokedAt: T("2026-11-30T08:30:01Z"),
    stampAtRunTime: false,
    status: "revoked",
    message: "execution e-1 succeeded",
    executionId: "e-1",
    ...fields,
  });
  const known = new Map<string, KnownRequest>([
    [
      "resize",
      {
        requestId: "resize",
        file: "requests/ec2-admin/resize.yaml",
        deleted: false,
        requester: "alice",
        role: "ec2-admin",
      },
    ],
  ]);

  it("expired and early revocations that succeeded, drift with what was done; never a failed revoke", () => {
    const events = revokeEvents(
      {
        outcomes: [
          outcome({}),
          outcome({
            requestId: "early-one",
            policyName: "elevate-early-one",
            reason: "early",
            why: "asked",
            cutOff: false,
            cutOffNote: "its window never opened, so no session came from it",
          }),
          outcome({
            requestId: "broken",
            policyName: "elevate-broken",
            reason: "early",
            status: "failed",
            message: "boom",
          }),
          outcome({
            requestId: "handmade",
            policyName: "elevate-handmade",
            iamUser: "dave",
            reason: "drift",
            why: "no request",
          }),
        ],
        drift: [
          {
            kind: "unknown-request",
            policyName: "elevate-handmade",
            iamUser: "dave",
            requestId: "handmade",
            message: "no request",
            action: "revoke",
          },
          { kind: "not-addressable", policyName: "elevate-X", iamUser: "dave", message: "bad name", action: "report" },
          { kind: "malformed-cutoff", policyName: "elevate-cutoff-x", roleArn: ROLE, message: "odd", action: "report" },
        ],
      },
      known,
      base,
    );
    expect(events.map((e) => [e.event, e.requestId ?? e.policyName])).toEqual([
      ["expired", "resize"],
      ["revoked", "early-one"],
      ["drift", "handmade"],
      ["drift", "elevate-X"],
      ["drift", "elevate-cutoff-x"],
    ]);
    expect(events[0]).toMatchObject({ file: "requests/ec2-admin/resize.yaml", requester: "alice", role: "ec2-admin" });
    expect(events[0]?.detail).toBe(
      "its window ended at 2026-11-30T08:30:00Z; sessions issued before 2026-11-30T08:30:01Z cut off",
    );
    expect(events[1]?.detail).toBe("asked; no session cut-off: its window never opened, so no session came from it");
    expect(events[2]).toMatchObject({
      drift: { kind: "unknown-request", action: "revoke" },
      executionId: "e-1",
      detail: "no request; revoked",
    });
    // The schema's requestId pattern: an unaddressable name is not sent as one.
    expect(events[3]).not.toHaveProperty("requestId");
    for (const event of events) {
      expect(schemaProblems(JSON.parse(buildNotification(event).message))).toEqual([]);
    }
  });

  it("'requested' for a permission-set role names the Identity Center user, permission set and account, never a roleArn", () => {
    const loaded = loadConfig(IC_CONFIG, "cfg.yml");
    if (!loaded.config) throw new Error(JSON.stringify(loaded.errors));
    const events = requestedEvents({
      config: loaded.config,
      pr: { number: 14, htmlUrl: "https://github.com/acme/elevate/pull/14", author: "dora" },
      files: [
        {
          path: "requests/prod-admin/fix-db.yaml",
          text: requestText({
            requester: "dora",
            role: "prod-admin",
            duration: "1h",
            reason: "Repair the prod database",
          }),
        },
        { path: "requests/prod-admin/broken.yaml", text: "requester: dora\n" },
      ],
      now: T("2026-11-30T08:00:00Z"),
      ...base,
    });
    expect(events).toHaveLength(2);
    const expected = {
      identityCenterUser: "dora@acme.com",
      permissionSetArn: IC_PERMISSION_SET,
      accountId: "210987654321",
    };
    expect(events[0]).toMatchObject({ requestId: "fix-db", requester: "dora", role: "prod-admin", ...expected });
    expect(events[1]).toMatchObject({ requestId: "broken", requester: "dora", role: "prod-admin", ...expected });
    for (const event of events) {
      expect(event).not.toHaveProperty("roleArn");
      expect(event).not.toHaveProperty("iamUser");
      expect(schemaProblems(JSON.parse(buildNotification(event).message))).toEqual([]);
    }
  });

  it("'requested' carries the validated request, or what the path says when the file does not validate", () => {
    const config = exampleConfig();
    const events = requestedEvents({
      config,
      pr: { number: 12, htmlUrl: "https://github.com/acme/elevate/pull/12", author: "alice" },
      files: [
        { path: "requests/ec2-admin/resize.yaml", text: requestText({ ...VALID_EC2, start: "2026-12-01T09:00:00Z" }) },
        { path: "requests/ec2-admin/broken.yaml", text: "requester: alice\n" },
        { path: "requests/ec2-admin/gone.yaml", text: undefined },
      ],
      now: T("2026-11-30T08:00:00Z"),
      ...base,
    });
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({
      event: "requested",
      requestId: "resize",
      requester: "alice",
      iamUser: "alice.smith",
      role: "ec2-admin",
      roleArn: ROLE,
      window: { notBefore: T("2026-12-01T09:00:00Z"), notAfter: T("2026-12-01T10:30:00Z") },
      ticket: "INC-1234",
      pr: { number: 12 },
      detail: "alice requests ec2-admin for 1h30m from 2026-12-01T09:00:00Z; 2 code-owner approval(s) required",
    });
    expect(events[1]).toMatchObject({ requestId: "broken", requester: "alice", role: "ec2-admin", roleArn: ROLE });
    expect(events[1]?.detail).toMatch(/does not validate \(\d+ error\(s\)\)/);
    expect(events[1]).not.toHaveProperty("reason");
    expect(events[2]?.detail).toBe("the request file could not be read from the pull request");
    expect(buildNotification(events[0] as (typeof events)[number]).subject).toBe(
      "Elevate: alice requests ec2-admin (PR #12)",
    );
    for (const event of events) {
      expect(schemaProblems(JSON.parse(buildNotification(event).message))).toEqual([]);
    }
  });
});
