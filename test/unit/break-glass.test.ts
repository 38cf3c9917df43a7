/**
 * Break-glass authorization, evidence and review issue (src/domain/break-glass.ts).
 */
import { describe, expect, it } from "vitest";
import {
  authorizeBreakGlass,
  type BreakGlassInput,
  breakGlassGrantOf,
  breakGlassIssue,
  parseBreakGlassEvidence,
} from "../../src/domain/break-glass.js";
import { grantPolicyText } from "../../src/domain/grant-policy.js";
import { validateRequest } from "../../src/domain/request.js";
import { CONFIG_TEXT, exampleConfig, requestText } from "./domain-fixtures.js";

// read-only may be broken into by bob and alice (30m at most); ec2-admin has no breakGlass.
const CONFIG = exampleConfig(`${CONFIG_TEXT}    breakGlass:\n      maxDuration: 30m\n      requesters: [bob, alice]\n`);
const NOW = new Date("2026-11-30T09:00:00.700Z");

function input(overrides: Partial<BreakGlassInput> = {}): BreakGlassInput {
  return {
    config: CONFIG,
    actor: "bob",
    role: "read-only",
    duration: "20m",
    reason: "Production is down, INC-9 needs a look",
    ticket: "INC-9",
    runId: "7001",
    runAttempt: "1",
    now: NOW,
    ...overrides,
  };
}

function errors(overrides: Partial<BreakGlassInput>): string[] {
  const result = authorizeBreakGlass(input(overrides));
  return result.ok ? [] : result.errors;
}

describe("authorizeBreakGlass", () => {
  it("grants a listed break-glass requester the same policy a reviewed request would get", () => {
    const result = authorizeBreakGlass(input());
    if (!result.ok) throw new Error(result.errors.join("; "));
    const { plan } = result;
    expect(plan).toMatchObject({
      requestId: "breakglass-7001",
      role: "read-only",
      requester: "bob",
      iamUser: "bob",
      duration: "20m",
      maxDuration: "30m",
      ticket: "INC-9",
    });
    expect(plan.grant).toMatchObject({
      requestId: "breakglass-7001",
      roleArn: "arn:aws:iam::210987654321:role/ReadOnly",
      notBefore: "2026-11-30T09:00:00Z",
      notAfter: "2026-11-30T09:20:00Z",
      policyName: "elevate-breakglass-7001",
    });
    expect(JSON.stringify(plan.grant.policyDocument)).toBe(
      grantPolicyText({
        requestId: "breakglass-7001",
        iamUser: "bob",
        roleArn: "arn:aws:iam::210987654321:role/ReadOnly",
        notBefore: new Date("2026-11-30T09:00:00Z"),
        notAfter: new Date("2026-11-30T09:20:00Z"),
      }),
    );
  });

  it("matches logins without regard to case and defaults the duration to the break-glass maximum", () => {
    const result = authorizeBreakGlass(input({ actor: "ALICE", duration: "", ticket: "" }));
    expect(result.ok && [result.plan.requester, result.plan.iamUser, result.plan.duration]).toEqual([
      "alice",
      "alice.smith",
      "30m",
    ]);
  });

  it("refuses an unlisted user", () => {
    expect(errors({ actor: "mallory" })).toEqual([
      `"mallory" is not listed under users in the config, so they cannot break glass`,
    ]);
  });

  it("refuses a listed user who is not a break-glass requester of the role", () => {
    expect(errors({ actor: "Carol-X" })).toEqual([
      `"Carol-X" may not break glass on role "read-only" (not in roles.read-only.breakGlass.requesters)`,
    ]);
  });

  it("falls back to the role's requesters when breakGlass has none", () => {
    const config = exampleConfig(`${CONFIG_TEXT}    requesters: [alice]\n    breakGlass: {}\n`);
    expect(authorizeBreakGlass(input({ config, actor: "alice", duration: "1h" })).ok).toBe(true);
    const refused = authorizeBreakGlass(input({ config, actor: "bob" }));
    expect(refused.ok ? [] : refused.errors).toEqual([
      `"bob" may not break glass on role "read-only" (not in roles.read-only.requesters)`,
    ]);
  });

  it("refuses a role without break-glass, and an unknown role", () => {
    expect(errors({ role: "ec2-admin" })).toEqual([
      `role "ec2-admin" does not allow break-glass (roles.ec2-admin.breakGlass is not set); request it with a pull request instead`,
    ]);
    expect(errors({ role: "prod-admin" })).toEqual([
      `role "prod-admin" is not in the config's role catalog (break-glass roles: read-only)`,
    ]);
    expect(errors({ role: "" })).toEqual(["no role given; set the 'role' input to a role of the config's catalog"]);
  });

  it("refuses bots: the dispatcher must be a person's login", () => {
    expect(errors({ actor: "github-actions[bot]" })).toEqual([
      `the dispatcher "github-actions[bot]" is not a GitHub user login; only people can break glass`,
    ]);
  });

  it.each([
    ["above the role's break-glass maximum", "31m", /longer than the break-glass maximum of 30m for role "read-only"/],
    ["below the minimum", "10m", /shorter than the minimum of 15m/],
    ["malformed", "1 hour", /invalid duration/],
  ])("refuses a duration %s", (_label, duration, message) => {
    const found = errors({ duration });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it("refuses a re-run, which would grant a fresh window on the original dispatcher's behalf", () => {
    expect(errors({ runAttempt: "2" })[0]).toMatch(/attempt 2 of run 7001; a break-glass run cannot be re-run/);
  });

  it("reports every problem at once", () => {
    expect(errors({ actor: "mallory", role: "ec2-admin", reason: "now", ticket: "bad ticket" })).toHaveLength(4);
  });

  it("requires a ticket when the role does", () => {
    const config = exampleConfig(
      CONFIG_TEXT.replace("    requesters: [alice]\n", "    requesters: [alice]\n    breakGlass: {}\n"),
    );
    expect(errors({ config, role: "ec2-admin", actor: "alice", ticket: "" })).toEqual([
      `role "ec2-admin" requires a ticket; set the 'ticket' input`,
    ]);
  });

  it.each([
    "short",
    "line one\nline two",
    "bidi \u202e override trick here",
    "x".repeat(501),
    "  Resize the web ASG during INC-1234  ",
    "Résumé des opérations en production",
  ])("judges the reason %j exactly as a request file's reason", (reason) => {
    const viaRequest = validateRequest({
      text: requestText({ requester: "bob", role: "read-only", duration: "1h", reason: JSON.stringify(reason) }),
      path: "requests/read-only/probe.yaml",
      config: CONFIG,
      now: NOW,
    });
    // Every other field of the probe is valid, so any error is about the reason (or its characters).
    const requestOk = viaRequest.errors.length === 0;
    expect(authorizeBreakGlass(input({ reason })).ok).toBe(requestOk);
  });
});

describe("evidence", () => {
  const granted = {
    schema: "elevate.breakglass/v1",
    event: "granted",
    requestId: "breakglass-7001",
    requester: "bob",
    iamUser: "bob",
    roleArn: "arn:aws:iam::210987654321:role/ReadOnly",
    commit: "c".repeat(40),
    window: { notBefore: "2026-11-30T09:00:00Z", notAfter: "2026-11-30T09:20:00Z" },
    run: { id: "7001", attempt: "1", url: "https://x/runs/7001" },
    recordedAt: "2026-11-30T09:00:00.700Z",
  };

  it("reads break-glass lines from a note and skips everything else", () => {
    const note = [
      JSON.stringify({ schema: "elevate.grant/v1", event: "granted", requestId: "resize-web-asg" }),
      "a person's remark",
      JSON.stringify(granted),
      JSON.stringify({ ...granted, requestId: "resize-web-asg" }),
      "{not json",
    ].join("\n");
    const parsed = parseBreakGlassEvidence(note);
    expect(parsed).toEqual([granted]);
    expect(breakGlassGrantOf(parsed[0]!)).toEqual({
      requestId: "breakglass-7001",
      iamUser: "bob",
      roleArn: "arn:aws:iam::210987654321:role/ReadOnly",
      notBefore: new Date("2026-11-30T09:00:00Z"),
      notAfter: new Date("2026-11-30T09:20:00Z"),
    });
    expect(breakGlassGrantOf({ ...parsed[0]!, event: "refused" })).toBeUndefined();
  });
});

describe("breakGlassIssue", () => {
  it("titles, assigns user owners, mentions teams and escapes dispatcher text (never Markdown)", () => {
    const result = authorizeBreakGlass(input({ reason: "Fix `prod` now [click](https://evil) **!!**" }));
    if (!result.ok) throw new Error(result.errors.join("; "));
    const issue = breakGlassIssue({
      plan: result.plan,
      roleArn: result.plan.grant.roleArn,
      executionId: "exec-1",
      runUrl: "https://github.com/acme/elevate/actions/runs/7001",
      owners: ["@carol", "@acme/platform", "ops@example.com"],
      commit: "c".repeat(40),
    });
    expect(issue.title).toBe("Break-glass: bob assumed read-only until 2026-11-30T09:20:00Z");
    expect(issue.assignees).toEqual(["carol"]);
    // Escaped by src/domain/markdown.ts (was a code span, which a `|` would still split).
    expect(issue.body).toContain("| Reason | Fix \\`prod\\` now \\[click\\](https:\u200b//evil) \\*\\*!!\\*\\* |");
    expect(issue.body).toContain("code owners of `requests/read-only/`: @carol @acme/platform.");
    expect(issue.body).toContain("| Execution | `exec-1` |");
    expect(issue.body).toContain("| Run | https://github.com/acme/elevate/actions/runs/7001 |");
    expect(issue.body).toContain("`request: breakglass-7001`");
  });
});
