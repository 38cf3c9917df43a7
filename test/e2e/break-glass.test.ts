/**
 * Break-glass end to end (docs/break-glass.md): a workflow_dispatch of
 * elevate-breakglass.yml runs the action bundle in grant mode against the
 * sandbox. A listed user gets the role at once, through the grant role whose
 * trust admits that workflow file; the code owners get a review issue; the
 * evidence note and the SNS message follow. An unlisted user, or a role
 * without break-glass, gets nothing.
 *
 * Bundle: ELEVATE_TEST_BUNDLE if set (a fresh build while iterating), else the
 * committed action/dist/index.js, like the other end-to-end tests.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EventEnvelope, workflowDispatchEvent } from "../../sandbox/harness/events.js";
import type { ActionRun } from "../../sandbox/harness/run-action.js";
import { ElevateWorld } from "../../sandbox/world.js";
import { parseBreakGlassEvidence } from "../../src/domain/break-glass.js";

const WORKFLOW = ".github/workflows/elevate-breakglass.yml";
const EXAMPLE_ROLE_ARN = "arn:aws:iam::123456789012:role/elevated/EC2_FullAccess_Role";
const E2E_TIMEOUT_MS = 120_000;

let world: ElevateWorld;
beforeAll(async () => {
  world = await ElevateWorld.start({
    clockMode: "frozen",
    start: new Date("2026-11-30T08:00:00Z"),
    ...(process.env.ELEVATE_TEST_BUNDLE ? { bundlePath: process.env.ELEVATE_TEST_BUNDLE } : {}),
    // The example role once more, as a break-glass role (dave may not break glass).
    extraRoles: [
      "  breakglass-admin:",
      `    arn: ${EXAMPLE_ROLE_ARN}`,
      "    breakGlass:",
      "      maxDuration: 1h",
      "      requesters: [bob, alice]",
    ].join("\n"),
    codeowners: "/requests/ @carol\n/requests/breakglass-admin/ @carol @acme/sre\n/.github/ @carol\n",
  });
}, E2E_TIMEOUT_MS);

afterAll(async () => {
  await world?.close();
});

function dispatch(sender: string, inputs: Record<string, string>): EventEnvelope {
  return workflowDispatchEvent({
    repository: world.scenario.webhookRepository(),
    sender,
    sha: world.scenario.mainSha(),
    workflowPath: WORKFLOW,
    inputs,
  });
}

function breakGlass(event: EventEnvelope): Promise<ActionRun> {
  return world.runAction("grant", event, { oidc: { workflowPath: WORKFLOW } });
}

function errorMessages(run: ActionRun): string {
  return run.annotations
    .filter((a) => a.level === "error")
    .map((a) => a.message)
    .join("\n");
}

const REASON = "Payments API is down, need to restart the fleet (INC-77)";

describe("break-glass", () => {
  it(
    "grants a listed user at once, opens the review issue, records evidence and notifies",
    async () => {
      const publishedBefore = world.aws.state.published.length;
      const issuesBefore = world.github.issues(world.repository).length;
      const run = await breakGlass(
        dispatch("bob", { role: "breakglass-admin", duration: "30m", reason: REASON, ticket: "INC-77" }),
      );
      expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
      const runId = run.environment.GITHUB_RUN_ID as string;
      const requestId = `breakglass-${runId}`;
      expect(JSON.parse(run.outputs.granted ?? "[]")).toEqual([requestId]);

      // The grant: the same policy a reviewed request gets, for 30 minutes from now.
      expect(world.grantPolicies("bob")).toEqual([`elevate-${requestId}`]);
      expect((await world.tryAssume("bob")).ok).toBe(true);
      expect((await world.tryAssume("alice.smith")).ok).toBe(false);

      // The review issue, assigned to the user code owners, the team mentioned.
      const issues = world.github.issues(world.repository).slice(issuesBefore);
      expect(issues).toHaveLength(1);
      const issue = issues[0]!;
      expect(issue.title).toBe("Break-glass: bob assumed breakglass-admin until 2026-11-30T08:30:00Z");
      expect(issue.assignees.map((u) => u.login)).toEqual(["carol"]);
      expect(issue.body).toContain("@carol @acme/sre");
      expect(issue.body).toContain(`| Reason | ${REASON} |`);
      expect(issue.body).toContain(run.environment.GITHUB_RUN_ID as string);

      // Evidence on the commit the workflow ran at; nothing else was committed.
      const evidence = parseBreakGlassEvidence(world.evidenceNote(world.scenario.mainSha()) ?? "");
      expect(evidence).toHaveLength(1);
      expect(evidence[0]).toMatchObject({
        event: "granted",
        requestId,
        requester: "bob",
        iamUser: "bob",
        roleArn: EXAMPLE_ROLE_ARN,
        window: { notBefore: "2026-11-30T08:00:00Z", notAfter: "2026-11-30T08:30:00Z" },
        issue: { number: issue.number },
        execution: { status: "Success" },
      });

      // One notification, flagged as break-glass.
      const messages = world.aws.state.published.slice(publishedBefore);
      expect(messages).toHaveLength(1);
      expect(messages[0]?.subject).toBe("Elevate BREAK-GLASS: bob assumed breakglass-admin until 2026-11-30 08:30 UTC");
      expect(JSON.parse(messages[0]?.message ?? "{}")).toMatchObject({
        schema: "elevate.notification/v1",
        event: "granted",
        breakGlass: true,
        requestId,
        issue: { number: issue.number },
      });
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "refuses an unlisted user: no AWS call, no grant, no issue",
    async () => {
      const executionsBefore = world.aws.state.executions.size;
      const issuesBefore = world.github.issues(world.repository).length;
      const run = await breakGlass(dispatch("mallory", { role: "breakglass-admin", duration: "30m", reason: REASON }));
      expect(run.exitCode).not.toBe(0);
      expect(errorMessages(run)).toMatch(
        /"mallory" is not listed under users in the config, so they cannot break glass/,
      );
      expect(world.aws.state.executions.size).toBe(executionsBefore);
      expect(world.github.issues(world.repository)).toHaveLength(issuesBefore);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "refuses a listed user who is not a break-glass requester, and a role without break-glass",
    async () => {
      const executionsBefore = world.aws.state.executions.size;
      const notListed = await breakGlass(dispatch("dave", { role: "breakglass-admin", reason: REASON }));
      expect(notListed.exitCode).not.toBe(0);
      expect(errorMessages(notListed)).toMatch(/"dave" may not break glass on role "breakglass-admin"/);
      const noGlass = await breakGlass(dispatch("bob", { role: "ec2-admin", duration: "30m", reason: REASON }));
      expect(noGlass.exitCode).not.toBe(0);
      expect(errorMessages(noGlass)).toMatch(/role "ec2-admin" does not allow break-glass/);
      expect(world.aws.state.executions.size).toBe(executionsBefore);
      expect(world.grantPolicies("dave")).toEqual([]);
    },
    E2E_TIMEOUT_MS,
  );

  it(
    "the grant role refuses the break-glass workflow's token from another branch",
    async () => {
      const run = await world.runAction(
        "grant",
        { ...dispatch("bob", { role: "breakglass-admin", duration: "30m", reason: REASON }), ref: "refs/heads/main" },
        { oidc: { workflowPath: WORKFLOW, ref: "refs/heads/feature", workflowFileRef: "refs/heads/feature" } },
      );
      expect(run.exitCode).not.toBe(0);
      expect(errorMessages(run)).toMatch(/AccessDenied|Not authorized/);
    },
    E2E_TIMEOUT_MS,
  );
});
